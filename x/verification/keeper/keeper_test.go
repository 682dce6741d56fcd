package keeper_test

import (
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

var (
	poster     = keepers.Addr(1)
	worker     = keepers.Addr(2)
	worker2    = keepers.Addr(3)
	challenger = keepers.Addr(4)
	stranger   = keepers.Addr(5)
	data       = fixtures.Synthetic(64)
)

type env struct {
	f     *keepers.Fixture
	tasks taskstypes.MsgServer
	ms    types.MsgServer
	id    uint64
}

// newEnv posts a task (4 segments of 3 steps, `samples` samples, `replicas`).
func newEnv(t *testing.T, samples, replicas uint32) *env {
	t.Helper()
	f := keepers.New(t)
	for _, a := range []sdk.AccAddress{poster, worker, worker2, challenger, stranger} {
		f.Fund(t, a, 10_000_000)
	}
	e := &env{f: f, tasks: taskskeeper.NewMsgServerImpl(f.Tasks), ms: keeper.NewMsgServerImpl(f.Verification)}
	msg := fixtures.PostMsg(poster, data)
	msg.Samples, msg.Replicas = samples, replicas
	res, err := e.tasks.PostTask(f.Ctx, msg)
	require.NoError(t, err)
	e.id = res.TaskId
	return e
}

func (e *env) task(t *testing.T) taskstypes.Task {
	task, err := e.f.Tasks.GetTask(e.f.Ctx, e.id)
	require.NoError(t, err)
	return task
}

// claim claims for w and trains (forging the given segments).
func (e *env) claim(t *testing.T, w sdk.AccAddress, forge ...uint32) *fixtures.Run {
	t.Helper()
	_, err := e.tasks.ClaimTask(e.f.Ctx, &taskstypes.MsgClaimTask{Worker: w.String(), TaskId: e.id})
	require.NoError(t, err)
	run, err := fixtures.Train(e.task(t), data, forge...)
	require.NoError(t, err)
	return run
}

// claimCommit claims for w, trains (forging the given segments), seals and
// opens the transcript (w's claim must be the task's only one in flight).
func (e *env) claimCommit(t *testing.T, w sdk.AccAddress, forge ...uint32) *fixtures.Run {
	t.Helper()
	run := e.claim(t, w, forge...)
	sealOpen(t, e.f.Ctx, e.ms, w, run.Open(w))
	e.f.RequireCustody(t)
	return run
}

// challengeBond is the smallest bond of a fraud challenge on the task.
func (e *env) challengeBond(t *testing.T) sdk.Coin {
	params, err := e.f.Verification.Params.Get(e.f.Ctx)
	require.NoError(t, err)
	return recompute.ChallengeBond(e.task(t), params)
}

// challenge seals c's fraud challenge of w's segment seg, moves to the next
// block (a second later) and opens it.
func (e *env) challenge(t *testing.T, c, w sdk.AccAddress, seg uint32, bond sdk.Coin) {
	t.Helper()
	salt := challengeSalt(c, 0)
	_, err := e.ms.SealChallenge(e.f.Ctx, sealChallengeMsg(e.id, w, c, seg, salt, bond))
	require.NoError(t, err)
	e.f.RequireCustody(t)
	e.f.Advance(t, time.Second)
	_, err = e.ms.ChallengeSegment(e.f.Ctx, openChallengeMsg(e.id, w, c, seg, salt))
	require.NoError(t, err)
	e.f.RequireCustody(t)
}

func (e *env) transcript(t *testing.T, w sdk.AccAddress) types.Transcript {
	tr, err := e.f.Verification.GetTranscript(e.f.Ctx, e.id, w)
	require.NoError(t, err)
	return tr
}

func (e *env) pending(t *testing.T, w sdk.AccAddress) []uint32 {
	res, err := keeper.NewQuerier(e.f.Verification).Challenges(e.f.Ctx, &types.QueryChallengesRequest{TaskId: e.id})
	require.NoError(t, err)
	var out []uint32
	for _, c := range res.Challenges {
		if c.Worker == w.String() && c.Status == types.CHALLENGE_STATUS_PENDING {
			out = append(out, c.Segment)
		}
	}
	return out
}

// revealAll answers every pending challenge of w and returns the responses.
func (e *env) revealAll(t *testing.T, run *fixtures.Run, w sdk.AccAddress) []*types.MsgRevealSegmentResponse {
	t.Helper()
	var out []*types.MsgRevealSegmentResponse
	for _, seg := range e.pending(t, w) {
		msg, err := run.Reveal(w, seg)
		require.NoError(t, err)
		res, err := e.ms.RevealSegment(e.f.Ctx, msg)
		require.NoError(t, err)
		out = append(out, res)
		e.f.RequireCustody(t)
	}
	return out
}

var feeCollector = authtypes.NewModuleAddress(authtypes.FeeCollectorName)

// The honest path: commit, draw at the next block, reveal, pass, fraud window,
// final; worker paid share - 5% fee, bond back; fee to the fee collector; the
// model recorded in the lineage.
func TestHonestTranscriptPassesAndFinalises(t *testing.T) {
	e := newEnv(t, 2, 1)
	f := e.f
	workerStart, posterStart := f.Balance(worker), f.Balance(poster)
	run := e.claimCommit(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_COMMITTED, e.transcript(t, worker).Status)
	require.Empty(t, e.pending(t, worker), "no sample before the next block")

	committed, ok := keepers.TypedEvents(t, f.Ctx)[types.EventTypeTranscriptCommitted].(*types.EventTranscriptCommitted)
	require.True(t, ok, "no %s event", types.EventTypeTranscriptCommitted)
	require.Equal(t, uint32(4), committed.Segments)
	require.Equal(t, worker.String(), committed.Worker)

	f.Advance(t, 5*time.Second)
	tr := e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_CHALLENGED, tr.Status)
	require.Len(t, tr.Sampled, 2)
	require.ElementsMatch(t, tr.Sampled, e.pending(t, worker))
	drawn, ok := keepers.TypedEvents(t, f.Ctx)[types.EventTypeSegmentsChallenged].(*types.EventSegmentsChallenged)
	require.True(t, ok, "no %s event in the draw block", types.EventTypeSegmentsChallenged)
	require.ElementsMatch(t, tr.Sampled, drawn.Segments)

	for _, res := range e.revealAll(t, run, worker) {
		require.True(t, res.Match)
		require.Equal(t, uint64(2*8*16*4*3), res.Macs, "2*batch*in*out MACs per step, 3 steps")
	}
	events := keepers.TypedEvents(t, f.Ctx)
	verified, ok := events[types.EventTypeSegmentVerified].(*types.EventSegmentVerified)
	require.True(t, ok, "no %s event", types.EventTypeSegmentVerified)
	require.Equal(t, uint64(2*8*16*4*3), verified.Macs)
	require.NotZero(t, verified.GasCharged)
	_, ok = events[types.EventTypeTranscriptPassed].(*types.EventTranscriptPassed)
	require.True(t, ok, "no %s event", types.EventTypeTranscriptPassed)
	tr = e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, tr.Status)
	require.Equal(t, f.Ctx.BlockTime().Add(time.Hour), tr.FraudWindowEnd)
	require.Equal(t, run.MACs, tr.MacsTotal)
	require.Equal(t, uint64(2*3072), tr.MacsVerified)

	f.Advance(t, 59*time.Minute)
	require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, e.transcript(t, worker).Status)
	f.Advance(t, 2*time.Minute)
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FINAL, e.transcript(t, worker).Status)

	// 1 000 000 reward, one replica, 5% fee.
	require.Equal(t, workerStart.AddRaw(950_000), f.Balance(worker))
	require.Equal(t, sdkmath.NewInt(50_000), f.Balance(feeCollector))
	require.Equal(t, posterStart, f.Balance(poster), "the reward was escrowed at posting; nothing comes back")
	require.True(t, f.ModuleBalance("rewards").IsZero())
	f.RequireCustody(t)
	task := e.task(t)
	require.Equal(t, taskstypes.TASK_STATUS_COMPLETED, task.Status)

	final := run.States[len(run.States)-1].ModelHash()
	lin, err := taskskeeper.NewQuerier(f.Tasks).Lineage(f.Ctx, &taskstypes.QueryLineageRequest{ModelHash: final.String()})
	require.NoError(t, err)
	require.Len(t, lin.Records, 1)
	require.Equal(t, e.id, lin.Records[0].TaskId)
	require.Equal(t, data.Root(), lin.Records[0].DatasetRoot)
	rep, err := f.Rewards.Reputations.Get(f.Ctx, worker)
	require.NoError(t, err)
	require.Equal(t, uint64(1), rep.Verified)
	require.Equal(t, tr.MacsVerified, rep.VerifiedMacs, "credited the recomputed work, not the claimed")
	require.Less(t, rep.VerifiedMacs, run.MACs)
	work, err := f.Rewards.EpochWork.Get(f.Ctx, worker)
	require.NoError(t, err)
	require.Equal(t, tr.MacsVerified, work, "emissions count the recomputed work")
}

// A worker that claims far more work than the chain can check is credited
// only what was recomputed: a task of one long segment and one single-step
// segment, k = 1. Whichever segment is drawn, reputation and the epoch's
// emission share grow by exactly that segment's MACs.
func TestCreditIsRecomputedWorkNotClaimedWork(t *testing.T) {
	f := keepers.New(t)
	for _, a := range []sdk.AccAddress{poster, worker} {
		f.Fund(t, a, 10_000_000)
	}
	tasks, ms := taskskeeper.NewMsgServerImpl(f.Tasks), keeper.NewMsgServerImpl(f.Verification)
	msg := fixtures.PostMsg(poster, data)
	msg.Spec.TotalSteps, msg.Spec.SegmentSteps, msg.Samples = 2049, 2048, 1
	res, err := tasks.PostTask(f.Ctx, msg)
	require.NoError(t, err)
	_, err = tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: res.TaskId})
	require.NoError(t, err)
	task, err := f.Tasks.GetTask(f.Ctx, res.TaskId)
	require.NoError(t, err)
	run, err := fixtures.Train(task, data)
	require.NoError(t, err)
	sealOpen(t, f.Ctx, ms, worker, run.Open(worker))
	f.Advance(t, 5*time.Second)
	tr, err := f.Verification.GetTranscript(f.Ctx, task.Id, worker)
	require.NoError(t, err)
	require.Len(t, tr.Sampled, 1)
	seg := tr.Sampled[0]
	reveal, err := run.Reveal(worker, seg)
	require.NoError(t, err)
	out, err := ms.RevealSegment(f.Ctx, reveal)
	require.NoError(t, err)
	require.True(t, out.Match)
	f.Advance(t, 2*time.Hour) // past the fraud window
	f.Advance(t, time.Second)
	tr, err = f.Verification.GetTranscript(f.Ctx, task.Id, worker)
	require.NoError(t, err)
	require.Equal(t, types.TRANSCRIPT_STATUS_FINAL, tr.Status)

	_, steps := task.Spec.SegmentRange(uint64(seg))
	es, err := task.Spec.EngineSpec()
	require.NoError(t, err)
	want := engine.MACsPerStep(es) * steps
	rep, err := f.Rewards.Reputations.Get(f.Ctx, worker)
	require.NoError(t, err)
	require.Equal(t, want, rep.VerifiedMacs, "segment %d (%d steps) of a %d-step claim", seg, steps, task.Spec.TotalSteps)
	work, err := f.Rewards.EpochWork.Get(f.Ctx, worker)
	require.NoError(t, err)
	require.Equal(t, want, work)
	require.Greater(t, run.MACs, want, "the claim was larger than what was verified")
	f.RequireCustody(t)
}

// A single flipped bit in any h_i (sealed as flipped) is caught whenever a
// segment touching it is sampled: h_0 and h_N at the open, an inner h_i by the recomputation of segment
// i-1 (mismatch) or by segment i (the worker cannot reveal a start state with
// that hash, so its deadline fails it).
func TestFlippedCheckpointBitIsCaught(t *testing.T) {
	for i := 0; i <= 4; i++ {
		e := newEnv(t, 4, 1) // sample every segment
		f := e.f
		_, err := e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: e.id})
		require.NoError(t, err)
		run, err := fixtures.Train(e.task(t), data)
		require.NoError(t, err)
		open := run.Open(worker)
		open.Checkpoints[i][7] ^= 0x10
		_, err = e.ms.SealTranscript(f.Ctx, sealMsg(worker, open))
		require.NoError(t, err)
		before := f.Snapshot(t, worker)
		err = f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.OpenTranscript(ctx, open); return err })
		switch i {
		case 0:
			require.ErrorIs(t, err, types.ErrInitialState)
			require.Equal(t, before, f.Snapshot(t, worker))
			continue
		case 4:
			require.ErrorIs(t, err, types.ErrFinalState)
			require.Equal(t, before, f.Snapshot(t, worker))
			continue
		}
		require.NoError(t, err)
		f.Advance(t, time.Second)
		// Segment i-1 ends at the flipped h_i: an honest recomputation mismatches.
		msg, err := run.Reveal(worker, uint32(i-1))
		require.NoError(t, err)
		res, err := e.ms.RevealSegment(f.Ctx, msg)
		require.NoError(t, err)
		require.False(t, res.Match, "h_%d flipped", i)
		tr := e.transcript(t, worker)
		require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, tr.Status)
		require.Contains(t, tr.Failure, "mismatch")
		a, _ := f.Tasks.GetAssignment(f.Ctx, e.id, worker)
		require.Equal(t, taskstypes.ASSIGNMENT_STATUS_FAILED, a.Status)
		f.RequireCustody(t)
	}
	// And via segment i: the start state no longer hashes to h_i.
	e := newEnv(t, 4, 1)
	_, err := e.tasks.ClaimTask(e.f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: e.id})
	require.NoError(t, err)
	run, err := fixtures.Train(e.task(t), data)
	require.NoError(t, err)
	open := run.Open(worker)
	open.Checkpoints[2][0] ^= 1
	sealOpen(t, e.f.Ctx, e.ms, worker, open)
	e.f.Advance(t, time.Second)
	msg, err := run.Reveal(worker, 2)
	require.NoError(t, err)
	_, err = e.ms.RevealSegment(e.f.Ctx, msg)
	require.ErrorIs(t, err, types.ErrWrongStartState)
	e.f.Advance(t, 11*time.Minute) // past the reveal window
	e.f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, e.transcript(t, worker).Status)
}

// A forged segment fails the worker the moment it is recomputed; its bond is
// split 80/0/20 (no challenger) and the task reopens.
func TestForgedSegmentSlashes(t *testing.T) {
	e := newEnv(t, 4, 1)
	f := e.f
	posterStart, workerStart, supply := f.Balance(poster), f.Balance(worker), f.Supply()
	run := e.claimCommit(t, worker, 1)
	f.Advance(t, time.Second)
	var mismatches int
	for _, seg := range e.pending(t, worker) {
		failed := e.transcript(t, worker).Status == types.TRANSCRIPT_STATUS_FAILED
		msg, err := run.Reveal(worker, seg)
		require.NoError(t, err)
		res, err := e.ms.RevealSegment(f.Ctx, msg)
		if failed {
			// The failure closed the other challenges.
			require.ErrorIs(t, err, types.ErrNotChallenged)
			continue
		}
		require.NoError(t, err)
		if !res.Match {
			mismatches++
			require.Equal(t, uint32(1), seg)
		}
	}
	require.Equal(t, 1, mismatches)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, e.transcript(t, worker).Status)
	require.Equal(t, workerStart.SubRaw(200_000), f.Balance(worker))
	require.Equal(t, posterStart.AddRaw(160_000), f.Balance(poster))
	require.Equal(t, supply.SubRaw(40_000), f.Supply())
	require.Equal(t, taskstypes.TASK_STATUS_OPEN, e.task(t).Status)
	f.RequireCustody(t)
	verdicts, err := keeper.NewQuerier(f.Verification).Verdicts(f.Ctx, &types.QueryVerdictsRequest{TaskId: e.id})
	require.NoError(t, err)
	last := verdicts.Verdicts[len(verdicts.Verdicts)-1]
	require.Equal(t, types.OUTCOME_FAILED, last.Outcome)
	require.Equal(t, uint32(1), last.Segment)
}

// Every malformed reveal is a registered error that changes nothing; the
// worker may still send a good one before the deadline.
func TestRevealRejections(t *testing.T) {
	type mutation func(t *testing.T, e *env, m *types.MsgRevealSegment)
	cases := []struct {
		name   string
		mutate mutation
		err    error
	}{
		{"forged row bytes", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Rows[0].Row[0] ^= 1 }, types.ErrBadProof},
		{"bad aunt", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Rows[1].Aunts[0][3] ^= 1 }, types.ErrBadProof},
		{"missing aunt", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Rows[1].Aunts = m.Rows[1].Aunts[1:] }, types.ErrBadProof},
		{"row missing", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Rows = m.Rows[1:] }, types.ErrBadRows},
		{"wrong row index", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Rows[0].Index = 63 - m.Rows[0].Index }, types.ErrBadRows},
		{"wrong start state", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.StartState[len(m.StartState)-1] ^= 1 }, types.ErrWrongStartState},
		{"garbage start state", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.StartState = []byte{1, 2, 3} }, types.ErrWrongStartState},
		{"base model on a dense task", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.BaseModel = []byte{1} }, types.ErrBadBaseModel},
		{"unchallenged segment", func(t *testing.T, e *env, m *types.MsgRevealSegment) {
			seg := uint32(0)
			for containsSeg(e.pending(t, worker), seg) {
				seg++
			}
			m.Segment = seg
		}, types.ErrNotChallenged},
		{"segment out of range", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Segment = 9 }, types.ErrNotChallenged},
		{"stranger", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Worker = stranger.String() }, types.ErrTranscriptNotFound},
		{"bad address", func(_ *testing.T, _ *env, m *types.MsgRevealSegment) { m.Worker = "nope" }, types.ErrInvalidAddress},
		{"late", func(_ *testing.T, e *env, _ *types.MsgRevealSegment) {
			e.f.Ctx = e.f.Ctx.WithBlockTime(e.f.Ctx.BlockTime().Add(time.Hour))
		}, types.ErrRevealLate},
		{"oversize", func(t *testing.T, e *env, _ *types.MsgRevealSegment) {
			p, _ := e.f.Verification.Params.Get(e.f.Ctx)
			p.MaxRevealBytes = 1024
			require.NoError(t, e.f.Verification.Params.Set(e.f.Ctx, p))
		}, types.ErrRevealTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 2, 1)
			run := e.claimCommit(t, worker)
			e.f.Advance(t, time.Second)
			seg := e.pending(t, worker)[0]
			msg, err := run.Reveal(worker, seg)
			require.NoError(t, err)
			c.mutate(t, e, msg)
			before := e.f.Snapshot(t, worker, poster)
			err = e.f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.RevealSegment(ctx, msg); return err })
			require.ErrorIs(t, err, c.err)
			require.Equal(t, before, e.f.Snapshot(t, worker, poster))
			if c.name == "late" {
				return
			}
			// The worker can still answer correctly.
			e.f.Ctx = e.f.Ctx.WithBlockTime(e.f.Ctx.BlockTime())
			p, _ := e.f.Verification.Params.Get(e.f.Ctx)
			p.MaxRevealBytes = types.DefaultMaxRevealBytes
			require.NoError(t, e.f.Verification.Params.Set(e.f.Ctx, p))
			for _, res := range e.revealAll(t, run, worker) {
				require.True(t, res.Match)
			}
			require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, e.transcript(t, worker).Status)
		})
	}
}

func containsSeg(list []uint32, s uint32) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Reveals that are never sent fail the worker at the deadline, in the end blocker.
func TestMissingRevealFailsAtDeadline(t *testing.T) {
	e := newEnv(t, 2, 1)
	e.claimCommit(t, worker)
	e.f.Advance(t, time.Second)
	e.f.Advance(t, 9*time.Minute)
	require.Equal(t, types.TRANSCRIPT_STATUS_CHALLENGED, e.transcript(t, worker).Status)
	e.f.Advance(t, 2*time.Minute)
	e.f.Advance(t, time.Second)
	tr := e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, tr.Status)
	require.Contains(t, tr.Failure, "no reveal of segment")
	e.f.RequireCustody(t)
}

func TestSealRejections(t *testing.T) {
	e := newEnv(t, 2, 1)
	f := e.f
	run := e.claim(t, worker)
	cases := []struct {
		name   string
		mutate func(m *types.MsgSealTranscript)
		err    error
	}{
		{"stranger", func(m *types.MsgSealTranscript) { m.Worker = stranger.String() }, taskstypes.ErrAssignmentMissing},
		{"bad address", func(m *types.MsgSealTranscript) { m.Worker = "nope" }, types.ErrInvalidAddress},
		{"unknown task", func(m *types.MsgSealTranscript) { m.TaskId = 77 }, taskstypes.ErrTaskNotFound},
		{"short seal", func(m *types.MsgSealTranscript) { m.Seal = m.Seal[:31] }, types.ErrInvalidHash},
		{"no seal", func(m *types.MsgSealTranscript) { m.Seal = nil }, types.ErrInvalidHash},
		{"late", func(m *types.MsgSealTranscript) {
			f.Ctx = f.Ctx.WithBlockTime(f.Ctx.BlockTime().Add(31 * time.Minute))
		}, taskstypes.ErrWrongState},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			saved := f.Ctx
			defer func() { f.Ctx = saved }()
			msg := run.Seal(worker)
			c.mutate(msg)
			before := f.Snapshot(t, worker)
			err := f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.SealTranscript(ctx, msg); return err })
			require.ErrorIs(t, err, c.err)
			require.Equal(t, before, f.Snapshot(t, worker))
		})
	}
	res, err := e.ms.SealTranscript(f.Ctx, run.Seal(worker))
	require.NoError(t, err)
	require.True(t, res.ClaimsClosed, "the task's only claim is sealed")
	tr := e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_SEALED, tr.Status)
	require.Equal(t, f.Ctx.BlockTime().Add(types.DefaultRevealWindow), tr.OpenDeadline)
	a, err := f.Tasks.GetAssignment(f.Ctx, e.id, worker)
	require.NoError(t, err)
	require.Equal(t, taskstypes.ASSIGNMENT_STATUS_COMMITTED, a.Status)
	require.True(t, e.task(t).ClaimsClosed)
	_, err = e.ms.SealTranscript(f.Ctx, run.Seal(worker))
	require.ErrorIs(t, err, types.ErrTranscriptExists)
}

// Every check the chain makes of an opened transcript refuses it with a
// registered error and changes nothing. Where the check is of the content
// (lengths, h_0, h_N, hashes) the test seals the altered transcript, so that
// the open reaches the check instead of stopping at the seal.
func TestOpenRejections(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(e *env, m *types.MsgOpenTranscript) // nil: open at the open deadline
		sealed bool                                     // the altered message is what was sealed
		err    error
	}{
		{"stranger", func(_ *env, m *types.MsgOpenTranscript) { m.Worker = stranger.String() }, false, types.ErrTranscriptNotFound},
		{"bad address", func(_ *env, m *types.MsgOpenTranscript) { m.Worker = "nope" }, false, types.ErrInvalidAddress},
		{"unknown task", func(_ *env, m *types.MsgOpenTranscript) { m.TaskId = 77 }, false, types.ErrTranscriptNotFound},
		{"too few checkpoints", func(_ *env, m *types.MsgOpenTranscript) { m.Checkpoints = m.Checkpoints[:4] }, true, types.ErrBadCheckpoints},
		{"short hash", func(_ *env, m *types.MsgOpenTranscript) { m.Checkpoints[2] = m.Checkpoints[2][:31] }, true, types.ErrBadCheckpoints},
		{"short model hash", func(_ *env, m *types.MsgOpenTranscript) { m.FinalModelHash = m.FinalModelHash[:8] }, true, types.ErrInvalidHash},
		{"wrong opt hash", func(_ *env, m *types.MsgOpenTranscript) { m.FinalOptHash[0] ^= 1 }, true, types.ErrFinalState},
		{"wrong h_0", func(_ *env, m *types.MsgOpenTranscript) { m.Checkpoints[0][0] ^= 1 }, true, types.ErrInitialState},
		{"bad uri", func(_ *env, m *types.MsgOpenTranscript) { m.Uri = "gopher://x" }, false, types.ErrInvalidURI},
		{"checkpoint not sealed", func(_ *env, m *types.MsgOpenTranscript) { m.Checkpoints[2][0] ^= 1 }, false, types.ErrBadSeal},
		{"final hash not sealed", func(_ *env, m *types.MsgOpenTranscript) { m.FinalOptHash[0] ^= 1 }, false, types.ErrBadSeal},
		{"wrong salt", func(_ *env, m *types.MsgOpenTranscript) { m.Salt = fixtures.Salt(stranger) }, false, types.ErrBadSeal},
		{"short salt", func(_ *env, m *types.MsgOpenTranscript) { m.Salt = m.Salt[:16] }, false, types.ErrBadSeal},
		{"late", nil, false, types.ErrOpenLate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 2, 1)
			f := e.f
			run := e.claim(t, worker)
			msg := run.Open(worker)
			if c.mutate != nil {
				c.mutate(e, msg)
			}
			sealed := run.Open(worker)
			if c.sealed {
				sealed = msg
			}
			_, err := e.ms.SealTranscript(f.Ctx, sealMsg(worker, sealed))
			require.NoError(t, err)
			if c.mutate == nil {
				f.Ctx = f.Ctx.WithBlockTime(e.transcript(t, worker).OpenDeadline)
			}
			before := f.Snapshot(t, worker)
			err = f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.OpenTranscript(ctx, msg); return err })
			require.ErrorIs(t, err, c.err)
			require.Equal(t, before, f.Snapshot(t, worker))
		})
	}

	// Opened once only.
	e := newEnv(t, 2, 1)
	run := e.claimCommit(t, worker)
	_, err := e.ms.OpenTranscript(e.f.Ctx, run.Open(worker))
	require.ErrorIs(t, err, types.ErrWrongStatus)
}

// A transcript opens only once every claim of its task is sealed: before
// that, a replica still training could copy it.
func TestOpenBeforeClaimsClose(t *testing.T) {
	e := newEnv(t, 2, 2)
	f := e.f
	run := e.claim(t, worker)
	run2 := e.claim(t, worker2)
	_, err := e.ms.SealTranscript(f.Ctx, run.Seal(worker))
	require.NoError(t, err)
	require.False(t, e.task(t).ClaimsClosed)
	require.True(t, e.transcript(t, worker).OpenDeadline.IsZero())
	before := f.Snapshot(t, worker, worker2)
	err = f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.OpenTranscript(ctx, run.Open(worker)); return err })
	require.ErrorIs(t, err, types.ErrNotOpenable)
	require.Equal(t, before, f.Snapshot(t, worker, worker2))

	// The second seal closes the claims: both may open, and nobody may claim.
	res, err := e.ms.SealTranscript(f.Ctx, run2.Seal(worker2))
	require.NoError(t, err)
	require.True(t, res.ClaimsClosed)
	_, err = e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: stranger.String(), TaskId: e.id})
	require.ErrorIs(t, err, taskstypes.ErrClaimsClosed)
	_, err = e.ms.OpenTranscript(f.Ctx, run.Open(worker))
	require.NoError(t, err)
	_, err = e.ms.OpenTranscript(f.Ctx, run2.Open(worker2))
	require.NoError(t, err)
	require.Equal(t, types.TRANSCRIPT_STATUS_COMMITTED, e.transcript(t, worker2).Status)
	f.RequireCustody(t)
}

// A sealed transcript that is not opened by its open deadline fails: its
// bond is slashed and, with nothing verified, the task reopens for claims.
func TestUnopenedSealFailsAtDeadline(t *testing.T) {
	e := newEnv(t, 2, 1)
	f := e.f
	run := e.claim(t, worker)
	workerStart := f.Balance(worker)
	_, err := e.ms.SealTranscript(f.Ctx, run.Seal(worker))
	require.NoError(t, err)
	f.Advance(t, 9*time.Minute)
	require.Equal(t, types.TRANSCRIPT_STATUS_SEALED, e.transcript(t, worker).Status)
	f.Advance(t, 2*time.Minute)
	f.Advance(t, time.Second)
	tr := e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, tr.Status)
	require.Contains(t, tr.Failure, "not opened")
	require.Equal(t, workerStart, f.Balance(worker), "the bond locked at the claim is lost")
	task := e.task(t)
	require.False(t, task.ClaimsClosed)
	require.Equal(t, taskstypes.TASK_STATUS_OPEN, task.Status)
	f.RequireCustody(t)
}

// passWith runs a transcript (forging `forge`) through its sample, revealing
// honestly where it can; it returns the run once the transcript passed.
func passWith(t *testing.T, e *env, samples []uint32, forge ...uint32) *fixtures.Run {
	run := e.claimCommit(t, worker, forge...)
	e.f.Advance(t, time.Second)
	for _, res := range e.revealAll(t, run, worker) {
		require.True(t, res.Match, "sample %v must avoid the forged segments %v", samples, forge)
	}
	require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, e.transcript(t, worker).Status)
	return run
}

// unsampled returns a segment the chain did not sample.
func unsampled(t *testing.T, e *env) uint32 {
	tr := e.transcript(t, worker)
	for s := uint32(0); s < 4; s++ {
		if !containsSeg(tr.Sampled, s) {
			return s
		}
	}
	t.Fatal("every segment sampled")
	return 0
}

// A fraud challenge against an honest segment: the challenger's bond goes to
// the worker, which is then paid as usual.
func TestFraudChallengeWorkerRight(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	run := passWith(t, e, nil)
	seg := unsampled(t, e)
	chStart, wStart := f.Balance(challenger), f.Balance(worker)
	bond := e.challengeBond(t)
	e.challenge(t, challenger, worker, seg, bond)
	require.Equal(t, chStart.Sub(bond.Amount), f.Balance(challenger))
	require.Equal(t, []uint32{seg}, e.pending(t, worker))

	res := e.revealAll(t, run, worker)
	require.Len(t, res, 1)
	require.True(t, res[0].Match)
	require.Equal(t, chStart.Sub(bond.Amount), f.Balance(challenger))
	require.Equal(t, wStart.Add(bond.Amount), f.Balance(worker))
	rep, _ := f.Rewards.Reputations.Get(f.Ctx, challenger)
	require.Equal(t, uint64(1), rep.ChallengesLost)

	f.Advance(t, 2*time.Hour)
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FINAL, e.transcript(t, worker).Status)
	require.Equal(t, wStart.Add(bond.Amount).AddRaw(950_000+200_000), f.Balance(worker))
	f.RequireCustody(t)
}

// A fraud challenge against a forged segment the sample missed: the worker's
// reveal mismatches, it is slashed, the challenger gets its bond back plus the
// challenger share (30%) of the slashed bond.
func TestFraudChallengeWorkerWrong(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	// Find which single segment the sample will take: forge another one.
	probe := newEnv(t, 1, 1)
	probe.claimCommit(t, worker)
	probe.f.Advance(t, time.Second)
	sampled := probe.transcript(t, worker).Sampled[0]
	forged := (sampled + 1) % 4
	run := passWith(t, e, []uint32{sampled}, forged)
	_ = run
	chStart, pStart, supply := f.Balance(challenger), f.Balance(poster), f.Supply()
	e.challenge(t, challenger, worker, forged, e.challengeBond(t))
	msg, err := run.Reveal(worker, forged)
	require.NoError(t, err)
	res, err := e.ms.RevealSegment(f.Ctx, msg)
	require.NoError(t, err)
	require.False(t, res.Match)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, e.transcript(t, worker).Status)
	// Bond 200 000: 100 000 to the poster, 60 000 to the challenger, 40 000 burned.
	require.Equal(t, chStart.AddRaw(60_000), f.Balance(challenger))
	require.Equal(t, pStart.AddRaw(100_000), f.Balance(poster))
	require.Equal(t, supply.SubRaw(40_000), f.Supply())
	rep, _ := f.Rewards.Reputations.Get(f.Ctx, challenger)
	require.Equal(t, uint64(1), rep.ChallengesWon)
	f.RequireCustody(t)
}

// A silent worker loses the fraud challenge at the deadline.
func TestFraudChallengeUnanswered(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	passWith(t, e, nil)
	seg := unsampled(t, e)
	chStart := f.Balance(challenger)
	e.challenge(t, challenger, worker, seg, e.challengeBond(t))
	f.Advance(t, 11*time.Minute)
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, e.transcript(t, worker).Status)
	require.Equal(t, chStart.AddRaw(60_000), f.Balance(challenger))
	f.RequireCustody(t)
}

func TestSealChallengeRejections(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	passWith(t, e, nil)
	free := unsampled(t, e)
	// At 1 uhint per gas the answer's gas, not min_challenge_bond, sets the bond.
	p, err := f.Verification.Params.Get(f.Ctx)
	require.NoError(t, err)
	p.ChallengeGasPrice = sdkmath.LegacyOneDec()
	require.NoError(t, f.Verification.Params.Set(f.Ctx, p))
	bond := e.challengeBond(t)
	require.True(t, bond.Amount.GT(p.MinChallengeBond), "bond %s", bond)
	salt := challengeSalt(challenger, 0)
	ok := func() *types.MsgSealChallenge { return sealChallengeMsg(e.id, worker, challenger, free, salt, bond) }
	cases := []struct {
		name   string
		mutate func(m *types.MsgSealChallenge)
		err    error
	}{
		{"self challenge", func(m *types.MsgSealChallenge) { m.Challenger = worker.String() }, types.ErrSelfChallenge},
		{"bad challenger address", func(m *types.MsgSealChallenge) { m.Challenger = "nope" }, types.ErrInvalidAddress},
		{"short commitment", func(m *types.MsgSealChallenge) { m.Commitment = m.Commitment[:31] }, types.ErrInvalidHash},
		{"bond below the required bond", func(m *types.MsgSealChallenge) { m.Bond.Amount = bond.Amount.SubRaw(1) }, types.ErrInvalidBond},
		{"negative bond", func(m *types.MsgSealChallenge) { m.Bond.Amount = bond.Amount.Neg() }, types.ErrInvalidBond},
		{"wrong denom", func(m *types.MsgSealChallenge) { m.Bond.Denom = "uatom" }, types.ErrInvalidBond},
		{"no transcript", func(m *types.MsgSealChallenge) { m.Worker = stranger.String() }, types.ErrTranscriptNotFound},
		{"window closed", func(m *types.MsgSealChallenge) { f.Ctx = f.Ctx.WithBlockTime(f.Ctx.BlockTime().Add(2 * time.Hour)) }, types.ErrFraudWindowClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			saved := f.Ctx
			defer func() { f.Ctx = saved }()
			msg := ok()
			c.mutate(msg)
			before := f.Snapshot(t, challenger, worker)
			err := f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.SealChallenge(ctx, msg); return err })
			require.ErrorIs(t, err, c.err)
			require.Equal(t, before, f.Snapshot(t, challenger, worker))
		})
	}
	chStart := f.Balance(challenger)
	_, err = e.ms.SealChallenge(f.Ctx, ok())
	require.NoError(t, err)
	require.Equal(t, chStart.Sub(bond.Amount), f.Balance(challenger), "the bond is locked at the seal")
	f.RequireCustody(t)
	_, err = e.ms.SealChallenge(f.Ctx, ok())
	require.ErrorIs(t, err, types.ErrChallengePending)
}

func TestChallengeSegmentRejections(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	passWith(t, e, nil)
	sampled := e.transcript(t, worker).Sampled[0]
	free := unsampled(t, e)
	bond := e.challengeBond(t)
	// Seals of the free segment, of the sampled (verified) one and of one out
	// of range, all one block before the openings.
	seals := map[uint32][]byte{free: challengeSalt(challenger, 0), sampled: challengeSalt(challenger, 1), 4: challengeSalt(challenger, 2)}
	for seg, salt := range seals {
		_, err := e.ms.SealChallenge(f.Ctx, sealChallengeMsg(e.id, worker, challenger, seg, salt, bond))
		require.NoError(t, err)
	}
	// A seal in this block cannot open in it.
	tooRecent := challengeSalt(challenger, 3)
	_, err := e.ms.SealChallenge(f.Ctx, sealChallengeMsg(e.id, worker, challenger, free, tooRecent, bond))
	require.NoError(t, err)
	err = f.CacheCtx(func(ctx sdk.Context) error {
		_, err := e.ms.ChallengeSegment(ctx, openChallengeMsg(e.id, worker, challenger, free, tooRecent))
		return err
	})
	require.ErrorIs(t, err, types.ErrSealTooRecent)
	f.Advance(t, time.Second)

	ok := func() *types.MsgChallengeSegment {
		return openChallengeMsg(e.id, worker, challenger, free, seals[free])
	}
	cases := []struct {
		name   string
		mutate func(m *types.MsgChallengeSegment)
		err    error
	}{
		{"no seal", func(m *types.MsgChallengeSegment) { m.Challenger = stranger.String() }, types.ErrSealNotFound},
		{"wrong salt", func(m *types.MsgChallengeSegment) { m.Salt = challengeSalt(challenger, 9) }, types.ErrSealNotFound},
		{"another segment than sealed", func(m *types.MsgChallengeSegment) { m.Segment = (free + 1) % 4 }, types.ErrSealNotFound},
		{"bad worker address", func(m *types.MsgChallengeSegment) { m.Worker = "nope" }, types.ErrInvalidAddress},
		{"verified segment", func(m *types.MsgChallengeSegment) { m.Segment, m.Salt = sampled, seals[sampled] }, types.ErrSegmentVerified},
		{"out of range", func(m *types.MsgChallengeSegment) { m.Segment, m.Salt = 4, seals[4] }, types.ErrInvalidSegment},
		{"window closed", func(m *types.MsgChallengeSegment) { f.Ctx = f.Ctx.WithBlockTime(f.Ctx.BlockTime().Add(2 * time.Hour)) }, types.ErrFraudWindowClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			saved := f.Ctx
			defer func() { f.Ctx = saved }()
			msg := ok()
			c.mutate(msg)
			before := f.Snapshot(t, challenger, worker)
			err := f.CacheCtx(func(ctx sdk.Context) error { _, err := e.ms.ChallengeSegment(ctx, msg); return err })
			require.ErrorIs(t, err, c.err)
			require.Equal(t, before, f.Snapshot(t, challenger, worker))
		})
	}
	_, err = e.ms.ChallengeSegment(f.Ctx, ok())
	require.NoError(t, err)
	require.Equal(t, []uint32{free}, e.pending(t, worker))
	_, err = e.ms.ChallengeSegment(f.Ctx, ok())
	require.ErrorIs(t, err, types.ErrSealNotFound, "the seal is spent")
	// Another seal of the segment, not older than the open one, cannot take
	// the challenge.
	_, err = e.ms.ChallengeSegment(f.Ctx, openChallengeMsg(e.id, worker, challenger, free, tooRecent))
	require.ErrorIs(t, err, types.ErrChallengePending)
	f.RequireCustody(t)
}

// Two replicas whose transcripts differ: both must reveal the segment before
// the first differing hash; the honest reveal fails the forger at once, and
// the honest worker is paid its share.
func TestReplicaDisagreement(t *testing.T) {
	e := newEnv(t, 1, 2)
	f := e.f
	honest := e.claim(t, worker)
	cheat := e.claim(t, worker2, 2) // differs from h_3 on
	// Both seal before either opens.
	for _, r := range []struct {
		w   sdk.AccAddress
		run *fixtures.Run
	}{{worker, honest}, {worker2, cheat}} {
		_, err := e.ms.SealTranscript(f.Ctx, r.run.Seal(r.w))
		require.NoError(t, err)
	}
	for _, r := range []struct {
		w   sdk.AccAddress
		run *fixtures.Run
	}{{worker, honest}, {worker2, cheat}} {
		_, err := e.ms.OpenTranscript(f.Ctx, r.run.Open(r.w))
		require.NoError(t, err)
	}
	f.RequireCustody(t)
	require.Equal(t, []uint32{2}, e.pending(t, worker))
	require.Equal(t, []uint32{2}, e.pending(t, worker2))
	_ = cheat

	msg, err := honest.Reveal(worker, 2)
	require.NoError(t, err)
	res, err := e.ms.RevealSegment(f.Ctx, msg)
	require.NoError(t, err)
	require.True(t, res.Match)
	tr2, err := f.Verification.GetTranscript(f.Ctx, e.id, worker2)
	require.NoError(t, err)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, tr2.Status)
	require.Contains(t, tr2.Failure, "replica dispute")
	f.RequireCustody(t)

	// The honest worker continues through its own sample and is paid half.
	wStart, pStart := f.Balance(worker), f.Balance(poster)
	f.Advance(t, time.Second)
	for _, r := range e.revealAll(t, honest, worker) {
		require.True(t, r.Match)
	}
	f.Advance(t, 2*time.Hour)
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FINAL, e.transcript(t, worker).Status)
	require.Equal(t, wStart.AddRaw(475_000+200_000), f.Balance(worker))
	// The claim deadline passed with the second slot unfilled: the task
	// completes and its unpaid share returns to the poster.
	require.Equal(t, taskstypes.TASK_STATUS_COMPLETED, e.task(t).Status)
	require.Equal(t, pStart.AddRaw(500_000), f.Balance(poster))
	require.True(t, f.ModuleBalance("rewards").IsZero())
	f.RequireCustody(t)
}

// The detection experiment through the real handlers: a worker forges 2 of 10
// segments (f = 0.2) and the chain samples k = 2. Each trial is a fresh chain
// whose posting block hash (hence seed, transcript and draw) differs. The
// caught rate must match 1 - C(8,2)/C(10,2) = 0.378 (>= 1-(0.8)^2 = 0.36).
func TestDetectionThroughChain(t *testing.T) {
	const trials = 400
	caught := 0
	for trial := 0; trial < trials; trial++ {
		f := keepers.New(t)
		for _, a := range []sdk.AccAddress{poster, worker} {
			f.Fund(t, a, 10_000_000)
		}
		h := make([]byte, 32)
		h[0], h[1] = byte(trial), byte(trial>>8)
		f.Ctx = f.Ctx.WithHeaderHash(h)
		e := &env{f: f, tasks: taskskeeper.NewMsgServerImpl(f.Tasks), ms: keeper.NewMsgServerImpl(f.Verification)}
		msg := fixtures.PostMsg(poster, data)
		msg.Spec = fixtures.Spec(20, 2) // 10 segments
		msg.Samples = 2
		res, err := e.tasks.PostTask(f.Ctx, msg)
		require.NoError(t, err)
		e.id = res.TaskId
		run := e.claimCommit(t, worker, 3, 7)
		f.Advance(t, time.Second)
		for _, seg := range e.pending(t, worker) {
			if e.transcript(t, worker).Status == types.TRANSCRIPT_STATUS_FAILED {
				break
			}
			m, err := run.Reveal(worker, seg)
			require.NoError(t, err)
			r, err := e.ms.RevealSegment(f.Ctx, m)
			require.NoError(t, err)
			require.Equal(t, seg != 3 && seg != 7, r.Match, "segment %d", seg)
		}
		if e.transcript(t, worker).Status == types.TRANSCRIPT_STATUS_FAILED {
			caught++
		} else {
			require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, e.transcript(t, worker).Status)
		}
		f.RequireCustody(t)
	}
	rate := float64(caught) / trials
	t.Logf("forged 2/10, k=2: caught %d/%d = %.3f (exact 0.378, bound 0.360)", caught, trials, rate)
	// 400 trials: standard error 0.024; allow 4 sigma.
	require.InDelta(t, 0.378, rate, 0.097)
}
