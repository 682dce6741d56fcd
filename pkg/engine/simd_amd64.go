//go:build amd64 && !purego

package engine

// The amd64 kernel uses AVX2 integer instructions (VPMULDQ: signed 32x32->64
// multiply; VPADDQ: 64-bit add) when the CPU and OS support them. Integer
// SIMD is exact, so it returns the same bits as the portable Go kernel
// (tests compare both on random and extreme inputs, and the golden
// transcripts run under both); only the speed differs. Build with
// -tags purego to leave it out.

// cpuid and xgetbv are implemented in simd_amd64.s.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// dot2x2AVX2 returns the four dot products of rows a0, a1 with rows b0, b1
// over n elements (n a multiple of 8), each summed exactly in int64 lanes.
//
//go:noescape
func dot2x2AVX2(a0, a1, b0, b1 *int32, n int) (s00, s01, s10, s11 int64)

// maxAbsAVX2 returns max |v[i]| over n elements (n a multiple of 8).
//
//go:noescape
func maxAbsAVX2(v *int32, n int) uint32

func detectAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if c1&osxsave == 0 || c1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state enabled by the OS
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0
}

var simdAvailable = detectAVX2()

func dot2x2SIMD(a0, a1, b0, b1 []int32) (s00, s01, s10, s11 int64) {
	a1, b0, b1 = a1[:len(a0)], b0[:len(a0)], b1[:len(a0)] // the assembly reads len(a0) of each
	n := len(a0) &^ 7
	if n > 0 {
		s00, s01, s10, s11 = dot2x2AVX2(&a0[0], &a1[0], &b0[0], &b1[0], n)
	}
	for p := n; p < len(a0); p++ {
		x0, x1 := int64(a0[p]), int64(a1[p])
		y0, y1 := int64(b0[p]), int64(b1[p])
		s00 += x0 * y0
		s01 += x0 * y1
		s10 += x1 * y0
		s11 += x1 * y1
	}
	return
}

func maxAbsSIMD(v []int32) uint64 {
	n := len(v) &^ 7
	var m uint64
	if n > 0 {
		m = uint64(maxAbsAVX2(&v[0], n))
	}
	return max(m, maxAbsGo(v[n:]))
}
