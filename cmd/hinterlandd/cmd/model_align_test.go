package cmd

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/align"
	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// alignFixture writes a tree of Go files (about half in the validation
// split of share 2) whose statements are nested calls, and a tiny model of
// context 16 that emits ')' and newlines, so its samples complete some
// prompts and break others.
func alignFixture(t *testing.T) (src, model string, m *engine.Model) {
	dir := t.TempDir()
	src = filepath.Join(dir, "src")
	for i := range 8 {
		var body strings.Builder
		fmt.Fprintf(&body, "package p\n\nfunc f%d() {\n", i)
		for j := range 6 {
			fmt.Fprintf(&body, "\tc%d%d(a(x(y)))\n\tg%d%d(h(1))\n", i, j, j, i)
		}
		body.WriteString("}\n")
		p := filepath.Join(src, fmt.Sprintf("d%d", i%2), fmt.Sprintf("f%d.go", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := engine.Spec{Model: engine.ModelTransformer, Inputs: 16, Hidden: []uint32{1, 8, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerSGD, LearningRate: 655, BatchSize: 2, FracBits: 16}
	st, err := engine.NewInitialState(engine.Job{Spec: spec, Seed: [32]byte{4}, RowCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = st.Model(nil)
	m.Layers[0].B[')'], m.Layers[0].B['\n'] = 8<<16, 8<<16
	model = filepath.Join(dir, "m.model")
	if err := os.WriteFile(model, m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	return src, model, m
}

func runModelCmd(args ...string) (string, error) {
	cmd := modelCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestModelPairsAndAlignEval drives `model pairs` (training and held-out
// files whose roots and rows match what it prints, reproducibly, by file and
// by hash) and `model align-eval` of the model against itself (KL 0, no
// held-out pair counted correct), and refuses bad flags.
func TestModelPairsAndAlignEval(t *testing.T) {
	src, model, m := alignFixture(t)
	dir := t.TempDir()
	out, held := filepath.Join(dir, "pairs.hlds"), filepath.Join(dir, "held.hlds")
	common := []string{"--src", src, "--val-share", "2", "--seed", "3"}
	pairs := func(ref string, extra ...string) (pairsInfo, error) {
		args := append([]string{"pairs", "--model", ref, "--out", out, "--heldout", held, "--heldout-share", "0.25",
			"--prompts", "40", "--samples", "6", "--top-k", "2", "-o", "json"}, common...)
		s, err := runModelCmd(append(args, extra...)...)
		var info pairsInfo
		if err == nil {
			err = json.Unmarshal([]byte(s), &info)
		}
		return info, err
	}
	info, err := pairs(model)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", info)
	st := info.Stats
	if info.Heldout == nil || st.Pairs < 4 || info.Train.Rows+info.Heldout.Rows != uint64(st.Pairs) ||
		info.Heldout.Rows != uint64(st.Pairs/4) || info.Context != 16 || info.Model != m.Hash().String() {
		t.Fatalf("printed %+v", info)
	}
	schema := align.PairSchema(16)
	for _, d := range []datasetInfo{info.Train, *info.Heldout} {
		f, err := dataset.Open(d.File)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(f.Root()) != d.Root || f.Len() != d.Rows || f.Schema() != schema {
			t.Fatalf("%s: root, rows or schema differ from what was printed", d.File)
		}
		for i := range f.Len() {
			r, _ := f.Row(i)
			p := r.Tokens[:r.PromptLen]
			if !align.Parses(p, r.Tokens[r.PromptLen:]) || align.Parses(p, r.RejectedTokens[r.PromptLen:]) {
				t.Fatalf("%s row %d: %q over %q", d.File, i, r.Tokens, r.RejectedTokens)
			}
		}
	}
	h := m.Hash()
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", h.String()+".model"), m.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := pairs(h.String(), "--work-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Train.Root != info.Train.Root || again.Heldout.Root != info.Heldout.Root {
		t.Fatal("a second run by hash wrote other rows")
	}
	if s, err := runModelCmd(append([]string{"pairs", "--model", model, "--out", out, "--prompts", "40", "--samples", "6", "--top-k", "2"}, common...)...); err != nil ||
		!strings.Contains(s, fmt.Sprintf("pairs:   %d", st.Pairs)) || !strings.Contains(s, fmt.Sprintf("train:   %d rows", st.Pairs)) || strings.Contains(s, "heldout") {
		t.Fatalf("text output without --heldout (%v):\n%s", err, s)
	}

	s, err := runModelCmd(append([]string{"align-eval", "--policy", model, "--ref", h.String(), "--work-dir", dir,
		"--pairs", held, "--prompts", "10", "-o", "json"}, common...)...)
	if err != nil {
		t.Fatal(err)
	}
	var ev alignEvalInfo
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", ev)
	if ev.KL != 0 || ev.KLTokens == 0 || ev.Prompts != 10 || ev.Pairs != int(info.Heldout.Rows) || ev.RewardCorrect != 0 || ev.Beta != 0.1 {
		t.Fatalf("align-eval of a model against itself: %s", s)
	}
	if s, err := runModelCmd(append([]string{"align-eval", "--policy", model, "--ref", model, "--pairs", held}, common...)...); err != nil ||
		!strings.Contains(s, "parse share:") || !strings.Contains(s, "reward accuracy: 0.0000") {
		t.Fatalf("text output (%v):\n%s", err, s)
	}

	for _, bad := range [][]string{
		{"pairs", "--model", model},                                 // no --out
		{"pairs", "--model", model, "--out", out, "--heldout", out}, // same file
		{"pairs", "--model", model, "--out", out, "--heldout", held, "--heldout-share", "1"},
		{"pairs", "--model", model, "--out", out, "--samples", "1"},
		{"pairs", "--model", model, "--out", out, "--val-share", "1"},
		{"align-eval", "--policy", model},                                   // no --ref
		{"align-eval", "--policy", model, "--ref", model, "--prompts", "0"}, // nothing to measure
		{"align-eval", "--policy", model, "--ref", model, "--pairs", filepath.Join(dir, "missing.hlds")},
	} {
		if _, err := runModelCmd(append(bad, "--src", src)...); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
