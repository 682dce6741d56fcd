package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// TrainConfig is one training run of a claimed task.
type TrainConfig struct {
	Dir  *TaskDir
	Job  engine.Job // taskstypes.EngineJob(task), plus Base for LoRA
	Rows engine.RowSource
	// LossEvery is the interval, in steps, at which the minibatch loss is
	// measured for the loss curve (an extra forward pass over one batch);
	// 0 picks about 100 points over the run (see lossInterval).
	LossEvery uint64
	Forge     ForgePlan
	Progress  *Progress // nil shows nothing
	Log       *slog.Logger
}

// TrainResult is a finished run: everything MsgCommitTranscript needs.
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
func Train(ctx context.Context, cfg TrainConfig) (*TrainResult, error) {
	spec := cfg.Dir.Task.Spec
	id := cfg.Dir.Task.Id
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := spec.Segments()
	if n == 0 {
		return nil, fmt.Errorf("task %d: spec has no segments", id)
	}
	init, err := engine.NewInitialState(cfg.Job)
	if err != nil {
		return nil, fmt.Errorf("task %d: initial state: %w", id, err)
	}
	h0 := init.Hash()
	hashes, cur, err := cfg.Dir.LoadCheckpoints(cfg.Job, h0)
	if err != nil {
		return nil, fmt.Errorf("task %d: reading checkpoints: %w", id, err)
	}
	res := &TrainResult{Resumed: uint64(len(hashes))}
	if cur == nil {
		cur, hashes = init, []engine.Hash{h0}
		if err := cfg.Dir.WriteCheckpoint(0, cur.Encode(), h0); err != nil {
			return nil, fmt.Errorf("task %d: writing h_0: %w", id, err)
		}
	} else if uint64(len(hashes)) <= n {
		log.Info("resuming from the last checkpoint", "task", id, "checkpoint", len(hashes)-1, "segments", n, "step", cur.Step)
	}
	if res.Loss, err = cfg.Dir.ReadLoss(cur.Step); err != nil {
		return nil, fmt.Errorf("task %d: reading loss.csv: %w", id, err)
	}

	every := lossInterval(cfg.LossEvery, spec.TotalSteps, spec.SegmentSteps)
	if cur.Step == 0 {
		// The curve starts at the initial loss, on the first batch.
		ev, err := engine.Evaluate(cfg.Job, cur, cfg.Rows, engine.BatchIndices(cfg.Job, 0))
		if err != nil {
			return nil, fmt.Errorf("task %d: measuring the initial loss: %w", id, err)
		}
		res.Loss = []LossPoint{{Step: 0, Loss: float64(ev.Loss) / float64(uint64(1)<<cfg.Job.Spec.FracBits)}}
	}
	if err := cfg.Dir.ResetLoss(res.Loss); err != nil {
		return nil, fmt.Errorf("task %d: writing loss.csv: %w", id, err)
	}
	flushed := len(res.Loss)
	start := time.Now()
	resumedStep := cur.Step
	status := TrainStatus{Task: id, Total: spec.TotalSteps, Segments: n, Loss: -1}
	if len(res.Loss) > 0 {
		status.Loss = res.Loss[len(res.Loss)-1].Loss
	}
	report := func() TrainStatus {
		status.Step, status.Checkpoint = cur.Step, uint64(len(hashes)-1)
		if el := time.Since(start).Seconds(); el > 0 && cur.Step > resumedStep {
			status.StepsPerS = float64(cur.Step-resumedStep) / el
			status.ETA = time.Duration(float64(spec.TotalSteps-cur.Step) / status.StepsPerS * float64(time.Second))
		}
		return status
	}
	one := float64(uint64(1) << cfg.Job.Spec.FracBits)

	for i := uint64(len(hashes) - 1); i < n; i++ {
		_, steps := spec.SegmentRange(i)
		for done := uint64(0); done < steps; {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			chunk := min(steps-done, every-cur.Step%every)
			next, meter, err := engine.RunSegment(cfg.Job, cur, cfg.Rows, chunk)
			if err != nil {
				return nil, fmt.Errorf("task %d: segment %d: %w", id, i, err)
			}
			cur, done = next, done+chunk
			res.MACs += meter.MACs
			res.Steps += chunk
			if cur.Step%every == 0 || cur.Step == spec.TotalSteps {
				ev, err := engine.Evaluate(cfg.Job, cur, cfg.Rows, engine.BatchIndices(cfg.Job, cur.Step-1))
				if err != nil {
					return nil, fmt.Errorf("task %d: measuring the loss at step %d: %w", id, cur.Step, err)
				}
				status.Loss = float64(ev.Loss) / one
				res.Loss = append(res.Loss, LossPoint{Step: cur.Step, Loss: status.Loss})
			}
			if cfg.Progress != nil {
				cfg.Progress.Update(report())
			}
		}
		if cfg.Forge.Forges(cfg.Dir.Task.Seed, i) {
			corrupt(cur)
			res.Forged = append(res.Forged, uint32(i))
		}
		h := cur.Hash()
		hashes = append(hashes, h)
		if err := cfg.Dir.WriteCheckpoint(i+1, cur.Encode(), h); err != nil {
			return nil, fmt.Errorf("task %d: writing checkpoint %d: %w", id, i+1, err)
		}
		if err := cfg.Dir.AppendLoss(res.Loss[flushed:]); err != nil {
			return nil, fmt.Errorf("task %d: writing loss.csv: %w", id, err)
		}
		flushed = len(res.Loss)
		if cfg.Progress != nil {
			cfg.Progress.Checkpoint(report())
		}
	}
	if cfg.Progress != nil {
		cfg.Progress.Done()
	}
	res.Checkpoints = hashes
	res.Final = cur
	res.FinalModelHash, res.FinalOptHash = cur.ModelHash(), cur.OptHash()
	res.Elapsed = time.Since(start)
	if final := engine.StateHashFrom(res.FinalModelHash, res.FinalOptHash, spec.TotalSteps); final != hashes[n] {
		return nil, fmt.Errorf("task %d: final state is at step %d, not %d: work dir inconsistent", id, cur.Step, spec.TotalSteps)
	}
	return res, nil
}
