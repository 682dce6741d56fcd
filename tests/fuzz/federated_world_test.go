package fuzz

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"math/big"
	"slices"
	"testing"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"
	gogoproto "github.com/cosmos/gogoproto/proto"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	federatedkeeper "github.com/hinterland-ai/hinterland/x/federated/keeper"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

var (
	// fedData are 96 rows of 300 features and 4 classes: the jobs' linear
	// model has 1204 parameters, two chunks (the second of 180 values), and
	// three public shards of 32 rows.
	fedData = fixtures.SyntheticShape(96, 300, 4)
	// ownData is a participant's own data for a bring-your-own-data job.
	ownData = fixtures.SyntheticShape(40, 300, 4)
	// watcher is funded and takes part in no round.
	watcher = keepers.Addr(6)
	// fedParticipants train the world's rounds, in the chain's order
	// (address bytes): the order of a chunk reveal's update chunks.
	fedParticipants = []sdk.AccAddress{worker, worker2, challenger}
)

// fedWorld is a keeper fixture holding a federated job (one round, posted
// by the poster on fedData) in every stage a message can find one in. It is
// a world of its own, without tasks or annotation jobs, so that its setup
// stays short; world.deliver and world.stateDigest run on it as they are,
// and fedWorld adds x/federated's state to both.
//
//	Training  3 shards, max 3: the worker joined on shard 0
//	Full      max 2: the worker (shard 0) and worker2 (shard 1) joined, neither sealed
//	Own       bring your own data (shards = 0), nobody joined
//	Late      training, its train deadline is the block time (the end
//	          blocker has not moved it yet)
//	Chunks    the three participants' updates accepted, the correct aggregate
//	          committed, both chunks drawn and unrevealed
//	Wrong     as Chunks, but parameter 5 of the aggregate (chunk 0) is off by one
//	Fraud     as Chunks with one chunk drawn, revealed: the fraud window, the
//	          other chunk unverified and unchallenged
type fedWorld struct {
	w                         *world
	ms                        fedtypes.MsgServer
	Training, Full, Own, Late uint64
	Chunks, Wrong, Fraud      uint64
	Aggs                      map[uint64]*fixtures.Aggregate // of Chunks, Wrong and Fraud
	digest                    [32]byte
}

// fedPostMsg is a valid one-round job of the poster on fedData's public
// shards, or with shards = 0 on data its participants bring (the job names
// fedData's row schema only).
func fedPostMsg(shards, maxParticipants, chunkSamples uint32) *fedtypes.MsgPostJob {
	m := fixtures.FederatedPostMsg(poster, fedData, shards, 1, maxParticipants)
	es, err := m.Spec.EngineSpec()
	if err != nil {
		panic(err)
	}
	es.Inputs = 300
	m.Spec = taskstypes.FromEngineSpec(es, 12, 3, nil)
	m.ChunkSamples = chunkSamples
	m.RevealWindow, m.FraudWindow = time.Hour, time.Hour
	if shards == 0 {
		m.Dataset = taskstypes.DatasetRef{Schema: m.Dataset.Schema}
	}
	return m
}

// dataRef is the reference of a dataset file as a join or a post names it.
func dataRef(d *dataset.File) taskstypes.DatasetRef {
	return taskstypes.DatasetRef{Root: d.Root(), Rows: d.Len(), Schema: taskstypes.FromDatasetSchema(d.Schema()),
		Uri: "file:///data/own.hlds"}
}

func newFedWorld(tb testing.TB) *fedWorld {
	f := keepers.New(tb)
	for _, a := range []sdk.AccAddress{poster, worker, worker2, challenger, watcher} {
		f.Fund(tb, a, 100_000_000)
	}
	fw := &fedWorld{w: &world{f: f}, ms: federatedkeeper.NewMsgServerImpl(f.Federated), Aggs: map[uint64]*fixtures.Aggregate{}}
	post := func(m *fedtypes.MsgPostJob) uint64 {
		res, err := fw.ms.PostJob(f.Ctx, m)
		must(tb, err)
		return res.JobId
	}
	fw.Training = post(fedPostMsg(3, 3, 1))
	fw.join(tb, fw.Training, worker, 0)
	fw.Full = post(fedPostMsg(3, 2, 1))
	fw.join(tb, fw.Full, worker, 0)
	fw.join(tb, fw.Full, worker2, 1)
	fw.Own = post(fedPostMsg(0, 3, 1))
	late := fedPostMsg(3, 3, 1)
	late.TrainWindow = fedtypes.DefaultParams().MinWindow
	fw.Late = post(late)
	fw.Chunks = fw.aggregate(tb, post(fedPostMsg(3, 3, 2)), -1)
	fw.Wrong = fw.aggregate(tb, post(fedPostMsg(3, 3, 2)), 5)
	fw.Fraud = fw.aggregate(tb, post(fedPostMsg(3, 3, 1)), -1)
	msg, err := fw.Aggs[fw.Fraud].RevealChunk(fw.committer(tb, fw.Fraud), fw.round(tb, fw.Fraud).Aggregate.Drawn[0])
	must(tb, err)
	res, err := fw.ms.RevealChunk(f.Ctx, msg)
	must(tb, err)
	if !res.Passed {
		tb.Fatalf("Fraud's drawn chunk: %s", res.Reason)
	}
	f.Advance(tb, late.TrainWindow)
	for id, want := range map[uint64]fedtypes.RoundPhase{
		fw.Training: fedtypes.ROUND_PHASE_TRAINING, fw.Full: fedtypes.ROUND_PHASE_TRAINING, fw.Own: fedtypes.ROUND_PHASE_TRAINING,
		fw.Late: fedtypes.ROUND_PHASE_TRAINING, fw.Chunks: fedtypes.ROUND_PHASE_CHUNKS, fw.Wrong: fedtypes.ROUND_PHASE_CHUNKS,
		fw.Fraud: fedtypes.ROUND_PHASE_FRAUD_WINDOW,
	} {
		if r := fw.round(tb, id); r.Phase != want {
			tb.Fatalf("job %d is %s, want %s", id, r.Phase, want)
		}
	}
	fw.digest = fw.stateDigest(tb, f.Ctx)
	tb.Cleanup(func() {
		if fw.stateDigest(tb, f.Ctx) != fw.digest {
			tb.Errorf("messages run on branches changed the federated world's state")
		}
	})
	return fw
}

func (fw *fedWorld) join(tb testing.TB, id uint64, p sdk.AccAddress, shard uint32) {
	_, err := fw.ms.JoinRound(fw.w.f.Ctx, &fedtypes.MsgJoinRound{Participant: p.String(), JobId: id, Shard: shard})
	must(tb, err)
}

// aggregate runs round 0 of job id honestly with the three participants
// (shard i each) up to aggregation, and its designated aggregator commits
// their FedAvg with parameter tamper off by one (tamper < 0: the correct
// one).
func (fw *fedWorld) aggregate(tb testing.TB, id uint64, tamper int) uint64 {
	ctx := fw.w.f.Ctx
	job := fw.job(tb, id)
	global, err := fixtures.GlobalParams(job)
	must(tb, err)
	var us []*fixtures.Update
	for i, p := range fedParticipants {
		fw.join(tb, id, p, uint32(i))
		u, err := fixtures.TrainUpdate(job, 0, p, uint32(i), fedData, global)
		must(tb, err)
		us = append(us, u)
	}
	for _, u := range us {
		_, err := fw.ms.SealUpdate(ctx, u.Seal())
		must(tb, err)
	}
	for _, u := range us {
		_, err := fw.ms.OpenUpdate(ctx, u.Open())
		must(tb, err)
	}
	for _, u := range us {
		upd, err := fw.w.f.Federated.Updates.Get(ctx, collections.Join3(id, uint32(0), u.Participant))
		must(tb, err)
		for _, s := range upd.Sampled {
			msg, err := u.Reveal(s)
			must(tb, err)
			res, err := fw.ms.RevealSegment(ctx, msg)
			must(tb, err)
			if !res.Passed {
				tb.Fatalf("job %d: an honest segment failed: %s", id, res.Reason)
			}
		}
	}
	agg, err := fixtures.NewAggregate(us, tamper)
	must(tb, err)
	_, err = fw.ms.CommitAggregate(ctx, agg.Commit(sdk.MustAccAddressFromBech32(fw.round(tb, id).Aggregator)))
	must(tb, err)
	fw.Aggs[id] = agg
	return id
}

func (fw *fedWorld) job(tb testing.TB, id uint64) fedtypes.FederatedJob {
	j, err := fw.w.f.Federated.GetJob(fw.w.f.Ctx, id)
	must(tb, err)
	return j
}

func (fw *fedWorld) round(tb testing.TB, id uint64) fedtypes.Round {
	r, err := fw.w.f.Federated.GetRound(fw.w.f.Ctx, id, 0)
	must(tb, err)
	return r
}

// committer is who committed job id's aggregate.
func (fw *fedWorld) committer(tb testing.TB, id uint64) sdk.AccAddress {
	c, err := sdk.AccAddressFromBech32(fw.round(tb, id).Aggregate.Committer)
	must(tb, err)
	return c
}

// addrBytes decodes an address as the chain does (nil if it is none).
func (fw *fedWorld) addrBytes(s string) sdk.AccAddress {
	b, err := fw.w.f.Auth.AddressCodec().StringToBytes(s)
	if err != nil {
		return nil
	}
	return b
}

// stateDigest is the world's digest with x/federated's export and the
// watcher's balance.
func (fw *fedWorld) stateDigest(tb testing.TB, ctx sdk.Context) [32]byte {
	h := sha256.New()
	d := fw.w.stateDigest(tb, ctx)
	h.Write(d[:])
	gs, err := fw.w.f.Federated.ExportGenesis(ctx)
	must(tb, err)
	bz, err := gs.Marshal()
	must(tb, err)
	h.Write(bz)
	h.Write([]byte(fw.w.f.Bank.GetAllBalances(ctx, watcher).String()))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// deliver runs one message as world.deliver does, and checks that an
// accepted one left a valid x/federated genesis too.
func (fw *fedWorld) deliver(t *testing.T, run func(ctx sdk.Context) error) error {
	return fw.w.deliver(t, func(ctx sdk.Context) error {
		// A gas meter of its own: the world's is shared by every branch.
		if err := run(ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())); err != nil {
			return err
		}
		gs, err := fw.w.f.Federated.ExportGenesis(ctx)
		must(t, err)
		if err := gs.Validate(); err != nil {
			t.Fatalf("accepted message left an invalid x/federated state: %v", err)
		}
		return nil
	})
}

// fedAccount picks an address as account does, with the watcher for 7.
func fedAccount(sel uint8, raw string) string {
	if sel%8 == 7 {
		return watcher.String()
	}
	return account(sel, raw)
}

// fedJob picks one of the world's jobs, or raw.
func (fw *fedWorld) fedJob(sel uint8, raw uint64) uint64 {
	ids := []uint64{fw.Training, fw.Full, fw.Own, fw.Late, fw.Chunks, fw.Wrong, fw.Fraud}
	if int(sel)%(len(ids)+1) == len(ids) {
		return raw
	}
	return ids[int(sel)%(len(ids)+1)]
}

// hugeAmount is v x 2^shift held to 256 bits, the most a decoded coin
// amount carries.
func hugeAmount(v int64, shift uint8) sdkmath.Int {
	b := new(big.Int).Lsh(big.NewInt(v), uint(shift))
	neg := b.Sign() < 0
	b.Abs(b)
	if b.BitLen() > sdkmath.MaxBitLen {
		b.Rsh(b, uint(b.BitLen()-sdkmath.MaxBitLen))
	}
	if neg {
		b.Neg(b)
	}
	return sdkmath.NewIntFromBigInt(b)
}

// provenButWrong reports whether every chunk of a reveal proves against its
// committed hash (the aggregate's root, each accepted update's final model
// in the chain's order) and the weighted mean of the update chunks is not
// the aggregate's chunk: the only reveal a verdict may be given on.
func (fw *fedWorld) provenButWrong(t *testing.T, msg *fedtypes.MsgRevealChunk) bool {
	ctx := fw.w.f.Ctx
	job, err := fw.w.f.Federated.GetJob(ctx, msg.JobId)
	if err != nil {
		return false
	}
	r, err := fw.w.f.Federated.GetRound(ctx, msg.JobId, msg.Round)
	if err != nil {
		return false
	}
	es, err := job.Spec.EngineSpec()
	must(t, err)
	n := es.TrainableParams()
	proves := func(root []byte, c fedtypes.ModelChunk) bool {
		var h engine.Hash
		copy(h[:], root)
		return len(root) == len(h) && engine.VerifyModelChunk(h, n, engine.ModelChunk{Index: msg.Chunk, Values: c.Values, Aunts: c.Aunts}) == nil
	}
	if !proves(r.Aggregate.ModelHash, msg.Aggregate) {
		return false
	}
	var weights []uint64
	var values [][]int32
	err = fw.w.f.Federated.Updates.Walk(ctx, collections.NewSuperPrefixedTripleRange[uint64, uint32, sdk.AccAddress](msg.JobId, msg.Round),
		func(_ federatedkeeper.UpdateKey, u fedtypes.Update) (bool, error) {
			if u.Status == fedtypes.UPDATE_STATUS_ACCEPTED {
				if i := len(weights); i < len(msg.Updates) && proves(u.FinalModelHash, msg.Updates[i]) {
					values = append(values, msg.Updates[i].Values)
				}
				weights = append(weights, u.Examples)
			}
			return false, nil
		})
	must(t, err)
	if len(weights) != len(msg.Updates) || len(values) != len(weights) {
		return false
	}
	mean, err := federated.Mean(weights, values)
	if err != nil {
		return false
	}
	for j := range mean {
		if mean[j] != msg.Aggregate.Values[j] {
			return true
		}
	}
	return false
}

// fedGasLimit is a transaction's gas limit where a probe runs as one.
const fedGasLimit = 100_000_000

// withGasLimit runs fn as a transaction with gas limit `limit` runs: out of
// gas is an error, as baseapp makes it, not a panic.
func withGasLimit(ctx sdk.Context, limit uint64, fn func(sdk.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			oog, ok := r.(storetypes.ErrorOutOfGas)
			if !ok {
				panic(r)
			}
			err = errorsmod.Wrap(sdkerrors.ErrOutOfGas, oog.Descriptor)
		}
	}()
	return fn(ctx.WithGasMeter(storetypes.NewGasMeter(limit)))
}

// sameProto compares two messages by their encodings.
func sameProto(t *testing.T, a, b gogoproto.Message) bool {
	x, err := gogoproto.Marshal(a)
	must(t, err)
	y, err := gogoproto.Marshal(b)
	must(t, err)
	return bytes.Equal(x, y)
}

// storeOrder is a genesis state with its entries in the order the store
// exports them: jobs by id, rounds by (job, round), updates by (job, round,
// participant address bytes), challenges by (job, round, chunk).
func (fw *fedWorld) storeOrder(gs fedtypes.GenesisState) *fedtypes.GenesisState {
	out := gs
	out.Jobs = slices.Clone(gs.Jobs)
	slices.SortStableFunc(out.Jobs, func(a, b fedtypes.FederatedJob) int { return cmp.Compare(a.Id, b.Id) })
	out.Rounds = slices.Clone(gs.Rounds)
	slices.SortStableFunc(out.Rounds, func(a, b fedtypes.Round) int {
		return cmp.Or(cmp.Compare(a.JobId, b.JobId), cmp.Compare(a.Round, b.Round))
	})
	out.Updates = slices.Clone(gs.Updates)
	slices.SortStableFunc(out.Updates, func(a, b fedtypes.Update) int {
		return cmp.Or(cmp.Compare(a.JobId, b.JobId), cmp.Compare(a.Round, b.Round),
			bytes.Compare(fw.addrBytes(a.Participant), fw.addrBytes(b.Participant)))
	})
	out.Challenges = slices.Clone(gs.Challenges)
	slices.SortStableFunc(out.Challenges, func(a, b fedtypes.ChunkChallenge) int {
		return cmp.Or(cmp.Compare(a.JobId, b.JobId), cmp.Compare(a.Round, b.Round), cmp.Compare(a.Chunk, b.Chunk))
	})
	return &out
}
