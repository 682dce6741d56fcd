package keeper_test

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/federated/keeper"
	"github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

var (
	requester    = keepers.Addr(1)
	participants = []sdk.AccAddress{keepers.Addr(10), keepers.Addr(11), keepers.Addr(12)}
	watcher      = keepers.Addr(20)
	stranger     = keepers.Addr(30)
)

type env struct {
	f    *keepers.Fixture
	ms   types.MsgServer
	data *dataset.File
	job  types.FederatedJob
}

// newEnv posts a job on data (features x classes synthetic rows) with
// shards = max = 3 participants.
func newEnv(t *testing.T, features, classes int, rounds uint32, mutate func(*types.MsgPostJob)) *env {
	t.Helper()
	f := keepers.New(t)
	for _, a := range append([]sdk.AccAddress{requester, watcher, stranger}, participants...) {
		f.Fund(t, a, 10_000_000)
	}
	data := fixtures.SyntheticShape(96, features, classes)
	msg := fixtures.FederatedPostMsg(requester, data, 3, rounds, 3)
	es, err := msg.Spec.EngineSpec()
	require.NoError(t, err)
	es.Inputs, es.Outputs = uint32(features), uint32(classes)
	msg.Spec = taskstypes.FromEngineSpec(es, 12, 3, nil)
	msg.Dataset.Schema = taskstypes.FromDatasetSchema(data.Schema())
	if mutate != nil {
		mutate(msg)
	}
	ms := keeper.NewMsgServerImpl(f.Federated)
	res, err := ms.PostJob(f.Ctx, msg)
	require.NoError(t, err)
	job, err := f.Federated.GetJob(f.Ctx, res.JobId)
	require.NoError(t, err)
	return &env{f: f, ms: ms, data: data, job: job}
}

func (e *env) round(t *testing.T) types.Round {
	t.Helper()
	job, err := e.f.Federated.GetJob(e.f.Ctx, e.job.Id)
	require.NoError(t, err)
	e.job = job
	r, err := e.f.Federated.GetRound(e.f.Ctx, job.Id, job.CurrentRound)
	require.NoError(t, err)
	return r
}

func (e *env) update(t *testing.T, round uint32, p sdk.AccAddress) types.Update {
	t.Helper()
	u, err := e.f.Federated.Updates.Get(e.f.Ctx, collections.Join3(e.job.Id, round, p))
	require.NoError(t, err)
	return u
}

// trainRound joins, trains, seals, opens and reveals every participant;
// forgers corrupt every segment. It returns the updates in the chain's
// order (by address) with the accepted ones.
func (e *env) trainRound(t *testing.T, global []int32, forgers ...int) (all, acc []*fixtures.Update) {
	t.Helper()
	r := e.round(t)
	for i, p := range participants {
		_, err := e.ms.JoinRound(e.f.Ctx, &types.MsgJoinRound{Participant: p.String(), JobId: e.job.Id, Round: r.Round, Shard: uint32(i)})
		require.NoError(t, err)
		var forge []uint32
		if slices.Contains(forgers, i) {
			forge = []uint32{0, 1, 2, 3}
		}
		u, err := fixtures.TrainUpdate(e.job, r.Round, p, uint32(i), e.data, global, forge...)
		require.NoError(t, err)
		all = append(all, u)
	}
	for _, u := range all {
		_, err := e.ms.SealUpdate(e.f.Ctx, u.Seal())
		require.NoError(t, err)
	}
	require.Equal(t, types.ROUND_PHASE_OPENING, e.round(t).Phase, "max participants sealed: training closes")
	for _, u := range all {
		_, err := e.ms.OpenUpdate(e.f.Ctx, u.Open())
		require.NoError(t, err)
	}
	for i, u := range all {
		for _, s := range e.update(t, r.Round, u.Participant).Sampled {
			msg, err := u.Reveal(s)
			require.NoError(t, err)
			res, err := e.ms.RevealSegment(e.f.Ctx, msg)
			if slices.Contains(forgers, i) {
				if err == nil {
					require.False(t, res.Passed)
				}
				break
			}
			require.NoError(t, err)
			require.True(t, res.Passed, res.Reason)
		}
		if !slices.Contains(forgers, i) {
			acc = append(acc, u)
		}
	}
	return all, acc
}

// aggregate commits and reveals the drawn chunks of agg by its aggregator.
func (e *env) aggregate(t *testing.T, agg *fixtures.Aggregate, by sdk.AccAddress) (drawn []uint64) {
	t.Helper()
	res, err := e.ms.CommitAggregate(e.f.Ctx, agg.Commit(by))
	require.NoError(t, err)
	return res.Drawn
}

func TestRoundsVerifyPayAndChain(t *testing.T) {
	e := newEnv(t, 16, 4, 2, nil)
	f := e.f
	before := map[string]sdkmath.Int{}
	for _, p := range participants {
		before[p.String()] = f.Balance(p)
	}
	reqBefore := f.Balance(requester)
	global, err := fixtures.GlobalParams(e.job)
	require.NoError(t, err)

	// Round 0: three honest updates.
	_, acc := e.trainRound(t, global)
	r := e.round(t)
	require.Equal(t, types.ROUND_PHASE_AGGREGATING, r.Phase)
	require.EqualValues(t, 3, r.Accepted)
	require.NotEmpty(t, r.Aggregator)
	agg, err := fixtures.NewAggregate(acc, -1)
	require.NoError(t, err)
	aggr := sdk.MustAccAddressFromBech32(r.Aggregator)
	for _, c := range e.aggregate(t, agg, aggr) {
		msg, err := agg.RevealChunk(aggr, c)
		require.NoError(t, err)
		res, err := e.ms.RevealChunk(f.Ctx, msg)
		require.NoError(t, err)
		require.True(t, res.Passed, res.Reason)
	}
	require.Equal(t, types.ROUND_PHASE_FRAUD_WINDOW, e.round(t).Phase)
	f.RequireCustody(t)
	f.Advance(t, 11*time.Minute)
	f.Advance(t, time.Second)
	r0, err := f.Federated.GetRound(f.Ctx, e.job.Id, 0)
	require.NoError(t, err)
	require.Equal(t, types.ROUND_PHASE_FINAL, r0.Phase)
	require.Positive(t, r0.RecomputedMacs)
	require.Greater(t, r0.TrainingMacs, r0.RecomputedMacs)
	r = e.round(t)
	require.EqualValues(t, 1, r.Round)
	aggHash := agg.State.ModelHash()
	require.Equal(t, aggHash[:], r.StartModelHash, "round 1 starts at round 0's aggregate")

	// Round 1: participant 1 forges and is rejected and slashed; the other
	// two are averaged.
	all, acc := e.trainRound(t, agg.State.Params(), 1)
	require.Len(t, acc, 2)
	forger := e.update(t, 1, all[1].Participant)
	require.Equal(t, types.UPDATE_STATUS_REJECTED, forger.Status)
	require.Contains(t, forger.Reason, "recomputed")
	r = e.round(t)
	require.Equal(t, types.ROUND_PHASE_AGGREGATING, r.Phase)
	require.NotEqual(t, all[1].Participant.String(), r.Aggregator, "a rejected participant is never the aggregator")
	agg1, err := fixtures.NewAggregate(acc, -1)
	require.NoError(t, err)
	aggr = sdk.MustAccAddressFromBech32(r.Aggregator)
	for _, c := range e.aggregate(t, agg1, aggr) {
		msg, err := agg1.RevealChunk(aggr, c)
		require.NoError(t, err)
		_, err = e.ms.RevealChunk(f.Ctx, msg)
		require.NoError(t, err)
	}
	f.Advance(t, 11*time.Minute)
	f.Advance(t, time.Second)
	job, err := f.Federated.GetJob(f.Ctx, e.job.Id)
	require.NoError(t, err)
	require.Equal(t, types.JOB_STATUS_COMPLETED, job.Status)
	final := agg1.State.ModelHash()
	require.Equal(t, final[:], job.GlobalModelHash)
	f.RequireCustody(t)

	// Money: honest participants got 2 x 10 000 (+ 5 000 per aggregation),
	// the forger 10 000 for round 0 and lost its 50 000 bond; the requester
	// paid the rounds, got the forger's bond and the unspent budget back.
	paid := sdkmath.ZeroInt()
	for i, p := range participants {
		got := f.Balance(p).Sub(before[p.String()])
		paid = paid.Add(got)
		if i == 1 {
			require.True(t, got.Equal(sdkmath.NewInt(10_000-50_000)) || got.Equal(sdkmath.NewInt(15_000-50_000)), "forger: %s", got)
		} else {
			require.True(t, got.GTE(sdkmath.NewInt(20_000)), "participant %d: %s", i, got)
		}
	}
	// reqBefore is after posting: the budget is the requester's refund, the
	// forger's bond and the participants' pay, to the coin.
	require.True(t, f.Balance(requester).Sub(reqBefore).Add(paid).Equal(e.job.Budget.Amount), "requester got %s back, participants %s, budget %s",
		f.Balance(requester).Sub(reqBefore), paid, e.job.Budget)
	has, err := f.Rewards.JobEscrows.Has(f.Ctx, types.CustodyID(e.job.Id))
	require.NoError(t, err)
	require.False(t, has, "the escrow is closed")

	// Lineage: the final model traces back through both rounds.
	q := keeper.NewQueryServerImpl(f.Federated)
	lin, err := q.Lineage(f.Ctx, &types.QueryLineageRequest{ModelHash: engine.Hash(final).String()})
	require.NoError(t, err)
	require.Equal(t, e.job.Id, lin.JobId)
	require.Len(t, lin.Rounds, 2)
	require.Len(t, lin.Rounds[1].Participants, 2)
}

// toAggregation trains round 0 honestly up to AGGREGATING.
func toAggregation(t *testing.T, e *env) (acc []*fixtures.Update, aggr sdk.AccAddress) {
	t.Helper()
	global, err := fixtures.GlobalParams(e.job)
	require.NoError(t, err)
	_, acc = e.trainRound(t, global)
	r := e.round(t)
	require.Equal(t, types.ROUND_PHASE_AGGREGATING, r.Phase)
	return acc, sdk.MustAccAddressFromBech32(r.Aggregator)
}

func other(aggr sdk.AccAddress) sdk.AccAddress {
	for _, p := range participants {
		if !p.Equals(aggr) {
			return p
		}
	}
	return nil
}

// A wrong parameter in a drawn chunk: the recomputed mean differs, the
// aggregator loses its bond, and another participant's correct aggregate
// replaces it.
func TestWrongAggregateIsSlashedAndReplaced(t *testing.T) {
	e := newEnv(t, 300, 4, 1, func(m *types.MsgPostJob) { m.ChunkSamples = 2 })
	f := e.f
	require.EqualValues(t, 2, e.job.Chunks)
	acc, aggr := toAggregation(t, e)
	bad, err := fixtures.NewAggregate(acc, 5)
	require.NoError(t, err)
	drawn := e.aggregate(t, bad, aggr)
	require.ElementsMatch(t, []uint64{0, 1}, drawn)
	reqBefore, aggBefore := f.Balance(requester), f.Balance(aggr)
	msg, err := bad.RevealChunk(aggr, 0)
	require.NoError(t, err)
	res, err := e.ms.RevealChunk(f.Ctx, msg)
	require.NoError(t, err)
	require.False(t, res.Passed)
	require.Contains(t, res.Reason, "parameter 5")
	require.True(t, f.Balance(aggr).Equal(aggBefore), "the bond stays in custody: it is slashed, not returned")
	require.True(t, f.Balance(requester).Sub(reqBefore).Equal(sdkmath.NewInt(50_000)), "the requester gets the aggregator's bond")
	r := e.round(t)
	require.Equal(t, types.ROUND_PHASE_AGGREGATING, r.Phase)
	require.Equal(t, []string{aggr.String()}, r.FailedAggregators)
	require.Empty(t, r.Aggregator, "aggregation reopens to every accepted participant")
	f.RequireCustody(t)

	_, err = e.ms.CommitAggregate(f.Ctx, bad.Commit(aggr))
	require.ErrorIs(t, err, types.ErrNotAggregator)
	good, err := fixtures.NewAggregate(acc, -1)
	require.NoError(t, err)
	next := other(aggr)
	for _, c := range e.aggregate(t, good, next) {
		msg, err := good.RevealChunk(next, c)
		require.NoError(t, err)
		res, err := e.ms.RevealChunk(f.Ctx, msg)
		require.NoError(t, err)
		require.True(t, res.Passed, res.Reason)
	}
	f.Advance(t, 11*time.Minute)
	f.Advance(t, time.Second)
	job, err := f.Federated.GetJob(f.Ctx, e.job.Id)
	require.NoError(t, err)
	require.Equal(t, types.JOB_STATUS_COMPLETED, job.Status)
	h := good.State.ModelHash()
	require.Equal(t, h[:], job.GlobalModelHash)
	f.RequireCustody(t)
}

// tamperUndrawn finds a wrong aggregate whose wrong parameter lies in a
// chunk the chain will not draw (one chunk of two is drawn), as a cheater
// grinding its aggregate's hash would.
func tamperUndrawn(t *testing.T, e *env, acc []*fixtures.Update, r types.Round) (*fixtures.Aggregate, uint64) {
	t.Helper()
	for i := 1024; i < 1100; i++ {
		bad, err := fixtures.NewAggregate(acc, i)
		require.NoError(t, err)
		h := bad.State.ModelHash()
		seed := types.DrawSeed("chunks", e.f.Ctx.HeaderHash(), e.job.Id, r.Round, h[:])
		if d := drawSegments(seed, 2, 1); d[0] == 0 {
			return bad, 1
		}
	}
	t.Fatal("no tampering lands outside the draw")
	return nil, 0
}

// A wrong chunk the draw missed is caught in the fraud window: a watcher
// challenges it, the aggregator cannot answer, and loses its bond (half to
// the watcher); a challenge of a correct chunk costs the challenger its bond.
func TestFraudWindowChallenges(t *testing.T) {
	e := newEnv(t, 300, 4, 1, nil)
	f := e.f
	acc, aggr := toAggregation(t, e)
	bad, wrongChunk := tamperUndrawn(t, e, acc, e.round(t))
	drawn := e.aggregate(t, bad, aggr)
	require.Equal(t, []uint64{0}, drawn)
	msg, err := bad.RevealChunk(aggr, 0)
	require.NoError(t, err)
	res, err := e.ms.RevealChunk(f.Ctx, msg)
	require.NoError(t, err)
	require.True(t, res.Passed, "the drawn chunk is right")
	require.Equal(t, types.ROUND_PHASE_FRAUD_WINDOW, e.round(t).Phase)

	job := e.job
	low := sdk.NewCoin("uhint", job.ChallengeBond.Amount.SubRaw(1))
	_, err = e.ms.ChallengeChunk(f.Ctx, &types.MsgChallengeChunk{Challenger: watcher.String(), JobId: job.Id, Round: 0, Chunk: wrongChunk, Bond: low})
	require.ErrorIs(t, err, types.ErrChallengeBond)
	_, err = e.ms.ChallengeChunk(f.Ctx, &types.MsgChallengeChunk{Challenger: watcher.String(), JobId: job.Id, Round: 0, Chunk: 0, Bond: job.ChallengeBond})
	require.ErrorIs(t, err, types.ErrAlreadyChallenged, "a verified chunk cannot be challenged")
	watcherBefore, reqBefore := f.Balance(watcher), f.Balance(requester)
	_, err = e.ms.ChallengeChunk(f.Ctx, &types.MsgChallengeChunk{Challenger: watcher.String(), JobId: job.Id, Round: 0, Chunk: wrongChunk, Bond: job.ChallengeBond})
	require.NoError(t, err)
	// The cheater answers with its wrong chunk: the mean does not match.
	msg, err = bad.RevealChunk(aggr, wrongChunk)
	require.NoError(t, err)
	res, err = e.ms.RevealChunk(f.Ctx, msg)
	require.NoError(t, err)
	require.False(t, res.Passed)
	require.True(t, f.Balance(watcher).Sub(watcherBefore).Equal(sdkmath.NewInt(25_000)), "bond back plus half the aggregator's 50 000: %s", f.Balance(watcher).Sub(watcherBefore))
	require.True(t, f.Balance(requester).Sub(reqBefore).Equal(sdkmath.NewInt(25_000)))
	require.Equal(t, types.ROUND_PHASE_AGGREGATING, e.round(t).Phase)
	f.RequireCustody(t)

	// A correct aggregate; a watcher challenging a correct chunk pays the
	// aggregator for its answer.
	good, err := fixtures.NewAggregate(acc, -1)
	require.NoError(t, err)
	next := other(aggr)
	for _, c := range e.aggregate(t, good, next) {
		msg, err := good.RevealChunk(next, c)
		require.NoError(t, err)
		_, err = e.ms.RevealChunk(f.Ctx, msg)
		require.NoError(t, err)
	}
	r := e.round(t)
	require.Equal(t, types.ROUND_PHASE_FRAUD_WINDOW, r.Phase)
	undrawn := uint64(1) - r.Aggregate.Drawn[0]
	nextBefore := f.Balance(next)
	_, err = e.ms.ChallengeChunk(f.Ctx, &types.MsgChallengeChunk{Challenger: stranger.String(), JobId: job.Id, Round: 0, Chunk: undrawn, Bond: job.ChallengeBond})
	require.NoError(t, err)
	msg, err = good.RevealChunk(next, undrawn)
	require.NoError(t, err)
	res, err = e.ms.RevealChunk(f.Ctx, msg)
	require.NoError(t, err)
	require.True(t, res.Passed)
	require.True(t, f.Balance(next).Sub(nextBefore).Equal(job.ChallengeBond.Amount), "the wrong challenger's bond pays the aggregator")
	f.Advance(t, 11*time.Minute)
	f.Advance(t, time.Second)
	require.Equal(t, types.ROUND_PHASE_FINAL, mustRound(t, f, job.Id, 0).Phase)
	f.RequireCustody(t)
}

// An unanswered challenge fails the aggregator at the deadline.
func TestUnansweredChallengeSlashes(t *testing.T) {
	e := newEnv(t, 300, 4, 1, nil)
	f := e.f
	acc, aggr := toAggregation(t, e)
	bad, wrongChunk := tamperUndrawn(t, e, acc, e.round(t))
	e.aggregate(t, bad, aggr)
	msg, err := bad.RevealChunk(aggr, 0)
	require.NoError(t, err)
	_, err = e.ms.RevealChunk(f.Ctx, msg)
	require.NoError(t, err)
	_, err = e.ms.ChallengeChunk(f.Ctx, &types.MsgChallengeChunk{Challenger: watcher.String(), JobId: e.job.Id, Round: 0, Chunk: wrongChunk, Bond: e.job.ChallengeBond})
	require.NoError(t, err)
	before := f.Balance(watcher)
	f.Advance(t, 11*time.Minute)
	f.Advance(t, time.Second)
	r := e.round(t)
	require.Equal(t, types.ROUND_PHASE_AGGREGATING, r.Phase)
	require.Equal(t, []string{aggr.String()}, r.FailedAggregators)
	require.True(t, f.Balance(watcher).Sub(before).Equal(e.job.ChallengeBond.Amount.AddRaw(25_000)))
	f.RequireCustody(t)
}

func mustRound(t *testing.T, f *keepers.Fixture, job uint64, round uint32) types.Round {
	t.Helper()
	r, err := f.Federated.GetRound(f.Ctx, job, round)
	require.NoError(t, err)
	return r
}

// Joined but never sealed: slashed at the train deadline; too few sealed
// stops the job and refunds the requester.
func TestStragglersAndTooFewParticipants(t *testing.T) {
	e := newEnv(t, 16, 4, 2, nil)
	f := e.f
	reqBefore := f.Balance(requester)
	for i, p := range participants[:2] {
		_, err := e.ms.JoinRound(f.Ctx, &types.MsgJoinRound{Participant: p.String(), JobId: e.job.Id, Round: 0, Shard: uint32(i)})
		require.NoError(t, err)
	}
	global, err := fixtures.GlobalParams(e.job)
	require.NoError(t, err)
	u, err := fixtures.TrainUpdate(e.job, 0, participants[0], 0, e.data, global)
	require.NoError(t, err)
	_, err = e.ms.SealUpdate(f.Ctx, u.Seal())
	require.NoError(t, err)
	late, err := fixtures.TrainUpdate(e.job, 0, participants[1], 1, e.data, global)
	require.NoError(t, err)
	err = f.CacheCtx(func(ctx sdk.Context) error {
		_, err := e.ms.SealUpdate(ctx.WithBlockTime(ctx.BlockTime().Add(time.Hour)), late.Seal())
		return err
	})
	require.ErrorIs(t, err, types.ErrWrongPhase, "a seal after the train deadline is refused before the end blocker runs")
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	require.Equal(t, types.UPDATE_STATUS_STRAGGLER, e.update(t, 0, participants[1]).Status)
	require.Equal(t, types.UPDATE_STATUS_EXCLUDED, e.update(t, 0, participants[0]).Status)
	job, err := f.Federated.GetJob(f.Ctx, e.job.Id)
	require.NoError(t, err)
	require.Equal(t, types.JOB_STATUS_STOPPED, job.Status)
	require.True(t, f.Balance(requester).Sub(reqBefore).Equal(e.job.Budget.Amount.AddRaw(50_000)), "budget back plus the straggler's bond")
	f.RequireCustody(t)
}

// Every bad input is a registered error and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, 16, 4, 1, nil)
	f := e.f
	global, err := fixtures.GlobalParams(e.job)
	require.NoError(t, err)
	expect := func(name string, want error, fn func() error) {
		t.Helper()
		snap := f.Snapshot(t, requester, watcher, stranger, participants[0], participants[1], participants[2])
		err := f.CacheCtx(func(ctx sdk.Context) error {
			saved := f.Ctx
			f.Ctx = ctx
			defer func() { f.Ctx = saved }()
			return fn()
		})
		require.ErrorIs(t, err, want, name)
		require.Equal(t, snap, f.Snapshot(t, requester, watcher, stranger, participants[0], participants[1], participants[2]), name)
	}
	join := func(p sdk.AccAddress, shard uint32) *types.MsgJoinRound {
		return &types.MsgJoinRound{Participant: p.String(), JobId: e.job.Id, Round: 0, Shard: shard}
	}

	expect("underfunded", types.ErrUnderfunded, func() error {
		m := fixtures.FederatedPostMsg(requester, e.data, 3, 2, 3)
		m.Budget.Amount = m.Budget.Amount.SubRaw(1)
		_, err := e.ms.PostJob(f.Ctx, m)
		return err
	})
	expect("pay whose total overflows 256 bits", types.ErrUnderfunded, func() error {
		m := fixtures.FederatedPostMsg(requester, e.data, 3, 2, 3)
		m.PayPerUpdate.Amount = sdkmath.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 255))
		_, err := e.ms.PostJob(f.Ctx, m)
		return err
	})
	expect("shard outside", types.ErrBadShard, func() error { _, err := e.ms.JoinRound(f.Ctx, join(participants[0], 3)); return err })
	expect("own job", types.ErrOwnJob, func() error { _, err := e.ms.JoinRound(f.Ctx, join(requester, 0)); return err })
	expect("wrong round", types.ErrWrongRound, func() error {
		m := join(participants[0], 0)
		m.Round = 1
		_, err := e.ms.JoinRound(f.Ctx, m)
		return err
	})
	expect("other data", types.ErrDatasetMismatch, func() error {
		m := join(participants[0], 0)
		m.Dataset = e.job.Dataset
		m.Dataset.Root = make([]byte, 32)
		_, err := e.ms.JoinRound(f.Ctx, m)
		return err
	})

	us := make([]*fixtures.Update, 3)
	for i, p := range participants {
		if i == 2 {
			expect("shard taken", types.ErrBadShard, func() error { _, err := e.ms.JoinRound(f.Ctx, join(stranger, 0)); return err })
			expect("joined twice", types.ErrAlreadyJoined, func() error { _, err := e.ms.JoinRound(f.Ctx, join(participants[0], 2)); return err })
		}
		_, err := e.ms.JoinRound(f.Ctx, join(p, uint32(i)))
		require.NoError(t, err)
		us[i], err = fixtures.TrainUpdate(e.job, 0, p, uint32(i), e.data, global)
		require.NoError(t, err)
	}
	expect("round full", types.ErrRoundFull, func() error { _, err := e.ms.JoinRound(f.Ctx, join(stranger, 2)); return err })
	expect("open before close", types.ErrWrongPhase, func() error { _, err := e.ms.OpenUpdate(f.Ctx, us[0].Open()); return err })
	// Participant 2 trains from another global model.
	wrongGlobal := append([]int32(nil), global...)
	wrongGlobal[0]++
	wrong, err := fixtures.TrainUpdate(e.job, 0, participants[2], 2, e.data, wrongGlobal)
	require.NoError(t, err)
	for _, u := range []*fixtures.Update{us[0], us[1], wrong} {
		_, err := e.ms.SealUpdate(f.Ctx, u.Seal())
		require.NoError(t, err)
	}
	require.Equal(t, types.ROUND_PHASE_OPENING, e.round(t).Phase)
	expect("join closed round", types.ErrWrongPhase, func() error { _, err := e.ms.JoinRound(f.Ctx, join(stranger, 2)); return err })
	expect("start state not the global model", types.ErrWrongStartState, func() error { _, err := e.ms.OpenUpdate(f.Ctx, wrong.Open()); return err })
	expect("copied transcript", types.ErrBadSeal, func() error {
		o := us[0].Open()
		o.Participant = participants[1].String()
		_, err := e.ms.OpenUpdate(f.Ctx, o)
		return err
	})
	expect("non-participant opens", types.ErrNotParticipant, func() error {
		o := us[0].Open()
		o.Participant = stranger.String()
		_, err := e.ms.OpenUpdate(f.Ctx, o)
		return err
	})
	for _, u := range us[:2] {
		_, err := e.ms.OpenUpdate(f.Ctx, u.Open())
		require.NoError(t, err)
	}
	sampled := e.update(t, 0, participants[0]).Sampled
	var unsampled uint32
	for slices.Contains(sampled, unsampled) {
		unsampled++
	}
	expect("unsampled segment", types.ErrNotSampled, func() error {
		m, err := us[0].Reveal(unsampled)
		require.NoError(t, err)
		_, err = e.ms.RevealSegment(f.Ctx, m)
		return err
	})
	// Participant 2 never opens; the others reveal; at the open deadline it
	// is a straggler and the round aggregates the two.
	for _, u := range us[:2] {
		for _, s := range e.update(t, 0, u.Participant).Sampled {
			m, err := u.Reveal(s)
			require.NoError(t, err)
			_, err = e.ms.RevealSegment(f.Ctx, m)
			require.NoError(t, err)
		}
	}
	f.Advance(t, 11*time.Minute)
	f.Advance(t, time.Second)
	r := e.round(t)
	require.Equal(t, types.ROUND_PHASE_AGGREGATING, r.Phase)
	require.Equal(t, types.UPDATE_STATUS_STRAGGLER, e.update(t, 0, participants[2]).Status)
	agg, err := fixtures.NewAggregate(us[:2], -1)
	require.NoError(t, err)
	aggr := sdk.MustAccAddressFromBech32(r.Aggregator)
	expect("non-participant aggregates", types.ErrNotParticipant, func() error { _, err := e.ms.CommitAggregate(f.Ctx, agg.Commit(stranger)); return err })
	expect("straggler aggregates", types.ErrNotAggregator, func() error {
		_, err := e.ms.CommitAggregate(f.Ctx, agg.Commit(participants[2]))
		return err
	})
	expect("bad header proof", types.ErrBadChunk, func() error {
		m := agg.Commit(aggr)
		m.HeaderAunts = nil
		_, err := e.ms.CommitAggregate(f.Ctx, m)
		return err
	})
	drawn := e.aggregate(t, agg, aggr)
	expect("bad chunk proof", types.ErrBadChunk, func() error {
		m, err := agg.RevealChunk(aggr, drawn[0])
		require.NoError(t, err)
		m.Updates[1].Values[0]++
		_, err = e.ms.RevealChunk(f.Ctx, m)
		return err
	})
	expect("missing update chunk", types.ErrBadChunk, func() error {
		m, err := agg.RevealChunk(aggr, drawn[0])
		require.NoError(t, err)
		m.Updates = m.Updates[:1]
		_, err = e.ms.RevealChunk(f.Ctx, m)
		return err
	})
	expect("reveal by another", types.ErrNotAggregator, func() error {
		m, err := agg.RevealChunk(aggr, drawn[0])
		require.NoError(t, err)
		m.Aggregator = other(aggr).String()
		_, err = e.ms.RevealChunk(f.Ctx, m)
		return err
	})
}

// The state exports and imports entry for entry in the middle of a round.
func TestGenesisRoundTrip(t *testing.T) {
	e := newEnv(t, 16, 4, 2, nil)
	acc, aggr := toAggregation(t, e)
	agg, err := fixtures.NewAggregate(acc, -1)
	require.NoError(t, err)
	e.aggregate(t, agg, aggr)
	gs, err := e.f.Federated.ExportGenesis(e.f.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	g := keepers.New(t)
	require.NoError(t, g.Federated.InitGenesis(g.Ctx, gs))
	again, err := g.Federated.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)
	var q1, q2 []collections.Pair[time.Time, uint64]
	require.NoError(t, e.f.Federated.DeadlineQueue.Walk(e.f.Ctx, nil, func(k collections.Pair[time.Time, uint64]) (bool, error) { q1 = append(q1, k); return false, nil }))
	require.NoError(t, g.Federated.DeadlineQueue.Walk(g.Ctx, nil, func(k collections.Pair[time.Time, uint64]) (bool, error) { q2 = append(q2, k); return false, nil }))
	require.Equal(t, q1, q2)
}
