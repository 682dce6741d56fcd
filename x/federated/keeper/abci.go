package keeper

import (
	"context"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/federated/types"
	"github.com/hinterland-ai/hinterland/x/internal/queue"
)

// EndBlocker moves rounds whose phase deadline passed, at most
// max_deadlines_per_block per block (the rest wait for the next block).
// A phase change settles at most max_participants bonds and payments and
// never recomputes anything: recomputation happens only in metered message
// handlers. Each job runs in a cache context: one that fails is logged and
// dropped, never halting the chain.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	due, err := queue.Due(ctx, k.DeadlineQueue, func(key collections.Pair[time.Time, uint64]) time.Time { return key.K1() },
		sdkCtx.BlockTime(), params.MaxDeadlinesPerBlock)
	if err != nil {
		return err
	}
	for _, key := range due {
		if err := k.DeadlineQueue.Remove(ctx, key); err != nil {
			return err
		}
		if queue.RunIsolated(sdkCtx, types.ModuleName, "federated deadline", key.K2(), func(c sdk.Context) error {
			return k.advance(c, key.K2())
		}) {
			continue
		}
		// A round that cannot move (a bug, never user input) stops its job,
		// so that escrow and bonds are not locked for ever; if even that
		// fails, it is retried in an hour.
		if !queue.RunIsolated(sdkCtx, types.ModuleName, "federated stop", key.K2(), func(c sdk.Context) error {
			return k.stopJob(c, key.K2(), "the round could not advance")
		}) {
			if err := k.DeadlineQueue.Set(ctx, collections.Join(sdkCtx.BlockTime().Add(time.Hour), key.K2())); err != nil {
				return err
			}
		}
	}
	return nil
}

// stopJob fails a running job's current round.
func (k Keeper) stopJob(ctx context.Context, jobID uint64, reason string) error {
	job, err := k.GetJob(ctx, jobID)
	if err != nil || job.Status != types.JOB_STATUS_RUNNING {
		return err
	}
	r, err := k.GetRound(ctx, jobID, job.CurrentRound)
	if err != nil {
		return err
	}
	return k.failRound(ctx, &job, &r, reason)
}
