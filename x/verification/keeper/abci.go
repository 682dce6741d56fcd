package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/x/internal/queue"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// BeginBlocker draws the sample of every transcript committed in an earlier
// block, from this block's hash (which did not exist when the worker
// committed). Drawing is cheap; recomputation only ever happens in the metered
// RevealSegment handler.
func (k Keeper) BeginBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	height := sdkCtx.BlockHeight()
	var due []collections.Triple[int64, uint64, sdk.AccAddress]
	err = k.DrawQueue.Walk(ctx, nil, func(key collections.Triple[int64, uint64, sdk.AccAddress]) (bool, error) {
		if key.K1() >= height || uint32(len(due)) >= params.MaxItemsPerBlock {
			return true, nil
		}
		due = append(due, key)
		return false, nil
	})
	if err != nil {
		return err
	}
	for _, key := range due {
		queue.RunIsolated(sdkCtx, types.ModuleName, "challenge draw", key.K2(), func(c sdk.Context) error {
			return k.draw(c, key.K2(), key.K3(), params)
		})
		if err := k.DrawQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// draw picks the task's k segments and demands their reveal.
func (k Keeper) draw(ctx sdk.Context, taskID uint64, worker sdk.AccAddress, params types.Params) error {
	t, err := k.GetTranscript(ctx, taskID, worker)
	if err != nil || t.Status != types.TRANSCRIPT_STATUS_COMMITTED {
		return err
	}
	task, err := k.tasks.GetTask(ctx, taskID)
	if err != nil {
		return err
	}
	// The requester's secret when it was revealed (nobody who profits from
	// a forgery could choose it); otherwise this block's hash, which did
	// not exist when the transcript was sealed but which its proposer
	// could influence (recorded as the draw's source).
	var seed []byte
	if len(task.Secret) != 0 {
		seed = recompute.SecretSeed(task.Secret, taskID, worker, t.TranscriptHash)
		t.DrawSource = types.DRAW_SOURCE_REQUESTER_SECRET
	} else {
		seed = recompute.ChallengeSeed(ctx.HeaderHash(), taskID, worker, t.TranscriptHash)
		t.DrawSource = types.DRAW_SOURCE_CHAIN
	}
	// An engine-failure transcript h_0..h_s: k of its s complete segments
	// are sampled, and its failing segment s is always recomputed.
	segments := uint64(len(t.Checkpoints) - 1)
	t.Sampled = recompute.DrawSegments(seed, segments, task.Samples)
	kinds := make([]types.ChallengeKind, len(t.Sampled))
	for i := range kinds {
		kinds[i] = types.CHALLENGE_KIND_SAMPLED
	}
	if t.EngineFailure {
		t.Sampled = append(t.Sampled, uint32(segments))
		kinds = append(kinds, types.CHALLENGE_KIND_ENGINE_FAILURE)
	}
	t.Status = types.TRANSCRIPT_STATUS_CHALLENGED
	var demanded []uint32
	var demandedKinds []types.ChallengeKind
	var gas uint64
	for i, seg := range t.Sampled {
		if has, err := k.Challenges.Has(ctx, collections.Join3(taskID, worker, seg)); err != nil {
			return err
		} else if has || containsSegment(t.Verified, seg) {
			continue // already demanded (replica dispute) or verified
		}
		demanded = append(demanded, seg)
		demandedKinds = append(demandedKinds, kinds[i])
		gas = satAdd(gas, answerGas(task, seg, params))
	}
	deadline, err := k.reserveRevealGas(ctx, params, gas)
	if err != nil {
		return err
	}
	for i, seg := range demanded {
		c := types.Challenge{TaskId: taskID, Worker: t.Worker, Segment: seg, Kind: demandedKinds[i], Deadline: deadline,
			Gas: answerGas(task, seg, params)}
		if err := k.addChallenge(ctx, c, worker); err != nil {
			return err
		}
	}
	if err := k.Transcripts.Set(ctx, collections.Join(taskID, worker), t); err != nil {
		return err
	}
	// One event per kind: the sampled segments, and an engine-failure
	// transcript's failing segment.
	byKind := map[types.ChallengeKind][]uint32{}
	for i, seg := range demanded {
		byKind[demandedKinds[i]] = append(byKind[demandedKinds[i]], seg)
	}
	for _, kind := range []types.ChallengeKind{types.CHALLENGE_KIND_SAMPLED, types.CHALLENGE_KIND_ENGINE_FAILURE} {
		segs := byKind[kind]
		if kind != types.CHALLENGE_KIND_SAMPLED && len(segs) == 0 {
			continue
		}
		if err := ctx.EventManager().EmitTypedEvent(&types.EventSegmentsChallenged{
			TaskId: taskID, Worker: t.Worker, Segments: segs, Kind: kind.String(), Deadline: deadline,
		}); err != nil {
			return err
		}
	}
	return k.advance(ctx, t, worker, params)
}

// EndBlocker fails workers whose reveals are overdue and finalises passed
// transcripts whose fraud window closed, at most max_items_per_block items.
func (k Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	now := sdkCtx.BlockTime()
	at := func(key DeadlineKey) time.Time { return key.K1() }
	budget := params.MaxItemsPerBlock

	reveals, err := queue.Due(ctx, k.RevealQueue, at, now, budget)
	if err != nil {
		return err
	}
	for _, key := range reveals {
		queue.RunIsolated(sdkCtx, types.ModuleName, "reveal deadline", key.K2(), func(c sdk.Context) error {
			return k.revealDeadline(c, key.K2(), key.K3())
		})
		if err := k.RevealQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	budget -= uint32(len(reveals))

	windows, err := queue.Due(ctx, k.FraudQueue, at, now, budget)
	if err != nil {
		return err
	}
	for _, key := range windows {
		queue.RunIsolated(sdkCtx, types.ModuleName, "fraud window end", key.K2(), func(c sdk.Context) error {
			t, err := k.GetTranscript(c, key.K2(), key.K3())
			if err != nil || t.Status != types.TRANSCRIPT_STATUS_PASSED {
				return err
			}
			// With a fraud challenge still pending, the reveal (or its
			// deadline) decides; advance finalises only when none is left.
			return k.advance(c, t, key.K3(), params)
		})
		if err := k.FraudQueue.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// revealDeadline handles a transcript's deadline: a sealed transcript not
// opened in time fails; an opened one whose requester did not reveal its
// secret in time is drawn from the chain's randomness; one with a pending
// challenge past its deadline fails.
func (k Keeper) revealDeadline(ctx sdk.Context, taskID uint64, worker sdk.AccAddress) error {
	t, err := k.GetTranscript(ctx, taskID, worker)
	if err != nil || t.Status == types.TRANSCRIPT_STATUS_FAILED || t.Status == types.TRANSCRIPT_STATUS_FINAL {
		return err
	}
	switch t.Status {
	case types.TRANSCRIPT_STATUS_SEALED:
		if t.OpenDeadline.IsZero() || ctx.BlockTime().Before(t.OpenDeadline) {
			return nil
		}
		return k.failTranscript(ctx, t, worker, 0, fmt.Sprintf("transcript not opened before %s", t.OpenDeadline))
	case types.TRANSCRIPT_STATUS_COMMITTED:
		if !ctx.BlockTime().Before(t.OpenDeadline) {
			return k.DrawQueue.Set(ctx, collections.Join3(ctx.BlockHeight(), taskID, worker))
		}
		return nil
	}
	pending, err := k.pendingChallenges(ctx, taskID, worker)
	if err != nil {
		return err
	}
	for _, c := range pending {
		if !ctx.BlockTime().Before(c.Deadline) {
			return k.failTranscript(ctx, t, worker, c.Segment, fmt.Sprintf("no reveal of segment %d (%s) before %s", c.Segment, c.Kind, c.Deadline))
		}
	}
	return nil
}
