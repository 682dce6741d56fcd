// Package simulation holds x/verification's simulation: randomised genesis
// params, simsx factories that seal and open real transcripts, reveal real
// segments (from honest and from forging workers) and seal and open fraud
// challenges of passed transcripts, and the governance proposal that changes
// the params.
package simulation

import (
	"math/rand"
	"time"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// ParamsKey names the params in a simulation params file.
const ParamsKey = "verification_params"

// GenParams returns random valid params. Reveal windows run from 30 minutes
// (shorter than a simulated block, so a challenge is answered in the block
// that draws it or the worker fails) to two days; fraud windows from zero to
// a day. The caps leave room for the simulation's jobs, which need at most a
// few tens of thousands of MACs and a few KiB per reveal; the work prices
// and the look-up and gas caps vary around their defaults.
func GenParams(r *rand.Rand) types.Params {
	p := types.DefaultParams()
	p.RevealWindow = time.Duration(30+r.Intn(48*60)) * time.Minute
	p.FraudWindow = time.Duration(r.Intn(24*60)) * time.Minute
	p.MinChallengeBond = sdkmath.NewInt(int64(1 + r.Intn(10_000)))
	p.MaxRevealBytes = uint64(64<<10 + r.Intn(2<<20))
	p.GasPerMac = uint64(1 + r.Intn(4))
	p.GasPerRevealByte = uint64(1 + r.Intn(4))
	p.MaxMacsPerReveal = uint64(1_000_000 + r.Intn(200_000_000))
	p.MaxItemsPerBlock = uint32(1 + r.Intn(100))
	// The per-reveal work prices and caps (docs/SECURITY.md): any of them
	// can refuse a job at post or price its reveals.
	p.GasPerStep = uint64(500 + r.Intn(5_000))
	p.GasPerBatchRow = uint64(100 + r.Intn(3_000))
	p.GasPerActivation = uint64(1 + r.Intn(128))
	p.GasPerProofHash = uint64(50 + r.Intn(600))
	p.GasPerStateByte = uint64(1 + r.Intn(40))
	p.MaxBatchRowsPerReveal = uint64(1_024 + r.Intn(1<<16))
	p.MaxGasPerReveal = uint64(20_000_000 + r.Intn(300_000_000))
	// Challenge bonds: factor x answer gas x gas price, so the sizes run
	// from a few coins to a large part of a simulated account; block times
	// (which lengthen reveal deadlines under load) from a second to an hour.
	p.ChallengeBondFactor = uint32(1 + r.Intn(10))
	p.ChallengeGasPrice = sdkmath.LegacyNewDecWithPrec(int64(1+r.Intn(10_000)), 6) // 10^-6 .. 10^-2
	p.BlockTime = time.Duration(1+r.Intn(3600)) * time.Second
	return p
}

// RandomizedGenState writes x/verification's genesis: random params, no
// transcripts.
func RandomizedGenState(simState *module.SimulationState) {
	var params types.Params
	simState.AppParams.GetOrGenerate(ParamsKey, &params, simState.Rand, func(r *rand.Rand) { params = GenParams(r) })
	gs := types.DefaultGenesis()
	gs.Params = params
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
