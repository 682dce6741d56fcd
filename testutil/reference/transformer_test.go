package reference_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// Tiny transformer used by the tests: T=8, d=8, H=2, L=2, F=16.
const (
	tfT, tfD, tfH, tfL = 8, 8, 2, 2
	tfF                = 16
)

// tokenRows is a deterministic RowSource of random byte rows (T+1 tokens).
// For DPO the rejected row shares the first PromptLen tokens.
type tokenRows struct{ n int }

func (r tokenRows) Row(i uint64) (engine.Example, error) {
	rng := rand.New(rand.NewPCG(i, 99))
	ex := engine.Example{Tokens: make([]byte, tfT+1), RejectedTokens: make([]byte, tfT+1)}
	for k := range ex.Tokens {
		// A small alphabet so that tokens repeat within a row.
		ex.Tokens[k] = byte('a' + rng.IntN(6))
		ex.RejectedTokens[k] = byte('a' + rng.IntN(6))
	}
	ex.PromptLen = uint32(1 + i%tfT)
	copy(ex.RejectedTokens, ex.Tokens[:ex.PromptLen])
	return ex, nil
}

// randFixed returns n fixed-point values uniform in [c-s, c+s].
func randFixed(rng *rand.Rand, n int, c, s float64) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(math.Round((c + s*(2*rng.Float64()-1)) * (1 << tfF)))
	}
	return v
}

// tfShapes returns (out, in, bias) of every engine layer of the tiny model.
func tfShapes() [][3]int {
	d := tfD
	s := [][3]int{{256, d, 256}, {tfT, d, 0}}
	for l := 0; l < tfL; l++ {
		s = append(s, [3]int{d, 1, 0}, [3]int{3 * d, d, 3 * d}, [3]int{d, d, d},
			[3]int{d, 1, 0}, [3]int{4 * d, d, 4 * d}, [3]int{d, 4 * d, d})
	}
	return append(s, [3]int{d, 1, 0})
}

// tinyLayers returns random parameters for the tiny model (gains near 1,
// weights of scale ~1.5/sqrt(in), so that attention and SiLU are not flat).
func tinyLayers(seed uint64) []engine.Layer {
	rng := rand.New(rand.NewPCG(seed, 1))
	var ls []engine.Layer
	for i, sh := range tfShapes() {
		var l engine.Layer
		switch {
		case sh[1] == 1: // gains
			l.W = randFixed(rng, sh[0], 1, 0.3)
		case i <= 1: // embeddings
			l.W = randFixed(rng, sh[0]*sh[1], 0, 1)
		default:
			l.W = randFixed(rng, sh[0]*sh[1], 0, 1.5/math.Sqrt(float64(sh[1])))
		}
		l.B = randFixed(rng, sh[2], 0, 0.2)
		ls = append(ls, l)
	}
	return ls
}

// tinyAdapters returns random (non-zero) rank-r adapters for the four
// projections of every block.
func tinyAdapters(seed uint64, r int) []engine.Adapter {
	rng := rand.New(rand.NewPCG(seed, 2))
	var ad []engine.Adapter
	shapes := tfShapes()
	for l := 0; l < tfL; l++ {
		for _, k := range []int{1, 2, 4, 5} { // Wqkv, Wo, W1, W2
			sh := shapes[2+6*l+k]
			ad = append(ad, engine.Adapter{
				A: randFixed(rng, r*sh[1], 0, 1/math.Sqrt(float64(sh[1]))),
				B: randFixed(rng, sh[0]*r, 0, 0.5/math.Sqrt(float64(r))),
			})
		}
	}
	return ad
}

func tinySpec(obj engine.Objective, rank uint32) engine.Spec {
	s := engine.Spec{Model: engine.ModelTransformer, Inputs: tfT, Hidden: []uint32{tfL, tfD, tfH}, Outputs: 256,
		Objective: obj, Optimizer: engine.OptimizerAdam, LearningRate: 1 << 16 / 100,
		Beta1: 58982, Beta2: 65471, Epsilon: 1, BatchSize: 4, FracBits: tfF}
	if rank > 0 {
		s.LoRARank, s.LoRAAlpha = rank, 3<<tfF // scale 1.5 at rank 2
	}
	if obj == engine.ObjectiveDPO {
		s.DPOBeta = 1 << tfF / 2 // beta 0.5
	}
	return s
}

// tinyTrainer builds a trainer on a hand-made state (no engine validation).
func tinyTrainer(t *testing.T, obj engine.Objective, rank uint32) (*reference.TransformerTrainer, engine.Job) {
	t.Helper()
	return tinyTrainerSpec(t, tinySpec(obj, rank))
}

// tinyTrainerSpec is tinyTrainer for a given spec.
func tinyTrainerSpec(t *testing.T, s engine.Spec) (*reference.TransformerTrainer, engine.Job) {
	t.Helper()
	rank := s.LoRARank
	job := engine.Job{Spec: s, Seed: [32]byte{7}, RowCount: 16}
	st := &engine.State{Arch: s.Arch()}
	if rank > 0 {
		job.Base = &engine.Model{Arch: s.Arch(), Layers: tinyLayers(3)}
		st.LoRA = &engine.LoRAState{Rank: rank, Alpha: s.LoRAAlpha, Adapters: tinyAdapters(4, int(rank))}
	} else {
		st.Layers = tinyLayers(3)
	}
	tr, err := reference.TransformerFromState(job, st)
	if err != nil {
		t.Fatal(err)
	}
	return tr, job
}

// TestTransformerGradientsFiniteDifferences checks the analytic gradients of
// every trained tensor against central finite differences (h = 1e-5).
func TestTransformerGradientsFiniteDifferences(t *testing.T) {
	for _, c := range []struct {
		name string
		obj  engine.Objective
		rank uint32
	}{
		{"next-token/dense", engine.ObjectiveNextToken, 0},
		{"next-token/lora", engine.ObjectiveNextToken, 2},
		{"dpo/lora", engine.ObjectiveDPO, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, _ := tinyTrainer(t, c.obj, c.rank)
			src := tokenRows{}
			idx := []uint64{0, 3, 5, 3} // a repeated row, prompt lengths 1, 4, 6
			grads, loss, err := tr.Gradients(src, idx)
			if err != nil {
				t.Fatal(err)
			}
			if l, _ := tr.Loss(src, idx); l != loss {
				t.Fatalf("Loss %v != loss of Gradients %v", l, loss)
			}
			params := tr.Params()
			if len(grads) != len(params) {
				t.Fatalf("%d gradients for %d tensors", len(grads), len(params))
			}
			rng := rand.New(rand.NewPCG(5, 5))
			const h = 1e-5
			var worst float64
			checked := 0
			for k, p := range params {
				if len(grads[k]) != len(p) {
					t.Fatalf("tensor %d: gradient has %d values, tensor %d", k, len(grads[k]), len(p))
				}
				if len(p) == 0 {
					continue
				}
				for s := 0; s < 6; s++ {
					j := rng.IntN(len(p))
					if k == 0 && c.rank == 0 && s%2 == 0 {
						// Embedding rows of tokens in the rows (the rest only
						// feed the tied head).
						j = int('a'+rng.IntN(6))*tfD + rng.IntN(tfD)
					}
					orig := p[j]
					tr.SetParam(k, j, orig+h)
					lp, _ := tr.Loss(src, idx)
					tr.SetParam(k, j, orig-h)
					lm, _ := tr.Loss(src, idx)
					tr.SetParam(k, j, orig)
					num := (lp - lm) / (2 * h)
					an := grads[k][j]
					// Relative error, with a floor so that gradients at the
					// float64 noise level of the differences (~1e-11) pass.
					rel := math.Abs(an-num) / math.Max(math.Max(math.Abs(an), math.Abs(num)), 1e-6)
					worst = math.Max(worst, rel)
					checked++
					if rel > 1e-5 {
						t.Errorf("tensor %d [%d]: analytic %.10g numeric %.10g rel %.2g", k, j, an, num, rel)
					}
				}
			}
			t.Logf("loss %.6f, %d tensors, %d entries, worst relative error %.2g", loss, len(params), checked, worst)
		})
	}
}

// TestTransformerConsistency checks identities between the objectives:
// zero adapters reproduce the base (and DPO's loss is then ln 2), and
// BitsPerByte is the next-token loss in bits.
func TestTransformerConsistency(t *testing.T) {
	src := tokenRows{}
	idx := []uint64{1, 2, 6}
	dense, _ := tinyTrainer(t, engine.ObjectiveNextToken, 0)
	ld, err := dense.Loss(src, idx)
	if err != nil {
		t.Fatal(err)
	}
	bpb, err := dense.BitsPerByte(src, idx)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(bpb-ld/math.Ln2) > 1e-12 {
		t.Fatalf("bits per byte %v, loss/ln2 %v", bpb, ld/math.Ln2)
	}
	for _, obj := range []engine.Objective{engine.ObjectiveNextToken, engine.ObjectiveDPO} {
		lora, _ := tinyTrainer(t, obj, 2)
		for k := 1; k < len(lora.Params()); k += 2 { // every adapter B = 0
			for j := range lora.Params()[k] {
				lora.SetParam(k, j, 0)
			}
		}
		l, err := lora.Loss(src, idx)
		if err != nil {
			t.Fatal(err)
		}
		want := ld
		if obj == engine.ObjectiveDPO {
			want = math.Ln2
		}
		if math.Abs(l-want) > 1e-12 {
			t.Fatalf("objective %d with zero adapters: loss %v, want %v", obj, l, want)
		}
	}
}

// TestTransformerRun checks that training with the engine's batches lowers
// the loss, for each optimiser and objective.
func TestTransformerRun(t *testing.T) {
	for _, c := range []struct {
		name string
		obj  engine.Objective
		rank uint32
		sgd  bool
	}{
		{"next-token/dense/adam", engine.ObjectiveNextToken, 0, false},
		{"next-token/dense/momentum", engine.ObjectiveNextToken, 0, true},
		{"next-token/lora/adam", engine.ObjectiveNextToken, 2, false},
		{"dpo/lora/adam", engine.ObjectiveDPO, 2, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := tinySpec(c.obj, c.rank)
			if c.sgd {
				s.Optimizer, s.Beta1, s.Beta2, s.Epsilon = engine.OptimizerSGD, 0, 0, 0
				s.Momentum, s.LearningRate = 1<<tfF*9/10, 1<<tfF/100
			}
			tr, job := tinyTrainerSpec(t, s)
			src := tokenRows{}
			all := make([]uint64, job.RowCount)
			for i := range all {
				all[i] = uint64(i)
			}
			before, err := tr.Loss(src, all)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Run(job, src, 40); err != nil {
				t.Fatal(err)
			}
			after, err := tr.Loss(src, all)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Step != 40 || !(after < before) {
				t.Fatalf("step %d, loss %v -> %v", tr.Step, before, after)
			}
			t.Logf("loss %.4f -> %.4f", before, after)
		})
	}
}
