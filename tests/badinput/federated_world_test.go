package badinput

import (
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
)

// federatedWindow is every window of the pair's federated jobs: long enough
// that a round the pair leaves in a phase is still in it when the corpus
// reaches its cases.
const federatedWindow = 6 * time.Hour

// federatedJobs are the pair's federated jobs, one round each on data's 64
// rows in 3 public shards (posted by the poster; the worker, worker2 and the
// challenger take part, the bystander never does):
//
//	Open         max 3, nobody joined
//	Full         max 2: the worker and worker2 joined (shards 0, 1), neither sealed
//	Opening      max 3: all three sealed, nobody opened; the challenger's
//	             update (Wrong) trained from another model than the round's
//	Aggregating  max 2: the worker's and worker2's updates accepted, no
//	             aggregate committed
//	Chunks       max 2: the worker's update accepted, worker2's forged and
//	             rejected; the worker (its only possible aggregator) committed
//	             Agg, whose chunk is drawn and unrevealed
type federatedJobs struct {
	Open, Full, Opening, Aggregating, Chunks uint64
	Wrong                                    *fixtures.Update
	Agg                                      *fixtures.Aggregate
}

// federatedPost is a valid one-round job of the poster on data with the
// pair's windows.
func (p *pair) federatedPost(maxParticipants uint32) *fedtypes.MsgPostJob {
	m := fixtures.FederatedPostMsg(p.acc(posterI).Addr, data, 3, 1, maxParticipants)
	m.TrainWindow, m.RevealWindow, m.FraudWindow = federatedWindow, federatedWindow, federatedWindow
	return m
}

func (p *pair) federatedJob(id uint64) fedtypes.FederatedJob {
	j, err := p.A.App.FederatedKeeper.GetJob(p.A.Ctx(), id)
	require.NoError(p.t, err)
	return j
}

func (p *pair) federatedRound(id uint64) fedtypes.Round {
	r, err := p.A.App.FederatedKeeper.GetRound(p.A.Ctx(), id, 0)
	require.NoError(p.t, err)
	return r
}

// setupFederated builds the federated jobs on both chains.
func (p *pair) setupFederated() {
	t := p.t
	fj := &p.Fed
	first, err := p.A.App.FederatedKeeper.NextJob.Peek(p.A.Ctx())
	require.NoError(t, err)
	fj.Open, fj.Full, fj.Opening, fj.Aggregating, fj.Chunks = first, first+1, first+2, first+3, first+4
	p.both(posterI, p.federatedPost(3), p.federatedPost(2), p.federatedPost(3), p.federatedPost(2), p.federatedPost(2))

	// Shard i for the i-th participant (worker, worker2, challenger).
	participants := []int{workerI, worker2I, challengerI}
	for shard, i := range participants {
		var joins []sdk.Msg
		for _, id := range []uint64{fj.Full, fj.Opening, fj.Aggregating, fj.Chunks} {
			if i != challengerI || id == fj.Opening {
				joins = append(joins, &fedtypes.MsgJoinRound{Participant: p.addr(i), JobId: id, Shard: uint32(shard)})
			}
		}
		p.both(i, joins...)
	}
	train := func(id uint64, i int, shard uint32, shift int32, forge ...uint32) *fixtures.Update {
		job := p.federatedJob(id)
		global, err := fixtures.GlobalParams(job)
		require.NoError(t, err)
		global[0] += shift
		u, err := fixtures.TrainUpdate(job, 0, p.acc(i).Addr, shard, data, global, forge...)
		require.NoError(t, err)
		return u
	}
	updates := map[uint64][]*fixtures.Update{}
	for shard, i := range participants[:2] {
		var seals []sdk.Msg
		for _, id := range []uint64{fj.Opening, fj.Aggregating, fj.Chunks} {
			var forge []uint32
			if id == fj.Chunks && i == worker2I {
				forge = []uint32{0, 1, 2, 3} // every segment
			}
			u := train(id, i, uint32(shard), 0, forge...)
			updates[id] = append(updates[id], u)
			seals = append(seals, u.Seal())
		}
		p.both(i, seals...)
	}
	fj.Wrong = train(fj.Opening, challengerI, 2, 1)
	p.both(challengerI, fj.Wrong.Seal())
	for _, id := range []uint64{fj.Opening, fj.Aggregating, fj.Chunks} {
		require.Equal(t, fedtypes.ROUND_PHASE_OPENING, p.federatedRound(id).Phase, "job %d", id)
	}
	for k, i := range participants[:2] {
		p.both(i, updates[fj.Aggregating][k].Open(), updates[fj.Chunks][k].Open())
	}
	for k, i := range participants[:2] {
		var reveals []sdk.Msg
		for _, id := range []uint64{fj.Aggregating, fj.Chunks} {
			u := updates[id][k]
			upd, err := p.A.App.FederatedKeeper.Updates.Get(p.A.Ctx(), collections.Join3(id, uint32(0), u.Participant))
			require.NoError(t, err)
			for _, s := range upd.Sampled {
				m, err := u.Reveal(s)
				require.NoError(t, err)
				reveals = append(reveals, m)
				if id == fj.Chunks && i == worker2I {
					break // the first forged segment rejects the update
				}
			}
		}
		p.both(i, reveals...)
	}
	worker := p.acc(workerI).Addr
	require.Equal(t, worker.String(), p.federatedRound(fj.Chunks).Aggregator)
	fj.Agg, err = fixtures.NewAggregate(updates[fj.Chunks][:1], -1)
	require.NoError(t, err)
	p.both(workerI, fj.Agg.Commit(worker))

	for id, want := range map[uint64]fedtypes.RoundPhase{
		fj.Open: fedtypes.ROUND_PHASE_TRAINING, fj.Full: fedtypes.ROUND_PHASE_TRAINING, fj.Opening: fedtypes.ROUND_PHASE_OPENING,
		fj.Aggregating: fedtypes.ROUND_PHASE_AGGREGATING, fj.Chunks: fedtypes.ROUND_PHASE_CHUNKS,
	} {
		require.Equal(t, want, p.federatedRound(id).Phase, "job %d", id)
	}
}
