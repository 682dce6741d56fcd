package reference_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// AccuracyEnv turns on the slow MNIST accuracy comparison (scripts/bench-engine.sh sets it).
const AccuracyEnv = "HINTERLAND_ACCURACY"

// TestMNISTAccuracy trains the default MNIST specs for the same budget (3
// epochs at batch 32 unless HINTERLAND_ACCURACY_EPOCHS says otherwise) with
// the fixed-point engine and the float64 reference, from the same initial
// weights on the same batches, and compares test-set accuracy: softmax
// regression >= 91%, MLP 784-128-10 >= 97%, the engine at most 0.5 points
// below the reference. Select one with -run 'MNISTAccuracy/mlp'.
func TestMNISTAccuracy(t *testing.T) {
	if os.Getenv(AccuracyEnv) == "" {
		t.Skip("slow: set " + AccuracyEnv + "=1 (scripts/bench-engine.sh does) to run the MNIST accuracy comparison")
	}
	epochs := uint64(3)
	if e, err := strconv.Atoi(os.Getenv("HINTERLAND_ACCURACY_EPOCHS")); err == nil && e > 0 {
		epochs = uint64(e)
	}
	train := datasettest.MNIST(t, "train")
	test := datasettest.MNIST(t, "t10k")
	cases := []struct {
		name string
		spec engine.Spec
		min  float64
	}{
		{"softmax-regression", engine.DefaultSpecMNISTSoftmax(), 0.91},
		{"mlp-784-128-10", engine.DefaultSpecMNISTMLP(), 0.97},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			job := engine.Job{Spec: spec, Seed: [32]byte{7}, RowCount: train.Len()}
			src, err := train.Source(spec.FracBits)
			if err != nil {
				t.Fatal(err)
			}
			tsrc, err := test.Source(spec.FracBits)
			if err != nil {
				t.Fatal(err)
			}
			steps := epochs * train.Len() / uint64(spec.BatchSize)
			st, err := engine.NewInitialState(job)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := reference.FromState(job, st)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			st, mt, err := engine.RunSegment(job, st, src, steps)
			if err != nil {
				t.Fatal(err)
			}
			engTime := time.Since(t0)
			t0 = time.Now()
			if err := ref.Run(job, src, steps); err != nil {
				t.Fatal(err)
			}
			refTime := time.Since(t0)
			idx := make([]uint64, test.Len())
			for i := range idx {
				idx[i] = uint64(i)
			}
			ev, err := engine.Evaluate(job, st, tsrc, idx)
			if err != nil {
				t.Fatal(err)
			}
			rv, err := ref.Evaluate(tsrc, idx)
			if err != nil {
				t.Fatal(err)
			}
			fixAcc := float64(ev.Correct) / float64(ev.Count)
			gap := (rv.Accuracy() - fixAcc) * 100
			t.Logf("%s: %d steps (%d epochs, batch %d): fixed-point %.2f%% (loss %.4f, %v, %d MACs, %d saturations) | float64 reference %.2f%% (loss %.4f, %v) | gap %.2f points",
				c.name, steps, epochs, spec.BatchSize, 100*fixAcc, float64(ev.Loss)/float64(int64(1)<<spec.FracBits), engTime.Round(time.Millisecond),
				mt.MACs, mt.Saturations, 100*rv.Accuracy(), rv.Loss, refTime.Round(time.Millisecond), gap)
			if fixAcc < c.min {
				t.Errorf("fixed-point accuracy %.2f%% below %.0f%%", 100*fixAcc, 100*c.min)
			}
			if gap > 0.5 {
				t.Errorf("fixed-point accuracy trails the float64 reference by %.2f points (> 0.5)", gap)
			}
		})
	}
}
