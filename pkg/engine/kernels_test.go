package engine

import (
	"errors"
	"math"
	"runtime"
	"testing"
)

// naiveGemm is the specification of the kernel: exact int64 dot products,
// then the package rounding and saturation.
func naiveGemm(a, b []int32, m, n, k int, f uint) []int32 {
	c := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int64
			for p := 0; p < k; p++ {
				s += int64(a[i*k+p]) * int64(b[j*k+p])
			}
			c[i*n+j], _ = sat32(roundShift(s, f))
		}
	}
	return c
}

// kernelModes runs f under every kernel implementation and thread count.
func kernelModes(t *testing.T, f func(t *testing.T)) {
	prevSIMD := SetSIMD(simdAvailable)
	defer SetSIMD(prevSIMD)
	defer SetParallelism(SetParallelism(0))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, simd := range []bool{false, true} {
		if simd && !simdAvailable {
			continue
		}
		SetSIMD(simd)
		for _, procs := range []int{1, 2, 8} {
			runtime.GOMAXPROCS(procs)
			SetParallelism(procs)
			f(t)
		}
	}
}

func TestMatMulHandChecked(t *testing.T) {
	// a = [[1, 2, 3], [4, 5, 6]] and b = [[1, 0, -1], [0.5, 0.5, 0.5]] at F=8;
	// a*b^T = [[-2, 3], [-2, 7.5]].
	const one = 256
	a := []int32{1 * one, 2 * one, 3 * one, 4 * one, 5 * one, 6 * one}
	b := []int32{one, 0, -one, one / 2, one / 2, one / 2}
	want := []int32{-2 * one, 3 * one, -2 * one, 7*one + one/2}
	kernelModes(t, func(t *testing.T) {
		c := make([]int32, 4)
		mt, err := MatMul(c, a, b, 2, 2, 3, 8)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if c[i] != want[i] {
				t.Fatalf("c = %v, want %v", c, want)
			}
		}
		if mt.MACs != 12 {
			t.Errorf("MACs = %d, want 12", mt.MACs)
		}
	})
	// Rounding at one place: 1/256 * 1/256 * 128 = 0.5 units -> rounds up to 1.
	c := make([]int32, 1)
	a1 := make([]int32, 128)
	for i := range a1 {
		a1[i] = 1
	}
	if _, err := MatMul(c, a1, a1, 1, 1, 128, 8); err != nil || c[0] != 1 {
		t.Errorf("128 * 2^-16 at F=8 = %d (%v), want 1 (0.5 rounds up)", c[0], err)
	}
}

func TestMatMulMatchesSpecification(t *testing.T) {
	r := splitMix64{s: 5}
	shapes := [][3]int{{1, 1, 1}, {2, 2, 8}, {3, 5, 7}, {32, 128, 784}, {33, 11, 17}, {5, 3, 9}, {64, 130, 33}, {7, 1, 16}, {1, 9, 31}}
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		a, b := make([]int32, m*k), make([]int32, n*k)
		for i := range a {
			a[i] = int32(r.next())
		}
		for i := range b {
			b[i] = int32(r.next()) >> 10 // keep k * 2^31 * 2^21 < 2^63
		}
		want := naiveGemm(a, b, m, n, k, 16)
		kernelModes(t, func(t *testing.T) {
			c := make([]int32, m*n)
			if _, err := MatMul(c, a, b, m, n, k, 16); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if c[i] != want[i] {
					t.Fatalf("shape %v simd=%v procs=%d: c[%d] = %d, want %d", sh, useSIMD.Load(), Parallelism(), i, c[i], want[i])
				}
			}
		})
	}
}

func TestMatMulExtremesAndBound(t *testing.T) {
	kernelModes(t, func(t *testing.T) {
		// One product of -2^31 * -2^31 = 2^62 fits; F=8 saturates the result.
		a := []int32{math.MinInt32, math.MinInt32, math.MinInt32, math.MinInt32, math.MinInt32, math.MinInt32, math.MinInt32, math.MinInt32}
		c := make([]int32, 1)
		mt, err := MatMul(c, a[:1], a[:1], 1, 1, 1, 8)
		if err != nil || c[0] != math.MaxInt32 || mt.Saturations != 1 {
			t.Fatalf("2^62 >> 8 = %d sat %d err %v", c[0], mt.Saturations, err)
		}
		// Eight such products would overflow int64: refused with an error.
		if _, err := MatMul(c, a, a, 1, 1, 8, 8); !errors.Is(err, ErrAccumulatorBound) {
			t.Fatalf("overflowing dot product: err = %v, want ErrAccumulatorBound", err)
		}
		// Shapes that do not fit the slices are an error, not a panic.
		if _, err := MatMul(c, a, a, 2, 2, 8, 8); err == nil {
			t.Fatal("bad shapes accepted")
		}
	})
}

func TestMaxAbs(t *testing.T) {
	r := splitMix64{s: 8}
	for n := 0; n < 70; n++ {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(r.next()) >> (r.next() % 31)
		}
		if n > 3 {
			v[r.uniformBelow(uint64(n))] = math.MinInt32
		}
		if a, b := maxAbsSIMD(v), maxAbsGo(v); a != b {
			t.Fatalf("n=%d: SIMD %d, Go %d", n, a, b)
		}
	}
}

func TestTranspose(t *testing.T) {
	src := []int32{1, 2, 3, 4, 5, 6}
	dst := make([]int32, 6)
	transpose(dst, src, 2, 3)
	want := []int32{1, 4, 2, 5, 3, 6}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("transpose = %v, want %v", dst, want)
		}
	}
}
