package badinput

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/apptest"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
)

// fedErr is a registered x/federated error (x/federated/types/errors.go).
func fedErr(err interface{ ABCICode() uint32 }) code {
	return code{fedtypes.ModuleName, err.ABCICode()}
}

// federatedCases are the bad federated messages on the pair's jobs (see
// federatedJobs), in any order and at any time of the corpus.
func federatedCases() []badCase {
	join := func(p *pair, from int, id uint64, shard uint32) *fedtypes.MsgJoinRound {
		return &fedtypes.MsgJoinRound{Participant: p.addr(from), JobId: id, Shard: shard}
	}
	revealCase := func(name string, mutate func(m *fedtypes.MsgRevealChunk)) badCase {
		return handlerCase("federated reveal chunk: "+name, workerI, fedErr(fedtypes.ErrBadChunk), func(p *pair) sdk.Msg {
			m, err := p.Fed.Agg.RevealChunk(p.acc(workerI).Addr, p.federatedRound(p.Fed.Chunks).Aggregate.Drawn[0])
			if err != nil {
				panic(err)
			}
			mutate(m)
			return m
		})
	}
	// commitCase commits an aggregate of Aggregating (its accepted updates
	// are the worker's and worker2's) from `from`.
	commitCase := func(name string, from int) badCase {
		return handlerCase("federated commit: "+name, from, fedErr(fedtypes.ErrNotParticipant), func(p *pair) sdk.Msg {
			m := p.Fed.Agg.Commit(p.acc(from).Addr)
			m.JobId = p.Fed.Aggregating
			return m
		})
	}
	return []badCase{
		handlerCase("federated post: a budget below rounds x (max participants x pay + aggregation pay)", posterI,
			fedErr(fedtypes.ErrUnderfunded), func(p *pair) sdk.Msg {
				m := p.federatedPost(3)
				m.Rounds = 2
				m.Budget.Amount = m.PayPerUpdate.Amount.MulRaw(3).Add(m.PayPerAggregation.Amount).MulRaw(2).SubRaw(1)
				return m
			}),
		handlerCase("federated join: a full round", bystanderI, fedErr(fedtypes.ErrRoundFull), func(p *pair) sdk.Msg {
			return join(p, bystanderI, p.Fed.Full, 2)
		}),
		handlerCase("federated join: a round closed for training", bystanderI, fedErr(fedtypes.ErrWrongPhase), func(p *pair) sdk.Msg {
			return join(p, bystanderI, p.Fed.Opening, 2)
		}),
		{name: "federated join: in the block at the train deadline", from: bystanderI, check: ok, block: fedErr(fedtypes.ErrWrongPhase),
			tx: func(p *pair) ([]byte, apptest.TxOptions) {
				// A job whose train window is one block: the join comes in
				// the block at its deadline, before the end blocker closes it.
				m := p.federatedPost(3)
				m.TrainWindow = p.A.BlockTime
				next, err := p.A.App.FederatedKeeper.NextJob.Peek(p.A.Ctx())
				if err != nil {
					panic(err)
				}
				p.both(posterI, m)
				return p.bad(bystanderI, apptest.TxOptions{}, join(p, bystanderI, next, 0)), apptest.TxOptions{}
			}},
		handlerCase("federated join: a data root other than the job's shards", bystanderI, fedErr(fedtypes.ErrDatasetMismatch),
			func(p *pair) sdk.Msg {
				m := join(p, bystanderI, p.Fed.Open, 0)
				m.Dataset = p.federatedJob(p.Fed.Open).Dataset
				m.Dataset.Root = make([]byte, 32)
				return m
			}),
		handlerCase("federated join: the job's data root with another row count", bystanderI, fedErr(fedtypes.ErrDatasetMismatch),
			func(p *pair) sdk.Msg {
				m := join(p, bystanderI, p.Fed.Open, 0)
				m.Dataset = p.federatedJob(p.Fed.Open).Dataset
				m.Dataset.Rows--
				return m
			}),
		handlerCase("federated open: an update that does not start at the round's global model", challengerI,
			fedErr(fedtypes.ErrWrongStartState), func(p *pair) sdk.Msg { return p.Fed.Wrong.Open() }),
		commitCase("by a non-participant", bystanderI),
		commitCase("by the requester", posterI),
		revealCase("a bit of the aggregate's proof flipped", func(m *fedtypes.MsgRevealChunk) { m.Aggregate.Aunts[0][0] ^= 1 }),
		revealCase("the aggregate's proof missing", func(m *fedtypes.MsgRevealChunk) { m.Aggregate.Aunts = nil }),
		revealCase("the update's chunk with a value changed", func(m *fedtypes.MsgRevealChunk) { m.Updates[0].Values[0]++ }),
		revealCase("the update's chunk one value short", func(m *fedtypes.MsgRevealChunk) {
			m.Updates[0].Values = m.Updates[0].Values[1:]
		}),
		revealCase("the update's chunk missing", func(m *fedtypes.MsgRevealChunk) { m.Updates = nil }),
		revealCase("a chunk for an update the round rejected", func(m *fedtypes.MsgRevealChunk) {
			m.Updates = append(m.Updates, m.Updates[0])
		}),
	}
}
