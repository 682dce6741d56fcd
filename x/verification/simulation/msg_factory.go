package simulation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// MsgSealTranscriptFactory trains an active claim's job (honestly or
// forging, see Forged) and seals the transcript before the deadline.
func MsgSealTranscriptFactory(tk taskskeeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgSealTranscript] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSealTranscript) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		var due []taskstypes.Assignment
		err := tk.Assignments.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], a taskstypes.Assignment) (bool, error) {
			if a.Status == taskstypes.ASSIGNMENT_STATUS_ACTIVE && now.Before(a.CommitDeadline) && testData.HasAccount(a.Worker) {
				due = append(due, a)
			}
			return false, nil
		})
		if err != nil || len(due) == 0 {
			reporter.Skip("no active claim to seal")
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
		// A worker whose checkpoint URI the chain would refuse at the open
		// does not seal (it would fail at the open deadline).
		if p, err := tk.GetParams(ctx); err != nil || uint64(len(run.Open(worker.Address).Uri)) > uint64(p.MaxUriLength) {
			reporter.Skip("checkpoint uri longer than max_uri_length")
			return nil, nil
		}
		return []simsx.SimAccount{worker}, run.Seal(worker.Address)
	}
}

// MsgOpenTranscriptFactory opens a sealed transcript once its task's claims
// are closed and before its open deadline, with the checkpoints it sealed.
func MsgOpenTranscriptFactory(k keeper.Keeper, tk taskskeeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgOpenTranscript] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgOpenTranscript) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		var sealed []types.Transcript
		err := k.Transcripts.Walk(ctx, nil, func(_ keeper.TranscriptKey, t types.Transcript) (bool, error) {
			if t.Status == types.TRANSCRIPT_STATUS_SEALED && !t.OpenDeadline.IsZero() && now.Before(t.OpenDeadline) && testData.HasAccount(t.Worker) {
				sealed = append(sealed, t)
			}
			return false, nil
		})
		if err != nil || len(sealed) == 0 {
			reporter.Skip("no sealed transcript to open")
			return nil, nil
		}
		t := sealed[testData.Rand().Intn(len(sealed))]
		task, err := tk.GetTask(ctx, t.TaskId)
		if err != nil {
			reporter.Skipf("task: %s", err)
			return nil, nil
		}
		if !task.ClaimsClosed {
			reporter.Skip("claims of the task are not closed")
			return nil, nil
		}
		run, err := Train(task, t.Worker)
		if err != nil {
			reporter.Skipf("training: %s", err)
			return nil, nil
		}
		worker := testData.GetAccount(reporter, t.Worker)
		if reporter.IsSkipped() {
			return nil, nil
		}
		msg := run.Open(worker.Address)
		if !bytes.Equal(fixtures.SealOf(worker.Address, msg), t.Seal) {
			reporter.Skip("transcript was not sealed by a simulated worker")
			return nil, nil
		}
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

// challengeSalt is the salt a simulated watcher seals its challenges of a
// transcript with: a function of (challenger, task, worker) only, so the
// opener finds the segment by trying each one against the commitment.
func challengeSalt(challenger, worker []byte, taskID uint64) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/sim/challenge-salt/v1"))
	h.Write(challenger)
	h.Write(binary.BigEndian.AppendUint64(nil, taskID))
	h.Write(worker)
	return h.Sum(nil)
}

// MsgSealChallengeFactory is a watcher: it seals a challenge of a segment
// that the sample did not cover in a passed transcript's fraud window. Half
// the time it picks a segment it knows is forged (when there is one),
// otherwise any unverified segment, so both a slashed worker and a lost
// challenge bond occur. MsgChallengeSegmentFactory opens it in a later block.
func MsgSealChallengeFactory(k keeper.Keeper, tk taskskeeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgSealChallenge] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSealChallenge) {
		now := sdk.UnwrapSDKContext(ctx).BlockTime()
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skipf("params: %s", err)
			return nil, nil
		}
		var passed []types.Transcript
		err = k.Transcripts.Walk(ctx, nil, func(_ keeper.TranscriptKey, t types.Transcript) (bool, error) {
			if t.Status == types.TRANSCRIPT_STATUS_PASSED && now.Before(t.FraudWindowEnd) && !t.EngineFailure {
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
		tp, err := tk.GetParams(ctx)
		if err != nil {
			reporter.Skipf("tasks params: %s", err)
			return nil, nil
		}
		bond := recompute.ChallengeBondFor(task, params, tp).AddAmount(sdkmath.NewInt(r.Int63n(10_000)))
		challenger := testData.AnyAccountN(20, reporter, simsx.ExcludeAddresses(t.Worker),
			simsx.WithLiquidBalanceGTE(bond.AddAmount(sdkmath.NewInt(1))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		commitment := recompute.ChallengeCommitment(t.TaskId, workerAddr, challenger.Address, segment,
			challengeSalt(challenger.Address, workerAddr, t.TaskId))
		if has, err := k.ChallengeSeals.Has(ctx, collections.Join3(t.TaskId, sdk.AccAddress(workerAddr), commitment)); err != nil || has {
			reporter.Skip("this challenger already sealed this challenge")
			return nil, nil
		}
		challenger.LiquidBalance().BlockAmount(bond)
		return []simsx.SimAccount{challenger}, &types.MsgSealChallenge{
			Challenger: challenger.AddressBech32, TaskId: t.TaskId, Worker: t.Worker, Commitment: commitment, Bond: bond,
		}
	}
}

// MsgChallengeSegmentFactory opens a challenge a simulated watcher sealed in
// an earlier block, while the transcript's fraud window is open and the
// segment can still be challenged by it.
func MsgChallengeSegmentFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgChallengeSegment] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgChallengeSegment) {
		sdkCtx := sdk.UnwrapSDKContext(ctx)
		now, height := sdkCtx.BlockTime(), sdkCtx.BlockHeight()
		var seals []types.ChallengeSeal
		err := k.ChallengeSeals.Walk(ctx, nil, func(_ keeper.SealKey, s types.ChallengeSeal) (bool, error) {
			if s.Height < height && testData.HasAccount(s.Challenger) {
				seals = append(seals, s)
			}
			return false, nil
		})
		if err != nil || len(seals) == 0 {
			reporter.Skip("no challenge seal to open")
			return nil, nil
		}
		s := seals[testData.Rand().Intn(len(seals))]
		workerAddr, err := testData.AddressCodec().StringToBytes(s.Worker)
		if err != nil {
			reporter.Skipf("worker address: %s", err)
			return nil, nil
		}
		t, err := k.GetTranscript(ctx, s.TaskId, workerAddr)
		if err != nil || t.Status != types.TRANSCRIPT_STATUS_PASSED || !now.Before(t.FraudWindowEnd) {
			reporter.Skip("the transcript is no longer in its fraud window")
			return nil, nil
		}
		challenger := testData.GetAccount(reporter, s.Challenger)
		if reporter.IsSkipped() {
			return nil, nil
		}
		salt := challengeSalt(challenger.Address, workerAddr, s.TaskId)
		for seg := uint32(0); uint64(seg)+1 < uint64(len(t.Checkpoints)); seg++ {
			if !bytes.Equal(recompute.ChallengeCommitment(s.TaskId, workerAddr, challenger.Address, seg, salt), s.Commitment) {
				continue
			}
			if slices.Contains(t.Verified, seg) {
				reporter.Skip("the sealed segment was verified since")
				return nil, nil
			}
			// A segment challenged since keeps its challenge unless this
			// seal is older than that of a pending fraud challenge.
			if prev, err := k.Challenges.Get(ctx, collections.Join3(s.TaskId, sdk.AccAddress(workerAddr), seg)); err == nil &&
				(prev.Status != types.CHALLENGE_STATUS_PENDING || prev.Kind != types.CHALLENGE_KIND_FRAUD || prev.SealedHeight <= s.Height) {
				reporter.Skip("the sealed segment is challenged already")
				return nil, nil
			}
			return []simsx.SimAccount{challenger}, &types.MsgChallengeSegment{
				Challenger: s.Challenger, TaskId: s.TaskId, Worker: s.Worker, Segment: seg, Salt: salt,
			}
		}
		reporter.Skip("the seal was not made by a simulated watcher")
		return nil, nil
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
