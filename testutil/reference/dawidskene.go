package reference

import (
	"math"

	"gonum.org/v1/gonum/floats"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
)

// DawidSkene is a float64 Dawid–Skene EM that mirrors pkg/annotation's
// fixed-point aggregation formula for formula: the same start (weighted vote
// shares, uniform without votes), the same Laplace pseudo-count on the
// confusion matrices and the prior, gold items clamped to their value, argmax
// ties to the lowest class. It measures how often the fixed-point labels
// differ from exact(ish) arithmetic; it is never used on chain.
type DawidSkene struct {
	n, k, a int
	labels  []annotation.Label // the labels EM uses
	gold    []int              // per item: gold value or -1
	alpha   float64
	post    [][]float64 // n x k
	// logTheta[a][v][j] = ln P(annotator a answers v | true class j)
	logTheta [][][]float64
	logPrior []float64
	score    [][]float64 // n x k: last E-step's log scores (vote shares after the start)

	counts [][][]float64 // [a][v][j] M-step scratch, allocated once
	rows   [][]float64   // [a][j]
	prior  []float64
	seen   []bool // annotators with labels
}

// NewDawidSkene runs EM on `labels` (the caller leaves out those of dropped
// annotators unless they are kept), starting from the vote of those labels
// with annotation.VoteWeights' weights (weight 0: no vote), with the
// pseudo-count smoothingBps/10000.
func NewDawidSkene(n, k, a int, labels []annotation.Label, gold []annotation.Gold, weights []uint32, smoothingBps uint32) *DawidSkene {
	d := &DawidSkene{n: n, k: k, a: a, labels: labels, alpha: float64(smoothingBps) / 10000, gold: make([]int, n)}
	for i := range d.gold {
		d.gold[i] = -1
	}
	for _, g := range gold {
		d.gold[g.Item] = int(g.Value)
	}
	d.post, d.score = grid(n, k), grid(n, k)
	for _, l := range d.labels {
		d.score[l.Item][l.Value] += float64(weights[l.Annotator])
	}
	for i := range d.post {
		if t := floats.Sum(d.score[i]); t > 0 {
			floats.ScaleTo(d.post[i], 1/t, d.score[i])
		} else {
			floats.AddConst(1/float64(k), d.post[i])
		}
	}
	d.clampGold()
	d.logTheta = make([][][]float64, a)
	for i := range d.logTheta {
		d.logTheta[i] = grid(k, k)
	}
	d.logPrior = make([]float64, k)
	d.counts = make([][][]float64, a)
	for i := range d.counts {
		d.counts[i] = grid(k, k)
	}
	d.rows, d.prior, d.seen = grid(a, k), make([]float64, k), make([]bool, a)
	for _, l := range d.labels {
		d.seen[l.Annotator] = true
	}
	return d
}

func grid(r, c int) [][]float64 {
	g := make([][]float64, r)
	for i := range g {
		g[i] = make([]float64, c)
	}
	return g
}

func (d *DawidSkene) clampGold() {
	for i, g := range d.gold {
		if g >= 0 {
			floats.Scale(0, d.post[i])
			d.post[i][g] = 1
			floats.Scale(0, d.score[i])
			d.score[i][g] = 1
		}
	}
}

// Iterate runs one M-step and one E-step.
func (d *DawidSkene) Iterate() {
	k := d.k
	counts, rows, prior := d.counts, d.rows, d.prior
	for a, c := range counts {
		if d.seen[a] {
			for _, r := range c {
				floats.Scale(0, r)
			}
			floats.Scale(0, rows[a])
		}
	}
	floats.Scale(0, prior)
	for _, l := range d.labels {
		floats.Add(counts[l.Annotator][l.Value], d.post[l.Item])
		floats.Add(rows[l.Annotator], d.post[l.Item])
	}
	for _, p := range d.post {
		floats.Add(prior, p)
	}
	den := math.Log(floats.Sum(prior) + float64(k)*d.alpha)
	for j, v := range prior {
		d.logPrior[j] = math.Log(v+d.alpha) - den
	}
	for a, c := range counts {
		if !d.seen[a] {
			continue
		}
		for v := range c {
			for j := range c[v] {
				d.logTheta[a][v][j] = math.Log(c[v][j]+d.alpha) - math.Log(rows[a][j]+float64(k)*d.alpha)
			}
		}
	}
	for i := range d.score {
		copy(d.score[i], d.logPrior)
	}
	for _, l := range d.labels {
		floats.Add(d.score[l.Item], d.logTheta[l.Annotator][l.Value])
	}
	for i, s := range d.score {
		lse := floats.LogSumExp(s)
		for j, v := range s {
			d.post[i][j] = math.Exp(v - lse)
		}
	}
	d.clampGold()
}

// Labels returns the argmax of each item's last scores, ties to the lowest class.
func (d *DawidSkene) Labels() []uint8 {
	out := make([]uint8, d.n)
	for i, s := range d.score {
		out[i] = uint8(floats.MaxIdx(s))
	}
	return out
}

// Posterior returns item i's posterior.
func (d *DawidSkene) Posterior(i int) []float64 { return append([]float64(nil), d.post[i]...) }
