package annotation_test

import (
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
)

// TestFixedVsFloat: on realistic crowds the fixed-point labels agree with a
// float64 Dawid–Skene on at least 99.9% of the items.
func TestFixedVsFloat(t *testing.T) {
	truth := crowd.Truth(7, 10000, 10)
	for _, c := range []struct {
		name string
		mix  crowd.Mix
	}{
		{"honest", crowd.Mix{Good: 25, Noisy: 20, Flippers: 5}},
		{"spam-40", crowd.Mix{Good: 13, Noisy: 12, RandomSpammers: 10, ConstantSpammers: 10, Flippers: 5}},
		{"copiers", crowd.Mix{Good: 15, Noisy: 15, RandomSpammers: 5, ConstantSpammers: 5, Flippers: 5, Copiers: 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := newJob(t, 11, truth, 10, c.mix, 5, 50, 200)
			p := annotation.DefaultParams()
			g := j.run(t, p)
			res, _ := g.Result()
			d := j.float(t, p)
			ag := agreement(res.Labels, d.Labels())
			var maxDiff float64
			for i := uint32(0); i < j.n; i++ {
				fp, fl := g.Posterior(i), d.Posterior(int(i))
				for c := range fp {
					maxDiff = max(maxDiff, abs(float64(fp[c])/(1<<30)-fl[c]))
				}
			}
			t.Logf("agreement %.5f, max posterior difference %.3g, accuracy fixed %.4f float %.4f",
				ag, maxDiff, accuracy(res.Labels, truth), accuracy(d.Labels(), truth))
			if ag < 0.999 {
				t.Fatalf("fixed and float Dawid–Skene agree on %.4f of the items, want >= 0.999", ag)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
