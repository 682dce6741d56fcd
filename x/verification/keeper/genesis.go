package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// InitGenesis loads the state (sealed challenges and the gas of the reveals
// owed included) and imports the draw, reveal and fraud queues
// exactly as exported (the queues keep entries of transcripts that have moved
// on, which the blockers skip, so they cannot be rebuilt from the statuses).
// One adjustment: a draw entry above the new chain's first height, which a
// zero-height export produces (the transcript was committed at height h of
// the old chain, the new one restarts at 1), is moved down to the start
// height, so the sample is drawn in the first blocks instead of after h more.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	if err := k.NextVerdict.Set(ctx, gs.NextVerdictId); err != nil {
		return err
	}
	ac := k.authKeeper.AddressCodec()
	for _, t := range gs.Transcripts {
		worker, err := ac.StringToBytes(t.Worker)
		if err != nil {
			return err
		}
		if err := k.Transcripts.Set(ctx, collections.Join(t.TaskId, sdk.AccAddress(worker)), t); err != nil {
			return err
		}
	}
	for _, c := range gs.Challenges {
		worker, err := ac.StringToBytes(c.Worker)
		if err != nil {
			return err
		}
		if err := k.Challenges.Set(ctx, collections.Join3(c.TaskId, sdk.AccAddress(worker), c.Segment), c); err != nil {
			return err
		}
	}
	start := sdk.UnwrapSDKContext(ctx).BlockHeight()
	for _, e := range gs.DrawQueue {
		worker, err := ac.StringToBytes(e.Worker)
		if err != nil {
			return err
		}
		if err := k.DrawQueue.Set(ctx, collections.Join3(min(e.Height, start), e.TaskId, sdk.AccAddress(worker))); err != nil {
			return err
		}
	}
	for _, q := range []struct {
		set     collections.KeySet[DeadlineKey]
		entries []types.DeadlineEntry
	}{{k.RevealQueue, gs.RevealQueue}, {k.FraudQueue, gs.FraudQueue}} {
		for _, e := range q.entries {
			worker, err := ac.StringToBytes(e.Worker)
			if err != nil {
				return err
			}
			if err := q.set.Set(ctx, collections.Join3(e.Deadline, e.TaskId, sdk.AccAddress(worker))); err != nil {
				return err
			}
		}
	}
	for _, v := range gs.Verdicts {
		if err := k.Verdicts.Set(ctx, v.Id, v); err != nil {
			return err
		}
	}
	for _, s := range gs.ChallengeSeals {
		worker, err := ac.StringToBytes(s.Worker)
		if err != nil {
			return err
		}
		if err := k.ChallengeSeals.Set(ctx, collections.Join3(s.TaskId, sdk.AccAddress(worker), s.Commitment), s); err != nil {
			return err
		}
	}
	return k.PendingRevealGas.Set(ctx, gs.PendingRevealGas)
}

// ExportGenesis writes the whole state; importing it gives the same state.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	next, err := k.NextVerdict.Peek(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params, NextVerdictId: next}
	if err := k.Transcripts.Walk(ctx, nil, func(_ TranscriptKey, t types.Transcript) (bool, error) {
		gs.Transcripts = append(gs.Transcripts, t)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Challenges.Walk(ctx, nil, func(_ ChallengeKey, c types.Challenge) (bool, error) {
		gs.Challenges = append(gs.Challenges, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Verdicts.Walk(ctx, nil, func(_ uint64, v types.Verdict) (bool, error) {
		gs.Verdicts = append(gs.Verdicts, v)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.DrawQueue.Walk(ctx, nil, func(key collections.Triple[int64, uint64, sdk.AccAddress]) (bool, error) {
		gs.DrawQueue = append(gs.DrawQueue, types.DrawEntry{Height: key.K1(), TaskId: key.K2(), Worker: key.K3().String()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	deadlines := func(q collections.KeySet[DeadlineKey], out *[]types.DeadlineEntry) error {
		return q.Walk(ctx, nil, func(key DeadlineKey) (bool, error) {
			*out = append(*out, types.DeadlineEntry{Deadline: key.K1(), TaskId: key.K2(), Worker: key.K3().String()})
			return false, nil
		})
	}
	if err := deadlines(k.RevealQueue, &gs.RevealQueue); err != nil {
		return nil, err
	}
	if err := deadlines(k.FraudQueue, &gs.FraudQueue); err != nil {
		return nil, err
	}
	if err := k.ChallengeSeals.Walk(ctx, nil, func(_ SealKey, s types.ChallengeSeal) (bool, error) {
		gs.ChallengeSeals = append(gs.ChallengeSeals, s)
		return false, nil
	}); err != nil {
		return nil, err
	}
	pending, err := k.PendingRevealGas.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	gs.PendingRevealGas = pending
	return gs, nil
}
