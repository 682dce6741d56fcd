package sim

import (
	"cosmossdk.io/log/v2"
	dbm "github.com/cosmos/cosmos-db"

	"github.com/cosmos/cosmos-sdk/baseapp"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"

	"github.com/hinterland-ai/hinterland/app"
)

// SimApp is the Hinterland app as the simulator drives it (app.go's
// simulation manager), with a Checker attached to its ABCI hooks.
type SimApp struct {
	*app.App
	Checker *Checker
}

// GetBaseApp returns the BaseApp (simsx.SimulationApp).
func (a *SimApp) GetBaseApp() *baseapp.BaseApp { return a.App.BaseApp }

// NewSimApp builds the app on db with a fresh Checker attached; it has the
// signature simsx expects of an app factory.
func NewSimApp(logger log.Logger, db dbm.DB, loadLatest bool, appOpts servertypes.AppOptions, baseAppOptions ...func(*baseapp.BaseApp)) *SimApp {
	// Hooks must be set before the BaseApp is sealed by loading.
	a := app.New(logger, db, false, appOpts, baseAppOptions...)
	s := &SimApp{App: a}
	s.Checker = newChecker(s)
	if loadLatest {
		if err := a.LoadLatestVersion(); err != nil {
			panic(err)
		}
	}
	return s
}
