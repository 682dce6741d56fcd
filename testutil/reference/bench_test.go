package reference_test

import (
	"runtime"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// matmulShapes are the MNIST MLP's forward shapes at batch 32 and one
// attention head of the LM of make bench-lm (T = 64, head width 16): the
// scores Q K^T and the weighted values P V.
var matmulShapes = []struct {
	name    string
	m, k, n int
}{
	{"32x784x128", 32, 784, 128},
	{"32x128x10", 32, 128, 10},
	{"attention-scores-64x16x64", 64, 16, 64},
	{"attention-values-64x64x16", 64, 64, 16},
}

func lcg(seed uint64) func() uint64 {
	return func() uint64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return seed >> 33
	}
}

// fixedOperands returns a (m x k) and b (n x k) with values in +-1.0 at F=16.
func fixedOperands(m, k, n int) (a, b, c []int32) {
	r := lcg(1)
	a, b, c = make([]int32, m*k), make([]int32, n*k), make([]int32, m*n)
	for i := range a {
		a[i] = int32(r()%(1<<17)) - 1<<16
	}
	for i := range b {
		b[i] = int32(r()%(1<<17)) - 1<<16
	}
	return
}

func floatOperands(m, k, n int) (a, b, c blas64.General) {
	r := lcg(2)
	a = blas64.General{Rows: m, Cols: k, Stride: k, Data: make([]float64, m*k)}
	b = blas64.General{Rows: k, Cols: n, Stride: n, Data: make([]float64, k*n)}
	c = blas64.General{Rows: m, Cols: n, Stride: n, Data: make([]float64, m*n)}
	for i := range a.Data {
		a.Data[i] = float64(r()%2001)/1000 - 1
	}
	for i := range b.Data {
		b.Data[i] = float64(r()%2001)/1000 - 1
	}
	return
}

// timeIt returns the time per call of f, measured over at least d.
func timeIt(f func(), d time.Duration) time.Duration {
	f()
	n := 0
	t0 := time.Now()
	for time.Since(t0) < d {
		f()
		n++
	}
	return time.Since(t0) / time.Duration(n)
}

// kernels are the engine's two matrix kernels (identical results).
var kernels = []struct {
	name string
	simd bool
}{{"simd", true}, {"portable", false}}

// BenchmarkMatMulVsGonum times the engine kernel (one goroutine) and gonum's
// float64 blas64.Gemm (NoTrans, NoTrans: its natural layout) on one core
// (GOMAXPROCS=1) in the same run and reports gonum time / engine time as
// x_gonum, for the SIMD (amd64 AVX2) and the portable kernel.
func BenchmarkMatMulVsGonum(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer engine.SetParallelism(engine.SetParallelism(1))
	defer engine.SetSIMD(engine.SetSIMD(true))
	for _, kn := range kernels {
		if kn.simd && !engine.SIMDAvailable() {
			continue
		}
		for _, s := range matmulShapes {
			b.Run(kn.name+"/"+s.name, func(b *testing.B) {
				engine.SetSIMD(kn.simd)
				fa, fb, fc := fixedOperands(s.m, s.k, s.n)
				ga, gb, gc := floatOperands(s.m, s.k, s.n)
				eng := func() {
					if _, err := engine.MatMul(fc, fa, fb, s.m, s.n, s.k, 16); err != nil {
						b.Fatal(err)
					}
				}
				gon := func() { blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, ga, gb, 0, gc) }
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					eng()
				}
				b.StopTimer()
				te := timeIt(eng, 300*time.Millisecond)
				tg := timeIt(gon, 300*time.Millisecond)
				macs := float64(s.m * s.n * s.k)
				b.ReportMetric(float64(tg)/float64(te), "x_gonum")
				b.ReportMetric(macs/float64(te.Nanoseconds()), "GMAC/s")
				b.ReportMetric(macs/float64(tg.Nanoseconds()), "gonum_GMAC/s")
			})
		}
	}
}

// BenchmarkMatMulScaling reports the speed-up of the engine kernel on
// (32x784)(784x128) with two goroutines over one (GOMAXPROCS=2) as x_scaling.
func BenchmarkMatMulScaling(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer engine.SetParallelism(engine.SetParallelism(2))
	defer engine.SetSIMD(engine.SetSIMD(true))
	s := matmulShapes[0]
	for _, kn := range kernels {
		if kn.simd && !engine.SIMDAvailable() {
			continue
		}
		b.Run(kn.name+"/"+s.name, func(b *testing.B) {
			engine.SetSIMD(kn.simd)
			fa, fb, fc := fixedOperands(s.m, s.k, s.n)
			run := func() {
				if _, err := engine.MatMul(fc, fa, fb, s.m, s.n, s.k, 16); err != nil {
					b.Fatal(err)
				}
			}
			engine.SetParallelism(2)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run()
			}
			b.StopTimer()
			engine.SetParallelism(1)
			t1 := timeIt(run, 300*time.Millisecond)
			engine.SetParallelism(2)
			t2 := timeIt(run, 300*time.Millisecond)
			b.ReportMetric(float64(t1)/float64(t2), "x_scaling")
		})
	}
}
