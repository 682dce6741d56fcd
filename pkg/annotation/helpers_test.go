package annotation_test

import (
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// job is one simulated labelling job.
type job struct {
	n, k, a uint32
	truth   []uint32
	crowd   *crowd.Crowd
	labels  []annotation.Label
	gold    []annotation.Gold
}

// newJob has crowd `mix` label truth with r annotators per item in groups of
// batch items, and takes goldBps of the items as gold.
func newJob(t testing.TB, seed uint64, truth []uint32, k uint32, mix crowd.Mix, r, batch, goldBps uint32) job {
	t.Helper()
	c, err := crowd.New(seed, k, mix)
	if err != nil {
		t.Fatal(err)
	}
	labels, err := c.Label(seed+1, truth, r, batch)
	if err != nil {
		t.Fatal(err)
	}
	return job{n: uint32(len(truth)), k: k, a: mix.Total(), truth: truth, crowd: c, labels: labels,
		gold: crowd.Gold(seed+2, truth, goldBps)}
}

// run aggregates the job at once.
func (j job) run(t testing.TB, p annotation.Params) *annotation.Aggregation {
	t.Helper()
	g, err := annotation.NewAggregation(j.n, j.k, j.a, j.labels, j.gold, p)
	if err != nil {
		t.Fatal(err)
	}
	if done, _ := g.Step(^uint64(0)); !done {
		t.Fatal("not done with an unlimited budget")
	}
	return g
}

// float runs the float64 reference with the same weights and parameters.
func (j job) float(t testing.TB, p annotation.Params) *reference.DawidSkene {
	t.Helper()
	scores, err := annotation.GoldAccuracy(j.labels, j.gold, j.a)
	if err != nil {
		t.Fatal(err)
	}
	dropped := annotation.Dropped(scores, p.MinGoldSeen, p.MinGoldAccuracyBps)
	var used []annotation.Label
	for _, l := range j.labels {
		if !dropped[l.Annotator] || p.KeepDroppedLabels {
			used = append(used, l)
		}
	}
	w := annotation.VoteWeights(scores, dropped)
	d := reference.NewDawidSkene(int(j.n), int(j.k), int(j.a), used, j.gold, w, p.SmoothingBps)
	for range p.Iterations {
		d.Iterate()
	}
	return d
}

// accuracy is the fraction of labels equal to truth.
func accuracy(labels []uint8, truth []uint32) float64 {
	ok := 0
	for i, l := range labels {
		if uint32(l) == truth[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(truth))
}

func agreement(a, b []uint8) float64 {
	ok := 0
	for i := range a {
		if a[i] == b[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(a))
}
