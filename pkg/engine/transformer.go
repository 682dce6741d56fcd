package engine

// A decoder-only byte-level transformer language model (ModelTransformer),
// integer only like the rest of the engine.
//
// Architecture (Arch fields): Inputs = T, the context length; Outputs = V =
// 256, one token per byte; Hidden = [L, d, H]: L blocks of width d with H
// heads of dh = d/H dimensions; the MLP is 4d wide. Pre-norm (GPT-2 order)
// with RMSNorm and SiLU:
//
//	x_t   = E[s_t] + P[t]                                 t = 0..T-1
//	block: a = rms(x) * g1
//	       q, k, v = split(a Wqkv^T + bqkv)              head h: dims h*dh..(h+1)*dh-1
//	       A = softmax_j<=i(q_i . k_j * (1/sqrt(dh)))    causal
//	       x = x + concat_h(A v) Wo^T + bo
//	       a = rms(x) * g2
//	       x = x + silu(a W1^T + b1) W2^T + b2
//	z_t   = (rms(x_t) * gf) E^T + c                      tied head, c the logit bias
//
// with rms(x) = x / sqrt(mean(x^2) + eps), eps = 2^-16, and silu(u) = u *
// sigmoid(u). Parameters (the Layers of a Model, each W out x in row-major
// and a bias B), in canonical order:
//
//	0          token embedding E    W V x d    B = c, V logit biases
//	1          position embedding P W T x d    B empty
//	2+6l       norm 1 gains g1      W d x 1    B empty
//	3+6l       attention Wqkv       W 3d x d   B 3d       (rows: q, then k, then v)
//	4+6l       attention Wo         W d x d    B d
//	5+6l       norm 2 gains g2      W d x 1    B empty
//	6+6l       MLP W1               W 4d x d   B 4d
//	7+6l       MLP W2               W d x 4d   B d
//	2+6L       final norm gains gf  W d x 1    B empty
//
// LoRA adapters (W_eff = W + (alpha/r) B A, as for the MLP) sit on the four
// projections of every block (Wqkv, Wo, W1, W2), in that order; embeddings
// and gains stay frozen.
//
// Fixed point (F fractional bits, 12 <= F <= 20 for the transformer): every
// product of two F-bit values is rounded once with the package rule and
// saturated to int32 (counted in Meter.Saturations), as in the MLP.
//
//	rms:       ss = sum x_i^2 (exact, bound-checked), m = round(ss/d) + 2^(2F-16),
//	           r = round(2^(2F) / sqrtRound(m)) (the integer reciprocal square
//	           root, F bits), n_i = round(x_i r / 2^F), y_i = round(n_i g_i / 2^F)
//	scores:    round(q . k / (sqrtRound(dh 2^(2F)))), one rounding per score
//	softmax:   softmaxRow over j <= i (approx.go, error <= 1 unit of 2^-F)
//	silu:      s = round(u sigmoid(u) / 2^F), sigmoid from sigmoidQ (Q30, error
//	           <= 3 units of 2^-30) on u clamped to +-64.0, so |silu error| <=
//	           |u| 2^-F + 1 unit for |u| <= 64 (and u itself is exact)
//	backward:  the exact derivatives of the formulas above, each product rounded
//	           once; weight gradients divided by N = B*T (next token) or B
//	           (DPO) in the rounding of the gemm epilogue.

import (
	"errors"
	"fmt"
)

// Transformer limits (Arch.Validate). With MaxParams they keep one step's
// work bounded; the chain's max_macs_per_reveal bounds a segment.
const (
	Vocab            = 256 // byte-level tokens
	MaxBlocks        = 12
	MaxContext       = 1024
	MaxModelWidth    = 1024
	MinLMFracBits    = 12
	MaxLMFracBits    = 20
	rmsEpsFracBits   = 16 // eps = 2^-16
	transformerHeads = 2  // index of heads in Arch.Hidden
)

// Blocks, Width, Heads and Context read a transformer architecture (0 for
// other kinds).
func (a Arch) Blocks() int  { return a.lmDim(0) }
func (a Arch) Width() int   { return a.lmDim(1) }
func (a Arch) Heads() int   { return a.lmDim(transformerHeads) }
func (a Arch) Context() int { return a.lmDim(-1) }

func (a Arch) lmDim(i int) int {
	if a.Kind != ModelTransformer || len(a.Hidden) != 3 {
		return 0
	}
	if i < 0 {
		return int(a.Inputs)
	}
	return int(a.Hidden[i])
}

// TransformerArch returns the architecture of a byte-level LM with context T,
// L blocks of width d and H heads, at F fractional bits.
func TransformerArch(T, L, d, H, F uint32) Arch {
	return Arch{Kind: ModelTransformer, Inputs: T, Outputs: Vocab, Hidden: []uint32{L, d, H}, FracBits: F}
}

func (a Arch) validateTransformer() error {
	if a.FracBits < MinLMFracBits || a.FracBits > MaxLMFracBits {
		return fmt.Errorf("FracBits: transformer needs %d..%d fractional bits, got %d", MinLMFracBits, MaxLMFracBits, a.FracBits)
	}
	if len(a.Hidden) != 3 {
		return fmt.Errorf("hidden: a transformer has hidden = [blocks, width, heads], got %d values", len(a.Hidden))
	}
	if a.Outputs != Vocab {
		return fmt.Errorf("outputs: a byte-level transformer has %d outputs, got %d", Vocab, a.Outputs)
	}
	if a.Inputs < 2 || a.Inputs > MaxContext {
		return fmt.Errorf("inputs: context length %d out of range [2, %d]", a.Inputs, MaxContext)
	}
	L, d, H := a.Hidden[0], a.Hidden[1], a.Hidden[2]
	if L < 1 || L > MaxBlocks {
		return fmt.Errorf("hidden[0]: blocks %d out of range [1, %d]", L, MaxBlocks)
	}
	if d < 2 || d > MaxModelWidth {
		return fmt.Errorf("hidden[1]: width %d out of range [2, %d]", d, MaxModelWidth)
	}
	if H < 1 || H > d || d%H != 0 {
		return fmt.Errorf("hidden[2]: heads %d must divide the width %d", H, d)
	}
	if n := a.ParamCount(); n > MaxParams {
		return fmt.Errorf("params: architecture has %d parameters, limit %d", n, MaxParams)
	}
	return nil
}

// transformerLayout lists the tensors in canonical order (see the top of the file).
func (a Arch) transformerLayout() []tensorShape {
	if len(a.Hidden) != 3 {
		return nil
	}
	T, L, d := int(a.Inputs), int(a.Hidden[0]), int(a.Hidden[1])
	ls := []tensorShape{{out: Vocab, in: d, bias: Vocab}, {out: T, in: d}}
	for l := 0; l < L; l++ {
		ls = append(ls,
			tensorShape{out: d, in: 1},
			tensorShape{out: 3 * d, in: d, bias: 3 * d, lora: true},
			tensorShape{out: d, in: d, bias: d, lora: true},
			tensorShape{out: d, in: 1},
			tensorShape{out: 4 * d, in: d, bias: 4 * d, lora: true},
			tensorShape{out: d, in: 4 * d, bias: d, lora: true})
	}
	return append(ls, tensorShape{out: d, in: 1})
}

// Tensor indices of block l.
func lmNorm1(l int) int { return 2 + 6*l }
func lmQKV(l int) int   { return 3 + 6*l }
func lmProj(l int) int  { return 4 + 6*l }
func lmNorm2(l int) int { return 5 + 6*l }
func lmFC1(l int) int   { return 6 + 6*l }
func lmFC2(l int) int   { return 7 + 6*l }

// transformerInit draws the initial weights (init.go's uniform draws, in
// canonical order): E ~ U(+-sqrt(3/d)), P ~ U(+-sqrt(1/d)), gains 1.0,
// Wqkv and W1 ~ U(+-sqrt(3/d)), the residual projections Wo and W2 scaled
// down by 1/sqrt(2L) (GPT-2), ~ U(+-sqrt(3/(2L in))); biases 0.
func transformerInit(rng *splitMix64, a Arch) []Layer {
	f := uint(a.FracBits)
	L := int64(a.Blocks())
	var ls []Layer
	for i, t := range a.layout() {
		ly := Layer{W: make([]int32, t.out*t.in), B: make([]int32, t.bias)}
		switch {
		case t.in == 1: // gains
			for j := range ly.W {
				ly.W[j] = int32(1) << f
			}
		case i == 0:
			fillUniform(rng, ly.W, initBound(3, int64(t.in), f))
		case i == 1:
			fillUniform(rng, ly.W, initBound(1, int64(t.in), f))
		case (i-2)%6 == 2 || (i-2)%6 == 5: // Wo, W2
			fillUniform(rng, ly.W, initBound(3, 2*L*int64(t.in), f))
		default:
			fillUniform(rng, ly.W, initBound(3, int64(t.in), f))
		}
		ls = append(ls, ly)
	}
	return ls
}

// ---------------------------------------------------------------------------
// Work counts (gas).
// ---------------------------------------------------------------------------

// lmSeqs is the number of sequences one step runs: the batch, or both
// responses of every pair for DPO.
func lmSeqs(s Spec) uint64 {
	if s.Objective == ObjectiveDPO {
		return 2 * uint64(s.BatchSize)
	}
	return uint64(s.BatchSize)
}

// lmMACs returns the multiply-accumulates of one forward pass and of one
// backward pass over seqs sequences (exactly what the gemm calls meter).
func lmMACs(s Spec, seqs uint64) (fwd, bwd uint64) {
	a := s.Arch()
	T, L, d, H := uint64(a.Context()), uint64(a.Blocks()), uint64(a.Width()), uint64(a.Heads())
	dh := d / H
	R := seqs * T
	r := uint64(s.LoRARank)
	// Projections of one block: (out, in) of Wqkv, Wo, W1, W2.
	proj := [][2]uint64{{3 * d, d}, {d, d}, {4 * d, d}, {d, 4 * d}}
	for _, p := range proj {
		out, in := p[0], p[1]
		fwd += L * R * out * in
		bwd += L * R * out * in // input gradient
		if r == 0 {
			bwd += L * R * out * in // weight gradient
		} else {
			fwd += L * R * r * (in + out)
			// B gradient, hidden gradient, A gradient, second input-gradient term
			bwd += L * R * (2*r*out + 2*r*in)
		}
	}
	// Attention per block: scores T*T*dh and A v T*T*dh per head and sequence;
	// backward dP, dV, dQ, dK.
	fwd += L * seqs * H * 2 * T * T * dh
	bwd += L * seqs * H * 4 * T * T * dh
	// Tied head: logits R*V*d; backward input gradient and (dense) E gradient.
	fwd += R * Vocab * d
	bwd += R * Vocab * d
	if r == 0 {
		bwd += R * Vocab * d
	}
	return fwd, bwd
}

// lmElementOps is the element-wise work of one forward and backward pass over
// seqs sequences that is not a MAC, weighted like ActivationsPerStep: the
// softmax of every logit row (V exps and a log per position), the attention
// score matrices, every SiLU (a sigmoid) and every RMSNorm element (the
// reciprocal square root is one per row).
//
// Attention is priced at 2 units per entry of each head's T x T score matrix
// (not per causal entry: the score and dP products fill the whole matrix,
// each entry with its rounding epilogue, and the exps, the softmax backward
// and the mask pass over it): BenchmarkRevealShapes measured one-wide heads
// over a 512-token context at 3.4x the presets' time per unit of gas when a
// causal entry counted once, and within 2x at this weight.
func lmElementOps(s Spec, seqs uint64) uint64 {
	a := s.Arch()
	T, L, d, H := uint64(a.Context()), uint64(a.Blocks()), uint64(a.Width()), uint64(a.Heads())
	R := seqs * T
	perBlock := 2*H*seqs*T*T + R*4*d + 2*R*d
	return L*perBlock + R*Vocab + R*d
}

// ---------------------------------------------------------------------------
// The network.
// ---------------------------------------------------------------------------

// tnet is a forward/backward pass of the transformer with its buffers.
type tnet struct {
	spec         Spec
	f            uint
	T, L, d, H   int
	dh           int
	layers       []Layer   // dense parameters (trained, or the frozen base for LoRA)
	ad           []Adapter // LoRA adapters on Wqkv, Wo, W1, W2 of every block; nil for dense
	rank         int
	scale        int64
	noLoRA       bool // forward the base alone (DPO reference)
	scoreDiv     int64
	dpo          bool
	grads        [][]int32
	mt           Meter
	sc           gemmScratch
	seqs, rows   int
	tok          []byte // seqs x (T+1)
	prompt       []uint32
	pairs        int
	refLP        []int64 // DPO: reference log-probabilities of the 2*pairs sequences, Q30
	c            lmCache
	ta, tb, tc   []int32
	bs           backScratch // linear backward passes
	td, te       []int32
	dx, dtmp     []int32
	dz           []int32
	scatter      []int64
	lossF        int64
	correct      uint64
	positions    uint64
	lmBlockCache []lmBlock
}

// lmBlock holds what block l's backward pass needs.
type lmBlock struct {
	xin      []int32 // residual stream entering the block (R x d)
	n1, a1   []int32 // normalised input and gained input of attention (R x d)
	r1       []int64 // reciprocal rms per row
	qkv      []int32 // R x 3d
	hq, ho   []int32 // LoRA hidden activations of Wqkv and Wo (R x r)
	p        []int32 // attention probabilities, seqs x H x T x T
	att      []int32 // concatenated head outputs (R x d)
	mid      []int32 // residual stream after attention (R x d)
	xout     []int32 // residual stream leaving the block (R x d)
	n2, a2   []int32
	r2       []int64
	u, sg, s []int32 // MLP pre-activation, sigmoid(u), silu(u) (R x 4d)
	h1, h2   []int32 // LoRA hidden activations of W1, W2
}

// lmCache holds the rest of the forward pass.
type lmCache struct {
	xf, nf, af []int32 // final residual, normalised, gained (R x d)
	rf         []int64
	logits     []int32 // R x V
	probs      []int32 // R x V, softmax of the logits
}

func newTNet(spec Spec, layers []Layer, ad []Adapter) *tnet {
	a := spec.Arch()
	n := &tnet{spec: spec, f: uint(spec.FracBits), T: a.Context(), L: a.Blocks(), d: a.Width(), H: a.Heads(),
		layers: layers, ad: ad, rank: int(spec.LoRARank), dpo: spec.Objective == ObjectiveDPO}
	n.dh = n.d / n.H
	n.scoreDiv = int64(sqrtRound(uint64(n.dh) << (2 * n.f)))
	if n.rank > 0 {
		n.scale = roundDiv(int64(spec.LoRAAlpha), int64(spec.LoRARank))
	}
	for _, sz := range trainedSizes(a, spec.LoRARank) {
		n.grads = append(n.grads, make([]int32, sz))
	}
	n.lmBlockCache = make([]lmBlock, n.L)
	return n
}

func (n *tnet) sat(x int64) int32 { return n.mt.sat(x) }

// load reads the rows of one step: idx examples (pairs for DPO).
func (n *tnet) load(src RowSource, idx []uint64) error {
	T := n.T
	n.pairs = 0
	seqs := len(idx)
	if n.dpo {
		n.pairs = len(idx)
		seqs = 2 * len(idx)
	}
	n.seqs, n.rows = seqs, seqs*T
	if cap(n.tok) < seqs*(T+1) {
		n.tok = make([]byte, seqs*(T+1))
	}
	n.tok = n.tok[:seqs*(T+1)]
	n.prompt = n.prompt[:0]
	for k, i := range idx {
		ex, err := src.Row(i)
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		if len(ex.Tokens) != T+1 {
			return fmt.Errorf("row %d: %d tokens, the context needs %d (T+1)", i, len(ex.Tokens), T+1)
		}
		copy(n.tok[k*(T+1):], ex.Tokens)
		if !n.dpo {
			continue
		}
		if len(ex.RejectedTokens) != T+1 {
			return fmt.Errorf("row %d: %d rejected tokens, want %d", i, len(ex.RejectedTokens), T+1)
		}
		if ex.PromptLen < 1 || int(ex.PromptLen) > T {
			return fmt.Errorf("row %d: prompt length %d out of range [1, %d]", i, ex.PromptLen, T)
		}
		if string(ex.Tokens[:ex.PromptLen]) != string(ex.RejectedTokens[:ex.PromptLen]) {
			return fmt.Errorf("row %d: chosen and rejected sequences do not share their prompt", i)
		}
		copy(n.tok[(n.pairs+k)*(T+1):], ex.RejectedTokens)
		n.prompt = append(n.prompt, ex.PromptLen)
	}
	n.mt.Rows += uint64(len(idx))
	return nil
}

// linear computes y = x W^T + b for tensor li, plus the LoRA term of adapter
// k (k >= 0 and adapters on) whose hidden activation x A^T goes to h.
func (n *tnet) linear(what string, li, k int, x []int32, R int, y []int32, h *[]int32) error {
	t := n.layers[li]
	out, in := len(t.B), len(t.W)/len(t.B)
	f := n.f
	if err := gemm(what, y, x, t.W, R, out, in, epilogue{shift: f, f: f, bias: t.B}, &n.mt, &n.sc); err != nil {
		return err
	}
	if n.ad == nil || n.noLoRA || k < 0 {
		return nil
	}
	ad := n.ad[k]
	*h = grow(*h, R*n.rank)
	sh := epilogue{shift: f, f: f}
	if err := gemm(what+" lora A", *h, x, ad.A, R, n.rank, in, sh, &n.mt, &n.sc); err != nil {
		return err
	}
	n.ta = grow(n.ta, R*out)
	if err := gemm(what+" lora B", n.ta, *h, ad.B, R, out, n.rank, sh, &n.mt, &n.sc); err != nil {
		return err
	}
	for i, u := range n.ta {
		y[i] = n.sat(int64(y[i]) + roundShift(n.scale*int64(u), f))
	}
	return nil
}

// linearBack takes dy (R x out) of tensor li (adapter k) with its input x
// and LoRA hidden h, accumulates the trained tensors' gradients divided by
// N, and writes dx (R x in) unless dx is nil.
func (n *tnet) linearBack(what string, li, k int, x, h, dy []int32, R int, N int64, dx []int32) error {
	t := n.layers[li]
	g := linearGrad{what: what, W: t.W, out: len(t.B), in: len(t.W) / len(t.B)}
	if n.ad == nil {
		g.g0, g.g1 = n.grads[2*li], n.grads[2*li+1]
	} else {
		g.ad, g.rank, g.scale = &n.ad[k], n.rank, n.scale
		g.g0, g.g1 = n.grads[2*k], n.grads[2*k+1]
	}
	return g.back(&n.bs, &n.mt, &n.sc, n.f, x, h, dy, R, N, dx)
}

// rmsForward normalises every row of x (R x d) and applies the gains g:
// nrm = x * r, y = nrm * g, r the reciprocal rms of the row.
func (n *tnet) rmsForward(x, g []int32, R int, nrm, y []int32, r []int64) error {
	d, f := n.d, n.f
	if err := checkDotBound("rmsnorm", maxAbs32(x), maxAbs32(x), d, 0); err != nil {
		return err
	}
	eps := int64(1) << (2*f - rmsEpsFracBits)
	for i := 0; i < R; i++ {
		row := x[i*d : (i+1)*d]
		var ss int64
		for _, v := range row {
			ss += int64(v) * int64(v)
		}
		m := roundDiv(ss, int64(d)) + eps
		ri := roundDiv(int64(1)<<(2*f), int64(sqrtRound(uint64(m))))
		r[i] = ri
		for j, v := range row {
			nv := n.sat(roundShift(int64(v)*ri, f))
			nrm[i*d+j] = nv
			y[i*d+j] = n.sat(roundShift(int64(nv)*int64(g[j]), f))
		}
	}
	return nil
}

// rmsBack turns dy into dx (R x d) and, when training the gains, adds the
// gain gradient (divided by N) to gg:
//
//	dn = dy g, c = sum_i dn_i n_i / d, dx = r (dn - n c), dg = sum_rows dy n / N.
func (n *tnet) rmsBack(dy, g, nrm []int32, r []int64, R int, N int64, gg []int32, dx []int32) error {
	d, f := n.d, n.f
	if gg != nil {
		if err := checkDotBound("rmsnorm gain gradient", maxAbs32(dy), maxAbs32(nrm), R, 0); err != nil {
			return err
		}
		for j := 0; j < d; j++ {
			var s int64
			for i := 0; i < R; i++ {
				s += int64(dy[i*d+j]) * int64(nrm[i*d+j])
			}
			gg[j] = n.sat(roundDiv(s, N<<f))
		}
	}
	n.tc = grow(n.tc, d)
	dn := n.tc
	for i := 0; i < R; i++ {
		for j := 0; j < d; j++ {
			dn[j] = n.sat(roundShift(int64(dy[i*d+j])*int64(g[j]), f))
		}
		row := nrm[i*d : (i+1)*d]
		if err := checkDotBound("rmsnorm backward", maxAbs32(dn), maxAbs32(row), d, 0); err != nil {
			return err
		}
		var s int64
		for j, v := range row {
			s += int64(dn[j]) * int64(v)
		}
		c := int64(n.sat(roundDiv(s, int64(d)<<f)))
		for j, v := range row {
			t := n.sat(int64(dn[j]) - roundShift(int64(v)*c, f))
			dx[i*d+j] = n.sat(roundShift(r[i]*int64(t), f))
		}
	}
	return nil
}

// sigmoidF returns sigmoid(u) with f fractional bits (u clamped to +-64).
func sigmoidF(u int64, f uint) int64 { return fromQ(sigmoidQ(toQ(clampQ(u, f), f)), f) }

// forward runs the network on the loaded sequences, keeping what the
// backward pass needs, and leaves the logits' softmax in c.probs.
func (n *tnet) forward() error {
	T, d, R, f := n.T, n.d, n.rows, n.f
	E, P := n.layers[0], n.layers[1]
	x := grow(n.lmBlockCache[0].xin, R*d)
	n.lmBlockCache[0].xin = x
	for s := 0; s < n.seqs; s++ {
		for t := 0; t < T; t++ {
			e := E.W[int(n.tok[s*(T+1)+t])*d:][:d]
			p := P.W[t*d:][:d]
			row := x[(s*T+t)*d:][:d]
			for j := range row {
				row[j] = n.sat(int64(e[j]) + int64(p[j]))
			}
		}
	}
	for l := 0; l < n.L; l++ {
		b := &n.lmBlockCache[l]
		if l > 0 {
			b.xin = grow(b.xin, R*d)
			copy(b.xin, n.lmBlockCache[l-1].xout)
		}
		if err := n.blockForward(l, b); err != nil {
			return fmt.Errorf("block %d: %w", l, err)
		}
	}
	c := &n.c
	last := n.lmBlockCache[n.L-1].xout
	c.nf, c.af = grow(c.nf, R*d), grow(c.af, R*d)
	if cap(c.rf) < R {
		c.rf = make([]int64, R)
	}
	c.rf = c.rf[:R]
	if err := n.rmsForward(last, n.layers[2+6*n.L].W, R, c.nf, c.af, c.rf); err != nil {
		return fmt.Errorf("final norm: %w", err)
	}
	c.logits = grow(c.logits, R*Vocab)
	if err := gemm("head", c.logits, c.af, E.W, R, Vocab, d, epilogue{shift: f, f: f, bias: E.B}, &n.mt, &n.sc); err != nil {
		return fmt.Errorf("head: %w", err)
	}
	return nil
}

func grow64(b []int64, n int) []int64 {
	if cap(b) < n {
		return make([]int64, n)
	}
	return b[:n]
}

// blockForward runs block l on b.xin.
func (n *tnet) blockForward(l int, b *lmBlock) error {
	R, d, f := n.rows, n.d, n.f
	b.n1, b.a1, b.r1 = grow(b.n1, R*d), grow(b.a1, R*d), grow64(b.r1, R)
	if err := n.rmsForward(b.xin, n.layers[lmNorm1(l)].W, R, b.n1, b.a1, b.r1); err != nil {
		return fmt.Errorf("norm 1: %w", err)
	}
	b.qkv = grow(b.qkv, R*3*d)
	if err := n.linear("attention qkv", lmQKV(l), 4*l, b.a1, R, b.qkv, &b.hq); err != nil {
		return err
	}
	if err := n.attentionForward(b); err != nil {
		return err
	}
	b.mid = grow(b.mid, R*d)
	if err := n.linear("attention output", lmProj(l), 4*l+1, b.att, R, b.mid, &b.ho); err != nil {
		return err
	}
	for i, v := range b.xin {
		b.mid[i] = n.sat(int64(b.mid[i]) + int64(v))
	}
	b.n2, b.a2, b.r2 = grow(b.n2, R*d), grow(b.a2, R*d), grow64(b.r2, R)
	if err := n.rmsForward(b.mid, n.layers[lmNorm2(l)].W, R, b.n2, b.a2, b.r2); err != nil {
		return fmt.Errorf("norm 2: %w", err)
	}
	b.u, b.sg, b.s = grow(b.u, R*4*d), grow(b.sg, R*4*d), grow(b.s, R*4*d)
	if err := n.linear("mlp up", lmFC1(l), 4*l+2, b.a2, R, b.u, &b.h1); err != nil {
		return err
	}
	for i, u := range b.u {
		sg := sigmoidF(int64(u), f)
		b.sg[i] = int32(sg)
		b.s[i] = n.sat(roundShift(int64(u)*sg, f))
	}
	b.xout = grow(b.xout, R*d)
	if err := n.linear("mlp down", lmFC2(l), 4*l+3, b.s, R, b.xout, &b.h2); err != nil {
		return err
	}
	for i, v := range b.mid {
		b.xout[i] = n.sat(int64(b.xout[i]) + int64(v))
	}
	return nil
}

// gatherHead copies head h of part (0 q, 1 k, 2 v) of sequence s from qkv
// into dst (T x dh), or its transpose (dh x T) when trans.
func (n *tnet) gatherHead(dst, qkv []int32, s, h, part int, trans bool) {
	T, d, dh := n.T, n.d, n.dh
	for t := 0; t < T; t++ {
		src := qkv[(s*T+t)*3*d+part*d+h*dh:][:dh]
		if trans {
			for j, v := range src {
				dst[j*T+t] = v
			}
		} else {
			copy(dst[t*dh:(t+1)*dh], src)
		}
	}
}

// attentionForward computes the causal attention of every sequence and head
// from b.qkv into b.att, keeping the probabilities in b.p.
func (n *tnet) attentionForward(b *lmBlock) error {
	T, d, dh, H, f := n.T, n.d, n.dh, n.H, n.f
	b.p = grow(b.p, n.seqs*H*T*T)
	b.att = grow(b.att, n.rows*d)
	q, k, vt := grow(n.ta, T*dh), grow(n.tb, T*dh), grow(n.tc, dh*T)
	o := grow(n.td, T*dh)
	n.ta, n.tb, n.tc, n.td = q, k, vt, o
	n.te = grow(n.te, T*T)
	scores := n.te
	se := epilogue{div: n.scoreDiv, f: f}
	sh := epilogue{shift: f, f: f}
	for s := 0; s < n.seqs; s++ {
		for h := 0; h < H; h++ {
			n.gatherHead(q, b.qkv, s, h, 0, false)
			n.gatherHead(k, b.qkv, s, h, 1, false)
			n.gatherHead(vt, b.qkv, s, h, 2, true)
			if err := gemm("attention scores", scores, q, k, T, T, dh, se, &n.mt, &n.sc); err != nil {
				return err
			}
			p := b.p[(s*H+h)*T*T:][:T*T]
			for i := 0; i < T; i++ {
				row := p[i*T : (i+1)*T]
				softmaxRow(scores[i*T:i*T+i+1], f, row)
				for j := i + 1; j < T; j++ {
					row[j] = 0
				}
			}
			if err := gemm("attention values", o, p, vt, T, dh, T, sh, &n.mt, &n.sc); err != nil {
				return err
			}
			for t := 0; t < T; t++ {
				copy(b.att[(s*T+t)*d+h*dh:][:dh], o[t*dh:(t+1)*dh])
			}
		}
	}
	return nil
}

// attentionBack turns the gradient of b.att (datt, R x d) into the gradient
// of b.qkv (dqkv, R x 3d).
func (n *tnet) attentionBack(b *lmBlock, datt, dqkv []int32) error {
	T, d, dh, H, f := n.T, n.d, n.dh, n.H, n.f
	sz := T * T
	buf := grow(n.dtmp, 6*T*dh+3*sz)
	n.dtmp = buf
	do, dot, v := buf[0:T*dh], buf[T*dh:2*T*dh], buf[2*T*dh:3*T*dh]
	kt, qt, g := buf[3*T*dh:4*T*dh], buf[4*T*dh:5*T*dh], buf[5*T*dh:6*T*dh]
	dp, pt, ds := buf[6*T*dh:6*T*dh+sz], buf[6*T*dh+sz:6*T*dh+2*sz], buf[6*T*dh+2*sz:6*T*dh+3*sz]
	sh := epilogue{shift: f, f: f}
	se := epilogue{div: n.scoreDiv, f: f}
	for s := 0; s < n.seqs; s++ {
		for h := 0; h < H; h++ {
			p := b.p[(s*H+h)*sz:][:sz]
			for t := 0; t < T; t++ {
				copy(do[t*dh:(t+1)*dh], datt[(s*T+t)*d+h*dh:][:dh])
			}
			n.gatherHead(v, b.qkv, s, h, 2, false)
			// dP = dO V^T
			if err := gemm("attention probability gradient", dp, do, v, T, T, dh, sh, &n.mt, &n.sc); err != nil {
				return err
			}
			// dV = P^T dO
			transpose(pt, p, T, T)
			transpose(dot, do, T, dh)
			if err := gemm("attention value gradient", g, pt, dot, T, dh, T, sh, &n.mt, &n.sc); err != nil {
				return err
			}
			n.scatterHead(dqkv, g, s, h, 2)
			// dS = P (dP - sum_j P dP), row by row (zero where masked).
			for i := 0; i < T; i++ {
				pr, dr, sr := p[i*T:(i+1)*T], dp[i*T:(i+1)*T], ds[i*T:(i+1)*T]
				var dotp int64
				for j := 0; j <= i; j++ {
					dotp += int64(pr[j]) * int64(dr[j])
				}
				c := roundShift(dotp, f)
				for j := range sr {
					if j > i {
						sr[j] = 0
						continue
					}
					sr[j] = n.sat(roundShift(int64(pr[j])*(int64(dr[j])-c), f))
				}
			}
			// dQ = dS K / sqrt(dh), dK = dS^T Q / sqrt(dh)
			n.gatherHead(kt, b.qkv, s, h, 1, true)
			if err := gemm("attention query gradient", g, ds, kt, T, dh, T, se, &n.mt, &n.sc); err != nil {
				return err
			}
			n.scatterHead(dqkv, g, s, h, 0)
			transpose(pt, ds, T, T)
			n.gatherHead(qt, b.qkv, s, h, 0, true)
			if err := gemm("attention key gradient", g, pt, qt, T, dh, T, se, &n.mt, &n.sc); err != nil {
				return err
			}
			n.scatterHead(dqkv, g, s, h, 1)
		}
	}
	return nil
}

// scatterHead writes g (T x dh) into head h of part of sequence s of dqkv.
func (n *tnet) scatterHead(dqkv, g []int32, s, h, part int) {
	T, d, dh := n.T, n.d, n.dh
	for t := 0; t < T; t++ {
		copy(dqkv[(s*T+t)*3*d+part*d+h*dh:][:dh], g[t*dh:(t+1)*dh])
	}
}

// seqLogProbs returns, for every sequence, the sum of log softmax(z_t)[s_t+1]
// over positions from-1..T-1 (Q30), filling c.probs with the softmax of
// every logit row. from is 1 for next token (every position) and the prompt
// length for DPO.
func (n *tnet) logProbs(lp []int64) {
	T, f := n.T, n.f
	c := &n.c
	c.probs = grow(c.probs, n.rows*Vocab)
	n.lossF, n.correct, n.positions = 0, 0, 0
	for s := 0; s < n.seqs; s++ {
		from := 1
		if n.dpo {
			from = int(n.prompt[s%n.pairs])
		}
		var sum int64
		for t := 0; t < T; t++ {
			r := s*T + t
			z, p := c.logits[r*Vocab:(r+1)*Vocab], c.probs[r*Vocab:(r+1)*Vocab]
			logSum, zmax := softmaxRow(z, f, p)
			tgt := n.tok[s*(T+1)+t+1]
			lpq := toQ(int64(z[tgt])-int64(zmax), f) - logSum
			if t >= from-1 {
				sum += lpq
			}
			if !n.dpo {
				n.lossF = satAdd(n.lossF, fromQ(-lpq, f))
				n.positions++
				if argmax(z) == int(tgt) {
					n.correct++
				}
			}
		}
		if lp != nil {
			lp[s] = sum
		}
	}
}

// lossGrad computes the loss (sum over positions for next token, over pairs
// for DPO, F bits) and the gradient of the summed loss w.r.t. the logits
// into n.dz (not yet divided by N); correct counts top-1 next-byte hits or
// pairs whose implicit reward prefers the chosen response.
func (n *tnet) lossGrad() (int64, uint64) {
	T, f := n.T, n.f
	c := &n.c
	n.dz = grow(n.dz, n.rows*Vocab)
	if !n.dpo {
		n.logProbs(nil)
		for r := 0; r < n.rows; r++ {
			s, t := r/T, r%T
			tgt := n.tok[s*(T+1)+t+1]
			dz, p := n.dz[r*Vocab:(r+1)*Vocab], c.probs[r*Vocab:(r+1)*Vocab]
			copy(dz, p)
			dz[tgt] -= int32(1) << f
		}
		return n.lossF, n.correct
	}
	lp := make([]int64, n.seqs)
	n.logProbs(lp)
	beta := int64(n.spec.DPOBeta)
	lim := int64(64) << qBits
	clamp := func(x int64) int64 { return max(-lim, min(lim, x)) }
	for i := range n.dz {
		n.dz[i] = 0
	}
	for k := 0; k < n.pairs; k++ {
		delta := clamp(clamp(lp[k]-n.refLP[k]) - clamp(lp[n.pairs+k]-n.refLP[n.pairs+k]))
		zq := clamp(roundShift(delta*beta, f)) // beta * delta, Q30
		n.lossF = satAdd(n.lossF, fromQ(softplusQ(-zq), f))
		if zq > 0 {
			n.correct++
		}
		coef := roundShift(fromQ(sigmoidQ(-zq), f)*beta, f) // beta * sigmoid(-z), F bits
		from := int(n.prompt[k])
		for side, sign := range []int64{coef, -coef} {
			s := k + side*n.pairs
			for t := from - 1; t < T; t++ {
				r := s*T + t
				tgt := n.tok[s*(T+1)+t+1]
				dz, p := n.dz[r*Vocab:(r+1)*Vocab], c.probs[r*Vocab:(r+1)*Vocab]
				for j, pv := range p {
					g := int64(pv)
					if j == int(tgt) {
						g -= int64(1) << f
					}
					dz[j] = n.sat(roundShift(sign*g, f))
				}
			}
		}
	}
	return n.lossF, n.correct
}

// referenceLogProbs runs the frozen base (adapters off) on the loaded pairs
// and keeps the log-probabilities of their responses (DPO).
func (n *tnet) referenceLogProbs() error {
	n.noLoRA = true
	defer func() { n.noLoRA = false }()
	if err := n.forward(); err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	n.refLP = grow64(n.refLP, n.seqs)
	n.logProbs(n.refLP)
	return nil
}

// normaliser is N, the divisor of every gradient: tokens for next token,
// pairs for DPO.
func (n *tnet) normaliser() int64 {
	if n.dpo {
		return int64(n.pairs)
	}
	return int64(n.rows)
}

// backward turns n.dz into the gradients of every trained tensor.
func (n *tnet) backward() error {
	R, d, T, f := n.rows, n.d, n.T, n.f
	N := n.normaliser()
	dense := n.ad == nil
	c := &n.c
	E := n.layers[0]
	sh := epilogue{shift: f, f: f}
	// Tied head: dE (head part) = dz^T af / N, dc = sum dz / N, daf = dz E.
	if dense {
		n.ta = grow(n.ta, Vocab*R)
		n.tb = grow(n.tb, d*R)
		transpose(n.ta, n.dz, R, Vocab)
		transpose(n.tb, c.af, R, d)
		if err := gemm("head weight gradient", n.grads[0], n.ta, n.tb, Vocab, d, R, divEpilogue(f, N), &n.mt, &n.sc); err != nil {
			return err
		}
		for j := 0; j < Vocab; j++ {
			var s int64
			for _, v := range n.ta[j*R : (j+1)*R] {
				s += int64(v)
			}
			n.grads[1][j] = n.sat(roundDiv(s, N))
		}
	}
	n.ta = grow(n.ta, d*Vocab)
	transpose(n.ta, E.W, Vocab, d)
	daf := grow(n.dx, R*d)
	n.dx = daf
	if err := gemm("head input gradient", daf, n.dz, n.ta, R, d, Vocab, sh, &n.mt, &n.sc); err != nil {
		return err
	}
	var gg []int32
	if dense {
		gg = n.grads[2*(2+6*n.L)]
	}
	dx := make([]int32, R*d)
	if err := n.rmsBack(daf, n.layers[2+6*n.L].W, c.nf, c.rf, R, N, gg, dx); err != nil {
		return fmt.Errorf("final norm: %w", err)
	}
	for l := n.L - 1; l >= 0; l-- {
		if err := n.blockBack(l, dx); err != nil {
			return fmt.Errorf("block %d: %w", l, err)
		}
	}
	if !dense {
		return nil
	}
	// Embeddings: dE[token] += dx, dP[t] += dx, summed exactly, divided by N.
	n.scatter = grow64(n.scatter, Vocab*d)
	for i := range n.scatter {
		n.scatter[i] = 0
	}
	pos := grow64(nil, T*d)
	for s := 0; s < n.seqs; s++ {
		for t := 0; t < T; t++ {
			row := dx[(s*T+t)*d:][:d]
			e := n.scatter[int(n.tok[s*(T+1)+t])*d:][:d]
			p := pos[t*d:][:d]
			for j, v := range row {
				e[j] += int64(v)
				p[j] += int64(v)
			}
		}
	}
	gE, gP := n.grads[0], n.grads[2]
	for i, v := range n.scatter {
		if v != 0 {
			gE[i] = n.sat(int64(gE[i]) + roundDiv(v, N))
		}
	}
	for i, v := range pos {
		gP[i] = n.sat(roundDiv(v, N))
	}
	return nil
}

// blockBack takes dx, the gradient of the block's output, and replaces it by
// the gradient of its input, accumulating the block's parameter gradients.
func (n *tnet) blockBack(l int, dx []int32) error {
	R, d, f := n.rows, n.d, n.f
	N := n.normaliser()
	b := &n.lmBlockCache[l]
	dense := n.ad == nil
	gain := func(li int) []int32 {
		if dense {
			return n.grads[2*li]
		}
		return nil
	}
	// MLP branch: ds = dx W2, du = ds * silu'(u), da2 = du W1.
	ds := make([]int32, R*4*d)
	if err := n.linearBack("mlp down", lmFC2(l), 4*l+3, b.s, b.h2, dx, R, N, ds); err != nil {
		return err
	}
	one := int64(1) << f
	for i, g := range ds {
		sg, u := int64(b.sg[i]), int64(b.u[i])
		deriv := sg + roundShift(u*roundShift(sg*(one-sg), f), f)
		ds[i] = n.sat(roundShift(int64(g)*int64(n.sat(deriv)), f))
	}
	da := make([]int32, R*d)
	if err := n.linearBack("mlp up", lmFC1(l), 4*l+2, b.a2, b.h1, ds, R, N, da); err != nil {
		return err
	}
	dmid := make([]int32, R*d)
	if err := n.rmsBack(da, n.layers[lmNorm2(l)].W, b.n2, b.r2, R, N, gain(lmNorm2(l)), dmid); err != nil {
		return fmt.Errorf("norm 2: %w", err)
	}
	for i, v := range dx {
		dmid[i] = n.sat(int64(dmid[i]) + int64(v))
	}
	// Attention branch.
	datt := make([]int32, R*d)
	if err := n.linearBack("attention output", lmProj(l), 4*l+1, b.att, b.ho, dmid, R, N, datt); err != nil {
		return err
	}
	dqkv := make([]int32, R*3*d)
	if err := n.attentionBack(b, datt, dqkv); err != nil {
		return err
	}
	if err := n.linearBack("attention qkv", lmQKV(l), 4*l, b.a1, b.hq, dqkv, R, N, da); err != nil {
		return err
	}
	if err := n.rmsBack(da, n.layers[lmNorm1(l)].W, b.n1, b.r1, R, N, gain(lmNorm1(l)), dx); err != nil {
		return fmt.Errorf("norm 1: %w", err)
	}
	for i, v := range dmid {
		dx[i] = n.sat(int64(dx[i]) + int64(v))
	}
	return nil
}

var errNotLM = errors.New("engine: not a transformer model")
