package simulation

import (
	"bytes"
	"context"
	"crypto/sha256"
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
		// Some tasks pay, or bond, in an accepted voucher, on its own minimums.
		denom := func() types.AcceptedDenom {
			terms, _ := p.Terms(p.Denom)
			if len(p.AcceptedDenoms) > 0 && r.Intn(3) == 0 {
				terms = p.AcceptedDenoms[r.Intn(len(p.AcceptedDenoms))]
			}
			return terms
		}
		rewardTerms, bondTerms := denom(), denom()
		reward := rewardTerms.MinReward.AddRaw(int64(replicas) + r.Int63n(2_000_000))
		bond := bondTerms.MinBond.AddRaw(r.Int63n(200_000))
		rewardCoin := sdk.NewCoin(rewardTerms.Denom, reward)
		poster := testData.AnyAccountN(10, reporter, simsx.WithLiquidBalanceGTE(rewardCoin.AddAmount(sdkmath.NewInt(1))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		poster.LiquidBalance().BlockAmount(rewardCoin)
		msg := &types.MsgPostTask{
			Poster: poster.AddressBech32, Spec: spec, Dataset: ref,
			Reward: rewardCoin, Bond: sdk.NewCoin(bondTerms.Denom, bond), Replicas: replicas,
			ClaimWindow:  window(r.Rand, p.MinClaimWindow, p.MaxClaimWindow, 72*time.Hour),
			CommitWindow: window(r.Rand, p.MinCommitWindow, p.MaxCommitWindow, 24*time.Hour),
		}
		if r.Intn(2) == 0 {
			// Half the tasks draw their samples from the requester's secret.
			msg.SecretHash = SecretHash(Secret(poster.Address, 0))
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

// maxSecrets bounds the secrets of a simulated requester's chain: a task that
// reopens after a reveal takes the next secret of the chain, if the requester
// named one.
const maxSecrets = 64

// Secret is the n-th sampling secret of a simulated requester: a function of
// its address, so the reveal factory finds it without state outside the
// chain. Secret n+1 is the SHA-256 of secret n.
func Secret(poster sdk.AccAddress, n int) []byte {
	h := sha256.Sum256(append([]byte("sim-secret"), poster...))
	for range n {
		h = sha256.Sum256(h[:])
	}
	return h[:]
}

// SecretHash is what a task commits to: the SHA-256 of its secret.
func SecretHash(secret []byte) []byte {
	h := sha256.Sum256(secret)
	return h[:]
}

// MsgRevealSecretFactory reveals the sampling secret of a task whose claims
// are closed, from its (simulated) poster; three times in four it names the
// next secret of its chain for the claims that follow if the task reopens.
func MsgRevealSecretFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRevealSecret] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRevealSecret) {
		live, err := tasksWithStatus(ctx, k, types.TASK_STATUS_OPEN, types.TASK_STATUS_ASSIGNED)
		if err != nil {
			reporter.Skipf("tasks: %s", err)
			return nil, nil
		}
		var due []types.Task
		for _, t := range live {
			if t.ClaimsClosed && len(t.SecretHash) != 0 && len(t.Secret) == 0 && testData.HasAccount(t.Poster) {
				due = append(due, t)
			}
		}
		if len(due) == 0 {
			reporter.Skip("no task with a secret due")
			return nil, nil
		}
		r := testData.Rand()
		t := due[r.Intn(len(due))]
		poster := testData.GetAccount(reporter, t.Poster)
		if reporter.IsSkipped() {
			return nil, nil
		}
		for n := range maxSecrets {
			secret := Secret(poster.Address, n)
			if !bytes.Equal(SecretHash(secret), t.SecretHash) {
				continue
			}
			msg := &types.MsgRevealSecret{Poster: t.Poster, TaskId: t.Id, Secret: secret}
			if r.Intn(4) != 0 {
				msg.NextSecretHash = SecretHash(Secret(poster.Address, n+1))
			}
			return []simsx.SimAccount{poster}, msg
		}
		reporter.Skip("the secret hash is not a simulated requester's")
		return nil, nil
	}
}

// MsgAbandonClaimFactory gives up an unsealed claim before its commit
// deadline: the worker pays the abandon fee and gets the rest of its bond back.
func MsgAbandonClaimFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgAbandonClaim] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgAbandonClaim) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		var active []types.Assignment
		err := k.Assignments.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], a types.Assignment) (bool, error) {
			if a.Status == types.ASSIGNMENT_STATUS_ACTIVE && now.Before(a.CommitDeadline) && testData.HasAccount(a.Worker) {
				active = append(active, a)
			}
			return false, nil
		})
		if err != nil || len(active) == 0 {
			reporter.Skip("no active claim to abandon")
			return nil, nil
		}
		a := active[testData.Rand().Intn(len(active))]
		worker := testData.GetAccount(reporter, a.Worker)
		if reporter.IsSkipped() {
			return nil, nil
		}
		return []simsx.SimAccount{worker}, &types.MsgAbandonClaim{Worker: a.Worker, TaskId: a.TaskId}
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
