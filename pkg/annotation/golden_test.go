package annotation_test

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from this run")

const goldenFile = "testdata/golden.txt"

// mnistTruth returns the true labels of the 10,000 MNIST test digits.
func mnistTruth(t testing.TB) []uint32 {
	f := datasettest.MNIST(t, "t10k")
	truth := make([]uint32, f.Len())
	for i := range truth {
		r, err := f.Row(uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		truth[i] = r.Label
	}
	return truth
}

// goldenMix is the crowd of the golden test and the docs' copier row: 50
// annotators, 30% of them spammers or flippers, 10% copiers.
var goldenMix = crowd.Mix{Good: 18, Noisy: 12, RandomSpammers: 5, ConstantSpammers: 5, Flippers: 5, Copiers: 5}

// TestGolden pins the aggregate labels (SHA-256 of the label bytes), the
// whole final state and the units used, for a fixed crowd over the real
// MNIST test labels (r = 5, 2% gold, 20 EM rounds; dropped annotators' labels
// left out, and kept) and two synthetic jobs
// (a K = 2 preference job and K = 37), each run at once and in chunks with
// the state encoded and decoded in between. scripts/test-cross-arch.sh runs
// it on arm64, ppc64le, s390x, riscv64 and amd64 v1/v3.
func TestGolden(t *testing.T) {
	mnist := newJob(t, 2026, mnistTruth(t), 10, goldenMix, 5, 50, 200)
	keep := annotation.DefaultParams()
	keep.KeepDroppedLabels = true
	cases := []struct {
		name string
		j    job
		p    annotation.Params
	}{
		{"mnist-t10k/k10-r5", mnist, annotation.DefaultParams()},
		{"mnist-t10k/k10-r5-keep", mnist, keep},
		{"synthetic/k2-r5", newJob(t, 7, crowd.Truth(7, 3000, 2), 2, crowd.Mix{Good: 10, Noisy: 5, RandomSpammers: 3, ConstantSpammers: 2, Copiers: 2}, 5, 30, 300), annotation.DefaultParams()},
		{"synthetic/k37-r3", newJob(t, 37, crowd.Truth(37, 2000, 37), 37, crowd.Mix{Good: 12, Noisy: 6, RandomSpammers: 2, Flippers: 2}, 3, 20, 500), annotation.DefaultParams()},
	}
	var lines []string
	for _, c := range cases {
		p := c.p
		g := c.j.run(t, p)
		final := g.Encode()
		// Chunks: a prime budget, through the codec every time.
		h, err := annotation.NewAggregation(c.j.n, c.j.k, c.j.a, c.j.labels, c.j.gold, p)
		if err != nil {
			t.Fatal(err)
		}
		for done := false; !done; {
			done, _ = h.Step(400009)
			if h, err = annotation.DecodeAggregation(h.Encode()); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(h.Encode(), final) {
			t.Fatalf("%s: chunked run differs from the one-shot run", c.name)
		}
		r, _ := g.Result()
		correct := 0
		for i, l := range r.Labels {
			if uint32(l) == c.j.truth[i] {
				correct++
			}
		}
		lines = append(lines, fmt.Sprintf("%s labels=%x state=%x units=%d correct=%d/%d", c.name,
			sha256.Sum256(r.Labels), sha256.Sum256(final), g.Used(), correct, c.j.n))
	}
	body := "# name labels=SHA-256(label bytes) state=SHA-256(final encoding) units correct/items\n" +
		"# regenerate with: go test ./pkg/annotation -run TestGolden -update\n" + strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(goldenFile, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if string(want) != body {
		t.Fatalf("golden aggregation changed:\ngot\n%s\nwant\n%s", body, want)
	}
}
