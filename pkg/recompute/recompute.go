package recompute

import (
	"bytes"
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
// chain and the off-chain tools decide exactly alike.
type Recomputation struct {
	Job      engine.Job
	Start    *engine.State
	Rows     engine.RowSource
	Steps    uint64
	Expected engine.Hash
	// MACs is the exact matrix work RunSegment will do (engine.MACsPerStep * Steps).
	MACs uint64
	// ParamSteps is the optimiser's element-wise work: trainable parameters * Steps.
	ParamSteps uint64
}

// Gas is what the recomputation costs under params.
func (r *Recomputation) Gas(p types.Params) uint64 {
	return p.GasPerMac*r.MACs + p.GasPerParamStep*r.ParamSteps
}

// PrepareReveal checks a reveal against its task and the committed
// checkpoints: the base model (LoRA), the start state's hash, that the rows
// are exactly the ones the segment's steps use, and every row's Merkle proof.
// Any failure is an error naming what is wrong; nothing is recomputed.
func PrepareReveal(task taskstypes.Task, checkpoints [][]byte, segment uint32, startState []byte, rows []types.RowProof, baseModel []byte) (*Recomputation, error) {
	n := task.Spec.Segments()
	if uint64(segment) >= n || uint64(len(checkpoints)) != n+1 {
		return nil, errorsmod.Wrapf(types.ErrInvalidSegment, "segment %d of a %d-segment transcript", segment, n)
	}
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		return nil, err
	}
	if job.Spec.IsLoRA() {
		base, err := engine.DecodeModel(baseModel)
		if err != nil {
			return nil, errorsmod.Wrapf(types.ErrBadBaseModel, "decoding: %s", err)
		}
		if h := base.Hash(); !bytes.Equal(h[:], task.Spec.BaseModelHash) {
			return nil, errorsmod.Wrapf(types.ErrBadBaseModel, "hash %X, task wants %X", h[:], task.Spec.BaseModelHash)
		}
		job.Base = base
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
	first, steps := task.Spec.SegmentRange(uint64(segment))
	if start.Step != first {
		return nil, errorsmod.Wrapf(types.ErrWrongStartState, "state is at step %d, segment %d starts at step %d", start.Step, segment, first)
	}

	schema, err := task.Dataset.Schema.DatasetSchema()
	if err != nil {
		return nil, err
	}
	want := engine.SegmentIndices(job, first, steps)
	if len(rows) != len(want) {
		return nil, errorsmod.Wrapf(types.ErrBadRows, "segment %d uses %d distinct rows, reveal has %d", segment, len(want), len(rows))
	}
	src := &revealedRows{index: make([]uint64, len(rows)), rows: make([]engine.Example, len(rows))}
	for i, r := range rows {
		if r.Index != want[i] {
			return nil, errorsmod.Wrapf(types.ErrBadRows, "row %d of the reveal has index %d, the segment needs %d", i, r.Index, want[i])
		}
		if err := dataset.VerifyRow(task.Dataset.Root, task.Dataset.Rows, r.Index, r.Row, RowMerkleProof(task.Dataset.Rows, r)); err != nil {
			return nil, errorsmod.Wrapf(types.ErrBadProof, "row %d: %s", r.Index, err)
		}
		ex, err := dataset.DecodeExample(schema, r.Row, job.Spec.FracBits)
		if err != nil {
			return nil, errorsmod.Wrapf(types.ErrBadRows, "row %d: %s", r.Index, err)
		}
		src.index[i], src.rows[i] = r.Index, ex
	}
	var expected engine.Hash
	copy(expected[:], checkpoints[segment+1])
	return &Recomputation{
		Job: job, Start: start, Rows: src, Steps: steps, Expected: expected,
		MACs:       engine.MACsPerStep(job.Spec) * steps,
		ParamSteps: job.Spec.TrainableParams() * steps,
	}, nil
}

// Run re-executes the segment. match is true when the resulting state hashes
// to the committed h_(segment+1). An engine error (an accumulator bound, a
// saturation the spec forbids) means no honest run could have produced the
// committed hash, so it counts as a mismatch and is returned as the reason.
func (r *Recomputation) Run() (match bool, got engine.Hash, meter engine.Meter, reason error) {
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
	j := sort.Search(len(s.index), func(k int) bool { return s.index[k] >= i })
	if j == len(s.index) || s.index[j] != i {
		return engine.Example{}, fmt.Errorf("row %d was not revealed", i)
	}
	return s.rows[j], nil
}
