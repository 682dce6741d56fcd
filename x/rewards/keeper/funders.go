package keeper

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// FunderSendRestriction returns the x/bank send restriction that records, in
// Funders, the first account that ever sends coins to an account. app.go
// registers it with BankKeeper.AppendSendRestriction; x/bank runs it on every
// SendCoins (hence every SendCoinsFromModuleToAccount, FromAccountToModule and
// FromModuleToModule) and on every output of InputOutputCoins (MsgMultiSend),
// before the coins move. It never changes the recipient and never refuses a
// send (only a store error fails it).
//
// Nothing is recorded for self-sends or when the sender or the recipient is
// one of moduleAddrs (bech32 addresses of the module accounts, as
// app.BlockedAddresses lists them; this module's two accounts are always
// included): module accounts are not people, and a worker paid by a module
// must not thereby escape the record of the person who funds it next.
// Those checks are in memory; otherwise the restriction costs one store read
// (the recipient's funder) and, the first time only, one write, charged to the
// transaction's gas meter.
//
// The record is written before x/bank moves the coins: a send that then fails
// leaves it only if the caller keeps the state of a failed send, which a
// transaction (whose writes are all dropped when it fails) does not.
func (k Keeper) FunderSendRestriction(moduleAddrs map[string]bool) banktypes.SendRestrictionFn {
	modules := make(map[string]bool, len(moduleAddrs)+2)
	for _, bech32 := range slices.Sorted(maps.Keys(moduleAddrs)) { // sorted: no map-order dependence
		if !moduleAddrs[bech32] {
			continue
		}
		bz, err := k.authKeeper.AddressCodec().StringToBytes(bech32)
		if err != nil {
			panic(fmt.Errorf("funder send restriction: module address %q: %w", bech32, err))
		}
		modules[string(bz)] = true
	}
	for _, name := range []string{types.ModuleName, types.PoolAccount} {
		modules[string(k.authKeeper.GetModuleAddress(name))] = true
	}
	return func(ctx context.Context, from, to sdk.AccAddress, _ sdk.Coins) (sdk.AccAddress, error) {
		if len(from) == 0 || len(to) == 0 || from.Equals(to) || modules[string(from)] || modules[string(to)] {
			return to, nil
		}
		has, err := k.Funders.Has(ctx, to)
		if err != nil {
			return nil, err
		}
		if !has {
			if err := k.Funders.Set(ctx, to, from); err != nil {
				return nil, err
			}
		}
		return to, nil
	}
}

// Funder returns addr's first funder, or nil if none is recorded.
func (k Keeper) Funder(ctx context.Context, addr sdk.AccAddress) (sdk.AccAddress, error) {
	funder, err := k.Funders.Get(ctx, addr)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, nil
	}
	return funder, err
}

// SelfDealt reports whether work by `worker` on a task posted by `poster` is
// self-dealing: the same account, the poster funded the worker, or the worker
// funded the poster. Accounts linked through a third account (or an exchange)
// are not detected; see the README.
func (k Keeper) SelfDealt(ctx context.Context, poster, worker sdk.AccAddress) (bool, error) {
	if poster.Equals(worker) {
		return true, nil
	}
	funder, err := k.Funder(ctx, worker)
	if err != nil {
		return false, err
	}
	if funder != nil && funder.Equals(poster) {
		return true, nil
	}
	funder, err = k.Funder(ctx, poster)
	if err != nil {
		return false, err
	}
	return funder != nil && funder.Equals(worker), nil
}
