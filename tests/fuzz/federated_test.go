package fuzz

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/keepers"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// FuzzPostFederatedJob: every field of MsgPostJob of x/federated: the spec
// (model, objective, optimiser, sizes, hyper-parameters, LoRA, schedule),
// the initial model, the dataset (root, rows, schema, URI), shards, rounds,
// participants, samples and chunk samples, the four coins (any denom,
// negative, up to 256-bit amounts) and the windows. An accepted job is paid
// for: its budget covers rounds x (max participants x pay per update + pay
// per aggregation), in the params' denom.
func FuzzPostFederatedJob(f *testing.F) {
	v := fedPostMsg(3, 3, 1)
	s, d := v.Spec, v.Dataset
	f.Add(uint8(0), "", uint8(s.Model), uint8(s.Objective), uint8(s.Optimizer), s.Inputs, s.Outputs, []byte{},
		s.LearningRate, s.Momentum, s.Beta1, s.Beta2, s.Epsilon, s.BatchSize, s.FracBits, s.LoraRank, s.LoraAlpha, []byte{},
		s.TotalSteps, s.SegmentSteps, []byte{}, "", d.Root, d.Rows, uint8(d.Schema.Kind), uint8(d.Schema.FeatureType),
		d.Schema.Features, d.Schema.Classes, d.Schema.Targets, d.Schema.FracBits, d.Uri, v.Shards, v.Rounds, v.MinParticipants, v.MaxParticipants,
		v.SamplesPerUpdate, v.ChunkSamples, "uhint", int64(10_000), uint8(0), "uhint", int64(5_000), uint8(0), "uhint",
		int64(50_000), uint8(0), "uhint", v.Budget.Amount.Int64(), uint8(0), int64(time.Hour), int64(time.Hour), int64(time.Hour))
	// Two rounds underfunded by one unit.
	f.Add(uint8(0), "", uint8(s.Model), uint8(s.Objective), uint8(s.Optimizer), s.Inputs, s.Outputs, []byte{},
		s.LearningRate, s.Momentum, s.Beta1, s.Beta2, s.Epsilon, s.BatchSize, s.FracBits, s.LoraRank, s.LoraAlpha, []byte{},
		s.TotalSteps, s.SegmentSteps, []byte{}, "", d.Root, d.Rows, uint8(d.Schema.Kind), uint8(d.Schema.FeatureType),
		d.Schema.Features, d.Schema.Classes, d.Schema.Targets, d.Schema.FracBits, d.Uri, v.Shards, uint32(2), v.MinParticipants, v.MaxParticipants,
		v.SamplesPerUpdate, v.ChunkSamples, "uhint", int64(10_000), uint8(0), "uhint", int64(5_000), uint8(0), "uhint",
		int64(50_000), uint8(0), "uhint", 2*v.Budget.Amount.Int64()-1, uint8(0), int64(time.Hour), int64(time.Hour), int64(time.Hour))
	// The limits: a bring-your-own-data job from an initial model, 1000 rounds
	// of 64 participants, windows at their bounds, 2^200 pay.
	f.Add(uint8(0), "", uint8(s.Model), uint8(s.Objective), uint8(s.Optimizer), s.Inputs, s.Outputs, []byte{},
		s.LearningRate, s.Momentum, s.Beta1, s.Beta2, s.Epsilon, s.BatchSize, s.FracBits, s.LoraRank, s.LoraAlpha, []byte{},
		s.TotalSteps, s.SegmentSteps, make([]byte, 32), "https://x.example/m", []byte{}, uint64(0), uint8(d.Schema.Kind),
		uint8(d.Schema.FeatureType), d.Schema.Features, d.Schema.Classes, d.Schema.Targets, d.Schema.FracBits, "", uint32(0), uint32(1000), uint32(1),
		uint32(64), uint32(4), uint32(2), "uhint", int64(1), uint8(200), "uhint", int64(1), uint8(0), "uhint", int64(1), uint8(0),
		"uhint", int64(1), uint8(255), int64(5*time.Second), int64(7*24*time.Hour), int64(5*time.Second))
	f.Add(uint8(6), "hinter1junk", uint8(2), uint8(2), uint8(2), uint32(0), uint32(1<<31), []byte{0, 9},
		uint32(1<<31), uint32(1<<20), uint32(0), uint32(0), uint32(0), uint32(0), uint32(64), uint32(255), uint32(1<<31), []byte{1},
		uint64(1<<63), uint64(0), []byte{1}, "ftp://x", []byte{1, 2, 3}, uint64(1<<62), uint8(9), uint8(9), uint32(1<<30), uint32(0),
		uint32(7), uint32(99), "gopher://x", uint32(1), uint32(0), uint32(3), uint32(2), uint32(0), uint32(1<<31), "", int64(-5), uint8(0),
		"uatom", int64(-1), uint8(200), "u", int64(1<<62), uint8(0), "uhint", int64(-1), uint8(255), int64(-1), int64(1<<62), int64(0))
	fw := newFedWorld(f)
	tp := taskstypes.DefaultParams()
	f.Fuzz(func(t *testing.T, who uint8, raw string, model, objective, optimizer uint8, inputs, outputs uint32, hidden []byte,
		lr, momentum, beta1, beta2, eps, batch, fracBits, loraRank, loraAlpha uint32, baseHash []byte, total, seg uint64,
		initHash []byte, initURI string, root []byte, rows uint64, kind, feature uint8, features, classes, targets, schemaFrac uint32,
		uri string, shards, rounds, minP, maxP, samples, chunkSamples uint32, payDenom string, pay int64, payShift uint8,
		aggDenom string, agg int64, aggShift uint8, bondDenom string, bond int64, bondShift uint8, budgetDenom string,
		budget int64, budgetShift uint8, train, reveal, fraud int64,
	) {
		msg := &fedtypes.MsgPostJob{
			Requester: fedAccount(who, raw),
			Spec: taskstypes.TrainingSpec{
				Model: taskstypes.ModelKind(model), Inputs: inputs, Hidden: widths(hidden), Outputs: outputs,
				Objective: taskstypes.Objective(objective), Optimizer: taskstypes.Optimizer(optimizer), FracBits: fracBits,
				BatchSize: batch, LearningRate: lr, Momentum: momentum, Beta1: beta1, Beta2: beta2, Epsilon: eps,
				LoraRank: loraRank, LoraAlpha: loraAlpha, BaseModelHash: baseHash, TotalSteps: total, SegmentSteps: seg,
			},
			InitialModelHash: initHash, InitialModelUri: initURI,
			Dataset: taskstypes.DatasetRef{Root: root, Rows: rows, Uri: uri, Schema: taskstypes.RowSchema{
				Kind: taskstypes.RowKind(kind), FeatureType: taskstypes.FeatureType(feature), Features: features,
				Classes: classes, Targets: targets, FracBits: schemaFrac,
			}},
			Shards: shards, Rounds: rounds, MinParticipants: minP, MaxParticipants: maxP, SamplesPerUpdate: samples,
			ChunkSamples:      chunkSamples,
			PayPerUpdate:      sdk.Coin{Denom: payDenom, Amount: hugeAmount(pay, payShift)},
			PayPerAggregation: sdk.Coin{Denom: aggDenom, Amount: hugeAmount(agg, aggShift)},
			Bond:              sdk.Coin{Denom: bondDenom, Amount: hugeAmount(bond, bondShift)},
			Budget:            sdk.Coin{Denom: budgetDenom, Amount: hugeAmount(budget, budgetShift)},
			TrainWindow:       time.Duration(train), RevealWindow: time.Duration(reveal), FraudWindow: time.Duration(fraud),
		}
		if fw.deliver(t, func(ctx sdk.Context) error { _, err := fw.ms.PostJob(ctx, msg); return err }) != nil {
			return
		}
		for _, c := range []sdk.Coin{msg.PayPerUpdate, msg.PayPerAggregation, msg.Bond, msg.Budget} {
			if c.Denom != tp.Denom || !c.Amount.IsPositive() {
				t.Fatalf("a job paying %s was accepted", c)
			}
		}
		need := msg.PayPerUpdate.Amount.BigInt()
		need.Mul(need, sdkmath.NewInt(int64(msg.MaxParticipants)).BigInt())
		need.Add(need, msg.PayPerAggregation.Amount.BigInt())
		need.Mul(need, sdkmath.NewInt(int64(msg.Rounds)).BigInt())
		if msg.Budget.Amount.BigInt().Cmp(need) < 0 {
			t.Fatalf("a budget of %s for %d rounds of %d x %s + %s was accepted", msg.Budget, msg.Rounds, msg.MaxParticipants,
				msg.PayPerUpdate, msg.PayPerAggregation)
		}
	})
}

// FuzzJoinRound: any participant on any of the world's jobs (or any id), any
// round and shard, with no dataset, the job's, a participant's own, or one
// with its root, rows, schema and URI fuzzed. A join is accepted only on a
// running round in training before its deadline (Training, Own), by
// someone other than the requester who has not joined, on a free shard of
// the job's own data (public shards) or on data of the job's schema (bring
// your own data).
func FuzzJoinRound(f *testing.F) {
	fw := newFedWorld(f)
	for sel := uint8(0); sel < 8; sel++ {
		for who := uint8(0); who < 8; who++ {
			dsMode := uint8(0) // no dataset, or own data for Own
			if sel == 2 {
				dsMode = 2
			}
			f.Add(who, "", sel, uint64(0), uint32(0), uint32(1+who%3), dsMode, []byte{}, uint64(0), uint8(0), uint8(0),
				uint32(0), uint32(0), uint32(0), uint32(0), "")
		}
	}
	own := dataRef(ownData)
	f.Add(uint8(7), "", uint8(0), uint64(0), uint32(1), uint32(1), uint8(0), []byte{}, uint64(0), uint8(0), uint8(0),
		uint32(0), uint32(0), uint32(0), uint32(0), "")
	f.Add(uint8(7), "", uint8(0), uint64(0), uint32(0), uint32(1), uint8(3), make([]byte, 32), uint64(96), uint8(0), uint8(0),
		uint32(0), uint32(0), uint32(0), uint32(0), "")
	f.Add(uint8(7), "", uint8(2), uint64(0), uint32(0), uint32(0), uint8(3), own.Root, uint64(1<<40), uint8(0), uint8(0),
		uint32(0), uint32(0), uint32(0), uint32(0), "")
	f.Add(uint8(7), "", uint8(2), uint64(0), uint32(0), uint32(0), uint8(4), own.Root, own.Rows, uint8(own.Schema.Kind),
		uint8(own.Schema.FeatureType), own.Schema.Features, own.Schema.Classes+1, own.Schema.Targets, own.Schema.FracBits, own.Uri)
	f.Add(uint8(6), "hinter1junk", uint8(7), uint64(1<<62), uint32(1<<31), uint32(1<<31), uint8(4), []byte{1}, uint64(1<<63),
		uint8(9), uint8(9), uint32(1<<31), uint32(0), uint32(3), uint32(99), "gopher://x")
	f.Fuzz(func(t *testing.T, who uint8, raw string, jobSel uint8, rawJob uint64, round, shard uint32, dsMode uint8, root []byte,
		rows uint64, kind, feature uint8, features, classes, targets, fracBits uint32, uri string,
	) {
		id := fw.fedJob(jobSel, rawJob)
		msg := &fedtypes.MsgJoinRound{Participant: fedAccount(who, raw), JobId: id, Round: round, Shard: shard}
		job, _ := fw.w.f.Federated.GetJob(fw.w.f.Ctx, id)
		switch dsMode % 5 {
		case 1: // the job's own dataset reference
			msg.Dataset = job.Dataset
		case 2: // a participant's own data
			msg.Dataset = dataRef(ownData)
		case 3: // own data with another root and row count
			msg.Dataset = dataRef(ownData)
			msg.Dataset.Root, msg.Dataset.Rows = root, rows
		case 4: // everything fuzzed
			msg.Dataset = taskstypes.DatasetRef{Root: root, Rows: rows, Uri: uri, Schema: taskstypes.RowSchema{
				Kind: taskstypes.RowKind(kind), FeatureType: taskstypes.FeatureType(feature), Features: features,
				Classes: classes, Targets: targets, FracBits: fracBits,
			}}
		}
		if fw.deliver(t, func(ctx sdk.Context) error { _, err := fw.ms.JoinRound(ctx, msg); return err }) != nil {
			return
		}
		p := fw.addrBytes(msg.Participant)
		switch {
		case id != fw.Training && id != fw.Own, round != 0:
			t.Fatalf("a join of job %d round %d was accepted", id, round)
		case p.Equals(poster):
			t.Fatalf("the requester joined its own job %d", id)
		case id == fw.Training && (p.Equals(worker) || shard == 0 || shard >= 3):
			t.Fatalf("%s joined job %d on shard %d (the worker holds shard 0 of 3)", p, id, shard)
		case id == fw.Training && len(msg.Dataset.Root) != 0 && !bytes.Equal(msg.Dataset.Root, job.Dataset.Root):
			t.Fatalf("a join naming data %X was accepted on shards of %X", msg.Dataset.Root, job.Dataset.Root)
		case id == fw.Own && (msg.Dataset.Schema != job.Dataset.Schema || len(msg.Dataset.Root) != 32 || msg.Dataset.Rows == 0):
			t.Fatalf("a join of %d rows of schema %v (root %X) was accepted on job %d of schema %v", msg.Dataset.Rows,
				msg.Dataset.Schema, msg.Dataset.Root, id, job.Dataset.Schema)
		}
	})
}

// revealMode changes a real chunk reveal (at and add pick what and by how
// much; vals, aunts and sizes are replacement bytes).
func revealMode(msg *fedtypes.MsgRevealChunk, mode uint8, k int, at uint16, add int32, vals, aunts, sizes []byte) {
	chunk := func() *fedtypes.ModelChunk {
		if k%(len(msg.Updates)+1) == len(msg.Updates) {
			return &msg.Aggregate
		}
		return &msg.Updates[k%(len(msg.Updates)+1)]
	}
	switch mode % 11 {
	case 1: // one value changed by add
		if c := chunk(); len(c.Values) > 0 {
			c.Values[int(at)%len(c.Values)] += add
		}
	case 2: // values replaced
		c := chunk()
		c.Values = nil
		for i := 0; i+4 <= len(vals); i += 4 {
			c.Values = append(c.Values, int32(binary.LittleEndian.Uint32(vals[i:])))
		}
	case 3: // values cut or extended
		c := chunk()
		if add < 0 {
			c.Values = c.Values[:max(0, len(c.Values)-int(-int64(add)%1100))]
		} else {
			c.Values = append(c.Values, make([]int32, add%1100)...)
		}
	case 4: // aunts replaced
		chunk().Aunts = chunks(aunts, sizes)
	case 5: // one bit of one aunt
		if c := chunk(); len(c.Aunts) > 0 {
			bit := int(at) % (len(c.Aunts) * 256)
			c.Aunts[bit/256] = append([]byte(nil), c.Aunts[bit/256]...)
			if bit%256/8 < len(c.Aunts[bit/256]) {
				c.Aunts[bit/256][bit%256/8] ^= 1 << (bit % 8)
			}
		}
	case 6: // one aunt dropped or one added
		c := chunk()
		if i := int(at) % (len(c.Aunts) + 1); add%2 == 0 && i < len(c.Aunts) {
			c.Aunts = slices.Delete(c.Aunts, i, i+1)
		} else {
			c.Aunts = slices.Insert(c.Aunts, i, bytes.Repeat([]byte{byte(add)}, 32))
		}
	case 7: // update chunks dropped from the end
		msg.Updates = msg.Updates[:int(at)%(len(msg.Updates)+1)]
	case 8: // one update chunk repeated
		if len(msg.Updates) > 0 {
			msg.Updates = append(msg.Updates, msg.Updates[int(at)%len(msg.Updates)])
		}
	case 9: // two update chunks swapped
		if n := len(msg.Updates); n > 1 {
			i, j := int(at)%n, int(at/7)%n
			msg.Updates[i], msg.Updates[j] = msg.Updates[j], msg.Updates[i]
		}
	case 10: // the aggregate's chunk in place of an update's
		if len(msg.Updates) > 0 {
			msg.Updates[k%len(msg.Updates)] = msg.Aggregate
		}
	}
}

// FuzzRevealChunk starts from the aggregator's real reveal of a chunk of
// the Chunks (correct aggregate), Wrong (chunk 0 wrong) or Fraud (fraud
// window) job, and changes it: the sender, the job, the round, the chunk
// index, and one thing of one chunk (the aggregate's or an update's): a
// value, the values, their count, the aunts (replaced, a bit flipped, one
// dropped or added), or the update chunks (count, order, one repeated, the
// aggregate's in their place). Only the exact reveal of a correct pending
// chunk passes; anything else is refused (state unchanged, see deliver) or,
// only if every chunk proves against its committed hash and the mean is not
// the aggregate's, a verdict that fails the aggregator.
func FuzzRevealChunk(f *testing.F) {
	fw := newFedWorld(f)
	for sel := uint8(4); sel < 8; sel++ {
		for chunkSel := uint8(0); chunkSel < 3; chunkSel++ {
			f.Add(true, uint8(0), "", sel, uint64(0), uint32(0), chunkSel, uint64(0), uint8(0), uint8(0), uint16(0), int32(0),
				[]byte{}, []byte{}, []byte{})
		}
	}
	for mode := uint8(1); mode < 11; mode++ {
		for k := uint8(0); k < 4; k++ {
			f.Add(true, uint8(0), "", uint8(4), uint64(0), uint32(0), uint8(0), uint64(0), mode, k, uint16(3), int32(1),
				make([]byte, 16), make([]byte, 64), []byte{32, 31})
		}
	}
	f.Add(false, uint8(1), "", uint8(4), uint64(0), uint32(0), uint8(0), uint64(0), uint8(0), uint8(0), uint16(0), int32(0),
		[]byte{}, []byte{}, []byte{})
	f.Add(true, uint8(0), "", uint8(4), uint64(0), uint32(1), uint8(0), uint64(0), uint8(0), uint8(0), uint16(0), int32(0),
		[]byte{}, []byte{}, []byte{})
	f.Add(true, uint8(0), "", uint8(4), uint64(0), uint32(0), uint8(2), uint64(1<<63), uint8(0), uint8(0), uint16(0), int32(0),
		[]byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, asCommitter bool, who uint8, raw string, jobSel uint8, rawJob uint64, round uint32, chunkSel uint8,
		rawChunk uint64, mode, k uint8, at uint16, add int32, vals, aunts, sizes []byte,
	) {
		id := fw.fedJob(jobSel, rawJob)
		agg := fw.Aggs[id]
		sender := fedAccount(who, raw)
		if asCommitter && agg != nil {
			sender = fw.committer(t, id).String()
		}
		chunk := rawChunk
		if agg != nil && chunkSel%3 < 2 {
			drawn := fw.round(t, id).Aggregate.Drawn[0]
			chunk = drawn ^ uint64(chunkSel%3) // the first drawn chunk, or the other one
		}
		msg := &fedtypes.MsgRevealChunk{Aggregator: sender, JobId: id, Round: round, Chunk: chunk}
		if agg != nil && chunk < 2 {
			honest, err := agg.RevealChunk(fw.committer(t, id), chunk)
			must(t, err)
			msg.Aggregate, msg.Updates = honest.Aggregate, honest.Updates
		}
		revealMode(msg, mode, int(k), at, add, vals, aunts, sizes)

		var res *fedtypes.MsgRevealChunkResponse
		err := fw.deliver(t, func(ctx sdk.Context) error {
			var err error
			if res, err = fw.ms.RevealChunk(ctx, msg); err != nil && fw.stateDigest(t, ctx) != fw.digest {
				t.Fatalf("a refused reveal changed the state before it was refused: %v", err)
			}
			return err
		})
		// The exact reveal of a pending chunk (both of Chunks' and Wrong's
		// chunks are drawn and pending) by the aggregator.
		exact := (id == fw.Chunks || id == fw.Wrong) && round == 0 && chunk < 2 &&
			fw.addrBytes(sender).Equals(fw.committer(t, id))
		if exact {
			honest, err := agg.RevealChunk(fw.committer(t, id), chunk)
			must(t, err)
			exact = sameProto(t, &honest.Aggregate, &msg.Aggregate) && len(honest.Updates) == len(msg.Updates)
			for i := range msg.Updates {
				exact = exact && sameProto(t, &honest.Updates[i], &msg.Updates[i])
			}
		}
		wrong := id == fw.Wrong && chunk == 0
		switch {
		case err != nil:
			if exact {
				t.Fatalf("the aggregator's exact reveal of chunk %d of job %d is refused: %v", chunk, id, err)
			}
		case res.Passed:
			if !exact || wrong {
				t.Fatalf("a reveal of chunk %d of job %d that is not the exact correct one passed (mode %d)", chunk, id, mode%11)
			}
		default:
			if !fw.provenButWrong(t, msg) {
				t.Fatalf("a verdict (%s) on a reveal of chunk %d of job %d whose chunks do not all prove, or whose mean is right", res.Reason, chunk, id)
			}
			if exact && !wrong {
				t.Fatalf("the exact reveal of a correct chunk failed: %s", res.Reason)
			}
		}
	})
}

// FuzzChallengeChunk: any challenger, job, round and chunk (the Fraud job's
// unverified one, its verified one, or any), with any bond. A challenge is
// accepted only of the Fraud job's unverified chunk, not by its aggregator,
// with at least the job's challenge bond in its denom; the aggregator then
// answers it with its real chunk, which passes.
func FuzzChallengeChunk(f *testing.F) {
	fw := newFedWorld(f)
	bond := fw.job(f, fw.Fraud).ChallengeBond.Amount.Int64()
	for who := uint8(0); who < 8; who++ {
		for chunkSel := uint8(0); chunkSel < 3; chunkSel++ {
			f.Add(false, who, "", uint8(6), uint64(0), uint32(0), chunkSel, uint64(2), "uhint", bond, uint8(0))
		}
	}
	f.Add(true, uint8(7), "", uint8(6), uint64(0), uint32(0), uint8(0), uint64(0), "uhint", bond, uint8(0))
	f.Add(false, uint8(7), "", uint8(6), uint64(0), uint32(0), uint8(0), uint64(0), "uhint", bond-1, uint8(0))
	f.Add(false, uint8(7), "", uint8(6), uint64(0), uint32(0), uint8(0), uint64(0), "uatom", bond, uint8(0))
	f.Add(false, uint8(7), "", uint8(6), uint64(0), uint32(0), uint8(0), uint64(0), "uhint", int64(-bond), uint8(0))
	f.Add(false, uint8(7), "", uint8(6), uint64(0), uint32(0), uint8(0), uint64(0), "uhint", int64(1), uint8(255))
	f.Add(false, uint8(7), "", uint8(6), uint64(0), uint32(1), uint8(0), uint64(0), "uhint", bond, uint8(0))
	f.Add(false, uint8(7), "", uint8(4), uint64(0), uint32(0), uint8(0), uint64(0), "uhint", bond, uint8(0))
	f.Add(false, uint8(4), "", uint8(6), uint64(0), uint32(0), uint8(0), uint64(0), "uhint", bond, uint8(0))
	f.Fuzz(func(t *testing.T, asCommitter bool, who uint8, raw string, jobSel uint8, rawJob uint64, round uint32, chunkSel uint8,
		rawChunk uint64, denom string, amount int64, shift uint8,
	) {
		id := fw.fedJob(jobSel, rawJob)
		agg := fw.Aggs[id]
		sender := fedAccount(who, raw)
		if asCommitter && agg != nil {
			sender = fw.committer(t, id).String()
		}
		chunk := rawChunk
		if agg != nil && chunkSel%3 < 2 {
			chunk = fw.round(t, id).Aggregate.Drawn[0] ^ uint64(1-chunkSel%3) // the undrawn chunk, or the drawn one
		}
		msg := &fedtypes.MsgChallengeChunk{Challenger: sender, JobId: id, Round: round, Chunk: chunk,
			Bond: sdk.Coin{Denom: denom, Amount: hugeAmount(amount, shift)}}
		_ = fw.deliver(t, func(ctx sdk.Context) error {
			if _, err := fw.ms.ChallengeChunk(ctx, msg); err != nil {
				return err
			}
			r := fw.round(t, fw.Fraud)
			switch job := fw.job(t, fw.Fraud); {
			case id != fw.Fraud, round != 0, slices.Contains(r.Aggregate.Verified, chunk), chunk >= job.Chunks:
				t.Fatalf("a challenge of chunk %d of job %d round %d was accepted", chunk, id, round)
			case fw.addrBytes(sender).Equals(fw.committer(t, id)):
				t.Fatalf("the aggregator challenged its own aggregate")
			case msg.Bond.Denom != job.ChallengeBond.Denom || msg.Bond.Amount.LT(job.ChallengeBond.Amount):
				t.Fatalf("a challenge bonding %s was accepted; job %d needs %s", msg.Bond, id, job.ChallengeBond)
			}
			answer, err := agg.RevealChunk(fw.committer(t, id), chunk)
			must(t, err)
			res, err := fw.ms.RevealChunk(ctx, answer)
			if err != nil || !res.Passed {
				t.Fatalf("the aggregator's answer to the challenge of chunk %d: %v %v", chunk, err, res)
			}
			return nil
		})
	})
}

// FuzzUpdateFederatedParams: MsgUpdateParams of x/federated with every field
// fuzzed, from the authority or anyone else. Params it accepts leave the
// module usable: a job posted under them is accepted or refused with a
// registered error, never a panic.
func FuzzUpdateFederatedParams(f *testing.F) {
	p := fedtypes.DefaultParams()
	f.Add(uint8(5), "", p.MaxRounds, p.MaxParticipants, p.MaxSamplesPerUpdate, p.MaxChunkSamples, int64(p.MinWindow),
		int64(p.MaxWindow), p.GasPerChunkValue, p.GasPerProofHash, p.GasPerByte, p.ChallengerShareBps, p.ChallengeBondFactor,
		int64(1), false, p.MaxDeadlinesPerBlock)
	f.Add(uint8(5), "", uint32(0), uint32(1001), uint32(0), uint32(0), int64(0), int64(-1), uint64(0), uint64(0), uint64(0),
		uint32(10_001), uint32(0), int64(0), true, uint32(0))
	f.Add(uint8(5), "", uint32(1), uint32(1000), uint32(1), uint32(1), int64(1), int64(1), uint64(1<<63), uint64(1<<63),
		uint64(1<<63), uint32(10_000), uint32(1<<31), int64(1<<62), false, uint32(1))
	f.Add(uint8(0), "", p.MaxRounds, p.MaxParticipants, p.MaxSamplesPerUpdate, p.MaxChunkSamples, int64(p.MinWindow),
		int64(p.MaxWindow), p.GasPerChunkValue, p.GasPerProofHash, p.GasPerByte, p.ChallengerShareBps, p.ChallengeBondFactor,
		int64(1), false, p.MaxDeadlinesPerBlock)
	fw := newFedWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, maxRounds, maxParticipants, maxSamples, maxChunkSamples uint32,
		minWindow, maxWindow int64, gasPerValue, gasPerHash, gasPerByte uint64, shareBps, bondFactor uint32, priceMilli int64,
		nilPrice bool, deadlines uint32,
	) {
		q := fedtypes.Params{MaxRounds: maxRounds, MaxParticipants: maxParticipants, MaxSamplesPerUpdate: maxSamples,
			MaxChunkSamples: maxChunkSamples, MinWindow: time.Duration(minWindow), MaxWindow: time.Duration(maxWindow),
			GasPerChunkValue: gasPerValue, GasPerProofHash: gasPerHash, GasPerByte: gasPerByte, ChallengerShareBps: shareBps,
			ChallengeBondFactor: bondFactor, ChallengeGasPrice: sdkmath.LegacyNewDecWithPrec(priceMilli, 3),
			MaxDeadlinesPerBlock: deadlines}
		if nilPrice {
			q.ChallengeGasPrice = sdkmath.LegacyDec{}
		}
		msg := &fedtypes.MsgUpdateParams{Authority: fedAccount(who, raw), Params: q}
		_ = fw.deliver(t, func(ctx sdk.Context) error {
			if _, err := fw.ms.UpdateParams(ctx, msg); err != nil {
				return err
			}
			post, _ := ctx.CacheContext()
			err := withGasLimit(post, fedGasLimit, func(ctx sdk.Context) error { _, err := fw.ms.PostJob(ctx, fedPostMsg(3, 3, 1)); return err })
			if space, code, _ := errorsmod.ABCIInfo(err, false); err != nil && (space == errorsmod.UndefinedCodespace || code <= 1) {
				t.Fatalf("under params %v a job post fails with an unregistered error (codespace %q, code %d): %v", q, space, code, err)
			}
			return nil
		})
	})
}

// FuzzFederatedGenesis starts from the federated world's export (jobs in
// every phase, their rounds and updates), or from its params alone, and
// changes it in place: next job id; a job's id, requester, status, rounds, current round, global model
// hash and spec size; a round's job, number, phase and deadline; an
// update's job, round, participant and status (or a copy of it under the
// participant's upper-case spelling); a chunk challenge added. What
// Validate accepts must load on a fresh chain and export as it was (entry
// for entry, in the store's order), and the end blocker must run over it a
// day and two days later.
func FuzzFederatedGenesis(f *testing.F) {
	fw := newFedWorld(f)
	fraud := fw.round(f, fw.Fraud)
	undrawn := 1 - fraud.Aggregate.Drawn[0]
	f.Add(false, uint64(8), uint8(0), uint64(1), uint8(0), "", int32(1), uint32(1), uint32(0), uint8(32), uint32(300),
		uint8(0), uint64(1), uint32(0), int32(1), int64(0), uint8(0), uint64(1), uint32(0), uint8(1), "", int32(1), false,
		false, uint64(7), uint32(0), uint64(1), uint8(7), "")
	// Addresses spelled out, for the fuzzer to change; a challenge of
	// Fraud's undrawn chunk.
	f.Add(false, uint64(8), uint8(0), uint64(1), uint8(6), poster.String(), int32(1), uint32(1), uint32(0), uint8(32), uint32(300),
		uint8(0), uint64(1), uint32(0), int32(1), int64(0), uint8(0), uint64(1), uint32(0), uint8(6), worker.String(), int32(1), false,
		true, fw.Fraud, uint32(0), undrawn, uint8(6), watcher.String())
	f.Add(true, uint64(1), uint8(0), uint64(1), uint8(0), "", int32(1), uint32(1), uint32(0), uint8(32), uint32(300),
		uint8(0), uint64(1), uint32(0), int32(1), int64(0), uint8(0), uint64(1), uint32(0), uint8(1), "", int32(1), false,
		false, uint64(7), uint32(0), uint64(1), uint8(7), "")
	f.Add(false, uint64(0), uint8(1), uint64(9), uint8(6), "x", int32(0), uint32(0), uint32(3), uint8(31), uint32(0),
		uint8(2), uint64(99), uint32(7), int32(9), int64(-1), uint8(3), uint64(77), uint32(1), uint8(6), "y", int32(9), false,
		true, uint64(1), uint32(5), uint64(1<<40), uint8(6), "z")
	f.Fuzz(func(t *testing.T, empty bool, next uint64, ji uint8, id uint64, requesterSel uint8, requesterRaw string, status int32,
		rounds, current uint32, hashLen uint8, inputs uint32, ri uint8, rJob uint64, rRound uint32, phase int32, shiftDeadline int64,
		ui uint8, uJob uint64, uRound uint32, participantSel uint8, participantRaw string, uStatus int32, upperCopy bool,
		addChallenge bool, cJob uint64, cRound uint32, cChunk uint64, challengerSel uint8, challengerRaw string,
	) {
		exported, err := fw.w.f.Federated.ExportGenesis(fw.w.f.Ctx)
		must(t, err)
		// A deep copy: the export's byte slices are the store's own.
		bz, err := exported.Marshal()
		must(t, err)
		var gs fedtypes.GenesisState
		must(t, gs.Unmarshal(bz))
		if empty {
			gs.Jobs, gs.Rounds, gs.Updates, gs.Challenges = nil, nil, nil, nil
		}
		gs.NextJobId = next
		if j := pick(gs.Jobs, ji); j != nil {
			j.Id, j.Requester, j.Status = id, fedAccount(requesterSel, requesterRaw), fedtypes.JobStatus(status)
			j.Rounds, j.CurrentRound, j.Spec.Inputs = rounds, current, inputs
			j.GlobalModelHash = j.GlobalModelHash[:min(int(hashLen), len(j.GlobalModelHash))]
		}
		if r := pick(gs.Rounds, ri); r != nil {
			r.JobId, r.Round, r.Phase = rJob, rRound, fedtypes.RoundPhase(phase)
			r.Deadline = r.Deadline.Add(time.Duration(shiftDeadline))
		}
		if u := pick(gs.Updates, ui); u != nil {
			u.JobId, u.Round, u.Participant, u.Status = uJob, uRound, fedAccount(participantSel, participantRaw), fedtypes.UpdateStatus(uStatus)
			if upperCopy {
				c := *u
				c.Participant = strings.ToUpper(c.Participant)
				gs.Updates = append(gs.Updates, c)
			}
		}
		if addChallenge {
			gs.Challenges = append(gs.Challenges, fedtypes.ChunkChallenge{JobId: cJob, Round: cRound, Chunk: cChunk,
				Challenger: fedAccount(challengerSel, challengerRaw), Bond: sdk.NewInt64Coin("uhint", 1),
				Deadline: fw.w.f.Ctx.BlockTime().Add(time.Hour)})
		}
		if gs.Validate() != nil {
			return
		}
		fresh := keepers.New(t)
		fresh.Ctx = fresh.Ctx.WithBlockTime(fw.w.f.Ctx.BlockTime())
		if err := fresh.Federated.InitGenesis(fresh.Ctx, &gs); err != nil {
			t.Fatalf("x/federated genesis passes Validate but does not load: %v", err)
		}
		again, err := fresh.Federated.ExportGenesis(fresh.Ctx)
		must(t, err)
		if want := fw.storeOrder(gs); !sameProto(t, want, again) {
			t.Fatalf("x/federated genesis passes Validate but does not export as it loaded: next job %d -> %d, %d/%d/%d/%d jobs/rounds/updates/challenges -> %d/%d/%d/%d",
				want.NextJobId, again.NextJobId, len(want.Jobs), len(want.Rounds), len(want.Updates), len(want.Challenges),
				len(again.Jobs), len(again.Rounds), len(again.Updates), len(again.Challenges))
		}
		for range 2 {
			fresh.Ctx = fresh.Ctx.WithBlockTime(fresh.Ctx.BlockTime().Add(24 * time.Hour))
			if err := fresh.Federated.EndBlocker(fresh.Ctx); err != nil {
				t.Fatalf("the end blocker fails on a genesis that passes Validate: %v", err)
			}
		}
	})
}
