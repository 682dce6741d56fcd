package app

import (
	"context"
	"fmt"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"
	ibctransfertypes "github.com/cosmos/ibc-go/v11/modules/apps/transfer/types"
	ibcexported "github.com/cosmos/ibc-go/v11/modules/core/exported"
)

// UpgradeIBC is the software upgrade that brings IBC to a chain started
// before it: it adds the ibc and transfer stores and runs their InitGenesis
// (default params, ICS-20 send and receive enabled) through RunMigrations.
// A chain started at this version has both from genesis and never runs it.
const UpgradeIBC = "v2-ibc"

// registerUpgradeHandlers registers the in-place store migrations of each
// named software upgrade, and, when the node restarts at the height of a
// scheduled one, the stores it adds.
func (app *App) registerUpgradeHandlers() {
	app.UpgradeKeeper.SetUpgradeHandler(UpgradeIBC,
		func(ctx context.Context, _ upgradetypes.Plan, fromVM module.VersionMap) (module.VersionMap, error) {
			return app.ModuleManager.RunMigrations(ctx, app.configurator, fromVM)
		})

	plan, err := app.UpgradeKeeper.ReadUpgradeInfoFromDisk()
	if err != nil {
		panic(fmt.Errorf("reading upgrade-info.json: %w", err))
	}
	if plan.Name == UpgradeIBC && !app.UpgradeKeeper.IsSkipHeight(plan.Height) {
		added := &storetypes.StoreUpgrades{Added: []string{ibcexported.StoreKey, ibctransfertypes.StoreKey}}
		app.SetStoreLoader(upgradetypes.UpgradeStoreLoader(plan.Height, added))
	}
}
