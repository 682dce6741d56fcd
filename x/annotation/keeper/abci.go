package keeper

import (
	"context"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/annotation/types"
	"github.com/hinterland-ai/hinterland/x/internal/queue"
)

// maxDeadlinesPerBlock bounds the phase changes the end blocker makes per
// block; each walks at most one job's batches.
const maxDeadlinesPerBlock = 20

// EndBlocker moves jobs through their phases at their deadlines and runs the
// aggregations in bounded chunks (max_units_per_block work units per block,
// all jobs together). Each item runs in a cache context: one that fails is
// logged and dropped, never halting the chain.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	due, err := queue.Due(ctx, k.DeadlineQueue, func(key collections.Pair[time.Time, uint64]) time.Time { return key.K1() },
		sdkCtx.BlockTime(), maxDeadlinesPerBlock)
	if err != nil {
		return err
	}
	for _, key := range due {
		queue.RunIsolated(sdkCtx, types.ModuleName, "annotation deadline", key.K2(), func(c sdk.Context) error {
			return k.deadline(c, key.K2(), params)
		})
		if err := k.DeadlineQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	budget := params.MaxUnitsPerBlock
	var jobs []uint64
	if err := k.AggregateQueue.Walk(ctx, nil, func(id uint64) (bool, error) {
		jobs = append(jobs, id)
		return len(jobs) >= maxDeadlinesPerBlock, nil
	}); err != nil {
		return err
	}
	for _, id := range jobs {
		if budget == 0 {
			break
		}
		var used uint64
		ok := queue.RunIsolated(sdkCtx, types.ModuleName, "annotation aggregation", id, func(c sdk.Context) error {
			var err error
			used, err = k.aggregateChunk(c, id, budget, params)
			return err
		})
		if !ok { // a failing aggregation is dropped, not retried forever
			if err := k.AggregateQueue.Remove(ctx, id); err != nil {
				return err
			}
			continue
		}
		budget -= min(budget, max(used, 1))
	}
	return nil
}

// deadline handles a job whose phase ended.
func (k Keeper) deadline(ctx sdk.Context, id uint64, params types.Params) error {
	job, err := k.GetJob(ctx, id)
	if err != nil {
		return err
	}
	now := ctx.BlockTime()
	switch {
	case job.Status == types.JOB_STATUS_LABELLING && !now.Before(job.LabelDeadline):
		// Unsealed batches are forfeited; sealed ones may open now.
		if err := k.forfeit(ctx, job, types.BATCH_STATUS_CLAIMED, "not sealed before the label deadline"); err != nil {
			return err
		}
		job.Status = types.JOB_STATUS_OPENING
		if err := k.Jobs.Set(ctx, id, job); err != nil {
			return err
		}
		return k.DeadlineQueue.Set(ctx, collections.Join(job.OpenDeadline, id))
	case job.Status == types.JOB_STATUS_OPENING && now.Before(job.GoldDeadline):
		// Open deadline: unopened batches are forfeited. With the gold set
		// in, aggregation starts now; otherwise at the gold deadline.
		if err := k.forfeit(ctx, job, types.BATCH_STATUS_SEALED, "not opened before the open deadline"); err != nil {
			return err
		}
		if job.GoldRevealed {
			return k.startAggregation(ctx, job)
		}
		return k.DeadlineQueue.Set(ctx, collections.Join(job.GoldDeadline, id))
	case job.Status == types.JOB_STATUS_OPENING:
		if err := k.forfeit(ctx, job, types.BATCH_STATUS_SEALED, "not opened before the open deadline"); err != nil {
			return err
		}
		return k.startAggregation(ctx, job)
	}
	return nil
}

// forfeit marks a job's batches in status from as forfeited (their stake
// goes to the requester when the job settles).
func (k Keeper) forfeit(ctx sdk.Context, job types.Job, from types.BatchStatus, reason string) error {
	var hit []types.Batch
	err := k.Batches.Walk(ctx, collections.NewPrefixedTripleRange[uint64, uint32, sdk.AccAddress](job.Id),
		func(_ BatchKey, b types.Batch) (bool, error) {
			if b.Status == from {
				hit = append(hit, b)
			}
			return false, nil
		})
	if err != nil {
		return err
	}
	for _, b := range hit {
		addr, err := k.authKeeper.AddressCodec().StringToBytes(b.Annotator)
		if err != nil {
			return err
		}
		b.Status = types.BATCH_STATUS_FORFEITED
		if err := k.Batches.Set(ctx, collections.Join3(b.JobId, b.Group, sdk.AccAddress(addr)), b); err != nil {
			return err
		}
		if err := k.record(ctx, addr, func(r *types.AnnotatorRecord) { r.BatchesForfeited++ }); err != nil {
			return err
		}
		if err := ctx.EventManager().EmitTypedEvent(&types.EventBatchForfeited{JobId: b.JobId, Group: b.Group, Annotator: b.Annotator, Reason: reason}); err != nil {
			return err
		}
	}
	return nil
}
