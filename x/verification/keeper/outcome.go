package keeper

import (
	"bytes"
	"context"
	"fmt"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// upholdSegment records a segment that recomputed exactly and moves the
// transcript on: a won fraud challenge pays the worker the challenger's bond;
// a won replica dispute fails every replica that shares h_i but not h_(i+1);
// with nothing left pending a challenged transcript passes (the fraud window
// opens), and a passed one whose window is over becomes final.
func (k Keeper) upholdSegment(ctx context.Context, t types.Transcript, worker sdk.AccAddress, c types.Challenge, macs uint64, params types.Params) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	em := sdkCtx.EventManager()
	c.Status = types.CHALLENGE_STATUS_UPHELD
	if err := k.Challenges.Set(ctx, collections.Join3(c.TaskId, worker, c.Segment), c); err != nil {
		return err
	}
	if err := k.releaseRevealGas(ctx, c.Gas); err != nil {
		return err
	}
	t.Verified = append(t.Verified, c.Segment)
	t.MacsVerified += macs
	if err := k.addVerdict(ctx, types.Verdict{TaskId: t.TaskId, Worker: t.Worker, Outcome: types.OUTCOME_SEGMENT_VERIFIED,
		Segment: c.Segment, Reason: c.Kind.String(), Macs: macs}); err != nil {
		return err
	}
	switch c.Kind {
	case types.CHALLENGE_KIND_FRAUD:
		if err := k.rewards.SettleChallenge(ctx, t.TaskId, worker, c.Segment, true); err != nil {
			return err
		}
		if err := em.EmitTypedEvent(&types.EventChallengeResolved{TaskId: t.TaskId, Worker: t.Worker, Segment: c.Segment,
			Challenger: c.Challenger, WorkerRight: true}); err != nil {
			return err
		}
	case types.CHALLENGE_KIND_REPLICA:
		if err := k.failDisagreeingReplicas(ctx, t, c.Segment); err != nil {
			return err
		}
	}
	if err := k.Transcripts.Set(ctx, collections.Join(t.TaskId, worker), t); err != nil {
		return err
	}
	return k.advance(ctx, t, worker, params)
}

// advance passes or finalises a transcript with no pending challenge.
func (k Keeper) advance(ctx context.Context, t types.Transcript, worker sdk.AccAddress, params types.Params) error {
	pending, err := k.pendingChallenges(ctx, t.TaskId, worker)
	if err != nil || len(pending) > 0 {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	now := sdkCtx.BlockTime()
	switch t.Status {
	case types.TRANSCRIPT_STATUS_CHALLENGED:
		t.Status = types.TRANSCRIPT_STATUS_PASSED
		t.FraudWindowEnd = now.Add(params.FraudWindow)
		if err := k.Transcripts.Set(ctx, collections.Join(t.TaskId, worker), t); err != nil {
			return err
		}
		if err := k.FraudQueue.Set(ctx, collections.Join3(t.FraudWindowEnd, t.TaskId, worker)); err != nil {
			return err
		}
		if err := k.addVerdict(ctx, types.Verdict{TaskId: t.TaskId, Worker: t.Worker, Outcome: types.OUTCOME_PASSED,
			Reason: fmt.Sprintf("%d sampled segments recomputed exactly", len(t.Sampled)), Macs: t.MacsVerified}); err != nil {
			return err
		}
		return sdkCtx.EventManager().EmitTypedEvent(&types.EventTranscriptPassed{TaskId: t.TaskId, Worker: t.Worker, FraudWindowEnd: t.FraudWindowEnd})
	case types.TRANSCRIPT_STATUS_PASSED:
		if now.Before(t.FraudWindowEnd) {
			return nil
		}
		return k.finalize(ctx, t, worker)
	}
	return nil
}

// finalize ends a passed transcript: x/tasks pays the worker through x/rewards
// and records the model in the lineage. Reputation and compute emissions are
// credited the MACs the chain actually recomputed (sampled and fraud-window
// segments), never the MACs the worker claims: a transcript whose one
// sampled segment is a single step earns one step's work, whatever it claims.
//
// An engine-failure transcript whose failing segment failed in consensus
// (and whose sampled prefix recomputed exactly) ends the task as untrainable:
// the requester compensates the worker (x/tasks CompleteUntrainable).
func (k Keeper) finalize(ctx context.Context, t types.Transcript, worker sdk.AccAddress) error {
	t.Status = types.TRANSCRIPT_STATUS_FINAL
	if err := k.Transcripts.Set(ctx, collections.Join(t.TaskId, worker), t); err != nil {
		return err
	}
	if err := k.refundSeals(ctx, t.TaskId, worker); err != nil {
		return err
	}
	if t.EngineFailure {
		task, err := k.tasks.GetTask(ctx, t.TaskId)
		if err != nil {
			return err
		}
		s := uint64(len(t.Checkpoints) - 1)
		first, _ := task.Spec.SegmentRange(s)
		reason := fmt.Sprintf("the engine cannot compute segment %d (steps from %d): recomputed in consensus", s, first)
		if err := k.tasks.CompleteUntrainable(ctx, t.TaskId, worker, first, reason); err != nil {
			return err
		}
		if err := k.addVerdict(ctx, types.Verdict{TaskId: t.TaskId, Worker: t.Worker, Outcome: types.OUTCOME_FINAL,
			Segment: uint32(s), Reason: reason, Macs: t.MacsVerified}); err != nil {
			return err
		}
		return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventTranscriptFinal{TaskId: t.TaskId, Worker: t.Worker})
	}
	rec := taskstypes.ModelRecord{ModelHash: t.FinalModelHash, FinalStateHash: t.Checkpoints[len(t.Checkpoints)-1]}
	if err := k.tasks.CompleteAssignment(ctx, t.TaskId, worker, rec, t.MacsVerified); err != nil {
		return err
	}
	if err := k.addVerdict(ctx, types.Verdict{TaskId: t.TaskId, Worker: t.Worker, Outcome: types.OUTCOME_FINAL,
		Reason: "fraud window closed", Macs: t.MacsVerified}); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventTranscriptFinal{
		TaskId: t.TaskId, Worker: t.Worker, FinalModelHash: t.FinalModelHash,
	})
}

// failTranscript fails a worker: its pending challenges close (fraud
// challengers get their bonds back; the one whose segment failed, and only
// it, also gets the challenger share of the slashed bond: a forgery the
// sample caught pays no bystander), unopened challenge seals are refunded,
// and x/tasks slashes the bond and frees the slot.
func (k Keeper) failTranscript(ctx context.Context, t types.Transcript, worker sdk.AccAddress, segment uint32, reason string) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	em := sdkCtx.EventManager()
	pending, err := k.pendingChallenges(ctx, t.TaskId, worker)
	if err != nil {
		return err
	}
	var challenger sdk.AccAddress
	for _, c := range pending {
		c.Status = types.CHALLENGE_STATUS_FAILED
		if err := k.Challenges.Set(ctx, collections.Join3(c.TaskId, worker, c.Segment), c); err != nil {
			return err
		}
		if err := k.releaseRevealGas(ctx, c.Gas); err != nil {
			return err
		}
		if c.Kind != types.CHALLENGE_KIND_FRAUD {
			continue
		}
		addr, err := k.authKeeper.AddressCodec().StringToBytes(c.Challenger)
		if err != nil {
			return err
		}
		if c.Segment == segment {
			challenger = addr
		}
		if err := k.rewards.SettleChallenge(ctx, t.TaskId, worker, c.Segment, false); err != nil {
			return err
		}
		if err := em.EmitTypedEvent(&types.EventChallengeResolved{TaskId: t.TaskId, Worker: t.Worker, Segment: c.Segment,
			Challenger: c.Challenger, WorkerRight: false}); err != nil {
			return err
		}
	}
	if err := k.refundSeals(ctx, t.TaskId, worker); err != nil {
		return err
	}
	t.Status = types.TRANSCRIPT_STATUS_FAILED
	t.Failure = reason
	if err := k.Transcripts.Set(ctx, collections.Join(t.TaskId, worker), t); err != nil {
		return err
	}
	if err := k.addVerdict(ctx, types.Verdict{TaskId: t.TaskId, Worker: t.Worker, Outcome: types.OUTCOME_FAILED,
		Segment: segment, Reason: reason, Macs: t.MacsVerified}); err != nil {
		return err
	}
	if err := k.tasks.FailAssignment(ctx, t.TaskId, worker, challenger, reason); err != nil {
		return err
	}
	return em.EmitTypedEvent(&types.EventTranscriptFailed{TaskId: t.TaskId, Worker: t.Worker, Segment: segment, Reason: reason})
}

// failDisagreeingReplicas fails every other unfinished transcript of the task
// that agrees with t at h_segment but not at h_(segment+1): t's segment
// recomputed exactly, so theirs cannot have.
func (k Keeper) failDisagreeingReplicas(ctx context.Context, t types.Transcript, segment uint32) error {
	var losers []types.Transcript
	err := k.Transcripts.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](t.TaskId),
		func(_ TranscriptKey, o types.Transcript) (bool, error) {
			if o.Worker == t.Worker || o.Status == types.TRANSCRIPT_STATUS_FAILED || o.Status == types.TRANSCRIPT_STATUS_FINAL {
				return false, nil
			}
			i := int(segment)
			if o.Status == types.TRANSCRIPT_STATUS_SEALED || i >= len(o.Checkpoints) || i >= len(t.Checkpoints) {
				return false, nil
			}
			if bytes.Equal(o.Checkpoints[i], t.Checkpoints[i]) && !bytes.Equal(segmentOutcome(o, i), segmentOutcome(t, i)) {
				losers = append(losers, o)
			}
			return false, nil
		})
	if err != nil {
		return err
	}
	for _, o := range losers {
		addr, err := k.authKeeper.AddressCodec().StringToBytes(o.Worker)
		if err != nil {
			return err
		}
		reason := fmt.Sprintf("replica dispute: segment %d of %s recomputed exactly and this transcript's h_%d differs", segment, t.Worker, segment+1)
		if err := k.failTranscript(ctx, o, addr, segment, reason); err != nil {
			return err
		}
	}
	return nil
}

// segmentOutcome is what a transcript says segment i ends in: h_(i+1), or
// nil for the failing segment of an engine-failure transcript (the engine
// cannot compute it).
func segmentOutcome(t types.Transcript, i int) []byte {
	if i+1 < len(t.Checkpoints) {
		return t.Checkpoints[i+1]
	}
	return nil
}
