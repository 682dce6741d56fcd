package engine

import "math/bits"

// Integer approximations of exp, log, sigmoid, softplus, softmax and sqrt.
//
// They work in Q30 (an int64 holding value * 2^30) and use only the package
// rounding rule (fixed.go). Error bounds, asserted against float64 in
// approx_test.go on 200 000 random points each (measured maxima in brackets):
//
//	expQ(x), x in [-70, 0]      |err| <= 3 units of 2^-30  [2.6]
//	logQ(v), v in (0, 2^32)     |err| <= 8 units of 2^-30  [3.9]
//	sigmoidQ(x), |x| <= 70      |err| <= 3 units of 2^-30  [1.04]
//	softplusQ(x), |x| <= 70     |err| <= 8 units of 2^-30  [2.7]
//	softmax probabilities (F)   |err| <= 1 unit of 2^-F, F = 8, 16, 24
//	sqrtRound(u)                exact: the integer nearest to sqrt(u)
//
// Rounded to F <= 24 fractional bits, every Q30 bound above is below
// 2^-24 / 2, so results at F are within one unit of 2^-F of the true value.

const (
	ln2Q   = 744261118  // round(ln(2) * 2^30)
	log2eQ = 1549082005 // round(log2(e) * 2^30)

	expTerms = 12 // Taylor terms for exp2Table, u in [0, ln 2): remainder < 2^-33
	logTerms = 12 // atanh series terms for s in [0, 1/3): remainder < 2^-35

	expFloorQ = -64 << qBits // exp(x) for x < -64 is below 2^-92: returns 0
)

// mulQ returns round(x * c / 2^30) for |x| <= 2^40 and 0 <= c < 2^31 without
// overflowing: c is split as c_hi*2^15 + c_lo and the carry handled exactly.
func mulQ(x, c int64) int64 {
	cHi, cLo := c>>15, c&(1<<15-1)
	t := x * cHi // |t| <= 2^56
	a, b := t>>15, t&(1<<15-1)
	// x*c = a*2^30 + b*2^15 + x*cLo, so round(x*c/2^30) = a + round((b*2^15 + x*cLo)/2^30).
	return a + roundShift(b<<15+x*cLo, qBits)
}

// expQ returns exp(x) in Q30 for x <= 0 in Q30 (x > 0 is treated as 0).
// exp(x) = 2^n * 2^(i/64) * e^u with y = x*log2(e), n = floor(y), i the top
// six bits of the fraction of y and u = (rest of the fraction)*ln 2 in
// [0, ln2/64): 2^(i/64) from exp2Table, e^u - 1 from four Taylor terms
// (remainder below 2^-39), no divisions except by constants.
func expQ(x int64) int64 {
	if x > 0 {
		x = 0
	}
	if x < expFloorQ {
		return 0
	}
	y := mulQ(x, log2eQ) // in [-93*2^30, 0]
	n := y >> qBits      // floor
	f := y - n<<qBits    // [0, 2^30)
	t := exp2Table[f>>(qBits-6)]
	u := roundShift((f&(1<<(qBits-6)-1))*ln2Q, qBits) // < 2^24
	u2 := roundShift(u*u, qBits)
	u3 := roundShift(u2*u, qBits)
	p := u + roundShift(u2, 1) + roundDiv(u3, 6) + roundDiv(roundShift(u3*u, qBits), 24) // e^u - 1
	acc := t + roundShift(t*p, qBits)
	s := uint(-n)
	if s >= 62 {
		return 0
	}
	return roundShift(acc, s)
}

// exp2Table[i] = 2^(i/64) in Q30, computed once from the Taylor series of
// e^(i*ln2/64) in Horner form (integer arithmetic, so the same everywhere).
var exp2Table = func() (t [64]int64) {
	for i := range t {
		u := roundDiv(int64(i)*ln2Q, 64)
		acc := qOne
		for k := int64(expTerms); k >= 1; k-- {
			acc = qOne + roundDiv(u*acc, k<<qBits)
		}
		t[i] = acc
	}
	return
}()

// logQ returns ln(v / 2^30) in Q30 for v > 0 (v <= 0 returns the value for v = 1).
// v = m * 2^e with m in [1, 2) (Q30), ln(m) = 2*atanh(s), s = (m-1)/(m+1).
func logQ(v int64) int64 {
	if v <= 0 {
		v = 1
	}
	e := int64(bits.Len64(uint64(v))) - (qBits + 1)
	var m int64
	if e > 0 {
		m = roundShift(v, uint(e))
		if m == 2*qOne {
			m = qOne
			e++
		}
	} else {
		m = v << uint(-e)
	}
	s := roundDiv((m-qOne)<<qBits, m+qOne) // [0, 2^30/3)
	s2 := roundShift(s*s, qBits)
	acc := roundDiv(qOne, 2*logTerms-1)
	for k := int64(logTerms - 2); k >= 0; k-- {
		acc = roundDiv(qOne, 2*k+1) + roundShift(s2*acc, qBits)
	}
	return e*ln2Q + 2*roundShift(s*acc, qBits)
}

// sigmoidQ returns 1/(1+exp(-x)) in Q30 for x in Q30 with |x| <= 2^40.
func sigmoidQ(x int64) int64 {
	neg := x < 0
	if !neg {
		x = -x
	}
	t := expQ(x) // exp(-|x|) in (0, 1]
	den := qOne + t
	if neg {
		return roundDiv(t<<qBits, den)
	}
	return roundDiv(qOne<<qBits, den)
}

// softplusQ returns ln(1 + exp(x)) in Q30 for x in Q30 with |x| <= 2^40.
func softplusQ(x int64) int64 {
	if x <= 0 {
		return logQ(qOne + expQ(x))
	}
	return x + logQ(qOne+expQ(-x))
}

// softmaxRow writes softmax(z) with f fractional bits into p (same length as
// z) and returns ln(sum_i exp(z_i - max z)) in Q30 together with max z, so
// that the cross-entropy of class c is that value minus (z_c - max z).
// Each probability is round(e_i * 2^f / sum), e_i = expQ(z_i - max).
func softmaxRow(z []int32, f uint, p []int32) (logSumQ int64, zmax int32) {
	p = p[:len(z)]
	zmax = z[0]
	for _, v := range z {
		if v > zmax {
			zmax = v
		}
	}
	var sum int64 // <= len(z) * 2^30
	for i, v := range z {
		e := expQ((int64(v) - int64(zmax)) << (qBits - f))
		p[i] = int32(e) // stash e (<= 2^30) before normalising
		sum += e
	}
	for i := range p {
		p[i] = int32(roundDiv(int64(p[i])<<f, sum))
	}
	return logQ(sum), zmax
}

// toQ converts a fixed-point value with f fractional bits to Q30 (exact).
func toQ(x int64, f uint) int64 { return x << (qBits - f) }

// fromQ rounds a Q30 value to f fractional bits.
func fromQ(x int64, f uint) int64 { return roundShift(x, qBits-f) }

// isqrtSeed[t] = floor(sqrt((t+1) * 2^16)) + 1 > 2^8 * sqrt(t+1): an upper
// bound on sqrt of a number whose top bits are t, so that Newton's method,
// which decreases monotonically from above, needs 3-4 divisions.
var isqrtSeed = func() (t [256]uint64) {
	for i := range t {
		t[i] = isqrtSlow(uint64(i+1)<<16) + 1
	}
	return
}()

// isqrtSlow returns floor(sqrt(u)) by Newton's method from 2^ceil(len/2).
func isqrtSlow(u uint64) uint64 {
	if u < 2 {
		return u
	}
	return newtonSqrt(u, uint64(1)<<((bits.Len64(u)+1)/2))
}

// newtonSqrt returns floor(sqrt(u)) from a start x >= sqrt(u).
func newtonSqrt(u, x uint64) uint64 {
	for {
		y := (x + u/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}

// isqrt returns floor(sqrt(u)).
func isqrt(u uint64) uint64 {
	if u < 1<<16 {
		return isqrtSlow(u)
	}
	// u = top * 2^s + rest with s even and top < 256: sqrt(u) < sqrt(top+1) * 2^(s/2).
	s := uint(bits.Len64(u)-8+1) &^ 1
	x := isqrtSeed[u>>s&255] << (s / 2) >> 8
	return newtonSqrt(u, x+1)
}

// sqrtRound returns the integer nearest to sqrt(u) (no ties are possible).
func sqrtRound(u uint64) uint64 {
	r := isqrt(u)
	if u-r*r > r {
		r++
	}
	return r
}

// powQ returns b^t in Q30 for 0 <= b <= 2^30 by square-and-multiply, rounding
// each product with roundShift.
func powQ(b int64, t uint64) int64 {
	acc := qOne
	for t > 0 {
		if t&1 == 1 {
			acc = roundShift(acc*b, qBits)
		}
		t >>= 1
		if t > 0 {
			b = roundShift(b*b, qBits)
		}
	}
	return acc
}
