package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// InitGenesis loads the state and checks that the custody account (funded by
// x/bank's genesis, which runs first) holds exactly the escrows and bonds.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	ac := k.authKeeper.AddressCodec()
	for _, e := range gs.Escrows {
		if err := k.Escrows.Set(ctx, e.TaskId, e); err != nil {
			return err
		}
	}
	for _, b := range gs.Bonds {
		owner, err := ac.StringToBytes(b.Owner)
		if err != nil {
			return err
		}
		if b.Against == "" {
			err = k.WorkerBonds.Set(ctx, collections.Join(b.TaskId, sdk.AccAddress(owner)), b)
		} else {
			var against []byte
			if against, err = ac.StringToBytes(b.Against); err == nil {
				err = k.ChallengeBonds.Set(ctx, collections.Join3(b.TaskId, sdk.AccAddress(against), b.Segment), b)
			}
		}
		if err != nil {
			return err
		}
	}
	for _, r := range gs.Reputations {
		addr, err := ac.StringToBytes(r.Address)
		if err != nil {
			return err
		}
		if err := k.Reputations.Set(ctx, addr, r); err != nil {
			return err
		}
	}
	for _, w := range gs.EpochWork {
		addr, err := ac.StringToBytes(w.Worker)
		if err != nil {
			return err
		}
		if err := k.EpochWork.Set(ctx, addr, w.Macs); err != nil {
			return err
		}
	}
	// The worker count PayWorker caps is that of the store's epoch work; it is
	// absent when there is none, as after DistributeEmission, so that an
	// exported and re-imported store is byte for byte the same.
	var workers uint64
	if err := k.EpochWork.Walk(ctx, nil, func(sdk.AccAddress, uint64) (bool, error) {
		workers++
		return false, nil
	}); err != nil {
		return err
	}
	if workers == 0 {
		if err := k.EpochWorkers.Remove(ctx); err != nil {
			return err
		}
	} else if err := k.EpochWorkers.Set(ctx, workers); err != nil {
		return err
	}
	for _, f := range gs.Funders {
		addr, err := ac.StringToBytes(f.Address)
		if err != nil {
			return err
		}
		funder, err := ac.StringToBytes(f.Funder)
		if err != nil {
			return err
		}
		if err := k.Funders.Set(ctx, addr, funder); err != nil {
			return err
		}
	}
	for _, e := range gs.JobEscrows {
		if err := k.JobEscrows.Set(ctx, e.TaskId, e); err != nil {
			return err
		}
	}
	for _, b := range gs.Stakes {
		owner, err := ac.StringToBytes(b.Owner)
		if err != nil {
			return err
		}
		if err := k.Stakes.Set(ctx, collections.Join(b.TaskId, sdk.AccAddress(owner)), b); err != nil {
			return err
		}
	}
	return k.CheckCustody(ctx)
}

// ExportGenesis writes the whole state; importing it gives the same state.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	if err := k.JobEscrows.Walk(ctx, nil, func(_ uint64, e types.Escrow) (bool, error) {
		gs.JobEscrows = append(gs.JobEscrows, e)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Stakes.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], b types.Bond) (bool, error) {
		gs.Stakes = append(gs.Stakes, b)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Escrows.Walk(ctx, nil, func(_ uint64, e types.Escrow) (bool, error) {
		gs.Escrows = append(gs.Escrows, e)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.WorkerBonds.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], b types.Bond) (bool, error) {
		gs.Bonds = append(gs.Bonds, b)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.ChallengeBonds.Walk(ctx, nil, func(_ collections.Triple[uint64, sdk.AccAddress, uint32], b types.Bond) (bool, error) {
		gs.Bonds = append(gs.Bonds, b)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Reputations.Walk(ctx, nil, func(_ sdk.AccAddress, r types.Reputation) (bool, error) {
		gs.Reputations = append(gs.Reputations, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.EpochWork.Walk(ctx, nil, func(w sdk.AccAddress, macs uint64) (bool, error) {
		gs.EpochWork = append(gs.EpochWork, types.EpochWork{Worker: w.String(), Macs: macs})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Funders.Walk(ctx, nil, func(addr, funder sdk.AccAddress) (bool, error) {
		gs.Funders = append(gs.Funders, types.Funder{Address: addr.String(), Funder: funder.String()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
