package engine

import (
	"math"
	"testing"
)

func TestRoundShiftHandChecked(t *testing.T) {
	cases := []struct {
		x    int64
		s    uint
		want int64
	}{
		{5, 1, 3},   // 2.5 -> 3 (tie toward +inf)
		{-5, 1, -2}, // -2.5 -> -2 (tie toward +inf)
		{7, 2, 2},   // 1.75 -> 2
		{-7, 2, -2}, // -1.75 -> -2
		{6, 2, 2},   // 1.5 -> 2
		{-6, 2, -1}, // -1.5 -> -1
		{1, 1, 1},   // 0.5 -> 1
		{-1, 1, 0},  // -0.5 -> 0
		{0, 16, 0},
		{3 << 16, 16, 3},
		{42, 0, 42},
		{math.MaxInt64, 62, 2},                 // (2^63-1)/2^62 = 1.99.. -> 2
		{math.MinInt64, 62, -2},                // exact
		{math.MaxInt64, 1, 1 << 62},            // 2^62 - 0.5 -> 2^62 (tie up)
		{math.MinInt64 + 1, 1, -(1 << 62) + 1}, // -2^62 + 0.5 -> -2^62+1
	}
	for _, c := range cases {
		if got := roundShift(c.x, c.s); got != c.want {
			t.Errorf("roundShift(%d, %d) = %d, want %d", c.x, c.s, got, c.want)
		}
	}
}

func TestRoundDivAgreesWithShiftAndRule(t *testing.T) {
	cases := []struct{ n, d, want int64 }{
		{5, 2, 3}, {-5, 2, -2}, {7, 3, 2}, {-7, 3, -2}, {8, 3, 3}, {-8, 3, -3},
		{1, 3, 0}, {2, 3, 1}, {-1, 3, 0}, {-2, 3, -1}, {0, 7, 0}, {10, 1, 10},
		{math.MaxInt64, math.MaxInt64, 1}, {math.MinInt64, math.MaxInt64, -1},
	}
	for _, c := range cases {
		if got := roundDiv(c.n, c.d); got != c.want {
			t.Errorf("roundDiv(%d, %d) = %d, want %d", c.n, c.d, got, c.want)
		}
	}
	r := splitMix64{s: 1}
	for i := 0; i < 100000; i++ {
		x := int64(r.next()) >> (r.next() % 40)
		s := uint(r.next()%30) + 1
		if a, b := roundShift(x, s), roundDiv(x, int64(1)<<s); a != b {
			t.Fatalf("roundShift(%d,%d)=%d but roundDiv=%d", x, s, a, b)
		}
		// The rule itself, checked with exact float64 on small values.
		d := int64(r.next()%1000) + 1
		n := int64(r.next()%2000000) - 1000000
		want := int64(math.Floor(float64(n)/float64(d) + 0.5))
		if got := roundDiv(n, d); got != want {
			t.Fatalf("roundDiv(%d,%d) = %d, want %d", n, d, got, want)
		}
	}
}

func TestSat32(t *testing.T) {
	for _, c := range []struct {
		x    int64
		want int32
		sat  bool
	}{{0, 0, false}, {math.MaxInt32, math.MaxInt32, false}, {math.MaxInt32 + 1, math.MaxInt32, true},
		{math.MinInt32, math.MinInt32, false}, {math.MinInt32 - 1, math.MinInt32, true}, {math.MinInt64, math.MinInt32, true}} {
		if v, s := sat32(c.x); v != c.want || s != c.sat {
			t.Errorf("sat32(%d) = %d,%v want %d,%v", c.x, v, s, c.want, c.sat)
		}
	}
}

func TestCheckDotBound(t *testing.T) {
	if err := checkDotBound("t", 1<<31, 1<<31, 1, 0); err != nil {
		t.Errorf("2^62 must fit: %v", err)
	}
	if err := checkDotBound("t", 1<<31, 1<<31, 2, 0); err == nil {
		t.Error("2 * 2^62 = 2^63 must not fit")
	}
	if err := checkDotBound("t", 1<<31, 1<<31, 1, 1<<62-1); err != nil {
		t.Errorf("2^62 + 2^62-1 fits: %v", err)
	}
	if err := checkDotBound("t", 1<<31, 1<<31, 1, 1<<62); err == nil {
		t.Error("2^62 + 2^62 must not fit")
	}
}

func TestFixedConversions(t *testing.T) {
	if got := FixedFromUint8(255, 16); got != 1<<16 {
		t.Errorf("255 -> %d, want 65536", got)
	}
	if got := FixedFromUint8(0, 16); got != 0 {
		t.Errorf("0 -> %d", got)
	}
	// 128/255*65536 = 32896.5019... -> 32897
	if got := FixedFromUint8(128, 16); got != 32897 {
		t.Errorf("128 -> %d, want 32897", got)
	}
	if v, s := RescaleFixed(3, 8, 16); v != 3<<8 || s {
		t.Errorf("rescale up: %d %v", v, s)
	}
	if v, _ := RescaleFixed(384, 16, 8); v != 2 { // 1.5 -> 2
		t.Errorf("rescale down 1.5: %d", v)
	}
	if _, s := RescaleFixed(math.MaxInt32, 8, 24); !s {
		t.Error("rescale must report saturation")
	}
	cases := []struct {
		m    uint64
		neg  bool
		dec  uint32
		f    uint32
		want int32
	}{
		{15, false, 1, 16, 98304}, // 1.5
		{5, false, 1, 1 + 7, 128}, // 0.5 at F=8
		{1, false, 1, 8, 26},      // 0.1*256 = 25.6 -> 26
		{1, true, 1, 8, -26},      // -25.6 -> -26
		{5, true, 3, 8, -1},       // -0.005*256 = -1.28 -> -1
		{1953125, false, 9, 8, 1}, // 0.001953125*256 = 0.5 -> 1 (tie up)
		{1953125, true, 9, 8, 0},  // -0.5 -> 0 (tie toward +inf)
		{32767, false, 0, 16, 32767 << 16},
	}
	for _, c := range cases {
		got, err := FixedFromDecimal(c.m, c.neg, c.dec, c.f)
		if err != nil || got != c.want {
			t.Errorf("FixedFromDecimal(%d,%v,%d,%d) = %d,%v want %d", c.m, c.neg, c.dec, c.f, got, err, c.want)
		}
	}
	if _, err := FixedFromDecimal(32768, false, 0, 16); err == nil {
		t.Error("32768.0 at F=16 must not fit")
	}
	if v, err := FixedFromDecimal(32768, true, 0, 16); err != nil || v != math.MinInt32 {
		t.Errorf("-32768.0 at F=16 = %d, %v", v, err)
	}
}
