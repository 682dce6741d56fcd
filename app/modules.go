package app

import (
	"slices"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	epochstypes "github.com/cosmos/cosmos-sdk/x/epochs/types"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	federatedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"

	ibctransfertypes "github.com/cosmos/ibc-go/v11/modules/apps/transfer/types"
	ibcexported "github.com/cosmos/ibc-go/v11/modules/core/exported"
)

// The app's stores and the order in which the module manager calls the
// modules, in one place (app.go wires the keepers).

// storeKeyNames are every KV store the app mounts.
var storeKeyNames = []string{
	authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, slashingtypes.StoreKey,
	distrtypes.StoreKey, minttypes.StoreKey, govtypes.StoreKey, consensustypes.StoreKey,
	upgradetypes.StoreKey, evidencetypes.StoreKey, feegrant.StoreKey, epochstypes.StoreKey,
	taskstypes.StoreKey, verificationtypes.StoreKey, rewardstypes.StoreKey, annotationtypes.StoreKey,
	federatedtypes.StoreKey, ibcexported.StoreKey, ibctransfertypes.StoreKey,
}

var orderPreBlockers = []string{upgradetypes.ModuleName, authtypes.ModuleName}

var orderBeginBlockers = []string{
	minttypes.ModuleName, distrtypes.ModuleName, slashingtypes.ModuleName, evidencetypes.ModuleName,
	stakingtypes.ModuleName, ibcexported.ModuleName, epochstypes.ModuleName, verificationtypes.ModuleName,
	genutiltypes.ModuleName,
}

// orderEndBlockers: x/bank first (v0.54); x/verification before x/tasks so
// that a reveal deadline fails a worker before its task's claim deadline is
// looked at.
var orderEndBlockers = []string{
	banktypes.ModuleName, govtypes.ModuleName, stakingtypes.ModuleName, feegrant.ModuleName,
	verificationtypes.ModuleName, taskstypes.ModuleName, annotationtypes.ModuleName, federatedtypes.ModuleName,
	rewardstypes.ModuleName, genutiltypes.ModuleName,
}

// orderGenesis (init and export): genutil after staking (validators) and auth
// (params); rewards after bank (it checks its custody balance).
var orderGenesis = []string{
	authtypes.ModuleName, banktypes.ModuleName, distrtypes.ModuleName, stakingtypes.ModuleName,
	slashingtypes.ModuleName, govtypes.ModuleName, minttypes.ModuleName, genutiltypes.ModuleName,
	evidencetypes.ModuleName, feegrant.ModuleName, upgradetypes.ModuleName, consensustypes.ModuleName,
	epochstypes.ModuleName, rewardstypes.ModuleName, taskstypes.ModuleName, verificationtypes.ModuleName,
	annotationtypes.ModuleName, federatedtypes.ModuleName, ibcexported.ModuleName, ibctransfertypes.ModuleName,
}

// StoreKeyNames lists the app's KV stores (tests compare them store by store).
func (app *App) StoreKeyNames() []string { return slices.Clone(storeKeyNames) }
