package keeper_test

import (
	"crypto/sha256"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/annotation/keeper"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

var (
	requester = keepers.Addr(1)
	good      = []sdk.AccAddress{keepers.Addr(10), keepers.Addr(11), keepers.Addr(12)}
	spammer   = keepers.Addr(13)
	data      = fixtures.Synthetic(64) // 4 classes
	goldSalt  = sha256.Sum256([]byte("gold salt"))
)

// truth is the dataset's own label of every item.
func truth(t *testing.T) []uint32 {
	out := make([]uint32, data.Len())
	for i := range out {
		r, err := data.Row(uint64(i))
		require.NoError(t, err)
		out[i] = r.Label
	}
	return out
}

// gold is every 8th item with its true label.
func gold(t *testing.T) []types.GoldItem {
	var g []types.GoldItem
	tr := truth(t)
	for i := 0; i < len(tr); i += 8 {
		g = append(g, types.GoldItem{Item: uint32(i), Label: tr[i]})
	}
	return g
}

type env struct {
	f  *keepers.Fixture
	ms types.MsgServer
	id uint64
}

func postMsg(t *testing.T) *types.MsgPostJob {
	return &types.MsgPostJob{
		Requester: requester.String(),
		Items: taskstypes.DatasetRef{Root: data.Root(), Rows: data.Len(), Schema: taskstypes.FromDatasetSchema(data.Schema()),
			Uri: "file:///items.hlds"},
		Kind: types.LABEL_KIND_CLASS, Classes: 4, Redundancy: 3, BatchSize: 8,
		PayPerLabel: sdk.NewInt64Coin("uhint", 100), Stake: sdk.NewInt64Coin("uhint", 5_000),
		GoldDeposit: sdk.NewInt64Coin("uhint", 10_000), MinGoldAccuracyBps: 7_000,
		GoldCommitment: types.GoldCommitment(goldSalt[:], gold(t)), LabelWindow: time.Hour,
	}
}

func newEnv(t *testing.T) *env {
	f := keepers.New(t)
	f.Fund(t, requester, 100_000_000)
	for _, a := range append(append([]sdk.AccAddress{}, good...), spammer) {
		f.Fund(t, a, 10_000_000)
	}
	e := &env{f: f, ms: keeper.NewMsgServerImpl(f.Annotation)}
	res, err := e.ms.PostJob(f.Ctx, postMsg(t))
	require.NoError(t, err)
	require.Equal(t, uint32(8), res.Groups)
	e.id = res.JobId
	f.RequireCustody(t)
	return e
}

func salt(a sdk.AccAddress, g uint32) []byte {
	h := sha256.Sum256(append([]byte{byte(g)}, a...))
	return h[:]
}

// labelsFor are an annotator's labels of a group: the truth for a good one,
// always 0 for the spammer.
func labelsFor(t *testing.T, a sdk.AccAddress, items []uint32) []byte {
	tr := truth(t)
	out := make([]byte, len(items))
	for i, it := range items {
		if !a.Equals(spammer) {
			out[i] = byte(tr[it])
		}
	}
	return out
}

type claimed struct {
	a      sdk.AccAddress
	group  uint32
	labels []byte
}

// claimAll lets every annotator claim until no group is left for it, and
// seals each batch.
func (e *env) claimAll(t *testing.T) []claimed {
	var out []claimed
	for progress := true; progress; {
		progress = false
		for _, a := range append(append([]sdk.AccAddress{}, good...), spammer) {
			res, err := e.ms.ClaimBatch(e.f.Ctx, &types.MsgClaimBatch{Annotator: a.String(), JobId: e.id})
			if err != nil {
				require.ErrorIs(t, err, types.ErrNoBatchLeft)
				continue
			}
			progress = true
			l := labelsFor(t, a, res.Items)
			_, err = e.ms.SealLabels(e.f.Ctx, &types.MsgSealLabels{Annotator: a.String(), JobId: e.id, Group: res.Group,
				Seal: types.LabelsSeal(e.id, res.Group, a, salt(a, res.Group), l)})
			require.NoError(t, err)
			out = append(out, claimed{a, res.Group, l})
		}
	}
	return out
}

// The whole job: claims drawn by the chain, sealed labels opened after the
// label deadline, the gold set revealed, the spammer slashed on gold, the
// aggregate equal to the truth, the good annotators paid per accepted label
// and the requester refunded the rest.
func TestLabellingJobSettles(t *testing.T) {
	e := newEnv(t)
	f := e.f
	req0 := f.Balance(requester)
	spam0 := f.Balance(spammer)
	batches := e.claimAll(t)
	require.Len(t, batches, 24, "8 groups x 3 annotators")
	seen := map[string]bool{}
	for _, b := range batches {
		k := b.a.String() + string(rune(b.group))
		require.False(t, seen[k], "an annotator never labels a group twice")
		seen[k] = true
	}
	f.RequireCustody(t)

	// Opening before the label deadline would let others copy: refused.
	_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: batches[0].a.String(), JobId: e.id, Group: batches[0].group,
		Labels: batches[0].labels, Salt: salt(batches[0].a, batches[0].group)})
	require.ErrorIs(t, err, types.ErrEarly)

	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	require.Equal(t, types.JOB_STATUS_OPENING, e.job(t).Status)
	for _, b := range batches {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: b.a.String(), JobId: e.id, Group: b.group,
			Labels: b.labels, Salt: salt(b.a, b.group)})
		require.NoError(t, err)
	}
	_, err = e.ms.RevealGold(f.Ctx, &types.MsgRevealGold{Requester: requester.String(), JobId: e.id, Gold: gold(t), Salt: goldSalt[:]})
	require.NoError(t, err)
	f.Advance(t, 10*time.Minute) // open deadline: aggregation starts
	f.Advance(t, time.Second)    // aggregation runs
	f.Advance(t, time.Second)
	job := e.job(t)
	require.Equal(t, types.JOB_STATUS_SETTLED, job.Status)
	require.Equal(t, uint32(1), job.AnnotatorsSlashed, "the constant-label spammer fails the gold")

	res, err := keeper.NewQuerier(f.Annotation).Labels(f.Ctx, &types.QueryLabelsRequest{JobId: e.id, Limit: 64})
	require.NoError(t, err)
	require.Equal(t, truth(t), res.Labels, "three honest labels per group outvote nothing: the aggregate is the truth")

	// The spammer lost every stake it locked, and earned nothing.
	spamBatches := 0
	for _, b := range batches {
		if b.a.Equals(spammer) {
			spamBatches++
		}
	}
	require.Equal(t, spam0.SubRaw(int64(5_000*spamBatches)), f.Balance(spammer))
	// Every honest label was accepted and paid 100.
	for _, a := range good {
		n := 0
		for _, b := range batches {
			if b.a.Equals(a) {
				n += len(b.labels)
			}
		}
		require.Equal(t, sdkmath.NewInt(10_000_000+int64(100*n)), f.Balance(a), "annotator %s", a)
	}
	require.True(t, f.Balance(requester).GT(req0), "stakes slashed and the unused escrow come back")
	has, err := f.Rewards.JobEscrows.Has(f.Ctx, e.id)
	require.NoError(t, err)
	require.False(t, has, "escrow closed")
	f.RequireCustody(t)
	rec, err := keeper.NewQuerier(f.Annotation).Annotator(f.Ctx, &types.QueryAnnotatorRequest{Address: spammer.String()})
	require.NoError(t, err)
	require.NotZero(t, rec.Record.BatchesSlashed)
}

func (e *env) job(t *testing.T) types.Job {
	j, err := e.f.Annotation.GetJob(e.f.Ctx, e.id)
	require.NoError(t, err)
	return j
}

// Bad input: each a registered error, state unchanged.
func TestAnnotationRejections(t *testing.T) {
	e := newEnv(t)
	f := e.f
	a := good[0]
	res, err := e.ms.ClaimBatch(f.Ctx, &types.MsgClaimBatch{Annotator: a.String(), JobId: e.id})
	require.NoError(t, err)
	labels := labelsFor(t, a, res.Items)
	seal := types.LabelsSeal(e.id, res.Group, a, salt(a, res.Group), labels)

	check := func(name string, want error, fn func() error) {
		t.Helper()
		before := f.Snapshot(t, a, requester)
		require.ErrorIs(t, fn(), want, name)
		require.Equal(t, before, f.Snapshot(t, a, requester), "%s changed state", name)
	}
	bad := postMsg(t)
	bad.Kind = types.LABEL_KIND_PREFERENCE
	check("schema does not fit the label kind", types.ErrSchemaMismatch, func() error { _, err := e.ms.PostJob(f.Ctx, bad); return err })
	// DPO pairs (token preference rows) are preference items: accepted.
	pairs := fixtures.SyntheticTokens(64, 16, true)
	tok := postMsg(t)
	tok.Kind, tok.Classes = types.LABEL_KIND_PREFERENCE, 2
	tok.Items = taskstypes.DatasetRef{Root: pairs.Root(), Rows: pairs.Len(), Schema: taskstypes.FromDatasetSchema(pairs.Schema()), Uri: "file:///pairs.hlds"}
	tok.GoldCommitment = types.GoldCommitment(goldSalt[:], []types.GoldItem{{Item: 0, Label: 1}, {Item: 8, Label: 0}})
	cctx, _ := f.Ctx.CacheContext()
	_, err = e.ms.PostJob(cctx, tok)
	require.NoError(t, err, "a preference job over token preference rows")
	tok.Items.Schema = taskstypes.FromDatasetSchema(fixtures.SyntheticTokens(4, 16, false).Schema())
	check("next-token rows are not preference items", types.ErrSchemaMismatch, func() error { _, err := e.ms.PostJob(f.Ctx, tok); return err })
	bad = postMsg(t)
	bad.Classes = 5
	check("classes differ from the rows'", types.ErrSchemaMismatch, func() error { _, err := e.ms.PostJob(f.Ctx, bad); return err })
	bad = postMsg(t)
	bad.PayPerLabel = sdk.NewInt64Coin("uhint", 1_000_000_000)
	check("escrow cannot cover the labels", types.ErrEscrow, func() error { _, err := e.ms.PostJob(f.Ctx, bad); return err })
	check("requester claims its own job", types.ErrOwnJob, func() error {
		_, err := e.ms.ClaimBatch(f.Ctx, &types.MsgClaimBatch{Annotator: requester.String(), JobId: e.id})
		return err
	})
	check("batch not assigned to the sender", types.ErrBatchNotFound, func() error {
		_, err := e.ms.SealLabels(f.Ctx, &types.MsgSealLabels{Annotator: good[1].String(), JobId: e.id, Group: res.Group, Seal: seal})
		return err
	})
	_, err = e.ms.SealLabels(f.Ctx, &types.MsgSealLabels{Annotator: a.String(), JobId: e.id, Group: res.Group, Seal: seal})
	require.NoError(t, err)
	check("second seal of the same batch", types.ErrAlreadySealed, func() error {
		_, err := e.ms.SealLabels(f.Ctx, &types.MsgSealLabels{Annotator: a.String(), JobId: e.id, Group: res.Group, Seal: seal})
		return err
	})
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	outside := append([]byte(nil), labels...)
	outside[0] = 4
	check("label outside the label space", types.ErrBadLabels, func() error {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: a.String(), JobId: e.id, Group: res.Group, Labels: outside, Salt: salt(a, res.Group)})
		return err
	})
	other := append([]byte(nil), labels...)
	other[0] = (other[0] + 1) % 4
	check("opening that does not match the seal", types.ErrBadSeal, func() error {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: a.String(), JobId: e.id, Group: res.Group, Labels: other, Salt: salt(a, res.Group)})
		return err
	})
	wrongGold := gold(t)
	wrongGold[0].Label = (wrongGold[0].Label + 1) % 4
	check("gold opening that does not match the commitment", types.ErrBadGold, func() error {
		_, err := e.ms.RevealGold(f.Ctx, &types.MsgRevealGold{Requester: requester.String(), JobId: e.id, Gold: wrongGold, Salt: goldSalt[:]})
		return err
	})
	f.Advance(t, 10*time.Minute)
	f.Advance(t, time.Second)
	check("late opening", types.ErrLate, func() error {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: a.String(), JobId: e.id, Group: res.Group, Labels: labels, Salt: salt(a, res.Group)})
		return err
	})
	f.RequireCustody(t)
}

// A requester who never reveals its gold set loses its deposit; the job
// still settles on agreement alone and nobody is slashed.
func TestUnrevealedGoldLosesTheDeposit(t *testing.T) {
	e := newEnv(t)
	f := e.f
	batches := e.claimAll(t)
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	for _, b := range batches {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: b.a.String(), JobId: e.id, Group: b.group,
			Labels: b.labels, Salt: salt(b.a, b.group)})
		require.NoError(t, err)
	}
	supply := f.Supply()
	f.Advance(t, 10*time.Minute)
	f.Advance(t, 10*time.Minute) // gold deadline
	f.Advance(t, time.Second)
	f.Advance(t, time.Second)
	job := e.job(t)
	require.Equal(t, types.JOB_STATUS_SETTLED, job.Status)
	require.Zero(t, job.AnnotatorsSlashed)
	require.Equal(t, supply.SubRaw(10_000), f.Supply(), "the gold deposit is burned")
	f.RequireCustody(t)
}

// A training task can name a settled job as its dataset: the labelled
// dataset (the items with the chain's labels) is rebuilt by anyone; the
// chain refuses a job that is not settled or whose shape differs.
func TestTaskTrainsOnASettledJob(t *testing.T) {
	e := newEnv(t)
	f := e.f
	tasks := taskskeeper.NewMsgServerImpl(f.Tasks)
	labelled := func() *dataset.File {
		res, err := keeper.NewQuerier(f.Annotation).Labels(f.Ctx, &types.QueryLabelsRequest{JobId: e.id, Limit: 64})
		if err != nil {
			return nil
		}
		l := make([]byte, len(res.Labels))
		for i, v := range res.Labels {
			l[i] = byte(v)
		}
		out, err := dataset.WithLabels(data, l)
		require.NoError(t, err)
		return out
	}
	post := func(rows uint64, root []byte) error {
		msg := fixtures.PostMsg(requester, data)
		msg.Dataset.AnnotationJob, msg.Dataset.Rows, msg.Dataset.Root = e.id, rows, root
		_, err := tasks.PostTask(f.Ctx, msg)
		return err
	}
	require.ErrorIs(t, post(data.Len(), data.Root()), taskstypes.ErrInvalidDataset, "the job is not settled")

	batches := e.claimAll(t)
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	for _, b := range batches {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: b.a.String(), JobId: e.id, Group: b.group,
			Labels: b.labels, Salt: salt(b.a, b.group)})
		require.NoError(t, err)
	}
	_, err := e.ms.RevealGold(f.Ctx, &types.MsgRevealGold{Requester: requester.String(), JobId: e.id, Gold: gold(t), Salt: goldSalt[:]})
	require.NoError(t, err)
	f.Advance(t, 10*time.Minute)
	f.Advance(t, time.Second)
	f.Advance(t, time.Second)
	require.Equal(t, types.JOB_STATUS_SETTLED, e.job(t).Status)

	out := labelled()
	require.NotNil(t, out)
	require.ErrorIs(t, post(data.Len()-1, out.Root()), taskstypes.ErrInvalidDataset, "row count differs from the job's")
	require.NoError(t, post(data.Len(), out.Root()))
	task, err := f.Tasks.GetTask(f.Ctx, 1)
	require.NoError(t, err)
	require.Equal(t, e.id, task.Dataset.AnnotationJob)
}

// A job nobody claims settles at its deadlines (nothing to aggregate): the
// escrow comes back but for the unrevealed gold deposit, and no labels are
// recorded, so no task can train on it.
func TestUnclaimedJobSettles(t *testing.T) {
	e := newEnv(t)
	f := e.f
	req0 := f.Balance(requester)
	f.Advance(t, time.Hour+10*time.Minute)
	f.Advance(t, 10*time.Minute)
	f.Advance(t, time.Second)
	f.Advance(t, time.Second)
	job := e.job(t)
	require.Equal(t, types.JOB_STATUS_SETTLED, job.Status)
	require.Empty(t, job.LabelsHash)
	_, err := f.Annotation.SettledItems(f.Ctx, e.id)
	require.ErrorIs(t, err, types.ErrWrongPhase)
	has, err := f.Rewards.JobEscrows.Has(f.Ctx, e.id)
	require.NoError(t, err)
	require.False(t, has)
	require.True(t, f.Balance(requester).GT(req0), "the escrow but the deposit is refunded")
	f.RequireCustody(t)
}

// Governance raising the aggregation price after posting cannot strand a
// job: settlement charges a share of the fee escrowed at posting.
func TestSettlementUsesThePrepaidFee(t *testing.T) {
	e := newEnv(t)
	f := e.f
	batches := e.claimAll(t)
	p, err := f.Annotation.Params.Get(f.Ctx)
	require.NoError(t, err)
	p.AggregationGasPrice = sdkmath.LegacyNewDec(10)
	_, err = e.ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	f.Advance(t, time.Hour)
	f.Advance(t, time.Second)
	for _, b := range batches {
		_, err := e.ms.OpenLabels(f.Ctx, &types.MsgOpenLabels{Annotator: b.a.String(), JobId: e.id, Group: b.group,
			Labels: b.labels, Salt: salt(b.a, b.group)})
		require.NoError(t, err)
	}
	_, err = e.ms.RevealGold(f.Ctx, &types.MsgRevealGold{Requester: requester.String(), JobId: e.id, Gold: gold(t), Salt: goldSalt[:]})
	require.NoError(t, err)
	f.Advance(t, 10*time.Minute)
	f.Advance(t, time.Second)
	f.Advance(t, time.Second)
	job := e.job(t)
	require.Equal(t, types.JOB_STATUS_SETTLED, job.Status)
	require.True(t, job.AggregationFee.IsPositive())
	f.RequireCustody(t)
}
