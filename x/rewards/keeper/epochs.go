package keeper

import (
	"context"
	"math"
	"math/big"

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
//
// Bounds: PayWorker admits at most max_emission_recipients (never above
// MaxEmissionRecipientsLimit) workers into EpochWork per epoch, and genesis
// refuses more, so this walks and pays at most that many. Nothing here can
// overflow or panic: the total is an sdkmath.Int (at most 10 000 × 2^64),
// each share budget × macs / total is computed in a big.Int and is at most the
// budget, the shares add up to at most the budget, and the event's MAC count
// saturates at 2^64 - 1. A worker whose payment fails (a send restriction, a
// blocked address) is skipped, its share left in the pool, rather than failing
// the hook, which would roll back the clearing and fail again every epoch.
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
	if err := k.EpochWorkers.Remove(ctx); err != nil {
		return err
	}
	denom := params.EpochEmission.Denom
	if params.EpochEmission.Amount.IsNil() {
		return nil
	}
	pool := k.bankKeeper.GetBalance(ctx, k.authKeeper.GetModuleAddress(types.PoolAccount), denom)
	budget := sdkmath.MinInt(params.EpochEmission.Amount, pool.Amount)
	if len(work) == 0 || total.IsZero() || !budget.IsPositive() {
		return nil
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	paid := sdkmath.ZeroInt()
	for _, e := range work {
		amt := emissionShare(budget, e.macs, total)
		if !amt.IsPositive() {
			continue
		}
		cache, write := sdkCtx.CacheContext()
		if err := k.bankKeeper.SendCoinsFromModuleToAccount(cache, types.PoolAccount, e.worker, sdk.NewCoins(sdk.NewCoin(denom, amt))); err != nil {
			sdkCtx.Logger().Error("compute emission not paid", "worker", e.worker.String(), "amount", amt.String(), "err", err)
			continue
		}
		write()
		paid = paid.Add(amt)
	}
	macs := uint64(math.MaxUint64)
	if total.IsUint64() {
		macs = total.Uint64()
	}
	workers := uint32(math.MaxUint32)
	if uint64(len(work)) < math.MaxUint32 {
		workers = uint32(len(work))
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventEmissionDistributed{
		Epoch: epoch, Total: sdk.NewCoin(denom, paid).String(), Workers: workers, Macs: macs,
	})
}

// emissionShare is ⌊budget × macs / total⌋, computed without overflow; with
// macs ≤ total it is at most budget, so it fits wherever budget does.
func emissionShare(budget sdkmath.Int, macs uint64, total sdkmath.Int) sdkmath.Int {
	if !total.IsPositive() || macs == 0 {
		return sdkmath.ZeroInt()
	}
	n := new(big.Int).Mul(budget.BigInt(), new(big.Int).SetUint64(macs))
	return sdkmath.NewIntFromBigInt(n.Quo(n, total.BigInt()))
}
