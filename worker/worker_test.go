package worker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// mnistSubset packs the first n MNIST training rows.
func mnistSubset(t testing.TB, n int) *dataset.File {
	t.Helper()
	full := datasettest.MNIST(t, "train")
	f, err := dataset.NewFile(full.Schema(), full.Rows()[:n])
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testTask is a task as the chain would store it.
func testTask(t testing.TB, f *dataset.File, es engine.Spec, total, seg uint64) taskstypes.Task {
	t.Helper()
	spec := taskstypes.FromEngineSpec(es, total, seg, nil)
	seed := bytes.Repeat([]byte{7}, 32)
	return taskstypes.Task{
		Id: 3, Spec: spec, Seed: seed, SpecHash: taskstypes.SpecHash(es, spec),
		Dataset: taskstypes.DatasetRef{Root: f.Root(), Rows: f.Len(), Schema: taskstypes.FromDatasetSchema(f.Schema()),
			Uri: "file:///dev/null"},
		Reward: sdk.NewInt64Coin("uhint", 1_000_000), Bond: sdk.NewInt64Coin("uhint", 10_000), Replicas: 1, Samples: 2,
		Status: taskstypes.TASK_STATUS_OPEN,
	}
}

type trained struct {
	task   taskstypes.Task
	job    engine.Job
	file   *dataset.File
	dir    *TaskDir
	result *TrainResult
}

func train(t testing.TB, task taskstypes.Task, f *dataset.File, root string, cfg TrainConfig) trained {
	t.Helper()
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		t.Fatal(err)
	}
	src, err := f.Source(job.Spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := OpenTaskDir(root, task)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir, cfg.Job, cfg.Rows = dir, job, src
	res, err := Train(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return trained{task: task, job: job, file: f, dir: dir, result: res}
}

func hashBytes(hs []engine.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = append([]byte(nil), h[:]...)
	}
	return out
}

func TestTrainCheckpointsRevealAndResume(t *testing.T) {
	f := mnistSubset(t, 600)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 60, 8) // 8 segments, the last one 4 steps
	ref := train(t, task, f, t.TempDir(), TrainConfig{LossEvery: 1})
	n := task.Spec.Segments()
	if got := uint64(len(ref.result.Checkpoints)); got != n+1 {
		t.Fatalf("%d checkpoints, want %d", got, n+1)
	}
	if len(ref.result.Loss) != 61 {
		t.Fatalf("%d loss points with LossEvery 1, want 61 (step 0 and every step)", len(ref.result.Loss))
	}
	for _, name := range []string{"loss.csv", checkpointLog, "task.json"} {
		if _, err := os.Stat(filepath.Join(ref.dir.Path, name)); err != nil {
			t.Fatal(err)
		}
	}

	// The loss measurement interval splits RunSegment calls differently; the
	// transcript must not change.
	other := train(t, task, f, t.TempDir(), TrainConfig{LossEvery: 1000})
	if fmt.Sprint(other.result.Checkpoints) != fmt.Sprint(ref.result.Checkpoints) {
		t.Fatal("checkpoints depend on the loss interval")
	}

	// Every segment's reveal passes the chain's checks and recomputes exactly.
	params := vtypes.DefaultParams()
	cps := hashBytes(ref.result.Checkpoints)
	for seg := uint32(0); seg < uint32(n); seg++ {
		start, err := ref.dir.ReadCheckpoint(uint64(seg))
		if err != nil {
			t.Fatal(err)
		}
		msg, rc, err := BuildReveal("worker", task, cps, seg, start, f, nil, params)
		if err != nil {
			t.Fatalf("segment %d: %v", seg, err)
		}
		if len(msg.Rows) == 0 || msg.Segment != seg {
			t.Fatalf("segment %d: reveal has %d rows", seg, len(msg.Rows))
		}
		if match, _, _, reason := rc.Run(); !match {
			t.Fatalf("segment %d does not recompute: %v", seg, reason)
		}
	}

	// A reveal from the wrong start state is refused by the self-check.
	start, _ := ref.dir.ReadCheckpoint(2)
	if _, _, err := BuildReveal("worker", task, cps, 3, start, f, nil, params); err == nil || !strings.Contains(err.Error(), "self-check") {
		t.Fatalf("reveal of segment 3 from h_2: %v", err)
	}
	params.MaxRevealBytes = 1024
	start, _ = ref.dir.ReadCheckpoint(1)
	if _, _, err := BuildReveal("worker", task, cps, 1, start, f, nil, params); err == nil || !strings.Contains(err.Error(), "max_reveal_bytes") {
		t.Fatalf("oversized reveal: %v", err)
	}

	// Kill after checkpoint 4 (drop the later ones), and damage checkpoint 4:
	// resuming keeps h_0..h_3, recomputes the rest and ends identical.
	logPath := filepath.Join(ref.dir.Path, checkpointLog)
	bz, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(bz), "\n")
	// Five full lines and a torn sixth, as a kill mid-append leaves it.
	if err := os.WriteFile(logPath, []byte(strings.Join(lines[:5], "")+lines[5][:7]), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := uint64(5); i <= n; i++ {
		os.Remove(ref.dir.CheckpointPath(i))
	}
	b4, _ := ref.dir.ReadCheckpoint(4)
	b4[len(b4)-1] ^= 1
	if err := os.WriteFile(ref.dir.CheckpointPath(4), b4, 0o644); err != nil {
		t.Fatal(err)
	}
	resumed := train(t, task, f, filepath.Dir(ref.dir.Path), TrainConfig{LossEvery: 1})
	if resumed.result.Resumed != 4 {
		t.Fatalf("resumed %d checkpoints, want 4 (h_4 is damaged)", resumed.result.Resumed)
	}
	if resumed.result.Steps != 60-3*8 {
		t.Fatalf("resumed run trained %d steps, want %d", resumed.result.Steps, 60-3*8)
	}
	if fmt.Sprint(resumed.result.Checkpoints) != fmt.Sprint(ref.result.Checkpoints) {
		t.Fatal("resumed transcript differs from the uninterrupted one")
	}
	if len(resumed.result.Loss) != 61 {
		t.Fatalf("resumed loss curve has %d points, want 61", len(resumed.result.Loss))
	}
	// A finished run resumes to the end without training.
	again := train(t, task, f, filepath.Dir(ref.dir.Path), TrainConfig{})
	if again.result.Steps != 0 || again.result.FinalModelHash != ref.result.FinalModelHash {
		t.Fatalf("finished run retrained %d steps", again.result.Steps)
	}

	// The final model evaluates; a stale directory of another task is moved aside.
	ev, err := resumed.dir.Evaluate(f, nil)
	if err != nil || ev.Count != f.Len() {
		t.Fatalf("evaluate: %v (%d rows)", err, ev.Count)
	}
	if err := resumed.dir.PlotLoss(resumed.result.Loss); err != nil {
		t.Fatal(err)
	}
	task2 := task
	task2.Seed = bytes.Repeat([]byte{8}, 32)
	if _, err := OpenTaskDir(filepath.Dir(ref.dir.Path), task2); err != nil {
		t.Fatal(err)
	}
	stale, _ := filepath.Glob(ref.dir.Path + ".stale-*")
	if len(stale) != 1 {
		t.Fatalf("stale dirs: %v", stale)
	}
}

func TestForgerIsConsistentExceptAtForgedSegment(t *testing.T) {
	f := mnistSubset(t, 400)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 40, 10)
	honest := train(t, task, f, t.TempDir(), TrainConfig{})
	forger := train(t, task, f, t.TempDir(), TrainConfig{Forge: ForgePlan{Segments: []uint32{1}}})
	h, g := honest.result.Checkpoints, forger.result.Checkpoints
	if h[0] != g[0] || h[1] != g[1] || h[2] == g[2] {
		t.Fatal("forging segment 1 must change h_2 and nothing before it")
	}
	if fmt.Sprint(forger.result.Forged) != "[1]" {
		t.Fatalf("forged %v", forger.result.Forged)
	}
	cps := hashBytes(g)
	for seg := uint32(0); seg < 4; seg++ {
		start, _ := forger.dir.ReadCheckpoint(uint64(seg))
		check, err := VerifySegment(task, cps, seg, start, f, nil, vtypes.DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		if check.Match != (seg != 1) {
			t.Fatalf("segment %d: match %v (%v)", seg, check.Match, check.Reason)
		}
	}
	all := ForgePlan{Fraction: 1}
	for i := uint64(0); i < 10; i++ {
		if !all.Forges(task.Seed, i) {
			t.Fatal("fraction 1 must forge every segment")
		}
	}
	if (ForgePlan{Fraction: 1.5}).Validate() == nil {
		t.Fatal("fraction above 1 accepted")
	}
}

func TestCheckDatasetRefuses(t *testing.T) {
	f := mnistSubset(t, 100)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 10, 5)
	if err := CheckDataset(f, task.Id, task.Dataset); err != nil {
		t.Fatal(err)
	}
	bad := task.Dataset
	bad.Root = bytes.Repeat([]byte{1}, 32)
	err := CheckDataset(f, 7, bad)
	if err == nil || !strings.Contains(err.Error(), "task 7 wants 0101") || !strings.HasSuffix(err.Error(), "refusing") {
		t.Fatalf("wrong root: %v", err)
	}
	bad = task.Dataset
	bad.Rows = 99
	if err := CheckDataset(f, 7, bad); err == nil || !strings.Contains(err.Error(), "has 100 rows, task 7 wants 99") {
		t.Fatalf("wrong rows: %v", err)
	}
	bad = task.Dataset
	bad.Schema.Classes = 9
	if err := CheckDataset(f, 7, bad); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("wrong schema: %v", err)
	}

	// A packed file whose rows were altered after packing is refused, with
	// the reason, before anything uses it.
	dir := t.TempDir()
	path := filepath.Join(dir, "d.hlds")
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	raw[dataset.HeaderSize+10] ^= 0xff
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	ref := task.Dataset
	ref.Uri = "file://" + path
	cache := NewDatasetCache(filepath.Join(dir, "cache"), nil)
	task.Dataset = ref
	_, err = cache.Get(context.Background(), task)
	if err == nil || !strings.Contains(err.Error(), "rows hash to root") || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("tampered file: %v", err)
	}
}

func TestCheckpointServerAndFetch(t *testing.T) {
	f := mnistSubset(t, 100)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 10, 5)
	root := t.TempDir()
	tr := train(t, task, f, root, TrainConfig{})
	srv := &CheckpointServer{Root: root, Log: discard()}
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
	uri := "http://" + srv.Addr() + CheckpointsPath(task.Id)
	lossURI := "http://" + srv.Addr() + LossPath(task.Id)
	// Nothing is served before the transcript is open on chain: a replica
	// that fetched the states before sealing could copy them.
	if _, err := FetchCheckpoint(ctx, uri, 1, tr.job.Spec); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("checkpoint served before the open: %v", err)
	}
	if _, err := Fetch(ctx, lossURI, 1<<20); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("loss curve served before the open: %v", err)
	}
	if err := tr.dir.MarkOpened(); err != nil {
		t.Fatal(err)
	}
	// The loss curve, readable from any origin (the explorer page).
	res, err := http.Get(lossURI)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	points, _ := tr.dir.ReadLoss(math.MaxUint64)
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.HasPrefix(string(body), "step,loss\n") || strings.Count(string(body), "\n") != len(points)+1 || len(points) == 0 {
		t.Fatalf("loss curve: %d %q %q (%d points on disk)", res.StatusCode, res.Header, body, len(points))
	}
	got, err := FetchCheckpoint(ctx, uri, 1, tr.job.Spec)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tr.dir.ReadCheckpoint(1)
	if !bytes.Equal(got, want) {
		t.Fatal("served checkpoint differs from the file")
	}
	if _, err := FetchCheckpoint(ctx, uri, 9, tr.job.Spec); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing checkpoint: %v", err)
	}
	if _, err := Fetch(ctx, uri+"/1", 10); err == nil || !strings.Contains(err.Error(), "larger than allowed") {
		t.Fatalf("size limit: %v", err)
	}
	if _, err := Fetch(ctx, "ftp://x/y", 10); err == nil {
		t.Fatal("ftp accepted")
	}
}

func TestSchemaSyntaxAndPolicy(t *testing.T) {
	s, err := ParseSchema("kind=classification,feature=uint8,features=784,classes=10")
	if err != nil {
		t.Fatal(err)
	}
	if back, err := ParseSchema(SchemaString(s)); err != nil || back != s {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, text := range []string{"kind=tokens,feature=uint8,features=129", "kind=token-preference,feature=uint8,features=65"} {
		tok, err := ParseSchema(text)
		if err != nil || !tok.Kind.Tokens() || SchemaString(tok) != text {
			t.Fatalf("%s: %v %v (%s)", text, tok, err, SchemaString(tok))
		}
	}
	r, err := ParseSchema("kind=regression,feature=fixed32,features=3,targets=1")
	if err != nil || r.FracBits != 16 {
		t.Fatalf("regression default frac: %v %v", r, err)
	}
	for _, bad := range []string{"kind=nope", "features", "kind=classification,feature=uint8,features=4", "x=1", "features=1,features=2"} {
		if _, err := ParseSchema(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}

	f := mnistSubset(t, 100)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 100, 10)
	rpm, err := RewardPerMAC(task)
	if err != nil {
		t.Fatal(err)
	}
	macs, _ := TrainingMACs(task)
	if want := sdkmath.LegacyNewDec(1_000_000).QuoInt64(int64(macs)); !rpm.Equal(want) {
		t.Fatalf("reward per MAC %s, want %s", rpm, want)
	}
	p := Policy{MinRewardPerMAC: map[string]sdkmath.LegacyDec{"uhint": rpm}}
	if err := p.Check(task); err != nil {
		t.Fatal(err)
	}
	p.MinRewardPerMAC["uhint"] = rpm.MulInt64(2)
	if err := p.Check(task); err == nil || !strings.Contains(err.Error(), "min-reward-per-mac") {
		t.Fatalf("cheap task accepted: %v", err)
	}
	// Per-denom prices: a task paid in a denom the worker has not priced is
	// declined, however much it pays; a priced one is held to its own price.
	const voucher = "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
	ibcTask := task
	ibcTask.Reward = sdk.NewCoin(voucher, task.Reward.Amount.MulRaw(1000))
	if err := p.Check(ibcTask); err == nil || !strings.Contains(err.Error(), "does not price") {
		t.Fatalf("unpriced denom accepted: %v", err)
	}
	prices, err := ParsePrices("0uhint,"+rpm.MulInt64(500).String()+voucher, "uhint")
	if err != nil {
		t.Fatal(err)
	}
	if err := (Policy{MinRewardPerMAC: prices}).Check(ibcTask); err != nil {
		t.Fatalf("priced voucher task declined: %v", err)
	}
	prices[voucher] = rpm.MulInt64(2000)
	if err := (Policy{MinRewardPerMAC: prices}).Check(ibcTask); err == nil {
		t.Fatal("voucher task below its price accepted")
	}
	if bare, err := ParsePrices("0.5", "uhint"); err != nil || !bare["uhint"].Equal(sdkmath.LegacyMustNewDecFromStr("0.5")) || len(bare) != 1 {
		t.Fatalf("bare price: %v %v", bare, err)
	}
	for _, bad := range []string{"-1", "", "1uhint,2uhint", "abc!", "1uhint,x"} {
		if _, err := ParsePrices(bad, "uhint"); err == nil {
			t.Fatalf("ParsePrices(%q) accepted", bad)
		}
	}
	models, _ := ParseModels("mlp")
	if err := (Policy{Models: models}).Check(task); err == nil {
		t.Fatal("linear task accepted by an mlp-only policy")
	}
	objs, err := ParseObjectives("softmax-ce, mse")
	if err != nil || (Policy{Objectives: objs}).Check(task) != nil {
		t.Fatalf("objectives: %v", err)
	}
	if _, err := ParseModels("cnn"); err == nil {
		t.Fatal("cnn accepted")
	}
	if c, err := recompute.WorstSegmentCost(task.Spec, task.Dataset); err != nil || c.RevealBytes < 100*uint64(f.Schema().RowSize()) {
		t.Fatalf("reveal bound %d is below the rows alone (%v)", c.RevealBytes, err)
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, true)
	p.Update(TrainStatus{Task: 1, Step: 50, Total: 100, Loss: 0.5, StepsPerS: 10, ETA: 5 * time.Second, Checkpoint: 2, Segments: 4})
	fmt.Fprintln(p.Writer(), "a log line")
	p.Done()
	out := buf.String()
	for _, want := range []string{"task 1 [", "50/100 steps", "loss 0.5000", "10 steps/s", "ETA 5s", "ckpt 2/4", "a log line"} {
		if !strings.Contains(out, want) {
			t.Fatalf("progress output %q lacks %q", out, want)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestLoRATrainRevealAndModelStore(t *testing.T) {
	f := mnistSubset(t, 200)
	// The base: the seed-derived initial MLP of a dense task, stored as a model file.
	dense := testTask(t, f, engine.DefaultSpecMNISTMLP(), 4, 2)
	denseJob, err := taskstypes.EngineJob(dense)
	if err != nil {
		t.Fatal(err)
	}
	init, err := engine.NewInitialState(denseJob)
	if err != nil {
		t.Fatal(err)
	}
	base, err := init.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	models := t.TempDir()
	if _, err := WriteModel(models, base); err != nil {
		t.Fatal(err)
	}
	h := base.Hash()
	loaded, err := ReadModel(models, h[:])
	if err != nil || loaded.Hash() != h {
		t.Fatalf("model round trip: %v", err)
	}
	if _, err := ReadModel(models, bytes.Repeat([]byte{9}, 32)); err == nil || !strings.Contains(err.Error(), "put its engine encoding") {
		t.Fatalf("missing base model: %v", err)
	}

	es := engine.DefaultSpecMNISTLoRA()
	spec := taskstypes.FromEngineSpec(es, 6, 3, h[:])
	task := testTask(t, f, es, 6, 3)
	task.Spec, task.SpecHash = spec, taskstypes.SpecHash(es, spec)
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		t.Fatal(err)
	}
	job.Base = loaded
	src, _ := f.Source(job.Spec.FracBits)
	dir, err := OpenTaskDir(t.TempDir(), task)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(context.Background(), TrainConfig{Dir: dir, Job: job, Rows: src})
	if err != nil {
		t.Fatal(err)
	}
	cps := hashBytes(res.Checkpoints)
	for seg := uint32(0); seg < 2; seg++ {
		start, _ := dir.ReadCheckpoint(uint64(seg))
		msg, rc, err := BuildReveal("w", task, cps, seg, start, f, loaded.Encode(), vtypes.DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.BaseModel) == 0 {
			t.Fatal("a LoRA reveal carries the base model")
		}
		if match, _, _, reason := rc.Run(); !match {
			t.Fatalf("LoRA segment %d: %v", seg, reason)
		}
	}
	lb, err := ReadBase(models, h[:])
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := dir.Evaluate(f, lb); err != nil || ev.Count != f.Len() {
		t.Fatalf("LoRA evaluate: %v", err)
	}

	// The LoRA result becomes the stacked base of a second fine-tune (as DPO
	// aligns a LoRA model): stored under its model hash, read back merged,
	// revealed with the dense base and the adapters, verified.
	if _, err := WriteStackedBase(models, loaded, res.Final); err != nil {
		t.Fatal(err)
	}
	lh := res.Final.ModelHash()
	stacked, err := ReadBase(models, lh[:])
	if err != nil {
		t.Fatal(err)
	}
	if stacked.ID != lh || stacked.Model.Hash() == lh || stacked.Encoding[1] != engine.PartStacked {
		t.Fatalf("stacked base: id %s, merged %s", stacked.ID, stacked.Model.Hash())
	}
	spec2 := taskstypes.FromEngineSpec(es, 4, 2, lh[:])
	spec2.BaseLoraRank = es.LoRARank
	task2 := testTask(t, f, es, 4, 2)
	task2.Id++
	task2.Spec, task2.SpecHash = spec2, taskstypes.SpecHash(es, spec2)
	job2, err := taskstypes.EngineJob(task2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBase(models, task2, &job2); err != nil {
		t.Fatal(err)
	}
	dense2 := task2
	dense2.Spec.BaseLoraRank = 0
	if _, err := LoadBase(models, dense2, &engine.Job{}); err == nil {
		t.Fatal("a stacked base loaded for a task that wants a dense one")
	}
	dir2, err := OpenTaskDir(t.TempDir(), task2)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := Train(context.Background(), TrainConfig{Dir: dir2, Job: job2, Rows: src})
	if err != nil {
		t.Fatal(err)
	}
	cps2 := hashBytes(res2.Checkpoints)
	start, _ := dir2.ReadCheckpoint(1)
	if _, rc, err := BuildReveal("w", task2, cps2, 1, start, f, stacked.Encoding, vtypes.DefaultParams()); err != nil {
		t.Fatal(err)
	} else if match, _, _, reason := rc.Run(); !match {
		t.Fatalf("stacked-base segment: %v", reason)
	}
	if _, _, err := BuildReveal("w", task2, cps2, 1, start, f, loaded.Encode(), vtypes.DefaultParams()); err == nil {
		t.Fatal("a stacked-base task's reveal accepted the dense base alone")
	}
	m2, err := dir2.Export(models)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Hash() == stacked.Model.Hash() || m2.Hash() == loaded.Hash() {
		t.Fatal("the exported fine-tune of the fine-tune equals one of its bases")
	}
}
