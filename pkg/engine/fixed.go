package engine

import (
	"errors"
	"fmt"
	"math/bits"
)

// Fixed-point limits. FracBits F is the number of fractional bits of every
// tensor element: an int32 value v stands for v / 2^F.
const (
	MinFracBits     = 8
	MaxFracBits     = 24
	DefaultFracBits = 16

	// qBits is the internal precision of the transcendental approximations
	// (exp, log, sigmoid, softmax, Adam bias correction): Q30 in an int64.
	qBits = 30
	qOne  = int64(1) << qBits
)

const (
	maxInt32 = 1<<31 - 1
	minInt32 = -1 << 31
	maxInt64 = 1<<63 - 1
)

// ErrAccumulatorBound is wrapped by every error that reports an int64
// accumulator that could overflow; the computation is refused, never wrapped.
var ErrAccumulatorBound = errors.New("engine: int64 accumulator bound exceeded")

// ---------------------------------------------------------------------------
// THE rounding rule. Every rounding in the engine goes through roundShift or
// roundDiv (or the 128-bit variants below, which implement the same rule):
//
//	round(n / d) = floor((n + floor(d/2)) / d),  d > 0
//
// round to nearest, ties toward +infinity. For d = 2^s it is the arithmetic
// shift (n + 2^(s-1)) >> s. Both forms below are overflow-free for every int64.
// ---------------------------------------------------------------------------

// roundShift returns round(x / 2^s) for 0 <= s <= 62.
func roundShift(x int64, s uint) int64 {
	if s == 0 {
		return x
	}
	// floor(x/2^s) plus one exactly when the discarded low s bits are
	// >= 2^(s-1), i.e. when bit s-1 of x is set (two's complement).
	return (x >> s) + ((x >> (s - 1)) & 1)
}

// roundDiv returns round(n / d) for d > 0. It agrees with roundShift when d is
// a power of two.
func roundDiv(n, d int64) int64 {
	q, r := n/d, n%d
	if r < 0 { // Go truncates toward zero; convert to floor division.
		q--
		r += d
	}
	if r >= d-d/2 { // r + floor(d/2) >= d
		q++
	}
	return q
}

// roundDivU128 returns round((hi*2^64 + lo) / d) for an unsigned 128-bit
// numerator, and false if the quotient does not fit in 64 bits.
func roundDivU128(hi, lo, d uint64) (uint64, bool) {
	if d == 0 || hi >= d {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, d)
	if r >= d-d/2 {
		if q == ^uint64(0) {
			return 0, false
		}
		q++
	}
	return q, true
}

// mulDivRound returns round(a*b/d) for non-negative operands with a 128-bit
// intermediate product, and false if the result does not fit in 63 bits.
func mulDivRound(a, b, d uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	q, ok := roundDivU128(hi, lo, d)
	if !ok || q > maxInt64 {
		return 0, false
	}
	return q, true
}

// sat32 clamps x to the int32 range; the bool reports whether it clamped.
func sat32(x int64) (int32, bool) {
	if x > maxInt32 {
		return maxInt32, true
	}
	if x < minInt32 {
		return minInt32, true
	}
	return int32(x), false
}

// abs64 returns |x| as a uint64 (correct for math.MinInt64 too).
func abs64(x int64) uint64 {
	if x < 0 {
		return uint64(-(x + 1)) + 1
	}
	return uint64(x)
}

// checkDotBound verifies that a dot product of k terms with |a| <= maxA and
// |b| <= maxB, plus an added term of magnitude <= extra, fits in an int64:
// maxA*maxB*k + extra <= 2^63-1. Every kernel calls it before summing.
func checkDotBound(what string, maxA, maxB uint64, k int, extra uint64) error {
	p := maxA * maxB // both <= 2^31, so p <= 2^62: no overflow
	hi, lo := bits.Mul64(p, uint64(k))
	sum, carry := bits.Add64(lo, extra, 0)
	if hi != 0 || carry != 0 || sum > maxInt64 {
		return fmt.Errorf("%w: %s: %d terms with |a| <= %d and |b| <= %d (diverged weights or inputs?)",
			ErrAccumulatorBound, what, k, maxA, maxB)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Exported conversions, so that other packages (dataset) use the same rule.
// ---------------------------------------------------------------------------

// CheckFracBits reports whether f is an allowed number of fractional bits.
func CheckFracBits(f uint32) error {
	if f < MinFracBits || f > MaxFracBits {
		return fmt.Errorf("frac bits %d out of range [%d, %d]", f, MinFracBits, MaxFracBits)
	}
	return nil
}

// FixedFromUint8 converts a byte feature (0..255, e.g. a pixel) to fixed point
// with f fractional bits as round(p * 2^f / 255), so 0 -> 0.0 and 255 -> 1.0
// exactly. f must satisfy CheckFracBits.
func FixedFromUint8(p uint8, f uint32) int32 {
	return int32(roundDiv(int64(p)<<f, 255))
}

// RescaleFixed converts a fixed-point value with `from` fractional bits to one
// with `to` fractional bits: exact left shift (saturated) when to >= from,
// otherwise round(x / 2^(from-to)). Both must satisfy CheckFracBits. The bool
// reports saturation.
func RescaleFixed(x int32, from, to uint32) (int32, bool) {
	if to >= from {
		return sat32(int64(x) << (to - from))
	}
	return sat32(roundShift(int64(x), uint(from-to)))
}

// FixedFromDecimal converts the decimal number (-1)^neg * mantissa / 10^decimals
// to fixed point with f fractional bits: round(value * 2^f) with the engine's
// rounding rule (ties toward +infinity, also for negative values). decimals
// must be <= 19. It fails if the result does not fit in int32.
func FixedFromDecimal(mantissa uint64, neg bool, decimals uint32, f uint32) (int32, error) {
	if err := CheckFracBits(f); err != nil {
		return 0, err
	}
	if decimals > 19 {
		return 0, fmt.Errorf("decimal with %d fractional digits: at most 19 are supported", decimals)
	}
	den := uint64(1)
	for i := uint32(0); i < decimals; i++ {
		den *= 10
	}
	hi, lo := bits.Mul64(mantissa, uint64(1)<<f)
	if hi >= den {
		return 0, errors.New("decimal value out of fixed-point range")
	}
	q, r := bits.Div64(hi, lo, den)
	// value*2^f = q + r/den. Ties toward +inf: for a positive value round up
	// when r/den >= 1/2, for a negative one when r/den > 1/2.
	if (!neg && r >= den-den/2) || (neg && r > den/2) {
		q++
	}
	if neg {
		if q > 1<<31 {
			return 0, errors.New("decimal value out of fixed-point range")
		}
		return int32(-int64(q)), nil
	}
	if q > maxInt32 {
		return 0, errors.New("decimal value out of fixed-point range")
	}
	return int32(q), nil
}
