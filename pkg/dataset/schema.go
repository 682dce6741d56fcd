// Package dataset defines Hinterland's canonical dataset rows, their Merkle
// commitments (CometBFT crypto/merkle, RFC 6962 style), row proofs, the packed
// dataset file format, loaders for MNIST IDX and CSV files and a packer of
// text corpora into token rows (text.go).
//
// Row encodings and proof checks are consensus critical: like the engine,
// this package uses integers only (scripts/lint-determinism.sh).
//
// Schema encoding (version 1, 16 bytes, little endian):
//
//	u8 version=1 | u8 kind | u8 feature type | u8 fracBits | u32 features | u32 classes | u32 targets
//
// Row encoding (fixed width, little endian), by kind:
//
//	classification:   features | u32 label (< classes)
//	regression:       features | targets (int32 each, fracBits fractional bits)
//	preference:       chosen features | rejected features
//	tokens:           tokens (features bytes)
//	token preference: chosen tokens | rejected tokens | u32 prompt length
//
// where a feature is one byte (FeatureUint8) or an int32 with fracBits
// fractional bits (FeatureFixed32). Token rows feed the byte-level
// transformer (engine.ModelTransformer): a row is a sequence of T+1 byte
// tokens, always FeatureUint8, for a context of T (inputs 0..T-1, targets
// 1..T). A token preference row is a DPO pair: two sequences that share
// their first promptLen bytes (the prompt, 1..T of them) and differ in the
// response that follows.
package dataset

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Kind is what a row teaches.
type Kind uint8

// Row kinds (the zero value is invalid).
const (
	KindClassification Kind = 1 // features + class label (softmax cross-entropy)
	KindRegression     Kind = 2 // features + fixed-point targets (MSE)
	KindPreference     Kind = 3 // chosen + rejected features (Bradley-Terry)
	// KindTokens is a byte sequence of Features = T+1 tokens (next-token
	// prediction with a transformer of context T).
	KindTokens Kind = 4
	// KindTokenPreference is a DPO pair: a chosen and a rejected sequence of
	// Features = T+1 tokens sharing a prompt of 1..T tokens.
	KindTokenPreference Kind = 5
)

// Tokens reports whether rows of this kind are token sequences for the
// transformer rather than feature vectors.
func (k Kind) Tokens() bool { return k == KindTokens || k == KindTokenPreference }

// FeatureType is how a feature is stored.
type FeatureType uint8

// Feature types (the zero value is invalid).
const (
	FeatureUint8   FeatureType = 1 // one byte, 0..255; converted as round(p * 2^F / 255)
	FeatureFixed32 FeatureType = 2 // int32 with Schema.FracBits fractional bits
)

// Schema describes the fixed-width rows of a dataset.
type Schema struct {
	Kind     Kind
	Feature  FeatureType
	Features uint32 // per item, 1..engine.MaxInputs; token kinds: T+1 tokens, 2..engine.MaxInputs
	Classes  uint32 // classification: 2..engine.MaxWidth; otherwise 0
	Targets  uint32 // regression: 1..engine.MaxWidth; otherwise 0
	FracBits uint32 // fractional bits of fixed-point features and targets; 0 when nothing is fixed point
}

// SchemaSize is the length of an encoded schema.
const SchemaSize = 16

const schemaVersion = 1

// fixedPoint reports whether the schema stores fixed-point values.
func (s Schema) fixedPoint() bool { return s.Feature == FeatureFixed32 || s.Kind == KindRegression }

// Validate checks the schema; errors name the field and the limit.
func (s Schema) Validate() error {
	if s.Features < 1 || s.Features > engine.MaxInputs {
		return fmt.Errorf("schema: features %d out of range [1, %d]", s.Features, engine.MaxInputs)
	}
	if s.Feature != FeatureUint8 && s.Feature != FeatureFixed32 {
		return fmt.Errorf("schema: feature type %d unknown (want 1 uint8 or 2 fixed32)", s.Feature)
	}
	switch s.Kind {
	case KindClassification:
		if s.Classes < 2 || s.Classes > engine.MaxWidth {
			return fmt.Errorf("schema: classes %d out of range [2, %d]", s.Classes, engine.MaxWidth)
		}
		if s.Targets != 0 {
			return errors.New("schema: targets must be 0 for classification")
		}
	case KindRegression:
		if s.Targets < 1 || s.Targets > engine.MaxWidth {
			return fmt.Errorf("schema: targets %d out of range [1, %d]", s.Targets, engine.MaxWidth)
		}
		if s.Classes != 0 {
			return errors.New("schema: classes must be 0 for regression")
		}
	case KindPreference:
		if s.Classes != 0 || s.Targets != 0 {
			return errors.New("schema: classes and targets must be 0 for preference rows")
		}
	case KindTokens, KindTokenPreference:
		// A sequence of T+1 tokens holds T inputs and T next-token targets:
		// at least 2 tokens (and a prompt of 1..T of them for DPO pairs).
		if s.Features < 2 {
			return fmt.Errorf("schema: features %d: token rows hold T+1 >= 2 tokens", s.Features)
		}
		if s.Feature != FeatureUint8 {
			return fmt.Errorf("schema: feature type %d: token rows are bytes (feature type 1 uint8)", s.Feature)
		}
		if s.Classes != 0 || s.Targets != 0 {
			return errors.New("schema: classes and targets must be 0 for token rows")
		}
	default:
		return fmt.Errorf("schema: kind %d unknown (want 1 classification, 2 regression, 3 preference, 4 tokens, 5 token preference)", s.Kind)
	}
	if s.fixedPoint() {
		if err := engine.CheckFracBits(s.FracBits); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
	} else if s.FracBits != 0 {
		return errors.New("schema: frac bits must be 0 when no value is fixed point")
	}
	return nil
}

func (s Schema) featureBytes() int {
	if s.Feature == FeatureUint8 {
		return int(s.Features)
	}
	return 4 * int(s.Features)
}

// RowSize returns the byte length of every row (the schema must be valid).
func (s Schema) RowSize() int {
	switch s.Kind {
	case KindClassification:
		return s.featureBytes() + 4
	case KindRegression:
		return s.featureBytes() + 4*int(s.Targets)
	case KindTokens:
		return int(s.Features)
	case KindTokenPreference:
		return 2*int(s.Features) + 4
	default:
		return 2 * s.featureBytes()
	}
}

// Encode returns the canonical 16-byte schema encoding.
func (s Schema) Encode() []byte {
	b := make([]byte, 0, SchemaSize)
	b = append(b, schemaVersion, byte(s.Kind), byte(s.Feature), byte(s.FracBits))
	b = binary.LittleEndian.AppendUint32(b, s.Features)
	b = binary.LittleEndian.AppendUint32(b, s.Classes)
	return binary.LittleEndian.AppendUint32(b, s.Targets)
}

// DecodeSchema decodes and validates a canonical schema encoding.
func DecodeSchema(b []byte) (Schema, error) {
	if len(b) != SchemaSize {
		return Schema{}, fmt.Errorf("schema encoding: %d bytes, want %d", len(b), SchemaSize)
	}
	if b[0] != schemaVersion {
		return Schema{}, fmt.Errorf("schema encoding: version %d, want %d", b[0], schemaVersion)
	}
	s := Schema{Kind: Kind(b[1]), Feature: FeatureType(b[2]), FracBits: uint32(b[3]),
		Features: binary.LittleEndian.Uint32(b[4:]), Classes: binary.LittleEndian.Uint32(b[8:]),
		Targets: binary.LittleEndian.Uint32(b[12:])}
	if err := s.Validate(); err != nil {
		return Schema{}, err
	}
	return s, nil
}

// Compatible reports whether rows of this schema can train spec: same
// number of inputs, and the kind that the objective needs. A transformer
// (context T = spec.Inputs) trains on token rows of T+1 tokens: KindTokens
// for next-token prediction, KindTokenPreference for DPO; token rows train
// nothing else.
func (s Schema) Compatible(spec engine.Spec) error {
	if spec.Model == engine.ModelTransformer || s.Kind.Tokens() {
		return s.compatibleTokens(spec)
	}
	if s.Features != spec.Inputs {
		return fmt.Errorf("schema: %d features, spec has %d inputs", s.Features, spec.Inputs)
	}
	switch spec.Objective {
	case engine.ObjectiveSoftmaxCE:
		if s.Kind != KindClassification || s.Classes != spec.Outputs {
			return fmt.Errorf("schema: softmax cross-entropy with %d outputs needs classification rows with %d classes", spec.Outputs, spec.Outputs)
		}
	case engine.ObjectiveMSE:
		if s.Kind != KindRegression || s.Targets != spec.Outputs {
			return fmt.Errorf("schema: MSE with %d outputs needs regression rows with %d targets", spec.Outputs, spec.Outputs)
		}
	case engine.ObjectiveBradleyTerry:
		if s.Kind != KindPreference {
			return errors.New("schema: Bradley-Terry needs preference rows")
		}
	default:
		return fmt.Errorf("schema: unknown objective %d", spec.Objective)
	}
	return nil
}

// compatibleTokens is Compatible where the spec is a transformer or the rows
// are token sequences.
func (s Schema) compatibleTokens(spec engine.Spec) error {
	if spec.Model != engine.ModelTransformer {
		return fmt.Errorf("schema: token rows (kind %d) train only transformer specs (model %d), the spec has model %d",
			s.Kind, engine.ModelTransformer, spec.Model)
	}
	switch spec.Objective {
	case engine.ObjectiveNextToken:
		if s.Kind != KindTokens {
			return fmt.Errorf("schema: next-token prediction needs token rows (kind %d), got kind %d", KindTokens, s.Kind)
		}
	case engine.ObjectiveDPO:
		if s.Kind != KindTokenPreference {
			return fmt.Errorf("schema: DPO needs token preference rows (kind %d), got kind %d", KindTokenPreference, s.Kind)
		}
	default:
		return fmt.Errorf("schema: objective %d does not train a transformer (want %d next token or %d DPO)",
			spec.Objective, engine.ObjectiveNextToken, engine.ObjectiveDPO)
	}
	if uint64(s.Features) != uint64(spec.Inputs)+1 {
		return fmt.Errorf("schema: %d tokens per row, a transformer with context %d needs %d (T inputs and the next token)",
			s.Features, spec.Inputs, uint64(spec.Inputs)+1)
	}
	return nil
}
