package worker

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// A participant's work directory of federated jobs, under
// <work-dir>/federated/<job>:
//
//	<round>/          the round's local training: a TaskDir of roundTask (task.json,
//	                  ckpt/, checkpoints.log, loss.csv, sealed.json, opened, txs.jsonl)
//	<round>/aggregate.state      the aggregate this worker computed (an engine state at
//	                             step 0), aggregate.committed once it is committed
//	global/<model hash>.state    the global models of the job's rounds (state at step 0)
//
// A round's local training is a task to the trainer: the task id is the
// round, the seed is the participant's seed of the round, the spec hash is
// the round's start state hash (so a directory left by another chain or
// another start moves aside) and the dataset is the update's.

// roundTask is the trainer's view of one round's local training.
func roundTask(job fedtypes.FederatedJob, r fedtypes.Round, seed [32]byte, data taskstypes.DatasetRef) taskstypes.Task {
	return taskstypes.Task{Id: uint64(r.Round), Spec: job.Spec, Seed: seed[:], SpecHash: r.StartStateHash, Dataset: data}
}

// jobDir is <root>/<job>.
func jobDir(root string, jobID uint64) string {
	return filepath.Join(root, strconv.FormatUint(jobID, 10))
}

// roundDir is <root>/<job>/<round>.
func roundDir(root string, jobID uint64, round uint32) string {
	return filepath.Join(jobDir(root, jobID), strconv.FormatUint(uint64(round), 10))
}

// FederatedUpdatePath is the path under which a participant serves its
// update of a round (the URI of MsgOpenUpdate is the public base URL and
// this path): /checkpoints/<i> the state at h_i, /model its final state.
func FederatedUpdatePath(jobID uint64, round uint32, participant string) string {
	return fmt.Sprintf("/federated/%d/%d/%s", jobID, round, participant)
}

// FederatedAggregatePath is the path under which an aggregator serves the
// aggregate it committed (an engine state at step 0).
func FederatedAggregatePath(jobID uint64, round uint32) string {
	return fmt.Sprintf("/federated/%d/%d/aggregate", jobID, round)
}

const (
	aggregateFile      = "aggregate.state"
	aggregateCommitted = "aggregate.committed"
)

// saveAggregate stores the aggregate of a round (before it is committed).
func saveAggregate(root string, jobID uint64, round uint32, st *engine.State) error {
	return writeFileAtomic(filepath.Join(roundDir(root, jobID, round), aggregateFile), st.Encode())
}

// loadState reads a state of the spec from path and checks its model hash.
func loadState(path string, spec engine.Spec, modelHash []byte) (*engine.State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := engine.DecodeState(spec, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if h := st.ModelHash(); !bytes.Equal(h[:], modelHash) {
		return nil, fmt.Errorf("%s has model %s, want %X", path, h, modelHash)
	}
	return st, nil
}

func globalPath(root string, jobID uint64, modelHash []byte) string {
	return filepath.Join(jobDir(root, jobID), "global", hex.EncodeToString(modelHash)+".state")
}

// saveGlobal stores a global model of a job (a state at step 0).
func saveGlobal(root string, jobID uint64, st *engine.State) error {
	h := st.ModelHash()
	return writeFileAtomic(globalPath(root, jobID, h[:]), st.Encode())
}

// LoadGlobal reads a stored global model of a job, checked against its hash.
func LoadGlobal(root string, jobID uint64, spec engine.Spec, modelHash []byte) (*engine.State, error) {
	return loadState(globalPath(root, jobID, modelHash), spec, modelHash)
}

// UpdateWork is the recomputation view of an update, exactly as the chain
// builds it: the update's rows of its dataset, the participant's seed of the
// round, its row offset.
func UpdateWork(job fedtypes.FederatedJob, u fedtypes.Update) (recompute.Work, error) {
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return recompute.Work{}, err
	}
	p, err := sdk.AccAddressFromBech32(u.Participant)
	if err != nil {
		return recompute.Work{}, fmt.Errorf("participant %q: %w", u.Participant, err)
	}
	return recompute.Work{
		What:      fmt.Sprintf("federated job %d round %d update of %s", job.Id, u.Round, u.Participant),
		Spec:      job.Spec,
		Dataset:   u.Dataset,
		Job:       engine.Job{Spec: es, Seed: federated.ParticipantSeed(job.Seed, u.Round, p), RowCount: u.Examples},
		RowOffset: u.RowOffset,
		BaseHash:  job.Spec.BaseModelHash,
	}, nil
}

// BuildUpdateReveal builds MsgRevealSegment of x/federated for a sampled
// segment of an update and self-checks it with recompute.PrepareSegment (the
// chain's check) and the chain's size limit. f is the update's dataset (the
// whole public dataset of a shard: proofs name its own row indices).
func BuildUpdateReveal(w recompute.Work, participant string, jobID uint64, round uint32, checkpoints [][]byte, segment uint32,
	start []byte, f *dataset.File, base []byte, params vtypes.Params,
) (*fedtypes.MsgRevealSegment, *recompute.Recomputation, error) {
	fail := func(err error) (*fedtypes.MsgRevealSegment, *recompute.Recomputation, error) {
		return nil, nil, fmt.Errorf("%s segment %d: self-check of the reveal failed: %w", w.What, segment, err)
	}
	// The chain's bounds first, in O(1) (see Prepare).
	if _, _, err := recompute.WorkRevealGas(w, segment, 0, params); err != nil {
		return fail(err)
	}
	rows, err := WorkRows(w.Spec, w.Job, f, w.RowOffset, segment)
	if err != nil {
		return fail(err)
	}
	rc, err := recompute.PrepareSegment(w, checkpoints, segment, start, rows, base, params)
	if err != nil {
		return fail(err)
	}
	msg := &fedtypes.MsgRevealSegment{Participant: participant, JobId: jobID, Round: round, Segment: segment, StartState: start, Rows: rows}
	if w.Job.Spec.IsLoRA() {
		msg.BaseModel = base
	}
	if size := uint64(msg.Size()); size > params.MaxRevealBytes {
		return fail(fmt.Errorf("reveal is %d bytes, max_reveal_bytes is %d", size, params.MaxRevealBytes))
	}
	return msg, rc, nil
}
