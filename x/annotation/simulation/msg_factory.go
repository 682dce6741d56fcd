package simulation

import (
	"bytes"
	"context"
	"math/rand"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/annotation/keeper"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// MsgPostJobFactory posts a labelling job (three times in four, on one of
// the classification datasets) or a preference job, with a random
// redundancy, batch size, pay, stake, gold deposit, gold accuracy threshold
// and label window, committing to the requester's gold set (GoldSet), from
// an account that can pay the escrow. Jobs the current params refuse (too
// many batches, a dataset over max_items) are left out.
func MsgPostJobFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgPostJob] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgPostJob) {
		p, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skipf("params: %s", err)
			return nil, nil
		}
		r := testData.Rand()
		kind, classes := types.LABEL_KIND_CLASS, uint32(4)
		if r.Intn(4) == 0 {
			kind, classes = types.LABEL_KIND_PREFERENCE, 2
		}
		ds := Datasets(kind)
		d := ds[r.Intn(len(ds))]
		if d.Len() > p.MaxItems || classes > p.MaxClasses {
			reporter.Skip("the simulation's datasets do not fit the params")
			return nil, nil
		}
		msg := &types.MsgPostJob{
			Items: Ref(d), Kind: kind, Classes: classes,
			Redundancy:  uint32(1 + r.Intn(int(min(p.MaxRedundancy, 3)))),
			BatchSize:   batchSize(r.Rand, p.MaxBatchSize),
			PayPerLabel: sdk.NewCoin(p.Denom, sdkmath.NewInt(1+r.Int63n(100))),
			Stake:       sdk.NewCoin(p.Denom, sdkmath.NewInt(r.Int63n(20_000))),
			GoldDeposit: sdk.NewCoin(p.Denom, p.MinGoldDeposit.AddRaw(r.Int63n(20_000))),
			LabelWindow: window(r.Rand, p.MinLabelWindow, p.MaxLabelWindow, 10*time.Hour),
		}
		if r.Intn(5) != 0 { // one job in five slashes nobody
			msg.MinGoldAccuracyBps = uint32(5_000 + r.Intn(4_001))
		}
		// At least the labels' pay and the gold deposit; the aggregation fee
		// comes on top (the dry run below tells the whole escrow).
		least := msg.PayPerLabel.Amount.MulRaw(int64(msg.Items.Rows) * int64(msg.Redundancy)).Add(msg.GoldDeposit.Amount).AddRaw(1)
		requester := testData.AnyAccountN(10, reporter, simsx.WithLiquidBalanceGTE(sdk.NewCoin(p.Denom, least)))
		if reporter.IsSkipped() {
			return nil, nil
		}
		gold, err := GoldSet(requester.Address, d)
		if err != nil {
			reporter.Skipf("gold set: %s", err)
			return nil, nil
		}
		msg.Requester = requester.AddressBech32
		msg.GoldCommitment = types.GoldCommitment(GoldSalt(requester.Address, d), gold)
		// Post on a branch of the state to learn the escrow (pay, the
		// aggregation fee at the job's work bound, the deposit) and that the
		// current params take the job.
		branch, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
		res, err := keeper.NewMsgServerImpl(k).PostJob(branch.WithGasMeter(storetypes.NewInfiniteGasMeter()), msg)
		if err != nil {
			space, code, _ := errorsmod.ABCIInfo(err, false)
			reporter.Skipf("the job does not fit the params or the requester's balance (%s/%d)", space, code)
			return nil, nil
		}
		if !requester.LiquidBalance().BlockAmount(res.Escrow) || requester.LiquidBalance().AmountOf(p.Denom).IsZero() {
			reporter.Skip("the requester cannot pay the escrow and a fee")
			return nil, nil
		}
		return []simsx.SimAccount{requester}, msg
	}
}

// batchSize draws a batch size of 4 to 16 items (2 to 16 groups of a
// simulated dataset), at most max.
func batchSize(r *rand.Rand, max uint32) uint32 {
	hi := min(max, 16)
	lo := min(4, hi)
	return lo + uint32(r.Intn(int(hi-lo+1)))
}

// window draws a duration in [lo, hi]: lo itself a quarter of the time,
// otherwise up to lo+spread.
func window(r *rand.Rand, lo, hi, spread time.Duration) time.Duration {
	if hi <= lo || r.Intn(4) == 0 {
		return lo
	}
	return lo + time.Duration(r.Int63n(int64(min(hi-lo, spread))+1))
}

// jobsWithStatus lists the jobs in the given states, in id order.
func jobsWithStatus(ctx context.Context, k keeper.Keeper, statuses ...types.JobStatus) ([]types.Job, error) {
	var out []types.Job
	for _, s := range statuses {
		err := k.Jobs.Indexes.Status.Walk(ctx, collections.NewPrefixedPairRange[int32, uint64](int32(s)), func(_ int32, id uint64) (bool, error) {
			j, err := k.Jobs.Get(ctx, id)
			if err != nil {
				return true, err
			}
			out = append(out, j)
			return false, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batchesOf lists a job's batches whose status is st and whose annotator is
// a simulated account, in store order.
func batchesOf(ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, jobID uint64, st types.BatchStatus) ([]types.Batch, error) {
	var out []types.Batch
	err := k.Batches.Walk(ctx, collections.NewPrefixedTripleRange[uint64, uint32, sdk.AccAddress](jobID),
		func(_ keeper.BatchKey, b types.Batch) (bool, error) {
			if b.Status == st && testData.HasAccount(b.Annotator) {
				out = append(out, b)
			}
			return false, nil
		})
	return out, err
}

// MsgClaimBatchFactory claims a batch of a job that still takes claims, for
// an account that is not its requester, can lock the stake and has not
// labelled every group still open (the chain draws the group).
func MsgClaimBatchFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgClaimBatch] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgClaimBatch) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		live, err := jobsWithStatus(ctx, k, types.JOB_STATUS_LABELLING)
		if err != nil {
			reporter.Skipf("jobs: %s", err)
			return nil, nil
		}
		var open []types.Job
		for _, j := range live {
			if n, err := k.OpenCount.Get(ctx, j.Id); err == nil && n > 0 && now.Before(j.LabelDeadline) {
				open = append(open, j)
			}
		}
		if len(open) == 0 {
			reporter.Skip("no job takes claims")
			return nil, nil
		}
		j := open[testData.Rand().Intn(len(open))]
		n, err := k.OpenCount.Get(ctx, j.Id)
		if err != nil || n > 64 {
			// The chain probes at most 64 open groups; simulated jobs have fewer.
			reporter.Skip("job with more than 64 open groups")
			return nil, nil
		}
		var groups []uint32
		for s := uint32(0); s < n; s++ {
			g, err := k.OpenGroups.Get(ctx, collections.Join(j.Id, s))
			if err != nil {
				reporter.Skipf("open groups: %s", err)
				return nil, nil
			}
			groups = append(groups, g)
		}
		// The chain only gives a group the annotator has not labelled.
		canLabel := simsx.SimAccountFilterFn(func(a simsx.SimAccount) bool {
			for _, g := range groups {
				if has, err := k.Batches.Has(ctx, collections.Join3(j.Id, g, a.Address)); err == nil && !has {
					return true
				}
			}
			return false
		})
		annotator := testData.AnyAccountN(20, reporter, simsx.ExcludeAddresses(j.Requester), canLabel,
			simsx.WithLiquidBalanceGTE(j.Stake.AddAmount(sdkmath.NewInt(1))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		annotator.LiquidBalance().BlockAmount(j.Stake)
		return []simsx.SimAccount{annotator}, &types.MsgClaimBatch{Annotator: annotator.AddressBech32, JobId: j.Id}
	}
}

// MsgSealLabelsFactory seals a claimed batch before the label deadline with
// the annotator's labels (Labels) and salt (LabelsSalt); lazy annotators
// never seal.
func MsgSealLabelsFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgSealLabels] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSealLabels) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		live, err := jobsWithStatus(ctx, k, types.JOB_STATUS_LABELLING)
		if err != nil {
			reporter.Skipf("jobs: %s", err)
			return nil, nil
		}
		jobs := map[uint64]types.Job{}
		var due []types.Batch
		for _, j := range live {
			if !now.Before(j.LabelDeadline) {
				continue
			}
			bs, err := batchesOf(ctx, k, testData, j.Id, types.BATCH_STATUS_CLAIMED)
			if err != nil {
				reporter.Skipf("batches: %s", err)
				return nil, nil
			}
			jobs[j.Id] = j
			due = append(due, bs...)
		}
		if len(due) == 0 {
			reporter.Skip("no claimed batch to seal")
			return nil, nil
		}
		b := due[testData.Rand().Intn(len(due))]
		j := jobs[b.JobId]
		annotator := testData.GetAccount(reporter, b.Annotator)
		if reporter.IsSkipped() {
			return nil, nil
		}
		if AnnotatorOf(j.Seed, annotator.Address).Lazy {
			reporter.Skip("a lazy annotator does not seal")
			return nil, nil
		}
		labels, err := Labels(j, b.Group, annotator.Address)
		if err != nil {
			reporter.Skipf("labels: %s", err)
			return nil, nil
		}
		return []simsx.SimAccount{annotator}, &types.MsgSealLabels{Annotator: b.Annotator, JobId: j.Id, Group: b.Group,
			Seal: types.LabelsSeal(j.Id, b.Group, annotator.Address, LabelsSalt(j.Id, b.Group, annotator.Address), labels)}
	}
}

// MsgOpenLabelsFactory opens a sealed batch between the label and the open
// deadline with the labels and salt it was sealed with; silent annotators
// never open.
func MsgOpenLabelsFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgOpenLabels] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgOpenLabels) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		// A job past its label deadline is still labelling until the end
		// blocker moves it on; its batches open all the same.
		live, err := jobsWithStatus(ctx, k, types.JOB_STATUS_LABELLING, types.JOB_STATUS_OPENING)
		if err != nil {
			reporter.Skipf("jobs: %s", err)
			return nil, nil
		}
		jobs := map[uint64]types.Job{}
		var due []types.Batch
		for _, j := range live {
			if now.Before(j.LabelDeadline) || !now.Before(j.OpenDeadline) {
				continue
			}
			bs, err := batchesOf(ctx, k, testData, j.Id, types.BATCH_STATUS_SEALED)
			if err != nil {
				reporter.Skipf("batches: %s", err)
				return nil, nil
			}
			jobs[j.Id] = j
			due = append(due, bs...)
		}
		if len(due) == 0 {
			reporter.Skip("no sealed batch to open")
			return nil, nil
		}
		b := due[testData.Rand().Intn(len(due))]
		j := jobs[b.JobId]
		annotator := testData.GetAccount(reporter, b.Annotator)
		if reporter.IsSkipped() {
			return nil, nil
		}
		if AnnotatorOf(j.Seed, annotator.Address).Silent {
			reporter.Skip("a silent annotator does not open")
			return nil, nil
		}
		labels, err := Labels(j, b.Group, annotator.Address)
		if err != nil {
			reporter.Skipf("labels: %s", err)
			return nil, nil
		}
		salt := LabelsSalt(j.Id, b.Group, annotator.Address)
		if !bytes.Equal(types.LabelsSeal(j.Id, b.Group, annotator.Address, salt, labels), b.Seal) {
			reporter.Skip("the batch was not sealed by a simulated annotator")
			return nil, nil
		}
		return []simsx.SimAccount{annotator}, &types.MsgOpenLabels{Annotator: b.Annotator, JobId: j.Id, Group: b.Group,
			Labels: labels, Salt: salt}
	}
}

// MsgRevealGoldFactory reveals a job's gold set (GoldSet, GoldSalt) from its
// requester between its label and its gold deadline (a job past its label
// deadline is still labelling until the end blocker moves it on), unless the
// requester withholds it (Withholds).
func MsgRevealGoldFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRevealGold] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRevealGold) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		opening, err := jobsWithStatus(ctx, k, types.JOB_STATUS_LABELLING, types.JOB_STATUS_OPENING)
		if err != nil {
			reporter.Skipf("jobs: %s", err)
			return nil, nil
		}
		var due []types.Job
		for _, j := range opening {
			if !j.GoldRevealed && !now.Before(j.LabelDeadline) && now.Before(j.GoldDeadline) && testData.HasAccount(j.Requester) {
				due = append(due, j)
			}
		}
		if len(due) == 0 {
			reporter.Skip("no gold set due")
			return nil, nil
		}
		j := due[testData.Rand().Intn(len(due))]
		requester := testData.GetAccount(reporter, j.Requester)
		if reporter.IsSkipped() {
			return nil, nil
		}
		if Withholds(requester.Address, j.Id) {
			reporter.Skip("the requester withholds its gold set")
			return nil, nil
		}
		d := DatasetOf(j.Items)
		if d == nil {
			reporter.Skip("the job does not use a simulation dataset")
			return nil, nil
		}
		gold, err := GoldSet(requester.Address, d)
		if err != nil {
			reporter.Skipf("gold set: %s", err)
			return nil, nil
		}
		salt := GoldSalt(requester.Address, d)
		if !bytes.Equal(types.GoldCommitment(salt, gold), j.GoldCommitment) {
			reporter.Skip("the gold commitment is not a simulated requester's")
			return nil, nil
		}
		// Params may have changed by governance since the post.
		if p, err := k.Params.Get(ctx); err != nil || uint32(len(gold)) < p.MinGoldItems {
			reporter.Skip("the gold set is smaller than min_gold_items")
			return nil, nil
		}
		return []simsx.SimAccount{requester}, &types.MsgRevealGold{Requester: j.Requester, JobId: j.Id, Gold: gold, Salt: salt}
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
