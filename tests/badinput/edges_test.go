package badinput

import (
	"testing"

	"github.com/stretchr/testify/require"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	govv1beta1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1beta1"

	"github.com/hinterland-ai/hinterland/testutil/apptest"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// Fields numbered 1024 and up are non-critical (ADR 020): a node that does
// not know one in a TxBody may ignore it, and the SDK does. The transaction
// is accepted and does exactly what it would without the field.
func TestNonCriticalUnknownFieldInBodyIsIgnored(t *testing.T) {
	p := newPair(t)
	p.syncSequences()
	msg := &banktypes.MsgSend{FromAddress: p.addr(bystanderI), ToAddress: p.addr(challengerI), Amount: sdk.NewCoins(sdk.NewInt64Coin("uhint", 5))}
	parts := p.A.Build(p.acc(bystanderI), []sdk.Msg{msg}, apptest.TxOptions{})
	parts.BodyBytes = withField(parts.BodyBytes, 1025, []byte("ignored"))
	bz := p.resign(bystanderI, parts)
	require.Zero(t, p.A.CheckTx(bz).Code)
	p.A.Deliver(bz)
	p.B.Deliver(p.B.Tx(p.B.Accounts[bystanderI], apptest.TxOptions{}, msg))
	require.Equal(t, p.A.AppHash(), p.B.AppHash(), "the unknown non-critical field changed what the transaction did")
}

// The same holds inside a message (the SDK applies ADR 020 to the whole
// body): a non-critical field the Hinterland message does not define is
// dropped before the handler sees the message, and the claim does exactly
// what it does without it.
func TestNonCriticalUnknownFieldInMessageIsIgnored(t *testing.T) {
	p := newPair(t)
	p.syncSequences()
	m := &taskstypes.MsgClaimTask{Worker: p.addr(worker2I), TaskId: p.Open}
	bz := p.withBody(worker2I, apptest.TxOptions{}, rawMsg(m, func(b []byte) []byte { return withField(b, 1025, []byte("x")) }))
	require.Zero(t, p.A.CheckTx(bz).Code)
	p.A.Deliver(bz)
	p.B.Deliver(p.B.Tx(p.B.Accounts[worker2I], apptest.TxOptions{}, m))
	require.Equal(t, p.A.AppHash(), p.B.AppHash(), "the unknown non-critical field changed what the claim did")
}

// A transaction whose AuthInfo has no fee at all (as opposed to a zero fee)
// must be refused with a registered error, not a recovered panic.
func TestAuthInfoWithoutFee(t *testing.T) {
	p := newPair(t)
	p.syncSequences()
	msg := &banktypes.MsgSend{FromAddress: p.addr(bystanderI), ToAddress: p.addr(challengerI), Amount: sdk.NewCoins(sdk.NewInt64Coin("uhint", 5))}
	parts := p.A.Build(p.acc(bystanderI), []sdk.Msg{msg}, apptest.TxOptions{})
	parts.AuthInfo.Fee = nil
	var err error
	parts.AuthBytes, err = parts.AuthInfo.Marshal()
	require.NoError(t, err)
	bz := p.resign(bystanderI, parts)
	res := p.A.CheckTx(bz)
	require.NotEqual(t, ok, codeOf(res))
	require.NotEqual(t, errorsmod.UndefinedCodespace, res.Codespace, apptest.Describe(res))
	r := p.A.NextBlock(bz).TxResults[0]
	require.NotEqual(t, ok, codeOf(r))
	require.NotEqual(t, errorsmod.UndefinedCodespace, r.Codespace, apptest.Describe(r))
	t.Logf("refused with %s", codeOf(r))
	p.B.NextBlock()
	require.Equal(t, p.A.AppHash(), p.B.AppHash())
}

// A governance proposal carrying a v1beta1 text proposal (MsgExecLegacyContent,
// what `tx gov submit-legacy-proposal` sends) must be accepted or refused with
// a registered x/gov error. app.go gives x/gov no legacy router, and the gov
// handler dereferences it: the transaction ends in a recovered panic
// (sdk ErrPanic) instead.
func TestLegacyTextProposal(t *testing.T) {
	c := apptest.New(t, apptest.Options{})
	proposer := c.Accounts[1]
	govAddr := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	content, err := codectypes.NewAnyWithValue(&govv1beta1.TextProposal{Title: "a text proposal", Description: "no messages"})
	require.NoError(t, err)
	exec := &govv1.MsgExecLegacyContent{Content: content, Authority: govAddr}
	submit, err := govv1.NewMsgSubmitProposal([]sdk.Msg{exec}, sdk.NewCoins(sdk.NewCoin("uhint", sdkmath.NewInt(10_000_000))),
		proposer.Addr.String(), "", "a text proposal", "no messages", false)
	require.NoError(t, err)
	res := c.NextBlock(c.Tx(proposer, apptest.TxOptions{}, submit)).TxResults[0]
	require.NotEqualf(t, sdkerrors.ErrPanic.ABCICode(), res.Code, "submitting a legacy text proposal: %s", apptest.Describe(res))
	if res.Code != 0 {
		require.Equal(t, govtypes.ModuleName, res.Codespace, apptest.Describe(res))
	}
}

// A signer field that is not a valid address (any Msg's: the SDK reads the
// signers from the messages' cosmos.AddressString fields before the ante
// handler) must be refused with a registered error (sdk ErrInvalidAddress).
// It is refused with the SDK's unregistered "internal" code 1 and the raw
// bech32 error instead, for Hinterland's messages and the SDK's alike.
func TestInvalidSignerAddress(t *testing.T) {
	p := newPair(t)
	p.syncSequences()
	for _, msg := range []sdk.Msg{
		&taskstypes.MsgClaimTask{Worker: "hinter1 not an address", TaskId: p.Open},
		&banktypes.MsgSend{FromAddress: "cosmos1nope", ToAddress: p.addr(challengerI), Amount: sdk.NewCoins(sdk.NewInt64Coin("uhint", 1))},
	} {
		t.Run(sdk.MsgTypeURL(msg), func(t *testing.T) {
			bz := p.bad(bystanderI, apptest.TxOptions{}, msg)
			res := p.A.CheckTx(bz)
			require.NotEqual(t, ok, codeOf(res))
			require.NotEqualf(t, errorsmod.UndefinedCodespace, res.Codespace, "CheckTx: %s", apptest.Describe(res))
		})
	}
}
