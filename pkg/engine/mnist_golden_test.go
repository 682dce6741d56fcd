package engine_test

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/pkg/engine"
)

const mnistGoldenFile = "testdata/golden_mnist.txt"

// TestGoldenMNIST pins short transcripts of the default specs on the real
// MNIST training rows (softmax SGD, softmax Adam, MLP, LoRA on the MLP) under
// every kernel and thread count.
func TestGoldenMNIST(t *testing.T) {
	train := datasettest.MNIST(t, "train")
	src, err := train.Source(engine.DefaultFracBits)
	if err != nil {
		t.Fatal(err)
	}
	seed := sha256.Sum256([]byte("hinterland mnist golden"))
	run := func(t *testing.T, job engine.Job, steps uint64) (*engine.State, string) {
		st, err := engine.NewInitialState(job)
		if err != nil {
			t.Fatal(err)
		}
		h0 := st.Hash()
		st, mt, err := engine.RunSegment(job, st, src, steps)
		if err != nil {
			t.Fatal(err)
		}
		if mt.MACs != engine.MACsPerStep(job.Spec)*steps {
			t.Fatalf("MACs %d != %d", mt.MACs, engine.MACsPerStep(job.Spec)*steps)
		}
		return st, fmt.Sprintf("%s %s %d %d", h0, st.Hash(), mt.MACs, len(st.Encode()))
	}
	var lines []string
	var base *engine.Model
	for _, c := range []struct {
		name  string
		spec  engine.Spec
		steps uint64
	}{
		{"mnist/softmax-sgd", engine.DefaultSpecMNISTSoftmax(), 12},
		{"mnist/softmax-adam", engine.DefaultSpecMNISTSoftmaxAdam(), 12},
		{"mnist/mlp-784-128-10", engine.DefaultSpecMNISTMLP(), 8},
		{"mnist/lora-r4-mlp", engine.DefaultSpecMNISTLoRA(), 8},
	} {
		job := engine.Job{Spec: c.spec, Seed: seed, RowCount: train.Len()}
		if c.spec.IsLoRA() {
			job.Base = base
		}
		var first string
		var last *engine.State
		engine.KernelModes(t, func(t *testing.T) {
			st, got := run(t, job, c.steps)
			if first == "" {
				first, last = got, st
			} else if got != first {
				t.Fatalf("%s: simd=%v procs=%d gives %s, other mode %s", c.name, engine.SIMDOn(), runtime.GOMAXPROCS(0), got, first)
			}
		})
		if !c.spec.IsLoRA() && c.spec.Model == engine.ModelMLP {
			if base, err = last.Model(nil); err != nil {
				t.Fatal(err)
			}
		}
		lines = append(lines, c.name+" "+first)
	}
	if *engine.UpdateGolden {
		engine.WriteGolden(t, mnistGoldenFile, lines)
		return
	}
	golden := engine.ReadGolden(t, mnistGoldenFile)
	for _, l := range lines {
		name, rest, _ := strings.Cut(l, " ")
		if g := golden[name]; g != rest {
			t.Errorf("%s: got %s, golden %q", name, rest, g)
		}
	}
}
