package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
)

// runPackText runs `dataset pack-text` with args and returns its output.
func runPackText(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := datasetPackTextCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestDatasetPackText(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	for i := range 64 {
		p := filepath.Join(src, "pkg"+string(rune('a'+i%8)), "f"+string(rune('a'+i/8))+".go")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		body := "package pkg\n\n// File " + p + ".\nfunc F() int { return " + strings.Repeat("1+", i) + "0 }\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "notes.txt"), []byte("not Go\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	train, val := filepath.Join(dir, "train.hlds"), filepath.Join(dir, "val.hlds")
	out, err := runPackText(t, "--src", src, "--context", "32", "--val-share", "4",
		"--out-train", train, "--out-val", val, "--output", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var info packTextInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if info.Listed != 64 || info.Context != 32 || info.Val == nil || info.Train.Files+info.Val.Files != 64 || info.Val.Files == 0 {
		t.Fatalf("info %+v", info)
	}
	for _, sp := range []struct {
		path string
		info textSplitInfo
	}{{train, info.Train}, {val, *info.Val}} {
		f, err := dataset.Open(sp.path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Schema() != dataset.TextSchema(32) || f.Len() != sp.info.Rows || f.Len() != (sp.info.TextBytes-1)/32 ||
			sp.info.Schema != "kind=tokens,feature=uint8,features=33" {
			t.Fatalf("%s: %d rows, schema %+v; info %+v", sp.path, f.Len(), f.Schema(), sp.info)
		}
	}

	// Text output, the same roots again; --val-share 0 makes one split.
	out, err = runPackText(t, "--src", src, "--context", "32", "--val-share", "4", "--out-train", train, "--out-val", val)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"64 files ending in .go", "rows of 33 bytes", info.Train.Root, info.Val.Root,
		"train:", "val:", "kind=tokens"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runPackText(t, "--src", src, "--context", "32", "--val-share", "0", "--ext", ".go,.txt", "--out-train", train)
	if err != nil || !strings.Contains(out, "65 files ending in .go, .txt") || strings.Contains(out, "val:") {
		t.Fatalf("one split: %v\n%s", err, out)
	}

	for name, args := range map[string][]string{
		"no context":   {"--src", src, "--out-train", train, "--out-val", val},
		"no val file":  {"--src", src, "--context", "32", "--out-train", train},
		"val, share 0": {"--src", src, "--context", "32", "--val-share", "0", "--out-train", train, "--out-val", val},
		"same file":    {"--src", src, "--context", "32", "--out-train", train, "--out-val", train},
		"no files":     {"--src", src, "--context", "32", "--ext", ".rs", "--out-train", train, "--out-val", val},
		"huge context": {"--src", src, "--context", "100000", "--out-train", train, "--out-val", val},
		"tiny cap":     {"--src", src, "--context", "32", "--max-bytes", "10", "--out-train", train, "--out-val", val},
	} {
		if out, err := runPackText(t, args...); err == nil {
			t.Errorf("%s: accepted\n%s", name, out)
		}
	}
}
