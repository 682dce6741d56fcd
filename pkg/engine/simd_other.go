//go:build !amd64 || purego

package engine

// No SIMD kernel on this architecture (or with -tags purego): the portable
// Go kernel is used; results are identical by construction.

const simdAvailable = false

func dot2x2SIMD(a0, a1, b0, b1 []int32) (s00, s01, s10, s11 int64) {
	return dot1(a0, b0), dot1(a0, b1), dot1(a1, b0), dot1(a1, b1)
}

func maxAbsSIMD(v []int32) uint64 { return maxAbsGo(v) }
