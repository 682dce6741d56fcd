package recompute

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	errorsmod "cosmossdk.io/errors"
	"github.com/cometbft/cometbft/crypto/merkle"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// Recomputation is a checked reveal, ready to run: everything the engine needs
// to go from h_segment to h_(segment+1). PrepareReveal builds it; the message
// handler, the `verify-segment` command and the watchtower all use it, so the
// chain and the off-chain tools decide exactly alike, within the same bounds.
type Recomputation struct {
	Job      engine.Job
	Start    *engine.State
	Rows     engine.RowSource
	Steps    uint64
	Expected engine.Hash
	// ExpectFailure marks the failing segment of an engine-failure
	// transcript: Run matches when the engine cannot compute it. RowFailure
	// is a proven row of it that the engine cannot decode.
	ExpectFailure bool
	RowFailure    error
	// Cost is the segment's cost (Cost.MACs is the exact matrix work
	// RunSegment will do); ProofHashes the SHA-256s its row proofs took.
	Cost        Cost
	ProofHashes uint64
}

// Gas is what the recomputation costs under params (the reveal's bytes are
// charged apart).
func (r *Recomputation) Gas(p types.Params) uint64 { return r.Cost.Gas(p, r.ProofHashes) }

// RevealGas is what the handler charges for a reveal of segment i carrying
// rows rows, before any work whose size grows with the task: the segment's
// cost is checked against params' limits first. It is what PrepareReveal's
// and Run's work is priced at.
func RevealGas(task taskstypes.Task, segment uint32, rows int, p types.Params) (Cost, uint64, error) {
	c, err := segmentCost(task.Spec, task.Dataset, fmt.Sprintf("task %d", task.Id), segment, p)
	if err != nil {
		return c, 0, err
	}
	return c, c.Gas(p, proofHashes(c, rows)), nil
}

// proofHashes is the SHA-256 count of verifying rows row proofs: the leaf and
// one per aunt.
func proofHashes(c Cost, rows int) uint64 { return uint64(rows) * (c.ProofDepth + 1) }

// segmentCost is SegmentCost, checked against the limits, as registered errors.
func segmentCost(spec taskstypes.TrainingSpec, d taskstypes.DatasetRef, what string, segment uint32, p types.Params) (Cost, error) {
	c, err := SegmentCost(spec, d, uint64(segment))
	if err != nil {
		return c, errorsmod.Wrapf(types.ErrInvalidSegment, "%s: %s", what, err)
	}
	if err := c.Check(p); err != nil {
		return c, errorsmod.Wrapf(types.ErrTooMuchWork, "%s segment %d: %s", what, segment, err)
	}
	return c, nil
}

// Work is one training run whose segments are revealed: a task's
// transcript, or a participant's local training in a federated round. The
// engine trains rows [0, Job.RowCount) and row i is the dataset's row
// RowOffset+i (a public shard of a federated job); proofs name the
// dataset's own indices.
type Work struct {
	What      string // "task 7", "federated job 3 round 2 update cosmos1..."
	Spec      taskstypes.TrainingSpec
	Dataset   taskstypes.DatasetRef
	Job       engine.Job
	RowOffset uint64
	// BaseHash is the frozen base's model hash of a LoRA run.
	BaseHash []byte
}

// TaskWork is the work of a task's transcript.
func TaskWork(task taskstypes.Task) (Work, error) {
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		return Work{}, err
	}
	return Work{What: fmt.Sprintf("task %d", task.Id), Spec: task.Spec, Dataset: task.Dataset, Job: job, BaseHash: task.Spec.BaseModelHash}, nil
}

// WorkRevealGas is RevealGas for any work.
func WorkRevealGas(w Work, segment uint32, rows int, p types.Params) (Cost, uint64, error) {
	c, err := segmentCost(w.Spec, w.Dataset, w.What, segment, p)
	if err != nil {
		return c, 0, err
	}
	return c, c.Gas(p, proofHashes(c, rows)), nil
}

// PrepareReveal checks a reveal against its task, the committed checkpoints
// and the chain's per-reveal limits: the segment's cost first (in O(1), so an
// oversized segment is refused before anything is built), then the base model
// (LoRA), the start state's hash, that the rows are exactly the ones the
// segment's steps use, and every row's Merkle proof. Any failure is an error
// naming what is wrong; nothing is recomputed. Memory stays proportional to
// the reveal: the segment's row indices are streamed step by step, never
// collected.
func PrepareReveal(task taskstypes.Task, checkpoints [][]byte, segment uint32, startState []byte, rows []types.RowProof, baseModel []byte, p types.Params) (*Recomputation, error) {
	w, err := TaskWork(task)
	if err != nil {
		return nil, err
	}
	return PrepareSegment(w, checkpoints, segment, startState, rows, baseModel, p)
}

// PrepareSegment is PrepareReveal for any work.
func PrepareSegment(w Work, checkpoints [][]byte, segment uint32, startState []byte, rows []types.RowProof, baseModel []byte, p types.Params) (*Recomputation, error) {
	n := w.Spec.Segments()
	// A full transcript has n+1 checkpoints; an engine-failure transcript
	// h_0..h_s (s < n) says the engine fails inside its last segment s.
	l := uint64(len(checkpoints))
	if uint64(segment) >= n || l > n+1 || uint64(segment) >= l {
		return nil, errorsmod.Wrapf(types.ErrInvalidSegment, "segment %d of a %d-segment transcript with %d checkpoints", segment, n, l)
	}
	expectFailure := l <= n && uint64(segment)+1 == l
	cost, err := segmentCost(w.Spec, w.Dataset, w.What, segment, p)
	if err != nil {
		return nil, err
	}
	if uint64(len(rows)) > cost.MaxRows {
		return nil, errorsmod.Wrapf(types.ErrBadRows, "segment %d uses at most %d distinct rows, reveal has %d", segment, cost.MaxRows, len(rows))
	}
	job := w.Job
	if job.Spec.IsLoRA() {
		// The base's size (and a stacked base's merge) is bounded by the
		// cost charged above: the spec says which kind of base it is.
		if stacked := len(baseModel) > 1 && baseModel[1] == engine.PartStacked; stacked != (w.Spec.BaseLoraRank > 0) {
			return nil, errorsmod.Wrapf(types.ErrBadBaseModel, "%s wants a %s base (base_lora_rank %d)", w.What, map[bool]string{true: "stacked", false: "dense"}[w.Spec.BaseLoraRank > 0], w.Spec.BaseLoraRank)
		}
		if uint64(len(baseModel)) != cost.BaseBytes {
			return nil, errorsmod.Wrapf(types.ErrBadBaseModel, "base model is %d bytes, %s's base encodes in %d", len(baseModel), w.What, cost.BaseBytes)
		}
		base, id, _, err := engine.DecodeBase(baseModel)
		if err != nil {
			return nil, errorsmod.Wrapf(types.ErrBadBaseModel, "decoding: %s", err)
		}
		if !bytes.Equal(id[:], w.BaseHash) {
			return nil, errorsmod.Wrapf(types.ErrBadBaseModel, "hash %X, %s wants %X", id[:], w.What, w.BaseHash)
		}
		job.Base = base
		if w.Spec.BaseLoraRank > 0 {
			job.BaseHash = id
		}
	} else if len(baseModel) != 0 {
		return nil, errorsmod.Wrap(types.ErrBadBaseModel, "base_model is only sent for LoRA tasks")
	}

	start, err := engine.DecodeState(job.Spec, startState)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrWrongStartState, "decoding: %s", err)
	}
	if h := start.Hash(); !bytes.Equal(h[:], checkpoints[segment]) {
		return nil, errorsmod.Wrapf(types.ErrWrongStartState, "hash %X, checkpoint %d is %X", h[:], segment, checkpoints[segment])
	}
	first, steps := w.Spec.SegmentRange(uint64(segment))
	if start.Step != first {
		return nil, errorsmod.Wrapf(types.ErrWrongStartState, "state is at step %d, segment %d starts at step %d", start.Step, segment, first)
	}

	// The row set first (indices only), then each row's proof and decoding.
	src := &revealedRows{index: make([]uint64, len(rows))}
	for i, r := range rows {
		if i > 0 && r.Index <= rows[i-1].Index {
			return nil, errorsmod.Wrapf(types.ErrBadRows, "row %d of the reveal has index %d, not above the previous %d (rows go in increasing index order, once each)", i, r.Index, rows[i-1].Index)
		}
		if r.Index < w.RowOffset || r.Index-w.RowOffset >= job.RowCount {
			return nil, errorsmod.Wrapf(types.ErrBadRows, "row %d is outside the rows %s trains [%d, %d)", r.Index, w.What, w.RowOffset, w.RowOffset+job.RowCount)
		}
		src.index[i] = r.Index - w.RowOffset
	}
	if err := src.coverExactly(job, first, steps); err != nil {
		return nil, errorsmod.Wrapf(types.ErrBadRows, "segment %d: %s", segment, err)
	}
	var rowFailure error
	if src.rows, rowFailure, err = provenRows(w.Dataset, job, rows, expectFailure); err != nil {
		return nil, err
	}
	r := &Recomputation{
		Job: job, Start: start, Rows: src, Steps: steps, ExpectFailure: expectFailure, RowFailure: rowFailure,
		Cost: cost, ProofHashes: proofHashes(cost, len(rows)),
	}
	if !expectFailure {
		copy(r.Expected[:], checkpoints[segment+1])
	}
	return r, nil
}

// provenRows checks that each revealed row is in the dataset (Merkle proof
// against the task's root) and decodes under its schema.
//
// In the failing segment of an engine-failure transcript, a proven row that
// does not decode under the spec (a value that overflows when rescaled to the
// spec's fractional bits) is the engine failure being proven: it is returned
// as rowFailure, not as an error.
func provenRows(d taskstypes.DatasetRef, job engine.Job, rows []types.RowProof, expectFailure bool) (out []engine.Example, rowFailure, err error) {
	schema, err := d.Schema.DatasetSchema()
	if err != nil {
		return nil, nil, err
	}
	out = make([]engine.Example, len(rows))
	for i, r := range rows {
		if err := dataset.VerifyRow(d.Root, d.Rows, r.Index, r.Row, RowMerkleProof(d.Rows, r)); err != nil {
			return nil, nil, errorsmod.Wrapf(types.ErrBadProof, "row %d: %s", r.Index, err)
		}
		if out[i], err = dataset.DecodeExample(schema, r.Row, job.Spec.FracBits); err != nil {
			if expectFailure && rowFailure == nil {
				rowFailure = fmt.Errorf("row %d cannot be used by the engine: %w", r.Index, err)
				continue
			}
			return nil, nil, errorsmod.Wrapf(types.ErrBadRows, "row %d: %s", r.Index, err)
		}
	}
	return out, rowFailure, nil
}

// coverExactly walks the row look-ups of steps [first, first+steps) one step
// at a time and requires every looked-up row to be revealed and every
// revealed row to be looked up.
func (s *revealedRows) coverExactly(job engine.Job, first, steps uint64) error {
	used := make([]bool, len(s.index))
	for st := first; st < first+steps; st++ {
		for _, idx := range engine.BatchIndices(job, st) {
			j, ok := s.find(idx)
			if !ok {
				return fmt.Errorf("step %d uses row %d, which the reveal lacks", st, idx)
			}
			used[j] = true
		}
	}
	for j, u := range used {
		if !u {
			return fmt.Errorf("row %d is revealed but no step of the segment uses it", s.index[j])
		}
	}
	return nil
}

// Run re-executes the segment. match is true when the resulting state hashes
// to the committed h_(segment+1). An engine error (an accumulator bound, a
// saturation the spec forbids) means no honest run could have produced the
// committed hash, so it counts as a mismatch and is returned as the reason.
//
// In the failing segment of an engine-failure transcript the roles swap:
// match is true when the engine cannot compute the segment (reason says
// why), and false when it computes it.
func (r *Recomputation) Run() (match bool, got engine.Hash, meter engine.Meter, reason error) {
	if r.ExpectFailure {
		if r.RowFailure != nil {
			return true, got, meter, r.RowFailure
		}
		end, meter, err := engine.RunSegment(r.Job, r.Start, r.Rows, r.Steps)
		if errors.Is(err, engine.ErrTrainingFailed) {
			return true, got, meter, err
		}
		if err != nil {
			return false, got, meter, fmt.Errorf("the segment did not fail in training: %w", err)
		}
		return false, end.Hash(), meter, fmt.Errorf("the engine computed the segment the worker says it cannot (to %s)", end.Hash())
	}
	end, meter, err := engine.RunSegment(r.Job, r.Start, r.Rows, r.Steps)
	if err != nil {
		return false, got, meter, err
	}
	got = end.Hash()
	if got != r.Expected {
		return false, got, meter, fmt.Errorf("recomputed %s, committed %s", got, r.Expected)
	}
	return true, got, meter, nil
}

// RowMerkleProof rebuilds CometBFT's proof of a revealed row. The wire form
// carries only the aunts: total and index are known, and the leaf hash is the
// root of the one-leaf tree over the row (RFC 6962: SHA-256(0x00 ‖ row)).
func RowMerkleProof(total uint64, r types.RowProof) *merkle.Proof {
	return &merkle.Proof{
		Total:    int64(total),
		Index:    int64(r.Index),
		LeafHash: merkle.HashFromByteSlices([][]byte{r.Row}),
		Aunts:    r.Aunts,
	}
}

// revealedRows serves the revealed rows by index (sorted; binary search).
type revealedRows struct {
	index []uint64
	rows  []engine.Example
}

func (s *revealedRows) Row(i uint64) (engine.Example, error) {
	j, ok := s.find(i)
	if !ok {
		return engine.Example{}, fmt.Errorf("row %d was not revealed", i)
	}
	return s.rows[j], nil
}

func (s *revealedRows) find(i uint64) (int, bool) {
	j := sort.Search(len(s.index), func(k int) bool { return s.index[k] >= i })
	return j, j < len(s.index) && s.index[j] == i
}
