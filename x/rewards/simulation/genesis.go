// Package simulation holds x/rewards's simulation: randomised genesis params
// (fee, slash split, emission, bond discount tiers, emission recipients cap),
// the MsgFundPool factory and the governance proposal that changes the params.
package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	epochstypes "github.com/cosmos/cosmos-sdk/x/epochs/types"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// ParamsKey names the params in a simulation params file.
const ParamsKey = "rewards_params"

// GenParams returns random valid params paying emissions on epochIdentifier.
// The bond discount tiers start low (1 to 3 verified tasks) so that
// simulated workers reach them, and max_emission_recipients is small (1 to
// 50) so that the cap on an epoch's emission recipients is reached too.
func GenParams(r *rand.Rand, denom, epochIdentifier string) types.Params {
	p := types.DefaultParams()
	p.ProtocolFeeBps = uint32(r.Intn(2_001))
	p.SlashRequesterBps = uint32(r.Intn(types.BasisPoints + 1))
	p.SlashChallengerBps = uint32(r.Intn(int(types.BasisPoints - p.SlashRequesterBps + 1)))
	p.SlashBurnBps = types.BasisPoints - p.SlashRequesterBps - p.SlashChallengerBps
	p.EpochIdentifier = epochIdentifier
	p.EpochEmission = sdk.NewCoin(denom, sdkmath.NewInt(r.Int63n(1_000_001)))
	first := uint64(1 + r.Intn(3))
	p.BondDiscounts = []types.BondDiscount{
		{MinVerified: first, DiscountBps: uint32(r.Intn(5_000))},
		{MinVerified: first + uint64(1+r.Intn(10)), DiscountBps: uint32(5_000 + r.Intn(4_000))},
	}
	p.MaxEmissionRecipients = uint32(1 + r.Intn(50))
	return p
}

// RandomizedGenState writes x/rewards's genesis: random params whose
// emission epoch is one of the epochs x/epochs's genesis defines (x/epochs
// sorts before x/rewards, so its genesis is already drawn), nothing in
// custody.
func RandomizedGenState(simState *module.SimulationState) {
	identifier := types.DefaultEpochIdentifier
	var epochs epochstypes.GenesisState
	if bz, ok := simState.GenState[epochstypes.ModuleName]; ok && simState.Cdc.UnmarshalJSON(bz, &epochs) == nil && len(epochs.Epochs) > 0 {
		identifier = epochs.Epochs[simState.Rand.Intn(len(epochs.Epochs))].Identifier
	}
	var params types.Params
	simState.AppParams.GetOrGenerate(ParamsKey, &params, simState.Rand, func(r *rand.Rand) {
		params = GenParams(r, simState.BondDenom, identifier)
	})
	gs := types.DefaultGenesis()
	gs.Params = params
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
