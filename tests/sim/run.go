package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"
	simcli "github.com/cosmos/cosmos-sdk/x/simulation/client/cli"

	"github.com/hinterland-ai/hinterland/app"
)

// GenesisTime is the genesis time of every simulation: fixed, so that runs
// of a seed are identical.
var GenesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config returns the simulator configuration of a run: seed, blocks, about
// blockSize operations per block, committing every block, the app's genesis
// block gas limit, an in-memory database, signatures checked.
func Config(seed int64, blocks, blockSize int) simtypes.Config {
	// simsx reads the signature switch from the simulator's flag variable.
	simcli.FlagSigverifyTxValue = true
	return simtypes.Config{
		Seed:               seed,
		InitialBlockHeight: 1,
		GenesisTime:        GenesisTime.Unix(),
		NumBlocks:          blocks,
		BlockSize:          blockSize,
		ChainID:            simsx.SimAppChainID,
		Commit:             true,
		DBBackend:          "memdb",
		BlockMaxGas:        app.GenesisMaxBlockGas,
	}
}

// Run is one simulation: the app at its last block and what it did.
type Run struct {
	Instance simsx.TestInstance[*SimApp]
	App      *SimApp
	Accounts []simtypes.Account
	// LastBlockTime is the time of the last simulated block.
	LastBlockTime time.Time
	Summary       string
}

// From is a run that starts from an exported state instead of a random
// genesis.
type From struct {
	AppState json.RawMessage
	Accounts []simtypes.Account
	Time     time.Time
	// Exclude are factories (by weight name) left out of this run, and why.
	Exclude map[string]string
}

// Simulate runs cfg on a fresh app, from a random genesis (from == nil) or
// from an exported state. The Checker fails tb at the first block that
// breaks custody or the supply accounting.
func Simulate(tb testing.TB, cfg simtypes.Config, from *From) *Run {
	tb.Helper()
	inst := simsx.NewSimulationAppInstance(tb, cfg, NewSimApp)
	a := inst.App
	a.Checker.Attach(tb)
	// The simulator skips the test when the last validator is gone: a seed
	// that stops early checks less than its profile says, so it fails.
	tb.Cleanup(func() {
		if tb.Skipped() && a.Checker.Blocks < cfg.NumBlocks {
			tb.Errorf("seed %d: the simulator stopped after %d of %d blocks (no validator left): choose another seed",
				cfg.Seed, a.Checker.Blocks, cfg.NumBlocks)
		}
	})
	reporter := simsx.NewBasicSimulationReporter()
	exclude := maps.Clone(Excluded)
	stateFn := simtestutil.AppStateFn(a.AppCodec(), a.SimulationManager(), a.DefaultGenesis())
	randAccs := simtypes.RandomAccounts
	if from != nil {
		maps.Copy(exclude, from.Exclude)
		stateFn = func(*rand.Rand, []simtypes.Account, simtypes.Config) (json.RawMessage, []simtypes.Account, string, time.Time) {
			return from.AppState, from.Accounts, cfg.ChainID, from.Time
		}
		randAccs = func(*rand.Rand, int) []simtypes.Account { return from.Accounts }
	}
	ops, err := operations(a, reporter, exclude)
	require.NoError(tb, err)
	logger := log.NewNopLogger()
	if simcli.FlagVerboseValue {
		logger = log.NewTestLogger(tb)
	}
	_, simAccs, err := simulation.SimulateFromSeedX(tb, logger, io.Discard, a.GetBaseApp(), stateFn, randAccs, ops,
		app.BlockedAddresses(), cfg, a.AppCodec(), &simulation.DummyLogWriter{})
	require.NoError(tb, err)
	return &Run{
		Instance: inst, App: a, Accounts: simAccs,
		LastBlockTime: a.Checker.LastBlockTime,
		Summary:       reporter.Summary().String(),
	}
}

// Report is one line about a run for the test log.
func (r *Run) Report() string {
	c := r.App.Checker
	return fmt.Sprintf("%d blocks, height %d, app hash %X; minted %s, burned %s", c.Blocks, r.App.LastBlockHeight(),
		r.App.LastCommitID().Hash, c.Minted, c.Burned)
}
