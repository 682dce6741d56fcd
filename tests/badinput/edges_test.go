package badinput

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"

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
// made the SDK's fee getters dereference nil: a recovered panic. The app's
// strict decoder refuses it with sdk ErrTxDecode, at CheckTx and in a block.
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
	require.Equal(t, sdkerrors.RootCodespace, res.Codespace, apptest.Describe(res))
	require.Equal(t, sdkerrors.ErrTxDecode.ABCICode(), res.Code, apptest.Describe(res))
	require.Contains(t, res.Log, "no fee")
	r := p.A.NextBlock(bz).TxResults[0]
	require.Equal(t, sdkerrors.RootCodespace, r.Codespace, apptest.Describe(r))
	require.Equal(t, sdkerrors.ErrTxDecode.ABCICode(), r.Code, apptest.Describe(r))
	p.B.NextBlock()
	require.Equal(t, p.A.AppHash(), p.B.AppHash())
}

// A governance proposal carrying a v1beta1 text proposal (MsgExecLegacyContent,
// what `tx gov submit-legacy-proposal` sends) ended in a recovered panic while
// x/gov had no legacy router; app.go now gives it one with the text-proposal
// handler, and the proposal is submitted.
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
	require.Equalf(t, uint32(0), res.Code, "submitting a legacy text proposal: %s", apptest.Describe(res))
	require.Contains(t, eventTypes(res.Events), "submit_proposal")
}

// The SDK reads a transaction's signers from its messages (their
// cosmos.AddressString signer fields, decoded with protobuf v2) in the ante
// handler, and answered a message whose signers cannot be read (the signer
// is not an address, a string field is not UTF-8) with its unregistered
// "internal" code 1, for Hinterland's messages and the SDK's alike. The app's
// strict decoder reads them first; baseapp answers every decoding failure
// with sdk ErrTxDecode, here naming the invalid address.
func TestUnreadableSigner(t *testing.T) {
	p := newPair(t)
	p.syncSequences()
	claim := &taskstypes.MsgClaimTask{Worker: p.addr(bystanderI), TaskId: p.Open}
	cases := map[string][]byte{
		"hinterland signer not an address": p.bad(bystanderI, apptest.TxOptions{},
			&taskstypes.MsgClaimTask{Worker: "hinter1 not an address", TaskId: p.Open}),
		"bank signer not an address": p.bad(bystanderI, apptest.TxOptions{},
			&banktypes.MsgSend{FromAddress: "cosmos1nope", ToAddress: p.addr(challengerI), Amount: sdk.NewCoins(sdk.NewInt64Coin("uhint", 1))}),
		"hinterland string field not UTF-8": p.withBody(bystanderI, apptest.TxOptions{}, rawMsg(claim, func([]byte) []byte {
			bad := withField(nil, 1, []byte(p.addr(bystanderI)+"\xff"))
			return append(bad, 0x10, byte(p.Open))
		})),
	}
	for name, bz := range cases {
		t.Run(name, func(t *testing.T) {
			res := p.A.CheckTx(bz)
			require.Equalf(t, sdkerrors.RootCodespace, res.Codespace, "CheckTx: %s", apptest.Describe(res))
			require.Equalf(t, sdkerrors.ErrTxDecode.ABCICode(), res.Code, "CheckTx: %s", apptest.Describe(res))
			require.Contains(t, res.Log, "reading the signers")
			require.Contains(t, res.Log, "invalid address")
		})
	}
}

func eventTypes(events []abci.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}
