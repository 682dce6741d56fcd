package engine

import (
	"math"
	"testing"
)

const q = float64(qOne)

// maxErrQ evaluates |approx - exact| in units of 2^-30 over the grid.
func maxErrQ(n int, arg func(i int) int64, approx func(int64) int64, exact func(float64) float64) (float64, int64) {
	var worst float64
	var at int64
	for i := 0; i < n; i++ {
		x := arg(i)
		e := math.Abs(float64(approx(x)) - exact(float64(x)/q)*q)
		if e > worst {
			worst, at = e, x
		}
	}
	return worst, at
}

func TestApproxHandChecked(t *testing.T) {
	if got := expQ(0); got != qOne {
		t.Errorf("exp(0) = %d, want 2^30", got)
	}
	if got := expQ(-100 * qOne); got != 0 {
		t.Errorf("exp(-100) = %d, want 0", got)
	}
	if got := logQ(qOne); got != 0 {
		t.Errorf("ln(1) = %d, want 0", got)
	}
	if got := logQ(2 * qOne); got != ln2Q {
		t.Errorf("ln(2) = %d, want %d", got, ln2Q)
	}
	if got := sigmoidQ(0); got != qOne/2 {
		t.Errorf("sigmoid(0) = %d, want 2^29", got)
	}
	// ln(1+e^0) = ln 2
	if got := softplusQ(0); got != ln2Q {
		t.Errorf("softplus(0) = %d, want %d", got, ln2Q)
	}
	for _, c := range []struct{ u, want uint64 }{{0, 0}, {1, 1}, {2, 1}, {3, 2}, {4, 2}, {6, 2}, {7, 3}, {1 << 62, 1 << 31},
		{math.MaxUint64, 1 << 32}, {(1<<32 - 1) * (1<<32 - 1), 1<<32 - 1}} {
		if got := sqrtRound(c.u); got != c.want {
			t.Errorf("sqrtRound(%d) = %d, want %d", c.u, got, c.want)
		}
	}
	if got := powQ(qOne/2, 3); got != qOne/8 {
		t.Errorf("0.5^3 = %d", got)
	}
	p := make([]int32, 3)
	softmaxRow([]int32{0, 0, 0}, 16, p)
	for _, v := range p {
		if v != 21845 { // round(65536/3)
			t.Errorf("softmax uniform = %v", p)
		}
	}
}

func TestApproxErrorBounds(t *testing.T) {
	r := splitMix64{s: 99}
	grid := func(lo, hi int64) func(int) int64 {
		return func(int) int64 { return lo + int64(r.uniformBelow(uint64(hi-lo))) }
	}
	const n = 200000
	report := func(name string, w float64) { t.Logf("%s: max error %.2f units of 2^-30", name, w) }
	w, at := maxErrQ(n, grid(-70*qOne, 0), expQ, math.Exp)
	report("expQ", w)
	if w > 3 {
		t.Errorf("expQ error %.1f units of 2^-30 at %d, bound 3", w, at)
	}
	w, at = maxErrQ(n, grid(1, 1<<62), logQ, math.Log)
	report("logQ", w)
	if w > 8 {
		t.Errorf("logQ error %.1f at %d, bound 8", w, at)
	}
	if w, at := maxErrQ(n, grid(1, 4*qOne), logQ, math.Log); w > 8 {
		t.Errorf("logQ (small) error %.1f at %d, bound 8", w, at)
	}
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	w, at = maxErrQ(n, grid(-70*qOne, 70*qOne), sigmoidQ, sig)
	report("sigmoidQ", w)
	if w > 3 {
		t.Errorf("sigmoidQ error %.1f at %d, bound 3", w, at)
	}
	sp := func(x float64) float64 {
		if x > 0 {
			return x + math.Log1p(math.Exp(-x))
		}
		return math.Log1p(math.Exp(x))
	}
	w, at = maxErrQ(n, grid(-70*qOne, 70*qOne), softplusQ, sp)
	report("softplusQ", w)
	if w > 8 {
		t.Errorf("softplusQ error %.1f at %d, bound 8", w, at)
	}
	// sqrt: exact nearest integer.
	for i := 0; i < n; i++ {
		u := r.next() >> (r.next() % 64)
		s := sqrtRound(u)
		if d := math.Abs(float64(s) - math.Sqrt(float64(u))); d > 0.5+1e-6 {
			t.Fatalf("sqrtRound(%d) = %d, off by %.3f", u, s, d)
		}
		fl := isqrt(u)
		if fl*fl > u || (fl+1)*(fl+1) <= u && fl+1 < 1<<32 {
			t.Fatalf("isqrt(%d) = %d not the floor", u, fl)
		}
	}
	// softmax at F: each probability within 1 unit of 2^-F.
	for _, f := range []uint{8, 16, 24} {
		z := make([]int32, 10)
		p := make([]int32, 10)
		for it := 0; it < 20000; it++ {
			for i := range z {
				z[i] = int32(int64(r.uniformBelow(uint64(40)<<f)) - int64(20)<<f)
			}
			logSum, zmax := softmaxRow(z, f, p)
			var sum float64
			for _, v := range z {
				sum += math.Exp(float64(int64(v)-int64(zmax)) / float64(int64(1)<<f))
			}
			for i, v := range z {
				want := math.Exp(float64(int64(v)-int64(zmax))/float64(int64(1)<<f)) / sum * float64(int64(1)<<f)
				if d := math.Abs(float64(p[i]) - want); d > 1 {
					t.Fatalf("F=%d softmax[%d] = %d, want %.3f", f, i, p[i], want)
				}
			}
			if d := math.Abs(float64(logSum) - math.Log(sum)*q); d > 64 {
				t.Fatalf("log-sum-exp off by %.1f units of 2^-30", d)
			}
		}
	}
}
