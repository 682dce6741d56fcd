package reference_test

import (
	"crypto/sha256"
	"fmt"
	"math"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// rows is a deterministic synthetic RowSource with inputs in [0, 1].
type rows struct{ spec engine.Spec }

func (r rows) Row(i uint64) (engine.Example, error) {
	s := i*0x9e3779b97f4a7c15 + 77
	next := func() uint64 {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	one := uint64(1) << r.spec.FracBits
	feat := func() []int32 {
		x := make([]int32, r.spec.Inputs)
		for k := range x {
			x[k] = int32(next() % (one + 1))
		}
		return x
	}
	ex := engine.Example{X: feat()}
	switch r.spec.Objective {
	case engine.ObjectiveSoftmaxCE:
		ex.Label = uint32(next() % uint64(r.spec.Outputs))
	case engine.ObjectiveMSE:
		for k := uint32(0); k < r.spec.Outputs; k++ {
			ex.Target = append(ex.Target, int32(next()%(2*one+1))-int32(one))
		}
	case engine.ObjectiveBradleyTerry:
		ex.Rejected = feat()
	}
	return ex, nil
}

type combo struct {
	name string
	job  engine.Job
}

func combos(t *testing.T) []combo {
	var cs []combo
	for _, m := range []struct {
		name   string
		kind   engine.ModelKind
		hidden []uint32
		rank   uint32
	}{
		{"linear", engine.ModelLinear, nil, 0},
		{"mlp2", engine.ModelMLP, []uint32{12, 7}, 0},
		{"lora-mlp", engine.ModelMLP, []uint32{12}, 3},
	} {
		for _, obj := range []engine.Objective{engine.ObjectiveMSE, engine.ObjectiveSoftmaxCE, engine.ObjectiveBradleyTerry} {
			out := map[engine.Objective]uint32{engine.ObjectiveMSE: 3, engine.ObjectiveSoftmaxCE: 4, engine.ObjectiveBradleyTerry: 1}[obj]
			s := engine.Spec{Model: m.kind, Inputs: 10, Hidden: m.hidden, Outputs: out, Objective: obj,
				Optimizer: engine.OptimizerSGD, LearningRate: 1 << 16, BatchSize: 12, FracBits: 16}
			name := fmt.Sprintf("%s/%d", m.name, obj)
			job := engine.Job{Spec: s, Seed: sha256.Sum256([]byte(name)), RowCount: 200}
			if m.rank > 0 {
				d := s
				bst, err := engine.NewInitialState(engine.Job{Spec: d, Seed: [32]byte{1}, RowCount: 1})
				if err != nil {
					t.Fatal(err)
				}
				job.Base, _ = bst.Model(nil)
				job.Spec.LoRARank, job.Spec.LoRAAlpha = m.rank, 2<<16
			}
			cs = append(cs, combo{name, job})
		}
	}
	return cs
}

// warmState returns a state after 3 plain steps (so that LoRA's B is not
// zero and every gradient is informative), re-tagged for plain SGD.
func warmState(t *testing.T, job engine.Job) *engine.State {
	st, err := engine.NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	w := job
	w.Spec.LearningRate = 1 << 13
	st, _, err = engine.RunSegment(w, st, rows{job.Spec}, 3)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestReferenceGradientsFiniteDifferences checks the float64 reference's
// analytic gradients against central finite differences of its own loss.
func TestReferenceGradientsFiniteDifferences(t *testing.T) {
	for _, c := range combos(t) {
		st := warmState(t, c.job)
		ref, err := reference.FromState(c.job, st)
		if err != nil {
			t.Fatal(err)
		}
		idx := engine.BatchIndices(c.job, 3)
		src := rows{c.job.Spec}
		grads, _, err := ref.Gradients(src, idx)
		if err != nil {
			t.Fatal(err)
		}
		for k, p := range ref.Params() {
			for j := 0; j < len(p); j += 1 + len(p)/17 {
				orig := p[j]
				const h = 1e-6
				ref.SetParam(k, j, orig+h)
				lp, _ := ref.Loss(src, idx)
				ref.SetParam(k, j, orig-h)
				lm, _ := ref.Loss(src, idx)
				ref.SetParam(k, j, orig)
				fd := (lp - lm) / (2 * h)
				if d := math.Abs(fd - grads[k][j]); d > 1e-5+1e-4*math.Abs(fd) {
					t.Errorf("%s tensor %d[%d]: analytic %.8g, finite difference %.8g", c.name, k, j, grads[k][j], fd)
				}
			}
		}
	}
}

// TestEngineGradientsMatchReference compares the engine's fixed-point
// gradients with the reference's float64 ones: one plain SGD step with
// learning rate 1.0 moves every trained parameter by exactly -round(g).
func TestEngineGradientsMatchReference(t *testing.T) {
	for _, c := range combos(t) {
		st := warmState(t, c.job)
		ref, err := reference.FromState(c.job, st)
		if err != nil {
			t.Fatal(err)
		}
		src := rows{c.job.Spec}
		want, _, err := ref.Gradients(src, engine.BatchIndices(c.job, st.Step))
		if err != nil {
			t.Fatal(err)
		}
		next, _, err := engine.RunSegment(c.job, st, src, 1)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := reference.FromState(c.job, st)
		after, _ := reference.FromState(c.job, next)
		var num, den, worst float64
		for k := range want {
			for j := range want[k] {
				g := before.Params()[k][j] - after.Params()[k][j]
				d := g - want[k][j]
				num += d * d
				den += want[k][j] * want[k][j]
				worst = math.Max(worst, math.Abs(d))
			}
		}
		rel := math.Sqrt(num / den)
		t.Logf("%s: relative gradient error %.2e, worst element %.2e (2^-16 = %.2e)", c.name, rel, worst, 1.0/65536)
		if rel > 2e-3 || worst > 2e-4 {
			t.Errorf("%s: engine gradient differs from the reference: relative %.3g, worst %.3g", c.name, rel, worst)
		}
	}
}

// TestSameTrajectory trains a few steps with momentum and Adam in both and
// checks that the parameters stay close (same init, same batches, same
// formulas).
func TestSameTrajectory(t *testing.T) {
	for _, c := range combos(t) {
		for _, opt := range []string{"momentum", "adam"} {
			job := c.job
			if opt == "momentum" {
				job.Spec.LearningRate, job.Spec.Momentum = 1<<16/20, 1<<16*9/10
			} else {
				job.Spec.Optimizer, job.Spec.LearningRate = engine.OptimizerAdam, 1<<16/100
				job.Spec.Beta1, job.Spec.Beta2, job.Spec.Epsilon = 58982, 65470, 1
			}
			st, err := engine.NewInitialState(job)
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := reference.FromState(job, st)
			start, _ := reference.FromState(job, st)
			src := rows{job.Spec}
			st, _, err = engine.RunSegment(job, st, src, 20)
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.Run(job, src, 20); err != nil {
				t.Fatal(err)
			}
			fixed, _ := reference.FromState(job, st)
			// Distance between the two trajectories relative to how far
			// training moved the parameters.
			var diff, moved float64
			for k := range ref.Params() {
				for j := range ref.Params()[k] {
					d := ref.Params()[k][j] - fixed.Params()[k][j]
					m := ref.Params()[k][j] - start.Params()[k][j]
					diff += d * d
					moved += m * m
				}
			}
			rel := math.Sqrt(diff / moved)
			t.Logf("%s/%s: fixed vs float64 after 20 steps: %.2e of the distance travelled", c.name, opt, rel)
			// Most combinations agree to < 1%; on this structureless data the
			// small ReLU networks are chaotic (a unit whose pre-activation is
			// near 0 can switch side on a 2^-16 difference), so the bound is
			// loose. The exact check is TestEngineGradientsMatchReference.
			if rel > 0.3 {
				t.Errorf("%s/%s: trajectories differ by %.3g of the distance travelled", c.name, opt, rel)
			}
		}
	}
}
