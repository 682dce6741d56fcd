package engine

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func smallJob(t testing.TB, obj, opt string, lora uint32) (Job, RowSource) {
	s := Spec{Model: ModelMLP, Inputs: 12, Hidden: []uint32{16}, BatchSize: 8, FracBits: 16}
	s = optSpec(objSpec(s, obj), opt)
	job := Job{Spec: s, Seed: sha256.Sum256([]byte(obj + opt)), RowCount: 97}
	rows := synthRows{spec: s, n: 97}
	if lora > 0 {
		job.Spec.LoRARank, job.Spec.LoRAAlpha = lora, 2<<16
		job.Base = baseFor(t, job.Spec, rows)
	}
	return job, rows
}

func TestRunSegmentInvariants(t *testing.T) {
	for _, lora := range []uint32{0, 2} {
		for _, opt := range []string{"sgd", "momentum", "adam"} {
			job, rows := smallJob(t, "ce", opt, lora)
			st0, err := NewInitialState(job)
			if err != nil {
				t.Fatal(err)
			}
			h0 := st0.Hash()
			enc0 := string(st0.Encode())
			one, m1, err := RunSegment(job, st0, rows, 12)
			if err != nil {
				t.Fatal(err)
			}
			if st0.Hash() != h0 || string(st0.Encode()) != enc0 {
				t.Fatal("RunSegment mutated its start state")
			}
			if one.Step != 12 || m1.Steps != 12 || m1.Rows != 12*8 || m1.MACs != 12*MACsPerStep(job.Spec) {
				t.Fatalf("step %d meter %+v", one.Step, m1)
			}
			// Segmenting does not change the result: 12 = 5 + 7.
			a, _, err := RunSegment(job, st0, rows, 5)
			if err != nil {
				t.Fatal(err)
			}
			// ... also through an encode/decode boundary, as a reveal would.
			a, err = DecodeState(job.Spec, a.Encode())
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := RunSegment(job, a, rows, 7)
			if err != nil {
				t.Fatal(err)
			}
			if b.Hash() != one.Hash() {
				t.Fatalf("lora=%d %s: 5+7 steps != 12 steps", lora, opt)
			}
			if one.Hash() == h0 {
				t.Fatal("training changed nothing")
			}
		}
	}
}

func TestLoRAStartsAtBase(t *testing.T) {
	job, rows := smallJob(t, "ce", "adam", 3)
	st, err := NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	if st.LoRA.BaseHash != job.Base.Hash() {
		t.Fatal("base hash not recorded")
	}
	merged, err := st.Model(job.Base)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Hash() != job.Base.Hash() {
		t.Fatal("B = 0 must merge to exactly the base model")
	}
	idx := []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	a, err := Evaluate(job, st, rows, idx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EvaluateModel(job.Spec, job.Base, rows, idx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Loss != b.Loss || a.Correct != b.Correct || a.Count != 11 {
		t.Fatalf("LoRA start %+v differs from base %+v", a, b)
	}
	// The base never changes; a wrong base is refused.
	hb := job.Base.Hash()
	st2, _, err := RunSegment(job, st, rows, 4)
	if err != nil {
		t.Fatal(err)
	}
	if job.Base.Hash() != hb {
		t.Fatal("training modified the frozen base")
	}
	if st2.ModelHash() == st.ModelHash() {
		t.Fatal("adapters did not train")
	}
	other := job.Base.Clone()
	other.Layers[0].B[0]++
	bad := job
	bad.Base = other
	if _, _, err := RunSegment(bad, st, rows, 1); err == nil || !strings.Contains(err.Error(), "base") {
		t.Fatalf("wrong base accepted: %v", err)
	}
	if _, err := st.Model(other); err == nil {
		t.Fatal("Model with a wrong base accepted")
	}
}

type badRows struct {
	RowSource
	mod func(*Example)
	err error
}

func (b badRows) Row(i uint64) (Example, error) {
	if b.err != nil {
		return Example{}, b.err
	}
	ex, _ := b.RowSource.Row(i)
	b.mod(&ex)
	return ex, nil
}

func TestRunSegmentErrors(t *testing.T) {
	job, rows := smallJob(t, "ce", "momentum", 0)
	st, _ := NewInitialState(job)
	for name, src := range map[string]RowSource{
		"features": badRows{RowSource: rows, mod: func(e *Example) { e.X = e.X[:3] }},
		"label":    badRows{RowSource: rows, mod: func(e *Example) { e.Label = 4 }},
		"source":   badRows{err: errors.New("boom")},
		"nil":      nil,
	} {
		if _, _, err := RunSegment(job, st, src, 2); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	mse, mrows := smallJob(t, "mse", "sgd", 0)
	mst, _ := NewInitialState(mse)
	if _, _, err := RunSegment(mse, mst, badRows{RowSource: mrows, mod: func(e *Example) { e.Target = nil }}, 1); err == nil {
		t.Error("missing targets accepted")
	}
	bt, brows := smallJob(t, "bt", "sgd", 0)
	bst, _ := NewInitialState(bt)
	if _, _, err := RunSegment(bt, bst, badRows{RowSource: brows, mod: func(e *Example) { e.Rejected = nil }}, 1); err == nil {
		t.Error("missing rejected item accepted")
	}
	// State / spec mismatches.
	if _, _, err := RunSegment(mse, st, rows, 1); err == nil {
		t.Error("state of another spec accepted")
	}
	over := st.Clone()
	over.Step = ^uint64(0)
	if _, _, err := RunSegment(job, over, rows, 2); err == nil {
		t.Error("step overflow accepted")
	}
	noRows := job
	noRows.RowCount = 0
	if _, _, err := RunSegment(noRows, st, rows, 1); err == nil {
		t.Error("zero rows accepted")
	}
	lora := job
	lora.Spec.LoRARank, lora.Spec.LoRAAlpha = 2, 1<<16
	if _, err := NewInitialState(lora); err == nil {
		t.Error("LoRA without base accepted")
	}
	// Diverged weights: refused by the accumulator bound, not wrapped.
	huge := st.Clone()
	for i := range huge.Layers[0].W {
		huge.Layers[0].W[i] = 1<<31 - 1
	}
	bigRows := badRows{RowSource: rows, mod: func(e *Example) {
		for i := range e.X {
			e.X[i] = -1 << 31
		}
	}}
	if _, _, err := RunSegment(job, huge, bigRows, 1); !errors.Is(err, ErrAccumulatorBound) {
		t.Errorf("overflow: err = %v, want ErrAccumulatorBound", err)
	}
}

// TestTrainingLearns checks that every objective and optimiser reduces the
// loss on learnable synthetic data (a teacher network's labels).
func TestTrainingLearns(t *testing.T) {
	for _, obj := range []string{"mse", "ce", "bt"} {
		for _, opt := range []string{"sgd", "momentum", "adam"} {
			job, _ := smallJob(t, obj, opt, 0)
			rows := teacherRows{spec: job.Spec}
			st, _ := NewInitialState(job)
			idx := make([]uint64, 97)
			for i := range idx {
				idx[i] = uint64(i)
			}
			before, err := Evaluate(job, st, rows, idx)
			if err != nil {
				t.Fatal(err)
			}
			st, mt, err := RunSegment(job, st, rows, 300)
			if err != nil {
				t.Fatal(err)
			}
			after, _ := Evaluate(job, st, rows, idx)
			if after.Loss >= before.Loss || mt.Saturations != 0 {
				t.Errorf("%s/%s: loss %d -> %d (saturations %d)", obj, opt, before.Loss, after.Loss, mt.Saturations)
			}
		}
	}
}

// teacherRows labels random inputs with a fixed linear teacher.
type teacherRows struct{ spec Spec }

func (r teacherRows) Row(i uint64) (Example, error) {
	ex, _ := synthRows{spec: r.spec}.Row(i)
	score := func(x []int32) int64 {
		var s int64
		for k, v := range x {
			s += int64(v) * int64(k%3-1)
		}
		return s
	}
	switch r.spec.Objective {
	case ObjectiveSoftmaxCE:
		ex.Label = 0
		if score(ex.X) > 0 {
			ex.Label = 1
		}
	case ObjectiveMSE:
		for k := range ex.Target {
			ex.Target[k] = int32(score(ex.X) / 4 * int64(k+1) / 3)
		}
	case ObjectiveBradleyTerry:
		if score(ex.X) < score(ex.Rejected) {
			ex.X, ex.Rejected = ex.Rejected, ex.X
		}
	}
	return ex, nil
}

func TestInitialStateHash(t *testing.T) {
	job, _ := smallJob(t, "ce", "momentum", 0)
	st, _ := NewInitialState(job)
	if h, err := InitialStateHash(job, nil); err != nil || h != st.Hash() {
		t.Fatalf("dense: %v", err)
	}
	lj, _ := smallJob(t, "bt", "adam", 2)
	lst, _ := NewInitialState(lj)
	bh := lj.Base.Hash()
	noBase := lj
	noBase.Base = nil
	if h, err := InitialStateHash(noBase, bh[:]); err != nil || h != lst.Hash() {
		t.Fatalf("LoRA from base hash only: %v", err)
	}
	if _, err := InitialStateHash(noBase, bh[:5]); err == nil {
		t.Fatal("short base hash accepted")
	}
}
