package main

import (
	"strings"
	"testing"
)

func TestFindsViolations(t *testing.T) {
	fs, err := lintDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.msg)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{`"math"`, `"time"`, "range over a map", "float32", "float64"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing finding %q in:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "math/bits") {
		t.Error("math/bits must be allowed")
	}
	if n := strings.Count(joined, "range over a map"); n != 1 {
		t.Errorf("%d map-range findings, want 1 (the slice range is fine)", n)
	}
}

func TestConsensusPackagesAreClean(t *testing.T) {
	for _, dir := range []string{"../../pkg/engine", "../../pkg/dataset", "../../pkg/recompute"} {
		fs, err := lintTree(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			t.Errorf("%s:%d: %s", f.pos.Filename, f.pos.Line, f.msg)
		}
	}
}

// With -keeper, time and math are allowed (block time, integer constants) but
// floats and map ranges are still found.
func TestKeeperMode(t *testing.T) {
	saved := forbiddenImports
	forbiddenImports = keeperForbiddenImports
	defer func() { forbiddenImports = saved }()
	fs, err := lintDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.msg)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"range over a map", "float64"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing finding %q in:\n%s", want, joined)
		}
	}
	for _, allowed := range []string{`"math"`, `"time"`} {
		if strings.Contains(joined, allowed) {
			t.Errorf("%s must be allowed in keepers:\n%s", allowed, joined)
		}
	}
	for _, dir := range []string{"../../x/tasks/keeper", "../../x/verification/keeper", "../../x/rewards/keeper", "../../x/annotation/keeper"} {
		fs, err := lintTree(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			t.Errorf("%s:%d: %s", f.pos.Filename, f.pos.Line, f.msg)
		}
	}
}
