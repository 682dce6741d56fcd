package federated

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
)

// Non-IID split, the way McMahan et al. 2017 split MNIST ("pathological
// non-IID"): sort the rows by label (equal labels by row index), cut the
// sorted rows into participants*classesPer contiguous pieces, and give each
// participant classesPer pieces chosen by a seeded shuffle.
//
// The split is a row order: participant 0's rows, then participant 1's, and
// so on, so that participant p's rows are exactly the public shard
// ShardRange(rows, participants, p) of the reordered dataset. To make the
// sizes agree, slot j of participant p is ShardRange of p's shard into
// classesPer parts, and piece q of the sorted rows takes the size of the slot
// the shuffle gives it (sizes differ by at most one row). A participant holds
// exactly classesPer labels when every piece lies within one label and its
// pieces have different labels; with real class sizes a piece that straddles
// a label boundary adds a few rows of another label, and two pieces of one
// label can meet, as in the paper.
//
// The shuffle is Fisher-Yates over the slots, for i from n-1 down to 1 swap
// slot i with slot j = high64(next() * (i+1)), where next() is SplitMix64
// (engine/rng.go's constants) started at seed. Integers only.

// NonIID returns the row order of a non-IID split of rows with the given
// labels: order[k] is the original index of row k of the reordered dataset.
func NonIID(labels []uint32, participants, classesPer uint32, seed uint64) ([]uint64, error) {
	n := uint64(len(labels))
	pieces := uint64(participants) * uint64(classesPer)
	if participants == 0 || classesPer == 0 || pieces > n {
		return nil, fmt.Errorf("non-IID split: %d participants x %d pieces each needs at least %d rows (and both >= 1), have %d",
			participants, classesPer, pieces, n)
	}
	sorted := make([]uint64, n)
	for i := range sorted {
		sorted[i] = uint64(i)
	}
	slices.SortStableFunc(sorted, func(a, b uint64) int { return cmp.Compare(labels[a], labels[b]) })

	// slotLo[s], slotLen[s]: where slot s = p*classesPer + j lies in the output.
	slotLo := make([]uint64, 0, pieces)
	slotLen := make([]uint64, 0, pieces)
	for p := range participants {
		lo, hi, err := ShardRange(n, participants, p)
		if err != nil {
			return nil, err
		}
		for j := range classesPer {
			a, b, err := ShardRange(hi-lo, classesPer, j)
			if err != nil {
				return nil, err
			}
			slotLo = append(slotLo, lo+a)
			slotLen = append(slotLen, b-a)
		}
	}

	slot := make([]uint64, pieces) // piece q goes to slot[q]
	for q := range slot {
		slot[q] = uint64(q)
	}
	rng := seed
	for i := pieces - 1; i > 0; i-- {
		rng += 0x9e3779b97f4a7c15
		z := rng
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		j, _ := bits.Mul64(z, i+1)
		slot[i], slot[j] = slot[j], slot[i]
	}

	order := make([]uint64, n)
	var off uint64
	for _, s := range slot {
		copy(order[slotLo[s]:slotLo[s]+slotLen[s]], sorted[off:off+slotLen[s]])
		off += slotLen[s]
	}
	return order, nil
}

// Reorder returns a new dataset whose row k is row order[k] of f (and so a
// new Merkle root). order must be a permutation of f's rows.
func Reorder(f *dataset.File, order []uint64) (*dataset.File, error) {
	if uint64(len(order)) != f.Len() {
		return nil, fmt.Errorf("reorder: %d indices for %d rows", len(order), f.Len())
	}
	seen := make([]bool, f.Len())
	rows := make([][]byte, len(order))
	for k, i := range order {
		if i >= f.Len() || seen[i] {
			return nil, fmt.Errorf("reorder: index %d at position %d is out of range or repeated: not a permutation of %d rows", i, k, f.Len())
		}
		seen[i] = true
		b, err := f.RowBytes(i)
		if err != nil {
			return nil, err
		}
		rows[k] = b
	}
	return dataset.NewFile(f.Schema(), rows)
}

// NonIIDFile reorders a classification dataset by NonIID, ready to pack: the
// participants' public shards are then ShardRange(f.Len(), participants, p).
func NonIIDFile(f *dataset.File, participants, classesPer uint32, seed uint64) (*dataset.File, error) {
	if f.Schema().Kind != dataset.KindClassification {
		return nil, fmt.Errorf("non-IID split: dataset rows are of kind %d, want %d (classification)", f.Schema().Kind, dataset.KindClassification)
	}
	labels := make([]uint32, f.Len())
	for i := range labels {
		r, err := f.Row(uint64(i))
		if err != nil {
			return nil, err
		}
		labels[i] = r.Label
	}
	order, err := NonIID(labels, participants, classesPer, seed)
	if err != nil {
		return nil, err
	}
	return Reorder(f, order)
}
