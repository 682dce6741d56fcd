package fuzz

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	annotationkeeper "github.com/hinterland-ai/hinterland/x/annotation/keeper"
	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// annWorld are the world's annotation jobs (on data's 64 rows, 4 classes,
// posted by the poster, redundancy 1 so that no two annotators share a
// group):
//
//	Settled    two groups of 32, both labelled by the worker and worker2,
//	           its gold set revealed, aggregated and paid
//	Labelling  a day to label, groups of 16: the worker's batch of group
//	           Claimed claimed, worker2's of group Sealed sealed
//	Opening    past its label deadline, in its open window: the worker's
//	           batch of group Opened sealed, worker2's of group Forfeited
//	           forfeited; its gold set not revealed
type annWorld struct {
	ms                          annotationtypes.MsgServer
	Settled, Labelling, Opening uint64
	Claimed, Sealed             uint32
	Opened, Forfeited           uint32
}

// goldSalt is the salt of the poster's gold commitments.
var goldSalt = func() []byte { h := sha256.Sum256([]byte("fuzz-gold-salt")); return h[:] }()

// truth is data's own label of every item.
var truth = func() []uint32 {
	out := make([]uint32, data.Len())
	for i := range out {
		r, err := data.Row(uint64(i))
		if err != nil {
			panic(err)
		}
		out[i] = r.Label
	}
	return out
}()

// goldSet is every 8th item with its true label.
func goldSet() []annotationtypes.GoldItem {
	var g []annotationtypes.GoldItem
	for i := 0; i < len(truth); i += 8 {
		g = append(g, annotationtypes.GoldItem{Item: uint32(i), Label: truth[i]})
	}
	return g
}

// postJob is a valid MsgPostJob of the poster on data.
func postJob(redundancy, batch uint32, window time.Duration) *annotationtypes.MsgPostJob {
	return &annotationtypes.MsgPostJob{
		Requester: poster.String(),
		Items: taskstypes.DatasetRef{Root: data.Root(), Rows: data.Len(), Schema: taskstypes.FromDatasetSchema(data.Schema()),
			Uri: "file:///data/items.hlds"},
		Kind: annotationtypes.LABEL_KIND_CLASS, Classes: 4, Redundancy: redundancy, BatchSize: batch,
		PayPerLabel: sdk.NewInt64Coin("uhint", 100), Stake: sdk.NewInt64Coin("uhint", 5_000),
		GoldDeposit: sdk.NewInt64Coin("uhint", 10_000), MinGoldAccuracyBps: 7_000,
		GoldCommitment: annotationtypes.GoldCommitment(goldSalt, goldSet()), LabelWindow: window,
	}
}

// labelsSalt is an annotator's salt for a group of a job.
func labelsSalt(id uint64, group uint32, a sdk.AccAddress) []byte {
	h := sha256.Sum256(append(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, id), group), a...))
	return h[:]
}

// trueLabels are the true labels of a group of a job, in its item order.
func (w *world) trueLabels(id uint64, group uint32) []byte {
	j, err := w.f.Annotation.GetJob(w.f.Ctx, id)
	if err != nil {
		panic(err)
	}
	items := annotationtypes.GroupItems(j.Seed, j.Items.Rows, j.BatchSize, group)
	out := make([]byte, len(items))
	for i, it := range items {
		out[i] = byte(truth[it])
	}
	return out
}

// sealLabels is a's seal of its true labels of a group of a job.
func (w *world) sealLabels(id uint64, group uint32, a sdk.AccAddress) *annotationtypes.MsgSealLabels {
	return &annotationtypes.MsgSealLabels{Annotator: a.String(), JobId: id, Group: group,
		Seal: annotationtypes.LabelsSeal(id, group, a, labelsSalt(id, group, a), w.trueLabels(id, group))}
}

// openLabels is a's opening of that seal.
func (w *world) openLabels(id uint64, group uint32, a sdk.AccAddress) *annotationtypes.MsgOpenLabels {
	return &annotationtypes.MsgOpenLabels{Annotator: a.String(), JobId: id, Group: group, Labels: w.trueLabels(id, group),
		Salt: labelsSalt(id, group, a)}
}

func (w *world) claimBatch(tb testing.TB, id uint64, a sdk.AccAddress) uint32 {
	res, err := w.Ann.ms.ClaimBatch(w.f.Ctx, &annotationtypes.MsgClaimBatch{Annotator: a.String(), JobId: id})
	must(tb, err)
	return res.Group
}

func (w *world) annotationStatus(tb testing.TB, id uint64) annotationtypes.JobStatus {
	j, err := w.f.Annotation.GetJob(w.f.Ctx, id)
	must(tb, err)
	return j.Status
}

// setupAnnotation builds the annotation jobs. It runs first: its blocks
// (ten minutes of them) come before the tasks' windows open.
func (w *world) setupAnnotation(tb testing.TB) {
	f := w.f
	a := &w.Ann
	a.ms = annotationkeeper.NewMsgServerImpl(f.Annotation)
	post := func(redundancy, batch uint32, window time.Duration) uint64 {
		res, err := a.ms.PostJob(f.Ctx, postJob(redundancy, batch, window))
		must(tb, err)
		return res.JobId
	}
	step := func(d time.Duration) { f.Advance(tb, d) }
	deliver := func(err error) { must(tb, err) }

	a.Settled = post(1, 32, 10*time.Second)
	g1, g2 := w.claimBatch(tb, a.Settled, worker), w.claimBatch(tb, a.Settled, worker2)
	for _, c := range []struct {
		g uint32
		a sdk.AccAddress
	}{{g1, worker}, {g2, worker2}} {
		_, err := a.ms.SealLabels(f.Ctx, w.sealLabels(a.Settled, c.g, c.a))
		deliver(err)
	}
	step(11 * time.Second)
	step(time.Second) // the label deadline passed: opening
	for _, c := range []struct {
		g uint32
		a sdk.AccAddress
	}{{g1, worker}, {g2, worker2}} {
		_, err := a.ms.OpenLabels(f.Ctx, w.openLabels(a.Settled, c.g, c.a))
		deliver(err)
	}
	_, err := a.ms.RevealGold(f.Ctx, &annotationtypes.MsgRevealGold{Requester: poster.String(), JobId: a.Settled, Gold: goldSet(), Salt: goldSalt})
	deliver(err)
	step(10 * time.Minute) // the open deadline: aggregated and settled
	step(time.Second)
	if s := w.annotationStatus(tb, a.Settled); s != annotationtypes.JOB_STATUS_SETTLED {
		tb.Fatalf("the settled job is %s", s)
	}

	a.Labelling, a.Opening = post(1, 16, 24*time.Hour), post(1, 16, 10*time.Second)
	a.Claimed, a.Sealed = w.claimBatch(tb, a.Labelling, worker), w.claimBatch(tb, a.Labelling, worker2)
	a.Opened, a.Forfeited = w.claimBatch(tb, a.Opening, worker), w.claimBatch(tb, a.Opening, worker2)
	_, err = a.ms.SealLabels(f.Ctx, w.sealLabels(a.Labelling, a.Sealed, worker2))
	deliver(err)
	_, err = a.ms.SealLabels(f.Ctx, w.sealLabels(a.Opening, a.Opened, worker))
	deliver(err)
	step(11 * time.Second)
	step(time.Second)
	if s := w.annotationStatus(tb, a.Opening); s != annotationtypes.JOB_STATUS_OPENING {
		tb.Fatalf("the opening job is %s", s)
	}
	b, err := f.Annotation.Batches.Get(f.Ctx, collections.Join3(a.Opening, a.Forfeited, sdk.AccAddress(worker2)))
	must(tb, err)
	if b.Status != annotationtypes.BATCH_STATUS_FORFEITED {
		tb.Fatalf("worker2's batch of the opening job is %s", b.Status)
	}
}
