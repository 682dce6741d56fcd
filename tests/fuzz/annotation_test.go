package fuzz

import (
	"encoding/binary"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/keepers"
	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// FuzzPostJob: every field of MsgPostJob: the items (root, rows, schema,
// URI), the label kind and classes, redundancy and batch size, pay, stake
// and gold deposit (any denom, negative, huge), the gold accuracy threshold,
// the gold commitment and the label window.
func FuzzPostJob(f *testing.F) {
	v := postJob(2, 16, time.Hour)
	d := v.Items
	f.Add(uint8(0), "", d.Root, d.Rows, uint8(d.Schema.Kind), uint8(d.Schema.FeatureType), d.Schema.Features, d.Schema.Classes,
		d.Schema.FracBits, d.Uri, int32(v.Kind), v.Classes, v.Redundancy, v.BatchSize, "uhint", int64(100), "uhint", int64(5_000),
		"uhint", int64(10_000), v.MinGoldAccuracyBps, v.GoldCommitment, int64(time.Hour))
	f.Add(uint8(0), "", d.Root, uint64(40), uint8(3), uint8(1), uint32(8), uint32(0), uint32(0), "https://x.example/p",
		int32(2), uint32(2), uint32(9), uint32(1), "uhint", int64(1), "uhint", int64(0), "uhint", int64(1_000), uint32(0),
		v.GoldCommitment, int64(10*time.Second))
	f.Add(uint8(0), "", d.Root, uint64(20_000), uint8(1), uint8(1), uint32(16), uint32(4), uint32(0), d.Uri,
		int32(1), uint32(4), uint32(2), uint32(1), "uhint", int64(1), "uhint", int64(1), "uhint", int64(1_000), uint32(0),
		v.GoldCommitment, int64(time.Hour)) // 40 000 batches
	f.Add(uint8(6), "hinter1junk", []byte{1, 2, 3}, uint64(0), uint8(9), uint8(9), uint32(1<<30), uint32(300), uint32(99),
		"ftp://x", int32(7), uint32(1<<31), uint32(0), uint32(1<<31), "", int64(-5), "uatom", int64(-1), "u", int64(1<<62),
		uint32(10_001), []byte{1}, int64(-1))
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, root []byte, rows uint64, rowKind, feature uint8, features, schemaClasses,
		fracBits uint32, uri string, kind int32, classes, redundancy, batch uint32, payDenom string, pay int64,
		stakeDenom string, stake int64, depositDenom string, deposit int64, minAccuracy uint32, commitment []byte, window int64,
	) {
		msg := &annotationtypes.MsgPostJob{
			Requester: account(who, raw),
			Items: taskstypes.DatasetRef{Root: root, Rows: rows, Uri: uri, Schema: taskstypes.RowSchema{
				Kind: taskstypes.RowKind(rowKind), FeatureType: taskstypes.FeatureType(feature), Features: features,
				Classes: schemaClasses, FracBits: fracBits,
			}},
			Kind: annotationtypes.LabelKind(kind), Classes: classes, Redundancy: redundancy, BatchSize: batch,
			PayPerLabel: coin(payDenom, pay), Stake: coin(stakeDenom, stake), GoldDeposit: coin(depositDenom, deposit),
			MinGoldAccuracyBps: minAccuracy, GoldCommitment: commitment, LabelWindow: time.Duration(window),
		}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.Ann.ms.PostJob(ctx, msg); return err })
	})
}

// FuzzClaimBatch: any annotator (the requester, the annotators already on a
// job, strangers, junk) on any job id, in every stage.
func FuzzClaimBatch(f *testing.F) {
	for id := uint64(0); id <= 4; id++ {
		for who := uint8(0); who < 8; who++ {
			f.Add(who, "hinter1qqqq", id)
		}
	}
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64) {
		msg := &annotationtypes.MsgClaimBatch{Annotator: account(who, raw), JobId: id}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.Ann.ms.ClaimBatch(ctx, msg); return err })
	})
}

// FuzzSealLabels: any annotator on any job and group, with any seal bytes.
func FuzzSealLabels(f *testing.F) {
	w := newWorld(f)
	a := w.Ann
	valid := w.sealLabels(a.Labelling, a.Claimed, worker)
	f.Add(uint8(1), "", a.Labelling, a.Claimed, valid.Seal)
	f.Add(uint8(1), "", a.Labelling, a.Claimed, valid.Seal[:31])
	f.Add(uint8(1), "", a.Labelling, a.Claimed, append(append([]byte(nil), valid.Seal...), 0))
	f.Add(uint8(1), "", a.Labelling, a.Sealed, valid.Seal)
	f.Add(uint8(2), "", a.Labelling, a.Sealed, valid.Seal)
	f.Add(uint8(2), "", a.Opening, a.Forfeited, valid.Seal)
	f.Add(uint8(1), "", a.Settled, uint32(0), valid.Seal)
	f.Add(uint8(6), "hinter1junk", uint64(99), uint32(1<<31), []byte{})
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, group uint32, seal []byte) {
		msg := &annotationtypes.MsgSealLabels{Annotator: account(who, raw), JobId: id, Group: group, Seal: seal}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.Ann.ms.SealLabels(ctx, msg); return err })
	})
}

// FuzzOpenLabels starts from the worker's real opening of its sealed batch
// of the opening job and fuzzes it: the labels (one flipped, or replaced by
// any bytes), the salt, the annotator, the job and the group.
func FuzzOpenLabels(f *testing.F) {
	w := newWorld(f)
	a := w.Ann
	valid := w.openLabels(a.Opening, a.Opened, worker)
	f.Add(uint8(1), "", a.Opening, a.Opened, true, uint16(0), uint8(0), []byte{}, valid.Salt)
	f.Add(uint8(1), "", a.Opening, a.Opened, true, uint16(3), uint8(1), []byte{}, valid.Salt)
	f.Add(uint8(1), "", a.Opening, a.Opened, true, uint16(5), uint8(4), []byte{}, valid.Salt)
	f.Add(uint8(1), "", a.Opening, a.Opened, false, uint16(0), uint8(0), valid.Labels[1:], valid.Salt)
	f.Add(uint8(1), "", a.Opening, a.Opened, false, uint16(0), uint8(0), append(append([]byte(nil), valid.Labels...), 0), valid.Salt)
	f.Add(uint8(1), "", a.Opening, a.Opened, true, uint16(0), uint8(0), []byte{}, valid.Salt[:31])
	f.Add(uint8(2), "", a.Opening, a.Forfeited, true, uint16(0), uint8(0), []byte{}, valid.Salt)
	f.Add(uint8(2), "", a.Labelling, a.Sealed, true, uint16(0), uint8(0), []byte{}, valid.Salt)
	f.Add(uint8(6), "junk", uint64(0), uint32(0), false, uint16(0), uint8(0), []byte{255}, []byte{})
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, group uint32, keep bool, at uint16, add uint8, labels, salt []byte) {
		msg := &annotationtypes.MsgOpenLabels{Annotator: account(who, raw), JobId: id, Group: group, Salt: salt}
		if keep {
			// The real labels with one changed by add (add 0 keeps them).
			msg.Labels = append([]byte(nil), valid.Labels...)
			msg.Labels[int(at)%len(msg.Labels)] += add
		} else {
			msg.Labels = labels
		}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.Ann.ms.OpenLabels(ctx, msg); return err })
	})
}

// goldItems decodes a gold set from bytes: 8 bytes per item (item, label,
// big-endian).
func goldItems(b []byte) []annotationtypes.GoldItem {
	var out []annotationtypes.GoldItem
	for len(b) >= 8 && len(out) < 4096 {
		out = append(out, annotationtypes.GoldItem{Item: binary.BigEndian.Uint32(b), Label: binary.BigEndian.Uint32(b[4:])})
		b = b[8:]
	}
	return out
}

// encodeGold is goldItems's inverse.
func encodeGold(g []annotationtypes.GoldItem) []byte {
	var out []byte
	for _, x := range g {
		out = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(out, x.Item), x.Label)
	}
	return out
}

// FuzzRevealGold starts from the requester's real gold set of the opening
// job and fuzzes it: one item or label changed, or the whole set replaced;
// the salt, the sender and the job.
func FuzzRevealGold(f *testing.F) {
	real := encodeGold(goldSet())
	w := newWorld(f)
	a := w.Ann
	f.Add(uint8(0), "", a.Opening, true, uint16(0), uint32(0), []byte{}, goldSalt)
	f.Add(uint8(0), "", a.Opening, true, uint16(1), uint32(1), []byte{}, goldSalt)
	f.Add(uint8(0), "", a.Opening, true, uint16(0), uint32(64), []byte{}, goldSalt)
	f.Add(uint8(0), "", a.Opening, false, uint16(0), uint32(0), real[:32], goldSalt)
	f.Add(uint8(0), "", a.Opening, false, uint16(0), uint32(0), append(real[8:16], real...), goldSalt)
	f.Add(uint8(0), "", a.Opening, true, uint16(0), uint32(0), []byte{}, goldSalt[:31])
	f.Add(uint8(1), "", a.Opening, true, uint16(0), uint32(0), []byte{}, goldSalt)
	f.Add(uint8(0), "", a.Labelling, true, uint16(0), uint32(0), []byte{}, goldSalt)
	f.Add(uint8(0), "", a.Settled, true, uint16(0), uint32(0), []byte{}, goldSalt)
	f.Fuzz(func(t *testing.T, who uint8, raw string, id uint64, keep bool, at uint16, add uint32, set, salt []byte) {
		msg := &annotationtypes.MsgRevealGold{Requester: account(who, raw), JobId: id, Salt: salt}
		if keep {
			// The real set with one field (item or label, by at's low bit) changed by add.
			msg.Gold = goldSet()
			g := &msg.Gold[int(at/2)%len(msg.Gold)]
			if at%2 == 0 {
				g.Item += add
			} else {
				g.Label += add
			}
		} else {
			msg.Gold = goldItems(set)
		}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.Ann.ms.RevealGold(ctx, msg); return err })
	})
}

// FuzzUpdateAnnotationParams: MsgUpdateParams of x/annotation with every
// field fuzzed, from the authority or anyone else.
func FuzzUpdateAnnotationParams(f *testing.F) {
	p := annotationtypes.DefaultParams()
	f.Add(uint8(5), "", p.Denom, p.MaxItems, p.MaxRedundancy, p.MaxBatchSize, p.MaxClasses, int64(p.MinLabelWindow),
		int64(p.MaxLabelWindow), int64(p.OpenWindow), int64(p.GoldWindow), p.EmIterations, p.GasPerUnit, int64(1), false,
		p.MaxUnitsPerBlock, p.MinGoldItems, p.MinGoldSeen, int64(1_000), p.GasPerByte, p.MaxBatchesPerJob)
	f.Add(uint8(5), "", "u", uint64(0), uint32(65), uint32(4097), uint32(256), int64(0), int64(-1), int64(0), int64(-1),
		uint32(101), uint64(1<<21), int64(-1), true, uint64(0), uint32(0), uint32(0), int64(-1), uint64(0), uint64(100_001))
	f.Add(uint8(5), "", "uhint", uint64(1<<24), uint32(64), uint32(4096), uint32(255), int64(1), int64(1), int64(1), int64(1),
		uint32(1), uint64(1), int64(0), false, uint64(1), uint32(1), uint32(1), int64(0), uint64(1), uint64(1))
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw, denom string, maxItems uint64, maxRedundancy, maxBatch, maxClasses uint32,
		minLabel, maxLabel, open, gold int64, iterations uint32, gasPerUnit uint64, priceMilli int64, nilDecs bool,
		maxUnits uint64, minGoldItems, minGoldSeen uint32, minDeposit int64, gasPerByte, maxBatches uint64,
	) {
		q := annotationtypes.DefaultParams()
		q.Denom, q.MaxItems, q.MaxRedundancy, q.MaxBatchSize, q.MaxClasses = denom, maxItems, maxRedundancy, maxBatch, maxClasses
		q.MinLabelWindow, q.MaxLabelWindow = time.Duration(minLabel), time.Duration(maxLabel)
		q.OpenWindow, q.GoldWindow = time.Duration(open), time.Duration(gold)
		q.EmIterations, q.GasPerUnit, q.MaxUnitsPerBlock = iterations, gasPerUnit, maxUnits
		q.AggregationGasPrice = sdkmath.LegacyNewDecWithPrec(priceMilli, 3)
		q.MinGoldItems, q.MinGoldSeen, q.MinGoldDeposit = minGoldItems, minGoldSeen, intOrNil(nilDecs, minDeposit)
		q.GasPerByte, q.MaxBatchesPerJob = gasPerByte, maxBatches
		if nilDecs {
			q.AggregationGasPrice = sdkmath.LegacyDec{}
		}
		msg := &annotationtypes.MsgUpdateParams{Authority: account(who, raw), Params: q}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.Ann.ms.UpdateParams(ctx, msg); return err })
	})
}

// FuzzAnnotationGenesis starts from the world's export (a settled, a
// labelling and an opening job, batches in every status, records, a gold
// set, labels) and changes it in place: next job id; a job's id, requester,
// status, kind, classes, groups, claims and deadlines; a batch's job, group,
// annotator, status, seal and labels; a gold item; the settled labels; an
// aggregation in flight. What Validate accepts must load on a fresh chain
// and its end blocker must run over it, a day and two days later, without
// an error.
func FuzzAnnotationGenesis(f *testing.F) {
	w := newWorld(f)
	f.Add(uint64(5), uint8(0), uint64(1), uint8(0), "", int32(4), int32(1), uint32(4), uint32(2), uint32(2), int64(0), int64(0),
		uint8(0), uint64(1), uint32(0), uint8(1), "", int32(6), []byte{}, []byte{}, uint8(0), uint32(0), uint32(0), []byte{}, []byte{})
	f.Add(uint64(1), uint8(1), uint64(0), uint8(6), "x", int32(3), int32(2), uint32(2), uint32(0), uint32(9), int64(-1), int64(1),
		uint8(2), uint64(77), uint32(9), uint8(6), "y", int32(2), []byte{1}, []byte{0, 1, 2}, uint8(1), uint32(64), uint32(9),
		[]byte{3}, []byte{1, 2, 3, 4})
	f.Add(uint64(9), uint8(2), uint64(3), uint8(0), "", int32(2), int32(1), uint32(4), uint32(4), uint32(2), int64(0), int64(0),
		uint8(3), uint64(3), uint32(1), uint8(2), "", int32(4), make([]byte, 32), []byte{}, uint8(2), uint32(8), uint32(3),
		make([]byte, 64), []byte{})
	f.Fuzz(func(t *testing.T, next uint64, ji uint8, id uint64, requesterSel uint8, requesterRaw string, status, kind int32,
		classes, groups, claimed uint32, shiftOpen, shiftGold int64, bi uint8, bJob uint64, bGroup uint32, annotatorSel uint8,
		annotatorRaw string, bStatus int32, seal, labels []byte, gi uint8, gItem, gLabel uint32, jobLabels, aggregation []byte,
	) {
		exported, err := w.f.Annotation.ExportGenesis(w.f.Ctx)
		must(t, err)
		// A deep copy: the export's byte slices are the store's own.
		bz, err := exported.Marshal()
		must(t, err)
		var gs annotationtypes.GenesisState
		must(t, gs.Unmarshal(bz))
		gs.NextJobId = next
		if j := pick(gs.Jobs, ji); j != nil {
			j.Id, j.Requester = id, account(requesterSel, requesterRaw)
			j.Status, j.Kind = annotationtypes.JobStatus(status), annotationtypes.LabelKind(kind)
			j.Classes, j.Groups, j.Claimed = classes, groups, claimed
			j.OpenDeadline = j.OpenDeadline.Add(time.Duration(shiftOpen))
			j.GoldDeadline = j.GoldDeadline.Add(time.Duration(shiftGold))
		}
		if b := pick(gs.Batches, bi); b != nil {
			b.JobId, b.Group, b.Annotator = bJob, bGroup, account(annotatorSel, annotatorRaw)
			b.Status, b.Seal, b.Labels = annotationtypes.BatchStatus(bStatus), seal, labels
		}
		if g := pick(gs.Gold, 0); g != nil {
			if x := pick(g.Gold, gi); x != nil {
				x.Item, x.Label = gItem, gLabel
			}
		}
		if len(jobLabels) > 0 {
			if l := pick(gs.Labels, 0); l != nil {
				l.Data = jobLabels
			}
		}
		if len(aggregation) > 0 {
			gs.Aggregations = append(gs.Aggregations, annotationtypes.JobLabels{JobId: id, Data: aggregation})
		}
		if gs.Validate() != nil {
			return
		}
		fresh := keepers.New(t)
		fresh.Ctx = fresh.Ctx.WithBlockTime(w.f.Ctx.BlockTime())
		if err := fresh.Annotation.InitGenesis(fresh.Ctx, &gs); err != nil {
			t.Fatalf("x/annotation genesis passes Validate but does not load: %v", err)
		}
		for range 2 {
			fresh.Ctx = fresh.Ctx.WithBlockTime(fresh.Ctx.BlockTime().Add(24 * time.Hour))
			if err := fresh.Annotation.EndBlocker(fresh.Ctx); err != nil {
				t.Fatalf("the end blocker fails on a genesis that passes Validate: %v", err)
			}
		}
	})
}
