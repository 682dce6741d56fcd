package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// InitGenesis loads the state and rebuilds the queues from it: a committed
// transcript is drawn at the first block, pending challenges keep their
// deadlines and passed transcripts their fraud window.
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
		switch t.Status {
		case types.TRANSCRIPT_STATUS_COMMITTED:
			err = k.DrawQueue.Set(ctx, collections.Join3(t.CommittedHeight, t.TaskId, sdk.AccAddress(worker)))
		case types.TRANSCRIPT_STATUS_PASSED:
			err = k.FraudQueue.Set(ctx, collections.Join3(t.FraudWindowEnd, t.TaskId, sdk.AccAddress(worker)))
		}
		if err != nil {
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
		if c.Status == types.CHALLENGE_STATUS_PENDING {
			if err := k.RevealQueue.Set(ctx, collections.Join3(c.Deadline, c.TaskId, sdk.AccAddress(worker))); err != nil {
				return err
			}
		}
	}
	for _, v := range gs.Verdicts {
		if err := k.Verdicts.Set(ctx, v.Id, v); err != nil {
			return err
		}
		if err := k.TaskVerdicts.Set(ctx, collections.Join(v.TaskId, v.Id)); err != nil {
			return err
		}
	}
	return nil
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
	return gs, nil
}
