package sim

import (
	"flag"
	"io"
	"maps"
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/hinterland-ai/hinterland/app"
)

var dbgBlocks = flag.Int("dbg-blocks", 30, "")
var dbgExclude = flag.String("dbg-exclude", "", "")

func TestDebugAnnotation(t *testing.T) {
	seed := *simSeed
	if seed == 0 {
		seed = 11
	}
	cfg := Config(seed, *dbgBlocks, 100)
	inst := simsx.NewSimulationAppInstance(t, cfg, NewSimApp)
	a := inst.App
	a.Checker.Attach(t)
	reporter := simsx.NewBasicSimulationReporter()
	exclude := maps.Clone(Excluded)
	if *dbgExclude != "" {
		for _, n := range []string{"msg_post_job", "msg_claim_batch", "msg_seal_labels", "msg_open_labels", "msg_reveal_gold", "msg_update_annotation_params"} {
			exclude[n] = "x"
		}
	}
	t.Cleanup(func() {
		t.Logf("blocks checked: %d", a.Checker.Blocks)
		t.Logf("ops:\n%s", reporter.Summary().String())
		ctx := a.NewContextLegacy(true, cmtproto.Header{Height: a.LastBlockHeight()})
		p, _ := a.AnnotationKeeper.Params.Get(ctx)
		t.Logf("params: %+v", p)
		t.Logf("state: %s", Outcomes(a))
	})
	stateFn := simtestutil.AppStateFn(a.AppCodec(), a.SimulationManager(), a.DefaultGenesis())
	ops, err := operations(a, reporter, exclude)
	require.NoError(t, err)
	_, _, err = simulation.SimulateFromSeedX(t, log.NewNopLogger(), io.Discard, a.GetBaseApp(), stateFn, simtypes.RandomAccounts, ops,
		app.BlockedAddresses(), cfg, a.AppCodec(), &simulation.DummyLogWriter{})
	require.NoError(t, err)
}
