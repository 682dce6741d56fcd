package keeper_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// revealCase is a default job as a requester would post it.
type revealCase struct {
	name         string
	spec         engine.Spec
	segmentSteps uint64
	segments     uint64 // N
	samples      uint32 // k
}

// The default jobs (see README "Posting a task"): 200 segments of 4 steps
// (800 steps of batch 32, about half an MNIST epoch per task) and k = 8
// samples, so the chain recomputes k/N = 4% of the training.
var revealCases = []revealCase{
	{"mnist-softmax", engine.DefaultSpecMNISTSoftmax(), 4, 200, 8},
	{"mnist-mlp", engine.DefaultSpecMNISTMLP(), 4, 200, 8},
	{"mnist-lora", engine.DefaultSpecMNISTLoRA(), 4, 200, 8},
}

// prepareReveal posts the case on MNIST, trains segment 0 honestly, commits a
// transcript whose h_0, h_1 and h_N are right, demands the reveal of segment 0
// and returns the fixture and the reveal.
func prepareReveal(tb testing.TB, c revealCase, data *dataset.File) (*keepers.Fixture, *types.MsgRevealSegment) {
	f := keepers.New(tb)
	for _, a := range []sdk.AccAddress{poster, worker} {
		f.Fund(tb, a, 10_000_000)
	}
	var base *engine.Model
	var baseHash []byte
	if c.spec.IsLoRA() {
		// The frozen base: an MLP of the same architecture (its initial weights
		// stand in for a trained one; the cost is the same).
		st, err := engine.NewInitialState(engine.Job{Spec: engine.DefaultSpecMNISTMLP(), Seed: [32]byte{7}, RowCount: data.Len()})
		require.NoError(tb, err)
		base, err = st.Model(nil)
		require.NoError(tb, err)
		h := base.Hash()
		baseHash = h[:]
	}
	total := c.segmentSteps * c.segments
	msg := &taskstypes.MsgPostTask{
		Poster: poster.String(), Spec: taskstypes.FromEngineSpec(c.spec, total, c.segmentSteps, baseHash),
		Dataset: taskstypes.DatasetRef{Root: data.Root(), Rows: data.Len(),
			Schema: taskstypes.FromDatasetSchema(data.Schema()), Uri: "file:///mnist.hlds"},
		Reward: sdk.NewCoin("uhint", sdkmath.NewInt(1_000_000)), Bond: sdk.NewCoin("uhint", sdkmath.NewInt(100_000)),
		Samples: c.samples, ClaimWindow: time.Hour, CommitWindow: time.Hour,
	}
	tasksMS := taskskeeper.NewMsgServerImpl(f.Tasks)
	res, err := tasksMS.PostTask(f.Ctx, msg)
	require.NoError(tb, err)
	_, err = tasksMS.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: res.TaskId})
	require.NoError(tb, err)
	task, err := f.Tasks.GetTask(f.Ctx, res.TaskId)
	require.NoError(tb, err)

	job, err := taskstypes.EngineJob(task)
	require.NoError(tb, err)
	job.Base = base
	src, err := data.Source(c.spec.FracBits)
	require.NoError(tb, err)
	h0, err := engine.NewInitialState(job)
	require.NoError(tb, err)
	h1, _, err := engine.RunSegment(job, h0, src, c.segmentSteps)
	require.NoError(tb, err)
	run := &fixtures.Run{Task: task, Job: job, Data: data, States: []*engine.State{h0, h1}}

	// Checkpoints h_2..h_(N-1) are never looked at by this reveal.
	cps := make([][]byte, c.segments+1)
	for i := range cps {
		cps[i] = make([]byte, 32)
		cps[i][0] = byte(i)
	}
	a, b := h0.Hash(), h1.Hash()
	cps[0], cps[1] = a[:], b[:]
	mh, oh := engine.Hash{1}, engine.Hash{2}
	final := engine.StateHashFrom(mh, oh, total)
	cps[c.segments] = final[:]
	_, err = keeper.NewMsgServerImpl(f.Verification).CommitTranscript(f.Ctx, &types.MsgCommitTranscript{
		Worker: worker.String(), TaskId: task.Id, Checkpoints: cps, Uri: "http://127.0.0.1:1/c",
		FinalModelHash: mh[:], FinalOptHash: oh[:],
	})
	require.NoError(tb, err)
	w, _ := sdk.AccAddressFromBech32(worker.String())
	require.NoError(tb, f.Verification.Challenges.Set(f.Ctx, collectionsJoin3(task.Id, w, 0), types.Challenge{
		TaskId: task.Id, Worker: worker.String(), Segment: 0, Kind: types.CHALLENGE_KIND_SAMPLED,
		Deadline: f.Ctx.BlockTime().Add(time.Hour), Status: types.CHALLENGE_STATUS_PENDING,
	}))
	reveal, err := run.Reveal(worker, 0)
	require.NoError(tb, err)
	if base != nil {
		reveal.BaseModel = base.Encode()
	}
	return f, reveal
}

// BenchmarkReveal measures the RevealSegment handler on the default jobs:
// handler time p50/p99, ns per MAC, gas per MAC, reveal size, and what a block
// full of such reveals costs (CalibratedMaxBlockGas / gas per reveal reveals).
func BenchmarkReveal(b *testing.B) {
	data := datasettest.MNIST(b, "train")
	for _, kernel := range []string{"simd", "portable"} {
		for _, c := range revealCases {
			benchReveal(b, c, kernel, data)
		}
	}
}

// benchReveal runs one case with the amd64 SIMD kernel or the portable one
// (what arm64, ppc64le, s390x and riscv64 validators run).
func benchReveal(b *testing.B, c revealCase, kernel string, data *dataset.File) {
	if kernel == "simd" && !engine.SIMDAvailable() {
		return
	}
	prev := engine.SetSIMD(kernel == "simd")
	defer engine.SetSIMD(prev)
	{
		b.Run(c.name+"/"+kernel, func(b *testing.B) {
			f, reveal := prepareReveal(b, c, data)
			ms := keeper.NewMsgServerImpl(f.Verification)
			params, err := f.Verification.Params.Get(f.Ctx)
			require.NoError(b, err)
			var (
				times []time.Duration
				gas   uint64
				macs  uint64
			)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctx, _ := f.Ctx.CacheContext()
				ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
				start := time.Now()
				res, err := ms.RevealSegment(ctx, reveal)
				times = append(times, time.Since(start))
				if err != nil || !res.Match {
					b.Fatalf("reveal failed: %v %v", err, res)
				}
				gas, macs = ctx.GasMeter().GasConsumed(), res.Macs
			}
			b.StopTimer()
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			p50 := times[len(times)/2]
			p99 := times[(len(times)*99)/100]
			perBlock := float64(types.CalibratedMaxBlockGas) / float64(gas)
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
			b.ReportMetric(float64(p50.Nanoseconds())/float64(macs), "ns/MAC")
			b.ReportMetric(float64(gas)/float64(macs), "gas/MAC")
			b.ReportMetric(float64(reveal.Size())/1024, "reveal_KiB")
			b.ReportMetric(perBlock*float64(p50.Microseconds())/1000, "block_ms")
			b.ReportMetric(100*float64(c.samples)/float64(c.segments), "verify_%")
			b.Logf("%s: %d MACs, %d gas, reveal %d bytes, %.1f reveals per block of %d gas, params %+v",
				c.name, macs, gas, reveal.Size(), perBlock, types.CalibratedMaxBlockGas,
				fmt.Sprint(params.GasPerMac, "/MAC ", params.GasPerParamStep, "/param-step ", params.GasPerRevealByte, "/byte"))
		})
	}
}
