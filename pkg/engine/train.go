package engine

import (
	"errors"
	"fmt"
)

// Example is one training row in fixed point with the spec's FracBits.
type Example struct {
	X        []int32 // features (the chosen item for Bradley-Terry)
	Label    uint32  // class, softmax cross-entropy
	Target   []int32 // regression targets, MSE
	Rejected []int32 // features of the rejected item, Bradley-Terry

	// Transformer rows (ModelTransformer), raw byte tokens:
	Tokens         []byte // next-token: T+1 tokens (inputs 0..T-1, targets 1..T); DPO: prompt + chosen response
	RejectedTokens []byte // DPO: prompt + rejected response, T+1 tokens, same prompt
	PromptLen      uint32 // DPO: tokens of the shared prompt, 1..T; the response is Tokens[PromptLen:]
}

// RowSource serves the rows of a dataset by index.
type RowSource interface {
	Row(i uint64) (Example, error)
}

// Job is everything that determines a training transcript besides the
// rows themselves.
type Job struct {
	Spec     Spec
	Seed     [32]byte
	RowCount uint64 // rows in the dataset, >= 1
	Base     *Model // the frozen base; non-nil iff Spec.LoRARank > 0
	// BaseHash is the base's identity when it is a stacked base (DecodeBase:
	// the LoRA result whose merged weights Base holds); zero means
	// Base.Hash(). Callers set it only from a checked DecodeBase.
	BaseHash Hash
}

// baseID is the identity of the job's base (BaseHash, else Base.Hash()).
func (j Job) baseID() Hash {
	if j.BaseHash != (Hash{}) {
		return j.BaseHash
	}
	return j.Base.Hash()
}

// Validate checks the spec, the row count and the base model.
func (j Job) Validate() error {
	if err := j.Spec.Validate(); err != nil {
		return err
	}
	if j.RowCount == 0 {
		return errors.New("job: row count must be >= 1")
	}
	if j.BaseHash != (Hash{}) && j.Base == nil {
		return errors.New("job: a base identity without a base model")
	}
	if j.Spec.IsLoRA() != (j.Base != nil) {
		return errors.New("job: a base model is required iff LoRARank > 0")
	}
	if j.Base != nil {
		if err := j.Base.Validate(); err != nil {
			return fmt.Errorf("job: base %w", err)
		}
		if !j.Base.Arch.Equal(j.Spec.Arch()) {
			return errors.New("job: base model architecture does not match the spec")
		}
	}
	return nil
}

// Meter counts the work done, so that the chain can charge gas.
type Meter struct {
	MACs        uint64 // int32 x int32 -> int64 multiply-accumulates in the matrix kernels
	Steps       uint64 // optimiser steps
	Rows        uint64 // examples read (a Bradley-Terry pair counts once)
	Saturations uint64 // results clamped to the int32 range
}

// ActivationsPerStep is the element-wise work of one step outside the MACs:
// R * (sum of every layer's output width), where each element gets a bias,
// an activation (ReLU, or the softmax / sigmoid / loss on the output layer,
// whose integer exp and log dominate) and its derivative. It returns 0 for an
// invalid spec.
func ActivationsPerStep(s Spec) uint64 {
	if s.Validate() != nil {
		return 0
	}
	if s.Model == ModelTransformer {
		seqs := lmSeqs(s)
		ops := lmElementOps(s, seqs)
		if s.Objective == ObjectiveDPO {
			ops += lmElementOps(s, seqs) / 2 // the reference pass: forward only
		}
		return ops
	}
	r := uint64(s.BatchSize)
	if s.Objective == ObjectiveBradleyTerry {
		r *= 2
	}
	var outs uint64
	for _, d := range s.Arch().dims() {
		outs += uint64(d[1])
	}
	return r * outs
}

// OptimizerOpsPerParam weighs one parameter update by the optimiser's
// element-wise work relative to SGD: 1 for SGD and momentum, 3 for Adam (two
// moments, bias correction and an integer square root).
func OptimizerOpsPerParam(s Spec) uint64 {
	if optKindFor(s) == OptAdam {
		return 3
	}
	return 1
}

// MACsPerStep returns the exact number of MACs one training step performs
// (the Meter of RunSegment reports steps * MACsPerStep). With R rows per step
// (BatchSize, or 2*BatchSize for Bradley-Terry) and layers (in, out):
//
//	dense: forward R*in*out, weight gradient R*in*out, input gradient R*in*out (not for the first layer)
//	LoRA:  forward R*(in*out + r*in + r*out), gradients of B and of the hidden
//	       adapter activations 2*R*r*out, gradient of A R*r*in, input gradient
//	       R*(in*out + r*in) (not for the first layer)
//
// The element-wise work (activations, loss, optimiser) is O(R*out + params)
// per step and is not counted here: ActivationsPerStep and
// OptimizerOpsPerParam count it. It returns 0 for an invalid spec.
func MACsPerStep(s Spec) uint64 {
	if s.Validate() != nil {
		return 0
	}
	if s.Model == ModelTransformer {
		seqs := lmSeqs(s)
		fwd, bwd := lmMACs(s, seqs)
		if s.Objective == ObjectiveDPO {
			base := s
			base.LoRARank = 0
			ref, _ := lmMACs(base, seqs)
			fwd += ref
		}
		return fwd + bwd
	}
	r := uint64(s.BatchSize)
	if s.Objective == ObjectiveBradleyTerry {
		r *= 2
	}
	rank := uint64(s.LoRARank)
	var total uint64
	for l, d := range s.Arch().dims() {
		in, out := uint64(d[0]), uint64(d[1])
		if rank == 0 {
			total += 2 * r * in * out
			if l > 0 {
				total += r * in * out
			}
			continue
		}
		total += r*(in*out+rank*in+rank*out) + 2*r*rank*out + r*rank*in
		if l > 0 {
			total += r * (in*out + rank*in)
		}
	}
	return total
}

// net is a forward/backward pass over one architecture with its buffers.
type net struct {
	spec   Spec
	f      uint
	dims   [][2]int
	layers []Layer   // dense parameters (trained, or the frozen base for LoRA)
	ad     []Adapter // LoRA adapters, nil for dense
	rank   int
	scale  int64 // LoRA alpha / rank, F bits

	rows    int       // rows in the current pass
	act     [][]int32 // act[0] input (rows x in), act[l+1] output of layer l
	h       [][]int32 // LoRA: act[l] * A_l^T (rows x r)
	labels  []uint32
	targets []int32
	dz      []int32 // gradient w.r.t. the output of the current layer
	dprev   []int32
	tmp     []int32
	ta, tb  []int32     // transposes
	bs      backScratch // the backward pass's buffers (backward.go)
	grads   [][]int32
	mt      Meter
	sc      gemmScratch
}

func newNet(spec Spec, layers []Layer, ad []Adapter) *net {
	n := &net{spec: spec, f: uint(spec.FracBits), dims: spec.Arch().dims(), layers: layers, ad: ad,
		rank: int(spec.LoRARank)}
	if n.rank > 0 {
		n.scale = roundDiv(int64(spec.LoRAAlpha), int64(spec.LoRARank))
	}
	for _, sz := range trainedSizes(spec.Arch(), spec.LoRARank) {
		n.grads = append(n.grads, make([]int32, sz))
	}
	return n
}

func grow(b []int32, n int) []int32 {
	if cap(b) < n {
		return make([]int32, n)
	}
	return b[:n]
}

// resize prepares the buffers for r rows.
func (n *net) resize(r int) {
	n.rows = r
	if len(n.act) == 0 {
		n.act = make([][]int32, len(n.dims)+1)
		n.h = make([][]int32, len(n.dims))
	}
	n.act[0] = grow(n.act[0], r*n.dims[0][0])
	for l, d := range n.dims {
		n.act[l+1] = grow(n.act[l+1], r*d[1])
		if n.rank > 0 {
			n.h[l] = grow(n.h[l], r*n.rank)
		}
	}
	n.labels = n.labels[:0]
	n.targets = n.targets[:0]
}

// load fills the input rows from examples of rows source; pairs is the
// number of examples (rows == 2*pairs for Bradley-Terry).
func (n *net) load(src RowSource, idx []uint64) error {
	s := n.spec
	bt := s.Objective == ObjectiveBradleyTerry
	r := len(idx)
	if bt {
		r *= 2
	}
	n.resize(r)
	in := int(s.Inputs)
	for k, i := range idx {
		ex, err := src.Row(i)
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		if len(ex.X) != in {
			return fmt.Errorf("row %d: %d features, spec has %d inputs", i, len(ex.X), in)
		}
		copy(n.act[0][k*in:], ex.X)
		switch s.Objective {
		case ObjectiveSoftmaxCE:
			if ex.Label >= s.Outputs {
				return fmt.Errorf("row %d: label %d out of range [0, %d)", i, ex.Label, s.Outputs)
			}
			n.labels = append(n.labels, ex.Label)
		case ObjectiveMSE:
			if len(ex.Target) != int(s.Outputs) {
				return fmt.Errorf("row %d: %d targets, spec has %d outputs", i, len(ex.Target), s.Outputs)
			}
			n.targets = append(n.targets, ex.Target...)
		case ObjectiveBradleyTerry:
			if len(ex.Rejected) != in {
				return fmt.Errorf("row %d: %d rejected features, spec has %d inputs", i, len(ex.Rejected), in)
			}
			copy(n.act[0][(len(idx)+k)*in:], ex.Rejected)
		}
	}
	n.mt.Rows += uint64(len(idx))
	return nil
}

// forward computes every layer's output for the loaded rows.
func (n *net) forward() error {
	r, f := n.rows, n.f
	last := len(n.dims) - 1
	for l, d := range n.dims {
		in, out := d[0], d[1]
		x, y := n.act[l], n.act[l+1]
		e := epilogue{shift: f, f: f, bias: n.layers[l].B, relu: l < last && n.rank == 0}
		if err := gemm("forward", y, x, n.layers[l].W, r, out, in, e, &n.mt, &n.sc); err != nil {
			return fmt.Errorf("layer %d: %w", l, err)
		}
		if n.rank == 0 {
			continue
		}
		// LoRA: y += scale * (x A^T) B^T, then ReLU on hidden layers.
		sh := epilogue{shift: f, f: f}
		if err := gemm("lora forward A", n.h[l], x, n.ad[l].A, r, n.rank, in, sh, &n.mt, &n.sc); err != nil {
			return fmt.Errorf("layer %d: %w", l, err)
		}
		n.tmp = grow(n.tmp, r*out)
		if err := gemm("lora forward B", n.tmp, n.h[l], n.ad[l].B, r, out, n.rank, sh, &n.mt, &n.sc); err != nil {
			return fmt.Errorf("layer %d: %w", l, err)
		}
		for i, u := range n.tmp {
			v, s := sat32(int64(y[i]) + roundShift(n.scale*int64(u), f))
			if s {
				n.mt.Saturations++
			}
			if l < last && v < 0 {
				v = 0
			}
			y[i] = v
		}
	}
	return nil
}

// lossGrad computes, for the loaded rows, the per-row gradient of the summed
// loss w.r.t. the network output into n.dz (not yet divided by the batch
// size), the summed loss in F bits (saturating) and the number of correct rows.
func (n *net) lossGrad() (lossF int64, correct uint64) {
	s, f := n.spec, n.f
	out := int(s.Outputs)
	y := n.act[len(n.dims)]
	n.dz = grow(n.dz, n.rows*out)
	switch s.Objective {
	case ObjectiveSoftmaxCE:
		for b := 0; b < n.rows; b++ {
			z, p := y[b*out:(b+1)*out], n.dz[b*out:(b+1)*out]
			logSum, zmax := softmaxRow(z, f, p)
			c := n.labels[b]
			lossF = satAdd(lossF, fromQ(logSum-toQ(int64(z[c])-int64(zmax), f), f))
			if argmax(z) == int(c) {
				correct++
			}
			p[c] -= int32(1) << f // p - onehot, |.| <= 1.0
		}
	case ObjectiveMSE:
		for b := 0; b < n.rows; b++ {
			z, t, g := y[b*out:(b+1)*out], n.targets[b*out:(b+1)*out], n.dz[b*out:(b+1)*out]
			for j := range z {
				d, sat := sat32(int64(z[j]) - int64(t[j]))
				if sat {
					n.mt.Saturations++
				}
				g[j] = d
				lossF = satAdd(lossF, roundShift(int64(d)*int64(d), f+1))
			}
			if out == 1 {
				if d := int64(g[0]); d < 1<<(f-1) && d > -(1<<(f-1)) {
					correct++
				}
			} else if argmax(z) == argmax(t) {
				correct++
			}
		}
	case ObjectiveBradleyTerry:
		pairs := n.rows / 2
		for b := 0; b < pairs; b++ {
			d := toQ(clampQ(int64(y[b])-int64(y[pairs+b]), f), f) // s(chosen) - s(rejected)
			lossF = satAdd(lossF, fromQ(softplusQ(-d), f))
			if d > 0 {
				correct++
			}
			g := int32(fromQ(sigmoidQ(-d), f)) // dL/ds_chosen = -sigmoid(-d), in [0, 1]
			n.dz[b], n.dz[pairs+b] = -g, g
		}
	}
	return lossF, correct
}

// clampQ limits a fixed-point difference to +-64.0 so that it converts to Q30
// within the range of the approximations (sigmoid and softplus are flat there
// at Q30 precision).
func clampQ(d int64, f uint) int64 {
	lim := int64(64) << f
	if d > lim {
		return lim
	}
	if d < -lim {
		return -lim
	}
	return d
}

func satAdd(a, b int64) int64 {
	if s := a + b; (b >= 0) == (s >= a) {
		return s
	}
	if b > 0 {
		return maxInt64
	}
	return -maxInt64 - 1
}

func argmax(v []int32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// backward turns n.dz into gradients of every trained tensor (n.grads, in
// canonical order), dividing by the batch size in the rounding of each
// weight and bias gradient.
func (n *net) backward() error {
	r := n.rows
	batch := int64(n.spec.BatchSize)
	for l := len(n.dims) - 1; l >= 0; l-- {
		in, out := n.dims[l][0], n.dims[l][1]
		x := n.act[l]
		g := linearGrad{W: n.layers[l].W, out: out, in: in, g0: n.grads[2*l], g1: n.grads[2*l+1]}
		var h []int32
		if n.rank > 0 {
			g.ad, g.rank, g.scale, h = &n.ad[l], n.rank, n.scale, n.h[l]
		}
		var dx []int32
		if l > 0 {
			n.dprev = grow(n.dprev, r*in)
			dx = n.dprev
		}
		if err := g.back(&n.bs, &n.mt, &n.sc, n.f, x, h, n.dz[:r*out], r, batch, dx); err != nil {
			return fmt.Errorf("layer %d: %w", l, err)
		}
		if l == 0 {
			break
		}
		// ReLU derivative: the output of layer l-1 is x; zero where it is <= 0.
		for i, v := range x {
			if v <= 0 {
				n.dprev[i] = 0
			}
		}
		n.dz, n.dprev = n.dprev, n.dz
	}
	return nil
}

func (n *net) sat(x int64) int32 { return n.mt.sat(x) }

// sat saturates x to int32, counting a clamp.
func (m *Meter) sat(x int64) int32 {
	v, s := sat32(x)
	if s {
		m.Saturations++
	}
	return v
}

// trainNet is one architecture's forward and backward pass (net for linear
// models and MLPs, tnet for the transformer).
type trainNet interface {
	load(src RowSource, idx []uint64) error
	pass() error // the forward pass (with the DPO reference pass before it)
	lossGrad() (lossF int64, correct uint64)
	backward() error
	gradients() [][]int32
	meter() *Meter
	scored() uint64 // positions scored by the last lossGrad (next token), else 0
}

func (n *net) pass() error           { return n.forward() }
func (n *net) gradients() [][]int32  { return n.grads }
func (n *net) meter() *Meter         { return &n.mt }
func (n *net) scored() uint64        { return 0 }
func (n *tnet) gradients() [][]int32 { return n.grads }
func (n *tnet) meter() *Meter        { return &n.mt }
func (n *tnet) scored() uint64       { return n.positions }

func (n *tnet) pass() error {
	if n.dpo {
		if err := n.referenceLogProbs(); err != nil {
			return err
		}
	}
	return n.forward()
}

// netFor builds the network view of a state (dense) or of base + adapters.
func netFor(spec Spec, st *State, base *Model) trainNet {
	layers, ad := st.Layers, []Adapter(nil)
	if st.LoRA != nil {
		layers, ad = base.Layers, st.LoRA.Adapters
	}
	if spec.Model == ModelTransformer {
		return newTNet(spec, layers, ad)
	}
	return newNet(spec, layers, ad)
}

// RunSegment runs `steps` optimiser steps from start (which it never
// mutates) and returns the new state and the work done. Step s uses the rows
// BatchIndices(job, s). Every failure (invalid job or state, bad row, bound
// exceeded) is an error; nothing panics on user input. When the engine itself
// refuses to compute a step (an accumulator bound, Adam's rate cap) the error
// is a *StepError, which matches ErrTrainingFailed under errors.Is; invalid
// input and row source errors are not.
func RunSegment(job Job, start *State, rows RowSource, steps uint64) (*State, Meter, error) {
	var mt Meter
	if err := job.Validate(); err != nil {
		return nil, mt, err
	}
	if err := start.checkSpec(job.Spec); err != nil {
		return nil, mt, err
	}
	if start.LoRA != nil && job.baseID() != start.LoRA.BaseHash {
		return nil, mt, errors.New("run: base model hash does not match the state's base hash")
	}
	if start.Step+steps < start.Step {
		return nil, mt, errors.New("run: step counter would overflow")
	}
	if rows == nil {
		return nil, mt, errors.New("run: nil row source")
	}
	st := start.Clone()
	n := netFor(job.Spec, st, job.Base)
	opt := newOptimizer(job.Spec)
	mt2 := n.meter()
	for i := uint64(0); i < steps; i++ {
		idx := BatchIndices(job, st.Step)
		if err := n.load(rows, idx); err != nil {
			return nil, *mt2, fmt.Errorf("step %d: %w", st.Step, err)
		}
		if err := n.pass(); err != nil {
			return nil, *mt2, &StepError{Step: st.Step, Err: err}
		}
		n.lossGrad()
		if err := n.backward(); err != nil {
			return nil, *mt2, &StepError{Step: st.Step, Err: err}
		}
		sat, err := opt.apply(st, n.gradients())
		mt2.Saturations += sat
		if err != nil {
			return nil, *mt2, &StepError{Step: st.Step, Err: err}
		}
		st.Step++
		mt2.Steps++
	}
	return st, *mt2, nil
}

// StepGradients returns the gradients one training step from st would apply
// (the trained tensors' in canonical order) and the step's summed loss in F
// bits, without updating anything: what the gradient checks against the
// float64 reference compare.
func StepGradients(job Job, st *State, rows RowSource, idx []uint64) ([][]int32, int64, error) {
	if err := job.Validate(); err != nil {
		return nil, 0, err
	}
	if err := st.checkSpec(job.Spec); err != nil {
		return nil, 0, err
	}
	if rows == nil {
		return nil, 0, errors.New("gradients: nil row source")
	}
	n := netFor(job.Spec, st, job.Base)
	if err := n.load(rows, idx); err != nil {
		return nil, 0, err
	}
	if err := n.pass(); err != nil {
		return nil, 0, err
	}
	loss, _ := n.lossGrad()
	if err := n.backward(); err != nil {
		return nil, 0, err
	}
	return clone2(n.gradients()), loss, nil
}

// EvalResult summarises a model on a set of rows.
type EvalResult struct {
	Count   uint64 // rows (pairs for Bradley-Terry and DPO)
	Tokens  uint64 // next token: positions scored (Loss is then the mean per position)
	Correct uint64 // CE: argmax == label; BT: s(chosen) > s(rejected); MSE: argmax(y) == argmax(t), or |y-t| < 0.5 for one output; next token: argmax == next byte (of Tokens); DPO: implicit reward prefers the chosen response
	Loss    int64  // mean loss per row, F fractional bits
	Meter   Meter
}

// evalChunk bounds the rows one evaluation pass holds in memory.
const evalChunk = 256

// Evaluate runs the training-time forward pass of a state (base + adapters
// for LoRA, unmerged) on the given rows.
func Evaluate(job Job, st *State, rows RowSource, indices []uint64) (EvalResult, error) {
	if err := job.Validate(); err != nil {
		return EvalResult{}, err
	}
	if err := st.checkSpec(job.Spec); err != nil {
		return EvalResult{}, err
	}
	return evaluate(netFor(job.Spec, st, job.Base), rows, indices)
}

// EvaluateModel runs a dense model (e.g. State.Model of a LoRA result) with
// the objective of spec on the given rows. The spec's architecture must be
// the model's.
func EvaluateModel(spec Spec, m *Model, rows RowSource, indices []uint64) (EvalResult, error) {
	spec.LoRARank, spec.LoRAAlpha = 0, 0
	if err := spec.Validate(); err != nil {
		return EvalResult{}, err
	}
	if err := m.Validate(); err != nil {
		return EvalResult{}, err
	}
	if !m.Arch.Equal(spec.Arch()) {
		return EvalResult{}, errors.New("evaluate: model architecture does not match the spec")
	}
	if spec.Model == ModelTransformer {
		return evaluate(newTNet(spec, m.Layers, nil), rows, indices)
	}
	return evaluate(newNet(spec, m.Layers, nil), rows, indices)
}

func evaluate(n trainNet, rows RowSource, indices []uint64) (EvalResult, error) {
	var res EvalResult
	if rows == nil {
		return res, errors.New("evaluate: nil row source")
	}
	var lossSum int64
	for lo := 0; lo < len(indices); lo += evalChunk {
		hi := min(lo+evalChunk, len(indices))
		if err := n.load(rows, indices[lo:hi]); err != nil {
			return res, err
		}
		if err := n.pass(); err != nil {
			return res, err
		}
		l, c := n.lossGrad()
		lossSum = satAdd(lossSum, l)
		res.Correct += c
		res.Count += uint64(hi - lo)
		res.Tokens += n.scored()
	}
	switch {
	case res.Tokens > 0:
		res.Loss = roundDiv(lossSum, int64(res.Tokens))
	case res.Count > 0:
		res.Loss = roundDiv(lossSum, int64(res.Count))
	}
	res.Meter = *n.meter()
	return res, nil
}
