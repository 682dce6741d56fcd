package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
)

// Randomness. Everything random in a task derives from Job.Seed:
//
//   - initial weights: a SplitMix64 stream (Steele, Lea, Flood 2014; the
//     constants of java.util.SplittableRandom) whose 64-bit state starts at the
//     first 8 bytes (little endian) of SHA-256("hinterland/init/v1" || seed);
//   - batch selection: rows are visited epoch by epoch, each epoch in the
//     order of a keyed pseudo-random permutation of [0, RowCount). Training
//     position p = step*BatchSize + j (a 128-bit integer) lies in epoch
//     e = p / RowCount at offset o = p mod RowCount, and the row is
//     perm_e(o). perm_e is a 4-round balanced Feistel network on 2h bits
//     (2^(2h) >= RowCount, h >= 1) with round keys k0..k3 = the four
//     little-endian uint64 words of SHA-256("hinterland/batch/v1" || seed ||
//     e as two uint64 LE, high word first), round function
//     mix64(R xor k_i) mod 2^h, and cycle walking (re-apply the network until
//     the value is < RowCount; the walk stays in the cycle of o, so it always
//     ends, after fewer than 4 rounds on average). Any step's rows cost
//     O(BatchSize) hash-free work plus one SHA-256 per epoch touched.

const (
	initTag  = "hinterland/init/v1"
	batchTag = "hinterland/batch/v1"
)

// splitMix64 is the SplitMix64 generator.
type splitMix64 struct{ s uint64 }

func (r *splitMix64) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// mix64 is SplitMix64's output function (a bijection on uint64).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniformBelow returns a value in [0, n) from one 64-bit draw (the high word
// of draw*n; its bias is below n/2^64).
func (r *splitMix64) uniformBelow(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

func newInitRNG(seed [32]byte) *splitMix64 {
	h := sha256.Sum256(append([]byte(initTag), seed[:]...))
	return &splitMix64{s: binary.LittleEndian.Uint64(h[:8])}
}

// epochPerm is the keyed permutation of one epoch.
type epochPerm struct {
	n    uint64
	h    uint
	mask uint64
	keys [4]uint64
}

func newEpochPerm(seed [32]byte, n, epochHi, epochLo uint64) epochPerm {
	var buf [len(batchTag) + 32 + 16]byte
	copy(buf[:], batchTag)
	copy(buf[len(batchTag):], seed[:])
	binary.LittleEndian.PutUint64(buf[len(batchTag)+32:], epochHi)
	binary.LittleEndian.PutUint64(buf[len(batchTag)+40:], epochLo)
	d := sha256.Sum256(buf[:])
	p := epochPerm{n: n}
	for i := range p.keys {
		p.keys[i] = binary.LittleEndian.Uint64(d[8*i:])
	}
	p.h = uint((bits.Len64(n-1) + 1) / 2)
	if p.h == 0 {
		p.h = 1
	}
	p.mask = 1<<p.h - 1 // h <= 32
	return p
}

func (p *epochPerm) feistel(v uint64) uint64 {
	l, r := v>>p.h, v&p.mask
	for _, k := range p.keys {
		l, r = r, l^(mix64(r^k)&p.mask)
	}
	return l<<p.h | r
}

func (p *epochPerm) at(o uint64) uint64 {
	v := p.feistel(o)
	for v >= p.n {
		v = p.feistel(v)
	}
	return v
}

// BatchIndices returns the row indices of the batch used at training step
// `step` (in batch order, possibly with repeats when a batch spans an epoch
// boundary and RowCount < BatchSize). It is a pure function of (Seed, step,
// RowCount, Spec.BatchSize) and costs O(BatchSize) whatever the step.
// It returns nil when RowCount or BatchSize is zero.
func BatchIndices(job Job, step uint64) []uint64 {
	n, b := job.RowCount, uint64(job.Spec.BatchSize)
	if n == 0 || b == 0 {
		return nil
	}
	out := make([]uint64, b)
	hi, lo := bits.Mul64(step, b) // position of the first row, 128-bit
	var perm epochPerm
	var have bool
	var curHi, curLo uint64
	for j := range out {
		// epoch = (hi:lo) / n, offset = (hi:lo) mod n, via two 64-bit divisions.
		eHi, r1 := hi/n, hi%n
		eLo, off := bits.Div64(r1, lo, n)
		if !have || eHi != curHi || eLo != curLo {
			perm, have, curHi, curLo = newEpochPerm(job.Seed, n, eHi, eLo), true, eHi, eLo
		}
		out[j] = perm.at(off)
		var c uint64
		lo, c = bits.Add64(lo, 1, 0)
		hi += c
	}
	return out
}

// SegmentIndices returns the sorted, de-duplicated row indices used by steps
// [startStep, startStep+steps): exactly the rows (with Merkle proofs) a
// reveal of that segment must carry.
func SegmentIndices(job Job, startStep, steps uint64) []uint64 {
	var all []uint64
	for s := uint64(0); s < steps; s++ {
		all = append(all, BatchIndices(job, startStep+s)...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}
