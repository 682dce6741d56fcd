package cmd

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestAssuranceAlteredSegments(t *testing.T) {
	for _, tc := range []struct {
		n, bps, want uint64
	}{
		{880, 1_000, 88},
		{880, 100, 9}, // 8.8 -> 9
		{880, 5_000, 440},
		{200, 1_000, 20},
		{10, 100, 1}, // any f > 0 alters at least one segment
		{7, 10_000, 7},
		{0, 1_000, 0},
	} {
		if got := alteredSegments(tc.n, tc.bps); got != tc.want {
			t.Errorf("alteredSegments(%d, %d) = %d, want %d", tc.n, tc.bps, got, tc.want)
		}
	}
}

func TestAssuranceAcceptProbability(t *testing.T) {
	binom := func(n, k uint64) float64 { // C(n, k) in float64, fine for the small cases
		r := 1.0
		for i := uint64(0); i < k; i++ {
			r = r * float64(n-i) / float64(i+1)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		n, k, m uint64
		want    float64 // accept probability; NaN: compare with C(n-m,k)/C(n,k)
		tol     float64
	}{
		{"one altered segment is accepted with 1-k/N", 880, 44, 1, 1 - 44.0/880, 1e-12},
		{"one altered of 200 with k=8", 200, 8, 1, 0.96, 1e-12},
		{"nothing altered is always accepted", 880, 44, 0, 1, 0},
		{"k = 0 never catches", 880, 0, 88, 1, 0},
		{"N = k catches any alteration", 50, 50, 1, 0, 0},
		{"N = k, all altered", 50, 50, 50, 0, 0},
		{"k > N-m: some sample must hit", 10, 6, 5, 0, 0},
		{"small case against binomials", 20, 4, 3, math.NaN(), 1e-12},
		{"another small case", 30, 7, 10, math.NaN(), 1e-12},
	} {
		got := acceptProbability(tc.n, tc.k, tc.m)
		want := tc.want
		if math.IsNaN(want) {
			want = binom(tc.n-tc.m, tc.k) / binom(tc.n, tc.k)
		}
		if math.Abs(got-want) > tc.tol {
			t.Errorf("%s: acceptProbability(%d, %d, %d) = %v, want %v", tc.name, tc.n, tc.k, tc.m, got, want)
		}
	}
}

func TestAssuranceCatchRates(t *testing.T) {
	for _, tc := range []struct {
		name            string
		a               assurance
		bps             uint64
		catchMin        float64 // exact catch probability bounds
		catchMax        float64
		binomCatch      float64 // 1-(1-f)^k, to 2 decimals; < 0: skip
		meetsTarget     bool
		share           float64
		recomputedSteps uint64
	}{
		{"presets: N=880, k=44, 10%", assurance{880, 44, 4, 3520}, 1_000, 0.99, 0.992, 0.99, true, 0.05, 176},
		{"old presets: N=200, k=8, 10%", assurance{200, 8, 4, 800}, 1_000, 0.57, 0.58, 0.57, false, 0.04, 32},
		{"old demo: N=240, k=4, 10%", assurance{240, 4, 25, 6000}, 1_000, 0.34, 0.35, 0.34, false, 4.0 / 240, 100},
		{"presets at 50%", assurance{880, 44, 4, 3520}, 5_000, 1 - 1e-12, 1, -1, true, 0.05, 176},
		{"presets at 1%", assurance{880, 44, 4, 3520}, 100, 0.37, 0.38, 0.36, true, 0.05, 176},
		{"N = k", assurance{12, 12, 10, 115}, 100, 1, 1, -1, true, 1, 115},
	} {
		got := 1 - tc.a.accept(tc.bps)
		if got < tc.catchMin || got > tc.catchMax {
			t.Errorf("%s: catch = %v, want in [%v, %v]", tc.name, got, tc.catchMin, tc.catchMax)
		}
		if tc.binomCatch >= 0 {
			approx := 1 - acceptProbabilityBinomial(tc.a.Samples, tc.bps)
			if math.Abs(approx-tc.binomCatch) > 0.005 {
				t.Errorf("%s: binomial catch = %v, want ~%v", tc.name, approx, tc.binomCatch)
			}
			if got < approx {
				t.Errorf("%s: exact catch %v below the with-replacement %v", tc.name, got, approx)
			}
		}
		if tc.a.meetsTarget() != tc.meetsTarget {
			t.Errorf("%s: meetsTarget = %v, want %v", tc.name, !tc.meetsTarget, tc.meetsTarget)
		}
		if math.Abs(tc.a.share()-tc.share) > 1e-12 {
			t.Errorf("%s: share = %v, want %v", tc.name, tc.a.share(), tc.share)
		}
		if s := tc.a.recomputedSteps(); s != tc.recomputedSteps {
			t.Errorf("%s: recomputedSteps = %d, want %d", tc.name, s, tc.recomputedSteps)
		}
	}
}

func TestAssuranceSummary(t *testing.T) {
	var buf bytes.Buffer
	writeAssurance(&buf, assurance{880, 44, 4, 3520}, "--detection 0.99 at the default assumed_forged_bps 1000")
	out := buf.String()
	t.Log("\n" + out)
	for _, want := range []string{"k = 44 of N = 880", "5.00%", "at most 176 of 3520 steps", "1 altered segment", "95.00%", "1% of segments (9 altered)", "10% of segments (88 altered)", "50% of segments (440 altered)"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warning") {
		t.Errorf("the presets meet the target, yet:\n%s", out)
	}

	buf.Reset()
	writeAssurance(&buf, assurance{200, 8, 4, 800}, "--samples")
	if !strings.Contains(buf.String(), "warning: a model altered in 10% of its segments is accepted") {
		t.Errorf("no warning for k = 8 of 200:\n%s", buf.String())
	}
}

func TestAssuranceFormatPercent(t *testing.T) {
	for _, tc := range []struct {
		p    float64
		want string
	}{
		{0, "0%"},
		{1, "100.00%"},
		{0.05, "5.00%"},
		{0.009, "0.90%"},
		{1e-7, "1.0e-05%"},
	} {
		if got := formatPercent(tc.p); got != tc.want {
			t.Errorf("formatPercent(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
