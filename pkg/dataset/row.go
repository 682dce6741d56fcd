package dataset

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Row is a decoded dataset row. Feature values are the stored ones: 0..255
// for FeatureUint8, raw fixed point (Schema.FracBits) for FeatureFixed32.
// Token rows carry bytes in the token fields (which mirror engine.Example's)
// and leave the feature fields empty; feature rows leave the token fields
// empty.
type Row struct {
	Features []int32
	Label    uint32  // classification
	Targets  []int32 // regression, raw fixed point (Schema.FracBits)
	Rejected []int32 // preference: the rejected item's features

	Tokens         []byte // tokens: the Features = T+1 tokens; token preference: prompt + chosen response
	RejectedTokens []byte // token preference: prompt + rejected response (T+1 tokens)
	PromptLen      uint32 // token preference: tokens of the shared prompt, 1..T
}

// hasFeatureFields reports whether r sets any field of a feature row.
func (r Row) hasFeatureFields() bool {
	return len(r.Features) != 0 || r.Label != 0 || len(r.Targets) != 0 || len(r.Rejected) != 0
}

// hasTokenFields reports whether r sets any field of a token row.
func (r Row) hasTokenFields() bool {
	return len(r.Tokens) != 0 || len(r.RejectedTokens) != 0 || r.PromptLen != 0
}

// checkTokens checks the token fields of a row of a token kind: lengths,
// and for a preference pair the prompt length and the shared prompt.
func (s Schema) checkTokens(r Row) error {
	if r.hasFeatureFields() {
		return errors.New("row: token rows carry no features, label, targets or rejected features")
	}
	if len(r.Tokens) != int(s.Features) {
		return fmt.Errorf("row: %d tokens, schema has %d", len(r.Tokens), s.Features)
	}
	if s.Kind == KindTokens {
		if len(r.RejectedTokens) != 0 || r.PromptLen != 0 {
			return errors.New("row: token rows carry no rejected tokens or prompt length")
		}
		return nil
	}
	if len(r.RejectedTokens) != int(s.Features) {
		return fmt.Errorf("row: %d rejected tokens, schema has %d", len(r.RejectedTokens), s.Features)
	}
	if r.PromptLen < 1 || r.PromptLen >= s.Features {
		return fmt.Errorf("row: prompt length %d out of range [1, %d]", r.PromptLen, s.Features-1)
	}
	for i := range r.PromptLen {
		if r.Tokens[i] != r.RejectedTokens[i] {
			return fmt.Errorf("row: chosen and rejected tokens differ at %d, inside the prompt of %d tokens", i, r.PromptLen)
		}
	}
	return nil
}

func (s Schema) appendFeatures(b []byte, v []int32, what string) ([]byte, error) {
	if len(v) != int(s.Features) {
		return nil, fmt.Errorf("row: %d %s, schema has %d", len(v), what, s.Features)
	}
	for i, x := range v {
		if s.Feature == FeatureUint8 {
			if x < 0 || x > 255 {
				return nil, fmt.Errorf("row: %s[%d] = %d is not a byte", what, i, x)
			}
			b = append(b, byte(x))
		} else {
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		}
	}
	return b, nil
}

// EncodeRow returns the canonical encoding of r (see the package comment).
func EncodeRow(s Schema, r Row) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.Kind.Tokens() {
		if err := s.checkTokens(r); err != nil {
			return nil, err
		}
		b := append(make([]byte, 0, s.RowSize()), r.Tokens...)
		if s.Kind == KindTokenPreference {
			b = append(b, r.RejectedTokens...)
			b = binary.LittleEndian.AppendUint32(b, r.PromptLen)
		}
		return b, nil
	}
	if r.hasTokenFields() {
		return nil, errors.New("row: only token rows carry tokens or a prompt length")
	}
	b, err := s.appendFeatures(make([]byte, 0, s.RowSize()), r.Features, "features")
	if err != nil {
		return nil, err
	}
	switch s.Kind {
	case KindClassification:
		if r.Label >= s.Classes {
			return nil, fmt.Errorf("row: label %d out of range [0, %d)", r.Label, s.Classes)
		}
		if r.Targets != nil || r.Rejected != nil {
			return nil, errors.New("row: classification rows carry no targets or rejected item")
		}
		b = binary.LittleEndian.AppendUint32(b, r.Label)
	case KindRegression:
		if len(r.Targets) != int(s.Targets) {
			return nil, fmt.Errorf("row: %d targets, schema has %d", len(r.Targets), s.Targets)
		}
		if r.Label != 0 || r.Rejected != nil {
			return nil, errors.New("row: regression rows carry no label or rejected item")
		}
		for _, t := range r.Targets {
			b = binary.LittleEndian.AppendUint32(b, uint32(t))
		}
	case KindPreference:
		if r.Label != 0 || r.Targets != nil {
			return nil, errors.New("row: preference rows carry no label or targets")
		}
		if b, err = s.appendFeatures(b, r.Rejected, "rejected features"); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (s Schema) readFeatures(b []byte) ([]int32, []byte) {
	v := make([]int32, s.Features)
	if s.Feature == FeatureUint8 {
		for i := range v {
			v[i] = int32(b[i])
		}
		return v, b[len(v):]
	}
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, b[4*len(v):]
}

// DecodeRow decodes a canonical row; it rejects a wrong length, an
// out-of-range label, and a token pair whose prompt length is out of range
// or whose sequences differ inside the prompt, so EncodeRow(DecodeRow(b)) ==
// b for every accepted b. The row never aliases b.
func DecodeRow(s Schema, b []byte) (Row, error) {
	if err := s.Validate(); err != nil {
		return Row{}, err
	}
	if len(b) != s.RowSize() {
		return Row{}, fmt.Errorf("row: %d bytes, schema rows have %d", len(b), s.RowSize())
	}
	var r Row
	if s.Kind.Tokens() {
		n := int(s.Features)
		r.Tokens = append([]byte(nil), b[:n]...)
		if s.Kind == KindTokenPreference {
			r.RejectedTokens = append([]byte(nil), b[n:2*n]...)
			r.PromptLen = binary.LittleEndian.Uint32(b[2*n:])
		}
		if err := s.checkTokens(r); err != nil {
			return Row{}, err
		}
		return r, nil
	}
	r.Features, b = s.readFeatures(b)
	switch s.Kind {
	case KindClassification:
		r.Label = binary.LittleEndian.Uint32(b)
		if r.Label >= s.Classes {
			return Row{}, fmt.Errorf("row: label %d out of range [0, %d)", r.Label, s.Classes)
		}
	case KindRegression:
		r.Targets = make([]int32, s.Targets)
		for i := range r.Targets {
			r.Targets[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case KindPreference:
		r.Rejected, _ = s.readFeatures(b)
	}
	return r, nil
}

// convert turns stored features into engine fixed point with f fractional
// bits: FeatureUint8 p -> round(p * 2^f / 255) (engine.FixedFromUint8);
// FeatureFixed32 x -> x rescaled from Schema.FracBits to f
// (engine.RescaleFixed; a value that does not fit at f is an error).
func (s Schema) convert(v []int32, f uint32, what string, tab *byteTable) ([]int32, error) {
	out := make([]int32, len(v))
	for i, x := range v {
		if s.Feature == FeatureUint8 {
			if tab != nil {
				out[i] = tab[uint8(x)]
			} else {
				out[i] = engine.FixedFromUint8(uint8(x), f)
			}
			continue
		}
		y, sat := engine.RescaleFixed(x, s.FracBits, f)
		if sat {
			return nil, fmt.Errorf("%s[%d] = %d does not fit in fixed point with %d fractional bits", what, i, x, f)
		}
		out[i] = y
	}
	return out, nil
}

// byteTable caches engine.FixedFromUint8 for one F.
type byteTable [256]int32

func newByteTable(f uint32) *byteTable {
	var t byteTable
	for p := range t {
		t[p] = engine.FixedFromUint8(uint8(p), f)
	}
	return &t
}

// ToExample converts a decoded row to an engine example with f fractional
// bits (targets are rescaled like fixed-point features). A token row becomes
// an example with Tokens (and for a pair RejectedTokens and PromptLen) that
// share the row's slices, and no X.
func (s Schema) ToExample(r Row, f uint32) (engine.Example, error) {
	if s.Kind.Tokens() {
		if err := s.checkTokens(r); err != nil {
			return engine.Example{}, err
		}
	}
	return s.toExample(r, f, nil)
}

// toExample is ToExample on a row that DecodeRow accepted (token rows are
// not checked again).
func (s Schema) toExample(r Row, f uint32, tab *byteTable) (engine.Example, error) {
	if err := engine.CheckFracBits(f); err != nil {
		return engine.Example{}, err
	}
	var ex engine.Example
	if s.Kind.Tokens() {
		ex.Tokens, ex.RejectedTokens, ex.PromptLen = r.Tokens, r.RejectedTokens, r.PromptLen
		return ex, nil
	}
	var err error
	if ex.X, err = s.convert(r.Features, f, "feature", tab); err != nil {
		return ex, err
	}
	switch s.Kind {
	case KindClassification:
		ex.Label = r.Label
	case KindRegression:
		for i, t := range r.Targets {
			y, sat := engine.RescaleFixed(t, s.FracBits, f)
			if sat {
				return ex, fmt.Errorf("target[%d] = %d does not fit in fixed point with %d fractional bits", i, t, f)
			}
			ex.Target = append(ex.Target, y)
		}
	case KindPreference:
		if ex.Rejected, err = s.convert(r.Rejected, f, "rejected feature", tab); err != nil {
			return ex, err
		}
	}
	return ex, nil
}

// DecodeExample decodes a canonical row straight into an engine example.
func DecodeExample(s Schema, b []byte, f uint32) (engine.Example, error) {
	return decodeExample(s, b, f, nil)
}

func decodeExample(s Schema, b []byte, f uint32, tab *byteTable) (engine.Example, error) {
	r, err := DecodeRow(s, b)
	if err != nil {
		return engine.Example{}, err
	}
	return s.toExample(r, f, tab)
}
