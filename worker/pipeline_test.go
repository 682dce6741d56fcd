package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// serialReference runs the task one step at a time on the training
// goroutine alone: the states at every step and the checkpoint hashes.
func serialReference(t *testing.T, task taskstypes.Task, src engine.RowSource) ([]*engine.State, []engine.Hash) {
	t.Helper()
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		t.Fatal(err)
	}
	st, err := engine.NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	states := []*engine.State{st}
	for s := uint64(0); s < task.Spec.TotalSteps; s++ {
		if st, _, err = engine.RunSegment(job, st, src, 1); err != nil {
			t.Fatal(err)
		}
		states = append(states, st)
	}
	var hashes []engine.Hash
	for i := uint64(0); i <= task.Spec.Segments(); i++ {
		hashes = append(hashes, states[checkpointStep(task.Spec, i)].Hash())
	}
	return states, hashes
}

// syncBuffer is a log sink written from the trainer and the writer.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
	on func(line string)
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on != nil {
		s.on(string(p))
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// progressTo returns a progress reporter logging every update to out.
func progressTo(out *syncBuffer) *Progress {
	p := NewProgress(out, false)
	p.Interval = 0
	p.SetLogger(slog.New(slog.NewTextHandler(out, nil)))
	return p
}

// The checkpoint writer runs beside the trainer; what it records must be
// exactly what the engine alone computes, in order, on disk as in the result,
// with loss points that do not fall on segment ends.
func TestTrainPipelineMatchesSerialEngine(t *testing.T) {
	f := mnistSubset(t, 600)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 60, 8)
	var log syncBuffer
	got := train(t, task, f, t.TempDir(), TrainConfig{LossEvery: 3, Progress: progressTo(&log)})
	states, want := serialReference(t, task, got.src(t))
	if fmt.Sprint(got.result.Checkpoints) != fmt.Sprint(want) {
		t.Fatalf("pipelined checkpoints\n%v\ndiffer from the serial ones\n%v", got.result.Checkpoints, want)
	}
	final := states[len(states)-1]
	if got.result.FinalModelHash != final.ModelHash() || got.result.FinalOptHash != final.OptHash() || got.result.Final.Hash() != final.Hash() {
		t.Fatal("final state or its hashes differ from the serial run")
	}

	// checkpoints.log lists h_0 ... h_N in order, and every file hashes to its line.
	bz, err := os.ReadFile(filepath.Join(got.dir.Path, checkpointLog))
	if err != nil {
		t.Fatal(err)
	}
	var lines strings.Builder
	for i, h := range want {
		fmt.Fprintf(&lines, "%d %s\n", i, h)
		b, err := got.dir.ReadCheckpoint(uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		st, err := engine.DecodeState(got.job.Spec, b)
		if err != nil || st.Hash() != h {
			t.Fatalf("checkpoint file %d does not hold h_%d (%v)", i, i, err)
		}
	}
	if string(bz) != lines.String() {
		t.Fatalf("checkpoints.log:\n%s\nwant:\n%s", bz, lines.String())
	}

	// The loss curve: step 0, every 3rd step and the last step, each
	// measured on the state the serial run has at that step.
	var wantLoss []LossPoint
	one := float64(uint64(1) << got.job.Spec.FracBits)
	for s := uint64(0); s <= 60; s++ {
		if s%3 != 0 && s != 60 {
			continue
		}
		ev, err := engine.Evaluate(got.job, states[s], got.src(t), engine.BatchIndices(got.job, max(s, 1)-1))
		if err != nil {
			t.Fatal(err)
		}
		wantLoss = append(wantLoss, LossPoint{Step: s, Loss: float64(ev.Loss) / one})
	}
	if fmt.Sprint(got.result.Loss) != fmt.Sprint(wantLoss) {
		t.Fatalf("loss curve\n%v\nwant\n%v", got.result.Loss, wantLoss)
	}
	csv, err := os.ReadFile(filepath.Join(got.dir.Path, lossFile))
	if err != nil || string(csv) != "step,loss\n"+lossLines(wantLoss) {
		t.Fatalf("loss.csv (%v):\n%s", err, csv)
	}
	if !strings.Contains(log.String(), "checkpoint=8/8") {
		t.Fatalf("progress never reported the last checkpoint:\n%s", log.String())
	}
}

// A failure of the writer surfaces as Train's error, stops training and
// leaves the checkpoints before it recorded.
func TestTrainWriterErrorStopsTheRun(t *testing.T) {
	f := mnistSubset(t, 400)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 80, 4) // 20 segments
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		t.Fatal(err)
	}
	src, err := f.Source(job.Spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}

	dir, err := OpenTaskDir(t.TempDir(), task)
	if err != nil {
		t.Fatal(err)
	}
	// A directory where checkpoint 3 goes: its rename fails.
	if err := os.MkdirAll(filepath.Join(dir.CheckpointPath(3), "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Train(context.Background(), TrainConfig{Dir: dir, Job: job, Rows: src})
	if err == nil || res != nil || !strings.Contains(err.Error(), "writing checkpoint 3") {
		t.Fatalf("Train = %v, %v; want the error writing checkpoint 3", res, err)
	}
	init, _ := engine.NewInitialState(job)
	hashes, _, err := dir.LoadCheckpoints(job, init.Hash())
	if err != nil || len(hashes) != 3 {
		t.Fatalf("%d checkpoints kept (%v), want h_0..h_2", len(hashes), err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir.Path, "ckpt"))
	if len(entries) != 4 {
		t.Fatalf("%d entries in ckpt/, want h_0..h_2 and the directory in the way of h_3: the writer went on after failing", len(entries))
	}

	// No room for h_0 at all.
	dir2, err := OpenTaskDir(t.TempDir(), task)
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir2.Path, "ckpt")
	if err := os.RemoveAll(ckpt); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ckpt, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), TrainConfig{Dir: dir2, Job: job, Rows: src}); err == nil || !strings.Contains(err.Error(), "writing h_0") {
		t.Fatalf("Train without a ckpt dir: %v", err)
	}
}

// Cancelling a run keeps every checkpoint queued before the cancel; the
// resumed run ends with the uninterrupted transcript.
func TestTrainCancelKeepsQueuedCheckpoints(t *testing.T) {
	f := mnistSubset(t, 400)
	task := testTask(t, f, engine.DefaultSpecMNISTSoftmax(), 80, 4)
	ref := train(t, task, f, t.TempDir(), TrainConfig{LossEvery: 2})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &syncBuffer{on: func(line string) {
		if strings.Contains(line, "step=40 ") {
			cancel()
		}
	}}
	root := t.TempDir()
	dir, err := OpenTaskDir(root, task)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Train(ctx, TrainConfig{Dir: dir, Job: ref.job, Rows: ref.src(t), LossEvery: 2, Progress: progressTo(log)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	resumed := train(t, task, f, root, TrainConfig{LossEvery: 2})
	if resumed.result.Resumed < 2 || resumed.result.Steps >= 80 {
		t.Fatalf("resumed %d checkpoints and trained %d steps", resumed.result.Resumed, resumed.result.Steps)
	}
	if fmt.Sprint(resumed.result.Checkpoints) != fmt.Sprint(ref.result.Checkpoints) {
		t.Fatal("the resumed transcript differs from the uninterrupted one")
	}
	// (Resumed points come from loss.csv, with 6 decimals.)
	if a, b := lossLines(resumed.result.Loss), lossLines(ref.result.Loss); a != b {
		t.Fatalf("resumed loss curve\n%s\nwant\n%s", a, b)
	}
}

func (tr trained) src(t *testing.T) engine.RowSource {
	t.Helper()
	src, err := tr.file.Source(tr.job.Spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// The queue to the writer holds a bounded amount of state memory.
func TestQueueDepth(t *testing.T) {
	if d := queueDepth(engine.DefaultSpecMNISTSoftmax()); d != maxQueue {
		t.Fatalf("softmax queue %d, want %d", d, maxQueue)
	}
	big := engine.DefaultSpecMNISTMLP()
	big.Hidden = []uint32{1 << 14, 1 << 14}
	if d := queueDepth(big); d != minQueue {
		t.Fatalf("queue of a %d-parameter model: %d, want %d", big.TrainableParams(), d, minQueue)
	}
	mid := engine.DefaultSpecMNISTMLP()
	mid.Hidden = []uint32{512}
	if d, want := queueDepth(mid), int(queueBytes/(16*mid.TrainableParams())); d != want || d <= minQueue || d >= maxQueue {
		t.Fatalf("queue of a %d-parameter model: %d, want %d", mid.TrainableParams(), d, want)
	}
}
