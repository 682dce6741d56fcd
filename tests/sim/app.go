package sim

import (
	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/baseapp"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/hinterland-ai/hinterland/app"
	"github.com/hinterland-ai/hinterland/x/verification"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// SimApp is the Hinterland app as the simulator drives it: its simulation
// manager gives x/verification's factories the x/tasks keeper they read
// tasks from, and a Checker is attached to its ABCI hooks.
type SimApp struct {
	*app.App
	sm      *module.SimulationManager
	Checker *Checker
}

// GetBaseApp returns the BaseApp (simsx.SimulationApp).
func (a *SimApp) GetBaseApp() *baseapp.BaseApp { return a.App.BaseApp }

// SimulationManager returns the simulation manager of every module.
func (a *SimApp) SimulationManager() *module.SimulationManager { return a.sm }

// baseGenesisAccounts makes every simulated account a plain account. (The
// SDK's RandomGenesisAccounts also makes vesting accounts, which this app
// does not register: it has no x/auth/vesting.)
func baseGenesisAccounts(simState *module.SimulationState) authtypes.GenesisAccounts {
	accs := make(authtypes.GenesisAccounts, len(simState.Accounts))
	for i, acc := range simState.Accounts {
		accs[i] = authtypes.NewBaseAccountWithAddress(acc.Address)
	}
	return accs
}

// NewSimApp builds the app on db with a fresh Checker attached; it has the
// signature simsx expects of an app factory.
func NewSimApp(logger log.Logger, db dbm.DB, loadLatest bool, appOpts servertypes.AppOptions, baseAppOptions ...func(*baseapp.BaseApp)) *SimApp {
	// Hooks must be set before the BaseApp is sealed by loading.
	a := app.New(logger, db, false, appOpts, baseAppOptions...)
	s := &SimApp{App: a}
	s.sm = module.NewSimulationManagerFromAppModules(a.ModuleManager.Modules, map[string]module.AppModuleSimulation{
		authtypes.ModuleName:         auth.NewAppModule(a.AppCodec(), a.AccountKeeper, baseGenesisAccounts, nil),
		verificationtypes.ModuleName: verification.NewAppModule(a.VerificationKeeper).WithTasks(a.TasksKeeper),
	})
	s.sm.RegisterStoreDecoders()
	s.Checker = newChecker(s)
	if loadLatest {
		if err := a.LoadLatestVersion(); err != nil {
			panic(err)
		}
	}
	return s
}
