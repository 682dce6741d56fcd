package recompute

import (
	"fmt"
	"math/bits"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// MaxDatasetRows is the largest row count a dataset may declare: a row's
// Merkle proof (CometBFT crypto/merkle) carries its index and the tree size
// as int64, and the tree is split at powers of two below the size, so 2^62
// rows keep every quantity of the proof in range (62 aunts at most, far below
// crypto/merkle's MaxAunts of 100).
const MaxDatasetRows = 1 << 62

// Wire overhead of a reveal, used to bound its size from above: per row, the
// RowProof message's tags and varints (index <= 10 bytes, length prefixes of
// the row and of the message <= 3 bytes each) and per aunt a tag and length
// byte; per reveal, the worker address, task id, segment and the length
// prefixes of the start state and base model.
const (
	rowWireOverhead    = 1 + 10 + 1 + 3 + 1 + 3
	auntWireOverhead   = 2
	revealWireOverhead = 256
)

// Cost is what revealing and recomputing one segment of a task costs, in the
// units the chain charges gas for. SegmentCost computes it in O(1) from the
// task's spec and dataset reference, before anything whose size grows with
// them is built, so every limit can be checked and all gas charged first.
type Cost struct {
	Steps     uint64 // training steps of the segment
	BatchRows uint64 // row look-ups: Steps x batch size
	MACs      uint64 // matrix work (engine.MACsPerStep x Steps, plus a stacked base's merge)
	// Activations is the element-wise work (engine.ActivationsPerStep x Steps).
	Activations uint64
	// ParamSteps is the optimiser's work: trainable parameters x Steps x
	// engine.OptimizerOpsPerParam.
	ParamSteps uint64
	StateBytes uint64 // the encoded start (and end) state
	BaseBytes  uint64 // the encoded base model (LoRA), else 0
	RowBytes   uint64 // one row's canonical encoding
	ProofDepth uint64 // aunts in one row's Merkle proof
	// MaxRows bounds the distinct rows the segment uses: min(BatchRows,
	// dataset rows); RevealBytes bounds a well-formed reveal carrying them.
	MaxRows     uint64
	RevealBytes uint64
}

// SegmentCost is the cost of segment i of a task with this spec and dataset.
func SegmentCost(spec taskstypes.TrainingSpec, d taskstypes.DatasetRef, i uint64) (Cost, error) {
	es, err := spec.EngineSpec()
	if err != nil {
		return Cost{}, err
	}
	if n := spec.Segments(); i >= n {
		return Cost{}, fmt.Errorf("segment %d of a %d-segment task", i, n)
	}
	if d.Rows == 0 || d.Rows > MaxDatasetRows {
		return Cost{}, fmt.Errorf("dataset rows %d must be in 1..2^62 (what a row's Merkle proof can address)", d.Rows)
	}
	schema, err := d.Schema.DatasetSchema()
	if err != nil {
		return Cost{}, err
	}
	_, steps := spec.SegmentRange(i)
	c := Cost{
		Steps:      steps,
		StateBytes: engine.EncodedStateSize(es),
		RowBytes:   uint64(schema.RowSize()),
		ProofDepth: uint64(bits.Len64(d.Rows - 1)),
	}
	var mergeMACs uint64
	if es.IsLoRA() {
		c.BaseBytes = engine.EncodedModelSize(es.Arch())
		if r := spec.BaseLoraRank; r > 0 {
			// A stacked base: the dense base and the LoRA result, merged
			// by the validator before the segment runs.
			c.BaseBytes = engine.EncodedStackedBaseSize(es.Arch(), r)
			mergeMACs = engine.MergeMACs(es.Arch(), r)
		}
	}
	var over bool
	c.BatchRows, over = mul(steps, uint64(es.BatchSize))
	macs, o2 := mul(engine.MACsPerStep(es), steps)
	macs, o6 := bits.Add64(macs, mergeMACs, 0)
	o2 = o2 || o6 != 0
	perParam, o3 := mul(es.TrainableParams(), engine.OptimizerOpsPerParam(es))
	paramSteps, o4 := mul(perParam, steps)
	acts, o5 := mul(engine.ActivationsPerStep(es), steps)
	if over || o2 || o3 || o4 || o5 {
		return Cost{}, fmt.Errorf("segment %d: %d steps overflow the work counters", i, steps)
	}
	c.MACs, c.ParamSteps, c.Activations = macs, paramSteps, acts
	c.MaxRows = min(c.BatchRows, d.Rows)
	perRow := rowWireOverhead + c.RowBytes + c.ProofDepth*(32+auntWireOverhead)
	rowsBytes, over := mul(c.MaxRows, perRow)
	if over {
		return Cost{}, fmt.Errorf("segment %d: reveal size overflows", i)
	}
	c.RevealBytes = revealWireOverhead + c.StateBytes + c.BaseBytes + rowsBytes
	return c, nil
}

// WorstSegmentCost is the cost of the task's largest segment (the first: all
// segments have segment_steps steps except a shorter last one).
func WorstSegmentCost(spec taskstypes.TrainingSpec, d taskstypes.DatasetRef) (Cost, error) {
	return SegmentCost(spec, d, 0)
}

// Check tells which of the chain's per-reveal limits the segment exceeds.
func (c Cost) Check(p types.Params) error {
	switch {
	case c.BatchRows > p.MaxBatchRowsPerReveal:
		return fmt.Errorf("a segment looks up %d rows (steps x batch), more than max_batch_rows_per_reveal %d", c.BatchRows, p.MaxBatchRowsPerReveal)
	case c.MACs > p.MaxMacsPerReveal:
		return fmt.Errorf("a segment needs %d MACs, more than max_macs_per_reveal %d", c.MACs, p.MaxMacsPerReveal)
	case c.RevealBytes > p.MaxRevealBytes:
		return fmt.Errorf("a segment's reveal can reach %d bytes (%d rows of %d bytes with %d-aunt proofs, a %d-byte state, a %d-byte base model), more than max_reveal_bytes %d",
			c.RevealBytes, c.MaxRows, c.RowBytes, c.ProofDepth, c.StateBytes, c.BaseBytes, p.MaxRevealBytes)
	case c.MaxGas(p) > p.MaxGasPerReveal:
		return fmt.Errorf("a segment's reveal can cost %d gas, more than max_gas_per_reveal %d (it would not fit in a block)", c.MaxGas(p), p.MaxGasPerReveal)
	}
	return nil
}

// MaxGas bounds the gas of any well-formed reveal of the segment: its largest
// size in bytes, every row proven, and the recomputation.
func (c Cost) MaxGas(p types.Params) uint64 {
	g := c.Gas(p, c.MaxRows*(c.ProofDepth+1))
	bytesGas, over := mul(p.GasPerRevealByte, c.RevealBytes)
	total, carry := bits.Add64(g, bytesGas, 0)
	if over || carry != 0 {
		return ^uint64(0)
	}
	return total
}

// Gas is what recomputing the segment costs beyond the reveal's bytes (which
// the handler charges first): matrix work, optimiser work, per-step and
// per-row-look-up overheads, proofHashes SHA-256s of row proofs, and building
// and hashing the end state, and the element-wise work of activations. It saturates at the maximum uint64, which no gas
// meter accepts, instead of wrapping.
func (c Cost) Gas(p types.Params, proofHashes uint64) uint64 {
	var total uint64
	for _, t := range [][2]uint64{
		{p.GasPerMac, c.MACs},
		{p.GasPerActivation, c.Activations},
		{p.GasPerParamStep, c.ParamSteps},
		{p.GasPerStep, c.Steps},
		{p.GasPerBatchRow, c.BatchRows},
		{p.GasPerProofHash, proofHashes},
		{p.GasPerStateByte, c.StateBytes},
	} {
		g, over := mul(t[0], t[1])
		var carry uint64
		total, carry = bits.Add64(total, g, 0)
		if over || carry != 0 {
			return ^uint64(0)
		}
	}
	return total
}

// mul returns a*b and whether it overflowed.
func mul(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi != 0
}

// LongestSegment is the largest segment_steps (at most maxSteps) whose
// segments fit params' per-reveal limits for this spec and dataset, or 0
// when not even one step does. Cost grows with the steps, so it is a binary
// search over SegmentCost.
func LongestSegment(spec taskstypes.TrainingSpec, d taskstypes.DatasetRef, p types.Params, maxSteps uint64) uint64 {
	fits := func(steps uint64) bool {
		s := spec
		s.TotalSteps, s.SegmentSteps = steps, steps
		c, err := SegmentCost(s, d, 0)
		return err == nil && c.Check(p) == nil
	}
	lo, hi := uint64(0), maxSteps
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}
