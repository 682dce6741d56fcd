package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/federated/types"
)

// InitGenesis loads a validated genesis state; the deadline queue and the
// model index are derived from the jobs and rounds.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	if err := k.NextJob.Set(ctx, max(gs.NextJobId, 1)); err != nil {
		return err
	}
	for _, j := range gs.Jobs {
		if err := k.Jobs.Set(ctx, j.Id, j); err != nil {
			return err
		}
	}
	jobs := make(map[uint64]types.FederatedJob, len(gs.Jobs))
	for _, j := range gs.Jobs {
		jobs[j.Id] = j
	}
	for _, r := range gs.Rounds {
		if err := k.setRound(ctx, r); err != nil {
			return err
		}
		if len(r.StartModelHash) > 0 {
			if err := k.indexModel(ctx, r.StartModelHash, r.JobId, r.Round); err != nil {
				return err
			}
		}
		j := jobs[r.JobId]
		if j.Status == types.JOB_STATUS_RUNNING && r.Round == j.CurrentRound && !r.Deadline.IsZero() {
			if err := k.DeadlineQueue.Set(ctx, collections.Join(r.Deadline, r.JobId)); err != nil {
				return err
			}
		}
		if r.Phase == types.ROUND_PHASE_FINAL && r.Round+1 == j.Rounds {
			if err := k.indexModel(ctx, r.Aggregate.ModelHash, r.JobId, j.Rounds); err != nil {
				return err
			}
		}
	}
	ac := k.authKeeper.AddressCodec()
	for _, u := range gs.Updates {
		a, err := ac.StringToBytes(u.Participant)
		if err != nil {
			return err
		}
		if err := k.Updates.Set(ctx, collections.Join3(u.JobId, u.Round, sdk.AccAddress(a)), u); err != nil {
			return err
		}
	}
	for _, c := range gs.Challenges {
		if err := k.Challenges.Set(ctx, collections.Join3(c.JobId, c.Round, c.Chunk), c); err != nil {
			return err
		}
	}
	return nil
}

func (k Keeper) indexModel(ctx context.Context, hash []byte, job uint64, round uint32) error {
	if has, err := k.Models.Has(ctx, hash); err != nil || has {
		return err
	}
	return k.Models.Set(ctx, hash, collections.Join(job, round))
}

// ExportGenesis exports the state.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	gs := &types.GenesisState{}
	var err error
	if gs.Params, err = k.Params.Get(ctx); err != nil {
		return nil, err
	}
	if gs.NextJobId, err = k.NextJob.Peek(ctx); err != nil {
		return nil, err
	}
	if err := k.Jobs.Walk(ctx, nil, func(_ uint64, j types.FederatedJob) (bool, error) {
		gs.Jobs = append(gs.Jobs, j)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Rounds.Walk(ctx, nil, func(_ RoundKey, r types.Round) (bool, error) {
		gs.Rounds = append(gs.Rounds, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Updates.Walk(ctx, nil, func(_ UpdateKey, u types.Update) (bool, error) {
		gs.Updates = append(gs.Updates, u)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Challenges.Walk(ctx, nil, func(_ ChallengeKey, c types.ChunkChallenge) (bool, error) {
		gs.Challenges = append(gs.Challenges, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
