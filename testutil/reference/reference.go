// Package reference is a float64 trainer built on gonum that mirrors the
// fixed-point engine: same architectures, losses and optimiser formulas, the
// same initial weights (converted from the engine's initial state) and the
// same batches (engine.BatchIndices). It lives OUTSIDE consensus: it is used
// for gradient checks, accuracy comparisons and benchmarks, never to decide
// anything on chain.
package reference

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Trainer holds float64 parameters and optimiser state.
type Trainer struct {
	Spec engine.Spec
	Step uint64

	dims   [][2]int
	base   [][]float64 // LoRA: frozen base tensors W0, B0, W1, B1, ...
	params [][]float64 // trained tensors in the engine's canonical order
	scale  float64     // LoRA alpha/rank

	vel, m, v [][]float64
}

func fx(v int64, f uint32) float64 { return float64(v) / float64(int64(1)<<f) }

func toFloat(v []int32, f uint32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = fx(int64(x), f)
	}
	return out
}

// FromState builds a trainer whose parameters equal the fixed-point state's
// (and, for LoRA, whose frozen base equals job.Base).
func FromState(job engine.Job, st *engine.State) (*Trainer, error) {
	if err := job.Validate(); err != nil {
		return nil, err
	}
	s := job.Spec
	f := s.FracBits
	t := &Trainer{Spec: s, Step: st.Step}
	w := []int{int(s.Inputs)}
	for _, h := range s.Hidden {
		w = append(w, int(h))
	}
	w = append(w, int(s.Outputs))
	for i := 0; i+1 < len(w); i++ {
		t.dims = append(t.dims, [2]int{w[i], w[i+1]})
	}
	if s.IsLoRA() {
		if st.LoRA == nil || len(st.LoRA.Adapters) != len(t.dims) {
			return nil, errors.New("reference: state is not a LoRA state of this spec")
		}
		for _, l := range job.Base.Layers {
			t.base = append(t.base, toFloat(l.W, f), toFloat(l.B, f))
		}
		for _, a := range st.LoRA.Adapters {
			t.params = append(t.params, toFloat(a.A, f), toFloat(a.B, f))
		}
		r := int64(s.LoRARank)
		t.scale = fx((int64(s.LoRAAlpha)+r/2)/r, f) // the engine's rounded scale
	} else {
		if len(st.Layers) != len(t.dims) {
			return nil, errors.New("reference: state is not a dense state of this spec")
		}
		for _, l := range st.Layers {
			t.params = append(t.params, toFloat(l.W, f), toFloat(l.B, f))
		}
	}
	for _, p := range t.params {
		switch {
		case s.Optimizer == engine.OptimizerAdam:
			t.m = append(t.m, make([]float64, len(p)))
			t.v = append(t.v, make([]float64, len(p)))
		case s.Momentum > 0:
			t.vel = append(t.vel, make([]float64, len(p)))
		}
	}
	return t, nil
}

// Params returns the trained tensors (canonical engine order).
func (t *Trainer) Params() [][]float64 { return t.params }

// batch is a float64 copy of a batch of examples.
type batch struct {
	x       *mat.Dense // rows x inputs (chosen rows then rejected rows for Bradley-Terry)
	labels  []uint32
	targets *mat.Dense
	pairs   int
}

func (t *Trainer) load(rows engine.RowSource, idx []uint64) (*batch, error) {
	s := t.Spec
	f := s.FracBits
	bt := s.Objective == engine.ObjectiveBradleyTerry
	n := len(idx)
	r := n
	if bt {
		r = 2 * n
	}
	b := &batch{x: mat.NewDense(r, int(s.Inputs), nil), pairs: n}
	if s.Objective == engine.ObjectiveMSE {
		b.targets = mat.NewDense(n, int(s.Outputs), nil)
	}
	for k, i := range idx {
		ex, err := rows.Row(i)
		if err != nil {
			return nil, err
		}
		if len(ex.X) != int(s.Inputs) {
			return nil, fmt.Errorf("reference: row %d has %d features", i, len(ex.X))
		}
		b.x.SetRow(k, toFloat(ex.X, f))
		switch s.Objective {
		case engine.ObjectiveSoftmaxCE:
			b.labels = append(b.labels, ex.Label)
		case engine.ObjectiveMSE:
			b.targets.SetRow(k, toFloat(ex.Target, f))
		case engine.ObjectiveBradleyTerry:
			b.x.SetRow(n+k, toFloat(ex.Rejected, f))
		}
	}
	return b, nil
}

// weights returns the effective dense W (out x in) and bias of layer l, and
// for LoRA the adapter matrices.
func (t *Trainer) layer(l int) (w *mat.Dense, bias []float64, a, bm *mat.Dense) {
	in, out := t.dims[l][0], t.dims[l][1]
	if t.base == nil {
		return mat.NewDense(out, in, t.params[2*l]), t.params[2*l+1], nil, nil
	}
	r := int(t.Spec.LoRARank)
	return mat.NewDense(out, in, t.base[2*l]), t.base[2*l+1],
		mat.NewDense(r, in, t.params[2*l]), mat.NewDense(out, r, t.params[2*l+1])
}

// forward returns the activations of every layer (acts[0] = input) and, for
// LoRA, the adapter hidden activations.
func (t *Trainer) forward(x *mat.Dense) (acts, hs []*mat.Dense) {
	acts = []*mat.Dense{x}
	last := len(t.dims) - 1
	for l := range t.dims {
		w, bias, a, bm := t.layer(l)
		rows, _ := x.Dims()
		var z mat.Dense
		z.Mul(x, w.T())
		var h mat.Dense
		if a != nil {
			h.Mul(x, a.T())
			var u mat.Dense
			u.Mul(&h, bm.T())
			u.Scale(t.scale, &u)
			z.Add(&z, &u)
		}
		hs = append(hs, &h)
		for i := 0; i < rows; i++ {
			row := z.RawRowView(i)
			for j := range row {
				row[j] += bias[j]
				if l < last && row[j] < 0 {
					row[j] = 0
				}
			}
		}
		acts = append(acts, &z)
		x = &z
	}
	return acts, hs
}

// lossAndDz returns the summed loss, the number of correct rows and the
// gradient of the summed loss w.r.t. the outputs (as the engine defines them).
func (t *Trainer) lossAndDz(b *batch, y *mat.Dense) (float64, int, *mat.Dense) {
	rows, out := y.Dims()
	dz := mat.NewDense(rows, out, nil)
	var loss float64
	correct := 0
	switch t.Spec.Objective {
	case engine.ObjectiveSoftmaxCE:
		for i := 0; i < rows; i++ {
			z, g := y.RawRowView(i), dz.RawRowView(i)
			mx := z[0]
			best := 0
			for j, v := range z {
				if v > mx {
					mx, best = v, j
				}
			}
			var sum float64
			for j, v := range z {
				g[j] = math.Exp(v - mx)
				sum += g[j]
			}
			for j := range g {
				g[j] /= sum
			}
			c := int(b.labels[i])
			loss += math.Log(sum) - (z[c] - mx)
			if best == c {
				correct++
			}
			g[c]--
		}
	case engine.ObjectiveMSE:
		for i := 0; i < rows; i++ {
			z, tr, g := y.RawRowView(i), b.targets.RawRowView(i), dz.RawRowView(i)
			for j := range z {
				g[j] = z[j] - tr[j]
				loss += 0.5 * g[j] * g[j]
			}
			if out == 1 {
				if math.Abs(g[0]) < 0.5 {
					correct++
				}
			} else if argmax(z) == argmax(tr) {
				correct++
			}
		}
	case engine.ObjectiveBradleyTerry:
		p := b.pairs
		for i := 0; i < p; i++ {
			d := y.At(i, 0) - y.At(p+i, 0)
			loss += softplus(-d)
			if d > 0 {
				correct++
			}
			g := 1 / (1 + math.Exp(d)) // sigmoid(-d)
			dz.Set(i, 0, -g)
			dz.Set(p+i, 0, g)
		}
	}
	return loss, correct, dz
}

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// gradients returns the gradient of the mean batch loss w.r.t. every trained
// tensor, and the mean loss.
func (t *Trainer) gradients(b *batch) ([][]float64, float64) {
	acts, hs := t.forward(b.x)
	loss, _, dz := t.lossAndDz(b, acts[len(acts)-1])
	nb := float64(b.pairs)
	grads := make([][]float64, len(t.params))
	for l := len(t.dims) - 1; l >= 0; l-- {
		in, out := t.dims[l][0], t.dims[l][1]
		x := acts[l]
		w, _, a, bm := t.layer(l)
		var dprev mat.Dense
		if a == nil {
			gw := mat.NewDense(out, in, nil)
			gw.Mul(dz.T(), x)
			gw.Scale(1/nb, gw)
			grads[2*l] = gw.RawMatrix().Data
			gb := make([]float64, out)
			rows, _ := dz.Dims()
			for i := 0; i < rows; i++ {
				for j, v := range dz.RawRowView(i) {
					gb[j] += v / nb
				}
			}
			grads[2*l+1] = gb
			if l > 0 {
				dprev.Mul(dz, w)
			}
		} else {
			r := int(t.Spec.LoRARank)
			var du mat.Dense
			du.Scale(t.scale, dz)
			gB := mat.NewDense(out, r, nil)
			gB.Mul(du.T(), hs[l])
			gB.Scale(1/nb, gB)
			var dh mat.Dense
			dh.Mul(&du, bm)
			gA := mat.NewDense(r, in, nil)
			gA.Mul(dh.T(), x)
			gA.Scale(1/nb, gA)
			grads[2*l], grads[2*l+1] = gA.RawMatrix().Data, gB.RawMatrix().Data
			if l > 0 {
				var e mat.Dense
				dprev.Mul(dz, w)
				e.Mul(&dh, a)
				dprev.Add(&dprev, &e)
			}
		}
		if l == 0 {
			break
		}
		rows, cols := dprev.Dims()
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				if x.At(i, j) <= 0 {
					dprev.Set(i, j, 0)
				}
			}
		}
		dz = &dprev
	}
	return grads, loss / nb
}

// Gradients returns the gradient of the mean loss over the given rows.
func (t *Trainer) Gradients(rows engine.RowSource, idx []uint64) ([][]float64, float64, error) {
	b, err := t.load(rows, idx)
	if err != nil {
		return nil, 0, err
	}
	g, l := t.gradients(b)
	return g, l, nil
}

// Loss returns the mean loss over the given rows.
func (t *Trainer) Loss(rows engine.RowSource, idx []uint64) (float64, error) {
	b, err := t.load(rows, idx)
	if err != nil {
		return 0, err
	}
	acts, _ := t.forward(b.x)
	l, _, _ := t.lossAndDz(b, acts[len(acts)-1])
	return l / float64(b.pairs), nil
}

// Run trains `steps` steps on the engine's batches of job.
func (t *Trainer) Run(job engine.Job, rows engine.RowSource, steps uint64) error {
	s := t.Spec
	for i := uint64(0); i < steps; i++ {
		b, err := t.load(rows, engine.BatchIndices(job, t.Step))
		if err != nil {
			return err
		}
		g, _ := t.gradients(b)
		optimiserStep(s, t.Step, t.params, g, t.vel, t.m, t.v)
		t.Step++
	}
	return nil
}

// optimiserStep applies the spec's optimiser (SGD, momentum or Adam with the
// engine's bias correction) in float64 to params with gradients g at step
// (0-based), updating the velocities or moments it keeps.
func optimiserStep(s engine.Spec, step uint64, params, g, vel, m, v [][]float64) {
	f := s.FracBits
	lr := fx(int64(s.LearningRate), f)
	switch {
	case s.Optimizer == engine.OptimizerAdam:
		b1, b2, eps := fx(int64(s.Beta1), f), fx(int64(s.Beta2), f), fx(int64(s.Epsilon), f)
		n := float64(step + 1)
		rate := lr * math.Sqrt(1-math.Pow(b2, n)) / (1 - math.Pow(b1, n))
		for k, p := range params {
			for j := range p {
				m[k][j] = b1*m[k][j] + (1-b1)*g[k][j]
				v[k][j] = b2*v[k][j] + (1-b2)*g[k][j]*g[k][j]
				p[j] -= rate * m[k][j] / (math.Sqrt(v[k][j]) + eps)
			}
		}
	case s.Momentum > 0:
		mu := fx(int64(s.Momentum), f)
		for k, p := range params {
			for j := range p {
				vel[k][j] = mu*vel[k][j] + g[k][j]
				p[j] -= lr * vel[k][j]
			}
		}
	default:
		for k, p := range params {
			for j := range p {
				p[j] -= lr * g[k][j]
			}
		}
	}
}

// Result is a float64 evaluation.
type Result struct {
	Loss    float64 // mean
	Correct int
	Count   int
}

// Accuracy returns Correct/Count.
func (r Result) Accuracy() float64 { return float64(r.Correct) / float64(r.Count) }

// Evaluate computes loss and accuracy on the given rows (chunks of 512).
func (t *Trainer) Evaluate(rows engine.RowSource, idx []uint64) (Result, error) {
	var res Result
	var loss float64
	for lo := 0; lo < len(idx); lo += 512 {
		hi := min(lo+512, len(idx))
		b, err := t.load(rows, idx[lo:hi])
		if err != nil {
			return res, err
		}
		acts, _ := t.forward(b.x)
		l, c, _ := t.lossAndDz(b, acts[len(acts)-1])
		loss += l
		res.Correct += c
		res.Count += hi - lo
	}
	if res.Count > 0 {
		res.Loss = loss / float64(res.Count)
	}
	return res, nil
}

// SetParam sets element j of trained tensor k (for finite differences).
func (t *Trainer) SetParam(k, j int, v float64) { t.params[k][j] = v }
