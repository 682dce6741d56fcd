package keeper

import (
	"bytes"
	"context"
	"math"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// Fraud challenges are sealed, then opened, so that a watcher's find cannot be
// taken from the mempool: MsgSealChallenge locks the bond against a commitment
// bound to the challenger (recompute.ChallengeCommitment) and says nothing of
// the segment; MsgChallengeSegment names the segment in a later block. Where
// two challengers name the same segment, the one that sealed first holds the
// challenge (a copier who sees the opening can only seal after it).
//
// The bond is at least challenge_bond_factor times the gas of the largest
// honest answer at challenge_gas_price: a challenge the worker answers pays
// the worker's reveal, and a griefer who challenges honest transcripts loses
// more than it makes the worker spend.

// sealUpkeepGas is charged to a challenge seal for the end-of-window walk that
// removes it and refunds its bond if it never opens.
const sealUpkeepGas = 30_000

// SealChallenge bonds a fraud challenge on a passed transcript.
func (m msgServer) SealChallenge(ctx context.Context, msg *types.MsgSealChallenge) (*types.MsgSealChallengeResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	challenger, challengerAddr, err := m.decodeAddress("challenger", msg.Challenger)
	if err != nil {
		return nil, err
	}
	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(challenger, worker) {
		return nil, errorsmod.Wrapf(types.ErrSelfChallenge, "task %d", msg.TaskId)
	}
	if len(msg.Commitment) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "commitment is %d bytes, want %d", len(msg.Commitment), types.HashLen)
	}
	t, err := m.GetTranscript(ctx, msg.TaskId, worker)
	if err != nil {
		return nil, err
	}
	if t.Status != types.TRANSCRIPT_STATUS_PASSED {
		return nil, errorsmod.Wrapf(types.ErrWrongStatus, "transcript is %s; fraud challenges are for passed transcripts", t.Status)
	}
	if !sdkCtx.BlockTime().Before(t.FraudWindowEnd) {
		return nil, errorsmod.Wrapf(types.ErrFraudWindowClosed, "closed at %s", t.FraudWindowEnd)
	}
	task, err := m.tasks.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	// The seal pays for its own removal and refund (if it never opens).
	sdkCtx.GasMeter().ConsumeGas(sealUpkeepGas, "verification: challenge seal upkeep")
	tasksParams, err := m.tasks.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	need := recompute.ChallengeBondFor(task, params, tasksParams)
	if err := msg.Bond.Validate(); err != nil || msg.Bond.Denom != need.Denom || msg.Bond.Amount.LT(need.Amount) {
		return nil, errorsmod.Wrapf(types.ErrInvalidBond, "bond %s must be at least %s (%dx the gas of the largest honest answer at the challenge gas price of %s, and at least its min_challenge_bond)",
			msg.Bond, need, params.ChallengeBondFactor, need.Denom)
	}
	key := collections.Join3(msg.TaskId, sdk.AccAddress(worker), msg.Commitment)
	if has, err := m.ChallengeSeals.Has(ctx, key); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrChallengePending, "this commitment is already sealed")
	}
	if t.ChallengeSeals >= math.MaxInt32 {
		return nil, errorsmod.Wrapf(types.ErrChallengePending, "task %d worker %s has no seal slot left", msg.TaskId, workerAddr)
	}
	slot := types.SealSlot + t.ChallengeSeals
	t.ChallengeSeals++
	if err := m.rewards.LockChallengeBond(ctx, msg.TaskId, worker, slot, challenger, msg.Bond); err != nil {
		return nil, err
	}
	seal := types.ChallengeSeal{
		TaskId: msg.TaskId, Worker: workerAddr, Challenger: challengerAddr, Commitment: msg.Commitment,
		Bond: msg.Bond, Height: sdkCtx.BlockHeight(), Slot: slot,
	}
	if err := m.ChallengeSeals.Set(ctx, key, seal); err != nil {
		return nil, err
	}
	if err := m.Transcripts.Set(ctx, collections.Join(msg.TaskId, sdk.AccAddress(worker)), t); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengeSealed{
		TaskId: msg.TaskId, Worker: workerAddr, Challenger: challengerAddr, Bond: msg.Bond.String(),
	}); err != nil {
		return nil, err
	}
	return &types.MsgSealChallengeResponse{}, nil
}

// ChallengeSegment opens a sealed challenge and demands the segment's reveal.
func (m msgServer) ChallengeSegment(ctx context.Context, msg *types.MsgChallengeSegment) (*types.MsgChallengeSegmentResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	challenger, challengerAddr, err := m.decodeAddress("challenger", msg.Challenger)
	if err != nil {
		return nil, err
	}
	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	commitment := recompute.ChallengeCommitment(msg.TaskId, worker, challenger, msg.Segment, msg.Salt)
	skey := collections.Join3(msg.TaskId, sdk.AccAddress(worker), commitment)
	seal, err := m.ChallengeSeals.Get(ctx, skey)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrSealNotFound, "no seal of %s on task %d worker %s commits to segment %d with this salt", challengerAddr, msg.TaskId, workerAddr, msg.Segment)
	}
	if seal.Height >= sdkCtx.BlockHeight() {
		return nil, errorsmod.Wrapf(types.ErrSealTooRecent, "sealed at height %d", seal.Height)
	}
	t, err := m.GetTranscript(ctx, msg.TaskId, worker)
	if err != nil {
		return nil, err
	}
	if t.Status != types.TRANSCRIPT_STATUS_PASSED {
		return nil, errorsmod.Wrapf(types.ErrWrongStatus, "transcript is %s; fraud challenges are for passed transcripts", t.Status)
	}
	if !sdkCtx.BlockTime().Before(t.FraudWindowEnd) {
		return nil, errorsmod.Wrapf(types.ErrFraudWindowClosed, "closed at %s", t.FraudWindowEnd)
	}
	if uint64(msg.Segment)+1 >= uint64(len(t.Checkpoints)) && !(t.EngineFailure && uint64(msg.Segment)+1 == uint64(len(t.Checkpoints))) {
		return nil, errorsmod.Wrapf(types.ErrInvalidSegment, "segment %d of a transcript with %d checkpoints", msg.Segment, len(t.Checkpoints))
	}
	if containsSegment(t.Verified, msg.Segment) {
		return nil, errorsmod.Wrapf(types.ErrSegmentVerified, "segment %d", msg.Segment)
	}
	key := collections.Join3(msg.TaskId, sdk.AccAddress(worker), msg.Segment)
	if prev, err := m.Challenges.Get(ctx, key); err == nil {
		// The segment is already challenged: the earlier seal keeps it.
		if prev.Status != types.CHALLENGE_STATUS_PENDING || prev.Kind != types.CHALLENGE_KIND_FRAUD || prev.SealedHeight <= seal.Height {
			return nil, errorsmod.Wrapf(types.ErrChallengePending, "segment %d is challenged by %s (sealed at height %d)", msg.Segment, prev.Challenger, prev.SealedHeight)
		}
		// This challenger sealed first: the later seal that opened first
		// (it may have copied this one's opening) is refunded and replaced.
		if err := m.rewards.RefundChallengeBond(ctx, msg.TaskId, worker, msg.Segment); err != nil {
			return nil, err
		}
		if err := m.Challenges.Remove(ctx, key); err != nil {
			return nil, err
		}
		if err := m.releaseRevealGas(ctx, prev.Gas); err != nil {
			return nil, err
		}
	}
	task, err := m.tasks.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	if err := m.rewards.MoveChallengeBond(ctx, msg.TaskId, worker, seal.Slot, msg.Segment); err != nil {
		return nil, err
	}
	if err := m.ChallengeSeals.Remove(ctx, skey); err != nil {
		return nil, err
	}
	gas := answerGas(task, msg.Segment, params)
	deadline, err := m.reserveRevealGas(ctx, params, gas)
	if err != nil {
		return nil, err
	}
	c := types.Challenge{
		TaskId: msg.TaskId, Worker: workerAddr, Segment: msg.Segment, Kind: types.CHALLENGE_KIND_FRAUD,
		Challenger: challengerAddr, Bond: seal.Bond, Deadline: deadline, Gas: gas, SealedHeight: seal.Height,
	}
	if err := m.addChallenge(ctx, c, worker); err != nil {
		return nil, err
	}
	err = sdkCtx.EventManager().EmitTypedEvent(&types.EventSegmentsChallenged{
		TaskId: msg.TaskId, Worker: workerAddr, Segments: []uint32{msg.Segment}, Kind: c.Kind.String(),
		Deadline: deadline, Challenger: challengerAddr,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgChallengeSegmentResponse{}, nil
}

// refundSeals returns the bonds of a transcript's sealed challenges that were
// never opened (its fraud window closed, or it failed). Each seal paid for
// its own removal when it was sealed.
func (k Keeper) refundSeals(ctx context.Context, taskID uint64, worker sdk.AccAddress) error {
	var keys []SealKey
	var slots []uint32
	err := k.ChallengeSeals.Walk(ctx, collections.NewSuperPrefixedTripleRange[uint64, sdk.AccAddress, []byte](taskID, worker),
		func(key SealKey, s types.ChallengeSeal) (bool, error) {
			keys = append(keys, key)
			slots = append(slots, s.Slot)
			return false, nil
		})
	if err != nil {
		return err
	}
	for i, key := range keys {
		if err := k.rewards.RefundChallengeBond(ctx, taskID, worker, slots[i]); err != nil {
			return err
		}
		if err := k.ChallengeSeals.Remove(ctx, key); err != nil {
			return err
		}
	}
	return nil
}
