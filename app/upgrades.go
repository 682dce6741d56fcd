package app

// registerUpgradeHandlers registers the in-place store migrations of each
// named software upgrade. There has been no upgrade yet: the first one adds
// its handler here (app.UpgradeKeeper.SetUpgradeHandler) together with any
// store additions (baseapp.SetStoreLoader with upgradetypes.UpgradeStoreLoader).
func (app *App) registerUpgradeHandlers() {}
