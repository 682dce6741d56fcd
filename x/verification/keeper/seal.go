package keeper

import (
	"bytes"
	"context"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// A transcript is committed in two steps so that nobody can copy it:
//
//  1. SealTranscript: the worker commits only recompute.TranscriptSeal, a hash
//     bound to its address and a secret salt. Nothing in the mempool or a
//     block says anything about its checkpoints.
//  2. Once every claim of the task is sealed, x/tasks closes the task's claims
//     (OnClaimsClosed gives every sealed transcript an open deadline) and
//     OpenTranscript shows the checkpoints, which must match the seal. A
//     replica that wanted another's checkpoints had to seal before seeing
//     them, and no new claim is taken once they are open.
//
// The sample is drawn after the open: from the requester's secret when it has
// one (revealed once claims closed, see x/tasks RevealSecret), else from the
// block hash.

// SealTranscript records a worker's seal and marks its claim committed.
func (m msgServer) SealTranscript(ctx context.Context, msg *types.MsgSealTranscript) (*types.MsgSealTranscriptResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerRevealByte*uint64(msg.Size()), "verification: seal bytes")
	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	if len(msg.Seal) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "seal is %d bytes, want %d", len(msg.Seal), types.HashLen)
	}
	if _, err := m.tasks.GetTask(ctx, msg.TaskId); err != nil {
		return nil, err
	}
	if _, err := m.tasks.GetAssignment(ctx, msg.TaskId, worker); err != nil {
		return nil, err
	}
	key := collections.Join(msg.TaskId, sdk.AccAddress(worker))
	if has, err := m.Transcripts.Has(ctx, key); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrTranscriptExists, "task %d worker %s", msg.TaskId, workerAddr)
	}
	t := types.Transcript{
		TaskId:          msg.TaskId,
		Worker:          workerAddr,
		Seal:            msg.Seal,
		Status:          types.TRANSCRIPT_STATUS_SEALED,
		CommittedHeight: sdkCtx.BlockHeight(),
	}
	// Stored first: MarkCommitted may close the task's claims, and then
	// OnClaimsClosed gives this transcript its open deadline.
	if err := m.Transcripts.Set(ctx, key, t); err != nil {
		return nil, err
	}
	// MarkCommitted checks the claim is active and its deadline not passed.
	if err := m.tasks.MarkCommitted(ctx, msg.TaskId, worker); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventTranscriptSealed{TaskId: msg.TaskId, Worker: workerAddr, Seal: msg.Seal}); err != nil {
		return nil, err
	}
	task, err := m.tasks.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	return &types.MsgSealTranscriptResponse{ClaimsClosed: task.ClaimsClosed}, nil
}

// OpenTranscript checks an opened transcript against its seal, the task's
// seed-derived h_0 and (unless it reports an engine failure) the final model
// and optimiser hashes, then schedules the draw.
func (m msgServer) OpenTranscript(ctx context.Context, msg *types.MsgOpenTranscript) (*types.MsgOpenTranscriptResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerRevealByte*uint64(msg.Size()), "verification: transcript bytes")

	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	t, err := m.GetTranscript(ctx, msg.TaskId, worker)
	if err != nil {
		return nil, err
	}
	if t.Status != types.TRANSCRIPT_STATUS_SEALED {
		return nil, errorsmod.Wrapf(types.ErrWrongStatus, "transcript is %s; only a sealed transcript opens", t.Status)
	}
	task, err := m.tasks.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	if !task.ClaimsClosed {
		return nil, errorsmod.Wrapf(types.ErrNotOpenable, "task %d has %d claims in flight, not all sealed", task.Id, task.Active)
	}
	if !sdkCtx.BlockTime().Before(t.OpenDeadline) {
		return nil, errorsmod.Wrapf(types.ErrOpenLate, "open deadline was %s", t.OpenDeadline)
	}
	n := task.Spec.Segments()
	if msg.EngineFailure {
		// h_0 .. h_s: the engine fails inside segment s < n.
		if l := uint64(len(msg.Checkpoints)); l == 0 || l > n {
			return nil, errorsmod.Wrapf(types.ErrBadCheckpoints, "an engine-failure transcript of a %d-segment task has 1..%d checkpoint hashes, got %d", n, n, l)
		}
		if len(msg.FinalModelHash) != 0 || len(msg.FinalOptHash) != 0 {
			return nil, errorsmod.Wrap(types.ErrInvalidHash, "an engine-failure transcript has no final model")
		}
	} else if uint64(len(msg.Checkpoints)) != n+1 {
		return nil, errorsmod.Wrapf(types.ErrBadCheckpoints, "task %d has %d segments: want %d checkpoint hashes, got %d", task.Id, n, n+1, len(msg.Checkpoints))
	}
	for i, h := range msg.Checkpoints {
		if len(h) != types.HashLen {
			return nil, errorsmod.Wrapf(types.ErrBadCheckpoints, "checkpoints[%d] is %d bytes, want %d", i, len(h), types.HashLen)
		}
	}
	if len(msg.Salt) != recompute.SaltLen {
		return nil, errorsmod.Wrapf(types.ErrBadSeal, "salt is %d bytes, want %d", len(msg.Salt), recompute.SaltLen)
	}
	th := recompute.TranscriptHash(msg.Checkpoints)
	if seal := recompute.TranscriptSeal(task.Id, worker, msg.Salt, th, msg.FinalModelHash, msg.FinalOptHash, msg.EngineFailure); !bytes.Equal(seal, t.Seal) {
		return nil, errorsmod.Wrapf(types.ErrBadSeal, "task %d worker %s: the opened transcript seals to %X, the seal is %X", task.Id, workerAddr, seal, t.Seal)
	}
	if !msg.EngineFailure {
		if len(msg.FinalModelHash) != types.HashLen || len(msg.FinalOptHash) != types.HashLen {
			return nil, errorsmod.Wrapf(types.ErrInvalidHash, "final_model_hash and final_opt_hash must be %d bytes", types.HashLen)
		}
		var mh, oh engine.Hash
		copy(mh[:], msg.FinalModelHash)
		copy(oh[:], msg.FinalOptHash)
		if final := engine.StateHashFrom(mh, oh, task.Spec.TotalSteps); !bytes.Equal(final[:], msg.Checkpoints[n]) {
			return nil, errorsmod.Wrapf(types.ErrFinalState, "hash of (model, optimiser, step %d) is %X, h_N is %X", task.Spec.TotalSteps, final[:], msg.Checkpoints[n])
		}
	}
	tparams, err := m.tasks.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	if err := taskstypes.ValidateURI("uri", msg.Uri, tparams.MaxUriLength); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidURI, err.Error())
	}
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		return nil, err
	}
	// Building, encoding and hashing the initial state is work in proportion
	// to its encoding: charged before it is built.
	sdkCtx.GasMeter().ConsumeGas(params.GasPerStateByte*engine.EncodedStateSize(job.Spec), "verification: initial state")
	h0, err := engine.InitialStateHash(job, task.Spec.BaseModelHash)
	if err != nil {
		return nil, errorsmod.Wrap(types.ErrEngine, err.Error())
	}
	if !bytes.Equal(h0[:], msg.Checkpoints[0]) {
		return nil, errorsmod.Wrapf(types.ErrInitialState, "task %d: h_0 must be %X, got %X", task.Id, h0[:], msg.Checkpoints[0])
	}

	t.Checkpoints = msg.Checkpoints
	t.Uri = msg.Uri
	t.FinalModelHash = msg.FinalModelHash
	t.FinalOptHash = msg.FinalOptHash
	t.EngineFailure = msg.EngineFailure
	t.Status = types.TRANSCRIPT_STATUS_COMMITTED
	t.OpenedHeight = sdkCtx.BlockHeight()
	t.TranscriptHash = th
	steps := task.Spec.TotalSteps
	if msg.EngineFailure {
		steps, _ = task.Spec.SegmentRange(uint64(len(msg.Checkpoints) - 1))
	}
	t.MacsTotal = engine.MACsPerStep(job.Spec) * steps
	if err := m.Transcripts.Set(ctx, collections.Join(task.Id, sdk.AccAddress(worker)), t); err != nil {
		return nil, err
	}
	// Drawn at the next block once the sample's randomness is fixed: the
	// requester's revealed secret, or the chain's when the task has none.
	// A task whose secret is still hidden draws when it is revealed, or from
	// the chain at the open deadline (revealDeadline).
	if len(task.SecretHash) == 0 || len(task.Secret) != 0 {
		if err := m.DrawQueue.Set(ctx, collections.Join3(sdkCtx.BlockHeight(), task.Id, sdk.AccAddress(worker))); err != nil {
			return nil, err
		}
	}
	if err := m.disputeReplicas(ctx, t, params); err != nil {
		return nil, err
	}
	err = sdkCtx.EventManager().EmitTypedEvent(&types.EventTranscriptCommitted{
		TaskId: task.Id, Worker: workerAddr, Segments: uint32(n), TranscriptHash: t.TranscriptHash, Uri: msg.Uri,
		EngineFailure: msg.EngineFailure,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgOpenTranscriptResponse{TranscriptHash: t.TranscriptHash}, nil
}

// OnClaimsClosed (x/tasks calls it when every claim of a task is sealed)
// gives each sealed transcript of the task its open deadline: one reveal
// window from now. The requester's secret is due by the same time.
func (k Keeper) OnClaimsClosed(ctx context.Context, taskID uint64) (time.Time, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return time.Time{}, err
	}
	deadline := sdk.UnwrapSDKContext(ctx).BlockTime().Add(params.RevealWindow)
	var sealed []types.Transcript
	err = k.Transcripts.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](taskID),
		func(_ TranscriptKey, t types.Transcript) (bool, error) {
			if t.Status == types.TRANSCRIPT_STATUS_SEALED {
				sealed = append(sealed, t)
			}
			return false, nil
		})
	if err != nil {
		return time.Time{}, err
	}
	for _, t := range sealed {
		addr, err := k.authKeeper.AddressCodec().StringToBytes(t.Worker)
		if err != nil {
			return time.Time{}, err
		}
		t.OpenDeadline = deadline
		if err := k.Transcripts.Set(ctx, collections.Join(taskID, sdk.AccAddress(addr)), t); err != nil {
			return time.Time{}, err
		}
		if err := k.RevealQueue.Set(ctx, collections.Join3(deadline, taskID, sdk.AccAddress(addr))); err != nil {
			return time.Time{}, err
		}
	}
	return deadline, nil
}

// OnSecretRevealed (x/tasks calls it when the requester reveals its secret)
// schedules the draw of every opened transcript of the task still waiting for
// it; transcripts opened later are scheduled when they open.
func (k Keeper) OnSecretRevealed(ctx context.Context, taskID uint64) error {
	height := sdk.UnwrapSDKContext(ctx).BlockHeight()
	var waiting []sdk.AccAddress
	err := k.Transcripts.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](taskID),
		func(key TranscriptKey, t types.Transcript) (bool, error) {
			if t.Status == types.TRANSCRIPT_STATUS_COMMITTED {
				waiting = append(waiting, key.K2())
			}
			return false, nil
		})
	if err != nil {
		return err
	}
	for _, w := range waiting {
		if err := k.DrawQueue.Set(ctx, collections.Join3(height, taskID, w)); err != nil {
			return err
		}
	}
	return nil
}
