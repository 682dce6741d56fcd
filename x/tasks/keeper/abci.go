package keeper

import (
	"context"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/internal/metrics"
	"github.com/hinterland-ai/hinterland/x/internal/queue"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// EndBlocker walks the deadline queues up to block time, at most
// max_deadlines_per_block items per block (the rest wait for the next block):
//   - a claim whose commit deadline passed without a commit fails: the bond is
//     slashed by x/rewards and the slot reopens while claims are accepted;
//   - a task whose claim deadline passed with no claim in flight closes: the
//     escrow returns to the poster (minus what verified replicas were paid).
//
// Each item runs in a cache context: one that errors is dropped from the queue
// and logged, and cannot halt the chain or leave a half-applied change.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if metrics.Due(sdkCtx.BlockHeight()) {
		k.statusMetrics(ctx)
	}
	budget := params.MaxDeadlinesPerBlock
	now := sdkCtx.BlockTime()

	commits, err := queue.Due(ctx, k.CommitQueue, func(key collections.Triple[time.Time, uint64, sdk.AccAddress]) time.Time { return key.K1() }, now, budget)
	if err != nil {
		return err
	}
	for _, key := range commits {
		queue.RunIsolated(sdkCtx, types.ModuleName, "commit deadline", key.K2(), func(c sdk.Context) error {
			return k.FailAssignment(c, key.K2(), key.K3(), nil, "commit deadline missed")
		})
		// FailAssignment removes the key; a failed attempt must not retry forever.
		if err := k.CommitQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	budget -= uint32(len(commits))

	claims, err := queue.Due(ctx, k.ClaimQueue, func(key collections.Pair[time.Time, uint64]) time.Time { return key.K1() }, now, budget)
	if err != nil {
		return err
	}
	for _, key := range claims {
		queue.RunIsolated(sdkCtx, types.ModuleName, "claim deadline", key.K2(), func(c sdk.Context) error {
			return k.expire(c, key.K2())
		})
		if err := k.ClaimQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// expire handles a task whose claim deadline passed.
func (k Keeper) expire(ctx context.Context, id uint64) error {
	t, err := k.GetTask(ctx, id)
	if err != nil {
		return err
	}
	if t.Status != types.TASK_STATUS_OPEN && t.Status != types.TASK_STATUS_ASSIGNED {
		return nil
	}
	refreshStatus(&t, sdk.UnwrapSDKContext(ctx).BlockTime())
	// With claims in flight the task closes when the last one resolves.
	if err := k.maybeClose(ctx, &t); err != nil {
		return err
	}
	return k.setTask(ctx, t)
}

// maxCountedPerStatus bounds the index walk of the tasks-by-status gauge.
const maxCountedPerStatus = 100_000

// statusMetrics sets hinterland_tasks_by_status from the status index
// (telemetry only; nothing is written).
func (k Keeper) statusMetrics(ctx context.Context) {
	for st := types.TASK_STATUS_OPEN; st <= types.TASK_STATUS_UNTRAINABLE; st++ {
		it, err := k.Tasks.Indexes.Status.MatchExact(ctx, int32(st))
		if err != nil {
			return
		}
		var n uint64
		for ; it.Valid() && n < maxCountedPerStatus; it.Next() {
			n++
		}
		it.Close()
		metrics.Gauge(types.ModuleName, "by_status", n, "status", st.String())
	}
}
