package types_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/annotation/keeper"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

var (
	requester  = keepers.Addr(1)
	annotators = []sdk.AccAddress{keepers.Addr(10), keepers.Addr(11), keepers.Addr(12), keepers.Addr(13)}
	data       = fixtures.Synthetic(64) // 4 classes
	goldSalt   = sha256.Sum256([]byte("gold salt"))
)

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

func salt(a sdk.AccAddress, job uint64, g uint32) []byte {
	h := sha256.Sum256(append([]byte{byte(job), byte(g)}, a...))
	return h[:]
}

// market is a keeper fixture with a job in every live phase.
type market struct {
	f  *keepers.Fixture
	ms types.MsgServer
	// Settled, Aggregating (its aggregation spans blocks), Opening (some
	// batches opened, some sealed, unsealed ones forfeited) and Labelling
	// (batches claimed and sealed).
	Settled, Aggregating, Opening, Labelling uint64
	claims                                   []claim
}

// claim is a claimed batch and the labels its annotator gives.
type claim struct {
	job    uint64
	group  uint32
	a      sdk.AccAddress
	labels []byte
}

func (m *market) post(t *testing.T, window time.Duration) uint64 {
	msg := &types.MsgPostJob{
		Requester: requester.String(),
		Items: taskstypes.DatasetRef{Root: data.Root(), Rows: data.Len(), Schema: taskstypes.FromDatasetSchema(data.Schema()),
			Uri: "file:///items.hlds"},
		Kind: types.LABEL_KIND_CLASS, Classes: 4, Redundancy: 3, BatchSize: 8,
		PayPerLabel: sdk.NewInt64Coin("uhint", 100), Stake: sdk.NewInt64Coin("uhint", 5_000),
		GoldDeposit: sdk.NewInt64Coin("uhint", 10_000), MinGoldAccuracyBps: 7_000,
		GoldCommitment: types.GoldCommitment(goldSalt[:], gold(t)), LabelWindow: window,
	}
	res, err := m.ms.PostJob(m.f.Ctx, msg)
	require.NoError(t, err)
	return res.JobId
}

// claim claims n batches of job (round robin over the annotators) and seals
// the first `seal` of them; the last annotator labels everything 0.
func (m *market) claim(t *testing.T, job uint64, n, seal int) {
	tr := truth(t)
	for i := 0; i < n; i++ {
		a := annotators[i%len(annotators)]
		res, err := m.ms.ClaimBatch(m.f.Ctx, &types.MsgClaimBatch{Annotator: a.String(), JobId: job})
		require.NoError(t, err)
		labels := make([]byte, len(res.Items))
		for j, it := range res.Items {
			if !a.Equals(annotators[len(annotators)-1]) {
				labels[j] = byte(tr[it])
			}
		}
		m.claims = append(m.claims, claim{job, res.Group, a, labels})
		if i < seal {
			_, err = m.ms.SealLabels(m.f.Ctx, &types.MsgSealLabels{Annotator: a.String(), JobId: job, Group: res.Group,
				Seal: types.LabelsSeal(job, res.Group, a, salt(a, job, res.Group), labels)})
			require.NoError(t, err)
		}
	}
}

// open opens up to n sealed batches of job.
func (m *market) open(t *testing.T, job uint64, n int) {
	for _, c := range m.claims {
		if c.job != job || n == 0 {
			continue
		}
		b, err := m.f.Annotation.Batches.Get(m.f.Ctx, collections.Join3(job, c.group, c.a))
		require.NoError(t, err)
		if b.Status != types.BATCH_STATUS_SEALED {
			continue
		}
		_, err = m.ms.OpenLabels(m.f.Ctx, &types.MsgOpenLabels{Annotator: c.a.String(), JobId: job, Group: c.group,
			Labels: c.labels, Salt: salt(c.a, job, c.group)})
		require.NoError(t, err)
		n--
	}
}

func (m *market) reveal(t *testing.T, job uint64) {
	_, err := m.ms.RevealGold(m.f.Ctx, &types.MsgRevealGold{Requester: requester.String(), JobId: job, Gold: gold(t), Salt: goldSalt[:]})
	require.NoError(t, err)
}

func (m *market) status(t *testing.T, job uint64) types.JobStatus {
	j, err := m.f.Annotation.GetJob(m.f.Ctx, job)
	require.NoError(t, err)
	return j.Status
}

func newMarket(t *testing.T) *market {
	f := keepers.New(t)
	f.Fund(t, requester, 1_000_000_000)
	for _, a := range annotators {
		f.Fund(t, a, 100_000_000)
	}
	m := &market{f: f, ms: keeper.NewMsgServerImpl(f.Annotation)}
	m.Settled = m.post(t, time.Hour)
	m.Aggregating = m.post(t, 90*time.Minute)
	m.Opening = m.post(t, 2*time.Hour)
	m.Labelling = m.post(t, 5*time.Hour)
	m.claim(t, m.Settled, 24, 24)
	m.claim(t, m.Aggregating, 12, 12)
	m.claim(t, m.Opening, 10, 7)
	m.claim(t, m.Labelling, 6, 3)

	f.Advance(t, time.Hour+time.Second) // Settled's label deadline
	f.Advance(t, time.Second)
	m.open(t, m.Settled, 24)
	m.reveal(t, m.Settled)
	f.Advance(t, 10*time.Minute) // its open deadline: aggregated and settled
	f.Advance(t, time.Second)
	f.Advance(t, time.Second)
	require.Equal(t, types.JOB_STATUS_SETTLED, m.status(t, m.Settled))

	// A work budget so small that the next aggregation takes many blocks.
	p, err := f.Annotation.Params.Get(f.Ctx)
	require.NoError(t, err)
	p.MaxUnitsPerBlock = 32 * 256 // the smallest budget: 2 048 units a block at K = 4
	_, err = m.ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	f.Advance(t, 20*time.Minute) // Aggregating's label deadline
	f.Advance(t, time.Second)
	m.open(t, m.Aggregating, 12)
	m.reveal(t, m.Aggregating)
	f.Advance(t, 10*time.Minute) // its open deadline
	f.Advance(t, time.Second)
	f.Advance(t, time.Second)
	require.Equal(t, types.JOB_STATUS_AGGREGATING, m.status(t, m.Aggregating))

	f.Advance(t, 20*time.Minute) // Opening's label deadline
	f.Advance(t, time.Second)
	m.open(t, m.Opening, 4)
	require.Equal(t, types.JOB_STATUS_OPENING, m.status(t, m.Opening))
	require.Equal(t, types.JOB_STATUS_LABELLING, m.status(t, m.Labelling))
	f.RequireCustody(t)
	return m
}

// The export of a market with a job in every phase is a valid genesis, and
// it loads on a fresh chain.
func TestGenesisValidateAcceptsExport(t *testing.T) {
	m := newMarket(t)
	gs, err := m.f.Annotation.ExportGenesis(m.f.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	statuses := map[types.BatchStatus]int{}
	for _, b := range gs.Batches {
		statuses[b.Status]++
	}
	for _, s := range []types.BatchStatus{types.BATCH_STATUS_CLAIMED, types.BATCH_STATUS_SEALED, types.BATCH_STATUS_OPENED,
		types.BATCH_STATUS_FORFEITED, types.BATCH_STATUS_SLASHED, types.BATCH_STATUS_PAID} {
		require.NotZero(t, statuses[s], "no %s batch in the export", s)
	}
	require.Len(t, gs.Labels, 1)
	require.Len(t, gs.Aggregations, 1)
	require.Len(t, gs.Gold, 2)
	fresh := keepers.New(t)
	require.NoError(t, fresh.Annotation.InitGenesis(fresh.Ctx, gs))
	require.NoError(t, types.DefaultGenesis().Validate())
}

// clone deep-copies a genesis state.
func clone(t *testing.T, g *types.GenesisState) *types.GenesisState {
	bz, err := g.Marshal()
	require.NoError(t, err)
	var out types.GenesisState
	require.NoError(t, out.Unmarshal(bz))
	return &out
}

// Each hand-made corruption of a valid export is refused, naming what is
// wrong.
func TestGenesisValidateRefuses(t *testing.T) {
	m := newMarket(t)
	base, err := m.f.Annotation.ExportGenesis(m.f.Ctx)
	require.NoError(t, err)
	job := func(g *types.GenesisState, id uint64) *types.Job {
		for i := range g.Jobs {
			if g.Jobs[i].Id == id {
				return &g.Jobs[i]
			}
		}
		t.Fatalf("job %d not exported", id)
		return nil
	}
	batch := func(g *types.GenesisState, id uint64, st types.BatchStatus) *types.Batch {
		for i := range g.Batches {
			if g.Batches[i].JobId == id && g.Batches[i].Status == st {
				return &g.Batches[i]
			}
		}
		t.Fatalf("no %s batch of job %d exported", st, id)
		return nil
	}
	record := func(g *types.GenesisState, a sdk.AccAddress) *types.AnnotatorRecord {
		for i := range g.Annotators {
			if g.Annotators[i].Address == a.String() {
				return &g.Annotators[i]
			}
		}
		t.Fatalf("no record of %s", a)
		return nil
	}
	cases := map[string]struct {
		mutate func(*types.GenesisState)
		want   string
	}{
		"next job id zero":       {func(g *types.GenesisState) { g.NextJobId = 0 }, "next_job_id must be at least 1"},
		"job id at next job id":  {func(g *types.GenesisState) { job(g, m.Labelling).Id = g.NextJobId }, "must be in 1..next_job_id-1"},
		"requester not bech32":   {func(g *types.GenesisState) { job(g, m.Opening).Requester = "hinter1xyz" }, "requester"},
		"unknown job status":     {func(g *types.GenesisState) { job(g, m.Opening).Status = 99 }, "is not a job status"},
		"unspecified job status": {func(g *types.GenesisState) { job(g, m.Opening).Status = types.JOB_STATUS_UNSPECIFIED }, "is not a job status"},
		"schema does not fit the kind": {func(g *types.GenesisState) { job(g, m.Opening).Kind = types.LABEL_KIND_PREFERENCE },
			"a preference job needs preference or token preference rows"},
		"unknown label kind":     {func(g *types.GenesisState) { job(g, m.Opening).Kind = 7 }, "is not a label kind"},
		"items root short":       {func(g *types.GenesisState) { job(g, m.Opening).Items.Root = make([]byte, 31) }, "items root must be 32 bytes"},
		"groups do not fit":      {func(g *types.GenesisState) { job(g, m.Opening).Groups++ }, "do not fit 64 items"},
		"zero redundancy":        {func(g *types.GenesisState) { job(g, m.Opening).Redundancy = 0 }, "redundancy 0"},
		"seed short":             {func(g *types.GenesisState) { job(g, m.Opening).Seed = make([]byte, 31) }, "seed and gold commitment must be 32 bytes"},
		"zero pay per label":     {func(g *types.GenesisState) { job(g, m.Opening).PayPerLabel.Amount = sdkmath.ZeroInt() }, "pay_per_label"},
		"stake in another denom": {func(g *types.GenesisState) { job(g, m.Opening).Stake.Denom = "uatom" }, "stake"},
		"deadlines out of order": {func(g *types.GenesisState) { j := job(g, m.Opening); j.OpenDeadline = j.LabelDeadline },
			"deadlines must satisfy"},
		"gold accuracy over certainty": {func(g *types.GenesisState) { job(g, m.Opening).MinGoldAccuracyBps = 10_001 }, "min_gold_accuracy_bps"},
		"labels hash before settlement": {func(g *types.GenesisState) { job(g, m.Opening).LabelsHash = make([]byte, 32) },
			"labels_hash (32 bytes) must be 32 bytes (or empty) once settled and empty before"},
		"claimed count off": {func(g *types.GenesisState) { job(g, m.Opening).Claimed-- }, "claimed is 9 but the genesis holds 10"},
		"gold revealed by a cancelled job": {func(g *types.GenesisState) {
			j := job(g, m.Labelling)
			j.Status, j.GoldRevealed = types.JOB_STATUS_CANCELLED, true
		}, "a JOB_STATUS_CANCELLED job cannot have revealed its gold set"},

		// Batches.
		"batch of an unknown job": {func(g *types.GenesisState) { batch(g, m.Opening, types.BATCH_STATUS_OPENED).JobId = 99 }, "unknown job 99"},
		"batch of a group out of range": {func(g *types.GenesisState) { batch(g, m.Opening, types.BATCH_STATUS_OPENED).Group = 8 },
			"group 8 of a 8-group job"},
		"annotator not bech32": {func(g *types.GenesisState) { batch(g, m.Opening, types.BATCH_STATUS_OPENED).Annotator = "x" }, ".annotator"},
		"batch by the requester": {func(g *types.GenesisState) {
			batch(g, m.Opening, types.BATCH_STATUS_OPENED).Annotator = requester.String()
		},
			"the requester of job 3 annotates it"},
		"duplicate batch": {func(g *types.GenesisState) {
			g.Batches = append(g.Batches, *batch(g, m.Opening, types.BATCH_STATUS_OPENED))
		},
			"duplicate batch"},
		"unspecified batch status": {func(g *types.GenesisState) {
			batch(g, m.Opening, types.BATCH_STATUS_OPENED).Status = types.BATCH_STATUS_UNSPECIFIED
		}, "a BATCH_STATUS_UNSPECIFIED batch in a JOB_STATUS_OPENING job"},
		"claimed batch in an opening job": {func(g *types.GenesisState) {
			b := batch(g, m.Opening, types.BATCH_STATUS_FORFEITED)
			b.Status, b.Seal = types.BATCH_STATUS_CLAIMED, nil
		}, "a BATCH_STATUS_CLAIMED batch in a JOB_STATUS_OPENING job"},
		"paid batch in an aggregating job": {func(g *types.GenesisState) {
			batch(g, m.Aggregating, types.BATCH_STATUS_OPENED).Status = types.BATCH_STATUS_PAID
		}, "a BATCH_STATUS_PAID batch in a JOB_STATUS_AGGREGATING job"},
		"sealed batch without its seal": {func(g *types.GenesisState) { batch(g, m.Opening, types.BATCH_STATUS_SEALED).Seal = nil },
			"seal must be 32 bytes"},
		"claimed batch with a seal": {func(g *types.GenesisState) { batch(g, m.Labelling, types.BATCH_STATUS_CLAIMED).Seal = make([]byte, 32) },
			"a claimed batch has no seal yet"},
		"opened labels one short": {func(g *types.GenesisState) {
			b := batch(g, m.Opening, types.BATCH_STATUS_OPENED)
			b.Labels = b.Labels[1:]
		}, "7 labels for a group of 8 items"},
		"opened label outside the label space": {func(g *types.GenesisState) { batch(g, m.Settled, types.BATCH_STATUS_PAID).Labels[2] = 4 },
			"label 4 of item 2 outside 0..3"},
		"labels on a sealed batch": {func(g *types.GenesisState) { batch(g, m.Opening, types.BATCH_STATUS_SEALED).Labels = make([]byte, 8) },
			"a BATCH_STATUS_SEALED batch has no labels"},
		"stake not the job's": {func(g *types.GenesisState) {
			batch(g, m.Opening, types.BATCH_STATUS_SEALED).Stake.Amount = sdkmath.NewInt(1)
		},
			"is not the job's"},
		"paid more than accepted": {func(g *types.GenesisState) {
			b := batch(g, m.Settled, types.BATCH_STATUS_PAID)
			b.Paid.Amount = b.Paid.Amount.AddRaw(1)
		}, "accepted labels at"},
		"accepted before settlement": {func(g *types.GenesisState) { batch(g, m.Opening, types.BATCH_STATUS_OPENED).Accepted = 1 },
			"has been paid nothing and accepted nothing"},
		"gold correct over seen": {func(g *types.GenesisState) { batch(g, m.Settled, types.BATCH_STATUS_PAID).GoldCorrect = 9 },
			"do not fit a group of 8 items"},

		// Annotator records.
		"record address not bech32": {func(g *types.GenesisState) { g.Annotators[0].Address = "x" }, "annotators[0].address"},
		"duplicate record":          {func(g *types.GenesisState) { g.Annotators = append(g.Annotators, g.Annotators[0]) }, "duplicate record"},
		"record gold correct over seen": {func(g *types.GenesisState) { r := record(g, annotators[0]); r.GoldCorrect = r.GoldSeen + 1 },
			"gold_correct"},
		"record accepted over opened": {func(g *types.GenesisState) { r := record(g, annotators[0]); r.LabelsAccepted = r.LabelsOpened + 1 },
			"labels_accepted"},
		"record with fewer batches than the genesis": {func(g *types.GenesisState) {
			r := record(g, annotators[0])
			r.Batches, r.BatchesSlashed, r.BatchesForfeited = 1, 0, 0
		}, "batches on record"},
		"batch whose annotator has no record": {func(g *types.GenesisState) {
			var keep []types.AnnotatorRecord
			for _, r := range g.Annotators {
				if r.Address != annotators[1].String() {
					keep = append(keep, r)
				}
			}
			g.Annotators = keep
		}, "has no record"},

		// Gold sets.
		"gold set of an unknown job":            {func(g *types.GenesisState) { g.Gold[0].JobId = 99 }, "gold[0]: unknown job 99"},
		"gold item out of range":                {func(g *types.GenesisState) { g.Gold[0].Gold[1].Item = 64 }, "item 64 of a 64-item job"},
		"gold items unsorted":                   {func(g *types.GenesisState) { g.Gold[0].Gold[1].Item = 0 }, "not above the previous"},
		"gold label outside":                    {func(g *types.GenesisState) { g.Gold[0].Gold[0].Label = 4 }, "label 4 outside 0..3"},
		"empty gold set":                        {func(g *types.GenesisState) { g.Gold[0].Gold = nil }, "empty gold set"},
		"duplicate gold set":                    {func(g *types.GenesisState) { g.Gold = append(g.Gold, g.Gold[0]) }, "duplicate gold set"},
		"gold set of a job that did not reveal": {func(g *types.GenesisState) { job(g, g.Gold[0].JobId).GoldRevealed = false }, "has not revealed its gold set"},
		"revealed without a gold set":           {func(g *types.GenesisState) { g.Gold = g.Gold[1:] }, "gold_revealed is true but the genesis lacks"},

		// Labels and aggregations.
		"labels of a job not settled": {func(g *types.GenesisState) {
			g.Labels = append(g.Labels, types.JobLabels{JobId: m.Opening, Data: make([]byte, 64)})
		}, "only a settled job has labels"},
		"settled job without labels": {func(g *types.GenesisState) { g.Labels = nil }, "a job has labels exactly when it is settled with a labels hash"},
		"labels of the wrong length": {func(g *types.GenesisState) { g.Labels[0].Data = g.Labels[0].Data[1:] }, "63 labels for the 64 items"},
		"label outside the space":    {func(g *types.GenesisState) { g.Labels[0].Data[5] = 9 }, "label 9 of item 5 outside 0..3"},
		"labels not the hashed ones": {func(g *types.GenesisState) { g.Labels[0].Data[5] = (g.Labels[0].Data[5] + 1) % 4 }, "labels_hash is"},
		"aggregation of a settled job": {func(g *types.GenesisState) {
			g.Aggregations = append(g.Aggregations, types.JobLabels{JobId: m.Settled, Data: g.Aggregations[0].Data})
		}, "only an aggregating job has an aggregation in flight"},
		"aggregating job without its aggregation": {func(g *types.GenesisState) { g.Aggregations = nil }, "exactly while it aggregates"},
		"aggregation that does not decode": {func(g *types.GenesisState) {
			g.Aggregations[0].Data = g.Aggregations[0].Data[:len(g.Aggregations[0].Data)/2]
		}, "aggregations[0]:"},
		"duplicate aggregation": {func(g *types.GenesisState) { g.Aggregations = append(g.Aggregations, g.Aggregations[0]) }, "duplicate aggregation"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := clone(t, base) // the export's byte slices are the store's: never change them in place
			require.NoError(t, g.Validate())
			c.mutate(g)
			require.ErrorContains(t, g.Validate(), c.want)
		})
	}
	require.NoError(t, base.Validate())
}
