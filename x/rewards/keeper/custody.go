package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/internal/metrics"
	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// The custody API below is what x/tasks and x/verification call (see their
// types/expected_keepers.go). Every function either moves coins and updates
// the matching record, or returns an error having changed nothing that the
// caller's transaction would keep.

// LockEscrow moves a task's reward from the poster into custody. Each of the
// `replicas` verified workers will be paid reward/replicas (truncated); the
// remainder returns to the poster when the escrow closes.
func (k Keeper) LockEscrow(ctx context.Context, taskID uint64, poster sdk.AccAddress, reward sdk.Coin, replicas uint32) error {
	if !reward.IsValid() || !reward.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "task %d reward %s must be a positive coin", taskID, reward)
	}
	if replicas == 0 {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "task %d needs at least one replica", taskID)
	}
	if has, err := k.Escrows.Has(ctx, taskID); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrEscrowExists, "task %d", taskID)
	}
	if err := k.bankKeeper.SendCoinsFromAccountToModule(ctx, poster, types.ModuleName, sdk.NewCoins(reward)); err != nil {
		return errorsmod.Wrapf(types.ErrInsufficientFunds, "escrowing %s for task %d: %s", reward, taskID, err)
	}
	share := sdk.NewCoin(reward.Denom, reward.Amount.QuoRaw(int64(replicas)))
	if err := k.Escrows.Set(ctx, taskID, types.Escrow{TaskId: taskID, Poster: poster.String(), Amount: reward, Share: share}); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventEscrowed{TaskId: taskID, Poster: poster.String(), Amount: reward.String()})
}

// RequiredBond is the bond `worker` must lock for a task asking `bond`, after
// its reputation discount.
func (k Keeper) RequiredBond(ctx context.Context, worker sdk.AccAddress, bond sdk.Coin) (sdk.Coin, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	rep, err := k.reputation(ctx, worker)
	if err != nil {
		return sdk.Coin{}, err
	}
	discount := mulBps(bond.Amount, params.DiscountBps(rep.Verified))
	return sdk.NewCoin(bond.Denom, bond.Amount.Sub(discount)), nil
}

// LockBond moves a worker's bond into custody.
func (k Keeper) LockBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, amount sdk.Coin) error {
	if !amount.IsValid() || !amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "bond %s must be a positive coin", amount)
	}
	if has, err := k.Escrows.Has(ctx, taskID); err != nil {
		return err
	} else if !has {
		return errorsmod.Wrapf(types.ErrEscrowNotFound, "task %d", taskID)
	}
	key := collections.Join(taskID, worker)
	if has, err := k.WorkerBonds.Has(ctx, key); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrBondExists, "task %d worker %s", taskID, worker)
	}
	if err := k.bankKeeper.SendCoinsFromAccountToModule(ctx, worker, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return errorsmod.Wrapf(types.ErrInsufficientFunds, "locking bond %s for task %d: %s", amount, taskID, err)
	}
	if err := k.WorkerBonds.Set(ctx, key, types.Bond{TaskId: taskID, Owner: worker.String(), Amount: amount}); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondLocked{TaskId: taskID, Owner: worker.String(), Amount: amount.String()})
}

// PayWorker settles a verified replica: the worker gets its share minus the
// protocol fee, the fee goes to the fee collector (x/distribution pays it to
// validators and delegators), the bond returns, and `macs` of verified work
// count for reputation and this epoch's emissions.
//
// Self-dealt work (SelfDealt: the worker is the poster, was funded by it, or
// funded it) is paid and gets its bond back (it is the poster's own money) but
// earns no reputation and no epoch work: the event says self_dealt. Epoch work
// of a worker new to this epoch is not credited once max_emission_recipients
// workers have some (EventEpochWorkNotCredited).
func (k Keeper) PayWorker(ctx context.Context, taskID uint64, worker sdk.AccAddress, macs uint64) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	escrow, err := k.Escrows.Get(ctx, taskID)
	if err != nil {
		return errorsmod.Wrapf(types.ErrEscrowNotFound, "task %d", taskID)
	}
	poster, err := k.authKeeper.AddressCodec().StringToBytes(escrow.Poster)
	if err != nil {
		return err
	}
	bondKey := collections.Join(taskID, worker)
	bond, err := k.WorkerBonds.Get(ctx, bondKey)
	if err != nil {
		return errorsmod.Wrapf(types.ErrBondNotFound, "task %d worker %s", taskID, worker)
	}
	share := escrow.Share
	if escrow.Amount.IsLT(share) {
		return errorsmod.Wrapf(types.ErrAccounting, "task %d escrow %s cannot pay share %s", taskID, escrow.Amount, share)
	}
	selfDealt, err := k.SelfDealt(ctx, poster, worker)
	if err != nil {
		return err
	}
	fee := sdk.NewCoin(share.Denom, mulBps(share.Amount, params.ProtocolFeeBps))
	paid := share.Sub(fee)
	escrow.Amount = escrow.Amount.Sub(share)

	if paid.IsPositive() {
		if err := k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.ModuleName, worker, sdk.NewCoins(paid)); err != nil {
			return err
		}
	}
	if fee.IsPositive() {
		if err := k.bankKeeper.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.feeCollector, sdk.NewCoins(fee)); err != nil {
			return err
		}
	}
	if err := k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.ModuleName, worker, sdk.NewCoins(bond.Amount)); err != nil {
		return err
	}
	if err := k.Escrows.Set(ctx, taskID, escrow); err != nil {
		return err
	}
	if err := k.WorkerBonds.Remove(ctx, bondKey); err != nil {
		return err
	}
	events := sdk.UnwrapSDKContext(ctx).EventManager()
	if !selfDealt {
		err = k.updateReputation(ctx, worker, func(r *types.Reputation) {
			r.Verified = addSat(r.Verified, 1)
			r.VerifiedMacs = addSat(r.VerifiedMacs, macs)
		})
		if err != nil {
			return err
		}
		credited, err := k.addEpochWork(ctx, worker, macs, params.EmissionRecipientsCap())
		if err != nil {
			return err
		}
		if !credited {
			if err := events.EmitTypedEvent(&types.EventEpochWorkNotCredited{
				TaskId: taskID, Worker: worker.String(), Macs: macs,
				MaxEmissionRecipients: uint32(params.EmissionRecipientsCap()),
			}); err != nil {
				return err
			}
		}
	}
	return events.EmitTypedEvent(&types.EventRewardPaid{
		TaskId: taskID, Worker: worker.String(), Paid: paid.String(), ProtocolFee: fee.String(),
		BondReturned: bond.Amount.String(), Macs: macs, SelfDealt: selfDealt,
	})
}

// addEpochWork adds macs to worker's work this epoch, saturating at
// math.MaxUint64. A worker not yet in EpochWork is added only while fewer than
// maxWorkers are; it reports false when the work was not credited for that
// reason. Zero MACs credit nothing and take no slot.
func (k Keeper) addEpochWork(ctx context.Context, worker sdk.AccAddress, macs, maxWorkers uint64) (bool, error) {
	if macs == 0 {
		return true, nil
	}
	work, err := k.EpochWork.Get(ctx, worker)
	if err == nil {
		return true, k.EpochWork.Set(ctx, worker, addSat(work, macs))
	}
	if !errors.Is(err, collections.ErrNotFound) {
		return false, err
	}
	n, err := k.EpochWorkers.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return false, err
	}
	if n >= maxWorkers {
		return false, nil
	}
	if err := k.EpochWorkers.Set(ctx, n+1); err != nil {
		return false, err
	}
	return true, k.EpochWork.Set(ctx, worker, macs)
}

// SlashWorker takes a failed worker's bond: slash_requester_bps to the poster,
// slash_challenger_bps to the challenger (to the poster when there is none) and
// the rest, including every truncation remainder, is burned.
func (k Keeper) SlashWorker(ctx context.Context, taskID uint64, worker, challenger sdk.AccAddress, reason string) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	escrow, err := k.Escrows.Get(ctx, taskID)
	if err != nil {
		return errorsmod.Wrapf(types.ErrEscrowNotFound, "task %d", taskID)
	}
	poster, err := k.authKeeper.AddressCodec().StringToBytes(escrow.Poster)
	if err != nil {
		return err
	}
	bondKey := collections.Join(taskID, worker)
	bond, err := k.WorkerBonds.Get(ctx, bondKey)
	if err != nil {
		return errorsmod.Wrapf(types.ErrBondNotFound, "task %d worker %s", taskID, worker)
	}
	denom := bond.Amount.Denom
	toRequester := mulBps(bond.Amount.Amount, params.SlashRequesterBps)
	toChallenger := mulBps(bond.Amount.Amount, params.SlashChallengerBps)
	if challenger.Empty() {
		toRequester = toRequester.Add(toChallenger)
		toChallenger = sdkmath.ZeroInt()
	}
	burn := bond.Amount.Amount.Sub(toRequester).Sub(toChallenger)

	if err := k.send(ctx, poster, sdk.NewCoin(denom, toRequester)); err != nil {
		return err
	}
	if err := k.send(ctx, challenger, sdk.NewCoin(denom, toChallenger)); err != nil {
		return err
	}
	if burn.IsPositive() {
		if err := k.bankKeeper.BurnCoins(ctx, types.ModuleName, sdk.NewCoins(sdk.NewCoin(denom, burn))); err != nil {
			return err
		}
	}
	if err := k.WorkerBonds.Remove(ctx, bondKey); err != nil {
		return err
	}
	if err := k.updateReputation(ctx, worker, func(r *types.Reputation) { r.Failed++ }); err != nil {
		return err
	}
	metrics.Count(types.ModuleName, "slashes", "denom", denom)
	if bond.Amount.Amount.IsUint64() {
		metrics.Add(types.ModuleName, "slashed", bond.Amount.Amount.Uint64(), "denom", denom)
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondSlashed{
		TaskId: taskID, Owner: worker.String(),
		ToRequester:  sdk.NewCoin(denom, toRequester).String(),
		ToChallenger: sdk.NewCoin(denom, toChallenger).String(),
		Burned:       sdk.NewCoin(denom, burn).String(),
		Reason:       reason,
	})
}

// LockChallengeBond moves a fraud challenger's bond into custody.
func (k Keeper) LockChallengeBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, segment uint32, challenger sdk.AccAddress, amount sdk.Coin) error {
	if !amount.IsValid() || !amount.IsPositive() {
		return errorsmod.Wrapf(types.ErrInvalidAmount, "challenge bond %s must be a positive coin", amount)
	}
	key := collections.Join3(taskID, worker, segment)
	if has, err := k.ChallengeBonds.Has(ctx, key); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrBondExists, "segment %d of task %d worker %s is already challenged", segment, taskID, worker)
	}
	if err := k.bankKeeper.SendCoinsFromAccountToModule(ctx, challenger, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return errorsmod.Wrapf(types.ErrInsufficientFunds, "locking challenge bond %s: %s", amount, err)
	}
	if err := k.ChallengeBonds.Set(ctx, key, types.Bond{TaskId: taskID, Owner: challenger.String(), Against: worker.String(), Segment: segment, Amount: amount}); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondLocked{TaskId: taskID, Owner: challenger.String(), Amount: amount.String()})
}

// SettleChallenge ends a fraud challenge. If the worker was right, the
// challenger's bond goes to the worker. Otherwise the challenger gets its bond
// back (its reward comes from SlashWorker, which the caller runs next).
func (k Keeper) SettleChallenge(ctx context.Context, taskID uint64, worker sdk.AccAddress, segment uint32, workerRight bool) error {
	key := collections.Join3(taskID, worker, segment)
	bond, err := k.ChallengeBonds.Get(ctx, key)
	if err != nil {
		return errorsmod.Wrapf(types.ErrBondNotFound, "no challenge bond on segment %d of task %d worker %s", segment, taskID, worker)
	}
	challenger, err := k.authKeeper.AddressCodec().StringToBytes(bond.Owner)
	if err != nil {
		return err
	}
	to := sdk.AccAddress(challenger)
	if workerRight {
		to = worker
	}
	if err := k.send(ctx, to, bond.Amount); err != nil {
		return err
	}
	if err := k.ChallengeBonds.Remove(ctx, key); err != nil {
		return err
	}
	err = k.updateReputation(ctx, challenger, func(r *types.Reputation) {
		if workerRight {
			r.ChallengesLost++
		} else {
			r.ChallengesWon++
		}
	})
	if err != nil {
		return err
	}
	if !workerRight {
		return nil
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBondSlashed{
		TaskId: taskID, Owner: bond.Owner, ToWorker: bond.Amount.String(),
		Reason: "fraud challenge lost: the worker's segment recomputed exactly",
	})
}

// CloseEscrow returns whatever is left of a task's escrow (unpaid shares and
// the truncation remainder) to the poster and deletes it. Every worker bond of
// the task must have been settled first.
func (k Keeper) CloseEscrow(ctx context.Context, taskID uint64) (sdk.Coin, error) {
	escrow, err := k.Escrows.Get(ctx, taskID)
	if err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrEscrowNotFound, "task %d", taskID)
	}
	rng := collections.NewPrefixedPairRange[uint64, sdk.AccAddress](taskID)
	open, err := k.WorkerBonds.Iterate(ctx, rng)
	if err != nil {
		return sdk.Coin{}, err
	}
	hasOpen := open.Valid()
	open.Close()
	if hasOpen {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrAccounting, "task %d still has worker bonds in custody", taskID)
	}
	poster, err := k.authKeeper.AddressCodec().StringToBytes(escrow.Poster)
	if err != nil {
		return sdk.Coin{}, err
	}
	if err := k.send(ctx, poster, escrow.Amount); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.Escrows.Remove(ctx, taskID); err != nil {
		return sdk.Coin{}, err
	}
	return escrow.Amount, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventRefunded{
		TaskId: taskID, Poster: escrow.Poster, Amount: escrow.Amount.String(),
	})
}

// send pays out of custody; zero amounts and empty recipients are no-ops.
func (k Keeper) send(ctx context.Context, to sdk.AccAddress, amount sdk.Coin) error {
	if to.Empty() || amount.Amount.IsNil() || !amount.IsPositive() {
		return nil
	}
	return k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.ModuleName, to, sdk.NewCoins(amount))
}
