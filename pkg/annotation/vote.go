package annotation

import (
	"fmt"
)

// MajorityVote returns the weighted majority vote of every item: annotator a's
// label counts weights[a] (basis points, 0..10000; nil weights count 1 each,
// weight 0 ignores the annotator). The label is the value with the most weight,
// ties to the lowest value; the confidence is its share of the item's weight in
// basis points. An item without votes gets label 0 and confidence
// round(10000/K). It is the vote pass of an Aggregation without gold items and
// with zero EM iterations, so it has the same limits and errors.
func MajorityVote(n, k, a uint32, labels []Label, weights []uint32) (Result, error) {
	if err := checkShape(n, k, a, uint64(len(labels))); err != nil {
		return Result{}, err
	}
	if weights == nil {
		weights = make([]uint32, a)
		for i := range weights {
			weights[i] = 1
		}
	}
	if len(weights) != int(a) {
		return Result{}, fmt.Errorf("%w: %d weights for %d annotators", ErrParams, len(weights), a)
	}
	for i, w := range weights {
		if w > bps {
			return Result{}, fmt.Errorf("%w: weight %d of annotator %d above %d", ErrParams, w, i, bps)
		}
	}
	if err := checkLabels(n, k, a, labels); err != nil {
		return Result{}, err
	}
	goldOf := make([]uint16, n)
	for i := range goldOf {
		goldOf[i] = noGold
	}
	use := make([]bool, a)
	for i, w := range weights {
		use[i] = w != 0
	}
	g := newAggregation(n, k, a, Params{SmoothingBps: bps}, make([]GoldScore, a), goldOf, buildIndex(n, k, a, labels, use))
	for i, an := range g.active {
		g.weight[i] = int64(weights[an])
	}
	g.Step(^uint64(0))
	return g.Result()
}
