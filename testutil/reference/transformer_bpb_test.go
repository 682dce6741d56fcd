package reference_test

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// LMBenchEnv turns on the slow bits-per-byte comparison on Go's own sources.
const LMBenchEnv = "HINTERLAND_LM_BENCH"

// TestLMBitsPerByte pretrains lmBenchSpec on the Go toolchain's sources
// (GOROOT/src, 4 MB sample, split by file hash) with the fixed-point engine
// and the float64 reference, from the same initial weights on the same
// batches, and compares validation bits per byte every few hundred steps;
// goal: gap <= 0.02 bits per byte. HINTERLAND_LM_STEPS sets the steps
// (default 600).
func TestLMBitsPerByte(t *testing.T) {
	if os.Getenv(LMBenchEnv) == "" {
		t.Skip("slow: set " + LMBenchEnv + "=1 to run the bits-per-byte comparison on GOROOT/src")
	}
	steps := uint64(600)
	if s, err := strconv.Atoi(os.Getenv("HINTERLAND_LM_STEPS")); err == nil && s > 0 {
		steps = uint64(s)
	}
	spec := lmBenchSpec()
	fsys := os.DirFS(runtime.GOROOT() + "/src")
	files, err := dataset.TextFiles(fsys, dataset.DefaultTextExts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dataset.PackText(fsys, files, dataset.TextOptions{Context: spec.Inputs, MaxBytes: 4 << 20, ValShare: 16})
	if err != nil {
		t.Fatal(err)
	}
	train, err := c.Train.File.Source(spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	val, err := c.Val.File.Source(spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	var vidx []uint64
	for i := uint64(0); i < c.Val.File.Len() && len(vidx) < 256; i += max(1, c.Val.File.Len()/256) {
		vidx = append(vidx, i)
	}
	t.Logf("corpus: %d train rows (%d files), %d validation rows (%d files), %d validation rows scored",
		c.Train.File.Len(), c.Train.Files, c.Val.File.Len(), c.Val.Files, len(vidx))
	job := engine.Job{Spec: spec, Seed: [32]byte{42}, RowCount: c.Train.File.Len()}
	st, err := engine.NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reference.TransformerFromState(job, st)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	chunk := steps / 4
	for done := uint64(0); done < steps; done += chunk {
		if st, _, err = engine.RunSegment(job, st, train, chunk); err != nil {
			t.Fatal(err)
		}
		if err := ref.Run(job, train, chunk); err != nil {
			t.Fatal(err)
		}
		ev, err := engine.Evaluate(job, st, val, vidx)
		if err != nil {
			t.Fatal(err)
		}
		fixed := float64(ev.Loss) / float64(int64(1)<<spec.FracBits) / math.Ln2
		float, err := ref.BitsPerByte(val, vidx)
		if err != nil {
			t.Fatal(err)
		}
		gap := math.Abs(fixed - float)
		worst = max(worst, gap)
		t.Logf("step %5d: validation bits/byte fixed point %.4f, float64 %.4f, gap %.4f", done+chunk, fixed, float, gap)
	}
	if worst > 0.02 {
		t.Fatalf("largest fixed-vs-float64 gap %.4f bits per byte (goal <= 0.02)", worst)
	}
}
