package reference

// A float64 reference of the engine's byte-level transformer language model
// (engine.ModelTransformer, pkg/engine/transformer.go), with the same
// parameter layout, losses (next token, DPO), LoRA adapters, batches and
// optimiser formulas as the fixed-point engine. Every function is the exact
// real one (exp, log, sqrt); only float64 rounding differs from the maths.
//
//	x_t   = E[s_t] + P[t]                                 t = 0..T-1
//	block: a = rms(x) * g1
//	       q, k, v = split(a Wqkv^T + bqkv)              head h: dims h*dh..(h+1)*dh-1
//	       A = softmax_j<=i(q_i . k_j / sqrt(dh))        causal
//	       x = x + concat_h(A v) Wo^T + bo
//	       a = rms(x) * g2
//	       x = x + silu(a W1^T + b1) W2^T + b2
//	z_t   = (rms(x_t) * gf) E^T + c                      tied head
//
// rms(x) = x / sqrt(mean(x^2) + 2^-16), silu(u) = u*sigmoid(u). With LoRA
// the four projections of every block use W + scale * B A.
//
// All activations of a batch are stacked as (sequences*T) x width matrices
// (row s*T+t is position t of sequence s), so every projection is one gonum
// matrix product; attention is computed per sequence and head.

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Layer indices of the canonical transformer layout (engine.Model.Layers).
const (
	tfEmbed = 0 // token embedding E (V x d), B = logit bias c (V)
	tfPos   = 1 // position embedding P (T x d), no bias

	// Offsets inside block l, whose layers start at 2+6l.
	tfG1   = 0 // norm 1 gains (d x 1)
	tfWqkv = 1 // 3d x d, bias 3d
	tfWo   = 2 // d x d, bias d
	tfG2   = 3 // norm 2 gains (d x 1)
	tfW1   = 4 // 4d x d, bias 4d
	tfW2   = 5 // d x 4d, bias d

	tfVocab = 256
	rmsEps  = 1.0 / 65536 // 2^-16
)

// tfProjections are the block layers that carry LoRA adapters, in adapter order.
var tfProjections = [4]int{tfWqkv, tfWo, tfW1, tfW2}

// TransformerTrainer holds the float64 parameters and optimiser state of a
// transformer task.
type TransformerTrainer struct {
	Spec engine.Spec
	Step uint64

	seqLen, width, heads, blocks int // T, d, H, L

	// layers holds W0, B0, W1, B1, ... of the model (2 tensors per engine
	// Layer, empty biases included): the trained tensors for dense training,
	// the frozen base for LoRA.
	layers [][]float64
	// adapters holds A0, B0, A1, B1, ... of the LoRA adapters (the trained
	// tensors), adapter 4l+p on projection tfProjections[p] of block l; nil
	// for dense training.
	adapters [][]float64
	rank     int
	scale    float64 // LoRA alpha/rank
	beta     float64 // DPO beta

	vel, m, v [][]float64
}

// layerShape returns (out, in, bias length) of engine layer i.
func (t *TransformerTrainer) layerShape(i int) (out, in, bias int) {
	d := t.width
	switch {
	case i == tfEmbed:
		return tfVocab, d, tfVocab
	case i == tfPos:
		return t.seqLen, d, 0
	case i == 2+6*t.blocks:
		return d, 1, 0
	}
	switch (i - 2) % 6 {
	case tfG1, tfG2:
		return d, 1, 0
	case tfWqkv:
		return 3 * d, d, 3 * d
	case tfWo:
		return d, d, d
	case tfW1:
		return 4 * d, d, 4 * d
	default: // tfW2
		return d, 4 * d, d
	}
}

// numLayers returns the number of engine layers, 3 + 6L.
func (t *TransformerTrainer) numLayers() int { return 3 + 6*t.blocks }

// blockLayer returns the engine layer index of offset k in block l.
func blockLayer(l, k int) int { return 2 + 6*l + k }

// newTransformer checks the architecture part of spec and returns a trainer
// without parameters.
func newTransformer(s engine.Spec) (*TransformerTrainer, error) {
	if s.Model != engine.ModelTransformer {
		return nil, fmt.Errorf("reference: model kind %d is not a transformer", s.Model)
	}
	if len(s.Hidden) != 3 {
		return nil, fmt.Errorf("reference: transformer hidden must be [blocks, width, heads], got %v", s.Hidden)
	}
	t := &TransformerTrainer{Spec: s, seqLen: int(s.Inputs), blocks: int(s.Hidden[0]),
		width: int(s.Hidden[1]), heads: int(s.Hidden[2]), rank: int(s.LoRARank)}
	if t.seqLen < 1 || t.blocks < 1 || t.heads < 1 || t.width < 1 || t.width%t.heads != 0 {
		return nil, fmt.Errorf("reference: bad transformer shape T=%d %v", s.Inputs, s.Hidden)
	}
	if s.Outputs != tfVocab {
		return nil, fmt.Errorf("reference: transformer vocabulary must be %d, got %d", tfVocab, s.Outputs)
	}
	switch s.Objective {
	case engine.ObjectiveNextToken:
	case engine.ObjectiveDPO:
		if !s.IsLoRA() {
			return nil, errors.New("reference: DPO needs LoRA adapters on a frozen base")
		}
	default:
		return nil, fmt.Errorf("reference: objective %d is not a transformer objective", s.Objective)
	}
	f := s.FracBits
	if s.IsLoRA() {
		// The engine's rounded scale round(alpha_raw / r) (as the MLP reference).
		r := int64(s.LoRARank)
		t.scale = fx((int64(s.LoRAAlpha)+r/2)/r, f)
	}
	t.beta = fx(int64(s.DPOBeta), f)
	return t, nil
}

// setLayers converts and checks the engine layers of the model.
func (t *TransformerTrainer) setLayers(ls []engine.Layer) error {
	if len(ls) != t.numLayers() {
		return fmt.Errorf("reference: %d layers, a transformer of %d blocks has %d", len(ls), t.blocks, t.numLayers())
	}
	f := t.Spec.FracBits
	t.layers = nil
	for i, l := range ls {
		out, in, nb := t.layerShape(i)
		if len(l.W) != out*in || len(l.B) != nb {
			return fmt.Errorf("reference: layer %d: W %d B %d, want %d and %d", i, len(l.W), len(l.B), out*in, nb)
		}
		t.layers = append(t.layers, toFloat(l.W, f), toFloat(l.B, f))
	}
	return nil
}

// setAdapters converts and checks the LoRA adapters.
func (t *TransformerTrainer) setAdapters(ad []engine.Adapter) error {
	if len(ad) != 4*t.blocks {
		return fmt.Errorf("reference: %d adapters, want %d", len(ad), 4*t.blocks)
	}
	f := t.Spec.FracBits
	t.adapters = nil
	for i, a := range ad {
		out, in, _ := t.layerShape(blockLayer(i/4, tfProjections[i%4]))
		if len(a.A) != t.rank*in || len(a.B) != out*t.rank {
			return fmt.Errorf("reference: adapter %d: A %d B %d, want %d and %d", i, len(a.A), len(a.B), t.rank*in, out*t.rank)
		}
		t.adapters = append(t.adapters, toFloat(a.A, f), toFloat(a.B, f))
	}
	return nil
}

// initOpt allocates zero optimiser state for the trained tensors.
func (t *TransformerTrainer) initOpt() {
	t.vel, t.m, t.v = nil, nil, nil
	for _, p := range t.Params() {
		switch {
		case t.Spec.Optimizer == engine.OptimizerAdam:
			t.m = append(t.m, make([]float64, len(p)))
			t.v = append(t.v, make([]float64, len(p)))
		case t.Spec.Momentum > 0:
			t.vel = append(t.vel, make([]float64, len(p)))
		}
	}
}

// TransformerFromState builds a trainer whose parameters equal the
// fixed-point state's: st.Layers for dense training, or job.Base (frozen)
// plus st.LoRA.Adapters for LoRA. The optimiser state starts at zero and the
// step counter at st.Step. It checks shapes itself and does not call
// job.Validate.
func TransformerFromState(job engine.Job, st *engine.State) (*TransformerTrainer, error) {
	t, err := newTransformer(job.Spec)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, errors.New("reference: nil state")
	}
	t.Step = st.Step
	if job.Spec.IsLoRA() {
		if job.Base == nil || st.LoRA == nil {
			return nil, errors.New("reference: a LoRA spec needs job.Base and a LoRA state")
		}
		if err := t.setLayers(job.Base.Layers); err != nil {
			return nil, err
		}
		if err := t.setAdapters(st.LoRA.Adapters); err != nil {
			return nil, err
		}
	} else {
		if st.LoRA != nil {
			return nil, errors.New("reference: LoRA state for a dense spec")
		}
		if err := t.setLayers(st.Layers); err != nil {
			return nil, err
		}
	}
	t.initOpt()
	return t, nil
}

// Params returns the trained tensors in the engine's canonical order: W0,
// B0, W1, B1, ... (empty biases included) for dense training, A0, B0, A1,
// B1, ... for LoRA. They alias the trainer's parameters.
func (t *TransformerTrainer) Params() [][]float64 {
	if t.adapters != nil {
		return t.adapters
	}
	return t.layers
}

// SetParam sets element j of trained tensor k (for finite differences).
func (t *TransformerTrainer) SetParam(k, j int, v float64) { t.Params()[k][j] = v }

// ---------------------------------------------------------------------------
// Batches.
// ---------------------------------------------------------------------------

// tfBatch holds the token rows of a batch.
type tfBatch struct {
	chosen   [][]byte // T+1 tokens each (the next-token rows, or DPO's chosen)
	rejected [][]byte // DPO: T+1 tokens each
	prompt   []int    // DPO: PromptLen of each pair
}

func (t *TransformerTrainer) load(rows engine.RowSource, idx []uint64) (*tfBatch, error) {
	if rows == nil {
		return nil, errors.New("reference: nil row source")
	}
	if len(idx) == 0 {
		return nil, errors.New("reference: empty batch")
	}
	dpo := t.Spec.Objective == engine.ObjectiveDPO
	b := &tfBatch{}
	for _, i := range idx {
		ex, err := rows.Row(i)
		if err != nil {
			return nil, err
		}
		if len(ex.Tokens) != t.seqLen+1 {
			return nil, fmt.Errorf("reference: row %d has %d tokens, want %d", i, len(ex.Tokens), t.seqLen+1)
		}
		b.chosen = append(b.chosen, ex.Tokens)
		if dpo {
			if len(ex.RejectedTokens) != t.seqLen+1 {
				return nil, fmt.Errorf("reference: row %d has %d rejected tokens, want %d", i, len(ex.RejectedTokens), t.seqLen+1)
			}
			if ex.PromptLen < 1 || int(ex.PromptLen) > t.seqLen {
				return nil, fmt.Errorf("reference: row %d: prompt length %d out of range [1, %d]", i, ex.PromptLen, t.seqLen)
			}
			b.rejected = append(b.rejected, ex.RejectedTokens)
			b.prompt = append(b.prompt, int(ex.PromptLen))
		}
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// Building blocks: projections, RMSNorm.
// ---------------------------------------------------------------------------

// proj is one affine projection y = x W^T + b (+ scale * (x A^T) B^T with LoRA).
type proj struct {
	layer   int        // engine layer index
	w       *mat.Dense // out x in
	b       []float64  // out, or empty
	a, bm   *mat.Dense // LoRA: A (r x in), B (out x r); nil otherwise
	adapt   int        // LoRA: adapter index, -1 otherwise
	scale   float64
	in, out int
}

// projection returns projection k (tfWqkv, tfWo, tfW1 or tfW2) of block l,
// with its adapter when lora is set and the trainer has adapters.
func (t *TransformerTrainer) projection(l, k int, lora bool) proj {
	i := blockLayer(l, k)
	out, in, _ := t.layerShape(i)
	p := proj{layer: i, w: mat.NewDense(out, in, t.layers[2*i]), b: t.layers[2*i+1], adapt: -1,
		scale: t.scale, in: in, out: out}
	if lora && t.adapters != nil {
		for n, kk := range tfProjections {
			if kk == k {
				p.adapt = 4*l + n
			}
		}
		p.a = mat.NewDense(t.rank, in, t.adapters[2*p.adapt])
		p.bm = mat.NewDense(out, t.rank, t.adapters[2*p.adapt+1])
	}
	return p
}

// forward returns y (rows x out) and, with LoRA, h = x A^T (rows x r).
func (p proj) forward(x *mat.Dense) (y, h *mat.Dense) {
	rows, _ := x.Dims()
	y = mat.NewDense(rows, p.out, nil)
	y.Mul(x, p.w.T())
	if p.a != nil {
		h = mat.NewDense(rows, p.a.RawMatrix().Rows, nil)
		h.Mul(x, p.a.T())
		var u mat.Dense
		u.Mul(h, p.bm.T())
		u.Scale(p.scale, &u)
		y.Add(y, &u)
	}
	addBias(y, p.b)
	return y, h
}

// backward takes dy (rows x out), accumulates the gradients of the trained
// tensors of the projection into g (canonical order; for dense training the
// W and B of the layer, for LoRA the adapter's A and B) and returns dx.
// frozen marks LoRA training, where W and b get no gradient.
func (p proj) backward(x, h, dy *mat.Dense, g [][]float64, frozen bool) *mat.Dense {
	rows, _ := x.Dims()
	dx := mat.NewDense(rows, p.in, nil)
	dx.Mul(dy, p.w)
	if p.a == nil {
		if !frozen { // dense: dW = dy^T x, db = column sums of dy
			addProduct(g[2*p.layer], p.out, p.in, dy.T(), x, 1)
			addColSums(g[2*p.layer+1], dy, 1)
		}
		return dx
	}
	// LoRA: y += scale * h B^T, h = x A^T.
	addProduct(g[2*p.adapt+1], p.out, p.a.RawMatrix().Rows, dy.T(), h, p.scale) // dB = scale dy^T h
	var dh mat.Dense
	dh.Mul(dy, p.bm)
	dh.Scale(p.scale, &dh)                                             // dh = scale dy B
	addProduct(g[2*p.adapt], p.a.RawMatrix().Rows, p.in, dh.T(), x, 1) // dA = dh^T x
	var e mat.Dense
	e.Mul(&dh, p.a)
	dx.Add(dx, &e)
	return dx
}

// addBias adds b to every row of y (nothing for an empty bias).
func addBias(y *mat.Dense, b []float64) {
	if len(b) == 0 {
		return
	}
	rows, _ := y.Dims()
	for i := 0; i < rows; i++ {
		row := y.RawRowView(i)
		for j := range row {
			row[j] += b[j]
		}
	}
}

// addProduct adds s * a*b (an r x c product) into dst (row-major r x c).
func addProduct(dst []float64, r, c int, a, b mat.Matrix, s float64) {
	var p mat.Dense
	p.Mul(a, b)
	raw := p.RawMatrix()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			dst[i*c+j] += s * raw.Data[i*raw.Stride+j]
		}
	}
}

// addColSums adds s * the column sums of m into dst.
func addColSums(dst []float64, m *mat.Dense, s float64) {
	rows, _ := m.Dims()
	for i := 0; i < rows; i++ {
		for j, v := range m.RawRowView(i) {
			dst[j] += s * v
		}
	}
}

// rmsNorm is a normalised activation a = rms(x) * g with what backward needs.
type rmsNorm struct {
	inv []float64  // 1/sqrt(mean(x^2)+eps) per row
	n   *mat.Dense // x * inv, before the gains
	out *mat.Dense // n * g
}

func rmsForward(x *mat.Dense, g []float64) rmsNorm {
	rows, cols := x.Dims()
	r := rmsNorm{inv: make([]float64, rows), n: mat.NewDense(rows, cols, nil), out: mat.NewDense(rows, cols, nil)}
	for i := 0; i < rows; i++ {
		xr, nr, ar := x.RawRowView(i), r.n.RawRowView(i), r.out.RawRowView(i)
		var ss float64
		for _, v := range xr {
			ss += v * v
		}
		inv := 1 / math.Sqrt(ss/float64(cols)+rmsEps)
		r.inv[i] = inv
		for j, v := range xr {
			nr[j] = v * inv
			ar[j] = nr[j] * g[j]
		}
	}
	return r
}

// backward adds dL/dx into dx given da = dL/d(out); it accumulates dL/dg
// into gg when gg is not nil. With n = x*inv:
// dx_j = inv * (dn_j - n_j * mean_i(dn_i n_i)), dn = da * g.
func (r rmsNorm) backward(da *mat.Dense, g, gg []float64, dx *mat.Dense) {
	rows, cols := da.Dims()
	dn := make([]float64, cols)
	for i := 0; i < rows; i++ {
		dar, nr, dxr := da.RawRowView(i), r.n.RawRowView(i), dx.RawRowView(i)
		var dot float64
		for j := range dar {
			if gg != nil {
				gg[j] += dar[j] * nr[j]
			}
			dn[j] = dar[j] * g[j]
			dot += dn[j] * nr[j]
		}
		dot /= float64(cols)
		for j := range dn {
			dxr[j] += r.inv[i] * (dn[j] - nr[j]*dot)
		}
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// ---------------------------------------------------------------------------
// Forward pass.
// ---------------------------------------------------------------------------

// tfBlockCache holds the activations of one block.
type tfBlockCache struct {
	x        *mat.Dense // block input (residual)
	norm1    rmsNorm
	qkv, hq  *mat.Dense  // qkv (rows x 3d), its LoRA hidden
	att      [][]float64 // per sequence*H + head: T x T attention probabilities (row i, j <= i)
	ctx, ho  *mat.Dense  // concat_h(A v) (rows x d), Wo's LoRA hidden
	xm       *mat.Dense  // residual after attention
	norm2    rmsNorm
	u, h1    *mat.Dense // a2 W1^T + b1 (rows x 4d), W1's LoRA hidden
	s, h2    *mat.Dense // silu(u), W2's LoRA hidden
	projs    [4]proj    // Wqkv, Wo, W1, W2 (with their adapters when used)
	seqCount int
}

// tfCache holds a forward pass of a set of sequences.
type tfCache struct {
	seqs   [][]byte // inputs (first T tokens used)
	blocks []tfBlockCache
	final  rmsNorm
	z      *mat.Dense // logits (rows x V)
	lora   bool
}

// forward runs the model on seqs (each at least T tokens, inputs
// s[0..T-1]); lora selects the adapted weights (ignored without adapters).
func (t *TransformerTrainer) forward(seqs [][]byte, lora bool) *tfCache {
	T, d, V := t.seqLen, t.width, tfVocab
	rows := len(seqs) * T
	c := &tfCache{seqs: seqs, lora: lora && t.adapters != nil}
	E, P := t.layers[2*tfEmbed], t.layers[2*tfPos]
	x := mat.NewDense(rows, d, nil)
	for s, seq := range seqs {
		for i := 0; i < T; i++ {
			row := x.RawRowView(s*T + i)
			e, p := E[int(seq[i])*d:], P[i*d:]
			for j := range row {
				row[j] = e[j] + p[j]
			}
		}
	}
	for l := 0; l < t.blocks; l++ {
		var bc tfBlockCache
		x, bc = t.blockForward(l, x, len(seqs), lora)
		c.blocks = append(c.blocks, bc)
	}
	c.final = rmsForward(x, t.layers[2*(2+6*t.blocks)])
	c.z = mat.NewDense(rows, V, nil)
	c.z.Mul(c.final.out, mat.NewDense(V, d, E).T())
	addBias(c.z, t.layers[2*tfEmbed+1])
	return c
}

// blockForward runs block l on the residual x and returns the new residual.
func (t *TransformerTrainer) blockForward(l int, x *mat.Dense, nseq int, lora bool) (*mat.Dense, tfBlockCache) {
	T, d, H := t.seqLen, t.width, t.heads
	dh := d / H
	rows := nseq * T
	bc := tfBlockCache{x: x, seqCount: nseq}
	for n, k := range tfProjections {
		bc.projs[n] = t.projection(l, k, lora)
	}
	bc.norm1 = rmsForward(x, t.layers[2*blockLayer(l, tfG1)])
	bc.qkv, bc.hq = bc.projs[0].forward(bc.norm1.out)

	// Causal multi-head attention.
	bc.ctx = mat.NewDense(rows, d, nil)
	bc.att = make([][]float64, nseq*H)
	sc := 1 / math.Sqrt(float64(dh))
	for s := 0; s < nseq; s++ {
		for h := 0; h < H; h++ {
			A := make([]float64, T*T)
			bc.att[s*H+h] = A
			for i := 0; i < T; i++ {
				q := bc.qkv.RawRowView(s*T + i)[h*dh : (h+1)*dh]
				ai := A[i*T : i*T+i+1]
				mx := math.Inf(-1)
				for j := range ai {
					k := bc.qkv.RawRowView(s*T + j)[d+h*dh : d+(h+1)*dh]
					var dot float64
					for m := range q {
						dot += q[m] * k[m]
					}
					ai[j] = dot * sc
					mx = math.Max(mx, ai[j])
				}
				var sum float64
				for j := range ai {
					ai[j] = math.Exp(ai[j] - mx)
					sum += ai[j]
				}
				out := bc.ctx.RawRowView(s*T + i)[h*dh : (h+1)*dh]
				for j := range ai {
					ai[j] /= sum
					v := bc.qkv.RawRowView(s*T + j)[2*d+h*dh : 2*d+(h+1)*dh]
					for m := range out {
						out[m] += ai[j] * v[m]
					}
				}
			}
		}
	}
	var att *mat.Dense
	att, bc.ho = bc.projs[1].forward(bc.ctx)
	bc.xm = mat.NewDense(rows, d, nil)
	bc.xm.Add(x, att)

	// MLP.
	bc.norm2 = rmsForward(bc.xm, t.layers[2*blockLayer(l, tfG2)])
	bc.u, bc.h1 = bc.projs[2].forward(bc.norm2.out)
	bc.s = mat.NewDense(rows, 4*d, nil)
	bc.s.Apply(func(_, _ int, u float64) float64 { return u * sigmoid(u) }, bc.u)
	var mlp *mat.Dense
	mlp, bc.h2 = bc.projs[3].forward(bc.s)
	out := mat.NewDense(rows, d, nil)
	out.Add(bc.xm, mlp)
	return out, bc
}

// ---------------------------------------------------------------------------
// Backward pass.
// ---------------------------------------------------------------------------

// newGrads returns zero gradients shaped like the trained tensors.
func (t *TransformerTrainer) newGrads() [][]float64 {
	p := t.Params()
	g := make([][]float64, len(p))
	for k := range p {
		g[k] = make([]float64, len(p[k]))
	}
	return g
}

// backward turns dz = dL/dlogits of the cached pass into gradients of the
// trained tensors (accumulated into g).
func (t *TransformerTrainer) backward(c *tfCache, dz *mat.Dense, g [][]float64) {
	T, d, V := t.seqLen, t.width, tfVocab
	dense := t.adapters == nil
	E := mat.NewDense(V, d, t.layers[2*tfEmbed])
	gfIdx := 2 + 6*t.blocks
	rows, _ := dz.Dims()

	// Tied head: z = af E^T + c.
	if dense {
		addProduct(g[2*tfEmbed], V, d, dz.T(), c.final.out, 1)
		addColSums(g[2*tfEmbed+1], dz, 1)
	}
	daf := mat.NewDense(rows, d, nil)
	daf.Mul(dz, E)
	dx := mat.NewDense(rows, d, nil)
	c.final.backward(daf, t.layers[2*gfIdx], t.gradOrNil(g, gfIdx), dx)

	for l := t.blocks - 1; l >= 0; l-- {
		dx = t.blockBackward(l, &c.blocks[l], dx, g)
	}

	// Embeddings: x_t = E[s_t] + P[t].
	if dense {
		gE, gP := g[2*tfEmbed], g[2*tfPos]
		for s, seq := range c.seqs {
			for i := 0; i < T; i++ {
				row := dx.RawRowView(s*T + i)
				e, p := gE[int(seq[i])*d:], gP[i*d:]
				for j, v := range row {
					e[j] += v
					p[j] += v
				}
			}
		}
	}
}

// gradOrNil returns the gradient of the W of engine layer i for dense
// training, nil for LoRA (frozen).
func (t *TransformerTrainer) gradOrNil(g [][]float64, i int) []float64 {
	if t.adapters != nil {
		return nil
	}
	return g[2*i]
}

// blockBackward takes dL/d(block output) and returns dL/d(block input).
func (t *TransformerTrainer) blockBackward(l int, bc *tfBlockCache, dout *mat.Dense, g [][]float64) *mat.Dense {
	T, d, H := t.seqLen, t.width, t.heads
	dh := d / H
	frozen := t.adapters != nil

	// MLP: out = xm + silu(u) W2^T + b2, u = a2 W1^T + b1.
	ds := bc.projs[3].backward(bc.s, bc.h2, dout, g, frozen)
	rows, cols := ds.Dims()
	du := mat.NewDense(rows, cols, nil)
	du.Apply(func(i, j int, u float64) float64 {
		sg := sigmoid(u)
		return ds.At(i, j) * sg * (1 + u*(1-sg))
	}, bc.u)
	da2 := bc.projs[2].backward(bc.norm2.out, bc.h1, du, g, frozen)
	dxm := mat.DenseCopyOf(dout)
	bc.norm2.backward(da2, t.layers[2*blockLayer(l, tfG2)], t.gradOrNil(g, blockLayer(l, tfG2)), dxm)

	// Attention: xm = x + ctx Wo^T + bo.
	dctx := bc.projs[1].backward(bc.ctx, bc.ho, dxm, g, frozen)
	dqkv := mat.NewDense(rows, 3*d, nil)
	sc := 1 / math.Sqrt(float64(dh))
	dA := make([]float64, T)
	for s := 0; s < bc.seqCount; s++ {
		for h := 0; h < H; h++ {
			A := bc.att[s*H+h]
			for i := 0; i < T; i++ {
				ai := A[i*T : i*T+i+1]
				dc := dctx.RawRowView(s*T + i)[h*dh : (h+1)*dh]
				// dA_ij = dctx_i . v_j; dv_j += A_ij dctx_i.
				var dot float64
				for j := range ai {
					v := bc.qkv.RawRowView(s*T + j)[2*d+h*dh : 2*d+(h+1)*dh]
					dv := dqkv.RawRowView(s*T + j)[2*d+h*dh : 2*d+(h+1)*dh]
					var a float64
					for m := range dc {
						a += dc[m] * v[m]
						dv[m] += ai[j] * dc[m]
					}
					dA[j] = a
					dot += ai[j] * a
				}
				// Softmax: dS_ij = A_ij (dA_ij - sum_k A_ik dA_ik); S_ij = sc q_i.k_j.
				q := bc.qkv.RawRowView(s*T + i)[h*dh : (h+1)*dh]
				dq := dqkv.RawRowView(s*T + i)[h*dh : (h+1)*dh]
				for j := range ai {
					dS := ai[j] * (dA[j] - dot) * sc
					k := bc.qkv.RawRowView(s*T + j)[d+h*dh : d+(h+1)*dh]
					dk := dqkv.RawRowView(s*T + j)[d+h*dh : d+(h+1)*dh]
					for m := range q {
						dq[m] += dS * k[m]
						dk[m] += dS * q[m]
					}
				}
			}
		}
	}
	da1 := bc.projs[0].backward(bc.norm1.out, bc.hq, dqkv, g, frozen)
	dx := mat.DenseCopyOf(dxm)
	bc.norm1.backward(da1, t.layers[2*blockLayer(l, tfG1)], t.gradOrNil(g, blockLayer(l, tfG1)), dx)
	return dx
}

// ---------------------------------------------------------------------------
// Losses.
// ---------------------------------------------------------------------------

// logSoftmaxRow writes softmax(z) into p and returns logsumexp(z).
func logSoftmaxRow(z, p []float64) float64 {
	mx := z[0]
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	var sum float64
	for j, v := range z {
		p[j] = math.Exp(v - mx)
		sum += p[j]
	}
	for j := range p {
		p[j] /= sum
	}
	return mx + math.Log(sum)
}

// tokenLogProbs returns, for every sequence of the pass, the sum over
// positions t in [from[s], T) of ln softmax(z_t)[s_{t+1}] (from == nil: all
// positions), and if dz is not nil writes coef[s] * d(that sum)/dz =
// coef[s] * (onehot - p) into the rows of those positions (0 elsewhere).
func (t *TransformerTrainer) tokenLogProbs(c *tfCache, from []int, dz *mat.Dense, coef []float64) []float64 {
	T := t.seqLen
	lp := make([]float64, len(c.seqs))
	p := make([]float64, tfVocab)
	for s, seq := range c.seqs {
		start := 0
		if from != nil {
			start = from[s]
		}
		for i := start; i < T; i++ {
			z := c.z.RawRowView(s*T + i)
			y := int(seq[i+1])
			lse := logSoftmaxRow(z, p)
			lp[s] += z[y] - lse
			if dz != nil {
				row := dz.RawRowView(s*T + i)
				for j := range row {
					row[j] = -coef[s] * p[j]
				}
				row[y] += coef[s]
			}
		}
	}
	return lp
}

// lossAndGrad computes the mean loss of the batch and, when grads is true,
// the gradients of the trained tensors.
func (t *TransformerTrainer) lossAndGrad(b *tfBatch, grads bool) (float64, [][]float64) {
	n := len(b.chosen)
	var g [][]float64
	if grads {
		g = t.newGrads()
	}
	switch t.Spec.Objective {
	case engine.ObjectiveDPO:
		// Policy (with adapters) on chosen then rejected; reference = frozen base.
		seqs := append(append([][]byte(nil), b.chosen...), b.rejected...)
		from := append(append([]int(nil), b.prompt...), b.prompt...)
		for i := range from {
			from[i]-- // positions PromptLen-1 .. T-1 predict the response tokens
		}
		pol := t.forward(seqs, true)
		ref := t.tokenLogProbs(t.forward(seqs, false), from, nil, nil)
		lp := t.tokenLogProbs(pol, from, nil, nil)
		var loss float64
		coef := make([]float64, 2*n)
		for k := 0; k < n; k++ {
			delta := t.beta * ((lp[k] - ref[k]) - (lp[n+k] - ref[n+k]))
			loss += softplus(-delta) // -ln sigmoid(delta)
			// dL/dlp_w = -beta sigmoid(-delta)/n and dL/dlp_l = -dL/dlp_w.
			w := t.beta * sigmoid(-delta) / float64(n)
			coef[k], coef[n+k] = -w, w
		}
		if grads {
			dz := mat.NewDense(2*n*t.seqLen, tfVocab, nil)
			t.tokenLogProbs(pol, from, dz, coef) // dL/dz = sum_s dL/dlp_s dlp_s/dz
			t.backward(pol, dz, g)
		}
		return loss / float64(n), g
	default: // next token: mean over n*T positions of -ln p(next byte)
		c := t.forward(b.chosen, true)
		var dz *mat.Dense
		var coef []float64
		if grads {
			dz = mat.NewDense(n*t.seqLen, tfVocab, nil)
			coef = make([]float64, n)
			for k := range coef {
				coef[k] = -1 / float64(n*t.seqLen)
			}
		}
		lp := t.tokenLogProbs(c, nil, dz, coef)
		var loss float64
		for _, v := range lp {
			loss -= v
		}
		if grads {
			t.backward(c, dz, g)
		}
		return loss / float64(n*t.seqLen), g
	}
}

// ---------------------------------------------------------------------------
// Public API.
// ---------------------------------------------------------------------------

// Gradients returns the gradient of the mean loss over the given rows with
// respect to every trained tensor (canonical order), and the mean loss.
func (t *TransformerTrainer) Gradients(rows engine.RowSource, idx []uint64) ([][]float64, float64, error) {
	b, err := t.load(rows, idx)
	if err != nil {
		return nil, 0, err
	}
	l, g := t.lossAndGrad(b, true)
	return g, l, nil
}

// Loss returns the mean loss (the spec's objective) over the given rows.
func (t *TransformerTrainer) Loss(rows engine.RowSource, idx []uint64) (float64, error) {
	b, err := t.load(rows, idx)
	if err != nil {
		return 0, err
	}
	l, _ := t.lossAndGrad(b, false)
	return l, nil
}

// BitsPerByte returns the mean next-token cross-entropy in bits over all T
// positions of the rows' Tokens (the trained model: base plus adapters for
// LoRA), whatever the objective.
func (t *TransformerTrainer) BitsPerByte(rows engine.RowSource, idx []uint64) (float64, error) {
	if rows == nil {
		return 0, errors.New("reference: nil row source")
	}
	if len(idx) == 0 {
		return 0, errors.New("reference: no rows")
	}
	const chunk = 64
	var nats float64
	for lo := 0; lo < len(idx); lo += chunk {
		hi := min(lo+chunk, len(idx))
		var seqs [][]byte
		for _, i := range idx[lo:hi] {
			ex, err := rows.Row(i)
			if err != nil {
				return 0, err
			}
			if len(ex.Tokens) != t.seqLen+1 {
				return 0, fmt.Errorf("reference: row %d has %d tokens, want %d", i, len(ex.Tokens), t.seqLen+1)
			}
			seqs = append(seqs, ex.Tokens)
		}
		for _, v := range t.tokenLogProbs(t.forward(seqs, true), nil, nil, nil) {
			nats -= v
		}
	}
	return nats / float64(len(idx)*t.seqLen) / math.Ln2, nil
}

// Run trains `steps` steps on the engine's batches of job
// (engine.BatchIndices(job, Step)) with the spec's optimiser, in float64.
func (t *TransformerTrainer) Run(job engine.Job, rows engine.RowSource, steps uint64) error {
	s := t.Spec
	for i := uint64(0); i < steps; i++ {
		b, err := t.load(rows, engine.BatchIndices(job, t.Step))
		if err != nil {
			return err
		}
		_, g := t.lossAndGrad(b, true)
		optimiserStep(s, t.Step, t.Params(), g, t.vel, t.m, t.v)
		t.Step++
	}
	return nil
}
