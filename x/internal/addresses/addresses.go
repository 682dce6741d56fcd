// Package addresses decodes the address fields of messages for every
// Hinterland module alike: state keeps one canonical spelling of an address,
// and addresses are compared as bytes (bech32 also accepts the all-upper-case
// spelling of the same account).
package addresses

import (
	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Decode decodes a message's address field and returns it with its canonical
// (lower-case bech32) spelling; a bad address is errInvalid (the module's own
// registered error) naming the field.
func Decode(ac address.Codec, field, addr string, errInvalid *errorsmod.Error) (sdk.AccAddress, string, error) {
	bz, err := ac.StringToBytes(addr)
	if err != nil {
		return nil, "", errorsmod.Wrapf(errInvalid, "%s %q: %s", field, addr, err)
	}
	canonical, err := ac.BytesToString(bz)
	if err != nil {
		return nil, "", errorsmod.Wrapf(errInvalid, "%s %q: %s", field, addr, err)
	}
	return bz, canonical, nil
}
