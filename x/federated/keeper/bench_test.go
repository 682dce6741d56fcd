package keeper_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"cosmossdk.io/collections"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/federated/keeper"
	"github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// BenchmarkRevealChunk is the cost of verifying one aggregate chunk of the
// MNIST MLP (101 770 parameters, 100 chunks) for n accepted updates: the
// handler's time, its gas, the reveal's size, ns per gas and the time of a
// block filled with such reveals (vtypes.CalibratedMaxBlockGas; the goal is
// under 0.5 s, as for segment reveals).
func BenchmarkRevealChunk(b *testing.B) {
	for _, n := range []int{4, 10, 64} {
		b.Run(fmt.Sprintf("updates=%d", n), func(b *testing.B) {
			f, ms, msg := chunkRevealState(b, n)
			var times []time.Duration
			var gas uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctx, _ := f.Ctx.CacheContext()
				ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
				start := time.Now()
				res, err := ms.RevealChunk(ctx, msg)
				times = append(times, time.Since(start))
				if err != nil || !res.Passed {
					b.Fatalf("chunk reveal failed: %v %v", err, res)
				}
				gas = ctx.GasMeter().GasConsumed()
			}
			b.StopTimer()
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			p50 := times[len(times)/2]
			nsPerGas := float64(p50.Nanoseconds()) / float64(gas)
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(gas), "gas")
			b.ReportMetric(float64(msg.Size())/1024, "reveal_KiB")
			b.ReportMetric(nsPerGas, "ns/gas")
			b.ReportMetric(nsPerGas*vtypes.CalibratedMaxBlockGas/1e6, "block_ms")
		})
	}
}

// chunkRevealState builds a job whose round 0 is in the CHUNKS phase with n
// accepted updates (random MLP parameters) and a correct aggregate, and the
// reveal of its drawn chunk 0.
func chunkRevealState(b *testing.B, n int) (*keepers.Fixture, types.MsgServer, *types.MsgRevealChunk) {
	f := keepers.New(b)
	req := keepers.Addr(1)
	f.Fund(b, req, 1_000_000_000)
	data := fixtures.SyntheticShape(64*32, 784, 10)
	es := engine.DefaultSpecMNISTMLP()
	post := fixtures.FederatedPostMsg(req, data, 64, 1, 64)
	post.Spec = taskstypes.FromEngineSpec(es, 16, 4, nil)
	post.Dataset.Schema = taskstypes.FromDatasetSchema(data.Schema())
	post.Budget.Amount = post.Budget.Amount.MulRaw(100)
	ms := keeper.NewMsgServerImpl(f.Federated)
	res, err := ms.PostJob(f.Ctx, post)
	if err != nil {
		b.Fatal(err)
	}
	job, _ := f.Federated.GetJob(f.Ctx, res.JobId)
	seed := uint64(7)
	next := func() int32 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int32(seed>>33) % 70_000
	}
	var (
		states  []*engine.State
		weights []uint64
		vals    [][]int32
	)
	first := keepers.Addr(100)
	for i := 0; i < n; i++ {
		p := make([]int32, es.TrainableParams())
		for j := range p {
			p[j] = next()
		}
		st, err := engine.StateFromParams(es, engine.Hash{}, p)
		if err != nil {
			b.Fatal(err)
		}
		addr := keepers.Addr(100 + i)
		mh := st.ModelHash()
		u := types.Update{JobId: job.Id, Round: 0, Participant: addr.String(), Status: types.UPDATE_STATUS_ACCEPTED,
			Examples: 600 + uint64(i), FinalModelHash: mh[:], Bond: post.Bond}
		if err := f.Federated.Updates.Set(f.Ctx, collections.Join3(job.Id, uint32(0), addr), u); err != nil {
			b.Fatal(err)
		}
		states, weights, vals = append(states, st), append(weights, u.Examples), append(vals, p)
	}
	mean, err := federated.Mean(weights, vals)
	if err != nil {
		b.Fatal(err)
	}
	agg, err := engine.StateFromParams(es, engine.Hash{}, mean)
	if err != nil {
		b.Fatal(err)
	}
	ah := agg.ModelHash()
	r, _ := f.Federated.GetRound(f.Ctx, job.Id, 0)
	r.Phase = types.ROUND_PHASE_CHUNKS
	r.Aggregate = types.Aggregate{Committer: first.String(), ModelHash: ah[:], Drawn: []uint64{0}}
	if err := f.Federated.Rounds.Set(f.Ctx, collections.Join(job.Id, uint32(0)), r); err != nil {
		b.Fatal(err)
	}
	ac, _ := agg.ModelChunk(0)
	msg := &types.MsgRevealChunk{Aggregator: first.String(), JobId: job.Id, Round: 0, Chunk: 0,
		Aggregate: types.ModelChunk{Values: ac.Values, Aunts: ac.Aunts}}
	for _, st := range states { // store order is address order: Addr(100+i) sorts by i
		c, _ := st.ModelChunk(0)
		msg.Updates = append(msg.Updates, types.ModelChunk{Values: c.Values, Aunts: c.Aunts})
	}
	return f, ms, msg
}
