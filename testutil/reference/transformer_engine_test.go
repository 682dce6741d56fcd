package reference_test

import (
	"math"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

type textRows struct {
	text []byte
	T    int
	dpo  bool
}

func (r textRows) Row(i uint64) (engine.Example, error) {
	off := int(i) * 7 % (len(r.text) - r.T - 1)
	ex := engine.Example{Tokens: append([]byte(nil), r.text[off:off+r.T+1]...)}
	if r.dpo {
		ex.PromptLen = uint32(r.T / 2)
		ex.RejectedTokens = append([]byte(nil), ex.Tokens...)
		for j := int(ex.PromptLen); j <= r.T; j++ {
			ex.RejectedTokens[j] = byte('a' + j%7)
		}
	}
	return ex, nil
}

const gradText = "func add(a, b int) int {\n\treturn a + b\n}\n\nfunc main() {\n\tfmt.Println(add(1, 2))\n}\n"

// TestTransformerGradientsMatchReference compares the fixed-point engine's
// gradients of every trained tensor (StepGradients) with the float64
// reference's on the same state and rows, for next-token pretraining, a
// LoRA fine-tune and DPO: the relative L2 error of each tensor stays under
// 2% with a cosine similarity above 0.999, or (tiny gradients, such as those
// of LoRA's A right after B left zero) the RMS error stays below half a unit
// of 2^-16, the rounding of the engine's last step.
func TestTransformerGradientsMatchReference(t *testing.T) {
	dense := engine.Spec{Model: engine.ModelTransformer, Inputs: 12, Hidden: []uint32{2, 16, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerSGD, LearningRate: 655,
		BatchSize: 4, FracBits: 16}
	djob := engine.Job{Spec: dense, Seed: [32]byte{9}, RowCount: 32}
	st, err := engine.NewInitialState(djob)
	if err != nil {
		t.Fatal(err)
	}
	// Train a little so that LoRA and DPO start from a non-trivial base.
	rows := textRows{text: []byte(gradText), T: 12}
	st, _, err = engine.RunSegment(djob, st, rows, 20)
	if err != nil {
		t.Fatal(err)
	}
	base, err := st.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	lora := dense
	lora.LoRARank, lora.LoRAAlpha = 2, 4<<16
	dpo := lora
	dpo.Objective, dpo.DPOBeta = engine.ObjectiveDPO, 1<<15
	idx := []uint64{0, 3, 5, 7}
	for _, c := range []struct {
		name string
		job  engine.Job
		dpo  bool
	}{
		{"next-token", djob, false},
		{"lora", engine.Job{Spec: lora, Seed: [32]byte{1}, RowCount: 32, Base: base}, false},
		{"dpo", engine.Job{Spec: dpo, Seed: [32]byte{2}, RowCount: 32, Base: base}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := st
			if c.job.Base != nil {
				if s, err = engine.NewInitialState(c.job); err != nil {
					t.Fatal(err)
				}
				// Non-zero adapters so that every LoRA gradient is exercised.
				if s, _, err = engine.RunSegment(c.job, s, textRows{text: []byte(gradText), T: 12, dpo: c.dpo}, 3); err != nil {
					t.Fatal(err)
				}
			}
			r := textRows{text: []byte(gradText), T: 12, dpo: c.dpo}
			g, _, err := engine.StepGradients(c.job, s, r, idx)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := reference.TransformerFromState(c.job, s)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := ref.Gradients(r, idx)
			if err != nil {
				t.Fatal(err)
			}
			if len(g) != len(want) {
				t.Fatalf("%d tensors, reference has %d", len(g), len(want))
			}
			worst := 0.0
			for k := range g {
				if len(g[k]) != len(want[k]) {
					t.Fatalf("tensor %d: %d values, reference %d", k, len(g[k]), len(want[k]))
				}
				var num, den, dot, gg float64
				for j, v := range g[k] {
					x := float64(v) / 65536
					num += (x - want[k][j]) * (x - want[k][j])
					den += want[k][j] * want[k][j]
					dot += x * want[k][j]
					gg += x * x
				}
				if den < 1e-12 {
					continue
				}
				rel := math.Sqrt(num / den)
				cos := dot / math.Sqrt(den*gg)
				worst = max(worst, rel)
				units := math.Sqrt(num/float64(len(g[k]))) * 65536 // RMS error in units of 2^-16
				if (rel > 0.02 || cos < 0.999) && units > 0.5 {
					t.Errorf("tensor %d: relative L2 error %.4f, cosine %.5f, RMS error %.2f units", k, rel, cos, units)
				}
			}
			t.Logf("%d tensors, worst relative L2 error %.5f", len(g), worst)
		})
	}
}
