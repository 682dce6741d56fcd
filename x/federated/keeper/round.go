package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/x/federated/types"
)

// A round's phases (types.RoundPhase) and what moves it on; advance runs
// after every message that can complete a phase and at the phase's
// deadline, and moves the round as far as it can:
//
//	TRAINING     -> OPENING      max participants joined and all sealed, or the train deadline
//	                              (joined, never sealed: stragglers, slashed; fewer than
//	                              min_participants sealed: the round fails)
//	OPENING      -> REVEALING    every seal opened, or the open deadline (unopened: stragglers)
//	REVEALING    -> AGGREGATING  every opened update accepted or rejected, or the reveal
//	                              deadline (sampled segments not revealed: rejected, slashed);
//	                              no accepted update: the round fails
//	AGGREGATING  -> CHUNKS       the aggregator commits (the designated one until the deadline,
//	                              then any accepted participant; nobody: the round fails)
//	CHUNKS       -> FRAUD_WINDOW every drawn chunk verified (a wrong chunk, or drawn chunks
//	                              unrevealed at the deadline: the aggregator is slashed and
//	                              aggregation reopens without it)
//	FRAUD_WINDOW -> FINAL        the window ends with no challenge unanswered (one unanswered:
//	                              the aggregator is slashed, aggregation reopens)
//	FINAL: updates and aggregator paid, bonds returned, the aggregate is the next round's model.

// mustAddr decodes an address the keeper stored itself.
func (k Keeper) mustAddr(s string) sdk.AccAddress {
	b, err := k.authKeeper.AddressCodec().StringToBytes(s)
	if err != nil {
		panic(fmt.Errorf("federated: stored address %q: %w", s, err))
	}
	return b
}

func (k Keeper) phaseEvent(ctx context.Context, r types.Round, reason string) error {
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventRoundPhase{JobId: r.JobId, Round: r.Round, Phase: r.Phase, Reason: reason})
}

// openRound starts round idx from the job's global model.
func (k Keeper) openRound(ctx context.Context, job *types.FederatedJob, idx uint32) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return err
	}
	var global [32]byte
	copy(global[:], job.GlobalModelHash)
	start, err := federated.StartStateHash(es, global)
	if err != nil {
		return err
	}
	r := types.Round{
		JobId: job.Id, Round: idx, Phase: types.ROUND_PHASE_TRAINING,
		StartModelHash: job.GlobalModelHash, StartStateHash: start[:], OpenedAt: sdkCtx.BlockTime(),
	}
	if err := k.setDeadline(ctx, &r, sdkCtx.BlockTime().Add(job.TrainWindow)); err != nil {
		return err
	}
	if err := k.setRound(ctx, r); err != nil {
		return err
	}
	job.CurrentRound = idx
	if err := k.Jobs.Set(ctx, job.Id, *job); err != nil {
		return err
	}
	if has, err := k.Models.Has(ctx, job.GlobalModelHash); err != nil {
		return err
	} else if !has {
		if err := k.Models.Set(ctx, job.GlobalModelHash, collections.Join(job.Id, idx)); err != nil {
			return err
		}
	}
	return k.phaseEvent(ctx, r, "round opened")
}

// advance moves a job's current round through every phase whose condition
// holds (its deadline passed, or the messages it waits for are in).
func (k Keeper) advance(ctx context.Context, jobID uint64) error {
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	for range 8 { // at most one pass per phase
		job, err := k.GetJob(ctx, jobID)
		if err != nil || job.Status != types.JOB_STATUS_RUNNING {
			return err
		}
		r, err := k.GetRound(ctx, jobID, job.CurrentRound)
		if err != nil {
			return err
		}
		moved, err := k.step(ctx, &job, &r, !now.Before(r.Deadline))
		if err != nil || !moved {
			return err
		}
	}
	return nil
}

// step makes at most one phase change; moved reports whether it did.
func (k Keeper) step(ctx context.Context, job *types.FederatedJob, r *types.Round, expired bool) (moved bool, err error) {
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	us, err := k.roundUpdates(ctx, job.Id, r.Round)
	if err != nil {
		return false, err
	}
	next := func(p types.RoundPhase, window time.Duration, reason string) (bool, error) {
		r.Phase = p
		if err := k.setDeadline(ctx, r, now.Add(window)); err != nil {
			return false, err
		}
		if err := k.setRound(ctx, *r); err != nil {
			return false, err
		}
		return true, k.phaseEvent(ctx, *r, reason)
	}
	switch r.Phase {
	case types.ROUND_PHASE_TRAINING:
		if !expired && !(r.Joined == job.MaxParticipants && r.Sealed == r.Joined) {
			return false, nil
		}
		for i := range us {
			if us[i].Status == types.UPDATE_STATUS_JOINED {
				if err := k.rejectUpdate(ctx, *job, &us[i], types.UPDATE_STATUS_STRAGGLER, "joined but did not seal before the train deadline"); err != nil {
					return false, err
				}
			}
		}
		if r, err = k.reload(ctx, r); err != nil {
			return false, err
		}
		if r.Sealed < job.MinParticipants {
			return true, k.failRound(ctx, job, r, fmt.Sprintf("%d sealed updates, the job needs %d", r.Sealed, job.MinParticipants))
		}
		return next(types.ROUND_PHASE_OPENING, job.RevealWindow, "training closed")
	case types.ROUND_PHASE_OPENING:
		if !expired && r.Opened < r.Sealed {
			return false, nil
		}
		for i := range us {
			if us[i].Status == types.UPDATE_STATUS_SEALED {
				if err := k.rejectUpdate(ctx, *job, &us[i], types.UPDATE_STATUS_STRAGGLER, "sealed but did not open before the open deadline"); err != nil {
					return false, err
				}
			}
		}
		if r, err = k.reload(ctx, r); err != nil {
			return false, err
		}
		return next(types.ROUND_PHASE_REVEALING, job.RevealWindow, "transcripts opened")
	case types.ROUND_PHASE_REVEALING:
		pending := 0
		for i := range us {
			if us[i].Status != types.UPDATE_STATUS_OPENED {
				continue
			}
			if !expired {
				pending++
				continue
			}
			if err := k.rejectUpdate(ctx, *job, &us[i], types.UPDATE_STATUS_REJECTED, fmt.Sprintf("sampled segments %v not all revealed (revealed %v) before the deadline", us[i].Sampled, us[i].Revealed)); err != nil {
				return false, err
			}
		}
		if pending > 0 {
			return false, nil
		}
		if r, err = k.reload(ctx, r); err != nil {
			return false, err
		}
		acc := accepted(us)
		if expired {
			us, err = k.roundUpdates(ctx, job.Id, r.Round)
			if err != nil {
				return false, err
			}
			acc = accepted(us)
		}
		if len(acc) == 0 {
			return true, k.failRound(ctx, job, r, "no update was accepted")
		}
		// The designated aggregator, drawn among the accepted participants.
		seed := types.DrawSeed("aggregator", sdk.UnwrapSDKContext(ctx).HeaderHash(), job.Id, r.Round)
		r.Aggregator = acc[recompute.DrawSegments(seed, uint64(len(acc)), 1)[0]].Participant
		return next(types.ROUND_PHASE_AGGREGATING, job.RevealWindow, "updates verified")
	case types.ROUND_PHASE_AGGREGATING:
		if !expired {
			return false, nil
		}
		if r.Aggregator != "" && k.anyAggregatorLeft(us, r) {
			r.Aggregator = ""
			return next(types.ROUND_PHASE_AGGREGATING, job.RevealWindow, "the designated aggregator did not commit; any accepted participant may")
		}
		return true, k.failRound(ctx, job, r, "no aggregate was committed")
	case types.ROUND_PHASE_CHUNKS:
		if len(r.Aggregate.Verified) >= len(r.Aggregate.Drawn) {
			r.Aggregate.VerifiedAllDrawn = true
			return next(types.ROUND_PHASE_FRAUD_WINDOW, job.FraudWindow, "drawn chunks verified")
		}
		if !expired {
			return false, nil
		}
		return true, k.failAggregate(ctx, *job, nil, "drawn chunks not revealed before the deadline")
	case types.ROUND_PHASE_FRAUD_WINDOW:
		if !expired {
			return false, nil
		}
		open, err := k.roundChallenges(ctx, job.Id, r.Round)
		if err != nil {
			return false, err
		}
		if len(open) > 0 {
			return true, k.failAggregate(ctx, *job, k.mustAddr(open[0].Challenger), fmt.Sprintf("challenged chunk %d not revealed", open[0].Chunk))
		}
		return true, k.finalize(ctx, job, r, us)
	}
	return false, nil
}

func (k Keeper) reload(ctx context.Context, r *types.Round) (*types.Round, error) {
	nr, err := k.GetRound(ctx, r.JobId, r.Round)
	if err != nil {
		return nil, err
	}
	return &nr, nil
}

func (k Keeper) anyAggregatorLeft(us []types.Update, r *types.Round) bool {
	for _, u := range accepted(us) {
		if u.Participant != r.Aggregator && !contains(r.FailedAggregators, u.Participant) {
			return true
		}
	}
	return false
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// rejectUpdate slashes an update's bond to the requester and excludes it.
func (k Keeper) rejectUpdate(ctx context.Context, job types.FederatedJob, u *types.Update, status types.UpdateStatus, reason string) error {
	u.Status, u.Reason = status, reason
	if err := k.rewards.SettleStakeSplit(ctx, types.CustodyID(job.Id), k.mustAddr(u.Participant),
		[]sdk.AccAddress{k.mustAddr(job.Requester)}, []sdkmath.Int{u.Bond.Amount}); err != nil {
		return err
	}
	if err := k.setUpdate(ctx, *u); err != nil {
		return err
	}
	r, err := k.GetRound(ctx, job.Id, u.Round)
	if err != nil {
		return err
	}
	if status == types.UPDATE_STATUS_STRAGGLER {
		r.Stragglers++
	} else {
		r.Rejected++
	}
	if err := k.setRound(ctx, r); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventUpdateVerdict{
		JobId: job.Id, Round: u.Round, Participant: u.Participant, Status: status, Reason: reason, Slashed: u.Bond.String(),
	})
}

// failAggregate slashes the committer of a wrong (or unanswered) aggregate:
// challenger_share_bps of its bond to the challenger who caught it (if
// any), the rest to the requester; pending challenges are refunded and
// aggregation reopens to the accepted participants who have not failed.
func (k Keeper) failAggregate(ctx context.Context, job types.FederatedJob, catcher sdk.AccAddress, reason string) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	r, err := k.GetRound(ctx, job.Id, job.CurrentRound)
	if err != nil {
		return err
	}
	committer := r.Aggregate.Committer
	u, err := k.Updates.Get(ctx, collections.Join3(job.Id, r.Round, k.mustAddr(committer)))
	if err != nil {
		return errorsmod.Wrapf(types.ErrNotParticipant, "aggregator %s", committer)
	}
	payees := []sdk.AccAddress{k.mustAddr(job.Requester)}
	amounts := []sdkmath.Int{u.Bond.Amount}
	if catcher != nil {
		share := u.Bond.Amount.MulRaw(int64(params.ChallengerShareBps)).QuoRaw(10_000)
		payees = []sdk.AccAddress{catcher, k.mustAddr(job.Requester)}
		amounts = []sdkmath.Int{share, u.Bond.Amount.Sub(share)}
	}
	if err := k.rewards.SettleStakeSplit(ctx, types.CustodyID(job.Id), k.mustAddr(committer), payees, amounts); err != nil {
		return err
	}
	if err := k.refundChallenges(ctx, job, r); err != nil {
		return err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAggregateRejected{
		JobId: job.Id, Round: r.Round, Aggregator: committer, Reason: reason, Slashed: u.Bond.String(),
	}); err != nil {
		return err
	}
	r.FailedAggregators = append(r.FailedAggregators, committer)
	r.Aggregate = types.Aggregate{}
	r.Aggregator = ""
	r.Reason = reason
	us, err := k.roundUpdates(ctx, job.Id, r.Round)
	if err != nil {
		return err
	}
	if !k.anyAggregatorLeft(us, &r) {
		return k.failRound(ctx, &job, &r, "every accepted participant's aggregate failed: "+reason)
	}
	r.Phase = types.ROUND_PHASE_AGGREGATING
	if err := k.setDeadline(ctx, &r, sdk.UnwrapSDKContext(ctx).BlockTime().Add(job.RevealWindow)); err != nil {
		return err
	}
	if err := k.setRound(ctx, r); err != nil {
		return err
	}
	return k.phaseEvent(ctx, r, "aggregate rejected: "+reason)
}

// refundChallenges drops a round's pending challenges; a challenger who is
// not a participant of the round gets its bond back now (a participant's
// stake settles with its update).
func (k Keeper) refundChallenges(ctx context.Context, job types.FederatedJob, r types.Round) error {
	chs, err := k.roundChallenges(ctx, job.Id, r.Round)
	if err != nil {
		return err
	}
	for i := range chs {
		if err := k.Challenges.Remove(ctx, collections.Join3(job.Id, r.Round, chs[i].Chunk)); err != nil {
			return err
		}
		c := k.mustAddr(chs[i].Challenger)
		if has, err := k.Updates.Has(ctx, collections.Join3(job.Id, r.Round, c)); err != nil {
			return err
		} else if !has {
			if err := k.rewards.SettleStakeSplit(ctx, types.CustodyID(job.Id), c, nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// payAndRelease pays every accepted update (and, with agg set, the
// aggregator) out of the escrow, and returns every stake of the round.
func (k Keeper) payAndRelease(ctx context.Context, job *types.FederatedJob, r *types.Round, us []types.Update, agg string) error {
	custody := types.CustodyID(job.Id)
	var lossSum, weight int64
	for _, u := range us {
		p := k.mustAddr(u.Participant)
		if u.Status == types.UPDATE_STATUS_ACCEPTED {
			if err := k.rewards.PayFromJob(ctx, custody, p, job.PayPerUpdate); err != nil {
				return err
			}
			lossSum += u.ReportedLoss * int64(u.Examples)
			weight += int64(u.Examples)
		}
		if err := k.rewards.SettleStakeSplit(ctx, custody, p, nil, nil); err != nil {
			return err
		}
	}
	if weight > 0 {
		r.MeanLoss = lossSum / weight
	}
	if agg != "" {
		return k.rewards.PayFromJob(ctx, custody, k.mustAddr(agg), job.PayPerAggregation)
	}
	return nil
}

// finalize makes the verified aggregate the job's global model, pays and
// opens the next round (or completes the job).
func (k Keeper) finalize(ctx context.Context, job *types.FederatedJob, r *types.Round, us []types.Update) error {
	if err := k.payAndRelease(ctx, job, r, us, r.Aggregate.Committer); err != nil {
		return err
	}
	r.Phase = types.ROUND_PHASE_FINAL
	if err := k.clearDeadline(ctx, r); err != nil {
		return err
	}
	if err := k.setRound(ctx, *r); err != nil {
		return err
	}
	job.GlobalModelHash = r.Aggregate.ModelHash
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventRoundFinal{
		JobId: job.Id, Round: r.Round, GlobalModelHash: job.GlobalModelHash, Accepted: r.Accepted,
		RecomputedMacs: r.RecomputedMacs, TrainingMacs: r.TrainingMacs,
	}); err != nil {
		return err
	}
	if err := k.phaseEvent(ctx, *r, "aggregate final"); err != nil {
		return err
	}
	if r.Round+1 < job.Rounds {
		return k.openRound(ctx, job, r.Round+1)
	}
	if has, err := k.Models.Has(ctx, job.GlobalModelHash); err != nil {
		return err
	} else if !has {
		if err := k.Models.Set(ctx, job.GlobalModelHash, collections.Join(job.Id, job.Rounds)); err != nil {
			return err
		}
	}
	return k.endJob(ctx, job, types.JOB_STATUS_COMPLETED)
}

// failRound ends a round without a new global model: accepted updates are
// still paid (their work was verified), every stake returns, the job stops.
func (k Keeper) failRound(ctx context.Context, job *types.FederatedJob, r *types.Round, reason string) error {
	us, err := k.roundUpdates(ctx, job.Id, r.Round)
	if err != nil {
		return err
	}
	if err := k.refundChallenges(ctx, *job, *r); err != nil {
		return err
	}
	for i := range us {
		if s := us[i].Status; s == types.UPDATE_STATUS_SEALED || s == types.UPDATE_STATUS_OPENED {
			us[i].Status, us[i].Reason = types.UPDATE_STATUS_EXCLUDED, "the round failed: "+reason
			if err := k.setUpdate(ctx, us[i]); err != nil {
				return err
			}
			if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventUpdateVerdict{
				JobId: job.Id, Round: r.Round, Participant: us[i].Participant, Status: us[i].Status, Reason: us[i].Reason,
			}); err != nil {
				return err
			}
		}
	}
	if err := k.payAndRelease(ctx, job, r, us, ""); err != nil {
		return err
	}
	r.Phase, r.Reason = types.ROUND_PHASE_FAILED, reason
	if err := k.clearDeadline(ctx, r); err != nil {
		return err
	}
	if err := k.setRound(ctx, *r); err != nil {
		return err
	}
	if err := k.phaseEvent(ctx, *r, reason); err != nil {
		return err
	}
	return k.endJob(ctx, job, types.JOB_STATUS_STOPPED)
}

// endJob refunds what is left of the budget and records the job's end.
func (k Keeper) endJob(ctx context.Context, job *types.FederatedJob, status types.JobStatus) error {
	refund, err := k.rewards.CloseJobEscrow(ctx, types.CustodyID(job.Id))
	if err != nil {
		return err
	}
	job.Status = status
	if err := k.Jobs.Set(ctx, job.Id, *job); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventJobEnded{
		JobId: job.Id, Status: status, GlobalModelHash: job.GlobalModelHash, Refunded: refund.String(),
	})
}
