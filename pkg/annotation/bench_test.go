package annotation_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
)

// typicalJob is the MNIST-like job of the docs: 10,000 items, K = 10, r = 5,
// 50 annotators of whom 10 spammers and 5 flippers, 2% gold.
func typicalJob(b testing.TB, k uint32) job {
	truth := crowd.Truth(3, 10000, k)
	return newJob(b, 5, truth, k, crowd.Mix{Good: 18, Noisy: 17, RandomSpammers: 5, ConstantSpammers: 5, Flippers: 5}, 5, 50, 200)
}

// BenchmarkEMIteration: one Dawid–Skene round (M-step + E-step) of the
// typical job, fixed point versus the float64 reference in the same run;
// ns/label-iter is the time per kept label, x_float the fixed/float ratio.
func BenchmarkEMIteration(b *testing.B) {
	for _, k := range []uint32{2, 10} {
		j := typicalJob(b, k)
		p := annotation.DefaultParams()
		p.Iterations = 1
		var fixedNs float64
		b.Run(fmt.Sprintf("K=%d/fixed", k), func(b *testing.B) {
			g, err := annotation.NewAggregation(j.n, j.k, j.a, j.labels, j.gold, p)
			if err != nil {
				b.Fatal(err)
			}
			// Run the vote pass only (its units are known), keep that state.
			g.Step(uint64(len(j.labels))*annotation.UnitsPerLabel + uint64(j.n)*annotation.UnitsPerItem)
			start := g.Encode()
			kept := keptLabels(j, p)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				g, _ := annotation.DecodeAggregation(start)
				b.StartTimer()
				if done, _ := g.Step(^uint64(0)); !done {
					b.Fatal("not done")
				}
			}
			fixedNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(fixedNs/float64(kept), "ns/label-iter")
		})
		b.Run(fmt.Sprintf("K=%d/float64", k), func(b *testing.B) {
			q := p
			q.Iterations = 0
			d := j.float(b, q)
			kept := keptLabels(j, p)
			b.ResetTimer()
			for range b.N {
				d.Iterate()
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns/float64(kept), "ns/label-iter")
			if fixedNs > 0 {
				b.ReportMetric(fixedNs/ns, "x_float")
			}
		})
	}
}

func keptLabels(j job, p annotation.Params) int {
	scores, _ := annotation.GoldAccuracy(j.labels, j.gold, j.a)
	d := annotation.Dropped(scores, p.MinGoldSeen, p.MinGoldAccuracyBps)
	n := 0
	for _, l := range j.labels {
		if !d[l.Annotator] {
			n++
		}
	}
	return n
}

// shape is a synthetic job stressing one kind of unit.
type shape struct {
	name    string
	n, k, a uint32
	labels  []annotation.Label
}

func lcg(s uint64) func(n uint32) uint32 {
	return func(n uint32) uint32 {
		s = s*6364136223846793005 + 1442695040888963407
		return uint32((s >> 33) % uint64(n))
	}
}

// shapes of about `cells` cells: the typical job, every annotator on every item (label units), items
// without labels (item units), and one label per annotator (log-row units:
// every label its own pair).
func shapes(b testing.TB, k uint32, cells int) []shape {
	j := typicalJob(b, k)
	out := []shape{{"typical", j.n, k, j.a, j.labels}}
	r := lcg(uint64(k))
	var dense []annotation.Label
	items := uint32(cells/int(k)) / 257
	for i := range items {
		for a := range uint32(256) {
			dense = append(dense, annotation.Label{Item: i, Annotator: a, Value: r(k)})
		}
	}
	out = append(out, shape{"labels", items, k, 256, dense})
	out = append(out, shape{"items", uint32(min(annotation.MaxItems, cells/int(k)-1)), k, 1,
		[]annotation.Label{{Item: 0, Annotator: 0, Value: 0}}})
	var single []annotation.Label
	na := uint32(min(annotation.MaxAnnotators, cells/int(k)*5/6))
	for a := range na {
		single = append(single, annotation.Label{Item: a / 5, Annotator: a, Value: r(k)})
	}
	out = append(out, shape{"pairs", (na + 4) / 5, k, na, single})
	return out
}

// BenchmarkUnits calibrates the cost units: for each shape, the time of a
// whole aggregation (setup included, 5 rounds) per unit charged (ns/unit).
// The unit weights are right when every shape gives about the same figure.
func BenchmarkUnits(b *testing.B) {
	p := annotation.DefaultParams()
	p.Iterations = 5
	for _, k := range []uint32{2, 10, 256} {
		for _, s := range shapes(b, k, annotation.MaxCells) {
			if (uint64(s.n)+uint64(len(s.labels)))*uint64(k) > annotation.MaxCells {
				continue // the typical job at K = 256
			}
			b.Run(fmt.Sprintf("K=%d/%s", k, s.name), func(b *testing.B) {
				var units uint64
				var setup time.Duration
				for range b.N {
					t0 := time.Now()
					g, err := annotation.NewAggregation(s.n, s.k, s.a, s.labels, nil, p)
					if err != nil {
						b.Fatal(err)
					}
					setup += time.Since(t0)
					g.Step(^uint64(0))
					units = g.Used()
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(ns/float64(units), "ns/unit")
				b.ReportMetric(float64(setup.Nanoseconds())/float64(b.N)/float64(annotation.SetupUnits(s.n, s.k, uint64(len(s.labels)))), "setup-ns/unit")
				b.ReportMetric(float64(units), "units")
			})
		}
	}
}
