package keeper

import (
	"context"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	epochstypes "github.com/cosmos/cosmos-sdk/x/epochs/types"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// Hooks returns the x/epochs hooks of x/rewards.
func (k Keeper) Hooks() epochstypes.EpochHooks { return hooks{k} }

type hooks struct{ k Keeper }

func (h hooks) BeforeEpochStart(context.Context, string, int64) error { return nil }

// AfterEpochEnd pays the compute emission of the ending epoch.
func (h hooks) AfterEpochEnd(ctx context.Context, identifier string, number int64) error {
	params, err := h.k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if identifier != params.EpochIdentifier {
		return nil
	}
	return h.k.DistributeEmission(ctx, number)
}

// DistributeEmission pays min(epoch_emission, pool balance) from the compute
// pool to the workers with verified work this epoch, pro rata to their MACs.
// Shares are truncated; the remainder stays in the pool for the next epoch.
// The epoch's work is cleared either way.
func (k Keeper) DistributeEmission(ctx context.Context, epoch int64) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	type entry struct {
		worker sdk.AccAddress
		macs   uint64
	}
	var work []entry
	total := sdkmath.ZeroInt()
	err = k.EpochWork.Walk(ctx, nil, func(w sdk.AccAddress, macs uint64) (bool, error) {
		work = append(work, entry{w, macs})
		total = total.Add(sdkmath.NewIntFromUint64(macs))
		return false, nil
	})
	if err != nil {
		return err
	}
	if err := k.EpochWork.Clear(ctx, nil); err != nil {
		return err
	}
	denom := params.EpochEmission.Denom
	pool := k.bankKeeper.GetBalance(ctx, k.authKeeper.GetModuleAddress(types.PoolAccount), denom)
	budget := sdkmath.MinInt(params.EpochEmission.Amount, pool.Amount)
	if len(work) == 0 || total.IsZero() || !budget.IsPositive() {
		return nil
	}
	paid := sdkmath.ZeroInt()
	for _, e := range work {
		amt := budget.Mul(sdkmath.NewIntFromUint64(e.macs)).Quo(total)
		if !amt.IsPositive() {
			continue
		}
		if err := k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.PoolAccount, e.worker, sdk.NewCoins(sdk.NewCoin(denom, amt))); err != nil {
			return err
		}
		paid = paid.Add(amt)
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventEmissionDistributed{
		Epoch: epoch, Total: sdk.NewCoin(denom, paid).String(), Workers: uint32(len(work)), Macs: total.Uint64(),
	})
}
