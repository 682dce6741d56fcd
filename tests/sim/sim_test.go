package sim

import (
	"encoding/json"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"

	"github.com/hinterland-ai/hinterland/app"
)

var (
	shortSim = flag.Bool("short-sim", false, "the short simulation profile (make test-sim; the default)")
	longSim  = flag.Bool("long-sim", false, "the long simulation profile (make test-sim-long)")
)

// profile is how much a test simulates.
type profile struct {
	name string
	// Determinism: every seed runs `runs` times for `blocks` blocks.
	seeds  []int64
	runs   int
	blocks int
	// Export/import: these seeds run importBlocks blocks, are exported and
	// imported, then simulate afterBlocks blocks more from a zero-height export.
	importSeeds               []int64
	importBlocks, afterBlocks int
	blockSize                 int
}

func currentProfile(t *testing.T) profile {
	if *longSim && *shortSim {
		t.Fatal("give -short-sim or -long-sim, not both")
	}
	if *longSim {
		return profile{
			name: "long", seeds: []int64{1, 7, 42, 2989, 87821, 981928}, runs: 3, blocks: 200,
			importSeeds: []int64{11, 99, 4728}, importBlocks: 400, afterBlocks: 200, blockSize: 50,
		}
	}
	return profile{
		name: "short", seeds: []int64{1, 7, 42}, runs: 3, blocks: 30,
		importSeeds: []int64{11}, importBlocks: 60, afterBlocks: 30, blockSize: 30,
	}
}

// TestSimDeterminism runs each seed several times on fresh apps: the app
// hash after every block must be identical across runs.
func TestSimDeterminism(t *testing.T) {
	p := currentProfile(t)
	total := 0
	for _, seed := range p.seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			var want [][]byte
			for run := 1; run <= p.runs; run++ {
				r := Simulate(t, Config(seed, p.blocks, p.blockSize), nil, nil, time.Time{})
				got := r.App.Checker.Hashes
				t.Logf("%s profile, seed %d, run %d/%d: %s", p.name, seed, run, p.runs, r.Report())
				total += r.App.Checker.Blocks
				if run == 1 {
					want = got
					t.Logf("operations:\n%s", r.Summary)
				} else {
					require.Equal(t, len(want), len(got), "number of committed blocks")
					for h := range want {
						require.Equalf(t, want[h], got[h], "seed %d run %d: app hash differs from run 1 at block %d", seed, run, h+1)
					}
				}
				require.NoError(t, r.App.Close())
			}
		})
	}
	t.Logf("determinism: %d blocks simulated and checked (%d seeds x %d runs)", total, len(p.seeds), p.runs)
}

// TestSimImportExport simulates, exports, imports the export into a fresh
// app and requires every store to be the same; then it exports for zero
// height and keeps simulating on a third app started from that export.
func TestSimImportExport(t *testing.T) {
	p := currentProfile(t)
	for _, seed := range p.importSeeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			cfg := Config(seed, p.importBlocks, p.blockSize)
			a := Simulate(t, cfg, nil, nil, time.Time{})
			t.Logf("simulated: %s", a.Report())
			t.Logf("operations:\n%s", a.Summary)

			exported, err := a.App.ExportAppStateAndValidators(false, nil, nil)
			require.NoError(t, err)
			var genesis app.GenesisState
			require.NoError(t, json.Unmarshal(exported.AppState, &genesis))
			require.NoError(t, a.App.BasicModuleManager.ValidateGenesis(a.App.AppCodec(), a.App.TxConfig(), genesis),
				"the export is not a valid genesis")

			b := simsx.NewSimulationAppInstance(t, cfg, NewSimApp).App
			b.Checker.Attach(t)
			_, err = b.InitChain(&abci.RequestInitChain{
				ChainId: cfg.ChainID, AppStateBytes: exported.AppState, ConsensusParams: &exported.ConsensusParams,
				InitialHeight: exported.Height, Time: a.LastBlockTime,
			})
			require.NoError(t, err, "importing the export")
			header := cmtproto.Header{Height: a.App.LastBlockHeight(), ChainID: cfg.ChainID}
			counts := CompareStores(t, a.App, b, a.App.NewContextLegacy(true, header), b.NewContextLegacy(false, header))
			t.Logf("export at height %d imported: stores identical (entries compared: %v)", a.App.LastBlockHeight(), counts)

			zero, err := a.App.ExportAppStateAndValidators(true, nil, nil)
			require.NoError(t, err)
			after := Simulate(t, Config(seed+1, p.afterBlocks, p.blockSize), zero.AppState, a.Accounts, a.LastBlockTime.Add(time.Hour))
			t.Logf("simulation after a zero-height import: %s", after.Report())
			t.Logf("operations after import:\n%s", after.Summary)
		})
	}
}
