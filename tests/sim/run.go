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
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/simulation"
	simcli "github.com/cosmos/cosmos-sdk/x/simulation/client/cli"

	"github.com/hinterland-ai/hinterland/app"
	taskssim "github.com/hinterland-ai/hinterland/x/tasks/simulation"
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
	stateFn := withVoucher(a.AppCodec(), simtestutil.AppStateFn(a.AppCodec(), a.SimulationManager(), a.DefaultGenesis()))
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

// withVoucher gives every simulated account 10^10 of x/tasks' simulated IBC
// voucher (taskssim.Voucher, on the accepted_denoms of every simulated
// genesis), so tasks are posted, bonded, paid, slashed and challenged in a
// second denom and the custody and supply checks cover both.
func withVoucher(cdc codec.JSONCodec, next simtypes.AppStateFn) simtypes.AppStateFn {
	return func(r *rand.Rand, accs []simtypes.Account, cfg simtypes.Config) (json.RawMessage, []simtypes.Account, string, time.Time) {
		state, accs, chainID, genesisTime := next(r, accs, cfg)
		var gs map[string]json.RawMessage
		if err := json.Unmarshal(state, &gs); err != nil {
			panic(err)
		}
		var bank banktypes.GenesisState
		cdc.MustUnmarshalJSON(gs[banktypes.ModuleName], &bank)
		users := make(map[string]bool, len(accs))
		for _, a := range accs {
			users[a.Address.String()] = true
		}
		each := sdk.NewCoin(taskssim.Voucher, sdkmath.NewInt(10_000_000_000))
		added := sdkmath.ZeroInt()
		for i, b := range bank.Balances {
			if users[b.Address] {
				bank.Balances[i].Coins = b.Coins.Add(each)
				added = added.Add(each.Amount)
			}
		}
		if !bank.Supply.Empty() {
			bank.Supply = bank.Supply.Add(sdk.NewCoin(taskssim.Voucher, added))
		}
		gs[banktypes.ModuleName] = cdc.MustMarshalJSON(&bank)
		out, err := json.Marshal(gs)
		if err != nil {
			panic(err)
		}
		return out, accs, chainID, genesisTime
	}
}
