package keeper_test

import (
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// TestLMStackedBaseReveal is base -> LoRA -> aligned on chain: a LoRA
// fine-tune of a transformer is recorded as a model, a DPO task names it as
// its stacked base, and the DPO segment's reveal carries the dense base and
// the adapters. The handler merges them (charging the merge as MACs),
// recomputes the DPO step against the merged reference and upholds it; a
// reveal with the dense base alone, or with another fine-tune stacked on
// the right base, is refused without a verdict.
func TestLMStackedBaseReveal(t *testing.T) {
	const T = 16
	pre := engine.Spec{Model: engine.ModelTransformer, Inputs: T, Hidden: []uint32{1, 16, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerSGD, LearningRate: 655, BatchSize: 2, FracBits: 16}
	lora := pre
	lora.LoRARank, lora.LoRAAlpha = 2, 2<<16
	dpo := lora
	dpo.Objective, dpo.DPOBeta = engine.ObjectiveDPO, 6554
	text, pairs := fixtures.SyntheticTokens(64, T, false), fixtures.SyntheticTokens(64, T, true)

	f := keepers.New(t)
	for _, a := range []sdk.AccAddress{poster, worker} {
		f.Fund(t, a, 10_000_000)
	}
	tasksMS := taskskeeper.NewMsgServerImpl(f.Tasks)
	postTask := func(es engine.Spec, d *dataset.File, base []byte, baseRank uint32, total, seg uint64) taskstypes.Task {
		spec := taskstypes.FromEngineSpec(es, total, seg, base)
		spec.BaseLoraRank = baseRank
		res, err := tasksMS.PostTask(f.Ctx, &taskstypes.MsgPostTask{
			Poster: poster.String(), Spec: spec,
			Dataset: taskstypes.DatasetRef{Root: d.Root(), Rows: d.Len(), Schema: taskstypes.FromDatasetSchema(d.Schema()), Uri: "file:///d.hlds"},
			Reward:  sdk.NewCoin("uhint", sdkmath.NewInt(1_000_000)), Bond: sdk.NewCoin("uhint", sdkmath.NewInt(100_000)),
			Samples: 1, Replicas: 1, ClaimWindow: time.Hour, CommitWindow: time.Hour,
		})
		require.NoError(t, err)
		task, err := f.Tasks.GetTask(f.Ctx, res.TaskId)
		require.NoError(t, err)
		return task
	}

	// The pretrained base P and a LoRA fine-tune L of it, recorded on chain.
	pst, err := engine.NewInitialState(engine.Job{Spec: pre, Seed: [32]byte{7}, RowCount: 64})
	require.NoError(t, err)
	P, err := pst.Model(nil)
	require.NoError(t, err)
	hP := P.Hash()
	fineTune := func(seed byte) (taskstypes.Task, *engine.State) {
		task := postTask(lora, text, hP[:], 0, 4, 2)
		job, err := taskstypes.EngineJob(task)
		require.NoError(t, err)
		job.Base = P
		job.Seed = [32]byte{seed}
		l0, err := engine.NewInitialState(job)
		require.NoError(t, err)
		src, err := text.Source(16)
		require.NoError(t, err)
		L, _, err := engine.RunSegment(job, l0, src, 2)
		require.NoError(t, err)
		return task, L
	}
	ltask, L := fineTune(1)
	hL := L.ModelHash()
	require.NoError(t, f.Tasks.Models.Set(f.Ctx, hL[:], taskstypes.ModelRecord{ModelHash: hL[:], TaskId: ltask.Id, BaseModelHash: hP[:]}))
	_, other := fineTune(2) // another fine-tune of P, not the one the task names

	// The DPO task on the stacked base, claimed, one segment trained.
	task := postTask(dpo, pairs, hL[:], lora.LoRARank, 4, 2)
	_, err = tasksMS.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: task.Id})
	require.NoError(t, err)
	task, err = f.Tasks.GetTask(f.Ctx, task.Id)
	require.NoError(t, err)
	stacked, err := engine.EncodeStackedBase(P, L)
	require.NoError(t, err)
	merged, id, _, err := engine.DecodeBase(stacked)
	require.NoError(t, err)
	job, err := taskstypes.EngineJob(task)
	require.NoError(t, err)
	job.Base, job.BaseHash = merged, id
	h0, err := engine.NewInitialState(job)
	require.NoError(t, err)
	src, err := pairs.Source(16)
	require.NoError(t, err)
	h1, _, err := engine.RunSegment(job, h0, src, 2)
	require.NoError(t, err)
	h2, _, err := engine.RunSegment(job, h1, src, 2)
	require.NoError(t, err)
	run := &fixtures.Run{Task: task, Job: job, Data: pairs, States: []*engine.State{h0, h1, h2}}
	ms := keeper.NewMsgServerImpl(f.Verification)
	open := run.Open(worker)
	sealOpen(t, f.Ctx, ms, worker, open)
	w, _ := sdk.AccAddressFromBech32(worker.String())
	require.NoError(t, f.Verification.Challenges.Set(f.Ctx, collectionsJoin3(task.Id, w, 1), types.Challenge{
		TaskId: task.Id, Worker: worker.String(), Segment: 1, Kind: types.CHALLENGE_KIND_SAMPLED,
		Deadline: f.Ctx.BlockTime().Add(time.Hour), Status: types.CHALLENGE_STATUS_PENDING,
	}))
	reveal, err := run.Reveal(worker, 1)
	require.NoError(t, err)

	otherStack, err := engine.EncodeStackedBase(P, other)
	require.NoError(t, err)
	for name, base := range map[string][]byte{
		"the dense base alone":              P.Encode(),
		"another fine-tune of the base":     otherStack,
		"the merged weights as a dense one": merged.Encode(),
	} {
		bad := *reveal
		bad.BaseModel = base
		ctx, _ := f.Ctx.CacheContext()
		_, err := ms.RevealSegment(ctx, &bad)
		require.ErrorIs(t, err, types.ErrBadBaseModel, name)
	}

	reveal.BaseModel = stacked
	ctx, write := f.Ctx.CacheContext()
	ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
	res, err := ms.RevealSegment(ctx, reveal)
	require.NoError(t, err)
	require.True(t, res.Match)
	write()
	cost, gas, err := recompute.RevealGas(task, 1, len(reveal.Rows), types.DefaultParams())
	require.NoError(t, err)
	require.Equal(t, 2*engine.MACsPerStep(dpo)+engine.MergeMACs(dpo.Arch(), 2), cost.MACs, "the merge is charged as MACs")
	require.Equal(t, engine.EncodedStackedBaseSize(dpo.Arch(), 2), cost.BaseBytes)
	require.GreaterOrEqual(t, ctx.GasMeter().GasConsumed(), gas)
	require.Equal(t, uint64(len(stacked)), cost.BaseBytes)
}
