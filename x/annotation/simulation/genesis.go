// Package simulation holds x/annotation's simulation: randomised genesis
// params, simsx message factories that post labelling and preference jobs on
// synthetic datasets (with a gold set the requester can reproduce), claim
// batches, seal and open labels (from honest, noisy, spamming, lazy and
// silent annotators), reveal the gold set, and the governance proposal that
// changes the params.
package simulation

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand"
	"time"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// ParamsKey names the params in a simulation params file.
const ParamsKey = "annotation_params"

// GenParams returns random valid params. The simulator's blocks are 1.4 to
// 2.8 hours apart, so the windows are drawn around that: label windows from
// seconds (the deadline passes before the next block: only claims and seals
// of the posting block count) to half a day; open and gold windows a quarter
// of the time shorter than a block (the openings miss them and the batches
// are forfeited), otherwise 3 to 8 hours (at least one block falls in them).
// Jobs therefore settle within a few tens of blocks. The work budget per
// block is sometimes small, so that an aggregation spans blocks.
func GenParams(r *rand.Rand, denom string) types.Params {
	p := types.DefaultParams()
	p.Denom = denom
	p.MaxItems = uint64(MaxJobItems + r.Intn(100_000))
	p.MaxRedundancy = uint32(1 + r.Intn(9))
	p.MaxBatchSize = uint32(4 + r.Intn(61))
	p.MaxClasses = uint32(MaxJobClasses + r.Intn(60))
	p.MinLabelWindow = time.Duration(10+r.Intn(1800)) * time.Second
	p.MaxLabelWindow = p.MinLabelWindow + time.Duration(1+r.Intn(12*60))*time.Minute
	p.OpenWindow = phaseWindow(r)
	p.GoldWindow = phaseWindow(r)
	p.EmIterations = uint32(1 + r.Intn(20))
	p.GasPerUnit = uint64(1 + r.Intn(40))
	p.AggregationGasPrice = sdkmath.LegacyNewDecWithPrec(int64(r.Intn(10_001)), 6) // 0 .. 0.01
	if r.Intn(3) == 0 {
		// Small enough that an aggregation (a few tens of thousands of
		// units) takes several blocks and jobs wait for each other; never
		// below the largest unit of work (a smaller budget does nothing).
		p.MaxUnitsPerBlock = uint64(annotation.MinBudget + 10_000 + r.Intn(100_000))
	} else {
		p.MaxUnitsPerBlock = uint64(1_000_000 + r.Intn(types.DefaultMaxUnitsPerBlock))
	}
	p.MinGoldItems = uint32(1 + r.Intn(MinJobGold))
	p.MinGoldSeen = uint32(1 + r.Intn(4))
	p.MinGoldDeposit = sdkmath.NewInt(int64(r.Intn(10_000)))
	p.GasPerByte = uint64(1 + r.Intn(20))
	// Sometimes below what a simulated job needs (up to 48 batches): such
	// posts are refused and the factory leaves them out.
	p.MaxBatchesPerJob = uint64(24 + r.Intn(5_000))
	return p
}

// phaseWindow is an open or gold window: a quarter of the time shorter than
// a simulated block, otherwise 3 to 8 hours.
func phaseWindow(r *rand.Rand) time.Duration {
	if r.Intn(4) == 0 {
		return time.Duration(1+r.Intn(600)) * time.Second
	}
	return time.Duration(3*60+r.Intn(5*60)) * time.Minute
}

// RandomizedGenState writes x/annotation's genesis: random params, no jobs
// (the factories post them, and the import/export test carries a live state).
// The params are drawn from a source of their own, seeded from the simulated
// accounts (themselves drawn from the simulation's seed), not from
// simState.Rand: x/annotation sorts first among the modules, and drawing
// from the shared source would change every other module's genesis (the
// validator set among them) for every seed.
func RandomizedGenState(simState *module.SimulationState) {
	h := sha256.New()
	h.Write([]byte("hinterland/sim/annotation-genesis/v1"))
	for _, a := range simState.Accounts {
		h.Write(a.Address)
	}
	own := rand.New(rand.NewSource(int64(binary.BigEndian.Uint64(h.Sum(nil)[:8]))))
	var params types.Params
	simState.AppParams.GetOrGenerate(ParamsKey, &params, own, func(r *rand.Rand) {
		params = GenParams(r, simState.BondDenom)
	})
	gs := types.DefaultGenesis()
	gs.Params = params
	simState.GenState[types.ModuleName] = simState.Cdc.MustMarshalJSON(gs)
}
