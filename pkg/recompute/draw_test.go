package recompute_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
)

func TestDrawSegmentsDistinctInRangeDeterministic(t *testing.T) {
	seed := sha256.Sum256([]byte("seed"))
	for _, c := range []struct {
		n uint64
		k uint32
	}{{1, 1}, {4, 2}, {100, 5}, {256, 64}, {10, 10}, {3, 9}} {
		got := recompute.DrawSegments(seed[:], c.n, c.k)
		want := int(c.k)
		if uint64(want) > c.n {
			want = int(c.n)
		}
		require.Len(t, got, want)
		seen := map[uint32]bool{}
		for _, s := range got {
			require.Less(t, uint64(s), c.n)
			require.False(t, seen[s], "duplicate %d", s)
			seen[s] = true
		}
		require.Equal(t, got, recompute.DrawSegments(seed[:], c.n, c.k), "same seed, same draw")
	}
	other := sha256.Sum256([]byte("other"))
	require.NotEqual(t, recompute.DrawSegments(seed[:], 100, 5), recompute.DrawSegments(other[:], 100, 5))
}

// Every segment is equally likely to be drawn (chi-squared over many seeds).
func TestDrawSegmentsUniform(t *testing.T) {
	const n, k, trials = 20, 3, 20000
	counts := make([]float64, n)
	for i := 0; i < trials; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		for _, s := range recompute.DrawSegments(b[:], n, k) {
			counts[s]++
		}
	}
	exp := float64(trials*k) / n
	var chi2 float64
	for _, c := range counts {
		chi2 += (c - exp) * (c - exp) / exp
	}
	// 19 degrees of freedom: P(chi2 > 43.8) = 0.001.
	require.Less(t, chi2, 43.8, "counts %v", counts)
}

// The detection experiment: a worker forges m = f*N of N segments; the chain
// samples k. Over many seeds, the caught rate matches the exact probability
// 1 - C(N-m,k)/C(N,k) (sampling without replacement), which is never below the
// 1-(1-f)^k of DESIGN.md. The table is printed with -v.
func TestDetectionRate(t *testing.T) {
	const trials = 4000
	var table strings.Builder
	fmt.Fprintf(&table, "\n%6s %6s %4s %10s %10s %12s\n", "N", "f", "k", "caught", "exact", "1-(1-f)^k")
	for _, c := range []struct {
		n    uint64
		frac float64
		k    uint32
	}{
		{100, 0.01, 5}, {100, 0.05, 5}, {100, 0.10, 5}, {100, 0.20, 5}, {100, 0.50, 5},
		{100, 0.10, 10}, {100, 0.10, 22}, {256, 0.05, 16}, {256, 0.01, 64}, {20, 0.10, 2},
	} {
		m := int(math.Round(c.frac * float64(c.n)))
		forged := make(map[uint32]bool, m)
		// Forged segments spread over the run (every n/m-th).
		for i := 0; i < m; i++ {
			forged[uint32(uint64(i)*c.n/uint64(m))] = true
		}
		caught := 0
		for trial := 0; trial < trials; trial++ {
			seed := sha256.Sum256([]byte(fmt.Sprintf("%d/%d/%d", c.n, m, trial)))
			for _, s := range recompute.DrawSegments(seed[:], c.n, c.k) {
				if forged[s] {
					caught++
					break
				}
			}
		}
		rate := float64(caught) / trials
		exact := 1.0
		for i := uint64(0); i < uint64(c.k); i++ { // C(N-m,k)/C(N,k) = prod (N-m-i)/(N-i)
			exact *= float64(c.n-uint64(m)-i) / float64(c.n-i)
		}
		exact = 1 - exact
		bound := 1 - math.Pow(1-c.frac, float64(c.k))
		fmt.Fprintf(&table, "%6d %6.2f %4d %10.4f %10.4f %12.4f\n", c.n, c.frac, c.k, rate, exact, bound)
		// 4000 trials: standard error <= 0.008; allow 4 sigma.
		require.InDelta(t, exact, rate, 0.032, "N=%d f=%.2f k=%d", c.n, c.frac, c.k)
		require.GreaterOrEqual(t, exact+1e-12, bound)
	}
	t.Log(table.String())
}
