package engine

import (
	"testing"
)

// synthRows is a deterministic in-memory RowSource for benchmarks and tests.
type synthRows struct {
	spec Spec
	n    uint64
}

func (s synthRows) Row(i uint64) (Example, error) {
	r := splitMix64{s: i*0x9e3779b97f4a7c15 + 12345}
	one := int64(1) << s.spec.FracBits
	feat := func() []int32 {
		x := make([]int32, s.spec.Inputs)
		for k := range x {
			x[k] = int32(r.uniformBelow(uint64(one + 1)))
		}
		return x
	}
	ex := Example{X: feat()}
	switch s.spec.Objective {
	case ObjectiveSoftmaxCE:
		ex.Label = uint32(r.uniformBelow(uint64(s.spec.Outputs)))
	case ObjectiveMSE:
		ex.Target = make([]int32, s.spec.Outputs)
		for k := range ex.Target {
			ex.Target[k] = int32(int64(r.uniformBelow(uint64(2*one+1))) - one)
		}
	case ObjectiveBradleyTerry:
		ex.Rejected = feat()
	}
	return ex, nil
}

func benchStep(b *testing.B, spec Spec) {
	job := Job{Spec: spec, RowCount: 1 << 20}
	if spec.IsLoRA() {
		base := spec
		base.LoRARank, base.LoRAAlpha = 0, 0
		st, err := NewInitialState(Job{Spec: base, RowCount: 1})
		if err != nil {
			b.Fatal(err)
		}
		job.Base, _ = st.Model(nil)
	}
	st, err := NewInitialState(job)
	if err != nil {
		b.Fatal(err)
	}
	rows := preloadRows(synthRows{spec: spec, n: job.RowCount})
	b.ResetTimer()
	_, mt, err := RunSegment(job, st, rows, uint64(b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(mt.MACs)/float64(b.N), "MACs/step")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(mt.MACs), "ns/MAC")
}

// tableRows serves pre-built examples by index (row fetch cost ~0).
type tableRows []Example

func (t tableRows) Row(i uint64) (Example, error) { return t[i%uint64(len(t))], nil }

// preloadRows materialises 4096 rows of src, served modulo 4096.
func preloadRows(src RowSource) RowSource {
	t := make(tableRows, 4096)
	for i := range t {
		t[i], _ = src.Row(uint64(i))
	}
	return t
}

// BenchmarkStep times training steps (one RunSegment of b.N steps, rows
// served from memory) at batch 32 for the default specs; ns/op is ns/step
// and ns/MAC is RunSegment's time per counted MAC.
func BenchmarkStep(b *testing.B) {
	for _, c := range []struct {
		name string
		spec Spec
	}{
		{"softmax-sgd", DefaultSpecMNISTSoftmax()},
		{"softmax-adam", DefaultSpecMNISTSoftmaxAdam()},
		{"mlp-784-128-10", DefaultSpecMNISTMLP()},
		{"lora-r4-mlp", DefaultSpecMNISTLoRA()},
	} {
		b.Run(c.name, func(b *testing.B) { benchStep(b, c.spec) })
	}
}
