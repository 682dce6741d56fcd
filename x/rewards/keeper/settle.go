package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// ReleaseBond settles an abandoned claim: fee (at most the whole bond) goes
// to the task's poster, the rest returns to the worker. No reputation moves:
// abandoning before sealing is neither a failure nor a success.
func (k Keeper) ReleaseBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, fee sdkmath.Int) (sdk.Coin, sdk.Coin, error) {
	escrow, err := k.Escrows.Get(ctx, taskID)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(types.ErrEscrowNotFound, "task %d", taskID)
	}
	poster, err := k.authKeeper.AddressCodec().StringToBytes(escrow.Poster)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	key := collections.Join(taskID, worker)
	bond, err := k.WorkerBonds.Get(ctx, key)
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, errorsmod.Wrapf(types.ErrBondNotFound, "task %d worker %s", taskID, worker)
	}
	if fee.IsNil() || fee.IsNegative() {
		fee = sdkmath.ZeroInt()
	}
	feeCoin := sdk.NewCoin(bond.Amount.Denom, sdkmath.MinInt(fee, bond.Amount.Amount))
	rest := bond.Amount.Sub(feeCoin)
	if err := k.send(ctx, poster, feeCoin); err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	if err := k.send(ctx, worker, rest); err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	if err := k.WorkerBonds.Remove(ctx, key); err != nil {
		return sdk.Coin{}, sdk.Coin{}, err
	}
	return feeCoin, rest, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondReleased{
		TaskId: taskID, Owner: worker.String(), ToRequester: feeCoin.String(), Returned: rest.String(),
		Reason: "claim abandoned before sealing",
	})
}

// CompensateWorker settles a worker that proved the task untrainable: out of
// the escrow it is paid share x stepsDone/totalSteps + share x penaltyBps /
// 10000 (at most one share), its bond returns, and the poster keeps the rest
// of the escrow. Nothing counts for reputation or emissions: no model came
// out of it.
func (k Keeper) CompensateWorker(ctx context.Context, taskID uint64, worker sdk.AccAddress, stepsDone, totalSteps uint64, penaltyBps uint32) (sdk.Coin, error) {
	escrow, err := k.Escrows.Get(ctx, taskID)
	if err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrEscrowNotFound, "task %d", taskID)
	}
	key := collections.Join(taskID, worker)
	bond, err := k.WorkerBonds.Get(ctx, key)
	if err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrBondNotFound, "task %d worker %s", taskID, worker)
	}
	share := escrow.Share.Amount
	pay := sdkmath.ZeroInt()
	if totalSteps > 0 {
		pay = share.Mul(sdkmath.NewIntFromUint64(stepsDone)).Quo(sdkmath.NewIntFromUint64(totalSteps))
	}
	pay = sdkmath.MinInt(share, pay.Add(mulBps(share, penaltyBps)))
	pay = sdkmath.MinInt(pay, escrow.Amount.Amount)
	paid := sdk.NewCoin(escrow.Share.Denom, pay)
	escrow.Amount = escrow.Amount.Sub(paid)
	if err := k.send(ctx, worker, paid); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.send(ctx, worker, bond.Amount); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.Escrows.Set(ctx, taskID, escrow); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.WorkerBonds.Remove(ctx, key); err != nil {
		return sdk.Coin{}, err
	}
	return paid, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondReleased{
		TaskId: taskID, Owner: worker.String(), ToRequester: sdk.NewCoin(bond.Amount.Denom, sdkmath.ZeroInt()).String(),
		Returned: bond.Amount.String(), Compensation: paid.String(), Reason: "task proven untrainable",
	})
}

// MoveChallengeBond re-keys a locked challenge bond from slot from to slot to
// (a sealed challenge opening on a segment); no coin moves.
func (k Keeper) MoveChallengeBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, from, to uint32) error {
	fk, tk := collections.Join3(taskID, worker, from), collections.Join3(taskID, worker, to)
	bond, err := k.ChallengeBonds.Get(ctx, fk)
	if err != nil {
		return errorsmod.Wrapf(types.ErrBondNotFound, "no challenge bond in slot %d of task %d worker %s", from, taskID, worker)
	}
	if has, err := k.ChallengeBonds.Has(ctx, tk); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrBondExists, "segment %d of task %d worker %s is already challenged", to, taskID, worker)
	}
	bond.Segment = to
	if err := k.ChallengeBonds.Remove(ctx, fk); err != nil {
		return err
	}
	return k.ChallengeBonds.Set(ctx, tk, bond)
}

// RefundChallengeBond returns a challenge bond to its owner (a seal that
// never opened, or a challenge displaced by an earlier seal).
func (k Keeper) RefundChallengeBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, slot uint32) error {
	key := collections.Join3(taskID, worker, slot)
	bond, err := k.ChallengeBonds.Get(ctx, key)
	if err != nil {
		return errorsmod.Wrapf(types.ErrBondNotFound, "no challenge bond in slot %d of task %d worker %s", slot, taskID, worker)
	}
	owner, err := k.authKeeper.AddressCodec().StringToBytes(bond.Owner)
	if err != nil {
		return err
	}
	if err := k.send(ctx, owner, bond.Amount); err != nil {
		return err
	}
	if err := k.ChallengeBonds.Remove(ctx, key); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondReleased{
		TaskId: taskID, Owner: bond.Owner, Returned: bond.Amount.String(), Reason: "challenge bond refunded",
	})
}
