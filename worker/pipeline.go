package worker

import (
	"context"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// The queue between the training goroutine and the checkpoint writer holds
// up to queueBytes of states (at least minQueue, at most maxQueue jobs):
// enough for the trainer not to wait while the writer is held up for a while
// (by a slow disk, or by a reveal being built on the same core), and the
// memory of a run stays bounded however slow the writer is.
const (
	queueBytes = 64 << 20
	minQueue   = 2
	maxQueue   = 16
)

// queueDepth is the queue length for a spec: every job holds a state, at
// most 16 bytes per trainable parameter in memory (Adam: the parameter and
// two moments of 4 and 8 bytes).
func queueDepth(s engine.Spec) int {
	per := 16 * max(s.TrainableParams(), 1)
	return int(min(max(queueBytes/per, minQueue), maxQueue))
}

// ckptJob is one unit of work for the checkpoint writer: measure the loss
// curve's point on st (loss), store st as checkpoint h_index (ckpt), or both
// in that order. st is never mutated once queued: RunSegment never mutates
// its input, and a forged checkpoint is a corrupted copy.
type ckptJob struct {
	st    *engine.State
	loss  bool
	ckpt  bool
	index uint64
}

// checkpointWriter takes the checkpoint work off the training goroutine: a
// single goroutine, fed through a bounded channel, that measures the loss
// points, hashes and encodes each checkpoint, writes it atomically, records
// h_i in checkpoints.log and appends the loss points up to it to loss.csv,
// strictly in the order the trainer queued them. Its first error stops the
// run (the trainer's context is cancelled) and is what Train returns.
type checkpointWriter struct {
	dir    *TaskDir
	job    engine.Job
	rows   engine.RowSource
	one    float64 // 1.0 in the job's fixed-point format
	report *trainReporter
	stop   context.CancelFunc // stops the trainer when writing fails

	jobs chan ckptJob
	done chan struct{}

	// Owned by the writer goroutine until done is closed, then read-only.
	hashes    []engine.Hash // h_0 ... h_last: the resumed ones, then those written
	loss      []LossPoint
	flushed   int // loss points already in loss.csv
	wrote     bool
	last      uint64      // index of the last checkpoint written (when wrote)
	modelHash engine.Hash // of the last checkpoint written
	optHash   engine.Hash
	err       error
}

// startCheckpointWriter starts the writer of a run that resumes with the
// given checkpoint hashes and loss points; loss.csv is rewritten with the
// points first.
func startCheckpointWriter(cfg TrainConfig, hashes []engine.Hash, loss []LossPoint, report *trainReporter, stop context.CancelFunc) *checkpointWriter {
	w := &checkpointWriter{
		dir: cfg.Dir, job: cfg.Job, rows: cfg.Rows, one: float64(uint64(1) << cfg.Job.Spec.FracBits),
		report: report, stop: stop,
		jobs: make(chan ckptJob, queueDepth(cfg.Job.Spec)), done: make(chan struct{}),
		hashes: hashes, loss: loss, flushed: len(loss),
	}
	go w.run()
	return w
}

// send queues a job, waiting while the queue is full. It fails only when
// ctx ends first (the run was cancelled or the writer failed).
func (w *checkpointWriter) send(ctx context.Context, j ckptJob) error {
	select {
	case w.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait ends the queue, waits until every queued job is done and returns the
// writer's error. Only the training goroutine calls it, once.
func (w *checkpointWriter) wait() error {
	close(w.jobs)
	<-w.done
	return w.err
}

func (w *checkpointWriter) run() {
	defer close(w.done)
	if err := w.dir.ResetLoss(w.loss); err != nil {
		w.fail(fmt.Errorf("task %d: writing loss.csv: %w", w.dir.Task.Id, err))
	}
	for j := range w.jobs {
		if w.err != nil {
			continue // drain: the trainer stops at its next send
		}
		if j.loss {
			if err := w.measureLoss(j.st); err != nil {
				w.fail(err)
				continue
			}
		}
		if j.ckpt {
			if err := w.checkpoint(j.index, j.st); err != nil {
				w.fail(err)
			}
		}
	}
}

func (w *checkpointWriter) fail(err error) {
	w.err = err
	w.stop()
}

// measureLoss adds the loss curve's point at st.Step: the mean loss of the
// minibatch of step Step-1 (of step 0 for the initial state).
func (w *checkpointWriter) measureLoss(st *engine.State) error {
	ev, err := engine.Evaluate(w.job, st, w.rows, engine.BatchIndices(w.job, max(st.Step, 1)-1))
	if err != nil {
		if st.Step == 0 {
			return fmt.Errorf("task %d: measuring the initial loss: %w", w.dir.Task.Id, err)
		}
		return fmt.Errorf("task %d: measuring the loss at step %d: %w", w.dir.Task.Id, st.Step, err)
	}
	loss := float64(ev.Loss) / w.one
	w.loss = append(w.loss, LossPoint{Step: st.Step, Loss: loss})
	w.report.measured(loss)
	return nil
}

// checkpoint hashes st, writes it as h_i, records h_i and flushes the loss
// points measured so far (none of them is past h_i).
func (w *checkpointWriter) checkpoint(i uint64, st *engine.State) error {
	id := w.dir.Task.Id
	if i != uint64(len(w.hashes)) {
		return fmt.Errorf("task %d: checkpoint %d queued after %d checkpoints", id, i, len(w.hashes))
	}
	enc, h, mh, oh := st.EncodeHashed()
	if err := w.dir.WriteCheckpoint(i, enc, h); err != nil {
		if i == 0 {
			return fmt.Errorf("task %d: writing h_0: %w", id, err)
		}
		return fmt.Errorf("task %d: writing checkpoint %d: %w", id, i, err)
	}
	w.hashes = append(w.hashes, h)
	w.wrote, w.last, w.modelHash, w.optHash = true, i, mh, oh
	if err := w.dir.AppendLoss(w.loss[w.flushed:]); err != nil {
		return fmt.Errorf("task %d: writing loss.csv: %w", id, err)
	}
	w.flushed = len(w.loss)
	w.report.checkpointed(i)
	return nil
}
