package reference_test

import (
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// lmBenchSpec is a small LM of the size a demo pretrains: T = 64, 2 blocks
// of width 64 with 4 heads, batch 8 (512 tokens a step), Adam.
func lmBenchSpec() engine.Spec {
	return engine.Spec{Model: engine.ModelTransformer, Inputs: 64, Hidden: []uint32{2, 64, 4}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerAdam, LearningRate: 66,
		Beta1: 58982, Beta2: 65470, Epsilon: 1, BatchSize: 8, FracBits: 16}
}

// BenchmarkLMStep compares one training step of the fixed-point engine with
// the float64 gonum reference on the same spec and rows (tokens/s reported;
// the ratio of the two is the training-step speed against the peer).
func BenchmarkLMStep(b *testing.B) {
	spec := lmBenchSpec()
	job := engine.Job{Spec: spec, Seed: [32]byte{1}, RowCount: 64}
	rows := textRows{text: []byte(gradText + gradText + gradText + gradText), T: 64}
	tokens := float64(spec.BatchSize) * float64(spec.Inputs)
	b.Run("engine", func(b *testing.B) {
		st, err := engine.NewInitialState(job)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if st, _, err = engine.RunSegment(job, st, rows, 1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(tokens*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("float64", func(b *testing.B) {
		st, _ := engine.NewInitialState(job)
		tr, err := reference.TransformerFromState(job, st)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := tr.Run(job, rows, 1); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(tokens*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
}
