package simulation

import (
	"context"
	"math/rand"
	"time"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/tasks/keeper"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// MsgPostTaskFactory posts a real job (RandomJob) with a random reward, bond,
// replica count, sample count (given directly or derived from a detection
// probability) and deadline windows, from an account that can pay it.
func MsgPostTaskFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgPostTask] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgPostTask) {
		p, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skipf("params: %s", err)
			return nil, nil
		}
		r := testData.Rand()
		spec, ref := RandomJob(r.Rand, p)
		replicas := uint32(1 + r.Intn(int(min(p.MaxReplicas, 3))))
		reward := p.MinReward.AddRaw(int64(replicas) + r.Int63n(2_000_000))
		bond := p.MinBond.AddRaw(r.Int63n(200_000))
		rewardCoin := sdk.NewCoin(p.Denom, reward)
		poster := testData.AnyAccountN(10, reporter, simsx.WithLiquidBalanceGTE(rewardCoin.AddAmount(sdkmath.NewInt(1))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		poster.LiquidBalance().BlockAmount(rewardCoin)
		msg := &types.MsgPostTask{
			Poster: poster.AddressBech32, Spec: spec, Dataset: ref,
			Reward: rewardCoin, Bond: sdk.NewCoin(p.Denom, bond), Replicas: replicas,
			ClaimWindow:  window(r.Rand, p.MinClaimWindow, p.MaxClaimWindow, 72*time.Hour),
			CommitWindow: window(r.Rand, p.MinCommitWindow, p.MaxCommitWindow, 24*time.Hour),
		}
		maxK := min(uint64(p.MaxSamples), spec.Segments(), 3)
		msg.Samples = uint32(1 + r.Int63n(int64(maxK)))
		if r.Intn(4) == 0 {
			// Ask for a detection probability instead when it needs few enough samples.
			bps := uint32(1_000 + r.Intn(8_000))
			if k, err := types.DeriveSamples(bps, p.AssumedForgedBps); err == nil && k >= 1 && uint64(k) <= maxK {
				msg.Samples, msg.DetectionBps = 0, bps
			}
		}
		return []simsx.SimAccount{poster}, msg
	}
}

// window draws a duration in [lo, hi]: lo itself a quarter of the time (a
// deadline inside the next block), otherwise up to lo+spread.
func window(r *rand.Rand, lo, hi, spread time.Duration) time.Duration {
	if hi <= lo || r.Intn(4) == 0 {
		return lo
	}
	return lo + time.Duration(r.Int63n(int64(min(hi-lo, spread))+1))
}

// tasksWithStatus lists the tasks in the given states, in id order.
func tasksWithStatus(ctx context.Context, k keeper.Keeper, statuses ...types.TaskStatus) ([]types.Task, error) {
	var out []types.Task
	for _, s := range statuses {
		err := k.Tasks.Indexes.Status.Walk(ctx, collections.NewPrefixedPairRange[int32, uint64](int32(s)), func(_ int32, id uint64) (bool, error) {
			t, err := k.Tasks.Get(ctx, id)
			if err != nil {
				return true, err
			}
			out = append(out, t)
			return false, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MsgClaimTaskFactory claims an open task for an account that is not its
// poster, has no claim on it yet and can lock the bond.
func MsgClaimTaskFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgClaimTask] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgClaimTask) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		open, err := tasksWithStatus(ctx, k, types.TASK_STATUS_OPEN)
		if err != nil {
			reporter.Skipf("tasks: %s", err)
			return nil, nil
		}
		var claimable []types.Task
		for _, t := range open {
			if now.Before(t.ClaimDeadline) {
				claimable = append(claimable, t)
			}
		}
		if len(claimable) == 0 {
			reporter.Skip("no open task")
			return nil, nil
		}
		t := claimable[testData.Rand().Intn(len(claimable))]
		notClaimed := simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			has, err := k.Assignments.Has(ctx, collections.Join(t.Id, a.Address))
			return err == nil && !has
		})
		worker := testData.AnyAccountN(20, reporter, simsx.ExcludeAddresses(t.Poster), notClaimed,
			simsx.WithLiquidBalanceGTE(t.Bond.AddAmount(sdkmath.NewInt(1))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		// The reputation discount can only lower the bond; block all of it.
		worker.LiquidBalance().BlockAmount(t.Bond)
		return []simsx.SimAccount{worker}, &types.MsgClaimTask{Worker: worker.AddressBech32, TaskId: t.Id}
	}
}

// MsgCancelTaskFactory cancels a task that nobody has claimed or completed.
func MsgCancelTaskFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgCancelTask] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCancelTask) {
		live, err := tasksWithStatus(ctx, k, types.TASK_STATUS_OPEN, types.TASK_STATUS_ASSIGNED)
		if err != nil {
			reporter.Skipf("tasks: %s", err)
			return nil, nil
		}
		var cancellable []types.Task
		for _, t := range live {
			if t.Active == 0 && t.Verified == 0 && testData.HasAccount(t.Poster) {
				cancellable = append(cancellable, t)
			}
		}
		if len(cancellable) == 0 {
			reporter.Skip("no cancellable task")
			return nil, nil
		}
		t := cancellable[testData.Rand().Intn(len(cancellable))]
		poster := testData.GetAccount(reporter, t.Poster)
		if reporter.IsSkipped() {
			return nil, nil
		}
		return []simsx.SimAccount{poster}, &types.MsgCancelTask{Poster: t.Poster, TaskId: t.Id}
	}
}

// MsgUpdateParamsFactory is a governance proposal that sets random valid params.
func MsgUpdateParamsFactory() simsx.SimMsgFactoryFn[*types.MsgUpdateParams] {
	return func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams) {
		return nil, &types.MsgUpdateParams{
			Authority: testData.ModuleAccountAddress(reporter, "gov"),
			Params:    GenParams(testData.Rand().Rand, sdk.DefaultBondDenom),
		}
	}
}
