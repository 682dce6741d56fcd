// Package simulation holds x/tasks's simulation: randomised genesis params,
// simsx message factories for posting (some with a requester secret),
// claiming, abandoning and cancelling real training jobs and revealing their
// secrets, and the governance proposal that changes the params.
package simulation

import (
	"math/rand"
	"time"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// ParamsKey names the params in a simulation params file.
const ParamsKey = "tasks_params"

// GenParams returns random valid params. They are wide enough for the jobs the
// factories post (16-input models, at most 24 steps; see Jobs) and the windows
// are drawn so that a deadline sometimes falls inside one simulated block
// (blocks are 1.4 to 2.8 h apart) and sometimes spans many, so both the
// in-time and the missed-deadline paths run. The deadline caps per block are
// sometimes tiny so that the end blockers leave work for later blocks.
func GenParams(r *rand.Rand, denom string) types.Params {
	p := types.DefaultParams()
	p.Denom = denom
	p.MinReward = sdkmath.NewInt(int64(1 + r.Intn(10_000)))
	p.MinBond = sdkmath.NewInt(int64(1 + r.Intn(10_000)))
	p.MaxReplicas = uint32(1 + r.Intn(4))
	p.MaxSegments = uint32(8 + r.Intn(249))
	p.MaxSamples = uint32(1 + r.Intn(min(64, int(p.MaxSegments))))
	p.MaxTotalSteps = uint64(MaxJobSteps + r.Intn(1_000_000))
	p.MaxParams = uint64(MaxJobParams) + uint64(r.Int63n(int64(p.MaxParams-MaxJobParams)))
	p.MaxUriLength = uint32(64 + r.Intn(449))
	p.MinClaimWindow = time.Duration(10+r.Intn(3600)) * time.Second
	p.MaxClaimWindow = p.MinClaimWindow + time.Duration(1+r.Intn(30*24))*time.Hour
	p.MinCommitWindow = time.Duration(10+r.Intn(3600)) * time.Second
	p.MaxCommitWindow = p.MinCommitWindow + time.Duration(1+r.Intn(7*24))*time.Hour
	p.AssumedForgedBps = uint32(100 + r.Intn(4900))
	p.MaxDeadlinesPerBlock = uint32(1 + r.Intn(100))
	p.GasPerSpecByte = uint64(1 + r.Intn(20))
	p.AbandonFee = sdkmath.NewInt(int64(r.Intn(20_000))) // sometimes above the bond (capped at it)
	p.UntrainablePenaltyBps = uint32(r.Intn(10_001))
	// An IBC voucher on the allow-list, on random terms: the factories post
	// some tasks in it (the simulated accounts hold it, tests/sim), so
	// custody, settlement, slashing and challenges run in two denoms.
	p.AcceptedDenoms = []types.AcceptedDenom{{
		Denom:     Voucher,
		MinReward: sdkmath.NewInt(int64(1 + r.Intn(10_000))), MinBond: sdkmath.NewInt(int64(1 + r.Intn(10_000))),
		AbandonFee: sdkmath.NewInt(int64(r.Intn(10_000))), ChallengeGasPrice: sdkmath.LegacyNewDecWithPrec(int64(1+r.Intn(1_000)), 6),
		MinChallengeBond: sdkmath.NewInt(int64(1 + r.Intn(100_000))),
	}}
	return p
}

// Voucher stands in, in simulations, for an ICS-20 voucher (ibc/<hash> of a
// trace): tests/sim gives every simulated account some.
const Voucher = "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"

// RandomizedGenState writes x/tasks's genesis: random params, no tasks (the
// factories post them, and the import/export test carries a live state).
func RandomizedGenState(simState *module.SimulationState) {
	var params types.Params
	simState.AppParams.GetOrGenerate(ParamsKey, &params, simState.Rand, func(r *rand.Rand) {
		params = GenParams(r, simState.BondDenom)
	})
	gs := types.DefaultGenesis()
	gs.Params = params
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
