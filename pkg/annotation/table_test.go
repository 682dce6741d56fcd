package annotation_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
)

// AccuracyEnv turns on the accuracy table (as in testutil/reference).
const AccuracyEnv = "HINTERLAND_ACCURACY"

// TestAccuracyTable prints the table of docs/ANNOTATION.md: on the 10,000
// MNIST test labels with r = 5 (groups of 50 items, 50 annotators, 2% gold,
// default parameters), for crowds with 0, 20 and 40% spammers (half random,
// half constant) plus 10% flippers, and one with copiers, averaged over five
// seeds: the accuracy of a plain majority vote, of the gold-weighted vote
// (after dropping), of Dawid–Skene without gold, of the fixed-point and
// float64 Dawid–Skene with gold; their agreement; Dawid–Skene with gold that
// keeps the dropped annotators' labels; and the recall and precision of the
// gold check for spammers, flippers and copiers. Run with
//
//	HINTERLAND_ACCURACY=1 go test ./pkg/annotation -run TestAccuracyTable -v
func TestAccuracyTable(t *testing.T) {
	if os.Getenv(AccuracyEnv) == "" {
		t.Skip("set " + AccuracyEnv + "=1 to print the accuracy table")
	}
	truth := mnistTruth(t)
	rows := []struct {
		name string
		mix  crowd.Mix
	}{
		{"0% spam + 10% flippers", crowd.Mix{Good: 23, Noisy: 22, Flippers: 5}},
		{"20% spam + 10% flippers", crowd.Mix{Good: 18, Noisy: 17, RandomSpammers: 5, ConstantSpammers: 5, Flippers: 5}},
		{"40% spam + 10% flippers", crowd.Mix{Good: 13, Noisy: 12, RandomSpammers: 10, ConstantSpammers: 10, Flippers: 5}},
		{"20% spam + 10% flippers + 10% copiers", goldenMix},
	}
	const seeds = 5
	p := annotation.DefaultParams()
	t.Logf("| crowd (50 annotators) | majority vote | weighted vote | DS, no gold | DS fixed | DS float64 | fixed = float | DS, dropped kept | bad recall | bad precision | honest dropped |")
	t.Logf("|---|---|---|---|---|---|---|---|---|---|---|")
	var worst float64 = 1
	var elapsed time.Duration
	var units uint64
	for _, row := range rows {
		var mv, wv, dsNoGold, ds, dsf, agree, dsKeep, recall, precision, honestDropped float64
		for s := uint64(1); s <= seeds; s++ {
			j := newJob(t, 100*s, truth, 10, row.mix, 5, 50, 200)
			plain, err := annotation.MajorityVote(j.n, j.k, j.a, j.labels, nil)
			if err != nil {
				t.Fatal(err)
			}
			mv += accuracy(plain.Labels, truth)
			q := p
			q.Iterations = 0
			vote, _ := j.run(t, q).Result()
			wv += accuracy(vote.Labels, truth)
			ng := j
			ng.gold = nil
			noGold, _ := ng.run(t, p).Result()
			dsNoGold += accuracy(noGold.Labels, truth)
			t0 := time.Now()
			g := j.run(t, p)
			elapsed += time.Since(t0)
			units += g.Used()
			r, _ := g.Result()
			ds += accuracy(r.Labels, truth)
			fl := j.float(t, p).Labels()
			dsf += accuracy(fl, truth)
			a := agreement(r.Labels, fl)
			agree += a
			worst = min(worst, a)
			k := p
			k.KeepDroppedLabels = true
			kr, _ := j.run(t, k).Result()
			kf := j.float(t, k).Labels()
			dsKeep += accuracy(kr.Labels, truth)
			worst = min(worst, agreement(kr.Labels, kf))
			var bad, dropped, caught, honest float64
			for an, d := range g.Dropped() {
				isBad := j.crowd.Bad(uint32(an))
				bad += b2f(isBad)
				dropped += b2f(d)
				caught += b2f(d && isBad)
				honest += b2f(d && !isBad)
			}
			recall += caught / bad
			if dropped > 0 {
				precision += caught / dropped
			} else {
				precision++
			}
			honestDropped += honest
		}
		pct := func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x/seeds) }
		t.Logf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f |", row.name, pct(mv), pct(wv), pct(dsNoGold), pct(ds), pct(dsf),
			pct(agree), pct(dsKeep), pct(recall), pct(precision), honestDropped/seeds)
	}
	t.Logf("worst fixed/float agreement %.4f%%; fixed-point aggregation %.1f ms and %d units per job (%.2f ns/unit)",
		100*worst, float64(elapsed.Microseconds())/1000/float64(len(rows)*seeds), units/uint64(len(rows)*seeds),
		float64(elapsed.Nanoseconds())/float64(units))
	if worst < 0.999 {
		t.Fatalf("fixed and float64 Dawid–Skene agree on only %.4f of the items", worst)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
