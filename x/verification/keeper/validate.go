package keeper

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// decodeAddress decodes a message's address field and returns it with its
// canonical (lower-case bech32) spelling, which is what state stores;
// addresses are compared as bytes, never as strings.
func (k Keeper) decodeAddress(field, addr string) (sdk.AccAddress, string, error) {
	ac := k.authKeeper.AddressCodec()
	bz, err := ac.StringToBytes(addr)
	if err != nil {
		return nil, "", errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	canonical, err := ac.BytesToString(bz)
	if err != nil {
		return nil, "", errorsmod.Wrapf(types.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return bz, canonical, nil
}
