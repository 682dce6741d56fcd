package keeper

import (
	"bytes"
	"context"
	"crypto/sha256"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/internal/metrics"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/tasks Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// PostTask validates a job against the engine and the params, escrows the
// reward and opens the task for claims.
func (m msgServer) PostTask(ctx context.Context, msg *types.MsgPostTask) (*types.MsgPostTaskResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	// Spec and dataset size are user-chosen: charge for them before any work.
	sdkCtx.GasMeter().ConsumeGas(params.GasPerSpecByte*uint64(msg.Spec.Size()+msg.Dataset.Size()), "tasks: spec bytes")

	v, err := m.validatePostTask(ctx, msg, params)
	if err != nil {
		return nil, err
	}

	id, err := m.NextTaskID.Next(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.rewards.LockEscrow(ctx, id, v.poster, msg.Reward, v.replicas); err != nil {
		return nil, err
	}
	now := sdkCtx.BlockTime()
	task := types.Task{
		Id:            id,
		Poster:        v.posterAddr,
		Spec:          msg.Spec,
		Dataset:       msg.Dataset,
		Reward:        msg.Reward,
		Bond:          msg.Bond,
		Replicas:      v.replicas,
		Samples:       v.samples,
		DetectionBps:  msg.DetectionBps,
		ClaimDeadline: now.Add(msg.ClaimWindow),
		CommitWindow:  msg.CommitWindow,
		Seed:          types.TaskSeed(id, sdkCtx.HeaderHash()),
		Status:        types.TASK_STATUS_OPEN,
		PostedHeight:  sdkCtx.BlockHeight(),
		PostedAt:      now,
		SpecHash:      types.SpecHash(v.spec, msg.Spec),
		SecretHash:    msg.SecretHash,
	}
	if err := m.setTask(ctx, task); err != nil {
		return nil, err
	}
	if err := m.ClaimQueue.Set(ctx, collections.Join(task.ClaimDeadline, id)); err != nil {
		return nil, err
	}
	err = sdkCtx.EventManager().EmitTypedEvent(&types.EventTaskPosted{
		TaskId: id, Poster: v.posterAddr, Reward: msg.Reward.String(), Bond: msg.Bond.String(),
		Replicas: v.replicas, Samples: v.samples, Model: msg.Spec.Model.String(), TotalSteps: msg.Spec.TotalSteps,
		DatasetRoot: msg.Dataset.Root, ClaimDeadline: task.ClaimDeadline,
	})
	if err != nil {
		return nil, err
	}
	metrics.Count(types.ModuleName, "posted")
	return &types.MsgPostTaskResponse{TaskId: id, Samples: v.samples, Seed: task.Seed}, nil
}

// ClaimTask takes a replica slot and locks the worker's bond.
func (m msgServer) ClaimTask(ctx context.Context, msg *types.MsgClaimTask) (*types.MsgClaimTaskResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	t, err := m.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	now := sdkCtx.BlockTime()
	if t.ClaimsClosed {
		return nil, errorsmod.Wrapf(types.ErrClaimsClosed, "task %d: every claim sealed its transcript at %s", t.Id, t.SealedAt)
	}
	if t.Status != types.TASK_STATUS_OPEN || !now.Before(t.ClaimDeadline) {
		return nil, errorsmod.Wrapf(types.ErrTaskNotOpen, "task %d is %s (claim deadline %s)", t.Id, t.Status, t.ClaimDeadline)
	}
	if own, err := m.isPoster(t, worker); err != nil {
		return nil, err
	} else if own {
		return nil, errorsmod.Wrapf(types.ErrOwnTask, "task %d", t.Id)
	}
	if has, err := m.Assignments.Has(ctx, collections.Join(t.Id, sdk.AccAddress(worker))); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrAlreadyClaimed, "task %d worker %s", t.Id, workerAddr)
	}
	bond, err := m.rewards.RequiredBond(ctx, worker, t.Bond)
	if err != nil {
		return nil, err
	}
	if err := m.rewards.LockBond(ctx, t.Id, worker, bond); err != nil {
		return nil, err
	}
	a := types.Assignment{
		TaskId:         t.Id,
		Worker:         workerAddr,
		Bond:           bond,
		Status:         types.ASSIGNMENT_STATUS_ACTIVE,
		ClaimedAt:      now,
		CommitDeadline: now.Add(t.CommitWindow),
	}
	if err := m.setAssignment(ctx, a); err != nil {
		return nil, err
	}
	if err := m.CommitQueue.Set(ctx, collections.Join3(a.CommitDeadline, t.Id, sdk.AccAddress(worker))); err != nil {
		return nil, err
	}
	t.Active++
	refreshStatus(&t, now)
	if err := m.setTask(ctx, t); err != nil {
		return nil, err
	}
	err = sdkCtx.EventManager().EmitTypedEvent(&types.EventTaskClaimed{
		TaskId: t.Id, Worker: workerAddr, Bond: bond.String(), CommitDeadline: a.CommitDeadline,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgClaimTaskResponse{CommitWindow: t.CommitWindow}, nil
}

// CancelTask refunds a task that no worker holds or held a claim on.
func (m msgServer) CancelTask(ctx context.Context, msg *types.MsgCancelTask) (*types.MsgCancelTaskResponse, error) {
	poster, err := m.authKeeper.AddressCodec().StringToBytes(msg.Poster)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "poster %q: %s", msg.Poster, err)
	}
	t, err := m.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	if own, err := m.isPoster(t, poster); err != nil {
		return nil, err
	} else if !own {
		return nil, errorsmod.Wrapf(types.ErrNotPoster, "task %d was posted by %s", t.Id, t.Poster)
	}
	if t.Status != types.TASK_STATUS_OPEN && t.Status != types.TASK_STATUS_ASSIGNED {
		return nil, errorsmod.Wrapf(types.ErrWrongState, "task %d is already %s", t.Id, t.Status)
	}
	if t.Active > 0 || t.Verified > 0 {
		return nil, errorsmod.Wrapf(types.ErrTaskClaimed, "task %d has %d active and %d verified claims", t.Id, t.Active, t.Verified)
	}
	refund, err := m.rewards.CloseEscrow(ctx, t.Id)
	if err != nil {
		return nil, err
	}
	if err := m.ClaimQueue.Remove(ctx, collections.Join(t.ClaimDeadline, t.Id)); err != nil {
		return nil, err
	}
	t.Status = types.TASK_STATUS_CANCELLED
	if err := m.setTask(ctx, t); err != nil {
		return nil, err
	}
	err = sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventTaskCancelled{TaskId: t.Id, Refund: refund.String()})
	if err != nil {
		return nil, err
	}
	return &types.MsgCancelTaskResponse{}, nil
}

// RevealSecret opens the task's sampling secret. It is refused until claims
// close (every held claim has sealed its transcript): before that a worker
// could learn the sample before fixing its transcript.
func (m msgServer) RevealSecret(ctx context.Context, msg *types.MsgRevealSecret) (*types.MsgRevealSecretResponse, error) {
	poster, posterAddr, err := m.decodeAddress("poster", msg.Poster)
	if err != nil {
		return nil, err
	}
	t, err := m.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	if own, err := m.isPoster(t, poster); err != nil {
		return nil, err
	} else if !own {
		return nil, errorsmod.Wrapf(types.ErrNotPoster, "task %d was posted by %s", t.Id, t.Poster)
	}
	if len(t.SecretHash) == 0 {
		return nil, errorsmod.Wrapf(types.ErrWrongState, "task %d was posted without a secret: its samples come from the chain", t.Id)
	}
	if len(t.Secret) != 0 {
		return nil, errorsmod.Wrapf(types.ErrWrongState, "task %d: the secret is already revealed", t.Id)
	}
	if !t.ClaimsClosed {
		return nil, errorsmod.Wrapf(types.ErrSecretNotDue, "task %d has unsealed claims (%d active)", t.Id, t.Active)
	}
	if len(msg.Secret) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrBadSecret, "secret is %d bytes, want %d", len(msg.Secret), types.HashLen)
	}
	if h := sha256.Sum256(msg.Secret); !bytes.Equal(h[:], t.SecretHash) {
		return nil, errorsmod.Wrapf(types.ErrBadSecret, "SHA-256 of the secret is %X, the task committed to %X", h[:], t.SecretHash)
	}
	if n := len(msg.NextSecretHash); n != 0 && n != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "next_secret_hash is %d bytes, want %d (or none)", n, types.HashLen)
	}
	t.Secret = msg.Secret
	t.NextSecretHash = msg.NextSecretHash
	if err := m.setTask(ctx, t); err != nil {
		return nil, err
	}
	if err := (*m.verification).OnSecretRevealed(ctx, t.Id); err != nil {
		return nil, err
	}
	err = sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventSecretRevealed{
		TaskId: t.Id, Poster: posterAddr, NextSecret: len(msg.NextSecretHash) != 0,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgRevealSecretResponse{}, nil
}

// AbandonClaim releases an unsealed claim: the worker pays the abandon fee
// (capped at its bond) to the requester and gets the rest of its bond back,
// instead of losing it at the commit deadline. A worker that finds a task it
// cannot finish (or whose engine run fails) is not forced into a slash.
func (m msgServer) AbandonClaim(ctx context.Context, msg *types.MsgAbandonClaim) (*types.MsgAbandonClaimResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	t, err := m.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	a, err := m.GetAssignment(ctx, msg.TaskId, worker)
	if err != nil {
		return nil, err
	}
	now := sdkCtx.BlockTime()
	if a.Status != types.ASSIGNMENT_STATUS_ACTIVE {
		return nil, errorsmod.Wrapf(types.ErrWrongState, "task %d worker %s: claim is %s; only an unsealed claim can be abandoned", t.Id, workerAddr, a.Status)
	}
	if !now.Before(a.CommitDeadline) {
		return nil, errorsmod.Wrapf(types.ErrWrongState, "task %d worker %s: commit deadline %s has passed", t.Id, workerAddr, a.CommitDeadline)
	}
	// The fee is in the bond's denom, on that denom's terms; a denom since
	// removed from the allow-list costs nothing to leave.
	abandonFee := sdkmath.ZeroInt()
	if terms, ok := params.Terms(t.Bond.Denom); ok {
		abandonFee = terms.AbandonFee
	}
	fee, refunded, err := m.rewards.ReleaseBond(ctx, t.Id, worker, abandonFee)
	if err != nil {
		return nil, err
	}
	if err := m.CommitQueue.Remove(ctx, collections.Join3(a.CommitDeadline, t.Id, sdk.AccAddress(worker))); err != nil {
		return nil, err
	}
	a.Status = types.ASSIGNMENT_STATUS_ABANDONED
	a.Failure = "abandoned before sealing"
	if err := m.setAssignment(ctx, a); err != nil {
		return nil, err
	}
	t.Active--
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventClaimAbandoned{
		TaskId: t.Id, Worker: workerAddr, Fee: fee.String(), Refunded: refunded.String(),
	}); err != nil {
		return nil, err
	}
	if err := m.claimResolved(ctx, &t, worker); err != nil {
		return nil, err
	}
	if err := m.setTask(ctx, t); err != nil {
		return nil, err
	}
	return &types.MsgAbandonClaimResponse{Fee: fee, Refunded: refunded}, nil
}

// UpdateParams replaces the params; governance authority only.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, m.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := m.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params}); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
