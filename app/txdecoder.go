package app

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
)

// strictTxDecoder wraps the SDK's protobuf decoder with the checks that the
// SDK leaves to later stages, where they fail badly:
//   - an AuthInfo with no Fee at all makes the fee and gas getters dereference
//     nil (a recovered panic instead of an error);
//   - a fee payer that is not an address panics in FeePayer;
//   - messages whose signers cannot be read (a signer field that is not an
//     address, a string that is not UTF-8) are refused deep in the ante
//     handler with the unregistered "internal" code 1.
//
// Each is refused here with a clear message; baseapp reports every decoding
// failure as sdk ErrTxDecode (code 2), a registered code a client can act on.
// The signers are cached in the decoded transaction, so reading them now
// costs nothing later.
func strictTxDecoder(inner sdk.TxDecoder) sdk.TxDecoder {
	return func(txBytes []byte) (sdk.Tx, error) {
		decoded, err := inner(txBytes)
		if err != nil {
			if errorsmod.IsOf(err, sdkerrors.ErrTxDecode) {
				return nil, err
			}
			return nil, errorsmod.Wrap(sdkerrors.ErrTxDecode, err.Error())
		}
		if p, ok := decoded.(interface{ GetProtoTx() *tx.Tx }); ok {
			ptx := p.GetProtoTx()
			if ptx.AuthInfo == nil || ptx.AuthInfo.Fee == nil {
				return nil, errorsmod.Wrap(sdkerrors.ErrTxDecode, "auth_info has no fee (set a fee, even a zero one)")
			}
			if payer := ptx.AuthInfo.Fee.Payer; payer != "" {
				if _, err := sdk.AccAddressFromBech32(payer); err != nil {
					return nil, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "fee payer %q: %s", payer, err)
				}
			}
			if granter := ptx.AuthInfo.Fee.Granter; granter != "" {
				if _, err := sdk.AccAddressFromBech32(granter); err != nil {
					return nil, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "fee granter %q: %s", granter, err)
				}
			}
		}
		if sv, ok := decoded.(authsigning.SigVerifiableTx); ok {
			if _, err := sv.GetSigners(); err != nil {
				return nil, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "reading the signers of the messages: %s", err)
			}
		}
		return decoded, nil
	}
}
