package engine

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelism is the goroutine cap of the kernels; 0 means GOMAXPROCS.
var parallelism atomic.Int32

// SetParallelism caps the goroutines a kernel may use (n <= 0 means
// runtime.GOMAXPROCS, 1 forces single-threaded execution) and returns the
// previous setting. Results never depend on it.
func SetParallelism(n int) int {
	if n < 0 {
		n = 0
	}
	return int(parallelism.Swap(int32(n)))
}

// Parallelism returns the current goroutine cap of the kernels.
func Parallelism() int {
	n := int(parallelism.Load())
	if g := runtime.GOMAXPROCS(0); n <= 0 || n > g {
		n = g
	}
	return n
}

// minParallelMACs is the smallest kernel worth splitting between goroutines
// (about 100 µs of work for the SIMD kernel: goroutine hand-off costs a few µs).
const minParallelMACs = 1 << 20

// epilogue says how a kernel turns an exact int64 dot product into an int32:
// out = sat32(round((dot + bias<<f) / div)), then max(out, 0) if relu.
// div is 2^f (shift > 0, div == 0) or any positive divisor (div > 0).
type epilogue struct {
	shift uint
	div   int64
	f     uint
	bias  []int32
	relu  bool
}

func (e *epilogue) finish(acc int64, j int) (int32, bool) {
	if e.bias != nil {
		acc += int64(e.bias[j]) << e.f
	}
	if e.div > 0 {
		acc = roundDiv(acc, e.div)
	} else {
		acc = roundShift(acc, e.shift)
	}
	if e.relu && acc < 0 {
		return 0, false
	}
	return sat32(acc)
}

// divEpilogue returns the epilogue dividing by d*2^f (d >= 1).
func divEpilogue(f uint, d int64) epilogue {
	if d&(d-1) == 0 { // power of two: same rule as a shift
		s := f
		for d > 1 {
			d >>= 1
			s++
		}
		return epilogue{shift: s, f: f}
	}
	return epilogue{div: d << f, f: f}
}

// useSIMD selects the amd64 AVX2 kernel when the CPU has it (see
// simd_amd64.go); the portable kernel gives identical results.
var useSIMD atomic.Bool

func init() { useSIMD.Store(simdAvailable) }

// SetSIMD enables or disables the amd64 AVX2 kernel and returns the previous
// setting; it cannot enable a kernel the CPU lacks. Results never depend on
// it (tests compare both kernels); it exists for benchmarks and for
// operators who prefer the portable code.
func SetSIMD(on bool) bool { return useSIMD.Swap(on && simdAvailable) }

// SIMDAvailable reports whether this CPU can run the SIMD kernel.
func SIMDAvailable() bool { return simdAvailable }

// maxAbs32 returns max |v| over the slice.
func maxAbs32(v []int32) uint64 {
	if useSIMD.Load() {
		return maxAbsSIMD(v)
	}
	return maxAbsGo(v)
}

func maxAbsGo(v []int32) uint64 {
	var lo, hi int32
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return max(abs64(int64(lo)), uint64(hi))
}

// packPairs interleaves consecutive row pairs of the r x k matrix src into
// dst for the portable kernel: element p of pair q is the uint64
// src[2q][p] (low 32 bits) | src[2q+1][p] << 32, so one load feeds two rows.
// An odd last row is not packed.
func packPairs(dst []uint64, src []int32, r, k int) []uint64 {
	pairs := r / 2
	if cap(dst) < pairs*k {
		dst = make([]uint64, pairs*k)
	}
	dst = dst[:pairs*k]
	for q := 0; q < pairs; q++ {
		s0 := src[2*q*k : 2*q*k+k]
		s1 := src[(2*q+1)*k : (2*q+1)*k+k]
		d := dst[q*k : q*k+k]
		s1 = s1[:len(s0)]
		d = d[:len(s0)]
		for p, x := range s0 {
			d[p] = uint64(uint32(x)) | uint64(uint32(s1[p]))<<32
		}
	}
	return dst
}

// dot2x2Packed returns the four dot products of two packed row pairs.
func dot2x2Packed(pa, pb []uint64) (s00, s01, s10, s11 int64) {
	pb = pb[:len(pa)]
	for p, x := range pa {
		y := pb[p]
		x0, x1 := int64(int32(x)), int64(x)>>32
		y0, y1 := int64(int32(y)), int64(y)>>32
		s00 += x0 * y0
		s01 += x0 * y1
		s10 += x1 * y0
		s11 += x1 * y1
	}
	return
}

func dot1(a, b []int32) int64 {
	b = b[:len(a)]
	var s int64
	for p, x := range a {
		s += int64(x) * int64(b[p])
	}
	return s
}

// gemmScratch holds the packing buffers of one caller (never shared between
// concurrent gemm calls).
type gemmScratch struct{ pa, pb []uint64 }

// gemmBlock computes c[i][j] = epilogue(a_i . b_j) for rows [0, m) and
// columns [j0, j1) (j0 even), with a m x k and b n x k row-major. It is
// blocked 2x2 (four int64 accumulators, each summing its k products
// exactly), column pairs outside so that the two b rows stay in L1 while the
// rows of a stream past. pa/pb are the packed pairs of the portable kernel,
// or nil for the SIMD kernel. It returns the saturation count.
func gemmBlock(c, a, b []int32, pa, pb []uint64, m, n, k, j0, j1 int, e *epilogue) uint64 {
	var sat uint64
	put := func(i, j int, acc int64) {
		v, s := e.finish(acc, j)
		c[i*n+j] = v
		if s {
			sat++
		}
	}
	j := j0
	for ; j+1 < j1; j += 2 {
		b0, b1 := b[j*k:j*k+k], b[(j+1)*k:(j+1)*k+k]
		i := 0
		for ; i+1 < m; i += 2 {
			var s00, s01, s10, s11 int64
			if pa != nil {
				s00, s01, s10, s11 = dot2x2Packed(pa[i/2*k:i/2*k+k], pb[j/2*k:j/2*k+k])
			} else {
				s00, s01, s10, s11 = dot2x2SIMD(a[i*k:i*k+k], a[(i+1)*k:(i+1)*k+k], b0, b1)
			}
			put(i, j, s00)
			put(i, j+1, s01)
			put(i+1, j, s10)
			put(i+1, j+1, s11)
		}
		if i < m {
			a0 := a[i*k : i*k+k]
			put(i, j, dot1(a0, b0))
			put(i, j+1, dot1(a0, b1))
		}
	}
	if j < j1 {
		b0 := b[j*k : j*k+k]
		for i := 0; i < m; i++ {
			put(i, j, dot1(a[i*k:i*k+k], b0))
		}
	}
	return sat
}

// gemm computes c = epilogue(a * b^T) (a m x k, b n x k) after proving that
// no accumulator can overflow, splitting column pairs of c between
// goroutines when the work is large enough. Each output element is computed
// entirely by one goroutine, so the result is independent of the split.
func gemm(what string, c, a, b []int32, m, n, k int, e epilogue, mt *Meter, sc *gemmScratch) error {
	a, b, c = a[:m*k], b[:n*k], c[:m*n]
	var extra uint64
	if e.bias != nil {
		extra = maxAbs32(e.bias[:n]) << e.f
	}
	if err := checkDotBound(what, maxAbs32(a), maxAbs32(b), k, extra); err != nil {
		return err
	}
	var pa, pb []uint64
	if !useSIMD.Load() {
		sc.pa = packPairs(sc.pa, a, m, k)
		sc.pb = packPairs(sc.pb, b, n, k)
		pa, pb = sc.pa, sc.pb
	}
	macs := uint64(m) * uint64(n) * uint64(k)
	mt.MACs += macs
	pairs := (n + 1) / 2
	workers := min(Parallelism(), pairs)
	if workers <= 1 || macs < minParallelMACs {
		mt.Saturations += gemmBlock(c, a, b, pa, pb, m, n, k, 0, n, &e)
		return nil
	}
	var wg sync.WaitGroup
	var sat atomic.Uint64
	for w := 0; w < workers; w++ {
		lo := 2 * (pairs * w / workers)
		hi := min(2*(pairs*(w+1)/workers), n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sat.Add(gemmBlock(c, a, b, pa, pb, m, n, k, lo, hi, &e))
		}()
	}
	wg.Wait()
	mt.Saturations += sat.Load()
	return nil
}

// transpose writes the cols x rows transpose of the rows x cols matrix src.
func transpose(dst, src []int32, rows, cols int) {
	dst = dst[:rows*cols]
	for r := 0; r < rows; r++ {
		row := src[r*cols : r*cols+cols]
		for c, v := range row {
			dst[c*rows+r] = v
		}
	}
}

// MatMul computes c = round(a * b^T / 2^f), saturated to int32, where a is
// m x k and b is n x k (row-major) and c is m x n: the engine's matrix kernel
// (rounding, saturation and bound check as documented in the package).
// It returns an error wrapping ErrAccumulatorBound when the int64 sums could
// overflow, or when the shapes do not match the slices.
func MatMul(c, a, b []int32, m, n, k int, f uint32) (Meter, error) {
	var mt Meter
	if err := CheckFracBits(f); err != nil {
		return mt, err
	}
	if m < 0 || n < 0 || k < 0 || len(a) < m*k || len(b) < n*k || len(c) < m*n {
		return mt, fmt.Errorf("matmul: shapes %dx%d * (%dx%d)^T do not fit slices of %d, %d, %d",
			m, k, n, k, len(a), len(b), len(c))
	}
	err := gemm("matmul", c, a, b, m, n, k, epilogue{shift: uint(f), f: uint(f)}, &mt, &gemmScratch{})
	return mt, err
}
