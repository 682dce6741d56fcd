package faults

import (
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// A hostile worker floods a 4-validator localnet with reveals of the costliest
// segment the limits accept (a 1->2 linear model, batch 1, over a one-row
// dataset: every row look-up starts a new epoch, one SHA-256 each, and the
// segment has as many steps as the per-reveal limits allow), each
// malformed (no rows) so it changes nothing and can be sent again. Every one
// is charged its whole recomputation before any work and refused; the chain
// keeps making blocks on every validator, no node's memory grows, and the
// honest reveal of the same segment still passes.
func TestRevealFloodOnLocalnet(t *testing.T) {
	n := chainproc.NewNetwork(t, chainproc.NetworkOptions{})
	n.Start(2 * time.Minute)
	nd := n.Nodes[0]
	wallets := n.Wallets(nd)
	poster, worker := wallets[0], wallets[1]

	var params vtypes.QueryParamsResponse
	require.NoError(t, nd.ABCIQuery("/hinterland.verification.v1.Query/Params", &vtypes.QueryParamsRequest{}, &params))
	p := params.Params

	tiny := fixtures.SyntheticShape(1, 1, 2)
	es := engine.Spec{Model: engine.ModelLinear, Inputs: 1, Outputs: 2, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: engine.OptimizerSGD, LearningRate: 1 << 10, BatchSize: 1, FracBits: 16}
	ref := taskstypes.DatasetRef{Root: tiny.Root(), Rows: tiny.Len(),
		Schema: taskstypes.FromDatasetSchema(tiny.Schema()), Uri: "http://127.0.0.1:1/tiny.hlds"}
	steps := recompute.LongestSegment(taskstypes.FromEngineSpec(es, 1, 1, nil), ref, p, 1<<20)
	require.NotZero(t, steps)
	post := &taskstypes.MsgPostTask{
		Poster: poster.Addr.String(), Spec: taskstypes.FromEngineSpec(es, 2*steps, steps, nil),
		Dataset: ref,
		Reward:  sdk.NewCoin("uhint", sdkmath.NewInt(1_000_000)), Bond: sdk.NewCoin("uhint", sdkmath.NewInt(100_000)),
		Samples: 1, Replicas: 1, ClaimWindow: time.Hour, CommitWindow: time.Hour,
	}
	waitOK(t, n, nd, poster, 500_000, post)
	const taskID = 1
	waitOK(t, n, nd, worker, 300_000, &taskstypes.MsgClaimTask{Worker: worker.Addr.String(), TaskId: taskID})

	var tres taskstypes.QueryTaskResponse
	require.NoError(t, nd.ABCIQuery("/hinterland.tasks.v1.Query/Task", &taskstypes.QueryTaskRequest{Id: taskID}, &tres))
	run, err := fixtures.Train(tres.Task, tiny)
	require.NoError(t, err)
	waitOK(t, n, nd, worker, 300_000, run.Seal(worker.Addr))
	waitOK(t, n, nd, worker, 2_000_000, run.Open(worker.Addr))

	// The draw happens in the next block.
	var seg uint32
	require.Eventually(t, func() bool {
		var cres vtypes.QueryChallengesResponse
		err := nd.ABCIQuery("/hinterland.verification.v1.Query/Challenges", &vtypes.QueryChallengesRequest{TaskId: taskID}, &cres)
		if err != nil || len(cres.Challenges) == 0 {
			return false
		}
		seg = cres.Challenges[0].Segment
		return true
	}, 30*time.Second, 500*time.Millisecond)

	cost, charge, err := recompute.RevealGas(tres.Task, seg, 0, p)
	require.NoError(t, err)
	t.Logf("segment %d: %d steps, %d row look-ups, %d MACs: %d gas charged per reveal before any work", seg, cost.Steps, cost.BatchRows, cost.MACs, charge)
	empty := &vtypes.MsgRevealSegment{Worker: worker.Addr.String(), TaskId: taskID, Segment: seg, StartState: run.States[seg].Encode()}
	gas := charge + 10*uint64(empty.Size())*p.GasPerRevealByte + 300_000

	const flood = 12
	before, err := nd.Balance(worker.Addr.String())
	require.NoError(t, err)
	start := nd.Height()
	var sent []chainproc.Sent
	for range flood {
		s, err := n.Broadcast(nd, worker, gas, empty)
		require.NoError(t, err)
		sent = append(sent, s)
	}
	var used uint64
	for _, s := range sent {
		code, log, gasUsed := waitTx(t, n, s)
		require.Equal(t, vtypes.ErrBadRows.ABCICode(), code, "malformed reveal: %s", log)
		require.GreaterOrEqual(t, gasUsed, charge, "the refused reveal paid for the whole recomputation")
		used += gasUsed
	}
	end := nd.Height()
	// Block max_gas admits one such reveal per block.
	require.GreaterOrEqual(t, end-start, int64(flood), "blocks %d..%d held %d reveals of %d gas each", start+1, end, flood, gas)
	after, err := nd.Balance(worker.Addr.String())
	require.NoError(t, err)
	fees := before.Sub(after)
	require.True(t, fees.GTE(sdkmath.NewInt(int64(charge)*flood/1000)), "the attacker paid %s for %d gas", fees, used)

	// Blocks kept coming on every validator, one reveal's work at most each.
	var worst time.Duration
	for h := start + 1; h <= end; h++ {
		a, err := nd.BlockTime(h - 1)
		require.NoError(t, err)
		b, err := nd.BlockTime(h)
		require.NoError(t, err)
		worst = max(worst, b.Sub(a))
	}
	n.WaitHeight(n.Nodes, end+2, blockWait)
	requireSameChain(t, n.Nodes, end+2)
	var peak uint64
	for _, v := range n.Nodes {
		rss, err := v.PeakRSS()
		require.NoError(t, err)
		peak = max(peak, rss)
	}
	require.Less(t, peak, uint64(1<<30), "a validator's peak memory reached %d MiB", peak>>20)
	require.Less(t, worst, 5*time.Second, "the longest block interval during the flood")
	t.Logf("flood: %d malformed reveals in blocks %d..%d, %d gas charged (%s uhint in fees); longest block interval %s; peak validator memory %d MiB",
		flood, start+1, end, used, fees, worst, peak>>20)

	// The honest reveal of the same segment passes.
	good, err := run.Reveal(worker.Addr, seg)
	require.NoError(t, err)
	s, err := n.Broadcast(nd, worker, gas+uint64(good.Size())*p.GasPerRevealByte, good)
	require.NoError(t, err)
	code, log, _ := waitTx(t, n, s)
	require.Zero(t, code, log)
}

// waitOK broadcasts msg as w and waits for it to succeed in a block.
func waitOK(t *testing.T, n *chainproc.Network, nd *chainproc.Node, w *chainproc.Wallet, gas uint64, msg sdk.Msg) {
	t.Helper()
	s, err := n.Broadcast(nd, w, gas, msg)
	require.NoError(t, err)
	code, log, _ := waitTx(t, n, s)
	require.Zero(t, code, "%T: %s", msg, log)
}

// waitTx waits until a sent transaction is in a block and returns its code,
// log and gas used.
func waitTx(t *testing.T, n *chainproc.Network, s chainproc.Sent) (uint32, string, uint64) {
	t.Helper()
	var (
		code uint32
		log  string
		gas  uint64
	)
	require.Eventually(t, func() bool {
		res, err := n.Nodes[0].Client.Tx(t.Context(), s.Hash, false)
		if err != nil {
			return false
		}
		code, log, gas = res.TxResult.Code, res.TxResult.Log, uint64(res.TxResult.GasUsed)
		return true
	}, blockWait, 200*time.Millisecond)
	return code, log, gas
}
