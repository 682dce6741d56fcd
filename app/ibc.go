package app

import (
	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/runtime"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/ibc-go/v11/modules/apps/transfer"
	ibctransferkeeper "github.com/cosmos/ibc-go/v11/modules/apps/transfer/keeper"
	ibctransfertypes "github.com/cosmos/ibc-go/v11/modules/apps/transfer/types"
	transferv2 "github.com/cosmos/ibc-go/v11/modules/apps/transfer/v2"
	ibc "github.com/cosmos/ibc-go/v11/modules/core"
	porttypes "github.com/cosmos/ibc-go/v11/modules/core/05-port/types"
	ibcante "github.com/cosmos/ibc-go/v11/modules/core/ante"
	ibcapi "github.com/cosmos/ibc-go/v11/modules/core/api"
	ibcexported "github.com/cosmos/ibc-go/v11/modules/core/exported"
	ibckeeper "github.com/cosmos/ibc-go/v11/modules/core/keeper"
	solomachine "github.com/cosmos/ibc-go/v11/modules/light-clients/06-solomachine"
	ibctm "github.com/cosmos/ibc-go/v11/modules/light-clients/07-tendermint"
)

// IBC: core IBC (clients, connections, channels; IBC v1 and v2 routing),
// ICS-20 fungible token transfer, and the 07-tendermint and 06-solomachine
// light clients. Tokens that arrive over ICS-20 are ordinary bank coins
// (ibc/<hash of path and base denom>); x/tasks accepts the ones governance
// lists in its accepted_denoms as rewards and bonds (docs/IBC.md).

// wireIBC builds the IBC keepers and routers and returns the app modules the
// module manager runs. It needs the upgrade keeper (client upgrades) and the
// account and bank keepers (the transfer module's escrow and voucher mint).
func (app *App) wireIBC(govAuthority string) []module.AppModule {
	appCodec := app.appCodec
	app.IBCKeeper = ibckeeper.NewKeeper(appCodec, runtime.NewKVStoreService(app.keys[ibcexported.StoreKey]),
		app.UpgradeKeeper, govAuthority)

	app.TransferKeeper = ibctransferkeeper.NewKeeper(appCodec, app.AccountKeeper.AddressCodec(),
		runtime.NewKVStoreService(app.keys[ibctransfertypes.StoreKey]), app.IBCKeeper.ChannelKeeper,
		app.MsgServiceRouter(), app.AccountKeeper, app.BankKeeper, govAuthority)

	router := porttypes.NewRouter()
	router.AddRoute(ibctransfertypes.ModuleName, transfer.NewIBCModule(app.TransferKeeper))
	app.IBCKeeper.SetRouter(router)
	routerV2 := ibcapi.NewRouter()
	routerV2.AddRoute(ibctransfertypes.PortID, transferv2.NewIBCModule(app.TransferKeeper))
	app.IBCKeeper.SetRouterV2(routerV2)

	clients := app.IBCKeeper.ClientKeeper
	tm := ibctm.NewLightClientModule(appCodec, clients.GetStoreProvider())
	clients.AddRoute(ibctm.ModuleName, &tm)
	sm := solomachine.NewLightClientModule(appCodec, clients.GetStoreProvider())
	clients.AddRoute(solomachine.ModuleName, &sm)

	return []module.AppModule{
		ibc.NewAppModule(app.IBCKeeper),
		transfer.NewAppModule(app.TransferKeeper),
		ibctm.NewAppModule(tm),
		solomachine.NewAppModule(sm),
	}
}

// redundantRelayCheck runs ibc-go's RedundantRelayDecorator after the SDK's
// ante handler (fees and signatures checked, sequence incremented): in
// CheckTx it refuses a relayer's transaction whose packet messages were all
// relayed already, so competing relayers do not fill blocks, and pay fees,
// with no-ops.
func redundantRelayCheck(next sdk.AnteHandler, k *ibckeeper.Keeper) sdk.AnteHandler {
	rrd := ibcante.NewRedundantRelayDecorator(k)
	done := func(ctx sdk.Context, _ sdk.Tx, _ bool) (sdk.Context, error) { return ctx, nil }
	return func(ctx sdk.Context, tx sdk.Tx, simulate bool) (sdk.Context, error) {
		newCtx, err := next(ctx, tx, simulate)
		if err != nil {
			return newCtx, err
		}
		return rrd.AnteHandle(newCtx, tx, simulate, done)
	}
}

// GetBaseApp, GetIBCKeeper and GetTxConfig let ibc-go's in-process testing
// chains (ibctesting.TestingApp) drive the app: tests/integration/ibc_test.go
// relays real packets between two Hinterland apps.
func (app *App) GetBaseApp() *baseapp.BaseApp { return app.BaseApp }

// GetIBCKeeper returns the core IBC keeper.
func (app *App) GetIBCKeeper() *ibckeeper.Keeper { return app.IBCKeeper }

// GetTxConfig returns the tx config.
func (app *App) GetTxConfig() client.TxConfig { return app.txConfig }
