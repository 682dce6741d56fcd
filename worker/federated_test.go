package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// addr is a participant address with these 20 bytes.
func addr(b ...byte) string {
	a := make([]byte, 20)
	copy(a, b)
	return sdk.AccAddress(a).String()
}

// TestAcceptedUpdatesOrder: the aggregation order is the chain's (accepted
// updates by address bytes), not the bech32 strings' order, and only
// accepted updates count.
func TestAcceptedUpdatesOrder(t *testing.T) {
	// 0xff... encodes as cosmos1lu..., first in string order, last in byte order.
	addrs := []string{addr(0xff), addr(0x08), addr(0x10), addr(0x00, 1), addr(0x80)}
	statuses := []fedtypes.UpdateStatus{fedtypes.UPDATE_STATUS_ACCEPTED, fedtypes.UPDATE_STATUS_ACCEPTED,
		fedtypes.UPDATE_STATUS_REJECTED, fedtypes.UPDATE_STATUS_ACCEPTED, fedtypes.UPDATE_STATUS_ACCEPTED}
	var us []fedtypes.Update
	for i, a := range addrs {
		us = append(us, fedtypes.Update{Participant: a, Status: statuses[i], Examples: uint64(100 + i)})
	}
	acc, err := AcceptedUpdates(us)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range acc {
		got = append(got, u.Participant)
	}
	want := []string{addr(0x00, 1), addr(0x08), addr(0x80), addr(0xff)}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if slices.IsSorted(want) {
		t.Fatal("the case does not tell byte order from string order")
	}
	if w := UpdateWeights(acc); !slices.Equal(w, []uint64{103, 101, 104, 100}) {
		t.Fatalf("weights %v", w)
	}
	if _, err := AcceptedUpdates([]fedtypes.Update{{Participant: "nope", Status: fedtypes.UPDATE_STATUS_ACCEPTED}}); err == nil {
		t.Fatal("a bad address was accepted")
	}
}

// paramStates are states of spec whose parameters are seeded, of both signs.
func paramStates(t *testing.T, spec engine.Spec, n int) []*engine.State {
	t.Helper()
	var out []*engine.State
	for i := range n {
		p := make([]int32, spec.TrainableParams())
		h := sha256.Sum256([]byte{byte(i)})
		for j := range p {
			h = sha256.Sum256(h[:])
			p[j] = int32(uint32(h[0])<<24|uint32(h[1])<<16|uint32(h[2])<<8|uint32(h[3])) >> (8 + i)
		}
		st, err := engine.StateFromParams(spec, engine.Hash{}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

// TestChunkRevealVerifies: every chunk reveal of an aggregate proves each
// chunk against its model hash (engine.VerifyModelChunk, as the chain
// checks) and its aggregate chunk is federated.Mean of the update chunks;
// a wrong aggregate is refused at the chunks where it is wrong, which
// DifferingChunks finds.
func TestChunkRevealVerifies(t *testing.T) {
	// 1024 -> 3: 3075 parameters, chunks of 1024, 1024, 1024 and 3.
	spec := engine.Spec{Model: engine.ModelLinear, Inputs: 1024, Outputs: 3, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: engine.OptimizerSGD, LearningRate: 1 << 12, Momentum: 58982, BatchSize: 4, FracBits: 16}
	updates := paramStates(t, spec, 3)
	weights := []uint64{3000, 1, 2999}
	agg, err := AggregateStates(spec, engine.Hash{}, weights, updates)
	if err != nil {
		t.Fatal(err)
	}
	if agg.Step != 0 {
		t.Fatalf("aggregate at step %d", agg.Step)
	}
	n := spec.TrainableParams()
	chunks := engine.ChunkCount(n)
	if chunks != 4 {
		t.Fatalf("%d chunks", chunks)
	}
	var all []int32
	for c := range chunks {
		msg, err := BuildChunkReveal(addr(1), 7, 2, c, agg, weights, updates)
		if err != nil {
			t.Fatalf("chunk %d: %v", c, err)
		}
		if msg.JobId != 7 || msg.Round != 2 || msg.Chunk != c || len(msg.Updates) != len(updates) {
			t.Fatalf("chunk %d: message %+v", c, msg)
		}
		check := func(root engine.Hash, ch fedtypes.ModelChunk) {
			if err := engine.VerifyModelChunk(root, n, engine.ModelChunk{Index: c, Values: ch.Values, Aunts: ch.Aunts}); err != nil {
				t.Fatalf("chunk %d: %v", c, err)
			}
		}
		check(agg.ModelHash(), msg.Aggregate)
		values := make([][]int32, len(updates))
		for i, u := range updates {
			check(u.ModelHash(), msg.Updates[i])
			values[i] = msg.Updates[i].Values
		}
		mean, err := federated.Mean(weights, values)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(mean, msg.Aggregate.Values) {
			t.Fatalf("chunk %d: the aggregate chunk is not the weighted mean", c)
		}
		all = append(all, msg.Aggregate.Values...)
	}
	header, err := engine.ModelHeader(spec, engine.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	if engine.ModelHashFromParts(header, all) != agg.ModelHash() {
		t.Fatal("the revealed chunks do not assemble to the aggregate's hash")
	}
	if err := engine.VerifyModelHeader(agg.ModelHash(), n, header, agg.HeaderAunts()); err != nil {
		t.Fatalf("header aunts of the commit: %v", err)
	}

	// A wrong aggregate: one parameter of chunk 2 off by one.
	p := agg.Params()
	p[2*engine.ChunkParams+5]++
	wrong, err := engine.StateFromParams(spec, engine.Hash{}, p)
	if err != nil {
		t.Fatal(err)
	}
	for c := range chunks {
		_, err := BuildChunkReveal(addr(1), 7, 2, c, wrong, weights, updates)
		if (err != nil) != (c == 2) {
			t.Fatalf("wrong aggregate, chunk %d: err %v", c, err)
		}
	}
	if diff, err := DifferingChunks(agg, wrong); err != nil || !slices.Equal(diff, []uint64{2}) {
		t.Fatalf("DifferingChunks %v, %v", diff, err)
	}
	// The updates in another order (or with another weight) are another mean.
	if _, err := BuildChunkReveal(addr(1), 7, 2, 0, agg, []uint64{1, 3000, 2999}, updates); err == nil {
		t.Fatal("weights in the wrong order were revealed")
	}
	if _, err := BuildChunkReveal(addr(1), 7, 2, 0, agg, weights[:2], updates); err == nil {
		t.Fatal("fewer weights than updates were accepted")
	}
}

// TestModelParams: a served state or a dense model encoding is read when it
// hashes to the committed hash, and refused otherwise.
func TestModelParams(t *testing.T) {
	spec := engine.Spec{Model: engine.ModelLinear, Inputs: 8, Outputs: 3, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: engine.OptimizerSGD, LearningRate: 1 << 12, BatchSize: 4, FracBits: 16}
	st := paramStates(t, spec, 1)[0]
	h := st.ModelHash()
	got, err := ModelParams(spec, st.Encode(), h[:])
	if err != nil || !slices.Equal(got, st.Params()) {
		t.Fatalf("state: %v", err)
	}
	m, err := st.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err = ModelParams(spec, m.Encode(), h[:]); err != nil || !slices.Equal(got, st.Params()) {
		t.Fatalf("model: %v", err)
	}
	other := h
	other[0] ^= 1
	if _, err := ModelParams(spec, st.Encode(), other[:]); err == nil {
		t.Fatal("a model of another hash was accepted")
	}
	if _, err := ModelParams(spec, []byte("junk"), h[:]); err == nil {
		t.Fatal("junk was accepted")
	}
}

func TestPickShard(t *testing.T) {
	us := []fedtypes.Update{{Shard: 0}, {Shard: 2}}
	two, three := uint32(2), uint32(3)
	for _, c := range []struct {
		preferred *uint32
		want      uint32
		ok        bool
	}{{nil, 1, true}, {&three, 3, true}, {&two, 1, true}} {
		got, ok := pickShard(4, us, c.preferred)
		if got != c.want || ok != c.ok {
			t.Errorf("preferred %v: got %d %v, want %d %v", c.preferred, got, ok, c.want, c.ok)
		}
	}
	if _, ok := pickShard(2, us[:1], &two); !ok {
		t.Error("shard 1 of 2 is free")
	}
	if _, ok := pickShard(1, us[:1], nil); ok {
		t.Error("a full round offered a shard")
	}
}

// synthetic is a classification dataset of n rows: 8 uint8 features, 3
// classes, the label the index of the largest of the first 3 features.
func synthetic(t *testing.T, n int) *dataset.File {
	t.Helper()
	s := dataset.Schema{Kind: dataset.KindClassification, Feature: dataset.FeatureUint8, Features: 8, Classes: 3}
	rows := make([][]byte, n)
	for i := range rows {
		h := sha256.Sum256([]byte(fmt.Sprint(i)))
		r := dataset.Row{Features: make([]int32, 8)}
		for k := range r.Features {
			r.Features[k] = int32(h[k])
		}
		for k := 1; k < 3; k++ {
			if r.Features[k] > r.Features[r.Label] {
				r.Label = uint32(k)
			}
		}
		b, err := dataset.EncodeRow(s, r)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = b
	}
	f, err := dataset.NewFile(s, rows)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestShardRevealPassesPrepareSegment: a participant trains its public
// shard from the round's global model with the worker's trainer, and every
// segment's reveal (rows proven by their indices in the whole dataset)
// passes the chain's check (recompute.PrepareSegment) and recomputes to the
// committed checkpoint; a forged update mismatches at every segment.
func TestShardRevealPassesPrepareSegment(t *testing.T) {
	f := synthetic(t, 90)
	es := engine.Spec{Model: engine.ModelLinear, Inputs: 8, Outputs: 3, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: engine.OptimizerSGD, LearningRate: 1 << 13, Momentum: 58982, BatchSize: 4, FracBits: 16}
	ref := taskstypes.DatasetRef{Root: f.Root(), Rows: f.Len(), Schema: taskstypes.FromDatasetSchema(f.Schema()), Uri: "file:///dev/null"}
	job := fedtypes.FederatedJob{Id: 4, Spec: taskstypes.FromEngineSpec(es, 7, 2, nil), Seed: bytes.Repeat([]byte{9}, 32),
		Dataset: ref, Shards: 3}
	global := paramStates(t, es, 1)[0]
	gh := global.ModelHash()
	start, err := federated.StartStateHash(es, gh)
	if err != nil {
		t.Fatal(err)
	}
	r := fedtypes.Round{JobId: job.Id, Round: 2, StartModelHash: gh[:], StartStateHash: start[:]}
	lo, hi, err := federated.ShardRange(f.Len(), job.Shards, 1)
	if err != nil {
		t.Fatal(err)
	}
	params := vtypes.DefaultParams()
	for _, forge := range []bool{false, true} {
		t.Run(fmt.Sprintf("forged=%v", forge), func(t *testing.T) {
			u := fedtypes.Update{JobId: job.Id, Round: r.Round, Participant: addr(5), Shard: 1, Dataset: ref, RowOffset: lo, Examples: hi - lo}
			w, err := UpdateWork(job, u)
			if err != nil {
				t.Fatal(err)
			}
			src, err := f.Source(es.FracBits)
			if err != nil {
				t.Fatal(err)
			}
			h0, err := engine.StateFromParams(es, engine.Hash{}, global.Params())
			if err != nil {
				t.Fatal(err)
			}
			dir, err := OpenTaskDir(jobDir(t.TempDir(), job.Id), roundTask(job, r, w.Job.Seed, ref))
			if err != nil {
				t.Fatal(err)
			}
			cfg := TrainConfig{Dir: dir, Job: w.Job, Rows: federated.ShardRows{Src: src, Offset: lo}, Start: h0, Log: discard()}
			if forge {
				cfg.Forge = ForgePlan{Fraction: 1}
			}
			res, err := Train(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Checkpoints[0] != start {
				t.Fatalf("h_0 %s, the round starts at %s", res.Checkpoints[0], engine.Hash(start))
			}
			cps := hashBytes(res.Checkpoints)
			for seg := range uint32(job.Spec.Segments()) {
				st, err := dir.ReadCheckpoint(uint64(seg))
				if err != nil {
					t.Fatal(err)
				}
				msg, rc, err := BuildUpdateReveal(w, u.Participant, job.Id, r.Round, cps, seg, st, f, nil, params)
				if err != nil {
					t.Fatalf("segment %d: %v", seg, err)
				}
				for _, row := range msg.Rows {
					if row.Index < lo || row.Index >= hi {
						t.Fatalf("segment %d: row %d outside the shard [%d, %d)", seg, row.Index, lo, hi)
					}
				}
				// What the chain runs on the message it receives.
				chain, err := recompute.PrepareSegment(w, cps, seg, msg.StartState, msg.Rows, msg.BaseModel, params)
				if err != nil {
					t.Fatalf("segment %d: the chain refuses the reveal: %v", seg, err)
				}
				match, _, _, reason := chain.Run()
				if match == forge {
					t.Fatalf("segment %d: match %v with forging %v (%v)", seg, match, forge, reason)
				}
				if m, _, _, _ := rc.Run(); m != match {
					t.Fatal("the self-check and the chain disagree")
				}
			}
			// Rows of another shard are refused by the chain's check.
			st0, _ := dir.ReadCheckpoint(0)
			other := w
			other.RowOffset = 0
			rows, err := WorkRows(job.Spec, w.Job, f, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := recompute.PrepareSegment(w, cps, 0, st0, rows, nil, params); err == nil {
				t.Fatal("rows outside the shard were accepted")
			}
			if _, err := recompute.PrepareSegment(other, cps, 0, st0, rows, nil, params); err != nil {
				t.Fatalf("the same rows as shard 0's: %v", err)
			}
		})
	}
}

// TestFederatedServer: an update is served only once opened, under its
// participant's address, and an aggregate only once committed.
func TestFederatedServer(t *testing.T) {
	f := synthetic(t, 40)
	es := engine.Spec{Model: engine.ModelLinear, Inputs: 8, Outputs: 3, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: engine.OptimizerSGD, LearningRate: 1 << 13, BatchSize: 4, FracBits: 16}
	ref := taskstypes.DatasetRef{Root: f.Root(), Rows: f.Len(), Schema: taskstypes.FromDatasetSchema(f.Schema()), Uri: "file:///dev/null"}
	job := fedtypes.FederatedJob{Id: 0, Spec: taskstypes.FromEngineSpec(es, 4, 2, nil), Seed: bytes.Repeat([]byte{1}, 32), Dataset: ref, Shards: 1}
	global := paramStates(t, es, 1)[0]
	gh := global.ModelHash()
	start, _ := federated.StartStateHash(es, gh)
	r := fedtypes.Round{JobId: job.Id, Round: 1, StartModelHash: gh[:], StartStateHash: start[:]}
	me := addr(3)
	u := fedtypes.Update{JobId: job.Id, Round: r.Round, Participant: me, Dataset: ref, Examples: f.Len()}
	w, err := UpdateWork(job, u)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir, err := OpenTaskDir(jobDir(root, job.Id), roundTask(job, r, w.Job.Seed, ref))
	if err != nil {
		t.Fatal(err)
	}
	src, _ := f.Source(es.FracBits)
	res, err := Train(context.Background(), TrainConfig{Dir: dir, Job: w.Job, Rows: src, Start: global, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	srv := &CheckpointServer{Root: t.TempDir(), FederatedRoot: root, Address: me, Log: discard()}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + srv.Addr()
	uri := base + FederatedUpdatePath(job.Id, r.Round, me)
	limit := stateLimit(es)
	if _, err := Fetch(ctx, uri+"/model", limit); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("update served before the open: %v", err)
	}
	if err := dir.MarkOpened(); err != nil {
		t.Fatal(err)
	}
	b, err := Fetch(ctx, uri+"/model", limit)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ModelParams(es, b, res.FinalModelHash[:]); err != nil || len(p) != int(es.TrainableParams()) {
		t.Fatalf("final model: %v", err)
	}
	if b, err = Fetch(ctx, uri+"/checkpoints/1", limit); err != nil {
		t.Fatal(err)
	}
	if want, _ := dir.ReadCheckpoint(1); !bytes.Equal(b, want) {
		t.Fatal("checkpoint 1 differs from the file")
	}
	if _, err := Fetch(ctx, base+FederatedUpdatePath(job.Id, r.Round, addr(4))+"/model", limit); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("another participant's update: %v", err)
	}
	agg := base + FederatedAggregatePath(job.Id, r.Round)
	if err := saveAggregate(root, job.Id, r.Round, global); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, agg, limit); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("aggregate served before the commit: %v", err)
	}
	if err := writeFileAtomic(filepath.Join(roundDir(root, job.Id, r.Round), aggregateCommitted), gh[:]); err != nil {
		t.Fatal(err)
	}
	if b, err = Fetch(ctx, agg, limit); err != nil {
		t.Fatal(err)
	}
	if _, err := ModelParams(es, b, gh[:]); err != nil {
		t.Fatal(err)
	}
	// Stored global models load back checked.
	if err := saveGlobal(root, job.Id, global); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadGlobal(root, job.Id, es, gh[:]); err != nil {
		t.Fatal(err)
	}
	wrong := gh
	wrong[0] ^= 1
	if _, err := LoadGlobal(root, job.Id, es, wrong[:]); err == nil {
		t.Fatal("a global model loaded under another hash")
	}
}
