package engine

import (
	"slices"
	"testing"
)

func TestSplitMix64KnownValues(t *testing.T) {
	// Reference outputs of SplitMix64 seeded with 0 (as in the reference C
	// implementation by Vigna).
	r := splitMix64{}
	for _, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := r.next(); got != want {
			t.Fatalf("splitmix64 = %#x, want %#x", got, want)
		}
	}
}

func TestBatchIndicesArePerEpochPermutations(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 64, 100, 1000} {
		job := Job{Spec: Spec{BatchSize: 10}, Seed: [32]byte{1, 2, 3}, RowCount: n}
		var seq []uint64
		for s := uint64(0); uint64(len(seq)) < 3*n; s++ {
			seq = append(seq, BatchIndices(job, s)...)
		}
		for e := uint64(0); e < 3; e++ {
			ep := slices.Clone(seq[e*n : (e+1)*n])
			slices.Sort(ep)
			for i, v := range ep {
				if v != uint64(i) {
					t.Fatalf("n=%d epoch %d is not a permutation: %v", n, e, ep)
				}
			}
		}
		if n >= 64 && slices.Equal(seq[:n], seq[n:2*n]) {
			t.Fatalf("n=%d: two epochs in the same order", n)
		}
	}
}

func TestBatchIndicesPureAndCheap(t *testing.T) {
	job := Job{Spec: Spec{BatchSize: 32}, Seed: [32]byte{9}, RowCount: 60000}
	a := BatchIndices(job, 123456789012)
	b := BatchIndices(job, 123456789012)
	if !slices.Equal(a, b) || len(a) != 32 {
		t.Fatal("BatchIndices is not a pure function")
	}
	for _, v := range a {
		if v >= job.RowCount {
			t.Fatalf("index %d out of range", v)
		}
	}
	// Huge steps (128-bit positions) work too.
	if len(BatchIndices(job, ^uint64(0))) != 32 {
		t.Fatal("max step")
	}
	job2 := job
	job2.Seed[0]++
	if slices.Equal(BatchIndices(job2, 5), BatchIndices(job, 5)) {
		t.Fatal("seed does not change the batch")
	}
	if BatchIndices(Job{Spec: Spec{BatchSize: 4}}, 0) != nil {
		t.Fatal("zero rows must give nil")
	}
}

func TestSegmentIndices(t *testing.T) {
	job := Job{Spec: Spec{BatchSize: 8}, Seed: [32]byte{4}, RowCount: 50}
	got := SegmentIndices(job, 3, 4)
	var want []uint64
	for s := uint64(3); s < 7; s++ {
		want = append(want, BatchIndices(job, s)...)
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if !slices.Equal(got, want) {
		t.Fatalf("SegmentIndices = %v, want %v", got, want)
	}
	if !slices.IsSorted(got) {
		t.Fatal("not sorted")
	}
}
