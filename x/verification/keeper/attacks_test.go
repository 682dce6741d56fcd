package keeper_test

// Issue 13: every attack on money and assurance, performed through the real
// message servers, and what the attacker gets now (nothing).

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// 1. A replica copies another replica's transcript. Before: B sent A's hash
// list (seen in a block) as its own commit, revealed with A's served states
// and was paid 475 000 uhint. Now B must seal before A opens; whatever it
// seals, it cannot open A's transcript as its own (the seal is bound to the
// worker), it is slashed at the open deadline, and no later claim can take
// the copy either.
func TestCopiedTranscriptIsNotPaid(t *testing.T) {
	e := newEnv(t, 2, 2)
	f := e.f
	runA := e.claim(t, worker)
	bBefore := f.Balance(worker2)
	_, err := e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker2.String(), TaskId: e.id})
	require.NoError(t, err)

	openA := runA.Open(worker)
	sealA := sealMsg(worker, openA)
	_, err = e.ms.SealTranscript(f.Ctx, sealA)
	require.NoError(t, err)
	require.False(t, e.task(t).ClaimsClosed, "B's claim is still unsealed")
	_, err = e.ms.OpenTranscript(f.Ctx, openA)
	require.ErrorIs(t, err, types.ErrNotOpenable, "nothing opens while a replica has not sealed")

	// B copies A's seal bytes from the mempool: accepted as a seal, useless.
	_, err = e.ms.SealTranscript(f.Ctx, &types.MsgSealTranscript{Worker: worker2.String(), TaskId: e.id, Seal: sealA.Seal})
	require.NoError(t, err)
	require.True(t, e.task(t).ClaimsClosed)
	_, err = e.ms.OpenTranscript(f.Ctx, openA)
	require.NoError(t, err)

	// A's open is public now, salt included. B sends it as its own.
	copyB := *openA
	copyB.Worker = worker2.String()
	_, err = e.ms.OpenTranscript(f.Ctx, &copyB)
	require.ErrorIs(t, err, types.ErrBadSeal)
	// Nor can a newcomer claim the task and seal the copy.
	_, err = e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: stranger.String(), TaskId: e.id})
	require.ErrorIs(t, err, taskstypes.ErrClaimsClosed)

	f.Advance(t, 5*time.Second)
	e.revealAll(t, runA, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, e.transcript(t, worker).Status)
	f.Advance(t, 11*time.Minute) // B's open deadline (the reveal window) passes
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, e.transcript(t, worker2).Status)
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FINAL, e.transcript(t, worker).Status)
	require.Equal(t, taskstypes.TASK_STATUS_COMPLETED, e.task(t).Status)

	require.True(t, f.Balance(worker2).LT(bBefore), "the copier lost its bond")
	require.Equal(t, bBefore.SubRaw(200_000), f.Balance(worker2))
	rep, err := f.Rewards.Reputations.Get(f.Ctx, worker2)
	require.NoError(t, err)
	require.Zero(t, rep.Verified)
	require.Zero(t, rep.VerifiedMacs)
	f.RequireCustody(t)
}

// trainUntilFailure runs a task segment by segment until the engine fails:
// the states h_0..h_s, s being the failing segment.
func trainUntilFailure(t *testing.T, task taskstypes.Task) ([]*engine.State, error) {
	t.Helper()
	job, err := taskstypes.EngineJob(task)
	require.NoError(t, err)
	src, err := data.Source(job.Spec.FracBits)
	require.NoError(t, err)
	st, err := engine.NewInitialState(job)
	require.NoError(t, err)
	states := []*engine.State{st}
	for i := uint64(0); i < task.Spec.Segments(); i++ {
		_, steps := task.Spec.SegmentRange(i)
		next, _, err := engine.RunSegment(job, st, src, steps)
		if err != nil {
			return states, err
		}
		states = append(states, next)
		st = next
	}
	return states, nil
}

func hashes(states []*engine.State) [][]byte {
	out := make([][]byte, len(states))
	for i, s := range states {
		h := s.Hash()
		out[i] = h[:]
	}
	return out
}

// adamAttack is issue 13's untrainable spec: Adam, lr 8.0, beta1 0, beta2
// 64911/65536: a short probe trains, step 30 fails on every machine.
func adamAttack(spec taskstypes.TrainingSpec) taskstypes.TrainingSpec {
	spec.Optimizer, spec.Momentum = taskstypes.OPTIMIZER_ADAM, 0
	spec.LearningRate, spec.Beta1, spec.Beta2, spec.Epsilon = 8<<16, 0, 64911, 1
	return spec
}

// 2a. A requester posts a task that cannot be trained. Before: accepted; each
// honest worker was slashed at the commit deadline and the requester took
// 160 000 uhint per victim. Now PostTask refuses it, naming the step.
func TestUntrainableTaskIsRefusedAtPost(t *testing.T) {
	f := keepers.New(t)
	f.Fund(t, poster, 10_000_000)
	ms := taskkeeperMsgServer(f)
	msg := fixtures.PostMsg(poster, data)
	msg.Spec = adamAttack(fixtures.Spec(60, 3))
	before := f.Snapshot(t, poster)
	_, err := ms.PostTask(f.Ctx, msg)
	require.ErrorIs(t, err, taskstypes.ErrInvalidSpec)
	require.ErrorContains(t, err, "step 30")
	require.Equal(t, before, f.Snapshot(t, poster))
	// The same schedule ending before the failing step is a fine job.
	msg.Spec = adamAttack(fixtures.Spec(30, 3))
	_, err = ms.PostTask(f.Ctx, msg)
	require.NoError(t, err)
}

// 2b. A task the engine cannot train (here placed in state as if posted
// before the check) no longer costs the worker its bond: the worker seals
// the checkpoints up to the failing segment as an engine-failure transcript;
// the chain samples the prefix, recomputes the failing segment (it must
// fail), and at the end of the fraud window the requester pays: bond back,
// the share of the steps trained plus the penalty. The task closes as
// untrainable and takes no more claims.
func TestEngineFailureProofMakesTheRequesterPay(t *testing.T) {
	e := newEnv(t, 2, 1)
	f := e.f
	task := e.task(t)
	task.Spec = adamAttack(fixtures.Spec(60, 3)) // 20 segments; step 30 is in segment 10
	require.NoError(t, f.Tasks.Tasks.Set(f.Ctx, task.Id, task))
	workerStart, posterStart := f.Balance(worker), f.Balance(poster)

	_, err := e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: e.id})
	require.NoError(t, err)
	states, err := trainUntilFailure(t, task)
	require.ErrorIs(t, err, engine.ErrTrainingFailed)
	require.Len(t, states, 11, "h_0..h_10: the engine fails inside segment 10")
	open := &types.MsgOpenTranscript{Worker: worker.String(), TaskId: e.id, Checkpoints: hashes(states),
		Uri: "http://127.0.0.1:9/ckpt", Salt: fixtures.Salt(worker), EngineFailure: true}
	sealOpen(t, f.Ctx, e.ms, worker, open)
	f.Advance(t, 5*time.Second)
	tr := e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_CHALLENGED, tr.Status)
	require.Contains(t, tr.Sampled, uint32(10), "the failing segment is always recomputed")
	require.Len(t, tr.Sampled, 3)

	run := &fixtures.Run{Task: task, Data: data, States: states}
	run.Job, err = taskstypes.EngineJob(task)
	require.NoError(t, err)
	for _, res := range e.revealAll(t, run, worker) {
		require.True(t, res.Match)
	}
	require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, e.transcript(t, worker).Status)
	f.Advance(t, time.Hour+time.Minute)
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FINAL, e.transcript(t, worker).Status)
	got := e.task(t)
	require.Equal(t, taskstypes.TASK_STATUS_UNTRAINABLE, got.Status)
	require.Contains(t, got.Untrainable, "segment 10")
	a, err := f.Tasks.GetAssignment(f.Ctx, e.id, worker)
	require.NoError(t, err)
	require.Equal(t, taskstypes.ASSIGNMENT_STATUS_UNTRAINABLE, a.Status)

	// 30 of 60 steps trained: half the 1 000 000 share, plus 10%.
	require.Equal(t, workerStart.AddRaw(600_000), f.Balance(worker))
	require.Equal(t, posterStart.AddRaw(400_000), f.Balance(poster))
	require.True(t, f.ModuleBalance("rewards").IsZero())
	f.RequireCustody(t)
	_, err = e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker2.String(), TaskId: e.id})
	require.Error(t, err, "an untrainable task takes no claim")
}

// 2c. A worker that claims a trainable task is untrainable (to be paid
// without the work) is slashed: the chain recomputes the segment, and it
// trains.
func TestFalseEngineFailureIsSlashed(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	run := e.claim(t, worker)
	workerStart := f.Balance(worker)
	open := &types.MsgOpenTranscript{Worker: worker.String(), TaskId: e.id, Checkpoints: run.Checkpoints()[:2],
		Uri: "http://127.0.0.1:9/ckpt", Salt: fixtures.Salt(worker), EngineFailure: true}
	sealOpen(t, f.Ctx, e.ms, worker, open)
	f.Advance(t, 5*time.Second)
	require.Contains(t, e.pending(t, worker), uint32(1))
	partial := &fixtures.Run{Task: run.Task, Job: run.Job, Data: data, States: run.States[:2]}
	for _, seg := range e.pending(t, worker) {
		msg, err := partial.Reveal(worker, seg)
		require.NoError(t, err)
		_, err = e.ms.RevealSegment(f.Ctx, msg)
		require.NoError(t, err)
		if e.transcript(t, worker).Status == types.TRANSCRIPT_STATUS_FAILED {
			break
		}
	}
	tr := e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, tr.Status)
	require.Contains(t, tr.Failure, "computed the segment")
	require.Equal(t, workerStart, f.Balance(worker), "the bond (locked at the claim) is lost")
	require.Equal(t, taskstypes.TASK_STATUS_OPEN, e.task(t).Status, "the task reopens for honest workers")
	f.RequireCustody(t)
}

// 2d. A worker may give up an unsealed claim for the abandon fee instead of
// its bond; a sealed claim cannot be abandoned.
func TestAbandonClaim(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	_, err := e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: e.id})
	require.NoError(t, err)
	w0, p0 := f.Balance(worker), f.Balance(poster)
	_, err = e.tasks.AbandonClaim(f.Ctx, &taskstypes.MsgAbandonClaim{Worker: stranger.String(), TaskId: e.id})
	require.ErrorIs(t, err, taskstypes.ErrAssignmentMissing)
	res, err := e.tasks.AbandonClaim(f.Ctx, &taskstypes.MsgAbandonClaim{Worker: worker.String(), TaskId: e.id})
	require.NoError(t, err)
	require.Equal(t, "1000uhint", res.Fee.String())
	require.Equal(t, w0.AddRaw(199_000), f.Balance(worker))
	require.Equal(t, p0.AddRaw(1_000), f.Balance(poster))
	require.Equal(t, taskstypes.TASK_STATUS_OPEN, e.task(t).Status)
	a, err := f.Tasks.GetAssignment(f.Ctx, e.id, worker)
	require.NoError(t, err)
	require.Equal(t, taskstypes.ASSIGNMENT_STATUS_ABANDONED, a.Status)
	f.RequireCustody(t)

	run := e.claim(t, worker2)
	_, err = e.ms.SealTranscript(f.Ctx, run.Seal(worker2))
	require.NoError(t, err)
	before := f.Snapshot(t, worker2, poster)
	_, err = e.tasks.AbandonClaim(f.Ctx, &taskstypes.MsgAbandonClaim{Worker: worker2.String(), TaskId: e.id})
	require.ErrorIs(t, err, taskstypes.ErrWrongState)
	require.Equal(t, before, f.Snapshot(t, worker2, poster))
}

// 3a. Griefing with cheap challenges. Before: a 1 000 uhint bond forced an
// honest worker to spend ~7 460-52 700 uhint of gas, and unanswered challenges
// paid the griefer. Now the bond is at least twice the gas of the largest
// honest answer at the chain's challenge gas price, and the answered
// challenge pays the worker the bond.
func TestChallengeBondCoversTheHonestAnswer(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	run := passWith(t, e, nil)
	params, err := f.Verification.Params.Get(f.Ctx)
	require.NoError(t, err)
	task := e.task(t)
	cost, err := recompute.WorstSegmentCost(task.Spec, task.Dataset)
	require.NoError(t, err)
	answerFee := params.ChallengeGasPrice.MulInt(sdkmath.NewIntFromUint64(cost.MaxGas(params) + recompute.RevealTxOverheadGas)).Ceil().TruncateInt()
	need := e.challengeBond(t)
	require.True(t, need.Amount.GTE(answerFee.MulRaw(2)), "bond %s must cover twice the answer's fee %s", need, answerFee)

	seg := unsampled(t, e)
	small := sdk.NewCoin(need.Denom, need.Amount.SubRaw(1))
	before := f.Snapshot(t, challenger, worker)
	_, err = e.ms.SealChallenge(f.Ctx, sealChallengeMsg(e.id, worker, challenger, seg, challengeSalt(challenger, 0), small))
	require.ErrorIs(t, err, types.ErrInvalidBond)
	require.Equal(t, before, f.Snapshot(t, challenger, worker))

	w0, c0 := f.Balance(worker), f.Balance(challenger)
	e.challenge(t, challenger, worker, seg, need)
	msg, err := run.Reveal(worker, seg)
	require.NoError(t, err)
	ctx := f.Ctx.WithGasMeter(newMeter())
	res, err := e.ms.RevealSegment(ctx, msg)
	require.NoError(t, err)
	require.True(t, res.Match)
	gas := ctx.GasMeter().GasConsumed()
	require.LessOrEqual(t, gas, cost.MaxGas(params)+recompute.RevealTxOverheadGas)
	paidFee := params.ChallengeGasPrice.MulInt(sdkmath.NewIntFromUint64(gas)).Ceil().TruncateInt()
	require.Equal(t, w0.Add(need.Amount), f.Balance(worker), "the griefer's bond pays the worker")
	require.True(t, need.Amount.GT(paidFee.MulRaw(2)), "the worker earns more than twice its answer's fee")
	require.Equal(t, c0.Sub(need.Amount), f.Balance(challenger))
	f.RequireCustody(t)
}

// 3b. A flood of challenges cannot crowd the answers out of the reveal
// window: each new challenge's deadline is extended by the blocks the reveals
// already owed need.
func TestRevealWindowGrowsWithOwedRevealGas(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	passWith(t, e, nil)
	params, err := f.Verification.Params.Get(f.Ctx)
	require.NoError(t, err)
	// Pretend the chain already owes 40 blocks' worth of reveals.
	perBlock := uint64(f.Ctx.ConsensusParams().Block.GetMaxGas())
	if perBlock == 0 {
		perBlock = types.CalibratedMaxBlockGas
	}
	require.NoError(t, f.Verification.PendingRevealGas.Set(f.Ctx, 20*perBlock))
	seg := unsampled(t, e)
	e.challenge(t, challenger, worker, seg, e.challengeBond(t))
	c, err := f.Verification.Challenges.Get(f.Ctx, collectionsJoin3(e.id, worker, seg))
	require.NoError(t, err)
	window := c.Deadline.Sub(f.Ctx.BlockTime())
	require.GreaterOrEqual(t, window, params.RevealWindow+40*params.BlockTime,
		"40 blocks of owed reveals at half a block each extend the window")
	owed, err := f.Verification.PendingRevealGas.Get(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, 20*perBlock+c.Gas, owed)
}

// 3c. A watcher's challenge cannot be front-run from the mempool: the seal
// does not name the segment, and when a copier who saw the opening seals and
// opens first, the earlier seal takes the challenge back and the copier is
// merely refunded. The challenger share goes to the watcher that caught the
// forgery.
func TestFrontRunChallengeLoses(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	sampled := probeSample(t)
	seg := (sampled + 1) % 4
	passWith(t, e, []uint32{sampled}, seg)
	need := e.challengeBond(t)
	watcher, copier := challenger, stranger
	wSalt, cSalt := challengeSalt(watcher, 0), challengeSalt(copier, 0)
	_, err := e.ms.SealChallenge(f.Ctx, sealChallengeMsg(e.id, worker, watcher, seg, wSalt, need))
	require.NoError(t, err)
	f.Advance(t, time.Second)
	// The watcher's opening sits in the mempool; the copier (the proposer)
	// leaves it out, seals the same segment and opens it a block later.
	_, err = e.ms.SealChallenge(f.Ctx, sealChallengeMsg(e.id, worker, copier, seg, cSalt, need))
	require.NoError(t, err)
	f.Advance(t, time.Second)
	copier0 := f.Balance(copier)
	_, err = e.ms.ChallengeSegment(f.Ctx, openChallengeMsg(e.id, worker, copier, seg, cSalt))
	require.NoError(t, err)
	_, err = e.ms.ChallengeSegment(f.Ctx, openChallengeMsg(e.id, worker, watcher, seg, wSalt))
	require.NoError(t, err, "the earlier seal displaces the copier")
	c, err := f.Verification.Challenges.Get(f.Ctx, collectionsJoin3(e.id, worker, seg))
	require.NoError(t, err)
	require.Equal(t, watcher.String(), c.Challenger)
	require.Equal(t, copier0.Add(need.Amount), f.Balance(copier), "the copier is refunded, nothing more")
	f.RequireCustody(t)

	// The worker cannot reveal a forged segment; at the deadline it fails and
	// the watcher gets the challenger share (30% of the 200 000 bond).
	w0 := f.Balance(watcher)
	f.Advance(t, c.Deadline.Sub(f.Ctx.BlockTime())+time.Second)
	f.Advance(t, time.Second)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, e.transcript(t, worker).Status)
	require.Equal(t, w0.Add(need.Amount).AddRaw(60_000), f.Balance(watcher))
	require.Equal(t, copier0.Add(need.Amount), f.Balance(copier))
	f.RequireCustody(t)
}

// 3d. The challenger share goes only to whoever caught the forgery: a fraud
// challenger pending on an honest segment when the worker fails another
// gets its bond back and nothing more.
func TestShareGoesToTheActualCatcher(t *testing.T) {
	e := newEnv(t, 1, 1)
	f := e.f
	sampled := probeSample(t)
	forged := (sampled + 1) % 4
	honest := (sampled + 2) % 4
	run := passWith(t, e, []uint32{sampled}, forged)
	need := e.challengeBond(t)
	e.challenge(t, challenger, worker, honest, need) // X: an honest segment
	e.challenge(t, stranger, worker, forged, need)   // Y: the forged one
	x0, y0 := f.Balance(challenger), f.Balance(stranger)
	msg, err := run.Reveal(worker, forged)
	require.NoError(t, err)
	res, err := e.ms.RevealSegment(f.Ctx, msg)
	require.NoError(t, err)
	require.False(t, res.Match)
	require.Equal(t, x0.Add(need.Amount), f.Balance(challenger), "X is refunded, no share")
	require.Equal(t, y0.Add(need.Amount).AddRaw(60_000), f.Balance(stranger), "Y caught it: bond back and the 30% share")
	f.RequireCustody(t)
}

// probeSample is the single segment a 1-sample draw of newEnv's task takes.
func probeSample(t *testing.T) uint32 {
	probe := newEnv(t, 1, 1)
	probe.claimCommit(t, worker)
	probe.f.Advance(t, time.Second)
	return probe.transcript(t, worker).Sampled[0]
}

// 4. The block proposer chooses the sample. Before: the draw hashed the next
// block's hash, and a proposer who also worked found a block whose draw
// missed its forged segments after ~47 000 candidates. Now the draw hashes
// the requester's secret, committed at posting and revealed only once every
// transcript is sealed: grinding block hashes changes nothing, and nobody can
// reveal the secret before the worker has sealed.
func TestProposerCannotGrindTheSample(t *testing.T) {
	secret := sha256.Sum256([]byte("the requester's secret"))
	secretHash := sha256.Sum256(secret[:])
	draw := func(header []byte) []uint32 {
		f := keepers.New(t)
		f.Fund(t, poster, 10_000_000)
		f.Fund(t, worker, 10_000_000)
		e := &env{f: f, tasks: taskkeeperMsgServer(f), ms: verificationMsgServer(f)}
		msg := fixtures.PostMsg(poster, data)
		msg.Spec = fixtures.Spec(60, 3) // 20 segments
		msg.Samples, msg.SecretHash = 4, secretHash[:]
		res, err := e.tasks.PostTask(f.Ctx, msg)
		require.NoError(t, err)
		e.id = res.TaskId
		run := e.claim(t, worker)
		// The secret cannot be revealed before the worker seals.
		_, err = e.tasks.RevealSecret(f.Ctx, &taskstypes.MsgRevealSecret{Poster: poster.String(), TaskId: e.id, Secret: secret[:]})
		require.ErrorIs(t, err, taskstypes.ErrSecretNotDue)
		sealOpen(t, f.Ctx, e.ms, worker, run.Open(worker))
		f.Advance(t, 5*time.Second)
		require.Equal(t, types.TRANSCRIPT_STATUS_COMMITTED, e.transcript(t, worker).Status, "no draw before the secret")
		_, err = e.tasks.RevealSecret(f.Ctx, &taskstypes.MsgRevealSecret{Poster: poster.String(), TaskId: e.id, Secret: []byte("wrong secret, 32 bytes long.....")})
		require.ErrorIs(t, err, taskstypes.ErrBadSecret)
		_, err = e.tasks.RevealSecret(f.Ctx, &taskstypes.MsgRevealSecret{Poster: poster.String(), TaskId: e.id, Secret: secret[:]})
		require.NoError(t, err)
		// The proposer of the draw block picks its contents (its hash).
		f.Ctx = f.Ctx.WithHeaderHash(header)
		f.Advance(t, 5*time.Second)
		tr := e.transcript(t, worker)
		require.Equal(t, types.DRAW_SOURCE_REQUESTER_SECRET, tr.DrawSource)
		return tr.Sampled
	}
	first := draw(bytes.Repeat([]byte{1}, 32))
	require.Len(t, first, 4)
	for i := byte(2); i < 6; i++ {
		require.Equal(t, first, draw(bytes.Repeat([]byte{i}, 32)), "the sample does not depend on the block")
	}
	// Without a secret the block hash decides (the fallback, marked so).
	seed := func(h byte) []uint32 {
		return recompute.DrawSegments(recompute.ChallengeSeed(bytes.Repeat([]byte{h}, 32), 1, worker, []byte("t")), 20, 4)
	}
	differs := false
	for h := byte(2); h < 10 && !differs; h++ {
		differs = !equalU32(seed(1), seed(h))
	}
	require.True(t, differs, "chain randomness depends on the block hash")
}

// A requester that never reveals its secret cannot stall the worker: at the
// open deadline the sample is drawn from the chain, marked as such.
func TestUnrevealedSecretFallsBackToChainRandomness(t *testing.T) {
	f := keepers.New(t)
	f.Fund(t, poster, 10_000_000)
	f.Fund(t, worker, 10_000_000)
	e := &env{f: f, tasks: taskkeeperMsgServer(f), ms: verificationMsgServer(f)}
	msg := fixtures.PostMsg(poster, data)
	h := sha256.Sum256([]byte("never revealed"))
	msg.SecretHash = h[:]
	res, err := e.tasks.PostTask(f.Ctx, msg)
	require.NoError(t, err)
	e.id = res.TaskId
	run := e.claim(t, worker)
	sealOpen(t, f.Ctx, e.ms, worker, run.Open(worker))
	f.Advance(t, 5*time.Minute)
	require.Equal(t, types.TRANSCRIPT_STATUS_COMMITTED, e.transcript(t, worker).Status)
	f.Advance(t, 6*time.Minute)
	f.Advance(t, 5*time.Second)
	tr := e.transcript(t, worker)
	require.Equal(t, types.TRANSCRIPT_STATUS_CHALLENGED, tr.Status)
	require.Equal(t, types.DRAW_SOURCE_CHAIN, tr.DrawSource)
	require.Len(t, tr.Sampled, 2)
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func taskkeeperMsgServer(f *keepers.Fixture) taskstypes.MsgServer {
	return taskskeeper.NewMsgServerImpl(f.Tasks)
}

func verificationMsgServer(f *keepers.Fixture) types.MsgServer {
	return keeper.NewMsgServerImpl(f.Verification)
}

func newMeter() storetypes.GasMeter { return storetypes.NewInfiniteGasMeter() }
