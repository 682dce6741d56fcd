package reference_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// BenchmarkStepVsFloat64 is the training step against its peer: one
// optimiser step of the engine (SIMD and portable kernels) and of the float64
// gonum reference on the same spec, state and rows, timed in the same run
// (one core, GOMAXPROCS=1), for the MNIST MLP preset (batch 32) and the
// language-model shape of make bench-lm (T=64, L=2, d=64, H=4, batch 8).
// x_float64 is the reference's time over the engine's (the goal is
// >= 2.5); kernel_share is the step's MAC rate over the bare kernel's on the
// step's largest matrix shape, i.e. how much of the step is matrix work.
func BenchmarkStepVsFloat64(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer engine.SetParallelism(engine.SetParallelism(1))
	defer engine.SetSIMD(engine.SetSIMD(true))
	mnist := datasettest.MNIST(b, "train")
	mrows, err := mnist.Source(16)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name    string
		spec    engine.Spec
		rows    engine.RowSource
		count   uint64
		m, k, n int // the largest forward product, for the kernel's rate
	}{
		{"mnist-mlp", engine.DefaultSpecMNISTMLP(), mrows, mnist.Len(), 32, 784, 128},
		{"lm-T64-L2-d64", lmBenchSpec(), textRows{text: []byte(gradText + gradText + gradText + gradText), T: 64}, 64, 512, 64, 256},
	}
	for _, kn := range kernels {
		if kn.simd && !engine.SIMDAvailable() {
			continue
		}
		for _, c := range cases {
			b.Run(c.name+"/"+kn.name, func(b *testing.B) {
				engine.SetSIMD(kn.simd)
				job := engine.Job{Spec: c.spec, Seed: [32]byte{1}, RowCount: c.count}
				st, err := engine.NewInitialState(job)
				if err != nil {
					b.Fatal(err)
				}
				// Segments of 4 steps, as the presets' (the per-segment state
				// copy is then shared by 4 steps); times are per step.
				const seg = 4
				step := func() {
					if st, _, err = engine.RunSegment(job, st, c.rows, seg); err != nil {
						b.Fatal(err)
					}
				}
				var ref func()
				if c.spec.Model == engine.ModelTransformer {
					tr, err := reference.TransformerFromState(job, st)
					if err != nil {
						b.Fatal(err)
					}
					ref = func() {
						if err := tr.Run(job, c.rows, seg); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					tr, err := reference.FromState(job, st)
					if err != nil {
						b.Fatal(err)
					}
					ref = func() {
						if err := tr.Run(job, c.rows, seg); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					step()
				}
				b.StopTimer()
				te := timeIt(step, time.Second) / seg
				tf := timeIt(ref, time.Second) / seg
				fa, fb, fc := fixedOperands(c.m, c.k, c.n)
				tk := timeIt(func() {
					if _, err := engine.MatMul(fc, fa, fb, c.m, c.n, c.k, 16); err != nil {
						b.Fatal(err)
					}
				}, 300*time.Millisecond)
				macs := float64(engine.MACsPerStep(c.spec))
				kernelRate := float64(c.m*c.k*c.n) / float64(tk.Nanoseconds())
				b.ReportMetric(float64(tf)/float64(te), "x_float64")
				b.ReportMetric(macs/float64(te.Nanoseconds())/kernelRate, "kernel_share")
				b.ReportMetric(float64(te.Microseconds()), "engine_us/step")
				b.ReportMetric(float64(tf.Microseconds()), "float64_us/step")
			})
		}
	}
}
