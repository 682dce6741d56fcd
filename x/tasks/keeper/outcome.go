package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// The functions below are what x/verification calls (its TasksKeeper
// interface) as a claim moves through verification. Money moves in x/rewards,
// called from here so that every path to an outcome settles the same way.

// MarkCommitted records that the worker committed its transcript in time.
func (k Keeper) MarkCommitted(ctx context.Context, taskID uint64, worker sdk.AccAddress) error {
	a, err := k.GetAssignment(ctx, taskID, worker)
	if err != nil {
		return err
	}
	if a.Status != types.ASSIGNMENT_STATUS_ACTIVE {
		return errorsmod.Wrapf(types.ErrWrongState, "task %d worker %s: claim is %s, not active", taskID, worker, a.Status)
	}
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	if !now.Before(a.CommitDeadline) {
		return errorsmod.Wrapf(types.ErrWrongState, "task %d worker %s: commit deadline %s has passed", taskID, worker, a.CommitDeadline)
	}
	if err := k.CommitQueue.Remove(ctx, collections.Join3(a.CommitDeadline, taskID, worker)); err != nil {
		return err
	}
	a.Status = types.ASSIGNMENT_STATUS_COMMITTED
	if err := k.setAssignment(ctx, a); err != nil {
		return err
	}
	t, err := k.GetTask(ctx, taskID)
	if err != nil {
		return err
	}
	if err := k.closeClaimsIfSealed(ctx, &t); err != nil {
		return err
	}
	return k.setTask(ctx, t)
}

// FailAssignment slashes a worker whose claim failed (challenger may be nil),
// frees its slot and reopens or closes the task.
func (k Keeper) FailAssignment(ctx context.Context, taskID uint64, worker, challenger sdk.AccAddress, reason string) error {
	t, err := k.GetTask(ctx, taskID)
	if err != nil {
		return err
	}
	a, err := k.GetAssignment(ctx, taskID, worker)
	if err != nil {
		return err
	}
	if a.Status != types.ASSIGNMENT_STATUS_ACTIVE && a.Status != types.ASSIGNMENT_STATUS_COMMITTED {
		return errorsmod.Wrapf(types.ErrWrongState, "task %d worker %s: claim is already %s", taskID, worker, a.Status)
	}
	if a.Status == types.ASSIGNMENT_STATUS_ACTIVE {
		if err := k.CommitQueue.Remove(ctx, collections.Join3(a.CommitDeadline, taskID, worker)); err != nil {
			return err
		}
	}
	if err := k.rewards.SlashWorker(ctx, taskID, worker, challenger, reason); err != nil {
		return err
	}
	a.Status = types.ASSIGNMENT_STATUS_FAILED
	a.Failure = reason
	if err := k.setAssignment(ctx, a); err != nil {
		return err
	}
	t.Active--
	em := sdk.UnwrapSDKContext(ctx).EventManager()
	if err := em.EmitTypedEvent(&types.EventAssignmentFailed{TaskId: taskID, Worker: worker.String(), Reason: reason}); err != nil {
		return err
	}
	if err := k.claimResolved(ctx, &t, worker); err != nil {
		return err
	}
	return k.setTask(ctx, t)
}

// CompleteAssignment pays a verified worker, records the model it produced in
// the lineage and closes the task when it is done.
func (k Keeper) CompleteAssignment(ctx context.Context, taskID uint64, worker sdk.AccAddress, rec types.ModelRecord, macs uint64) error {
	t, err := k.GetTask(ctx, taskID)
	if err != nil {
		return err
	}
	a, err := k.GetAssignment(ctx, taskID, worker)
	if err != nil {
		return err
	}
	if a.Status != types.ASSIGNMENT_STATUS_COMMITTED {
		return errorsmod.Wrapf(types.ErrWrongState, "task %d worker %s: claim is %s, not committed", taskID, worker, a.Status)
	}
	if len(rec.ModelHash) != types.HashLen {
		return errorsmod.Wrapf(types.ErrInvalidHash, "model hash must be %d bytes", types.HashLen)
	}
	if err := k.rewards.PayWorker(ctx, taskID, worker, macs); err != nil {
		return err
	}
	a.Status = types.ASSIGNMENT_STATUS_VERIFIED
	if err := k.setAssignment(ctx, a); err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	// Replicas of one task produce the same model; the first verified one is
	// recorded and the others add nothing new to the lineage.
	if has, err := k.Models.Has(ctx, rec.ModelHash); err != nil {
		return err
	} else if !has {
		rec.TaskId = taskID
		rec.Worker = worker.String()
		rec.BaseModelHash = t.Spec.BaseModelHash
		rec.DatasetRoot = t.Dataset.Root
		rec.SpecHash = t.SpecHash
		rec.AnnotationJob = t.Dataset.AnnotationJob
		rec.Height = sdkCtx.BlockHeight()
		if err := k.Models.Set(ctx, rec.ModelHash, rec); err != nil {
			return err
		}
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventModelRecorded{
			ModelHash: rec.ModelHash, TaskId: taskID, Worker: rec.Worker, BaseModelHash: rec.BaseModelHash,
		}); err != nil {
			return err
		}
	}
	t.Active--
	t.Verified++
	if err := k.claimResolved(ctx, &t, worker); err != nil {
		return err
	}
	return k.setTask(ctx, t)
}

// CompleteUntrainable settles a worker that proved, through verification,
// that the engine cannot compute a step of the task (from a start state the
// chain sampled back to the seed): the requester posted a job nobody can
// train, so it pays. The worker gets its bond back, the share of a replica's
// reward for the steps it trained (stepsDone of total_steps) and
// untrainable_penalty_bps of the share on top (at most the whole share); the
// task takes no more claims and closes as untrainable.
func (k Keeper) CompleteUntrainable(ctx context.Context, taskID uint64, worker sdk.AccAddress, stepsDone uint64, reason string) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	t, err := k.GetTask(ctx, taskID)
	if err != nil {
		return err
	}
	a, err := k.GetAssignment(ctx, taskID, worker)
	if err != nil {
		return err
	}
	if a.Status != types.ASSIGNMENT_STATUS_COMMITTED {
		return errorsmod.Wrapf(types.ErrWrongState, "task %d worker %s: claim is %s, not committed", taskID, worker, a.Status)
	}
	if stepsDone > t.Spec.TotalSteps {
		stepsDone = t.Spec.TotalSteps
	}
	paid, err := k.rewards.CompensateWorker(ctx, taskID, worker, stepsDone, t.Spec.TotalSteps, params.UntrainablePenaltyBps)
	if err != nil {
		return err
	}
	a.Status = types.ASSIGNMENT_STATUS_UNTRAINABLE
	a.Failure = reason
	if err := k.setAssignment(ctx, a); err != nil {
		return err
	}
	t.Active--
	t.Untrainable = reason
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventTaskUntrainable{
		TaskId: taskID, Worker: worker.String(), Reason: reason, Compensation: paid.String(),
	}); err != nil {
		return err
	}
	if err := k.claimResolved(ctx, &t, worker); err != nil {
		return err
	}
	return k.setTask(ctx, t)
}
