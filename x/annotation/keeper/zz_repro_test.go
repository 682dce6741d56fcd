package keeper_test

import (
	"testing"
	"time"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/annotation/keeper"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

func TestReproNoClaimsStuck(t *testing.T) {
	e := newEnv(t)
	f := e.f
	for i := 0; i < 6; i++ {
		f.Advance(t, time.Hour)
	}
	j := e.job(t)
	t.Logf("status after 6h with no claims: %s", j.Status)
	has, _ := f.Rewards.JobEscrows.Has(f.Ctx, e.id)
	t.Logf("escrow held: %v", has)
	n := 0
	_ = f.Annotation.DeadlineQueue.Walk(f.Ctx, nil, func(collections.Pair[time.Time, uint64]) (bool, error) { n++; return false, nil })
	t.Logf("deadline queue entries: %d", n)
}

func TestReproFeeAfterParamsChange(t *testing.T) {
	e := newEnv(t)
	f := e.f
	batches := e.claimAll(t)
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	for _, b := range batches {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: b.a.String(), JobId: e.id, Group: b.group, Labels: b.labels, Salt: salt(b.a, b.group)})
		require.NoError(t, err)
	}
	_, err := e.ms.RevealGold(f.Ctx, &types.MsgRevealGold{Requester: requester.String(), JobId: e.id, Gold: gold(t), Salt: goldSalt[:]})
	require.NoError(t, err)
	p, _ := f.Annotation.Params.Get(f.Ctx)
	p.AggregationGasPrice = sdkmath.LegacyNewDec(10)
	_, err = e.ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		f.Advance(t, 10*time.Minute)
	}
	t.Logf("status: %s", e.job(t).Status)
	has, _ := f.Annotation.AggregateQueue.Has(f.Ctx, e.id)
	t.Logf("in aggregate queue: %v", has)
}

func TestReproExportImport(t *testing.T) {
	e := newEnv(t)
	f := e.f
	// claim a few batches
	for _, a := range good {
		_, err := e.ms.ClaimBatch(f.Ctx, &types.MsgClaimBatch{Annotator: a.String(), JobId: e.id})
		require.NoError(t, err)
	}
	res, err := e.ms.ClaimBatch(f.Ctx, &types.MsgClaimBatch{Annotator: spammer.String(), JobId: e.id})
	require.NoError(t, err)
	_ = res
	dump := func(ff *keepers.Fixture) map[string]uint32 {
		out := map[string]uint32{}
		_ = ff.Annotation.OpenGroups.Walk(ff.Ctx, nil, func(k collections.Pair[uint64, uint32], g uint32) (bool, error) {
			out[string(rune('a'+k.K2()))] = g
			return false, nil
		})
		return out
	}
	restart := func() *keepers.Fixture {
		gs, err := f.Annotation.ExportGenesis(f.Ctx)
		require.NoError(t, err)
		g := keepers.New(t)
		g.Ctx = g.Ctx.WithBlockTime(f.Ctx.BlockTime())
		require.NoError(t, g.Annotation.InitGenesis(g.Ctx, gs))
		return g
	}
	// redundancy 3: fill a group fully with 3 claims of different annotators? use many claims
	for i := 0; i < 12; i++ {
		for _, a := range good {
			_, _ = e.ms.ClaimBatch(f.Ctx, &types.MsgClaimBatch{Annotator: a.String(), JobId: e.id})
		}
	}
	g := restart()
	t.Logf("live open groups: %v", dump(f))
	t.Logf("import open groups: %v", dump(g))
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	f.Advance(t, 11*time.Minute) // past open deadline, gold not revealed
	f.Advance(t, time.Second)
	t.Logf("status %s", e.job(t).Status)
	q := func(ff *keepers.Fixture) []string {
		var out []string
		_ = ff.Annotation.DeadlineQueue.Walk(ff.Ctx, nil, func(k collections.Pair[time.Time, uint64]) (bool, error) {
			out = append(out, k.K1().String())
			return false, nil
		})
		oc := 0
		_ = ff.Annotation.OpenCount.Walk(ff.Ctx, nil, func(uint64, uint32) (bool, error) { oc++; return false, nil })
		out = append(out, "opencount entries:", string(rune('0'+oc)))
		return out
	}
	g = restart()
	t.Logf("live deadline queue: %v", q(f))
	t.Logf("import deadline queue: %v", q(g))
	_ = keeper.NewQuerier
}

func TestReproTinyUnitBudget(t *testing.T) {
	e := newEnv(t)
	f := e.f
	p, _ := f.Annotation.Params.Get(f.Ctx)
	p.MaxUnitsPerBlock = 16
	_, err := e.ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	batches := e.claimAll(t)
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	for _, b := range batches {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: b.a.String(), JobId: e.id, Group: b.group, Labels: b.labels, Salt: salt(b.a, b.group)})
		require.NoError(t, err)
	}
	_, err = e.ms.RevealGold(f.Ctx, &types.MsgRevealGold{Requester: requester.String(), JobId: e.id, Gold: gold(t), Salt: goldSalt[:]})
	require.NoError(t, err)
	for i := 0; i < 50; i++ {
		f.Advance(t, 10*time.Minute)
	}
	t.Logf("status after 50 blocks with max_units_per_block 16: %s, used %d", e.job(t).Status, e.job(t).AggregationUsed)
}

func TestReproOpenGroupsOrder(t *testing.T) {
	e := newEnv(t)
	f := e.f
	m := postMsg(t)
	m.Redundancy = 1
	res, err := e.ms.PostJob(f.Ctx, m)
	require.NoError(t, err)
	c, err := e.ms.ClaimBatch(f.Ctx, &types.MsgClaimBatch{Annotator: good[0].String(), JobId: res.JobId})
	require.NoError(t, err)
	dump := func(ff *keepers.Fixture) []uint32 {
		var out []uint32
		_ = ff.Annotation.OpenGroups.Walk(ff.Ctx, collections.NewPrefixedPairRange[uint64, uint32](res.JobId), func(k collections.Pair[uint64, uint32], g uint32) (bool, error) {
			out = append(out, g)
			return false, nil
		})
		return out
	}
	gs, err := f.Annotation.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	g := keepers.New(t)
	require.NoError(t, g.Annotation.InitGenesis(g.Ctx, gs))
	t.Logf("claimed group %d; live slots->groups %v; imported %v", c.Group, dump(f), dump(g))
}
