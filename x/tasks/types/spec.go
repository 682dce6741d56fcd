package types

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/url"

	errorsmod "cosmossdk.io/errors"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// EngineSpec converts the on-chain spec to the engine's and validates it
// against the engine's own limits.
func (s TrainingSpec) EngineSpec() (engine.Spec, error) {
	es := engine.Spec{
		Model:        engine.ModelKind(s.Model),
		Inputs:       s.Inputs,
		Hidden:       append([]uint32(nil), s.Hidden...),
		Outputs:      s.Outputs,
		Objective:    engine.Objective(s.Objective),
		Optimizer:    engine.Optimizer(s.Optimizer),
		LearningRate: s.LearningRate,
		Momentum:     s.Momentum,
		Beta1:        s.Beta1,
		Beta2:        s.Beta2,
		Epsilon:      s.Epsilon,
		BatchSize:    s.BatchSize,
		FracBits:     s.FracBits,
		LoRARank:     s.LoraRank,
		LoRAAlpha:    s.LoraAlpha,
		DPOBeta:      s.DpoBeta,
	}
	if s.Model > 255 || s.Objective > 255 || s.Optimizer > 255 {
		return engine.Spec{}, errorsmod.Wrap(ErrInvalidSpec, "unknown model, objective or optimizer")
	}
	if err := es.Validate(); err != nil {
		return engine.Spec{}, errorsmod.Wrap(ErrInvalidSpec, err.Error())
	}
	return es, nil
}

// FromEngineSpec builds the on-chain spec of an engine spec and a schedule.
func FromEngineSpec(es engine.Spec, totalSteps, segmentSteps uint64, baseModelHash []byte) TrainingSpec {
	return TrainingSpec{
		Model:         ModelKind(es.Model),
		Inputs:        es.Inputs,
		Hidden:        append([]uint32(nil), es.Hidden...),
		Outputs:       es.Outputs,
		Objective:     Objective(es.Objective),
		Optimizer:     Optimizer(es.Optimizer),
		FracBits:      es.FracBits,
		BatchSize:     es.BatchSize,
		LearningRate:  es.LearningRate,
		Momentum:      es.Momentum,
		Beta1:         es.Beta1,
		Beta2:         es.Beta2,
		Epsilon:       es.Epsilon,
		LoraRank:      es.LoRARank,
		LoraAlpha:     es.LoRAAlpha,
		DpoBeta:       es.DPOBeta,
		BaseModelHash: baseModelHash,
		TotalSteps:    totalSteps,
		SegmentSteps:  segmentSteps,
	}
}

// Segments is N, the number of segments of the job: ceil(total / segment).
// The transcript holds N+1 checkpoint hashes.
func (s TrainingSpec) Segments() uint64 {
	if s.SegmentSteps == 0 {
		return 0
	}
	return (s.TotalSteps + s.SegmentSteps - 1) / s.SegmentSteps
}

// SegmentRange returns the first step and the step count of segment i.
func (s TrainingSpec) SegmentRange(i uint64) (start, steps uint64) {
	start = i * s.SegmentSteps
	steps = s.SegmentSteps
	if start+steps > s.TotalSteps {
		steps = s.TotalSteps - start
	}
	return start, steps
}

// ValidateSchedule checks the chain's limits on the job as a whole.
func (s TrainingSpec) ValidateSchedule(p Params) error {
	if s.TotalSteps == 0 || s.TotalSteps > p.MaxTotalSteps {
		return errorsmod.Wrapf(ErrInvalidSpec, "total_steps %d must be in 1..%d", s.TotalSteps, p.MaxTotalSteps)
	}
	if s.SegmentSteps == 0 || s.SegmentSteps > s.TotalSteps {
		return errorsmod.Wrapf(ErrInvalidSpec, "segment_steps %d must be in 1..total_steps (%d)", s.SegmentSteps, s.TotalSteps)
	}
	if n := s.Segments(); n > uint64(p.MaxSegments) {
		return errorsmod.Wrapf(ErrInvalidSpec, "total_steps/segment_steps gives %d segments, more than max_segments %d: raise segment_steps", n, p.MaxSegments)
	}
	if s.LoraRank > 0 && len(s.BaseModelHash) != HashLen {
		return errorsmod.Wrapf(ErrInvalidSpec, "base_model_hash must be %d bytes for a LoRA fine-tune, got %d", HashLen, len(s.BaseModelHash))
	}
	if s.LoraRank == 0 && len(s.BaseModelHash) != 0 {
		return errorsmod.Wrap(ErrInvalidSpec, "base_model_hash is only used with lora_rank > 0")
	}
	if s.BaseLoraRank > 0 && (s.LoraRank == 0 || s.BaseLoraRank > engine.MaxLoRARank) {
		return errorsmod.Wrapf(ErrInvalidSpec, "base_lora_rank %d: a stacked base needs lora_rank > 0 and a rank in 1..%d", s.BaseLoraRank, engine.MaxLoRARank)
	}
	return nil
}

// SpecHash identifies the whole training configuration:
// SHA-256("hinterland/taskspec/v1" ‖ engine spec encoding ‖ total_steps ‖
// segment_steps ‖ base_model_hash), integers little endian.
func SpecHash(es engine.Spec, s TrainingSpec) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/taskspec/v1"))
	h.Write(es.Encode())
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], s.TotalSteps)
	binary.LittleEndian.PutUint64(b[8:], s.SegmentSteps)
	h.Write(b[:])
	h.Write(s.BaseModelHash)
	return h.Sum(nil)
}

// DatasetSchema converts the on-chain row schema to the dataset package's.
func (s RowSchema) DatasetSchema() (dataset.Schema, error) {
	if s.Kind > 255 || s.FeatureType > 255 {
		return dataset.Schema{}, errorsmod.Wrap(ErrInvalidDataset, "unknown row kind or feature type")
	}
	ds := dataset.Schema{
		Kind:     dataset.Kind(s.Kind),
		Feature:  dataset.FeatureType(s.FeatureType),
		Features: s.Features,
		Classes:  s.Classes,
		Targets:  s.Targets,
		FracBits: s.FracBits,
	}
	if err := ds.Validate(); err != nil {
		return dataset.Schema{}, errorsmod.Wrap(ErrInvalidDataset, err.Error())
	}
	return ds, nil
}

// FromDatasetSchema converts the dataset package's schema to the on-chain one.
func FromDatasetSchema(ds dataset.Schema) RowSchema {
	return RowSchema{
		Kind:        RowKind(ds.Kind),
		FeatureType: FeatureType(ds.Feature),
		Features:    ds.Features,
		Classes:     ds.Classes,
		Targets:     ds.Targets,
		FracBits:    ds.FracBits,
	}
}

// Validate checks the dataset reference and its fit with the spec.
func (d DatasetRef) Validate(es engine.Spec, p Params) error {
	if len(d.Root) != HashLen {
		return errorsmod.Wrapf(ErrInvalidDataset, "root must be %d bytes, got %d", HashLen, len(d.Root))
	}
	if d.Rows == 0 {
		return errorsmod.Wrap(ErrInvalidDataset, "rows must be positive")
	}
	if d.Rows < uint64(es.BatchSize) {
		return errorsmod.Wrapf(ErrInvalidDataset, "rows %d is smaller than batch_size %d", d.Rows, es.BatchSize)
	}
	ds, err := d.Schema.DatasetSchema()
	if err != nil {
		return err
	}
	if err := ds.Compatible(es); err != nil {
		return errorsmod.Wrap(ErrInvalidDataset, err.Error())
	}
	return ValidateURI("dataset uri", d.Uri, p.MaxUriLength)
}

// ValidateURI accepts file://, http:// and https:// URIs of bounded length.
func ValidateURI(field, uri string, maxLen uint32) error {
	if uri == "" {
		return errorsmod.Wrapf(ErrInvalidDataset, "%s must not be empty", field)
	}
	if uint64(len(uri)) > uint64(maxLen) {
		return errorsmod.Wrapf(ErrInvalidDataset, "%s is %d bytes, more than max_uri_length %d", field, len(uri), maxLen)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return errorsmod.Wrapf(ErrInvalidDataset, "%s %q: %s", field, uri, err)
	}
	switch u.Scheme {
	case "file", "http", "https":
		return nil
	default:
		return errorsmod.Wrapf(ErrInvalidDataset, "%s %q: scheme must be file, http or https", field, uri)
	}
}

// DeriveSamples returns the smallest k with (1-f)^k <= 1-P, where f is the
// assumed forged fraction and P the target detection probability (both in
// basis points), computed in integers (values scaled by 10^12).
func DeriveSamples(detectionBps, assumedForgedBps uint32) (uint32, error) {
	if detectionBps == 0 || detectionBps >= 10_000 {
		return 0, fmt.Errorf("detection_bps %d must be in 1..9999", detectionBps)
	}
	if assumedForgedBps == 0 || assumedForgedBps >= 10_000 {
		return 0, fmt.Errorf("assumed_forged_bps %d must be in 1..9999", assumedForgedBps)
	}
	const scale = 1_000_000_000_000
	miss := uint64(scale)                                   // (1-f)^k, scaled
	limit := uint64(10_000-detectionBps) * (scale / 10_000) // 1-P, scaled
	keep := uint64(10_000 - assumedForgedBps)
	var k uint32
	for miss > limit {
		miss = miss * keep / 10_000
		k++
	}
	return k, nil
}

// TaskSeed fixes a task's training seed from its id and the hash of the block
// that includes the post: SHA-256("hinterland/seed/v1" ‖ id (8 bytes BE) ‖ block hash).
func TaskSeed(taskID uint64, blockHash []byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/seed/v1"))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], taskID)
	h.Write(b[:])
	h.Write(blockHash)
	return h.Sum(nil)
}

// EngineJob is the engine's view of a task (Base is set by callers that have
// the base model).
func EngineJob(t Task) (engine.Job, error) {
	es, err := t.Spec.EngineSpec()
	if err != nil {
		return engine.Job{}, err
	}
	if len(t.Seed) != HashLen {
		return engine.Job{}, errorsmod.Wrapf(ErrInvalidHash, "task %d seed must be %d bytes", t.Id, HashLen)
	}
	var seed [32]byte
	copy(seed[:], t.Seed)
	return engine.Job{Spec: es, Seed: seed, RowCount: t.Dataset.Rows}, nil
}
