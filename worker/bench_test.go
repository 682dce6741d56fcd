package worker

import (
	"context"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// BenchmarkWorkerOverhead measures what the worker adds to pure training on
// the same task: checkpoint hashing and atomic writes, loss measurement for
// the curve (all on the checkpoint writer goroutine beside the trainer), and
// building, encoding and self-checking (recompute.PrepareReveal) the commit
// and the sampled reveals. The peer is the engine alone running the same
// segments.
//
// The worker runs its tasks back to back as the daemon does: a committed
// claim no longer counts against max_concurrent, so the next task trains
// while the chain samples the last one and its reveals are built and
// self-checked (on the daemon's reconcile goroutine). Here the reveals of
// task i are built while task i+1 trains, and those of the last task after
// it; the peer never runs beside either. Reported: overhead-ratio = worker
// time / engine time (1.00 = no overhead; the goal is <= 1.05), both times
// per task, and the time the reveals of a task took on their goroutine.
func BenchmarkWorkerOverhead(b *testing.B) {
	f := mnistSubset(b, 4000)
	for _, c := range []struct {
		name       string
		spec       engine.Spec
		total, seg uint64
	}{
		{"softmax", engine.DefaultSpecMNISTSoftmax(), 1000, 25},
		{"mlp", engine.DefaultSpecMNISTMLP(), 200, 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			task := testTask(b, f, c.spec, c.total, c.seg)
			job, err := taskstypes.EngineJob(task)
			if err != nil {
				b.Fatal(err)
			}
			src, err := f.Source(job.Spec.FracBits)
			if err != nil {
				b.Fatal(err)
			}
			params := vtypes.DefaultParams()
			n := task.Spec.Segments()
			// reveals builds the commit's sampled reveals, as the daemon
			// does once the chain has sampled them.
			reveals := func(dir *TaskDir, cps [][]byte) (time.Duration, error) {
				began := time.Now()
				for k := uint64(0); k < uint64(task.Samples); k++ {
					seg := uint32(k * n / uint64(task.Samples))
					start, err := dir.ReadCheckpoint(uint64(seg))
					if err != nil {
						return 0, err
					}
					msg, _, err := BuildReveal("w", task, cps, seg, start, f, nil, params)
					if err != nil {
						return 0, err
					}
					if _, err := msg.Marshal(); err != nil {
						return 0, err
					}
				}
				return time.Since(began), nil
			}
			type committed struct {
				dir *TaskDir
				cps [][]byte
			}
			var (
				engineTime, workerTime, revealTime time.Duration
				last                               *committed
			)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// Peer: the engine alone, one RunSegment per segment.
				began := time.Now()
				st, err := engine.NewInitialState(job)
				if err != nil {
					b.Fatal(err)
				}
				for s := uint64(0); s < n; s++ {
					_, steps := task.Spec.SegmentRange(s)
					if st, _, err = engine.RunSegment(job, st, src, steps); err != nil {
						b.Fatal(err)
					}
				}
				engineTime += time.Since(began)

				// The worker: the reveals of the last task while this one
				// trains with checkpoints and the loss curve, then its commit.
				began = time.Now()
				type revealed struct {
					took time.Duration
					err  error
				}
				prev := make(chan revealed, 1)
				if last != nil {
					go func(c committed) {
						took, err := reveals(c.dir, c.cps)
						prev <- revealed{took, err}
					}(*last)
				} else {
					prev <- revealed{}
				}
				dir, err := OpenTaskDir(b.TempDir(), task)
				if err != nil {
					b.Fatal(err)
				}
				res, err := Train(context.Background(), TrainConfig{Dir: dir, Job: job, Rows: src})
				if err != nil {
					b.Fatal(err)
				}
				cps := hashBytes(res.Checkpoints)
				commit := &vtypes.MsgOpenTranscript{Worker: "w", TaskId: task.Id, Checkpoints: cps, Uri: "http://w/x",
					FinalModelHash: res.FinalModelHash[:], FinalOptHash: res.FinalOptHash[:], Salt: make([]byte, 32)}
				if _, err := commit.Marshal(); err != nil {
					b.Fatal(err)
				}
				r := <-prev
				if r.err != nil {
					b.Fatal(r.err)
				}
				workerTime += time.Since(began)
				revealTime += r.took
				last = &committed{dir, cps}
				if res.Final.Hash() != st.Hash() {
					b.Fatal("worker and engine disagree")
				}
			}
			// The reveals of the last task, with nothing left to overlap.
			took, err := reveals(last.dir, last.cps)
			if err != nil {
				b.Fatal(err)
			}
			workerTime += took
			revealTime += took
			b.ReportMetric(float64(workerTime)/float64(engineTime), "overhead-ratio")
			b.ReportMetric(float64(engineTime.Microseconds())/1e3/float64(b.N), "engine-ms/task")
			b.ReportMetric(float64(workerTime.Microseconds())/1e3/float64(b.N), "worker-ms/task")
			b.ReportMetric(float64(revealTime.Microseconds())/1e3/float64(b.N), "reveal-ms/task")
		})
	}
}

// BenchmarkWatchEverySegment measures what a watchtower pays to check every
// segment of a transcript (the only reliable way to catch a single altered
// segment: sampling catches it with probability k/N): each segment is
// fetched from disk, checked like a reveal (recompute.PrepareReveal: state
// hash, rows and their Merkle proofs) and re-executed. The peer is the engine
// training the same job once. Reported: watch-ratio = watch time / training
// time, and both times per task.
func BenchmarkWatchEverySegment(b *testing.B) {
	f := mnistSubset(b, 4000)
	for _, c := range []struct {
		name       string
		spec       engine.Spec
		total, seg uint64
	}{
		{"softmax", engine.DefaultSpecMNISTSoftmax(), 880, 4},
		{"mlp", engine.DefaultSpecMNISTMLP(), 352, 4},
	} {
		b.Run(c.name, func(b *testing.B) {
			task := testTask(b, f, c.spec, c.total, c.seg)
			tr := train(b, task, f, b.TempDir(), TrainConfig{})
			cps := hashBytes(tr.result.Checkpoints)
			params := vtypes.DefaultParams()
			src, err := f.Source(tr.job.Spec.FracBits)
			if err != nil {
				b.Fatal(err)
			}
			var trainTime, watchTime time.Duration
			b.ResetTimer()
			for range b.N {
				began := time.Now()
				st, err := engine.NewInitialState(tr.job)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := engine.RunSegment(tr.job, st, src, task.Spec.TotalSteps); err != nil {
					b.Fatal(err)
				}
				trainTime += time.Since(began)
				began = time.Now()
				for seg := uint32(0); uint64(seg) < task.Spec.Segments(); seg++ {
					start, err := tr.dir.ReadCheckpoint(uint64(seg))
					if err != nil {
						b.Fatal(err)
					}
					check, err := VerifySegment(task, cps, seg, start, f, nil, params)
					if err != nil || !check.Match {
						b.Fatalf("segment %d: %v %+v", seg, err, check)
					}
				}
				watchTime += time.Since(began)
			}
			b.ReportMetric(float64(watchTime)/float64(trainTime), "watch-ratio")
			b.ReportMetric(float64(trainTime.Microseconds())/1e3/float64(b.N), "train-ms/task")
			b.ReportMetric(float64(watchTime.Microseconds())/1e3/float64(b.N), "watch-ms/task")
		})
	}
}
