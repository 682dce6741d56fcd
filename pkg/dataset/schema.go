// Package dataset defines Hinterland's canonical dataset rows, their Merkle
// commitments (CometBFT crypto/merkle, RFC 6962 style), row proofs, the packed
// dataset file format and loaders for MNIST IDX and CSV files.
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
//	classification: features | u32 label (< classes)
//	regression:     features | targets (int32 each, fracBits fractional bits)
//	preference:     chosen features | rejected features
//
// where a feature is one byte (FeatureUint8) or an int32 with fracBits
// fractional bits (FeatureFixed32).
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
)

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
	Features uint32 // per item, 1..engine.MaxInputs
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
	default:
		return fmt.Errorf("schema: kind %d unknown (want 1 classification, 2 regression, 3 preference)", s.Kind)
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
// number of inputs, and the kind that the objective needs.
func (s Schema) Compatible(spec engine.Spec) error {
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
