// Package load is the chain load benchmark (make bench-chain): a mixed load
// of bank sends and task messages (post, claim, commit and reveal of real
// training jobs built with testutil/fixtures) from many accounts against a
// one-node chain and a four-validator localnet of real hinterlandd
// processes. It reports throughput, inclusion latency per kind of
// transaction, block time, the mix actually included, and the reveal
// handler's time measured in the same run.
package load

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// durations is a sample of durations.
type durations []time.Duration

// pct is the p-th percentile (nearest rank), 0 for an empty sample.
func (d durations) pct(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append(durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (d durations) mean() time.Duration {
	if len(d) == 0 {
		return 0
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// table renders rows of cells with aligned columns.
func table(rows [][]string) string {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			fmt.Fprintf(&b, "%-*s  ", widths[i], c)
		}
		b.WriteString("\n")
	}
	return b.String()
}
