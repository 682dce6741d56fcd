package annotation

import (
	"cmp"
	"fmt"
	"slices"
)

// Label is one annotator's answer for one item.
type Label struct {
	Item      uint32 // 0..N-1
	Annotator uint32 // 0..A-1, a dense index assigned by the caller
	Value     uint32 // 0..K-1
}

// Gold is an item whose label the requester knows.
type Gold struct {
	Item  uint32
	Value uint32
}

// GoldScore is one annotator's record on the gold items it labelled.
type GoldScore struct {
	Seen        uint32 // gold items labelled
	Correct     uint32 // of which labelled with the gold value
	AccuracyBps uint32 // round(10000 * Correct / Seen), 0 when Seen = 0
}

// bps is 1.0 in basis points.
const bps = 10000

// GoldAccuracy scores annotators 0..a-1 on the gold items: labels of non-gold
// items are ignored. It fails on an annotator index >= a, on a gold item
// given twice, or on inputs over MaxLabels, MaxItems (gold) or MaxAnnotators.
// Work: O((len(labels) + len(gold)) * log len(gold)).
func GoldAccuracy(labels []Label, gold []Gold, a uint32) ([]GoldScore, error) {
	if a == 0 || a > MaxAnnotators {
		return nil, fmt.Errorf("%w: %d annotators, want 1..%d", ErrLimit, a, MaxAnnotators)
	}
	if len(labels) > MaxLabels || len(gold) > MaxItems {
		return nil, fmt.Errorf("%w: %d labels and %d gold items, at most %d and %d", ErrLimit, len(labels), len(gold), MaxLabels, MaxItems)
	}
	sorted := slices.Clone(gold)
	slices.SortFunc(sorted, func(x, y Gold) int { return cmp.Compare(x.Item, y.Item) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Item == sorted[i-1].Item {
			return nil, fmt.Errorf("%w: item %d is given twice", ErrGold, sorted[i].Item)
		}
	}
	scores := make([]GoldScore, a)
	for _, l := range labels {
		if l.Annotator >= a {
			return nil, fmt.Errorf("%w: annotator %d of item %d, want < %d", ErrLabel, l.Annotator, l.Item, a)
		}
		j, ok := slices.BinarySearchFunc(sorted, l.Item, func(g Gold, item uint32) int { return cmp.Compare(g.Item, item) })
		if !ok {
			continue
		}
		s := &scores[l.Annotator]
		s.Seen++
		if l.Value == sorted[j].Value {
			s.Correct++
		}
	}
	for i := range scores {
		scores[i].AccuracyBps = accuracyBps(scores[i])
	}
	return scores, nil
}

func accuracyBps(s GoldScore) uint32 {
	if s.Seen == 0 {
		return 0
	}
	return uint32(roundDiv(int64(s.Correct)*bps, int64(s.Seen)))
}

// Dropped reports, per annotator, whether it fails the gold threshold: only
// an annotator that has seen at least max(minSeen, 1) gold items is judged,
// and it is dropped when Correct/Seen < minAccuracyBps/10000 (compared
// exactly, not after rounding).
func Dropped(scores []GoldScore, minSeen, minAccuracyBps uint32) []bool {
	minSeen = max(minSeen, 1)
	out := make([]bool, len(scores))
	for i, s := range scores {
		out[i] = s.Seen >= minSeen && uint64(s.Correct)*bps < uint64(minAccuracyBps)*uint64(s.Seen)
	}
	return out
}

// VoteWeights returns each annotator's vote weight: 0 if dropped, otherwise
// its Laplace-smoothed gold accuracy round(10000*(Correct+1)/(Seen+2)) in
// basis points (1..10000; 5000 without gold items). dropped may be nil.
func VoteWeights(scores []GoldScore, dropped []bool) []uint32 {
	w := make([]uint32, len(scores))
	for i, s := range scores {
		if dropped != nil && dropped[i] {
			continue
		}
		w[i] = uint32(roundDiv((int64(s.Correct)+1)*bps, int64(s.Seen)+2))
	}
	return w
}
