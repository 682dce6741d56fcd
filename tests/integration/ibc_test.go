package integration

import (
	"encoding/json"
	"math/rand"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"
	transfertypes "github.com/cosmos/ibc-go/v11/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v11/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v11/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v11/modules/core/24-host"
	ibctesting "github.com/cosmos/ibc-go/v11/testing"

	"github.com/hinterland-ai/hinterland/app"
	"github.com/hinterland-ai/hinterland/testutil/apptest"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// ibcApp is a Hinterland app for ibc-go's in-process testing chains, with the
// short windows of fastParams.
func ibcApp() (ibctesting.TestingApp, map[string]json.RawMessage) {
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.EmptyAppOptions{})
	gs := map[string][]byte{}
	for k, v := range a.DefaultGenesis() {
		gs[k] = v
	}
	fastParams(a.AppCodec(), gs)
	out := make(map[string]json.RawMessage, len(gs))
	for k, v := range gs {
		out[k] = v
	}
	return a, out
}

// ibcNet is two Hinterland apps joined by an ICS-20 channel that ibc-go's
// testing coordinator opened with a real handshake (07-tendermint clients on
// both sides, connection, channel). home is where the coins come from;
// work is where they pay for training.
type ibcNet struct {
	t          *testing.T
	coord      *ibctesting.Coordinator
	work, home *ibctesting.TestChain
	path       *ibctesting.Path // EndpointA on work, EndpointB on home
}

func newIBCNet(t *testing.T) *ibcNet {
	ibctesting.DefaultTestingAppInit = ibcApp
	coord := ibctesting.NewCoordinator(t, 2)
	work, home := coord.GetChain(ibctesting.GetChainID(1)), coord.GetChain(ibctesting.GetChainID(2))
	path := ibctesting.NewTransferPath(work, home)
	path.Setup()
	return &ibcNet{t: t, coord: coord, work: work, home: home, path: path}
}

func hl(c *ibctesting.TestChain) *app.App { return c.App.(*app.App) }

func (n *ibcNet) balance(c *ibctesting.TestChain, addr sdk.AccAddress, denom string) sdkmath.Int {
	return hl(c).BankKeeper.GetBalance(c.GetContext(), addr, denom).Amount
}

func (n *ibcNet) custody(c *ibctesting.TestChain) {
	n.t.Helper()
	require.NoError(n.t, hl(c).RewardsKeeper.CheckCustody(c.GetContext()))
}

// transfer sends coin over the channel from one chain's sender and returns
// the packet (not yet relayed).
func (n *ibcNet) transfer(from *ibctesting.TestChain, sender ibctesting.SenderAccount, coin sdk.Coin, receiver string, timeout time.Duration) channeltypes.Packet {
	n.t.Helper()
	ep := n.path.EndpointA
	if from == n.home {
		ep = n.path.EndpointB
	}
	deadline := uint64(from.GetContext().BlockTime().Add(timeout).UnixNano())
	msg := transfertypes.NewMsgTransfer(ep.ChannelConfig.PortID, ep.ChannelID, coin,
		sender.SenderAccount.GetAddress().String(), receiver, clienttypes.ZeroHeight(), deadline, "")
	res, err := from.SendMsgsWithSender(sender, msg)
	require.NoError(n.t, err)
	packet, err := ibctesting.ParseV1PacketFromEvents(res.Events)
	require.NoError(n.t, err)
	return packet
}

// send delivers msgs on the work chain from sender and requires success.
func (n *ibcNet) send(sender ibctesting.SenderAccount, msgs ...sdk.Msg) {
	n.t.Helper()
	_, err := n.work.SendMsgsWithSender(sender, msgs...)
	require.NoError(n.t, err)
}

// An IBC voucher pays for verified work: home's uhint is sent over ICS-20,
// governance lists the voucher, a task is posted with a voucher reward and
// bond, trained, sampled, verified in consensus and paid in the voucher, and
// the worker sends its pay home. A transfer that times out is refunded, and a
// transfer aimed at the custody account is refused without breaking custody.
func TestIBCVoucherPaysForWork(t *testing.T) {
	n := newIBCNet(t)
	requester, workerAcc := n.work.SenderAccounts[0], n.work.SenderAccounts[1]
	requesterAddr, workerAddr := requester.SenderAccount.GetAddress(), workerAcc.SenderAccount.GetAddress()
	homeSender := n.home.SenderAccounts[0]
	homeAddr := homeSender.SenderAccount.GetAddress()
	voucher := transfertypes.NewDenom(app.BondDenom,
		transfertypes.NewHop(n.path.EndpointA.ChannelConfig.PortID, n.path.EndpointA.ChannelID)).IBCDenom()

	// 1. In: 5 HINT of home's uhint arrive on the work chain as a voucher.
	homeBefore := n.balance(n.home, homeAddr, app.BondDenom)
	packet := n.transfer(n.home, homeSender, sdk.NewInt64Coin(app.BondDenom, 5_000_000), requesterAddr.String(), time.Hour)
	require.NoError(t, n.path.EndpointA.UpdateClient())
	proof, proofHeight := n.home.QueryProof(host.PacketCommitmentKey(packet.GetSourcePort(), packet.GetSourceChannel(), packet.GetSequence()))
	late := channeltypes.NewMsgRecvPacket(packet, proof, proofHeight, n.work.SenderAccounts[2].SenderAccount.GetAddress().String())
	require.NoError(t, n.path.RelayPacket(packet))
	require.Equal(t, int64(5_000_000), n.balance(n.work, requesterAddr, voucher).Int64())
	require.Equal(t, int64(5_000_000), homeBefore.Sub(n.balance(n.home, homeAddr, app.BondDenom)).Int64(), "escrowed at home")
	// A second relayer that delivers the same packet is refused at CheckTx
	// (ibc-go's RedundantRelayDecorator in the ante handler): a no-op
	// never takes block space or the relayer's fees.
	late2 := n.work.SenderAccounts[2]
	tx, err := simtestutil.GenSignedMockTx(rand.New(rand.NewSource(1)), n.work.TxConfig, []sdk.Msg{late}, sdk.Coins{}, 2_000_000,
		n.work.ChainID, []uint64{late2.SenderAccount.GetAccountNumber()}, []uint64{late2.SenderAccount.GetSequence()}, late2.SenderPrivKey)
	require.NoError(t, err)
	bz, err := n.work.TxConfig.TxEncoder()(tx)
	require.NoError(t, err)
	check, err := n.work.App.CheckTx(&abci.RequestCheckTx{Tx: bz, Type: abci.CheckTxType_New})
	require.NoError(t, err)
	require.Equal(t, channeltypes.ErrRedundantTx.ABCICode(), check.Code, check.Log)
	require.Equal(t, channeltypes.ErrRedundantTx.Codespace(), check.Codespace)

	n.send(requester, &banktypes.MsgSend{FromAddress: requesterAddr.String(), ToAddress: workerAddr.String(),
		Amount: sdk.NewCoins(sdk.NewInt64Coin(voucher, 1_000_000))})

	// 2. Not listed: a task in the voucher is refused.
	post := fixtures.PostMsg(requesterAddr, data)
	post.Reward = sdk.NewInt64Coin(voucher, 2_000_000)
	post.Bond = sdk.NewInt64Coin(voucher, 200_000)
	_, err = n.work.SendMsgsWithSender(requester, post)
	require.ErrorContains(t, err, "is not accepted")

	// 3. Governance lists it (MsgUpdateParams from the gov account).
	ctx := n.work.GetContext()
	params, err := hl(n.work).TasksKeeper.GetParams(ctx)
	require.NoError(t, err)
	params.AcceptedDenoms = []taskstypes.AcceptedDenom{{
		Denom: voucher, MinReward: sdkmath.NewInt(1_000), MinBond: sdkmath.NewInt(1_000), AbandonFee: sdkmath.NewInt(1_000),
		ChallengeGasPrice: sdkmath.LegacyMustNewDecFromStr("0.001"), MinChallengeBond: sdkmath.NewInt(10_000),
	}}
	update := &taskstypes.MsgUpdateParams{Authority: authtypes.NewModuleAddress("gov").String(), Params: params}
	handler := hl(n.work).MsgServiceRouter().Handler(update)
	_, err = handler(ctx, update)
	require.NoError(t, err)
	n.coord.CommitBlock(n.work)

	// 4. Post, claim, train, seal, open: reward and bond in custody, in the voucher.
	n.send(requester, post)
	var id uint64
	require.NoError(t, hl(n.work).TasksKeeper.Tasks.Walk(n.work.GetContext(), nil, func(k uint64, _ taskstypes.Task) (bool, error) {
		id = k
		return false, nil
	}))
	task, err := hl(n.work).TasksKeeper.GetTask(n.work.GetContext(), id)
	require.NoError(t, err)
	require.Equal(t, voucher, task.Reward.Denom)
	n.send(workerAcc, &taskstypes.MsgClaimTask{Worker: workerAddr.String(), TaskId: id})
	n.custody(n.work)
	held, err := hl(n.work).RewardsKeeper.Held(n.work.GetContext())
	require.NoError(t, err)
	require.Equal(t, int64(2_200_000), held.AmountOf(voucher).Int64(), "reward escrow + worker bond")

	run, err := fixtures.Train(task, data)
	require.NoError(t, err)
	n.send(workerAcc, run.Seal(workerAddr))
	n.send(workerAcc, run.Open(workerAddr))
	transcript := func() verificationtypes.Transcript {
		tr, err := hl(n.work).VerificationKeeper.GetTranscript(n.work.GetContext(), id, workerAddr)
		require.NoError(t, err)
		return tr
	}
	for i := 0; i < 10 && transcript().Status != verificationtypes.TRANSCRIPT_STATUS_CHALLENGED; i++ {
		n.coord.CommitBlock(n.work)
	}
	tr := transcript()
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_CHALLENGED, tr.Status)
	require.Len(t, tr.Sampled, 2)

	// 5. Reveal the sampled segments; the chain recomputes them and passes
	// the transcript; after the fraud window the worker is paid in the voucher.
	workerBefore := n.balance(n.work, workerAddr, voucher)
	for _, seg := range tr.Sampled {
		msg, err := run.Reveal(workerAddr, seg)
		require.NoError(t, err)
		n.send(workerAcc, msg)
	}
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_PASSED, transcript().Status)
	for i := 0; i < 10 && transcript().Status != verificationtypes.TRANSCRIPT_STATUS_FINAL; i++ {
		n.coord.CommitBlock(n.work)
	}
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_FINAL, transcript().Status)
	task, err = hl(n.work).TasksKeeper.GetTask(n.work.GetContext(), id)
	require.NoError(t, err)
	require.Equal(t, taskstypes.TASK_STATUS_COMPLETED, task.Status)
	rp, err := hl(n.work).RewardsKeeper.Params.Get(n.work.GetContext())
	require.NoError(t, err)
	share := sdkmath.NewInt(2_000_000)
	fee := share.MulRaw(int64(rp.ProtocolFeeBps)).QuoRaw(rewardstypes.BasisPoints)
	paid := n.balance(n.work, workerAddr, voucher).Sub(workerBefore)
	require.Equal(t, share.Sub(fee).AddRaw(200_000).String(), paid.String(), "reward less the protocol fee, and the bond back")
	n.custody(n.work)
	held, err = hl(n.work).RewardsKeeper.Held(n.work.GetContext())
	require.NoError(t, err)
	require.True(t, held.AmountOf(voucher).IsZero(), "nothing left in custody: %s", held)

	// 6. Out: the worker sends its pay home, where it is unescrowed as uhint.
	homeWorker := n.home.SenderAccounts[1].SenderAccount.GetAddress()
	homeWorkerBefore := n.balance(n.home, homeWorker, app.BondDenom)
	out := sdk.NewCoin(voucher, share.Sub(fee))
	packet = n.transfer(n.work, workerAcc, out, homeWorker.String(), time.Hour)
	require.NoError(t, n.path.RelayPacket(packet))
	require.Equal(t, out.Amount.String(), n.balance(n.home, homeWorker, app.BondDenom).Sub(homeWorkerBefore).String())

	// 7. Timeout: a transfer home that is never relayed in time is refunded.
	before := n.balance(n.work, requesterAddr, voucher)
	packet = n.transfer(n.work, requester, sdk.NewInt64Coin(voucher, 123_456), homeAddr.String(), 10*time.Second)
	require.Equal(t, int64(123_456), before.Sub(n.balance(n.work, requesterAddr, voucher)).Int64(), "burnt on send")
	n.coord.IncrementTimeBy(time.Minute)
	n.coord.CommitBlock(n.home)
	require.NoError(t, n.path.EndpointA.UpdateClient())
	require.NoError(t, n.path.EndpointA.TimeoutPacket(packet))
	require.Equal(t, before.String(), n.balance(n.work, requesterAddr, voucher).String(), "refunded on timeout")

	// 8. Attack: coins sent over IBC straight to the custody account would
	// break its books; ICS-20 refuses blocked receivers with an error
	// acknowledgement and the sender is refunded at home.
	custodyAddr := authtypes.NewModuleAddress(rewardstypes.ModuleName)
	homeBefore = n.balance(n.home, homeAddr, app.BondDenom)
	packet = n.transfer(n.home, homeSender, sdk.NewInt64Coin(app.BondDenom, 777), custodyAddr.String(), time.Hour)
	res, ack, err := n.path.RelayPacketWithResults(packet)
	require.NoError(t, err)
	require.NotNil(t, res)
	require.Contains(t, string(ack), "error")
	require.True(t, n.balance(n.work, custodyAddr, voucher).IsZero())
	n.custody(n.work)
	require.Equal(t, homeBefore.String(), n.balance(n.home, homeAddr, app.BondDenom).String(), "refunded by the error ack")
}

// The v2-ibc upgrade handler brings IBC to a chain that ran without it: at
// the plan's height the upgrade module runs it, and RunMigrations runs the
// InitGenesis of the modules the stored version map lacks (ibc, transfer),
// whose stale state it replaces with the defaults.
func TestIBCUpgradeHandler(t *testing.T) {
	c := apptest.New(t, apptest.Options{})
	a := c.App
	ctx := c.Ctx()
	vm, err := a.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.Contains(t, vm, "transfer")
	// The version map as a chain that never ran IBC stores it.
	store := ctx.KVStore(a.GetKey(upgradetypes.StoreKey))
	for _, name := range []string{"ibc", "transfer"} {
		store.Delete(append([]byte{upgradetypes.VersionMapByte}, name...))
	}
	vm, err = a.UpgradeKeeper.GetModuleVersionMap(ctx)
	require.NoError(t, err)
	require.NotContains(t, vm, "transfer")
	a.TransferKeeper.SetParams(ctx, transfertypes.Params{SendEnabled: false, ReceiveEnabled: false})
	// (A plan the running binary already handles must be at the next
	// height: the upgrade module halts a binary that is ahead of its plan.)
	require.NoError(t, a.UpgradeKeeper.ScheduleUpgrade(ctx, upgradetypes.Plan{Name: app.UpgradeIBC, Height: c.Height() + 1}))
	require.False(t, a.TransferKeeper.GetParams(c.Ctx()).SendEnabled, "not yet upgraded")
	c.NextBlock()

	done, err := a.UpgradeKeeper.GetDoneHeight(c.Ctx(), app.UpgradeIBC)
	require.NoError(t, err)
	require.Equal(t, c.Height(), done)
	vm, err = a.UpgradeKeeper.GetModuleVersionMap(c.Ctx())
	require.NoError(t, err)
	require.Contains(t, vm, "ibc")
	require.Contains(t, vm, "transfer")
	p := a.TransferKeeper.GetParams(c.Ctx())
	require.True(t, p.SendEnabled && p.ReceiveEnabled, "InitGenesis ran: %v", p)
}
