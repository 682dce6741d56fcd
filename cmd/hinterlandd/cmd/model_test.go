package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// TestModelGenerate drives `model generate` on a model file and by hash from
// the work dir: the same seed prints the same text both ways; bad references
// are refused.
func TestModelGenerate(t *testing.T) {
	spec := engine.Spec{Model: engine.ModelTransformer, Inputs: 8, Hidden: []uint32{1, 8, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerSGD, LearningRate: 655, BatchSize: 2, FracBits: 16}
	st, err := engine.NewInitialState(engine.Job{Spec: spec, Seed: [32]byte{4}, RowCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := st.Model(nil)
	dir := t.TempDir()
	file := filepath.Join(dir, "m.model")
	if err := os.WriteFile(file, m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	h := m.Hash()
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", h.String()+".model"), m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := modelCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"generate"}, args...))
		err := cmd.Execute()
		return out.String(), err
	}
	a, err := run("--model", file, "--prompt", "abc", "--max-tokens", "10", "--top-k", "20", "--seed", "7")
	if err != nil {
		t.Fatal(err)
	}
	b, err := run("--model", h.String(), "--work-dir", dir, "--prompt", "abc", "--max-tokens", "10", "--top-k", "20", "--seed", "7")
	if err != nil {
		t.Fatal(err)
	}
	if a != b || !strings.HasPrefix(a, "abc") || len(a) != 3+10+1 {
		t.Fatalf("file and hash runs differ or wrong length: %q vs %q", a, b)
	}
	if _, err := run("--model", "nothex", "--prompt", "x"); err == nil {
		t.Fatal("bad model reference accepted")
	}
	if _, err := run("--model", file, "--prompt", "x", "--max-tokens", "0"); err == nil {
		t.Fatal("zero max tokens accepted")
	}
}
