package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// Custody of x/annotation: a job's escrow (its labels' pay, the aggregation
// fee and the requester's gold deposit) and its annotators' stakes, kept
// apart from tasks' escrows and bonds and covered by the same invariant.

// LockJobEscrow moves a job's escrow from the requester into custody.
func (k Keeper) LockJobEscrow(ctx context.Context, jobID uint64, requester sdk.AccAddress, amount sdk.Coin) error {
	if !amount.IsValid() || !amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "job %d escrow %s must be a positive coin", jobID, amount)
	}
	if has, err := k.JobEscrows.Has(ctx, jobID); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrEscrowExists, "job %d", jobID)
	}
	if err := k.bankKeeper.SendCoinsFromAccountToModule(ctx, requester, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return errorsmod.Wrapf(types.ErrInsufficientFunds, "escrowing %s for job %d: %s", amount, jobID, err)
	}
	return k.JobEscrows.Set(ctx, jobID, types.Escrow{TaskId: jobID, Poster: requester.String(), Amount: amount})
}

// LockStake adds an annotator's stake for one more batch of a job.
func (k Keeper) LockStake(ctx context.Context, jobID uint64, annotator sdk.AccAddress, amount sdk.Coin) error {
	if !amount.IsValid() || amount.IsNegative() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "stake %s", amount)
	}
	if has, err := k.JobEscrows.Has(ctx, jobID); err != nil {
		return err
	} else if !has {
		return errorsmod.Wrapf(types.ErrEscrowNotFound, "job %d", jobID)
	}
	if amount.IsZero() {
		return nil
	}
	if err := k.bankKeeper.SendCoinsFromAccountToModule(ctx, annotator, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return errorsmod.Wrapf(types.ErrInsufficientFunds, "locking stake %s for job %d: %s", amount, jobID, err)
	}
	key := collections.Join(jobID, annotator)
	b, err := k.Stakes.Get(ctx, key)
	if err != nil {
		b = types.Bond{TaskId: jobID, Owner: annotator.String(), Amount: sdk.NewCoin(amount.Denom, sdkmath.ZeroInt())}
	}
	b.Amount = b.Amount.Add(amount)
	if err := k.Stakes.Set(ctx, key, b); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondLocked{TaskId: jobID, Owner: annotator.String(), Amount: amount.String()})
}

// SettleStake ends an annotator's stakes on a job: toRequester (forfeited or
// slashed, at most the stake) goes to the requester, the rest back.
func (k Keeper) SettleStake(ctx context.Context, jobID uint64, annotator sdk.AccAddress, toRequester sdkmath.Int) error {
	escrow, err := k.JobEscrows.Get(ctx, jobID)
	if err != nil {
		return errorsmod.Wrapf(types.ErrEscrowNotFound, "job %d", jobID)
	}
	key := collections.Join(jobID, annotator)
	b, err := k.Stakes.Get(ctx, key)
	if err != nil {
		return nil // nothing staked (zero stakes are not stored)
	}
	requester, err := k.authKeeper.AddressCodec().StringToBytes(escrow.Poster)
	if err != nil {
		return err
	}
	lost := sdkmath.MinInt(sdkmath.MaxInt(toRequester, sdkmath.ZeroInt()), b.Amount.Amount)
	if err := k.send(ctx, requester, sdk.NewCoin(b.Amount.Denom, lost)); err != nil {
		return err
	}
	if err := k.send(ctx, annotator, sdk.NewCoin(b.Amount.Denom, b.Amount.Amount.Sub(lost))); err != nil {
		return err
	}
	if err := k.Stakes.Remove(ctx, key); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondReleased{
		TaskId: jobID, Owner: b.Owner, ToRequester: sdk.NewCoin(b.Amount.Denom, lost).String(),
		Returned: sdk.NewCoin(b.Amount.Denom, b.Amount.Amount.Sub(lost)).String(), Reason: "annotation stake settled",
	})
}

// PayFromJob pays out of a job's escrow: to an annotator, or with to empty
// to the fee collector (the aggregation fee).
func (k Keeper) PayFromJob(ctx context.Context, jobID uint64, to sdk.AccAddress, amount sdk.Coin) error {
	escrow, err := k.takeFromJob(ctx, jobID, amount)
	if err != nil || !amount.IsPositive() {
		return err
	}
	if to.Empty() {
		if err := k.bankKeeper.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.feeCollector, sdk.NewCoins(amount)); err != nil {
			return err
		}
	} else if err := k.send(ctx, to, amount); err != nil {
		return err
	}
	return k.JobEscrows.Set(ctx, jobID, escrow)
}

// BurnFromJob burns out of a job's escrow (a gold deposit never revealed).
func (k Keeper) BurnFromJob(ctx context.Context, jobID uint64, amount sdk.Coin) error {
	escrow, err := k.takeFromJob(ctx, jobID, amount)
	if err != nil || !amount.IsPositive() {
		return err
	}
	if err := k.bankKeeper.BurnCoins(ctx, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return err
	}
	return k.JobEscrows.Set(ctx, jobID, escrow)
}

func (k Keeper) takeFromJob(ctx context.Context, jobID uint64, amount sdk.Coin) (types.Escrow, error) {
	escrow, err := k.JobEscrows.Get(ctx, jobID)
	if err != nil {
		return escrow, errorsmod.Wrapf(types.ErrEscrowNotFound, "job %d", jobID)
	}
	if !amount.IsValid() || amount.Denom != escrow.Amount.Denom || escrow.Amount.IsLT(amount) {
		return escrow, errorsmod.Wrapf(types.ErrAccounting, "job %d escrow %s cannot pay %s", jobID, escrow.Amount, amount)
	}
	escrow.Amount = escrow.Amount.Sub(amount)
	return escrow, nil
}

// CloseJobEscrow refunds what is left of a job's escrow to its requester.
// Every stake of the job must have been settled first.
func (k Keeper) CloseJobEscrow(ctx context.Context, jobID uint64) (sdk.Coin, error) {
	escrow, err := k.JobEscrows.Get(ctx, jobID)
	if err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrEscrowNotFound, "job %d", jobID)
	}
	it, err := k.Stakes.Iterate(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](jobID))
	if err != nil {
		return sdk.Coin{}, err
	}
	open := it.Valid()
	it.Close()
	if open {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrAccounting, "job %d still has stakes in custody", jobID)
	}
	requester, err := k.authKeeper.AddressCodec().StringToBytes(escrow.Poster)
	if err != nil {
		return sdk.Coin{}, err
	}
	if err := k.send(ctx, requester, escrow.Amount); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.JobEscrows.Remove(ctx, jobID); err != nil {
		return sdk.Coin{}, err
	}
	return escrow.Amount, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventRefunded{
		TaskId: jobID, Poster: escrow.Poster, Amount: escrow.Amount.String(),
	})
}

// SettleStakeSplit ends an owner's stake on a job (x/federated: a
// participant's or a challenger's bond): payees[i] gets amounts[i]
// (together at most the stake; negative amounts count as zero), the rest
// returns to the owner.
func (k Keeper) SettleStakeSplit(ctx context.Context, jobID uint64, owner sdk.AccAddress, payees []sdk.AccAddress, amounts []sdkmath.Int) error {
	if len(payees) != len(amounts) {
		return errorsmod.Wrapf(types.ErrAccounting, "%d payees for %d amounts", len(payees), len(amounts))
	}
	key := collections.Join(jobID, owner)
	b, err := k.Stakes.Get(ctx, key)
	if err != nil {
		return nil // nothing staked (zero stakes are not stored)
	}
	left := b.Amount.Amount
	paid := sdkmath.ZeroInt()
	for i, to := range payees {
		a := sdkmath.MinInt(sdkmath.MaxInt(amounts[i], sdkmath.ZeroInt()), left)
		if err := k.send(ctx, to, sdk.NewCoin(b.Amount.Denom, a)); err != nil {
			return err
		}
		left, paid = left.Sub(a), paid.Add(a)
	}
	if err := k.send(ctx, owner, sdk.NewCoin(b.Amount.Denom, left)); err != nil {
		return err
	}
	if err := k.Stakes.Remove(ctx, key); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondReleased{
		TaskId: jobID, Owner: b.Owner, ToRequester: sdk.NewCoin(b.Amount.Denom, paid).String(),
		Returned: sdk.NewCoin(b.Amount.Denom, left).String(), Reason: "stake settled",
	})
}

// PayFromStake pays part of an owner's stake on a job to someone else (a
// challenger's lost bond to the aggregator it challenged) and keeps the
// rest staked.
func (k Keeper) PayFromStake(ctx context.Context, jobID uint64, owner, to sdk.AccAddress, amount sdk.Coin) error {
	key := collections.Join(jobID, owner)
	b, err := k.Stakes.Get(ctx, key)
	if err != nil {
		return errorsmod.Wrapf(types.ErrEscrowNotFound, "no stake of %s on job %d", owner, jobID)
	}
	if !amount.IsValid() || amount.Denom != b.Amount.Denom || b.Amount.IsLT(amount) {
		return errorsmod.Wrapf(types.ErrAccounting, "stake %s of %s on job %d cannot pay %s", b.Amount, owner, jobID, amount)
	}
	if err := k.send(ctx, to, amount); err != nil {
		return err
	}
	b.Amount = b.Amount.Sub(amount)
	if b.Amount.IsZero() {
		return k.Stakes.Remove(ctx, key)
	}
	return k.Stakes.Set(ctx, key, b)
}
