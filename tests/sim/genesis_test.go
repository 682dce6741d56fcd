package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationkeeper "github.com/hinterland-ai/hinterland/x/verification/keeper"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// The simulation's export/import test found store differences in x/tasks and
// x/verification whenever the export held work in flight: the deadline queues
// were rebuilt from statuses, but the live chain keeps entries whose item has
// moved on (and drops one whose item is still open). The queues are now
// exported as they are. The tests below reproduce each kind on the keepers
// alone and require the queues to round-trip exactly, as STYLE.md rule 6 asks
// of every genesis.

var (
	gPoster, gWorker, gWorker2, gChallenger = keepers.Addr(1), keepers.Addr(2), keepers.Addr(3), keepers.Addr(4)
	gData                                   = fixtures.Synthetic(64)
)

type genesisEnv struct {
	f     *keepers.Fixture
	tasks taskstypes.MsgServer
	ver   verificationtypes.MsgServer
	id    uint64
}

func newGenesisEnv(t *testing.T, mutate func(*taskstypes.MsgPostTask)) *genesisEnv {
	f := keepers.New(t)
	for _, a := range []sdk.AccAddress{gPoster, gWorker, gWorker2, gChallenger} {
		f.Fund(t, a, 10_000_000)
	}
	e := &genesisEnv{f: f, tasks: taskskeeper.NewMsgServerImpl(f.Tasks), ver: verificationkeeper.NewMsgServerImpl(f.Verification)}
	msg := fixtures.PostMsg(gPoster, gData)
	if mutate != nil {
		mutate(msg)
	}
	res, err := e.tasks.PostTask(f.Ctx, msg)
	require.NoError(t, err)
	e.id = res.TaskId
	return e
}

// claim claims for w and trains forging the given segments.
func (e *genesisEnv) claim(t *testing.T, w sdk.AccAddress, forge ...uint32) *fixtures.Run {
	_, err := e.tasks.ClaimTask(e.f.Ctx, &taskstypes.MsgClaimTask{Worker: w.String(), TaskId: e.id})
	require.NoError(t, err)
	task, err := e.f.Tasks.GetTask(e.f.Ctx, e.id)
	require.NoError(t, err)
	run, err := fixtures.Train(task, gData, forge...)
	require.NoError(t, err)
	return run
}

// seal seals run's transcript for w.
func (e *genesisEnv) seal(t *testing.T, run *fixtures.Run, w sdk.AccAddress) {
	_, err := e.ver.SealTranscript(e.f.Ctx, run.Seal(w))
	require.NoError(t, err)
}

// open opens run's sealed transcript for w.
func (e *genesisEnv) open(t *testing.T, run *fixtures.Run, w sdk.AccAddress) {
	_, err := e.ver.OpenTranscript(e.f.Ctx, run.Open(w))
	require.NoError(t, err)
}

// claimCommit claims for w, trains forging the given segments, seals and
// opens (w's claim must be the task's only one in flight).
func (e *genesisEnv) claimCommit(t *testing.T, w sdk.AccAddress, forge ...uint32) *fixtures.Run {
	run := e.claim(t, w, forge...)
	e.seal(t, run, w)
	e.open(t, run, w)
	return run
}

// challenge seals gChallenger's fraud challenge of segment seg of gWorker's
// transcript, moves to the next block and opens it.
func (e *genesisEnv) challenge(t *testing.T, seg uint32) {
	task, err := e.f.Tasks.GetTask(e.f.Ctx, e.id)
	require.NoError(t, err)
	params, err := e.f.Verification.Params.Get(e.f.Ctx)
	require.NoError(t, err)
	salt := make([]byte, 32)
	_, err = e.ver.SealChallenge(e.f.Ctx, &verificationtypes.MsgSealChallenge{Challenger: gChallenger.String(), TaskId: e.id,
		Worker: gWorker.String(), Commitment: recompute.ChallengeCommitment(e.id, gWorker, gChallenger, seg, salt),
		Bond: recompute.ChallengeBond(task, params)})
	require.NoError(t, err)
	e.f.Advance(t, time.Second)
	_, err = e.ver.ChallengeSegment(e.f.Ctx, &verificationtypes.MsgChallengeSegment{Challenger: gChallenger.String(),
		TaskId: e.id, Worker: gWorker.String(), Segment: seg, Salt: salt})
	require.NoError(t, err)
}

func (e *genesisEnv) reveal(t *testing.T, run *fixtures.Run, w sdk.AccAddress, seg uint32) bool {
	msg, err := run.Reveal(w, seg)
	require.NoError(t, err)
	res, err := e.ver.RevealSegment(e.f.Ctx, msg)
	require.NoError(t, err)
	return res.Match
}

func (e *genesisEnv) transcript(t *testing.T, w sdk.AccAddress) verificationtypes.Transcript {
	tr, err := e.f.Verification.GetTranscript(e.f.Ctx, e.id, w)
	require.NoError(t, err)
	return tr
}

// queues lists every deadline queue of x/tasks and x/verification.
func queues(t *testing.T, f *keepers.Fixture) map[string][]string {
	out := map[string][]string{}
	add := func(name string, err error) { require.NoError(t, err, name) }
	add("claim_queue", f.Tasks.ClaimQueue.Walk(f.Ctx, nil, func(k collections.Pair[time.Time, uint64]) (bool, error) {
		out["tasks claim_queue"] = append(out["tasks claim_queue"], fmt.Sprintf("(%s, task %d)", k.K1().UTC(), k.K2()))
		return false, nil
	}))
	add("commit_queue", f.Tasks.CommitQueue.Walk(f.Ctx, nil, func(k collections.Triple[time.Time, uint64, sdk.AccAddress]) (bool, error) {
		out["tasks commit_queue"] = append(out["tasks commit_queue"], fmt.Sprintf("(%s, task %d, %s)", k.K1().UTC(), k.K2(), k.K3()))
		return false, nil
	}))
	add("draw_queue", f.Verification.DrawQueue.Walk(f.Ctx, nil, func(k collections.Triple[int64, uint64, sdk.AccAddress]) (bool, error) {
		out["verification draw_queue"] = append(out["verification draw_queue"], fmt.Sprintf("(height %d, task %d, %s)", k.K1(), k.K2(), k.K3()))
		return false, nil
	}))
	for name, q := range map[string]collections.KeySet[verificationkeeper.DeadlineKey]{
		"verification reveal_queue": f.Verification.RevealQueue, "verification fraud_queue": f.Verification.FraudQueue,
	} {
		add(name, q.Walk(f.Ctx, nil, func(k verificationkeeper.DeadlineKey) (bool, error) {
			out[name] = append(out[name], fmt.Sprintf("(%s, task %d, %s)", k.K1().UTC(), k.K2(), k.K3()))
			return false, nil
		}))
	}
	return out
}

// restart exports the three modules of f and imports them into fresh keepers
// whose context is at the given height and f's block time, with custody
// funded as a chain's bank genesis would.
func restart(t *testing.T, f *keepers.Fixture, height int64) *keepers.Fixture {
	t.Helper()
	snap := f.Snapshot(t)
	g := keepers.New(t)
	g.Ctx = g.Ctx.WithBlockTime(f.Ctx.BlockTime()).WithBlockHeight(height)
	if held := snap.Rewards.Held(); !held.IsZero() {
		require.NoError(t, g.Bank.MintCoins(g.Ctx, minttypes.ModuleName, held))
		require.NoError(t, g.Bank.SendCoinsFromModuleToModule(g.Ctx, minttypes.ModuleName, rewardstypes.ModuleName, held))
	}
	require.NoError(t, g.Rewards.InitGenesis(g.Ctx, snap.Rewards))
	require.NoError(t, g.Tasks.InitGenesis(g.Ctx, snap.Tasks))
	require.NoError(t, g.Verification.InitGenesis(g.Ctx, snap.Verification))
	return g
}

// requireRoundTrip restarts f at its own height and requires the same queues.
func requireRoundTrip(t *testing.T, f *keepers.Fixture) {
	t.Helper()
	g := restart(t, f, f.Ctx.BlockHeight())
	require.Equal(t, queues(t, f), queues(t, g), "deadline queues before export (expected) and after import (actual)")
}

func TestGenesisRoundTripQueues(t *testing.T) {
	// Both sampled segments recompute: the transcript passes, no challenge is
	// pending, and the reveal deadline's queue entry stays until the deadline.
	t.Run("reveal queue entry of a passed transcript", func(t *testing.T) {
		e := newGenesisEnv(t, nil)
		run := e.claimCommit(t, gWorker)
		e.f.Advance(t, 5*time.Second)
		for _, seg := range e.transcript(t, gWorker).Sampled {
			require.True(t, e.reveal(t, run, gWorker, seg))
		}
		require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_PASSED, e.transcript(t, gWorker).Status)
		requireRoundTrip(t, e.f)
	})

	// A fraud challenge fails a passed transcript: its fraud-window entry
	// stays until the window's end.
	t.Run("fraud queue entry of a failed transcript", func(t *testing.T) {
		probe := newGenesisEnv(t, func(m *taskstypes.MsgPostTask) { m.Samples = 1 })
		probe.claimCommit(t, gWorker)
		probe.f.Advance(t, 5*time.Second)
		forged := (probe.transcript(t, gWorker).Sampled[0] + 1) % 4

		e := newGenesisEnv(t, func(m *taskstypes.MsgPostTask) { m.Samples = 1 })
		run := e.claimCommit(t, gWorker, forged)
		e.f.Advance(t, 5*time.Second)
		sampled := e.transcript(t, gWorker).Sampled
		require.NotContains(t, sampled, forged)
		require.True(t, e.reveal(t, run, gWorker, sampled[0]))
		e.challenge(t, forged)
		require.False(t, e.reveal(t, run, gWorker, forged))
		require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_FAILED, e.transcript(t, gWorker).Status)
		requireRoundTrip(t, e.f)
	})

	// Two replicas disagree; the honest one's reveal fails the other in the
	// block of their opens, before the draw: the failed one's draw entry
	// stays until the next block.
	t.Run("draw queue entry of a transcript failed before its draw", func(t *testing.T) {
		e := newGenesisEnv(t, func(m *taskstypes.MsgPostTask) { m.Samples, m.Replicas = 1, 2 })
		honest, cheat := e.claim(t, gWorker), e.claim(t, gWorker2, 2)
		e.seal(t, honest, gWorker)
		e.seal(t, cheat, gWorker2)
		e.open(t, honest, gWorker)
		e.open(t, cheat, gWorker2)
		require.True(t, e.reveal(t, honest, gWorker, 2))
		require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_FAILED, e.transcript(t, gWorker2).Status)
		requireRoundTrip(t, e.f)
	})

	// The claim deadline passes while a claim is in flight: the end blocker
	// drops the task's claim-queue entry and the task stays assigned until the
	// claim resolves; the import must not queue the assigned task again.
	t.Run("claim queue entry of an assigned task past its claim deadline", func(t *testing.T) {
		e := newGenesisEnv(t, func(m *taskstypes.MsgPostTask) { m.ClaimWindow = 10 * time.Second })
		_, err := e.tasks.ClaimTask(e.f.Ctx, &taskstypes.MsgClaimTask{Worker: gWorker.String(), TaskId: e.id})
		require.NoError(t, err)
		e.f.Advance(t, 20*time.Second)
		e.f.Advance(t, time.Second)
		task, err := e.f.Tasks.GetTask(e.f.Ctx, e.id)
		require.NoError(t, err)
		require.Equal(t, taskstypes.TASK_STATUS_ASSIGNED, task.Status)
		requireRoundTrip(t, e.f)
	})
}

// After a zero-height export (app/export.go with forZeroHeight, the restart
// of a chain at height 1) a committed transcript's draw-queue entry carries
// the height it was committed at on the old chain. InitGenesis moves it down
// to the new chain's start, so the sample is drawn in the first blocks rather
// than after as many blocks as the old chain had.
func TestGenesisZeroHeightDrawsCommittedTranscript(t *testing.T) {
	e := newGenesisEnv(t, nil)
	e.f.Ctx = e.f.Ctx.WithBlockHeight(500)
	e.claimCommit(t, gWorker)
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_COMMITTED, e.transcript(t, gWorker).Status)
	// The restarted chain: genesis at height 0, first block at height 1.
	g := restart(t, e.f, 0)
	g.Advance(t, 5*time.Second) // block 1
	g.Advance(t, 5*time.Second) // block 2
	tr, err := g.Verification.GetTranscript(g.Ctx, e.id, gWorker)
	require.NoError(t, err)
	require.Equalf(t, verificationtypes.TRANSCRIPT_STATUS_CHALLENGED, tr.Status,
		"committed at height %d of the old chain, not drawn by block %d of the restarted one", tr.CommittedHeight, g.Ctx.BlockHeight())
}

// A genesis whose queues miss an entry that the live chain always has, or
// name something that does not exist, is refused by Validate (what
// `genesis validate` runs) with a message naming the entry.
func TestGenesisValidateQueues(t *testing.T) {
	e := newGenesisEnv(t, func(m *taskstypes.MsgPostTask) { m.Replicas = 2 })
	// An active claim, on another task (a task's transcripts open only once
	// none of its claims is active).
	other, err := e.tasks.PostTask(e.f.Ctx, fixtures.PostMsg(gPoster, gData))
	require.NoError(t, err)
	_, err = e.tasks.ClaimTask(e.f.Ctx, &taskstypes.MsgClaimTask{Worker: gWorker2.String(), TaskId: other.TaskId})
	require.NoError(t, err)
	third := keepers.Addr(5)
	e.f.Fund(t, third, 10_000_000)
	run, thirdRun := e.claim(t, gWorker), e.claim(t, third)
	e.seal(t, run, gWorker)
	e.seal(t, thirdRun, third)
	e.open(t, run, gWorker)       // opened, then
	e.f.Advance(t, 5*time.Second) // drawn: pending sampled challenges
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_CHALLENGED, e.transcript(t, gWorker).Status)
	e.open(t, thirdRun, third) // opened in this block: not drawn yet

	tg, err := e.f.Tasks.ExportGenesis(e.f.Ctx)
	require.NoError(t, err)
	vg, err := e.f.Verification.ExportGenesis(e.f.Ctx)
	require.NoError(t, err)
	require.NoError(t, tg.Validate())
	require.NoError(t, vg.Validate())
	require.NotEmpty(t, tg.ClaimQueue)
	require.NotEmpty(t, tg.CommitQueue)
	require.NotEmpty(t, vg.DrawQueue)
	require.NotEmpty(t, vg.RevealQueue)

	tasksCases := map[string]struct {
		mutate func(*taskstypes.GenesisState)
		want   string
	}{
		"active claim without its commit deadline": {func(g *taskstypes.GenesisState) { g.CommitQueue = nil }, "has no commit_queue entry"},
		"commit deadline of no claim": {func(g *taskstypes.GenesisState) {
			g.CommitQueue = append(g.CommitQueue, taskstypes.QueueEntry{Deadline: e.f.Ctx.BlockTime(), TaskId: e.id, Worker: gChallenger.String()})
		}, "commit_queue[1]: no claim of task"},
		"claim deadline of no task": {func(g *taskstypes.GenesisState) {
			g.ClaimQueue = append(g.ClaimQueue, taskstypes.QueueEntry{Deadline: e.f.Ctx.BlockTime(), TaskId: 99})
		}, fmt.Sprintf("claim_queue[%d]: unknown task 99", len(tg.ClaimQueue))},
		"claim-queue entry naming a worker": {func(g *taskstypes.GenesisState) { g.ClaimQueue[0].Worker = gWorker.String() }, "name no worker"},
	}
	for name, c := range tasksCases {
		t.Run(name, func(t *testing.T) {
			g, err := e.f.Tasks.ExportGenesis(e.f.Ctx)
			require.NoError(t, err)
			c.mutate(g)
			require.ErrorContains(t, g.Validate(), c.want)
		})
	}
	verCases := map[string]struct {
		mutate func(*verificationtypes.GenesisState)
		want   string
	}{
		"committed transcript without its draw nor open deadline": {func(g *verificationtypes.GenesisState) { g.DrawQueue, g.RevealQueue = nil, nil },
			"has no draw_queue entry nor reveal_queue entry at its open deadline"},
		"pending challenge without its deadline": {func(g *verificationtypes.GenesisState) { g.RevealQueue = nil }, "has no reveal_queue entry"},
		"reveal deadline of no transcript": {func(g *verificationtypes.GenesisState) {
			g.RevealQueue = append(g.RevealQueue, verificationtypes.DeadlineEntry{Deadline: e.f.Ctx.BlockTime(), TaskId: 99, Worker: gWorker.String()})
		}, fmt.Sprintf("reveal_queue[%d]: no transcript of task 99", len(vg.RevealQueue))},
		"fraud window of no transcript": {func(g *verificationtypes.GenesisState) {
			g.FraudQueue = append(g.FraudQueue, verificationtypes.DeadlineEntry{Deadline: e.f.Ctx.BlockTime(), TaskId: e.id, Worker: gChallenger.String()})
		}, "fraud_queue[0]: no transcript of task"},
		"draw at a negative height": {func(g *verificationtypes.GenesisState) { g.DrawQueue[0].Height = -1 }, "negative height"},
	}
	for name, c := range verCases {
		t.Run(name, func(t *testing.T) {
			g, err := e.f.Verification.ExportGenesis(e.f.Ctx)
			require.NoError(t, err)
			c.mutate(g)
			require.ErrorContains(t, g.Validate(), c.want)
		})
	}
}

// sealsEnv is a task of two replicas whose claims are closed: gWorker's
// transcript passed, gChallenger sealed two fraud challenges of it and
// opened one (pending, its reveal gas owed), and gWorker2's transcript is
// sealed and not opened.
func sealsEnv(t *testing.T) *genesisEnv {
	e := newGenesisEnv(t, func(m *taskstypes.MsgPostTask) { m.Samples, m.Replicas = 1, 2 })
	run, run2 := e.claim(t, gWorker), e.claim(t, gWorker2)
	e.seal(t, run, gWorker)
	e.seal(t, run2, gWorker2)
	e.open(t, run, gWorker)
	e.f.Advance(t, 5*time.Second)
	sampled := e.transcript(t, gWorker).Sampled
	require.True(t, e.reveal(t, run, gWorker, sampled[0]))
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_PASSED, e.transcript(t, gWorker).Status)
	e.challenge(t, (sampled[0]+1)%4) // sealed and opened: pending
	task, err := e.f.Tasks.GetTask(e.f.Ctx, e.id)
	require.NoError(t, err)
	params, err := e.f.Verification.Params.Get(e.f.Ctx)
	require.NoError(t, err)
	salt := []byte("another salt")
	_, err = e.ver.SealChallenge(e.f.Ctx, &verificationtypes.MsgSealChallenge{Challenger: gChallenger.String(), TaskId: e.id,
		Worker: gWorker.String(), Commitment: recompute.ChallengeCommitment(e.id, gWorker, gChallenger, (sampled[0]+2)%4, salt),
		Bond: recompute.ChallengeBond(task, params)})
	require.NoError(t, err)
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_SEALED, e.transcript(t, gWorker2).Status)
	return e
}

// Sealed fraud challenges, the gas of the reveals owed and sealed
// transcripts (no checkpoints, an open deadline) round-trip exactly.
func TestGenesisRoundTripSeals(t *testing.T) {
	e := sealsEnv(t)
	before := e.f.Snapshot(t)
	require.Len(t, before.Verification.ChallengeSeals, 1)
	require.NotZero(t, before.Verification.PendingRevealGas)
	require.NoError(t, before.Verification.Validate())
	g := restart(t, e.f, e.f.Ctx.BlockHeight())
	require.Equal(t, before.Verification, g.Snapshot(t).Verification)
	require.Equal(t, queues(t, e.f), queues(t, g))
	g.RequireCustody(t)
}

// A genesis whose challenge seals or sealed transcripts are malformed, or
// whose sealed transcript misses its open deadline, is refused by Validate.
func TestGenesisValidateSeals(t *testing.T) {
	e := sealsEnv(t)
	cases := map[string]struct {
		mutate func(*verificationtypes.GenesisState)
		want   string
	}{
		"challenge seal of no transcript": {func(g *verificationtypes.GenesisState) { g.ChallengeSeals[0].TaskId = 99 },
			"challenge_seals[0]: no transcript of task 99"},
		"challenge seal with a bad worker":     {func(g *verificationtypes.GenesisState) { g.ChallengeSeals[0].Worker = "x" }, "challenge_seals[0].worker"},
		"challenge seal with a bad challenger": {func(g *verificationtypes.GenesisState) { g.ChallengeSeals[0].Challenger = "x" }, "challenge_seals[0].challenger"},
		"challenge seal with a short commitment": {func(g *verificationtypes.GenesisState) {
			g.ChallengeSeals[0].Commitment = g.ChallengeSeals[0].Commitment[:31]
		}, "commitment must be 32 bytes"},
		"challenge seal with a zero bond": {func(g *verificationtypes.GenesisState) { g.ChallengeSeals[0].Bond.Amount = sdkmath.ZeroInt() },
			"must be a positive coin"},
		"challenge seal in a segment's slot": {func(g *verificationtypes.GenesisState) { g.ChallengeSeals[0].Slot = 1 }, "challenge_seals[0]: slot 1"},
		"challenge seal in a slot not yet taken": {func(g *verificationtypes.GenesisState) { g.ChallengeSeals[0].Slot += 5 },
			"challenge_seals[0]: slot"},
		"challenge seal twice": {func(g *verificationtypes.GenesisState) {
			g.ChallengeSeals = append(g.ChallengeSeals, g.ChallengeSeals[0])
		},
			"challenge_seals[1]: duplicate seal"},
		"sealed transcript without its open deadline": {func(g *verificationtypes.GenesisState) {
			var keep []verificationtypes.DeadlineEntry
			for _, d := range g.RevealQueue {
				if d.Worker != gWorker2.String() {
					keep = append(keep, d)
				}
			}
			g.RevealQueue = keep
		}, "sealed transcript of task 1 by " + gWorker2.String() + " has no reveal_queue entry at its open deadline"},
		"sealed transcript with checkpoints": {func(g *verificationtypes.GenesisState) {
			for i := range g.Transcripts {
				if g.Transcripts[i].Status == verificationtypes.TRANSCRIPT_STATUS_SEALED {
					g.Transcripts[i].Checkpoints = g.Transcripts[0].Checkpoints
				}
			}
		}, "a sealed transcript has no checkpoints"},
		"sealed transcript with a short seal": {func(g *verificationtypes.GenesisState) {
			for i := range g.Transcripts {
				if g.Transcripts[i].Status == verificationtypes.TRANSCRIPT_STATUS_SEALED {
					g.Transcripts[i].Seal = g.Transcripts[i].Seal[:31]
				}
			}
		}, "seal must be 32 bytes"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g, err := e.f.Verification.ExportGenesis(e.f.Ctx)
			require.NoError(t, err)
			require.NoError(t, g.Validate())
			c.mutate(g)
			require.ErrorContains(t, g.Validate(), c.want)
		})
	}
}
