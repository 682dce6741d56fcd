package keeper_test

import (
	"crypto/sha256"
	"runtime"
	"testing"
	"time"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// attackSpec is the shape of the memory attack: one segment of a million
// steps, batch 1024, on a dataset that claims 2^40 rows. Before the fix a
// 357-byte reveal made every validator build and sort 10^9 row indices.
func attackSpec(msg *taskstypes.MsgPostTask) {
	msg.Spec.TotalSteps, msg.Spec.SegmentSteps, msg.Spec.BatchSize = 1_000_000, 1_000_000, 1024
	msg.Dataset.Rows = 1 << 40
	msg.Samples = 1
}

// PostTask refuses any task one of whose segments cannot be revealed within
// the per-reveal limits, with a registered error, and changes nothing.
func TestPostRefusesUnrevealableTasks(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*taskstypes.MsgPostTask)
		want   string
	}{
		{"the memory attack: 10^9 row look-ups in one segment", attackSpec, "max_batch_rows_per_reveal"},
		{"more rows than a Merkle proof can address", func(m *taskstypes.MsgPostTask) { m.Dataset.Rows = 1 << 63 }, "what a row's Merkle proof can address"},
		{"reveal bytes: 8192 steps x batch 8 over 2^40 rows (41-aunt proofs)", func(m *taskstypes.MsgPostTask) {
			m.Spec.TotalSteps, m.Spec.SegmentSteps, m.Dataset.Rows = 8192, 8192, 1<<40
		}, "max_reveal_bytes"},
		{"MACs: a 4096-wide layer, batch 1024, 64 steps", func(m *taskstypes.MsgPostTask) {
			m.Spec.Model, m.Spec.Hidden = taskstypes.MODEL_KIND_MLP, []uint32{4096}
			m.Spec.TotalSteps, m.Spec.SegmentSteps, m.Spec.BatchSize = 64, 64, 1024
			m.Dataset.Rows = 4096
		}, "max_macs_per_reveal"},
		{"gas: softmax over 4096 classes, batch 32, 700 steps (activations, not MACs)", func(m *taskstypes.MsgPostTask) {
			m.Spec.Inputs, m.Spec.Outputs = 1, 4096
			m.Spec.TotalSteps, m.Spec.SegmentSteps, m.Spec.BatchSize = 700, 700, 32
			m.Dataset.Rows = 4096
			m.Dataset.Schema.Features, m.Dataset.Schema.Classes = 1, 4096
		}, "max_gas_per_reveal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 2, 1)
			msg := fixtures.PostMsg(poster, data)
			c.mutate(msg)
			before := e.f.Snapshot(t, poster)
			err := e.f.CacheCtx(func(ctx sdk.Context) error { _, err := e.tasks.PostTask(ctx, msg); return err })
			require.ErrorIs(t, err, taskstypes.ErrInvalidSpec)
			require.ErrorContains(t, err, c.want)
			require.Equal(t, before, e.f.Snapshot(t, poster))
		})
	}
}

// A task already in state that exceeds the limits (posted before governance
// tightened them, or imported) cannot make a reveal allocate: the handler
// checks the segment's cost in O(1) and refuses before building anything.
// The attacker seals and opens [h_0, anything] and reveals the initial state with no
// rows, as in the report.
func TestRevealOfOversizedSegmentIsRefusedBeforeWork(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	task := e.task(t)
	attack := &taskstypes.MsgPostTask{Spec: task.Spec, Dataset: task.Dataset}
	attackSpec(attack)
	task.Spec, task.Dataset = attack.Spec, attack.Dataset
	task.Samples = 1
	require.NoError(t, f.Tasks.Tasks.Set(f.Ctx, task.Id, task))

	_, err := e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: e.id})
	require.NoError(t, err)
	job, err := taskstypes.EngineJob(task)
	require.NoError(t, err)
	init, err := engine.NewInitialState(job)
	require.NoError(t, err)
	h0 := init.Hash()
	mh, oh := sha256.Sum256([]byte("model")), sha256.Sum256([]byte("opt"))
	hN := engine.StateHashFrom(mh, oh, task.Spec.TotalSteps)
	sealOpen(t, f.Ctx, e.ms, worker, &types.MsgOpenTranscript{
		Worker: worker.String(), TaskId: e.id, Checkpoints: [][]byte{h0[:], hN[:]},
		FinalModelHash: mh[:], FinalOptHash: oh[:], Uri: "http://127.0.0.1:1/ckpt", Salt: fixtures.Salt(worker),
	})
	f.Advance(t, 5*time.Second)
	require.Equal(t, []uint32{0}, e.pending(t, worker))

	reveal := &types.MsgRevealSegment{Worker: worker.String(), TaskId: e.id, Segment: 0, StartState: init.Encode()}
	before := f.Snapshot(t, worker, poster)
	var err2 error
	alloc := allocated(func() {
		err2 = f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.RevealSegment(ctx, reveal); return err })
	})
	require.ErrorIs(t, err2, types.ErrTooMuchWork)
	require.ErrorContains(t, err2, "max_batch_rows_per_reveal")
	require.Less(t, alloc, uint64(4<<20), "the refused reveal allocated %d bytes", alloc)
	require.Equal(t, before, f.Snapshot(t, worker, poster), "a refused reveal changes nothing")
	f.RequireCustody(t)
}

// Gas for every unit of work is charged before the work: a reveal that asks
// for the largest accepted segment and carries no rows pays for all of its row
// look-ups and MACs, and with too little gas it stops at the charge, having
// built nothing.
func TestRevealPaysBeforeWork(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	params, err := f.Verification.Params.Get(f.Ctx)
	require.NoError(t, err)
	// The largest segment the limits allow on this model: steps x batch =
	// max_batch_rows_per_reveal, over the 64-row dataset.
	msg := fixtures.PostMsg(poster, data)
	steps := params.MaxBatchRowsPerReveal / uint64(msg.Spec.BatchSize)
	msg.Spec.TotalSteps, msg.Spec.SegmentSteps, msg.Samples = steps, steps, 1
	res, err := e.tasks.PostTask(f.Ctx, msg)
	require.NoError(t, err)
	e.id = res.TaskId
	run := e.claimCommit(t, worker)
	f.Advance(t, 5*time.Second)
	require.Equal(t, []uint32{0}, e.pending(t, worker))

	cost, err := recompute.SegmentCost(msg.Spec, msg.Dataset, 0)
	require.NoError(t, err)
	require.Equal(t, params.MaxBatchRowsPerReveal, cost.BatchRows)
	empty := &types.MsgRevealSegment{Worker: worker.String(), TaskId: e.id, StartState: run.States[0].Encode()}

	// Enough gas: the charge covers every look-up and MAC, then the reveal is
	// refused as malformed (no rows) and changes nothing.
	ctx := f.Ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
	_, err = e.ms.RevealSegment(ctx, empty)
	require.ErrorIs(t, err, types.ErrBadRows)
	used := ctx.GasMeter().GasConsumed()
	require.GreaterOrEqual(t, used, cost.BatchRows*params.GasPerBatchRow+cost.MACs*params.GasPerMac,
		"gas %d must cover %d look-ups and %d MACs", used, cost.BatchRows, cost.MACs)

	// Too little gas: out of gas at the charge, before anything is built.
	limited := f.Ctx.WithGasMeter(storetypes.NewGasMeter(cost.MACs * params.GasPerMac / 2))
	var panicked any
	alloc := allocated(func() {
		defer func() { panicked = recover() }()
		_, _ = e.ms.RevealSegment(limited, empty)
	})
	oog, ok := panicked.(storetypes.ErrorOutOfGas)
	require.True(t, ok, "want out of gas, got %v", panicked)
	require.Equal(t, "verification: recomputation", oog.Descriptor)
	require.Less(t, alloc, uint64(1<<20), "an out-of-gas reveal allocated %d bytes", alloc)

	// The honest reveal of the same segment still passes.
	good, err := run.Reveal(worker, 0)
	require.NoError(t, err)
	ok2, err := e.ms.RevealSegment(f.Ctx, good)
	require.NoError(t, err)
	require.True(t, ok2.Match)
	f.RequireCustody(t)
}

// allocated returns the bytes fn allocated on the heap.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
