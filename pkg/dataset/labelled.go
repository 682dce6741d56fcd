package dataset

import "fmt"

// WithLabels is the labelled dataset an annotation job produces: row i is
// the items' row i carrying labels[i]. For classification rows the label
// replaces the row's own; for preference rows label 0 keeps the pair (the
// first candidate preferred) and label 1 swaps it, so that the labelled row's
// features (tokens, for token preference rows: a DPO pair's chosen response)
// are always the preferred candidate's. Anyone with the items and
// the chain's labels rebuilds the same rows, hence the same Merkle root.
func WithLabels(items *File, labels []byte) (*File, error) {
	if uint64(len(labels)) != items.Len() {
		return nil, fmt.Errorf("labelled dataset: %d labels for %d items", len(labels), items.Len())
	}
	s := items.Schema()
	rows := make([][]byte, items.Len())
	for i := range rows {
		r, err := items.Row(uint64(i))
		if err != nil {
			return nil, err
		}
		switch s.Kind {
		case KindClassification:
			if uint32(labels[i]) >= s.Classes {
				return nil, fmt.Errorf("labelled dataset: label %d of item %d outside %d classes", labels[i], i, s.Classes)
			}
			r.Label = uint32(labels[i])
		case KindPreference, KindTokenPreference:
			switch labels[i] {
			case 0:
			case 1:
				r.Features, r.Rejected = r.Rejected, r.Features
				r.Tokens, r.RejectedTokens = r.RejectedTokens, r.Tokens
			default:
				return nil, fmt.Errorf("labelled dataset: preference label %d of item %d is not 0 or 1", labels[i], i)
			}
		default:
			return nil, fmt.Errorf("labelled dataset: rows of kind %d cannot be labelled", s.Kind)
		}
		if rows[i], err = EncodeRow(s, r); err != nil {
			return nil, err
		}
	}
	return NewFile(s, rows)
}
