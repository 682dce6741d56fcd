package simulation

import (
	"context"
	"errors"
	"slices"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// MsgCommitTranscriptFactory trains an active claim's job (honestly or
// forging, see Forged) and commits the transcript before the deadline.
func MsgCommitTranscriptFactory(tk taskskeeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgCommitTranscript] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCommitTranscript) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		var due []taskstypes.Assignment
		err := tk.Assignments.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], a taskstypes.Assignment) (bool, error) {
			if a.Status == taskstypes.ASSIGNMENT_STATUS_ACTIVE && now.Before(a.CommitDeadline) && testData.HasAccount(a.Worker) {
				due = append(due, a)
			}
			return false, nil
		})
		if err != nil || len(due) == 0 {
			reporter.Skip("no active claim to commit")
			return nil, nil
		}
		a := due[testData.Rand().Intn(len(due))]
		task, err := tk.GetTask(ctx, a.TaskId)
		if err != nil {
			reporter.Skipf("task: %s", err)
			return nil, nil
		}
		run, err := Train(task, a.Worker)
		if err != nil {
			reporter.Skipf("training: %s", err)
			return nil, nil
		}
		worker := testData.GetAccount(reporter, a.Worker)
		if reporter.IsSkipped() {
			return nil, nil
		}
		msg := run.Commit(worker.Address)
		if p, err := tk.GetParams(ctx); err != nil || uint64(len(msg.Uri)) > uint64(p.MaxUriLength) {
			reporter.Skip("checkpoint uri longer than max_uri_length")
			return nil, nil
		}
		return []simsx.SimAccount{worker}, msg
	}
}

// MsgRevealSegmentFactory answers a pending challenge (sampled, replica
// dispute or fraud) with the worker's real reveal: an honest segment
// recomputes to the committed hash, a forged one does not and the worker is
// slashed in the same transaction.
func MsgRevealSegmentFactory(k keeper.Keeper, tk taskskeeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRevealSegment] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRevealSegment) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		var pending []types.Challenge
		err := k.Challenges.Walk(ctx, nil, func(_ keeper.ChallengeKey, c types.Challenge) (bool, error) {
			if c.Status == types.CHALLENGE_STATUS_PENDING && now.Before(c.Deadline) && testData.HasAccount(c.Worker) {
				pending = append(pending, c)
			}
			return false, nil
		})
		if err != nil || len(pending) == 0 {
			reporter.Skip("no pending challenge")
			return nil, nil
		}
		c := pending[testData.Rand().Intn(len(pending))]
		worker := testData.GetAccount(reporter, c.Worker)
		if reporter.IsSkipped() {
			return nil, nil
		}
		tr, err := k.GetTranscript(ctx, c.TaskId, worker.Address)
		if err != nil {
			reporter.Skipf("transcript: %s", err)
			return nil, nil
		}
		task, err := tk.GetTask(ctx, c.TaskId)
		if err != nil {
			reporter.Skipf("task: %s", err)
			return nil, nil
		}
		run, err := Train(task, c.Worker)
		if err != nil || !sameCheckpoints(run, tr.Checkpoints) {
			reporter.Skip("transcript was not produced by a simulated worker")
			return nil, nil
		}
		msg, err := run.Reveal(worker.Address, c.Segment)
		if err != nil {
			reporter.Skipf("reveal: %s", err)
			return nil, nil
		}
		// Params may have changed by governance since the commit: a reveal
		// over the caps would be rejected, so the worker lets the deadline pass.
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skipf("params: %s", err)
			return nil, nil
		}
		if _, err := recompute.SegmentCost(task.Spec, task.Dataset, uint64(c.Segment)); err == nil && uint64(msg.Size()) > params.MaxRevealBytes {
			reporter.Skip("reveal exceeds the current caps")
			return nil, nil
		}
		if _, err := recompute.PrepareReveal(task, tr.Checkpoints, c.Segment, msg.StartState, msg.Rows, msg.BaseModel, params); errors.Is(err, types.ErrTooMuchWork) {
			reporter.Skip("reveal exceeds the current caps")
			return nil, nil
		}
		return []simsx.SimAccount{worker}, msg
	}
}

// MsgChallengeSegmentFactory is a watcher: it challenges a segment that the
// sample did not cover in a passed transcript's fraud window. Half the time
// it picks a segment it knows is forged (when there is one), otherwise any
// unverified segment, so both a slashed worker and a lost challenge bond occur.
func MsgChallengeSegmentFactory(k keeper.Keeper, tk taskskeeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgChallengeSegment] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgChallengeSegment) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skipf("params: %s", err)
			return nil, nil
		}
		var passed []types.Transcript
		err = k.Transcripts.Walk(ctx, nil, func(_ keeper.TranscriptKey, t types.Transcript) (bool, error) {
			if t.Status == types.TRANSCRIPT_STATUS_PASSED && now.Before(t.FraudWindowEnd) {
				passed = append(passed, t)
			}
			return false, nil
		})
		if err != nil || len(passed) == 0 {
			reporter.Skip("no transcript in its fraud window")
			return nil, nil
		}
		r := testData.Rand()
		t := passed[r.Intn(len(passed))]
		workerAddr, err := testData.AddressCodec().StringToBytes(t.Worker)
		if err != nil {
			reporter.Skipf("worker address: %s", err)
			return nil, nil
		}
		var open []uint32
		for s := uint32(0); uint64(s)+1 < uint64(len(t.Checkpoints)); s++ {
			if slices.Contains(t.Verified, s) {
				continue
			}
			if has, err := k.Challenges.Has(ctx, collections.Join3(t.TaskId, sdk.AccAddress(workerAddr), s)); err != nil || has {
				continue
			}
			open = append(open, s)
		}
		if len(open) == 0 {
			reporter.Skip("every segment is verified or challenged")
			return nil, nil
		}
		task, err := tk.GetTask(ctx, t.TaskId)
		if err != nil {
			reporter.Skipf("task: %s", err)
			return nil, nil
		}
		segment := open[r.Intn(len(open))]
		var forged []uint32
		for _, s := range Forged(task, t.Worker) {
			if slices.Contains(open, s) {
				forged = append(forged, s)
			}
		}
		if len(forged) > 0 && r.Intn(2) == 0 {
			segment = forged[r.Intn(len(forged))]
		}
		bond := sdk.NewCoin(task.Bond.Denom, params.MinChallengeBond.Add(sdkmath.NewInt(r.Int63n(10_000))))
		challenger := testData.AnyAccountN(20, reporter, simsx.ExcludeAddresses(t.Worker),
			simsx.WithLiquidBalanceGTE(bond.AddAmount(sdkmath.NewInt(1))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		challenger.LiquidBalance().BlockAmount(bond)
		return []simsx.SimAccount{challenger}, &types.MsgChallengeSegment{
			Challenger: challenger.AddressBech32, TaskId: t.TaskId, Worker: t.Worker, Segment: segment, Bond: bond,
		}
	}
}

// MsgUpdateParamsFactory is a governance proposal that sets random valid params.
func MsgUpdateParamsFactory() simsx.SimMsgFactoryFn[*types.MsgUpdateParams] {
	return func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams) {
		return nil, &types.MsgUpdateParams{
			Authority: testData.ModuleAccountAddress(reporter, "gov"),
			Params:    GenParams(testData.Rand().Rand),
		}
	}
}
