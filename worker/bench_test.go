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
// the same task: checkpoint hashing and atomic writes (fsync), loss
// measurement for the curve, and building, encoding and self-checking
// (recompute.PrepareReveal) the commit and the sampled reveals. The peer is the
// engine alone running the same segments. Reported: overhead-ratio =
// worker time / engine time (1.00 = no overhead), and both times per run.
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
			var engineTime, workerTime time.Duration
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

				// The worker: train with checkpoints and the loss curve, then
				// build the commit and the sampled reveals.
				began = time.Now()
				dir, err := OpenTaskDir(b.TempDir(), task)
				if err != nil {
					b.Fatal(err)
				}
				res, err := Train(context.Background(), TrainConfig{Dir: dir, Job: job, Rows: src})
				if err != nil {
					b.Fatal(err)
				}
				cps := hashBytes(res.Checkpoints)
				commit := &vtypes.MsgCommitTranscript{Worker: "w", TaskId: task.Id, Checkpoints: cps, Uri: "http://w/x",
					FinalModelHash: res.FinalModelHash[:], FinalOptHash: res.FinalOptHash[:]}
				if _, err := commit.Marshal(); err != nil {
					b.Fatal(err)
				}
				for k := uint64(0); k < uint64(task.Samples); k++ {
					seg := uint32(k * n / uint64(task.Samples))
					start, err := dir.ReadCheckpoint(uint64(seg))
					if err != nil {
						b.Fatal(err)
					}
					msg, _, err := BuildReveal("w", task, cps, seg, start, f, nil, params)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := msg.Marshal(); err != nil {
						b.Fatal(err)
					}
				}
				workerTime += time.Since(began)
				if res.Final.Hash() != st.Hash() {
					b.Fatal("worker and engine disagree")
				}
			}
			b.ReportMetric(float64(workerTime)/float64(engineTime), "overhead-ratio")
			b.ReportMetric(float64(engineTime.Milliseconds())/float64(b.N), "engine-ms/run")
			b.ReportMetric(float64(workerTime.Milliseconds())/float64(b.N), "worker-ms/run")
		})
	}
}
