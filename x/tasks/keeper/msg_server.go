package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

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

	poster, err := m.authKeeper.AddressCodec().StringToBytes(msg.Poster)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "poster %q: %s", msg.Poster, err)
	}
	es, err := msg.Spec.EngineSpec()
	if err != nil {
		return nil, err
	}
	if n := es.Arch().ParamCount(); n > params.MaxParams {
		return nil, errorsmod.Wrapf(types.ErrInvalidSpec, "model has %d parameters, more than max_params %d", n, params.MaxParams)
	}
	if err := msg.Spec.ValidateSchedule(params); err != nil {
		return nil, err
	}
	if err := msg.Dataset.Validate(es, params); err != nil {
		return nil, err
	}
	if err := validateCoin("reward", msg.Reward, params.Denom, types.ErrInvalidReward); err != nil {
		return nil, err
	}
	if err := validateCoin("bond", msg.Bond, params.Denom, types.ErrInvalidBond); err != nil {
		return nil, err
	}
	if msg.Reward.Amount.LT(params.MinReward) {
		return nil, errorsmod.Wrapf(types.ErrInvalidReward, "reward %s is below min_reward %s%s", msg.Reward, params.MinReward, params.Denom)
	}
	if msg.Bond.Amount.LT(params.MinBond) {
		return nil, errorsmod.Wrapf(types.ErrInvalidBond, "bond %s is below min_bond %s%s", msg.Bond, params.MinBond, params.Denom)
	}
	replicas := msg.Replicas
	if replicas == 0 {
		replicas = 1
	}
	if replicas > params.MaxReplicas {
		return nil, errorsmod.Wrapf(types.ErrInvalidReplicas, "replicas %d exceeds max_replicas %d", replicas, params.MaxReplicas)
	}
	if msg.Reward.Amount.QuoRaw(int64(replicas)).IsZero() {
		return nil, errorsmod.Wrapf(types.ErrInvalidReward, "reward %s cannot pay %d replicas", msg.Reward, replicas)
	}
	samples, err := chooseSamples(msg, params)
	if err != nil {
		return nil, err
	}
	if n := msg.Spec.Segments(); uint64(samples) > n {
		return nil, errorsmod.Wrapf(types.ErrInvalidSamples, "samples %d exceeds the %d segments of the job", samples, n)
	}
	if msg.ClaimWindow < params.MinClaimWindow || msg.ClaimWindow > params.MaxClaimWindow {
		return nil, errorsmod.Wrapf(types.ErrInvalidWindow, "claim_window %s must be within [%s, %s]", msg.ClaimWindow, params.MinClaimWindow, params.MaxClaimWindow)
	}
	if msg.CommitWindow < params.MinCommitWindow || msg.CommitWindow > params.MaxCommitWindow {
		return nil, errorsmod.Wrapf(types.ErrInvalidWindow, "commit_window %s must be within [%s, %s]", msg.CommitWindow, params.MinCommitWindow, params.MaxCommitWindow)
	}

	id, err := m.NextTaskID.Next(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.rewards.LockEscrow(ctx, id, poster, msg.Reward, replicas); err != nil {
		return nil, err
	}
	now := sdkCtx.BlockTime()
	task := types.Task{
		Id:            id,
		Poster:        msg.Poster,
		Spec:          msg.Spec,
		Dataset:       msg.Dataset,
		Reward:        msg.Reward,
		Bond:          msg.Bond,
		Replicas:      replicas,
		Samples:       samples,
		DetectionBps:  msg.DetectionBps,
		ClaimDeadline: now.Add(msg.ClaimWindow),
		CommitWindow:  msg.CommitWindow,
		Seed:          types.TaskSeed(id, sdkCtx.HeaderHash()),
		Status:        types.TASK_STATUS_OPEN,
		PostedHeight:  sdkCtx.BlockHeight(),
		PostedAt:      now,
		SpecHash:      types.SpecHash(es, msg.Spec),
	}
	if err := m.setTask(ctx, task); err != nil {
		return nil, err
	}
	if err := m.ClaimQueue.Set(ctx, collections.Join(task.ClaimDeadline, id)); err != nil {
		return nil, err
	}
	err = sdkCtx.EventManager().EmitTypedEvent(&types.EventTaskPosted{
		TaskId: id, Poster: msg.Poster, Reward: msg.Reward.String(), Bond: msg.Bond.String(),
		Replicas: replicas, Samples: samples, Model: msg.Spec.Model.String(), TotalSteps: msg.Spec.TotalSteps,
		DatasetRoot: msg.Dataset.Root, ClaimDeadline: task.ClaimDeadline,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgPostTaskResponse{TaskId: id, Samples: samples, Seed: task.Seed}, nil
}

// chooseSamples returns k: given directly, or derived from detection_bps.
func chooseSamples(msg *types.MsgPostTask, p types.Params) (uint32, error) {
	switch {
	case msg.Samples > 0 && msg.DetectionBps > 0:
		return 0, errorsmod.Wrap(types.ErrInvalidSamples, "give samples or detection_bps, not both")
	case msg.Samples > 0:
		if msg.Samples > p.MaxSamples {
			return 0, errorsmod.Wrapf(types.ErrInvalidSamples, "samples %d exceeds max_samples %d", msg.Samples, p.MaxSamples)
		}
		return msg.Samples, nil
	case msg.DetectionBps > 0:
		k, err := types.DeriveSamples(msg.DetectionBps, p.AssumedForgedBps)
		if err != nil {
			return 0, errorsmod.Wrap(types.ErrInvalidSamples, err.Error())
		}
		if k > p.MaxSamples {
			return 0, errorsmod.Wrapf(types.ErrInvalidSamples, "detection_bps %d needs %d samples, more than max_samples %d", msg.DetectionBps, k, p.MaxSamples)
		}
		return k, nil
	default:
		return 0, errorsmod.Wrap(types.ErrInvalidSamples, "give samples (k >= 1) or detection_bps")
	}
}

// validateCoin checks a coin's form and denom; the minimums are checked by the caller.
func validateCoin(field string, c sdk.Coin, denom string, errType *errorsmod.Error) error {
	if c.Amount.IsNil() {
		return errorsmod.Wrapf(errType, "%s is missing", field)
	}
	if err := c.Validate(); err != nil {
		return errorsmod.Wrapf(errType, "%s %s: %s", field, c, err)
	}
	if c.Denom != denom {
		return errorsmod.Wrapf(errType, "%s denom %q must be %q", field, c.Denom, denom)
	}
	return nil
}

// ClaimTask takes a replica slot and locks the worker's bond.
func (m msgServer) ClaimTask(ctx context.Context, msg *types.MsgClaimTask) (*types.MsgClaimTaskResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	worker, err := m.authKeeper.AddressCodec().StringToBytes(msg.Worker)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "worker %q: %s", msg.Worker, err)
	}
	t, err := m.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	now := sdkCtx.BlockTime()
	if t.Status != types.TASK_STATUS_OPEN || !now.Before(t.ClaimDeadline) {
		return nil, errorsmod.Wrapf(types.ErrTaskNotOpen, "task %d is %s (claim deadline %s)", t.Id, t.Status, t.ClaimDeadline)
	}
	if t.Poster == msg.Worker {
		return nil, errorsmod.Wrapf(types.ErrOwnTask, "task %d", t.Id)
	}
	if has, err := m.Assignments.Has(ctx, collections.Join(t.Id, sdk.AccAddress(worker))); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrAlreadyClaimed, "task %d worker %s", t.Id, msg.Worker)
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
		Worker:         msg.Worker,
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
		TaskId: t.Id, Worker: msg.Worker, Bond: bond.String(), CommitDeadline: a.CommitDeadline,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgClaimTaskResponse{CommitWindow: t.CommitWindow}, nil
}

// CancelTask refunds a task that no worker holds or held a claim on.
func (m msgServer) CancelTask(ctx context.Context, msg *types.MsgCancelTask) (*types.MsgCancelTaskResponse, error) {
	if _, err := m.authKeeper.AddressCodec().StringToBytes(msg.Poster); err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "poster %q: %s", msg.Poster, err)
	}
	t, err := m.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	if t.Poster != msg.Poster {
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
