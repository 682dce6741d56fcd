package federated_test

import (
	"slices"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/federated"
)

// blockLabels returns classes*per labels, class c at rows c, c+classes, ...
// (interleaved, so that the split has to sort).
func blockLabels(classes, per int) []uint32 {
	l := make([]uint32, classes*per)
	for i := range l {
		l[i] = uint32(i % classes)
	}
	return l
}

// shardLabels returns, per participant, the set of labels of its rows.
func shardLabels(t *testing.T, labels []uint32, order []uint64, participants uint32) []map[uint32]int {
	t.Helper()
	out := make([]map[uint32]int, participants)
	for p := range participants {
		lo, hi, err := federated.ShardRange(uint64(len(labels)), participants, p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = map[uint32]int{}
		for _, i := range order[lo:hi] {
			out[p][labels[i]]++
		}
	}
	return out
}

func isPermutation(order []uint64, n int) bool {
	s := slices.Clone(order)
	slices.Sort(s)
	for i, v := range s {
		if v != uint64(i) {
			return false
		}
	}
	return len(s) == n
}

func TestNonIIDClassesPerParticipant(t *testing.T) {
	cases := []struct {
		name                          string
		classes, per                  int
		participants, classesPer, max uint32
		exact                         bool
	}{
		// One label per piece: every participant holds exactly classesPer labels.
		{"20 labels, 10 participants x 2", 20, 300, 10, 2, 2, true},
		{"12 labels, 4 participants x 3", 12, 7, 4, 3, 3, true},
		// McMahan's MNIST shape: two pieces per label; a participant that
		// draws both pieces of one label holds one label.
		{"10 labels, 10 participants x 2", 10, 600, 10, 2, 2, false},
		{"10 labels, 5 participants x 2", 10, 100, 5, 2, 2, false},
	}
	for _, c := range cases {
		labels := blockLabels(c.classes, c.per)
		for _, seed := range []uint64{0, 1, 42, 1 << 63} {
			order, err := federated.NonIID(labels, c.participants, c.classesPer, seed)
			if err != nil {
				t.Fatal(err)
			}
			if !isPermutation(order, len(labels)) {
				t.Fatalf("%s seed %d: not a permutation", c.name, seed)
			}
			for p, got := range shardLabels(t, labels, order, c.participants) {
				if len(got) > int(c.max) || (c.exact && len(got) != int(c.classesPer)) {
					t.Errorf("%s seed %d: participant %d holds labels %v", c.name, seed, p, got)
				}
			}
		}
	}
}

// TestNonIIDUnevenSizes: with sizes that do not divide, participant p's rows
// are still exactly its ShardRange, the pieces differ by at most one row and
// each piece is a run of the label-sorted rows.
func TestNonIIDUnevenSizes(t *testing.T) {
	labels := make([]uint32, 1003)
	for i, v := range ints(len(labels), 9) {
		labels[i] = uint32(v) % 7
	}
	order, err := federated.NonIID(labels, 7, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !isPermutation(order, len(labels)) {
		t.Fatal("not a permutation")
	}
	sorted := slices.Clone(labels)
	slices.Sort(sorted)
	for p := range uint32(7) {
		lo, hi, _ := federated.ShardRange(1003, 7, p)
		for j := range uint32(3) {
			a, b, _ := federated.ShardRange(hi-lo, 3, j)
			piece := order[lo+a : lo+b]
			if n := len(piece); n != 1003/21 && n != 1003/21+1 {
				t.Errorf("participant %d piece %d has %d rows", p, j, n)
			}
			for k := 1; k < len(piece); k++ {
				// consecutive in label-sorted order: labels do not decrease
				// and equal labels keep row order
				x, y := piece[k-1], piece[k]
				if labels[x] > labels[y] || (labels[x] == labels[y] && x > y) {
					t.Fatalf("participant %d piece %d is not a run of the sorted rows", p, j)
				}
			}
		}
	}
}

func TestNonIIDDeterministic(t *testing.T) {
	labels := blockLabels(10, 50)
	a, _ := federated.NonIID(labels, 10, 2, 7)
	b, _ := federated.NonIID(labels, 10, 2, 7)
	c, _ := federated.NonIID(labels, 10, 2, 8)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different orders")
	}
	if slices.Equal(a, c) {
		t.Fatal("seeds 7 and 8 give the same order")
	}
}

func TestNonIIDRefuses(t *testing.T) {
	labels := blockLabels(2, 5)
	for _, c := range []struct{ participants, classesPer uint32 }{{0, 2}, {2, 0}, {4, 3}, {1 << 31, 1 << 31}} {
		if _, err := federated.NonIID(labels, c.participants, c.classesPer, 1); err == nil {
			t.Errorf("%d participants x %d over 10 rows accepted", c.participants, c.classesPer)
		}
	}
	if _, err := federated.NonIID(labels, 5, 2, 1); err != nil {
		t.Errorf("one row per piece: %v", err)
	}
}

func classFile(t *testing.T, labels []uint32) *dataset.File {
	t.Helper()
	s := dataset.Schema{Kind: dataset.KindClassification, Feature: dataset.FeatureUint8, Features: 2, Classes: 10}
	rows := make([][]byte, len(labels))
	for i, l := range labels {
		b, err := dataset.EncodeRow(s, dataset.Row{Features: []int32{int32(i % 256), int32(i / 256)}, Label: l})
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = b
	}
	f, err := dataset.NewFile(s, rows)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNonIIDFile(t *testing.T) {
	labels := blockLabels(10, 30)
	f := classFile(t, labels)
	g, err := federated.NonIIDFile(f, 5, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	order, _ := federated.NonIID(labels, 5, 2, 3)
	for k, i := range order {
		a, _ := g.RowBytes(uint64(k))
		b, _ := f.RowBytes(i)
		if !slices.Equal(a, b) {
			t.Fatalf("row %d of the split is not row %d of the dataset", k, i)
		}
	}
	if slices.Equal(g.Root(), f.Root()) {
		t.Fatal("reordered dataset has the original root")
	}

	for name, order := range map[string][]uint64{
		"short":        order[1:],
		"repeated":     append([]uint64{order[1]}, order[1:]...),
		"out of range": append([]uint64{300}, order[1:]...),
	} {
		if _, err := federated.Reorder(f, order); err == nil {
			t.Errorf("%s order accepted", name)
		}
	}
	pref := dataset.Schema{Kind: dataset.KindPreference, Feature: dataset.FeatureUint8, Features: 1}
	row, _ := dataset.EncodeRow(pref, dataset.Row{Features: []int32{1}, Rejected: []int32{2}})
	p, err := dataset.NewFile(pref, [][]byte{row, row})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := federated.NonIIDFile(p, 1, 1, 0); err == nil {
		t.Error("preference dataset accepted")
	}
}
