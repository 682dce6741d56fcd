package cmd

import (
	"fmt"
	"io"
	"math"
)

// What `tx tasks post` tells a poster before it broadcasts: how much of the
// training the chain recomputes and how often sampling alone lets a tampered
// model through. Client-side figures only (float64); the chain's k comes from
// x/tasks (types.DeriveSamples, integer arithmetic).

// assuranceTamperBps are the tampered fractions the summary reports, in basis
// points (1%, 10%, 50% of the segments).
var assuranceTamperBps = []uint64{100, 1_000, 5_000}

// assuranceTargetBps and assuranceTargetCatch: the defaults must catch a
// worker who alters 10% of the segments with probability >= 99%.
const (
	assuranceTargetBps   = 1_000
	assuranceTargetCatch = 0.99
)

// alteredSegments is m = ceil(f*N) for f = bps/10000: the segments a worker
// who alters a fraction f of an N-segment transcript must alter (at least one
// for any f > 0). Integer arithmetic, so 10% of 880 is exactly 88.
func alteredSegments(n, bps uint64) uint64 {
	if bps >= 10_000 {
		return n
	}
	return (bps*n + 9_999) / 10_000
}

// acceptProbability is the probability that k segments sampled without
// replacement from N miss all m altered ones, C(N-m, k)/C(N, k)
// = prod_{i<k} (N-m-i)/(N-i): the chance the tampered model is accepted.
func acceptProbability(n, k, m uint64) float64 {
	switch {
	case m == 0 || k == 0:
		return 1
	case m > n || k > n-m:
		return 0
	}
	p := 1.0
	for i := uint64(0); i < k; i++ {
		p *= float64(n-m-i) / float64(n-i)
	}
	return p
}

// acceptProbabilityBinomial is (1-f)^k, the with-replacement approximation
// (slightly above the exact value: sampling without replacement catches more).
func acceptProbabilityBinomial(k, bps uint64) float64 {
	return math.Pow(1-float64(bps)/10_000, float64(k))
}

// assurance is a job's sampling: N segments of SegmentSteps steps (the last
// may be shorter), TotalSteps in all, k of them recomputed by the chain.
type assurance struct {
	Segments, Samples, SegmentSteps, TotalSteps uint64
}

// share is k/N, the fraction of the training the chain recomputes.
func (a assurance) share() float64 {
	if a.Segments == 0 {
		return 0
	}
	return float64(a.Samples) / float64(a.Segments)
}

// recomputedSteps bounds the steps the chain recomputes: k segments of at
// most SegmentSteps each, never more than the job.
func (a assurance) recomputedSteps() uint64 {
	if a.SegmentSteps != 0 && a.Samples > math.MaxUint64/a.SegmentSteps {
		return a.TotalSteps
	}
	return min(a.Samples*a.SegmentSteps, a.TotalSteps)
}

// accept is the probability that a model altered in a fraction bps/10000 of
// its segments is accepted.
func (a assurance) accept(bps uint64) float64 {
	return acceptProbability(a.Segments, a.Samples, alteredSegments(a.Segments, bps))
}

// meetsTarget tells whether the job catches a 10%-tamperer with >= 99%.
func (a assurance) meetsTarget() bool {
	return 1-a.accept(assuranceTargetBps) >= assuranceTargetCatch
}

// formatPercent prints a probability as a percentage, in scientific notation
// when it is below 0.01%.
func formatPercent(p float64) string {
	switch {
	case p == 0:
		return "0%"
	case p*100 < 0.01:
		return fmt.Sprintf("%.1e%%", p*100)
	default:
		return fmt.Sprintf("%.2f%%", p*100)
	}
}

// writeAssurance prints the summary; source says where k came from.
func writeAssurance(w io.Writer, a assurance, source string) {
	fmt.Fprintf(w, "assurance: the chain recomputes k = %d of N = %d segments (%s), %s of the training (at most %d of %d steps)\n",
		a.Samples, a.Segments, source, formatPercent(a.share()), a.recomputedSteps(), a.TotalSteps)
	fmt.Fprintf(w, "assurance: probability that sampling alone accepts a tampered model (exact, without replacement):\n")
	fmt.Fprintf(w, "  %-32s %s\n", "1 altered segment", formatPercent(acceptProbability(a.Segments, a.Samples, 1)))
	for _, bps := range assuranceTamperBps {
		m := alteredSegments(a.Segments, bps)
		label := fmt.Sprintf("%s of segments (%d altered)", formatBps(bps), m)
		fmt.Fprintf(w, "  %-32s %s\n", label, formatPercent(acceptProbability(a.Segments, a.Samples, m)))
	}
	if !a.meetsTarget() {
		fmt.Fprintf(w, "warning: a model altered in %s of its segments is accepted %s of the time (target <= %s): raise --%s or --%s, or use more segments\n",
			formatBps(assuranceTargetBps), formatPercent(a.accept(assuranceTargetBps)), formatPercent(1-assuranceTargetCatch), flagSamples, flagDetection)
	}
}

// formatBps prints basis points as a percentage ("1%", "10%", "0.5%").
func formatBps(bps uint64) string {
	return fmt.Sprintf("%g%%", float64(bps)/100)
}
