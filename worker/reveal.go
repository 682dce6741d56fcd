package worker

import (
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// SegmentRows returns the rows a reveal of segment i of the task must carry:
// exactly engine.SegmentIndices of its steps, sorted, each with the Merkle
// aunts that prove it against the dataset root.
func SegmentRows(task taskstypes.Task, job engine.Job, f *dataset.File, segment uint32) ([]vtypes.RowProof, error) {
	return WorkRows(task.Spec, job, f, 0, segment)
}

// WorkRows is SegmentRows of a run that trains rows [offset, offset +
// job.RowCount) of f as its rows [0, job.RowCount) (a federated public
// shard): the proofs name f's own indices, offset + the engine's.
func WorkRows(spec taskstypes.TrainingSpec, job engine.Job, f *dataset.File, offset uint64, segment uint32) ([]vtypes.RowProof, error) {
	first, steps := spec.SegmentRange(uint64(segment))
	idx := engine.SegmentIndices(job, first, steps)
	rows := make([]vtypes.RowProof, len(idx))
	for i, local := range idx {
		r := offset + local
		b, err := f.RowBytes(r)
		if err != nil {
			return nil, err
		}
		p, err := f.Proof(r)
		if err != nil {
			return nil, err
		}
		rows[i] = vtypes.RowProof{Index: r, Row: b, Aunts: p.Aunts}
	}
	return rows, nil
}

// Prepare builds the reveal-shaped input of segment i from a start state and
// the dataset file, and checks it exactly as the chain does
// (recompute.PrepareReveal): the base model, the start state against h_i, the
// row set and every Merkle proof. The returned Recomputation is what the
// chain will run.
func Prepare(task taskstypes.Task, checkpoints [][]byte, segment uint32, start []byte, f *dataset.File, base []byte, params vtypes.Params) ([]vtypes.RowProof, *recompute.Recomputation, error) {
	// The chain's bounds first, in O(1): a segment too large to reveal is
	// refused before its row list is built (it would exhaust a watcher's
	// memory as it would a validator's).
	if _, _, err := recompute.RevealGas(task, segment, 0, params); err != nil {
		return nil, nil, err
	}
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		return nil, nil, err
	}
	rows, err := SegmentRows(task, job, f, segment)
	if err != nil {
		return nil, nil, fmt.Errorf("segment %d rows: %w", segment, err)
	}
	rc, err := recompute.PrepareReveal(task, checkpoints, segment, start, rows, base, params)
	if err != nil {
		return nil, nil, err
	}
	return rows, rc, nil
}

// BuildReveal builds MsgRevealSegment for segment i and self-checks it with
// recompute.PrepareReveal and the chain's size and work limits, so that a reveal
// the chain would reject as malformed is never sent.
func BuildReveal(worker string, task taskstypes.Task, checkpoints [][]byte, segment uint32, start []byte,
	f *dataset.File, base []byte, params vtypes.Params,
) (*vtypes.MsgRevealSegment, *recompute.Recomputation, error) {
	rows, rc, err := Prepare(task, checkpoints, segment, start, f, base, params)
	if err != nil {
		return nil, nil, fmt.Errorf("task %d segment %d: self-check of the reveal failed: %w", task.Id, segment, err)
	}
	msg := &vtypes.MsgRevealSegment{Worker: worker, TaskId: task.Id, Segment: segment, StartState: start, Rows: rows}
	if rc.Job.Spec.IsLoRA() {
		msg.BaseModel = base
	}
	if size := uint64(msg.Size()); size > params.MaxRevealBytes {
		return nil, nil, fmt.Errorf("task %d segment %d: reveal is %d bytes, max_reveal_bytes is %d", task.Id, segment, size, params.MaxRevealBytes)
	}
	return msg, rc, nil
}

// SegmentCheck is the outcome of re-executing one segment off-chain.
type SegmentCheck struct {
	Match    bool
	Got      engine.Hash // the recomputed h_(i+1)
	Expected engine.Hash // the committed h_(i+1)
	MACs     uint64
	Reason   error // why it does not match (nil on a match)
}

// VerifySegment re-executes segment i from the given start state with rows
// from the dataset file, exactly as the chain would on a reveal. An error
// means the check could not be made (the start state is not the committed
// h_i, the dataset is wrong, ...); a mismatch is reported in the result.
func VerifySegment(task taskstypes.Task, checkpoints [][]byte, segment uint32, start []byte, f *dataset.File, base []byte, params vtypes.Params) (SegmentCheck, error) {
	_, rc, err := Prepare(task, checkpoints, segment, start, f, base, params)
	if err != nil {
		return SegmentCheck{}, err
	}
	match, got, meter, reason := rc.Run()
	return SegmentCheck{Match: match, Got: got, Expected: rc.Expected, MACs: meter.MACs, Reason: reason}, nil
}
