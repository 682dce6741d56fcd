// Package simulation drives x/federated in the app simulation: jobs on a
// small synthetic dataset, participants that join, train (honestly, or
// forging one update in eight), seal, open and reveal, aggregators that
// commit correct (or, one in eight, wrong) aggregates and reveal their
// drawn chunks. Messages not sent in time make stragglers, rejected
// updates, failed aggregates and stopped jobs: every path of the round's
// phase machine, with the custody invariant checked after every block.
package simulation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/x/federated/keeper"
	"github.com/hinterland-ai/hinterland/x/federated/types"
)

var (
	dataOnce sync.Once
	data     *dataset.File

	// globals holds the parameters of every aggregate the simulation
	// committed, by model hash: a later round's participants start from
	// them (the chain stores hashes only). Deterministic: an entry is a
	// function of its key.
	globalsMu sync.Mutex
	globals   = map[string][]int32{}
)

// Data is the simulation's dataset: 96 synthetic rows, 3 shards of 32.
func Data() *dataset.File {
	dataOnce.Do(func() { data = fixtures.Synthetic(96) })
	return data
}

// coin draws: is the (job, round, participant) update forged, the
// aggregate wrong? One in eight, from a hash, so every factory agrees.
func coin(tag string, job uint64, round uint32, who []byte) bool {
	h := sha256.New()
	h.Write([]byte("hinterland/sim/federated/" + tag))
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], job)
	binary.BigEndian.PutUint32(b[8:], round)
	h.Write(b[:])
	h.Write(who)
	return h.Sum(nil)[0]%8 == 0
}

// globalParams are a round's start parameters, if the simulation knows them.
func globalParams(job types.FederatedJob, r types.Round) ([]int32, bool) {
	if r.Round == 0 && len(job.InitialModelHash) == 0 {
		p, err := fixtures.GlobalParams(job)
		return p, err == nil
	}
	globalsMu.Lock()
	defer globalsMu.Unlock()
	p, ok := globals[string(r.StartModelHash)]
	return p, ok
}

// train retrains an update exactly as its participant did.
func train(job types.FederatedJob, r types.Round, u types.Update, p sdk.AccAddress) (*fixtures.Update, bool) {
	global, ok := globalParams(job, r)
	if !ok {
		return nil, false
	}
	var forge []uint32
	if coin("forge", job.Id, r.Round, p) {
		forge = []uint32{0, 1, 2, 3}
	}
	up, err := fixtures.TrainUpdate(job, r.Round, p, u.Shard, Data(), global, forge...)
	return up, err == nil
}

// current lists running jobs whose current round is in one of phases
// (before its deadline).
func current(ctx context.Context, k keeper.Keeper, phases ...types.RoundPhase) ([]types.FederatedJob, []types.Round) {
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	var jobs []types.FederatedJob
	var rounds []types.Round
	_ = k.Jobs.Indexes.Status.Walk(ctx, collections.NewPrefixedPairRange[int32, uint64](int32(types.JOB_STATUS_RUNNING)), func(_ int32, id uint64) (bool, error) {
		j, err := k.Jobs.Get(ctx, id)
		if err != nil {
			return true, err
		}
		r, err := k.GetRound(ctx, id, j.CurrentRound)
		if err == nil && slices.Contains(phases, r.Phase) && now.Before(r.Deadline) {
			jobs, rounds = append(jobs, j), append(rounds, r)
		}
		return false, nil
	})
	return jobs, rounds
}

func updates(ctx context.Context, k keeper.Keeper, job uint64, round uint32) []types.Update {
	var out []types.Update
	_ = k.Updates.Walk(ctx, collections.NewSuperPrefixedTripleRange[uint64, uint32, sdk.AccAddress](job, round), func(_ keeper.UpdateKey, u types.Update) (bool, error) {
		out = append(out, u)
		return false, nil
	})
	return out
}

// MsgPostJobFactory posts a job of 1 to 3 rounds for 2 or 3 participants
// on the simulation's dataset, with random windows.
func MsgPostJobFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgPostJob] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgPostJob) {
		p, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skipf("params: %s", err)
			return nil, nil
		}
		r := testData.Rand()
		msg := fixtures.FederatedPostMsg(sdk.AccAddress{}, Data(), 3, uint32(1+r.Intn(3)), uint32(2+r.Intn(2)))
		w := func() time.Duration {
			return p.MinWindow + time.Duration(r.Int63n(int64(10*time.Minute)))
		}
		msg.TrainWindow, msg.RevealWindow, msg.FraudWindow = w(), w(), w()
		requester := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(msg.Budget.Add(sdk.NewCoin(msg.Budget.Denom, sdkmath.NewInt(1)))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		// The budget is escrowed: keep the transaction's random fee out of it.
		if !requester.LiquidBalance().BlockAmount(msg.Budget) {
			reporter.Skip("the requester cannot pay the budget and a fee")
			return nil, nil
		}
		msg.Requester = requester.AddressBech32
		return []simsx.SimAccount{requester}, msg
	}
}

// MsgJoinRoundFactory joins a training round on a free shard.
func MsgJoinRoundFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgJoinRound] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgJoinRound) {
		jobs, rounds := current(ctx, k, types.ROUND_PHASE_TRAINING)
		if len(jobs) == 0 {
			reporter.Skip("no round takes participants")
			return nil, nil
		}
		i := testData.Rand().Intn(len(jobs))
		job, r := jobs[i], rounds[i]
		us := updates(ctx, k, job.Id, r.Round)
		if uint32(len(us)) >= job.MaxParticipants {
			reporter.Skip("round full")
			return nil, nil
		}
		shard := uint32(0)
		for slices.ContainsFunc(us, func(u types.Update) bool { return u.Shard == shard }) {
			shard++
		}
		p := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(job.Bond.Add(sdk.NewCoin(job.Bond.Denom, sdkmath.NewInt(1)))),
			simsx.ExcludeAddresses(append([]string{job.Requester}, participantsOf(us)...)...))
		if reporter.IsSkipped() {
			return nil, nil
		}
		if !p.LiquidBalance().BlockAmount(job.Bond) { // the bond is locked: keep the fee out of it
			reporter.Skip("the participant cannot pay the bond and a fee")
			return nil, nil
		}
		return []simsx.SimAccount{p}, &types.MsgJoinRound{Participant: p.AddressBech32, JobId: job.Id, Round: r.Round, Shard: shard}
	}
}

func participantsOf(us []types.Update) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Participant
	}
	return out
}

// pickUpdate picks an update in status st of a round in one of phases.
func pickUpdate(ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter, st types.UpdateStatus, phases ...types.RoundPhase) (types.FederatedJob, types.Round, types.Update, simsx.SimAccount, bool) {
	jobs, rounds := current(ctx, k, phases...)
	type cand struct {
		j int
		u types.Update
	}
	var cs []cand
	for i := range jobs {
		for _, u := range updates(ctx, k, jobs[i].Id, rounds[i].Round) {
			if u.Status == st && testData.HasAccount(u.Participant) {
				cs = append(cs, cand{i, u})
			}
		}
	}
	if len(cs) == 0 {
		reporter.Skipf("no %s update", st)
		return types.FederatedJob{}, types.Round{}, types.Update{}, simsx.SimAccount{}, false
	}
	c := cs[testData.Rand().Intn(len(cs))]
	acc := testData.GetAccount(reporter, c.u.Participant)
	return jobs[c.j], rounds[c.j], c.u, acc, !reporter.IsSkipped()
}

// MsgSealUpdateFactory trains a joined participant's update and seals it.
func MsgSealUpdateFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgSealUpdate] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSealUpdate) {
		job, r, u, acc, ok := pickUpdate(ctx, k, testData, reporter, types.UPDATE_STATUS_JOINED, types.ROUND_PHASE_TRAINING)
		if !ok {
			return nil, nil
		}
		up, ok := train(job, r, u, acc.Address)
		if !ok {
			reporter.Skip("the round's global model is unknown to the simulation")
			return nil, nil
		}
		return []simsx.SimAccount{acc}, up.Seal()
	}
}

// MsgOpenUpdateFactory opens a sealed update.
func MsgOpenUpdateFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgOpenUpdate] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgOpenUpdate) {
		job, r, u, acc, ok := pickUpdate(ctx, k, testData, reporter, types.UPDATE_STATUS_SEALED, types.ROUND_PHASE_OPENING)
		if !ok {
			return nil, nil
		}
		up, ok := train(job, r, u, acc.Address)
		if !ok {
			reporter.Skip("the round's global model is unknown to the simulation")
			return nil, nil
		}
		return []simsx.SimAccount{acc}, up.Open()
	}
}

// MsgRevealSegmentFactory reveals the next sampled segment of an update.
func MsgRevealSegmentFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRevealSegment] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRevealSegment) {
		job, r, u, acc, ok := pickUpdate(ctx, k, testData, reporter, types.UPDATE_STATUS_OPENED, types.ROUND_PHASE_OPENING, types.ROUND_PHASE_REVEALING)
		if !ok {
			return nil, nil
		}
		up, ok := train(job, r, u, acc.Address)
		if !ok {
			reporter.Skip("the round's global model is unknown to the simulation")
			return nil, nil
		}
		for _, s := range u.Sampled {
			if !slices.Contains(u.Revealed, s) {
				msg, err := up.Reveal(s)
				if err != nil {
					reporter.Skipf("reveal: %s", err)
					return nil, nil
				}
				return []simsx.SimAccount{acc}, msg
			}
		}
		reporter.Skip("every sampled segment revealed")
		return nil, nil
	}
}

// aggregateOf rebuilds a round's aggregate as its committer built it
// (wrong in one parameter for one committer in eight).
func aggregateOf(ctx context.Context, k keeper.Keeper, job types.FederatedJob, r types.Round, committer sdk.AccAddress) (*fixtures.Aggregate, bool) {
	var acc []*fixtures.Update
	for _, u := range updates(ctx, k, job.Id, r.Round) {
		if u.Status != types.UPDATE_STATUS_ACCEPTED {
			continue
		}
		p, err := sdk.AccAddressFromBech32(u.Participant)
		if err != nil {
			return nil, false
		}
		up, ok := train(job, r, u, p)
		if !ok {
			return nil, false
		}
		acc = append(acc, up)
	}
	if len(acc) == 0 {
		return nil, false
	}
	tamper := -1
	if coin("aggregate", job.Id, r.Round, committer) {
		tamper = 3
	}
	agg, err := fixtures.NewAggregate(acc, tamper)
	return agg, err == nil
}

// MsgCommitAggregateFactory commits a round's aggregate from the designated
// aggregator (or any accepted participant that has not failed, once it may).
func MsgCommitAggregateFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgCommitAggregate] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCommitAggregate) {
		jobs, rounds := current(ctx, k, types.ROUND_PHASE_AGGREGATING)
		if len(jobs) == 0 {
			reporter.Skip("no round aggregating")
			return nil, nil
		}
		i := testData.Rand().Intn(len(jobs))
		job, r := jobs[i], rounds[i]
		who := r.Aggregator
		if who == "" {
			for _, u := range updates(ctx, k, job.Id, r.Round) {
				if u.Status == types.UPDATE_STATUS_ACCEPTED && !slices.Contains(r.FailedAggregators, u.Participant) {
					who = u.Participant
					break
				}
			}
		}
		if who == "" || !testData.HasAccount(who) {
			reporter.Skip("no aggregator the simulation holds")
			return nil, nil
		}
		acc := testData.GetAccount(reporter, who)
		if reporter.IsSkipped() {
			return nil, nil
		}
		agg, ok := aggregateOf(ctx, k, job, r, acc.Address)
		if !ok {
			reporter.Skip("the aggregate cannot be rebuilt")
			return nil, nil
		}
		h := agg.State.ModelHash()
		globalsMu.Lock()
		globals[string(h[:])] = agg.State.Params()
		globalsMu.Unlock()
		return []simsx.SimAccount{acc}, agg.Commit(acc.Address)
	}
}

// MsgRevealChunkFactory reveals a drawn chunk not yet verified.
func MsgRevealChunkFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgRevealChunk] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgRevealChunk) {
		jobs, rounds := current(ctx, k, types.ROUND_PHASE_CHUNKS)
		if len(jobs) == 0 {
			reporter.Skip("no aggregate awaiting chunks")
			return nil, nil
		}
		i := testData.Rand().Intn(len(jobs))
		job, r := jobs[i], rounds[i]
		if !testData.HasAccount(r.Aggregate.Committer) {
			reporter.Skip("committer not held by the simulation")
			return nil, nil
		}
		acc := testData.GetAccount(reporter, r.Aggregate.Committer)
		if reporter.IsSkipped() {
			return nil, nil
		}
		agg, ok := aggregateOf(ctx, k, job, r, acc.Address)
		if !ok {
			reporter.Skip("the aggregate cannot be rebuilt")
			return nil, nil
		}
		for _, c := range r.Aggregate.Drawn {
			if !slices.Contains(r.Aggregate.Verified, c) {
				msg, err := agg.RevealChunk(acc.Address, c)
				if err != nil {
					reporter.Skipf("chunk: %s", err)
					return nil, nil
				}
				return []simsx.SimAccount{acc}, msg
			}
		}
		reporter.Skip("every drawn chunk verified")
		return nil, nil
	}
}
