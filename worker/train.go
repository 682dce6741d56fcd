package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// TrainConfig is one training run of a claimed task.
type TrainConfig struct {
	Dir  *TaskDir
	Job  engine.Job // taskstypes.EngineJob(task), plus Base for LoRA
	Rows engine.RowSource
	// Start is h_0 when it is not the job's seed-derived initial state (a
	// federated round starts from the round's global model); nil uses
	// engine.NewInitialState(Job).
	Start *engine.State
	// LossEvery is the interval, in steps, at which the minibatch loss is
	// measured for the loss curve (an extra forward pass over one batch, on
	// the checkpoint writer goroutine); 0 picks about 100 points over the
	// run (see lossInterval).
	LossEvery uint64
	Forge     ForgePlan
	Progress  *Progress // nil shows nothing
	Log       *slog.Logger
}

// TrainResult is a finished run: everything MsgOpenTranscript needs.
type TrainResult struct {
	Checkpoints    []engine.Hash // h_0 ... h_N
	FinalModelHash engine.Hash
	FinalOptHash   engine.Hash
	Final          *engine.State
	Resumed        uint64   // checkpoints found on disk and reused (h_0 included)
	Forged         []uint32 // segments whose result was corrupted
	MACs           uint64   // multiply-accumulates trained in this run
	Steps          uint64   // steps trained in this run
	Elapsed        time.Duration
	Loss           []LossPoint
}

// lossInterval returns the loss measurement interval: the configured one,
// or about 100 points over the run, at least 16 steps apart, rounded to a
// multiple or a divisor of the segment length so that measuring never splits
// a segment into more engine calls than needed.
func lossInterval(every, total, seg uint64) uint64 {
	if every > 0 {
		return every
	}
	target := max(16, total/100)
	if target >= seg {
		return seg * ((target + seg/2) / seg)
	}
	for d := target; d < seg; d++ {
		if seg%d == 0 {
			return d
		}
	}
	return seg
}

// Train runs the task from its last good checkpoint on disk (or from h_0)
// to the end, writing every checkpoint h_i atomically as soon as it exists.
// A run killed at any point resumes from the last checkpoint it finished;
// finished segments are never recomputed. Cancelling ctx stops it between
// two chunks of steps with the checkpoints so far kept.
//
// The training goroutine only runs the engine: at each loss measurement point
// and each segment end it hands the state reached (which nothing mutates any
// more) to a checkpoint writer goroutine that measures the loss points and
// hashes, writes and records the checkpoints in order (see
// checkpointWriter). Train returns once the writer has finished; the hashes
// are those of the states the engine produced, in order, whichever goroutine
// computes them.
func Train(ctx context.Context, cfg TrainConfig) (*TrainResult, error) {
	r, err := resumeRun(cfg)
	if err != nil {
		return nil, err
	}
	return r.train(ctx)
}

// trainRun is one call of Train.
type trainRun struct {
	cfg   TrainConfig
	spec  taskstypes.TrainingSpec
	id    uint64
	n     uint64 // segments
	every uint64 // loss measurement interval, in steps

	cur    *engine.State
	fresh  bool          // nothing on disk: h_0 is still to be written
	hashes []engine.Hash // resumed checkpoints
	loss   []LossPoint   // resumed loss points
	res    *TrainResult
}

// resumeRun sets up a run from the task's work directory: the last good
// checkpoint and the loss points up to it, or the initial state.
func resumeRun(cfg TrainConfig) (*trainRun, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	spec := cfg.Dir.Task.Spec
	r := &trainRun{cfg: cfg, spec: spec, id: cfg.Dir.Task.Id, n: spec.Segments(), res: &TrainResult{}}
	if r.n == 0 {
		return nil, fmt.Errorf("task %d: spec has no segments", r.id)
	}
	r.every = lossInterval(cfg.LossEvery, spec.TotalSteps, spec.SegmentSteps)
	init, err := cfg.Start, error(nil)
	if init == nil {
		if init, err = engine.NewInitialState(cfg.Job); err != nil {
			return nil, fmt.Errorf("task %d: initial state: %w", r.id, err)
		}
	}
	if cfg.Dir.hasCheckpoints() {
		if r.hashes, r.cur, err = cfg.Dir.LoadCheckpoints(cfg.Job, init.Hash()); err != nil {
			return nil, fmt.Errorf("task %d: reading checkpoints: %w", r.id, err)
		}
	}
	r.res.Resumed = uint64(len(r.hashes))
	if r.cur == nil {
		r.cur, r.hashes, r.fresh = init, nil, true
	} else if uint64(len(r.hashes)) <= r.n {
		cfg.Log.Info("resuming from the last checkpoint", "task", r.id, "checkpoint", len(r.hashes)-1, "segments", r.n, "step", r.cur.Step)
	}
	if r.cur.Step > 0 { // at step 0 the curve starts over with the initial loss
		if r.loss, err = cfg.Dir.ReadLoss(r.cur.Step); err != nil {
			return nil, fmt.Errorf("task %d: reading loss.csv: %w", r.id, err)
		}
	}
	return r, nil
}

// train runs the remaining segments with the checkpoint writer alongside.
func (r *trainRun) train(ctx context.Context) (*TrainResult, error) {
	start := time.Now()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	status := TrainStatus{Task: r.id, Step: r.cur.Step, Total: r.spec.TotalSteps, Segments: r.n, Loss: -1,
		Checkpoint: uint64(max(len(r.hashes), 1) - 1)}
	if len(r.loss) > 0 {
		status.Loss = r.loss[len(r.loss)-1].Loss
	}
	report := newTrainReporter(r.cfg.Progress, status)
	w := startCheckpointWriter(r.cfg, r.hashes, r.loss, report, stop)
	err := r.segments(ctx, w, report)
	if werr := w.wait(); werr != nil {
		return nil, werr // the writer's error stopped the trainer, or came after it
	}
	if err != nil {
		return nil, err
	}
	report.done()
	return r.result(w, time.Since(start))
}

// segments runs the engine over the segments left, queueing the initial
// loss point and h_0 first on a fresh start.
func (r *trainRun) segments(ctx context.Context, w *checkpointWriter, report *trainReporter) error {
	if r.cur.Step == 0 {
		// The curve starts at the initial loss, on the first batch.
		if err := w.send(ctx, ckptJob{st: r.cur, loss: true, ckpt: r.fresh, index: 0}); err != nil {
			return err
		}
	}
	for i := uint64(max(len(r.hashes), 1) - 1); i < r.n; i++ {
		if err := r.segment(ctx, w, report, i); err != nil {
			return err
		}
	}
	return nil
}

// segment runs segment i in chunks that end at the loss measurement points,
// queues each such point for measuring, and queues its end as h_(i+1),
// corrupted first when the forge plan says so.
func (r *trainRun) segment(ctx context.Context, w *checkpointWriter, report *trainReporter, i uint64) error {
	_, steps := r.spec.SegmentRange(i)
	for done := uint64(0); done < steps; {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := min(steps-done, r.every-r.cur.Step%r.every)
		next, meter, err := engine.RunSegment(r.cfg.Job, r.cur, r.cfg.Rows, chunk)
		if err != nil {
			return fmt.Errorf("task %d: segment %d: %w", r.id, i, err)
		}
		r.cur, done = next, done+chunk
		r.res.MACs += meter.MACs
		r.res.Steps += chunk
		if r.cur.Step%r.every == 0 || r.cur.Step == r.spec.TotalSteps {
			if err := w.send(ctx, ckptJob{st: r.cur, loss: true}); err != nil {
				return err
			}
		}
		report.stepped(r.cur.Step)
	}
	if r.cfg.Forge.Forges(r.cfg.Dir.Task.Seed, i) {
		// A copy: the writer may still be measuring the loss on r.cur.
		forged := r.cur.Clone()
		corrupt(forged)
		r.cur = forged
		r.res.Forged = append(r.res.Forged, uint32(i))
	}
	return w.send(ctx, ckptJob{st: r.cur, ckpt: true, index: i + 1})
}

// result assembles a finished run from the writer's records and checks that
// the last checkpoint is the final state.
func (r *trainRun) result(w *checkpointWriter, elapsed time.Duration) (*TrainResult, error) {
	res := r.res
	res.Checkpoints, res.Loss, res.Final, res.Elapsed = w.hashes, w.loss, r.cur, elapsed
	if w.wrote && w.last == r.n {
		res.FinalModelHash, res.FinalOptHash = w.modelHash, w.optHash
	} else { // resumed a finished run: nothing was written
		res.FinalModelHash, res.FinalOptHash = r.cur.ModelHash(), r.cur.OptHash()
	}
	final := engine.StateHashFrom(res.FinalModelHash, res.FinalOptHash, r.spec.TotalSteps)
	if uint64(len(res.Checkpoints)) != r.n+1 || final != res.Checkpoints[r.n] {
		return nil, fmt.Errorf("task %d: final state is at step %d, not %d: work dir inconsistent", r.id, r.cur.Step, r.spec.TotalSteps)
	}
	return res, nil
}
