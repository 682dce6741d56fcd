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
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// revealCase is a job as a requester would post it: a preset, or an
// adversarial shape whose segments are as long as the limits allow.
type revealCase struct {
	name         string
	spec         engine.Spec
	segmentSteps uint64 // 0: the longest segment the per-reveal limits accept
	segments     uint64 // N
	samples      uint32 // k
	// rows > 0: a synthetic dataset of that many rows (spec.Inputs features,
	// spec.Outputs classes) instead of MNIST.
	rows int
}

// The presets' segments (see README "Requesters: posting a task"): 4 steps
// of batch 32. The presets post 880 such segments (3520 steps) with k = 44
// (--detection 0.99), so the chain recomputes k/N = 5% of the training. These
// cases keep N = 200 and k = 8: a segment's reveal costs the same, but
// verify_% reports their 4%, not the presets' 5%.
var revealCases = []revealCase{
	{"mnist-softmax", engine.DefaultSpecMNISTSoftmax(), 4, 200, 8, 0},
	{"mnist-mlp", engine.DefaultSpecMNISTMLP(), 4, 200, 8, 0},
	{"mnist-lora", engine.DefaultSpecMNISTLoRA(), 4, 200, 8, 0},
}

// lmCases are the language-model presets at their preset segment lengths
// (on a synthetic token dataset: the cost does not depend on the text).
var lmCases = []revealCase{
	{"lm-pretrain", engine.DefaultSpecLMPretrain(), 2, 200, 8, 256},
	{"lm-lora", engine.DefaultSpecLMLoRA(), 2, 200, 8, 256},
	{"lm-dpo", engine.DefaultSpecLMDPO(), 1, 200, 8, 256},
}

// lmSpec is a transformer of context T, L blocks of width d with H heads,
// batch b, SGD (so that the optimiser's share is the smallest).
func lmSpec(T, L, d, H, b uint32, obj engine.Objective) engine.Spec {
	s := engine.Spec{Model: engine.ModelTransformer, Inputs: T, Hidden: []uint32{L, d, H}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerSGD, LearningRate: 66, BatchSize: b, FracBits: 16}
	if obj == engine.ObjectiveDPO {
		s.Objective, s.DPOBeta, s.LoRARank, s.LoRAAlpha = obj, 6554, 1, 1<<16
	}
	return s
}

// lmAdversarialCases are transformer shapes where attention's element-wise
// work (exp of the softmax, one per causal score; RMSNorm; SiLU) outweighs
// the MACs: one-wide heads over the longest context, a tiny model whose
// cost is per-step overhead, DPO over the longest context.
var lmAdversarialCases = []revealCase{
	{"lm-T256-d16-H16-b1", lmSpec(256, 1, 16, 16, 1, engine.ObjectiveNextToken), 0, 2, 1, 64},
	{"lm-T2-d2-H1-b1", lmSpec(2, 1, 2, 1, 1, engine.ObjectiveNextToken), 0, 2, 1, 64},
	{"lm-T256-d8-H8-dpo-b1", lmSpec(256, 1, 8, 8, 1, engine.ObjectiveDPO), 0, 2, 1, 64},
	{"lm-T16-d128-H1-b1", lmSpec(16, 1, 128, 1, 1, engine.ObjectiveNextToken), 0, 2, 1, 64},
}

// adversarialCases are the shapes where gas used to under-price the work
// (docs/PERFORMANCE.md "Adversarial shapes"): tiny models whose cost is all
// per-step and per-row-look-up overhead, one-row datasets where every look-up
// starts a new epoch (a SHA-256 each), very wide layers, Adam's element-wise
// work. Each gets the longest segment the limits accept.
var adversarialCases = []revealCase{
	{"linear-1x2-b1-1row", linearSpec(1, 2, 1, engine.OptimizerSGD), 0, 2, 1, 1},
	{"linear-1x2-b1-64rows", linearSpec(1, 2, 1, engine.OptimizerSGD), 0, 2, 1, 64},
	{"linear-16x4-b1-adam", linearSpec(16, 4, 1, engine.OptimizerAdam), 0, 2, 1, 64},
	{"softmax-1x4096-b32", linearSpec(1, 4096, 32, engine.OptimizerSGD), 0, 2, 1, 4096},
	{"mlp-1-4096-2-b1", mlpSpec(1, 4096, 2, 1, engine.OptimizerSGD), 0, 2, 1, 64},
	{"mlp-1-4096-2-b1-adam", mlpSpec(1, 4096, 2, 1, engine.OptimizerAdam), 0, 2, 1, 64},
	{"mlp-64-1024-16-b1024", mlpSpec(64, 1024, 16, 1024, engine.OptimizerSGD), 0, 2, 1, 1024},
}

func linearSpec(in, out, batch uint32, opt engine.Optimizer) engine.Spec {
	s := engine.Spec{Model: engine.ModelLinear, Inputs: in, Outputs: out, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: opt, LearningRate: 1 << 10, BatchSize: batch, FracBits: 16}
	if opt == engine.OptimizerAdam {
		s.LearningRate, s.Beta1, s.Beta2, s.Epsilon = 1<<6, 58982, 65470, 1
	}
	return s
}

func mlpSpec(in, hidden, out, batch uint32, opt engine.Optimizer) engine.Spec {
	s := linearSpec(in, out, batch, opt)
	s.Model, s.Hidden = engine.ModelMLP, []uint32{hidden}
	return s
}

// prepareReveal posts the case on MNIST, trains segment 0 honestly, seals and
// opens a transcript whose h_0, h_1 and h_N are right, demands the reveal of
// segment 0 and returns the fixture and the reveal.
func prepareReveal(tb testing.TB, c revealCase, data *dataset.File) (*keepers.Fixture, *types.MsgRevealSegment) {
	f, reveal, _ := prepareCase(tb, c, data, false)
	return f, reveal
}

// prepareCase is prepareReveal; with replica, worker2 also claims the task
// and seals the same transcript before worker opens, and the open message of
// worker2 is returned too (not yet sent).
func prepareCase(tb testing.TB, c revealCase, data *dataset.File, replica bool) (*keepers.Fixture, *types.MsgRevealSegment, *types.MsgOpenTranscript) {
	if c.spec.Model == engine.ModelTransformer {
		data = fixtures.SyntheticTokens(c.rows, int(c.spec.Inputs), c.spec.Objective == engine.ObjectiveDPO)
	} else if c.rows > 0 {
		data = fixtures.SyntheticShape(c.rows, int(c.spec.Inputs), int(c.spec.Outputs))
	}
	if c.segmentSteps == 0 {
		c.segmentSteps = longestSegment(tb, c, data)
	}
	f := keepers.New(tb)
	for _, a := range []sdk.AccAddress{poster, worker} {
		f.Fund(tb, a, 10_000_000)
	}
	var base *engine.Model
	var baseHash []byte
	if c.spec.IsLoRA() {
		// The frozen base: an MLP of the same architecture (its initial weights
		// stand in for a trained one; the cost is the same).
		bs := engine.DefaultSpecMNISTMLP()
		if c.spec.Model == engine.ModelTransformer {
			bs = c.spec
			bs.Objective, bs.DPOBeta, bs.LoRARank, bs.LoRAAlpha = engine.ObjectiveNextToken, 0, 0, 0
		}
		st, err := engine.NewInitialState(engine.Job{Spec: bs, Seed: [32]byte{7}, RowCount: data.Len()})
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
		Samples: c.samples, Replicas: 2, ClaimWindow: time.Hour, CommitWindow: time.Hour,
	}
	tasksMS := taskskeeper.NewMsgServerImpl(f.Tasks)
	res, err := tasksMS.PostTask(f.Ctx, msg)
	require.NoError(tb, err)
	_, err = tasksMS.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: res.TaskId})
	require.NoError(tb, err)
	if replica {
		f.Fund(tb, worker2, 10_000_000)
		_, err = tasksMS.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker2.String(), TaskId: res.TaskId})
		require.NoError(tb, err)
	}
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
	ms := keeper.NewMsgServerImpl(f.Verification)
	open := func(w sdk.AccAddress) *types.MsgOpenTranscript {
		return &types.MsgOpenTranscript{
			Worker: w.String(), TaskId: task.Id, Checkpoints: cps, Uri: "http://127.0.0.1:1/c",
			FinalModelHash: mh[:], FinalOptHash: oh[:], Salt: fixtures.Salt(w),
		}
	}
	var open2 *types.MsgOpenTranscript
	if replica {
		open2 = open(worker2)
		_, err = ms.SealTranscript(f.Ctx, sealMsg(worker2, open2))
		require.NoError(tb, err)
	}
	sealOpen(tb, f.Ctx, ms, worker, open(worker))
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
	return f, reveal, open2
}

// longestSegment is the largest segment_steps whose reveal fits the default
// per-reveal limits.
func longestSegment(tb testing.TB, c revealCase, data *dataset.File) uint64 {
	ref := taskstypes.DatasetRef{Root: data.Root(), Rows: data.Len(), Schema: taskstypes.FromDatasetSchema(data.Schema())}
	steps := recompute.LongestSegment(taskstypes.FromEngineSpec(c.spec, 1, 1, nil), ref, types.DefaultParams(), 1<<20)
	require.NotZero(tb, steps, "%s: not even one step fits the limits", c.name)
	return steps
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

// BenchmarkRevealShapes is the gas calibration against adversarial shapes:
// for the presets and every adversarial shape (at the longest segment the
// limits accept), on both kernels, the handler's ns per unit of gas, the time
// of a block filled with that reveal, and x_preset: its ns/gas over the
// costliest preset's in the same run (the target is <= 2).
func BenchmarkRevealShapes(b *testing.B) {
	data := datasettest.MNIST(b, "train")
	for _, kernel := range []string{"simd", "portable"} {
		for _, c := range append(append(append(append([]revealCase(nil), revealCases...), adversarialCases...), lmCases...), lmAdversarialCases...) {
			benchReveal(b, c, kernel, data)
		}
	}
}

// presetNsPerGas holds each preset's latest ns/gas per kernel in this run
// (the benchmark framework runs a case more than once; the last run is warm):
// the costliest is the peer the adversarial shapes are measured against.
var presetNsPerGas = map[string]map[string]float64{} // looked up by kernel, then case name

func costliestPreset(kernel string) float64 {
	var m float64
	for _, c := range revealCases { // in slice order: no map ranging
		m = max(m, presetNsPerGas[kernel][c.name])
	}
	return m
}

// benchReveal runs one case with the amd64 SIMD kernel or the portable one
// (what arm64, ppc64le, s390x and riscv64 validators run).
func benchReveal(b *testing.B, c revealCase, kernel string, data *dataset.File) {
	if kernel == "simd" && !engine.SIMDAvailable() {
		return
	}
	prev := engine.SetSIMD(kernel == "simd")
	defer engine.SetSIMD(prev)
	b.Run(c.name+"/"+kernel, func(b *testing.B) {
		f, reveal := prepareReveal(b, c, data)
		ms := keeper.NewMsgServerImpl(f.Verification)
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
		nsPerGas := float64(p50.Nanoseconds()) / float64(gas)
		if c.rows == 0 {
			if presetNsPerGas[kernel] == nil {
				presetNsPerGas[kernel] = map[string]float64{}
			}
			presetNsPerGas[kernel][c.name] = nsPerGas
		}
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
		b.ReportMetric(float64(p50.Nanoseconds())/float64(macs), "ns/MAC")
		b.ReportMetric(float64(gas)/float64(macs), "gas/MAC")
		b.ReportMetric(nsPerGas, "ns/gas")
		b.ReportMetric(float64(reveal.Size())/1024, "reveal_KiB")
		b.ReportMetric(nsPerGas*types.CalibratedMaxBlockGas/1e6, "block_ms")
		if p := costliestPreset(kernel); p > 0 {
			b.ReportMetric(nsPerGas/p, "x_preset")
		}
		if c.segments > 0 && c.rows == 0 {
			b.ReportMetric(100*float64(c.samples)/float64(c.segments), "verify_%")
		}
		b.Logf("%s: %d MACs, %d gas, reveal %d bytes, %.1f reveals per block of %d gas",
			c.name, macs, gas, reveal.Size(), float64(types.CalibratedMaxBlockGas)/float64(gas), types.CalibratedMaxBlockGas)
	})
}

// BenchmarkCommitShapes prices OpenTranscript (the second step of a commit:
// MsgSealTranscript, then MsgOpenTranscript), which builds, encodes and
// hashes the initial state h_0: the presets, and the largest Adam state a
// task may have (the widest 784-H-10 MLP whose reveal still fits
// max_reveal_bytes; a 1M-parameter Adam state of 16 MB is refused at post).
// It reports ns/gas and x_preset against the costliest preset reveal of the
// same kernel (run BenchmarkRevealShapes in the same invocation for it).
func BenchmarkCommitShapes(b *testing.B) {
	data := datasettest.MNIST(b, "train")
	widest := widestAdamMLP(b, data)
	for _, c := range append(append([]revealCase(nil), revealCases...),
		revealCase{fmt.Sprintf("mlp-784-%d-10-adam", widest.Hidden[0]), widest, 1, 200, 8, 0}) {
		b.Run(c.name, func(b *testing.B) {
			f, commit := prepareCommit(b, c, data)
			ms := keeper.NewMsgServerImpl(f.Verification)
			var gas uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctx, _ := f.Ctx.CacheContext()
				ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
				if _, err := ms.OpenTranscript(ctx, commit); err != nil {
					b.Fatal(err)
				}
				gas = ctx.GasMeter().GasConsumed()
			}
			b.StopTimer()
			nsPerGas := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(gas)
			b.ReportMetric(float64(gas), "gas")
			b.ReportMetric(nsPerGas, "ns/gas")
			b.ReportMetric(float64(engine.EncodedStateSize(c.spec))/1024, "state_KiB")
			if p := costliestPreset("simd"); p > 0 && engine.SIMDAvailable() {
				b.ReportMetric(nsPerGas/p, "x_preset")
			}
		})
	}
}

// widestAdamMLP is the widest 784-H-10 Adam MLP (batch 1, one-step segments)
// that the default limits accept.
func widestAdamMLP(tb testing.TB, data *dataset.File) engine.Spec {
	spec := func(h uint32) engine.Spec {
		s := engine.DefaultSpecMNISTMLP()
		s.Hidden, s.BatchSize = []uint32{h}, 1
		s.Optimizer, s.Momentum = engine.OptimizerAdam, 0
		s.LearningRate, s.Beta1, s.Beta2, s.Epsilon = 66, 58982, 65470, 1
		return s
	}
	params := types.DefaultParams()
	ref := taskstypes.DatasetRef{Root: data.Root(), Rows: data.Len(), Schema: taskstypes.FromDatasetSchema(data.Schema())}
	lo, hi := uint32(1), uint32(4096)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		cost, err := recompute.SegmentCost(taskstypes.FromEngineSpec(spec(mid), 200, 1, nil), ref, 0)
		if err == nil && cost.Check(params) == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return spec(lo)
}

// prepareCommit posts and claims the case and returns an honest-looking
// open (h_0 right, h_N consistent with the final hashes) of a sealed
// transcript of a second worker, whose claims are closed.
func prepareCommit(tb testing.TB, c revealCase, data *dataset.File) (*keepers.Fixture, *types.MsgOpenTranscript) {
	f, _, open := prepareCase(tb, revealCase{c.name, c.spec, c.segmentSteps, c.segments, c.samples, c.rows}, data, true)
	return f, open
}
