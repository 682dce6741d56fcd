package badinput

import (
	"testing"

	errorsmod "cosmossdk.io/errors"
	abci "github.com/cometbft/cometbft/abci/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/hinterland-ai/hinterland/testutil/apptest"
)

// FuzzCheckTx feeds bytes to CheckTx of a running app (decoding, the ante
// handler: what every node runs on every transaction it hears of): the
// answer must be acceptance or a registered error, never a recovered panic
// and never the SDK's unregistered "internal" code. It found the panic on an
// AuthInfo without a fee (TestAuthInfoWithoutFee) and the internal error on a
// message whose signers cannot be read (TestUnreadableSigner), both now
// refused by the app's strict transaction decoder (app/txdecoder.go).
func FuzzCheckTx(f *testing.F) {
	p := newPair(f)
	c := p.A
	for i, msg := range p.messages() {
		f.Add(c.Build(c.Accounts[i%len(c.Accounts)], []sdk.Msg{msg}, apptest.TxOptions{}).Encode())
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, bz []byte) {
		res, err := c.App.CheckTx(&abci.RequestCheckTx{Tx: bz, Type: abci.CheckTxType_New})
		if err != nil {
			t.Fatalf("CheckTx failed: %v", err)
		}
		if res.Code == 0 {
			return
		}
		if res.Codespace == errorsmod.UndefinedCodespace || (res.Codespace == sdkerrors.RootCodespace && res.Code == 1) {
			t.Fatalf("CheckTx answered an unregistered error: %s", apptest.Describe(res))
		}
	})
}
