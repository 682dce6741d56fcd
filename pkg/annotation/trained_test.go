package annotation_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// gapSteps is the schedule of the trained-accuracy table: the demo's
// (`make demo-annotate` posts 1,760 steps of the mnist-softmax preset).
const gapSteps = 1760

// gapSeeds is the number of crowds (seeds 100, 200, ... as in
// TestAccuracyTable) averaged per row.
const gapSeeds = 5

// trainSeeds is the number of training seeds (the table's and others) whose
// true-label accuracy gives the seed-to-seed spread.
const trainSeeds = 7

// TestTrainedAccuracyGap prints the "Training on aggregated labels" table of
// docs/ANNOTATION.md: for the first 1,000 and 10,000 MNIST training items,
// crowds of 50 annotators as in TestAccuracyTable (r = 5, groups of 50, 2%
// gold, default parameters) with 0, 20 and 40% spammers plus 10% flippers
// (gapSeeds crowds per row), it aggregates the labels with a plain majority
// vote and with the fixed-point Dawid–Skene, builds the labelled datasets
// with dataset.WithLabels, trains engine.DefaultSpecMNISTSoftmax for gapSteps
// steps with one seed on the true, the Dawid–Skene and the majority-vote
// labels, and evaluates each model on the 10,000 MNIST test rows. Each row is
// the mean over the crowds; the DS gap also shows its range. For scale, it
// then logs the spread of the true-label accuracy over trainSeeds training
// seeds. Run with
//
//	HINTERLAND_ACCURACY=1 go test ./pkg/annotation -run TestTrainedAccuracyGap -v
func TestTrainedAccuracyGap(t *testing.T) {
	if os.Getenv(AccuracyEnv) == "" {
		t.Skip("set " + AccuracyEnv + "=1 to print the trained-accuracy table")
	}
	train := datasettest.MNIST(t, "train")
	test := datasettest.MNIST(t, "t10k")
	spec := engine.DefaultSpecMNISTSoftmax()
	testSrc, err := test.Source(spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	testIdx := make([]uint64, test.Len())
	for i := range testIdx {
		testIdx[i] = uint64(i)
	}
	// trainSeed returns the table's training seed for 0, another one else.
	trainSeed := func(i int) [32]byte {
		if i == 0 {
			return sha256.Sum256([]byte("hinterland/annotation/trained-accuracy-gap"))
		}
		return sha256.Sum256(fmt.Appendf(nil, "hinterland/annotation/trained-accuracy-gap/%d", i))
	}
	seed := trainSeed(0)
	// trainEval trains on a labelled dataset and returns the test accuracy.
	trainEval := func(f *dataset.File) float64 {
		t.Helper()
		job := engine.Job{Spec: spec, Seed: seed, RowCount: f.Len()}
		src, err := f.Source(spec.FracBits)
		if err != nil {
			t.Fatal(err)
		}
		st, err := engine.NewInitialState(job)
		if err != nil {
			t.Fatal(err)
		}
		if st, _, err = engine.RunSegment(job, st, src, gapSteps); err != nil {
			t.Fatal(err)
		}
		ev, err := engine.Evaluate(job, st, testSrc, testIdx)
		if err != nil {
			t.Fatal(err)
		}
		return float64(ev.Correct) / float64(ev.Count)
	}
	rows := []struct {
		name string
		mix  crowd.Mix
	}{
		{"0% spam + 10% flippers", crowd.Mix{Good: 23, Noisy: 22, Flippers: 5}},
		{"20% spam + 10% flippers", crowd.Mix{Good: 18, Noisy: 17, RandomSpammers: 5, ConstantSpammers: 5, Flippers: 5}},
		{"40% spam + 10% flippers", crowd.Mix{Good: 13, Noisy: 12, RandomSpammers: 10, ConstantSpammers: 10, Flippers: 5}},
	}
	p := annotation.DefaultParams()
	start := time.Now()
	t.Logf("softmax %d steps, batch %d, one training seed; %d crowds per row; test set: %d MNIST test rows", gapSteps, spec.BatchSize, gapSeeds, test.Len())
	t.Logf("| items | crowd (50 annotators) | dropped | label acc. MV | label acc. DS | test acc. true labels | test acc. DS labels | test acc. MV labels | gap DS − true (range) | gap MV − true |")
	t.Logf("|---|---|---|---|---|---|---|---|---|---|")
	for _, n := range []int{1000, 10000} {
		items, err := dataset.NewFile(train.Schema(), train.Rows()[:n])
		if err != nil {
			t.Fatal(err)
		}
		truth := make([]uint32, n)
		trueLabels := make([]byte, n)
		for i := range truth {
			r, err := items.Row(uint64(i))
			if err != nil {
				t.Fatal(err)
			}
			truth[i], trueLabels[i] = r.Label, byte(r.Label)
		}
		withLabels := func(labels []byte) *dataset.File {
			f, err := dataset.WithLabels(items, labels)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		accTrue := trainEval(withLabels(trueLabels))
		for _, row := range rows {
			var mvAcc, dsAcc, dsTest, mvTest, dropped float64
			lo, hi := 1.0, -1.0 // range of the DS gap over the seeds
			for s := uint64(1); s <= gapSeeds; s++ {
				j := newJob(t, 100*s, truth, 10, row.mix, 5, 50, 200)
				mv, err := annotation.MajorityVote(j.n, j.k, j.a, j.labels, nil)
				if err != nil {
					t.Fatal(err)
				}
				g := j.run(t, p)
				ds, err := g.Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range g.Dropped() {
					dropped += b2f(d)
				}
				mvAcc += accuracy(mv.Labels, truth)
				dsAcc += accuracy(ds.Labels, truth)
				d := trainEval(withLabels(ds.Labels))
				dsTest += d
				mvTest += trainEval(withLabels(mv.Labels))
				lo, hi = min(lo, d-accTrue), max(hi, d-accTrue)
			}
			pct := func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x/gapSeeds) }
			pts := func(x float64) string { return fmt.Sprintf("%+.2f", 100*x) }
			t.Logf("| %d | %s | %.1f | %s | %s | %s | %s | %s | %s (%s to %s) | %s |", n, row.name, dropped/gapSeeds,
				pct(mvAcc), pct(dsAcc), pct(gapSeeds*accTrue), pct(dsTest), pct(mvTest),
				pts(dsTest/gapSeeds-accTrue), pts(lo), pts(hi), pts(mvTest/gapSeeds-accTrue))
		}
	}
	for _, n := range []int{1000, 10000} {
		items, err := dataset.NewFile(train.Schema(), train.Rows()[:n])
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := 1.0, 0.0
		for i := range trainSeeds {
			seed = trainSeed(i)
			a := trainEval(items)
			lo, hi = min(lo, a), max(hi, a)
		}
		t.Logf("true labels, %d items, %d training seeds: %.2f%% to %.2f%%", n, trainSeeds, 100*lo, 100*hi)
	}
	t.Logf("%.1f s", time.Since(start).Seconds())
}
