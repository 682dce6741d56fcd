package keeper

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/internal/addresses"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// decodeAddress decodes a message's address field and returns it with its
// canonical (lower-case bech32) spelling, which is what state stores;
// addresses are compared as bytes, never as strings.
func (k Keeper) decodeAddress(field, addr string) (sdk.AccAddress, string, error) {
	return addresses.Decode(k.authKeeper.AddressCodec(), field, addr, types.ErrInvalidAddress)
}
