// Package integration runs Hinterland's cross-module flows on a real
// in-process network of validators (the SDK's testutil/network) driving the
// real app through signed transactions.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	sdkmath "cosmossdk.io/math"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	pruningtypes "github.com/cosmos/cosmos-sdk/store/v2/pruning/types"
	"github.com/cosmos/cosmos-sdk/testutil/network"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/hinterland-ai/hinterland/app"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// chain is a running in-process network plus a handle on every validator's app.
type chain struct {
	t    *testing.T
	net  *network.Network
	cdc  codec.Codec
	mu   sync.Mutex
	apps map[string]*app.App // by moniker
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// startChain starts n validators with 0.5 s blocks and genesis tweaks.
func startChain(t *testing.T, n int, tweak func(cdc codec.Codec, gs map[string][]byte)) *chain {
	t.Helper()
	tmp := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.NewAppOptionsWithFlagHome(t.TempDir()))
	c := &chain{t: t, cdc: tmp.AppCodec(), apps: map[string]*app.App{}}
	genesis := tmp.DefaultGenesis()
	raw := map[string][]byte{}
	for k, v := range genesis {
		raw[k] = v
	}
	if tweak != nil {
		tweak(tmp.AppCodec(), raw)
	}
	for k, v := range raw {
		genesis[k] = v
	}
	cfg := network.DefaultConfig(func() network.TestFixture {
		return network.TestFixture{
			AppConstructor: func(val network.ValidatorI) servertypes.Application {
				a := app.New(val.GetCtx().Logger, dbm.NewMemDB(), true, simtestutil.NewAppOptionsWithFlagHome(val.GetCtx().Config.RootDir),
					baseapp.SetPruning(pruningtypes.NewPruningOptionsFromString(val.GetAppConfig().Pruning)),
					baseapp.SetMinGasPrices(val.GetAppConfig().MinGasPrices),
					baseapp.SetChainID(app.DefaultChainID))
				c.mu.Lock()
				c.apps[val.GetCtx().Config.Moniker] = a
				c.mu.Unlock()
				return a
			},
			GenesisState: genesis,
			EncodingConfig: moduletestutil.TestEncodingConfig{
				InterfaceRegistry: tmp.InterfaceRegistry(), Codec: tmp.AppCodec(), TxConfig: tmp.TxConfig(), Amino: tmp.LegacyAmino(),
			},
		}
	})
	cfg.NumValidators = n
	cfg.ChainID = app.DefaultChainID
	cfg.BondDenom = app.BondDenom
	cfg.MinGasPrices = app.DefaultMinGasPrices
	cfg.TimeoutCommit = 500 * time.Millisecond
	cfg.RPCAddress = "tcp://" + freeAddr(t)
	cfg.APIAddress = "tcp://" + freeAddr(t)
	cfg.GRPCAddress = freeAddr(t)
	nw, err := network.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(nw.Cleanup)
	c.net = nw
	_, err = nw.WaitForHeight(2)
	require.NoError(t, err)
	return c
}

// query runs a gRPC query through one app's ABCI Query.
func (c *chain) query(a *app.App, path string, req, res proto.Message) error {
	bz, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	out, err := a.Query(context.Background(), &abci.RequestQuery{Path: path, Data: bz})
	if err != nil {
		return err
	}
	if out.Code != 0 {
		return fmt.Errorf("query %s: code %d: %s", path, out.Code, out.Log)
	}
	return proto.Unmarshal(out.Value, res)
}

// node0 is the first validator's app (the one serving RPC).
func (c *chain) node0() *app.App {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.apps[c.net.Validators[0].Moniker]
}

func (c *chain) balance(a *app.App, addr sdk.AccAddress) sdkmath.Int {
	var res banktypes.QueryBalanceResponse
	require.NoError(c.t, c.query(a, "/cosmos.bank.v1beta1.Query/Balance",
		&banktypes.QueryBalanceRequest{Address: addr.String(), Denom: app.BondDenom}, &res))
	return res.Balance.Amount
}

// send signs msgs with validator `from`'s key, broadcasts through node 0 and
// waits for inclusion; it returns the tx result.
func (c *chain) send(from int, msgs ...sdk.Msg) *sdk.TxResponse {
	c.t.Helper()
	val := c.net.Validators[from]
	ctx := c.net.Validators[0].ClientCtx.WithKeyring(val.ClientCtx.Keyring).
		WithFromAddress(val.Address).WithFromName(val.Moniker).WithBroadcastMode(flags.BroadcastSync).
		WithOutput(&bytes.Buffer{}).WithSkipConfirmation(true)
	txf := tx.Factory{}.WithTxConfig(ctx.TxConfig).WithAccountRetriever(authtypes.AccountRetriever{}).
		WithKeybase(val.ClientCtx.Keyring).WithChainID(ctx.ChainID).WithGas(20_000_000).
		WithFees("20000" + app.BondDenom).WithFromName(val.Moniker)
	txf, err := txf.Prepare(ctx)
	require.NoError(c.t, err)
	txb, err := txf.BuildUnsignedTx(msgs...)
	require.NoError(c.t, err)
	require.NoError(c.t, tx.Sign(ctx.CmdContext, txf, val.Moniker, txb, true))
	bz, err := ctx.TxConfig.TxEncoder()(txb.GetTx())
	require.NoError(c.t, err)
	res, err := ctx.BroadcastTx(bz)
	require.NoError(c.t, err)
	require.Zero(c.t, res.Code, "CheckTx: %s", res.RawLog)
	return c.waitTx(ctx, res.TxHash)
}

func (c *chain) waitTx(ctx client.Context, hash string) *sdk.TxResponse {
	c.t.Helper()
	for i := 0; i < 40; i++ {
		res, err := authtxQuery(ctx, hash)
		if err == nil {
			return res
		}
		time.Sleep(250 * time.Millisecond)
	}
	c.t.Fatalf("tx %s not included", hash)
	return nil
}

// TestNetworkProducesBlocksAndAgreesOnBankSend: three validators reach height
// 5 and a bank send is visible, with the same balance, on every node.
func TestNetworkProducesBlocksAndAgreesOnBankSend(t *testing.T) {
	c := startChain(t, 3, nil)
	_, err := c.net.WaitForHeight(5)
	require.NoError(t, err)

	to := sdk.AccAddress([]byte("integration-receiver"))
	res := c.send(1, banktypes.NewMsgSend(c.net.Validators[1].Address, to, sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 4242))))
	require.Zero(t, res.Code, res.RawLog)
	require.NoError(t, c.net.WaitForNextBlock())
	require.NoError(t, c.net.WaitForNextBlock())
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.apps, 3)
	for moniker, a := range c.apps {
		require.Equal(t, sdkmath.NewInt(4242), c.balance(a, to), "node %s", moniker)
	}
}

// fastParams shortens the windows so flows run in seconds.
func fastParams(cdc codec.Codec, gs map[string][]byte) {
	var tg taskstypes.GenesisState
	cdc.MustUnmarshalJSON(gs[taskstypes.ModuleName], &tg)
	tg.Params.MinClaimWindow = time.Second
	tg.Params.MinCommitWindow = time.Second
	gs[taskstypes.ModuleName] = cdc.MustMarshalJSON(&tg)
	var vg verificationtypes.GenesisState
	cdc.MustUnmarshalJSON(gs[verificationtypes.ModuleName], &vg)
	vg.Params.RevealWindow = 20 * time.Second
	vg.Params.FraudWindow = 3 * time.Second
	gs[verificationtypes.ModuleName] = cdc.MustMarshalJSON(&vg)
}
