package keeper_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	"github.com/hinterland-ai/hinterland/x/tasks/keeper"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

var (
	poster  = keepers.Addr(1)
	worker  = keepers.Addr(2)
	worker2 = keepers.Addr(3)
	data    = fixtures.Synthetic(64)
)

func setup(t *testing.T) (*keepers.Fixture, types.MsgServer) {
	f := keepers.New(t)
	for _, a := range []sdk.AccAddress{poster, worker, worker2} {
		f.Fund(t, a, 10_000_000)
	}
	return f, keeper.NewMsgServerImpl(f.Tasks)
}

func post(t *testing.T, f *keepers.Fixture, ms types.MsgServer, mutate func(*types.MsgPostTask)) uint64 {
	t.Helper()
	msg := fixtures.PostMsg(poster, data)
	if mutate != nil {
		mutate(msg)
	}
	var id uint64
	require.NoError(t, f.CacheCtx(func(ctx sdk.Context) error {
		res, err := ms.PostTask(ctx, msg)
		if err == nil {
			id = res.TaskId
		}
		return err
	}))
	f.RequireCustody(t)
	return id
}

func TestPostTaskEscrowsAndOpens(t *testing.T) {
	f, ms := setup(t)
	before := f.Balance(poster)
	id := post(t, f, ms, nil)
	require.Equal(t, uint64(1), id)

	task, err := f.Tasks.GetTask(f.Ctx, id)
	require.NoError(t, err)
	require.Equal(t, types.TASK_STATUS_OPEN, task.Status)
	require.Len(t, task.Seed, 32)
	require.Equal(t, types.TaskSeed(id, f.Ctx.HeaderHash()), task.Seed)
	require.Equal(t, keepers.Start.Add(time.Hour), task.ClaimDeadline)
	require.Equal(t, uint32(2), task.Samples)
	require.Len(t, task.SpecHash, 32)
	require.Equal(t, before.SubRaw(1_000_000), f.Balance(poster))
	require.Equal(t, sdkmath.NewInt(1_000_000), f.ModuleBalance("rewards"))

	// A second post gets the next id and a different seed.
	id2 := post(t, f, ms, nil)
	task2, err := f.Tasks.GetTask(f.Ctx, id2)
	require.NoError(t, err)
	require.Equal(t, uint64(2), id2)
	require.NotEqual(t, task.Seed, task2.Seed)
}

func TestPostTaskDerivesSamplesFromDetection(t *testing.T) {
	f, ms := setup(t)
	// 90% detection of a 10% forger: (0.9)^k <= 0.1 -> k = 22; 12 steps in 12 segments caps it.
	id := post(t, f, ms, func(m *types.MsgPostTask) {
		m.Samples, m.DetectionBps = 0, 5_000 // 50%: 0.9^7 = 0.478 -> k = 7
		m.Spec = fixtures.Spec(12, 1)
	})
	task, err := f.Tasks.GetTask(f.Ctx, id)
	require.NoError(t, err)
	require.Equal(t, uint32(7), task.Samples)
	require.Equal(t, uint32(5_000), task.DetectionBps)
}

func TestDeriveSamples(t *testing.T) {
	for _, c := range []struct {
		detection, forged uint32
		want              uint32
	}{
		{5_000, 1_000, 7},  // 0.9^7 = 0.478
		{9_000, 1_000, 22}, // 0.9^22 = 0.0985
		{9_900, 1_000, 44}, // 0.9^44 = 0.0097
		{9_000, 5_000, 4},  // 0.5^4 = 0.0625
		{1, 9_999, 1},      // anything catches a total forger
	} {
		k, err := types.DeriveSamples(c.detection, c.forged)
		require.NoError(t, err)
		require.Equal(t, c.want, k, "detection %d forged %d", c.detection, c.forged)
	}
	_, err := types.DeriveSamples(10_000, 1_000)
	require.Error(t, err)
	_, err = types.DeriveSamples(5_000, 0)
	require.Error(t, err)
}

// Every rejection is a registered error and leaves state and balances untouched.
func TestPostTaskRejections(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*types.MsgPostTask)
		err    *errorsmod.Error
	}{
		{"bad poster", func(m *types.MsgPostTask) { m.Poster = "hinter1bogus" }, types.ErrInvalidAddress},
		{"unknown model", func(m *types.MsgPostTask) { m.Spec.Model = 7 }, types.ErrInvalidSpec},
		{"zero batch", func(m *types.MsgPostTask) { m.Spec.BatchSize = 0 }, types.ErrInvalidSpec},
		{"zero learning rate", func(m *types.MsgPostTask) { m.Spec.LearningRate = 0 }, types.ErrInvalidSpec},
		{"frac bits out of range", func(m *types.MsgPostTask) { m.Spec.FracBits = 40 }, types.ErrInvalidSpec},
		{"zero total steps", func(m *types.MsgPostTask) { m.Spec.TotalSteps = 0 }, types.ErrInvalidSpec},
		{"too many steps", func(m *types.MsgPostTask) { m.Spec.TotalSteps = 2_000_000; m.Spec.SegmentSteps = 10_000 }, types.ErrInvalidSpec},
		{"zero segment steps", func(m *types.MsgPostTask) { m.Spec.SegmentSteps = 0 }, types.ErrInvalidSpec},
		{"too many segments", func(m *types.MsgPostTask) { m.Spec.TotalSteps = types.DefaultMaxSegments + 1; m.Spec.SegmentSteps = 1 }, types.ErrInvalidSpec},
		{"base hash without lora", func(m *types.MsgPostTask) { m.Spec.BaseModelHash = make([]byte, 32) }, types.ErrInvalidSpec},
		{"short root", func(m *types.MsgPostTask) { m.Dataset.Root = []byte{1, 2, 3} }, types.ErrInvalidDataset},
		{"no rows", func(m *types.MsgPostTask) { m.Dataset.Rows = 0 }, types.ErrInvalidDataset},
		{"fewer rows than a batch", func(m *types.MsgPostTask) { m.Dataset.Rows = 4 }, types.ErrInvalidDataset},
		{"schema features mismatch", func(m *types.MsgPostTask) { m.Dataset.Schema.Features = 15 }, types.ErrInvalidDataset},
		{"schema classes mismatch", func(m *types.MsgPostTask) { m.Dataset.Schema.Classes = 5 }, types.ErrInvalidDataset},
		{"empty uri", func(m *types.MsgPostTask) { m.Dataset.Uri = "" }, types.ErrInvalidDataset},
		{"ftp uri", func(m *types.MsgPostTask) { m.Dataset.Uri = "ftp://x/y" }, types.ErrInvalidDataset},
		{"huge uri", func(m *types.MsgPostTask) { m.Dataset.Uri = "https://x/" + string(make([]byte, 600)) }, types.ErrInvalidDataset},
		{"wrong reward denom", func(m *types.MsgPostTask) { m.Reward.Denom = "uatom" }, types.ErrInvalidReward},
		{"reward below minimum", func(m *types.MsgPostTask) { m.Reward.Amount = sdkmath.NewInt(999) }, types.ErrInvalidReward},
		{"bond below minimum", func(m *types.MsgPostTask) { m.Bond.Amount = sdkmath.NewInt(10) }, types.ErrInvalidBond},
		{"too many replicas", func(m *types.MsgPostTask) { m.Replicas = 9 }, types.ErrInvalidReplicas},
		{"no samples", func(m *types.MsgPostTask) { m.Samples = 0 }, types.ErrInvalidSamples},
		{"samples and detection", func(m *types.MsgPostTask) { m.DetectionBps = 5000 }, types.ErrInvalidSamples},
		{"more samples than segments", func(m *types.MsgPostTask) { m.Samples = 5 }, types.ErrInvalidSamples},
		{"detection of certainty", func(m *types.MsgPostTask) { m.Samples = 0; m.DetectionBps = 10_000 }, types.ErrInvalidSamples},
		{"claim window too short", func(m *types.MsgPostTask) { m.ClaimWindow = time.Second }, types.ErrInvalidWindow},
		{"commit window too long", func(m *types.MsgPostTask) { m.CommitWindow = 30 * 24 * time.Hour }, types.ErrInvalidWindow},
		{"poster cannot pay", func(m *types.MsgPostTask) { m.Reward.Amount = sdkmath.NewInt(1_000_000_000) }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, ms := setup(t)
			before := f.Snapshot(t, poster)
			msg := fixtures.PostMsg(poster, data)
			c.mutate(msg)
			err := f.CacheCtx(func(ctx sdk.Context) error { _, err := ms.PostTask(ctx, msg); return err })
			require.Error(t, err)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
			} else {
				require.ErrorIs(t, err, rewardstypes.ErrInsufficientFunds)
			}
			require.Equal(t, before, f.Snapshot(t, poster))
			f.RequireCustody(t)
		})
	}
}

// With a lower min_reward a reward can be too small to give every replica a
// share; such a post is refused.
func TestPostTaskRewardBelowReplicaShares(t *testing.T) {
	f, ms := setup(t)
	p, err := f.Tasks.Params.Get(f.Ctx)
	require.NoError(t, err)
	p.MinReward = sdkmath.NewInt(1)
	require.NoError(t, f.Tasks.Params.Set(f.Ctx, p))
	msg := fixtures.PostMsg(poster, data)
	msg.Reward.Amount, msg.Replicas = sdkmath.NewInt(3), 4
	before := f.Snapshot(t, poster)
	err = f.CacheCtx(func(ctx sdk.Context) error { _, err := ms.PostTask(ctx, msg); return err })
	require.ErrorIs(t, err, types.ErrInvalidReward)
	require.Equal(t, before, f.Snapshot(t, poster))
}

func TestClaimTask(t *testing.T) {
	f, ms := setup(t)
	id := post(t, f, ms, func(m *types.MsgPostTask) { m.Replicas = 2; m.Reward.Amount = sdkmath.NewInt(1_000_001) })
	before := f.Balance(worker)
	_, err := ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id})
	require.NoError(t, err)
	f.RequireCustody(t)
	require.Equal(t, before.SubRaw(200_000), f.Balance(worker))

	a, err := f.Tasks.GetAssignment(f.Ctx, id, worker)
	require.NoError(t, err)
	require.Equal(t, types.ASSIGNMENT_STATUS_ACTIVE, a.Status)
	require.Equal(t, keepers.Start.Add(30*time.Minute), a.CommitDeadline)
	task, _ := f.Tasks.GetTask(f.Ctx, id)
	require.Equal(t, types.TASK_STATUS_OPEN, task.Status, "one of two slots left")

	_, err = ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker2.String(), TaskId: id})
	require.NoError(t, err)
	task, _ = f.Tasks.GetTask(f.Ctx, id)
	require.Equal(t, types.TASK_STATUS_ASSIGNED, task.Status)
	require.Equal(t, uint32(2), task.Active)
	f.RequireCustody(t)
	require.Equal(t, sdkmath.NewInt(1_000_001+400_000), f.ModuleBalance("rewards"))
}

func TestClaimRejections(t *testing.T) {
	third := keepers.Addr(4)
	cases := []struct {
		name  string
		setup func(f *keepers.Fixture, ms types.MsgServer, id uint64)
		msg   func(id uint64) *types.MsgClaimTask
		err   *errorsmod.Error
	}{
		{"unknown task", nil, func(uint64) *types.MsgClaimTask { return &types.MsgClaimTask{Worker: worker.String(), TaskId: 99} }, types.ErrTaskNotFound},
		{"bad worker", nil, func(id uint64) *types.MsgClaimTask { return &types.MsgClaimTask{Worker: "x", TaskId: id} }, types.ErrInvalidAddress},
		{"own task", nil, func(id uint64) *types.MsgClaimTask { return &types.MsgClaimTask{Worker: poster.String(), TaskId: id} }, types.ErrOwnTask},
		// bech32 also accepts the all-upper-case spelling of the poster's address.
		{"own task, upper-case address", nil, func(id uint64) *types.MsgClaimTask {
			return &types.MsgClaimTask{Worker: strings.ToUpper(poster.String()), TaskId: id}
		}, types.ErrOwnTask},
		{"claimed twice", func(f *keepers.Fixture, ms types.MsgServer, id uint64) {
			_, err := ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id})
			if err != nil {
				panic(err)
			}
		}, func(id uint64) *types.MsgClaimTask { return &types.MsgClaimTask{Worker: worker.String(), TaskId: id} }, types.ErrTaskNotOpen},
		{"slots full", func(f *keepers.Fixture, ms types.MsgServer, id uint64) {
			_, err := ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id})
			if err != nil {
				panic(err)
			}
		}, func(id uint64) *types.MsgClaimTask { return &types.MsgClaimTask{Worker: worker2.String(), TaskId: id} }, types.ErrTaskNotOpen},
		{"cannot pay the bond", nil, func(id uint64) *types.MsgClaimTask { return &types.MsgClaimTask{Worker: third.String(), TaskId: id} }, nil},
		{"claim deadline passed", func(f *keepers.Fixture, _ types.MsgServer, _ uint64) {
			f.Ctx = f.Ctx.WithBlockTime(keepers.Start.Add(2 * time.Hour))
		}, func(id uint64) *types.MsgClaimTask { return &types.MsgClaimTask{Worker: worker.String(), TaskId: id} }, types.ErrTaskNotOpen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, ms := setup(t)
			id := post(t, f, ms, nil)
			if c.setup != nil {
				c.setup(f, ms, id)
			}
			before := f.Snapshot(t, poster, worker, worker2, third)
			msg := c.msg(id)
			err := f.CacheCtx(func(ctx sdk.Context) error { _, err := ms.ClaimTask(ctx, msg); return err })
			require.Error(t, err)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
			}
			require.Equal(t, before, f.Snapshot(t, poster, worker, worker2, third))
			f.RequireCustody(t)
		})
	}
}

func TestCancelTask(t *testing.T) {
	f, ms := setup(t)
	before := f.Balance(poster)
	id := post(t, f, ms, nil)

	err := f.CacheCtx(func(ctx sdk.Context) error {
		_, err := ms.CancelTask(ctx, &types.MsgCancelTask{Poster: worker.String(), TaskId: id})
		return err
	})
	require.ErrorIs(t, err, types.ErrNotPoster)

	_, err = ms.CancelTask(f.Ctx, &types.MsgCancelTask{Poster: poster.String(), TaskId: id})
	require.NoError(t, err)
	require.Equal(t, before, f.Balance(poster), "full refund")
	task, _ := f.Tasks.GetTask(f.Ctx, id)
	require.Equal(t, types.TASK_STATUS_CANCELLED, task.Status)
	require.True(t, f.ModuleBalance("rewards").IsZero())
	f.RequireCustody(t)

	_, err = ms.CancelTask(f.Ctx, &types.MsgCancelTask{Poster: poster.String(), TaskId: id})
	require.ErrorIs(t, err, types.ErrWrongState)

	// Claimed tasks cannot be cancelled.
	id2 := post(t, f, ms, nil)
	_, err = ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id2})
	require.NoError(t, err)
	snap := f.Snapshot(t, poster, worker)
	err = f.CacheCtx(func(ctx sdk.Context) error {
		_, err := ms.CancelTask(ctx, &types.MsgCancelTask{Poster: poster.String(), TaskId: id2})
		return err
	})
	require.ErrorIs(t, err, types.ErrTaskClaimed)
	require.Equal(t, snap, f.Snapshot(t, poster, worker))
}

// post -> claim -> commit deadline missed (slash, reopen) -> claim deadline
// passes with no claim -> refund. Balances are exact at every step.
func TestDeadlines(t *testing.T) {
	f, ms := setup(t)
	posterStart, workerStart := f.Balance(poster), f.Balance(worker)
	supply := f.Supply()
	id := post(t, f, ms, nil)
	_, err := ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id})
	require.NoError(t, err)

	f.Advance(t, 29*time.Minute)
	a, _ := f.Tasks.GetAssignment(f.Ctx, id, worker)
	require.Equal(t, types.ASSIGNMENT_STATUS_ACTIVE, a.Status, "deadline not reached")

	f.Advance(t, 2*time.Minute) // 31 min: the end blocker of the next block sees it
	f.Advance(t, time.Second)
	a, _ = f.Tasks.GetAssignment(f.Ctx, id, worker)
	require.Equal(t, types.ASSIGNMENT_STATUS_FAILED, a.Status)
	require.Equal(t, "commit deadline missed", a.Failure)
	task, _ := f.Tasks.GetTask(f.Ctx, id)
	require.Equal(t, types.TASK_STATUS_OPEN, task.Status, "the slot reopens while claims are accepted")
	require.Equal(t, uint32(0), task.Active)
	f.RequireCustody(t)
	// Bond 200 000: 50% + 30% (no challenger) to the poster, 20% burned.
	require.Equal(t, workerStart.SubRaw(200_000), f.Balance(worker))
	require.Equal(t, posterStart.SubRaw(1_000_000).AddRaw(160_000), f.Balance(poster))
	require.Equal(t, supply.SubRaw(40_000), f.Supply())

	// A failed worker cannot claim again; another can.
	_, err = ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id})
	require.ErrorIs(t, err, types.ErrAlreadyClaimed)

	f.Advance(t, time.Hour) // past the claim deadline with nothing in flight
	f.Advance(t, time.Second)
	task, _ = f.Tasks.GetTask(f.Ctx, id)
	require.Equal(t, types.TASK_STATUS_EXPIRED, task.Status)
	require.Equal(t, posterStart.AddRaw(160_000), f.Balance(poster))
	require.True(t, f.ModuleBalance("rewards").IsZero())
	f.RequireCustody(t)
	has, err := f.Tasks.ClaimQueue.Has(f.Ctx, collectionsPair(task))
	require.NoError(t, err)
	require.False(t, has, "queue entry removed")
}

// An address spelled in upper case is the same account: state keeps the
// canonical spelling, the poster and worker filters of the Tasks query find
// its tasks under either spelling, and cancelling works under either.
func TestUpperCaseAddressesAreTheSameAccount(t *testing.T) {
	f, ms := setup(t)
	upper := func(a sdk.AccAddress) string { return strings.ToUpper(a.String()) }
	id := post(t, f, ms, func(m *types.MsgPostTask) { m.Poster = upper(poster) })
	other := post(t, f, ms, nil)

	task, err := f.Tasks.GetTask(f.Ctx, id)
	require.NoError(t, err)
	require.Equal(t, poster.String(), task.Poster, "state stores the canonical spelling")

	_, err = ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: upper(worker), TaskId: id})
	require.NoError(t, err)
	a, err := f.Tasks.GetAssignment(f.Ctx, id, worker)
	require.NoError(t, err)
	require.Equal(t, worker.String(), a.Worker)

	q := keeper.NewQuerier(f.Tasks)
	for _, spelling := range []string{poster.String(), upper(poster)} {
		res, err := q.Tasks(f.Ctx, &types.QueryTasksRequest{Poster: spelling})
		require.NoError(t, err)
		require.Len(t, res.Tasks, 2, "poster filter %s", spelling)
	}
	for _, spelling := range []string{worker.String(), upper(worker)} {
		res, err := q.Tasks(f.Ctx, &types.QueryTasksRequest{Worker: spelling})
		require.NoError(t, err)
		require.Len(t, res.Tasks, 1, "worker filter %s", spelling)
		require.Equal(t, id, res.Tasks[0].Id)
	}
	// Both filters at once: the worker index is walked and the poster compared as bytes.
	res, err := q.Tasks(f.Ctx, &types.QueryTasksRequest{Worker: worker.String(), Poster: upper(poster)})
	require.NoError(t, err)
	require.Len(t, res.Tasks, 1)

	_, err = ms.CancelTask(f.Ctx, &types.MsgCancelTask{Poster: upper(poster), TaskId: other})
	require.NoError(t, err)
	task, err = f.Tasks.GetTask(f.Ctx, other)
	require.NoError(t, err)
	require.Equal(t, types.TASK_STATUS_CANCELLED, task.Status)
	f.RequireCustody(t)
}

// PostTask, ClaimTask and UpdateParams emit the typed events a worker or dApp
// follows, with the values of the new state.
func TestTypedEvents(t *testing.T) {
	f, ms := setup(t)
	f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager())
	id := post(t, f, ms, nil)
	_, err := ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id})
	require.NoError(t, err)
	params, err := f.Tasks.GetParams(f.Ctx)
	require.NoError(t, err)
	params.MaxReplicas++
	_, err = ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Tasks.Authority(), Params: params})
	require.NoError(t, err)

	events := keepers.TypedEvents(t, f.Ctx)
	posted, ok := events[types.EventTypeTaskPosted].(*types.EventTaskPosted)
	require.True(t, ok, "no %s event", types.EventTypeTaskPosted)
	require.Equal(t, id, posted.TaskId)
	require.Equal(t, poster.String(), posted.Poster)
	claimed, ok := events[types.EventTypeTaskClaimed].(*types.EventTaskClaimed)
	require.True(t, ok, "no %s event", types.EventTypeTaskClaimed)
	require.Equal(t, id, claimed.TaskId)
	require.Equal(t, worker.String(), claimed.Worker)
	updated, ok := events[types.EventTypeParamsUpdated].(*types.EventParamsUpdated)
	require.True(t, ok, "no %s event", types.EventTypeParamsUpdated)
	require.Equal(t, params.String(), updated.Params.String()) // an empty list decodes as [], not nil
	require.Equal(t, f.Tasks.Authority(), updated.Authority)
	require.Equal(t, types.EventTypeTaskPosted, proto.MessageName(&types.EventTaskPosted{}))
}

// TestPostStackedBase: a LoRA task whose base is a LoRA result recorded on
// chain (DPO on a fine-tune) must say so with base_lora_rank = that task's
// rank; the chain refuses a stacked base passed off as dense, a wrong rank,
// a dense or unknown model called stacked, and a second level of stacking.
func TestPostStackedBase(t *testing.T) {
	f, ms := setup(t)
	lora := func(base []byte, baseRank uint32) func(*types.MsgPostTask) {
		return func(m *types.MsgPostTask) {
			m.Spec.LoraRank, m.Spec.LoraAlpha = 2, 1<<16
			m.Spec.BaseModelHash, m.Spec.BaseLoraRank = base, baseRank
		}
	}
	hash := func(b byte) []byte { return append(make([]byte, 31), b) }
	pretrain := post(t, f, ms, nil)
	hP := hash(1)
	tuned := post(t, f, ms, lora(hP, 0)) // an unregistered dense base is fine
	hL := hash(2)
	require.NoError(t, f.Tasks.Models.Set(f.Ctx, hP, types.ModelRecord{ModelHash: hP, TaskId: pretrain}))
	require.NoError(t, f.Tasks.Models.Set(f.Ctx, hL, types.ModelRecord{ModelHash: hL, TaskId: tuned, BaseModelHash: hP}))

	aligned := post(t, f, ms, lora(hL, 2))
	task, err := f.Tasks.GetTask(f.Ctx, aligned)
	require.NoError(t, err)
	require.Equal(t, uint32(2), task.Spec.BaseLoraRank)
	hD := hash(3)
	require.NoError(t, f.Tasks.Models.Set(f.Ctx, hD, types.ModelRecord{ModelHash: hD, TaskId: aligned, BaseModelHash: hL}))

	// The lineage reads aligned -> LoRA -> base; the model query shows the
	// architecture and what each model is.
	q := keeper.NewQuerier(f.Tasks)
	lin, err := q.Lineage(f.Ctx, &types.QueryLineageRequest{ModelHash: hex.EncodeToString(hD)})
	require.NoError(t, err)
	require.Len(t, lin.Records, 3)
	require.Equal(t, [][]byte{hD, hL, hP}, [][]byte{lin.Records[0].ModelHash, lin.Records[1].ModelHash, lin.Records[2].ModelHash})
	mq, err := q.Model(f.Ctx, &types.QueryModelRequest{ModelHash: hex.EncodeToString(hD)})
	require.NoError(t, err)
	require.Equal(t, "linear 16-4 F=16", mq.Architecture)
	require.Equal(t, "fine-tuned (LoRA rank 2)", mq.Kind)
	require.Equal(t, uint32(2), mq.Spec.BaseLoraRank)
	require.Equal(t, uint64(16*4+4), mq.Parameters)
	mq, err = q.Model(f.Ctx, &types.QueryModelRequest{ModelHash: hex.EncodeToString(hP)})
	require.NoError(t, err)
	require.Equal(t, "trained from scratch", mq.Kind)
	_, err = q.Model(f.Ctx, &types.QueryModelRequest{ModelHash: hex.EncodeToString(hash(9))})
	require.Error(t, err)
	_, err = q.Model(f.Ctx, &types.QueryModelRequest{ModelHash: "zz"})
	require.Error(t, err)

	for _, c := range []struct {
		name   string
		mutate func(*types.MsgPostTask)
		want   string
	}{
		{"LoRA result passed off as dense", lora(hL, 0), "base_lora_rank must be 2"},
		{"wrong base rank", lora(hL, 3), "base_lora_rank must be 2"},
		{"dense model called stacked", lora(hP, 2), "is dense"},
		{"unknown model called stacked", lora(hash(9), 2), "not a LoRA result recorded on chain"},
		{"two levels of stacking", lora(hD, 2), "one level only"},
		{"stacked base without LoRA", func(m *types.MsgPostTask) { m.Spec.BaseLoraRank = 2 }, "stacked base needs lora_rank"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.Snapshot(t, poster)
			msg := fixtures.PostMsg(poster, data)
			c.mutate(msg)
			err := f.CacheCtx(func(ctx sdk.Context) error { _, err := ms.PostTask(ctx, msg); return err })
			require.ErrorIs(t, err, types.ErrInvalidSpec)
			require.Contains(t, err.Error(), c.want)
			require.Equal(t, before, f.Snapshot(t, poster))
		})
	}
}
