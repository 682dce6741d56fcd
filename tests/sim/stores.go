package sim

import (
	"testing"

	"github.com/stretchr/testify/require"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	epochstypes "github.com/cosmos/cosmos-sdk/x/epochs/types"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// skipPrefixes are the store entries an import does not reproduce by design
// of the SDK modules (the exceptions the SDK's own simapp makes: staking's
// queues, indexes and block-scratch entries, feegrant's expiry queue,
// slashing's missed-block bitmaps). Hinterland's stores have none.
var skipPrefixes = map[string][][]byte{
	stakingtypes.StoreKey: {
		stakingtypes.UnbondingQueueKey, stakingtypes.RedelegationQueueKey, stakingtypes.ValidatorQueueKey,
		stakingtypes.HistoricalInfoKey, stakingtypes.UnbondingIDKey, stakingtypes.UnbondingIndexKey,
		stakingtypes.UnbondingTypeKey, stakingtypes.ValidatorUpdatesKey,
	},
	feegrant.StoreKey:      {feegrant.FeeAllowanceQueueKeyPrefix},
	slashingtypes.StoreKey: {slashingtypes.ValidatorMissedBlockBitmapKeyPrefix},
}

// storeNames are every KV store of the app.
var storeNames = []string{
	authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, slashingtypes.StoreKey,
	distrtypes.StoreKey, minttypes.StoreKey, govtypes.StoreKey, consensustypes.StoreKey,
	upgradetypes.StoreKey, evidencetypes.StoreKey, feegrant.StoreKey, epochstypes.StoreKey,
	taskstypes.StoreKey, verificationtypes.StoreKey, rewardstypes.StoreKey,
}

// CompareStores requires every store of a (at ctxA) and b (at ctxB) to hold
// the same entries, apart from skipPrefixes; it returns how many entries of
// each store were compared. A difference is reported decoded.
func CompareStores(tb testing.TB, a, b *SimApp, ctxA, ctxB sdk.Context) map[string]int {
	tb.Helper()
	counts := map[string]int{}
	var failed []string
	for _, name := range storeNames {
		ka, kb := a.GetKey(name), b.GetKey(name)
		require.NotNil(tb, ka, "store %s", name)
		sa, sb := ctxA.KVStore(ka), ctxB.KVStore(kb)
		it := sa.Iterator(nil, nil)
		for ; it.Valid(); it.Next() {
			counts[name]++
		}
		require.NoError(tb, it.Close())
		diffA, diffB := simtestutil.DiffKVStores(sa, sb, skipPrefixes[name])
		if len(diffA) > 0 || len(diffB) > 0 {
			failed = append(failed, name)
			tb.Errorf("store %s: %d entries differ after export and import:\n%s", name, max(len(diffA), len(diffB)),
				simtestutil.GetSimulationLog(name, a.SimulationManager().StoreDecoders, diffA, diffB))
		}
	}
	require.Empty(tb, failed, "stores that differ after export and import")
	return counts
}
