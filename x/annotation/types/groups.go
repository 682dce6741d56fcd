package types

import (
	"crypto/sha256"
	"encoding/binary"
)

// Groups split a job's items into groups of batch_size items through a
// keyed permutation of 0..N-1 (a 4-round Feistel network over the next power
// of two, walked until it lands below N): group g is the items at positions
// g*B .. g*B+B-1 of the permutation. No item is in two groups, so an
// annotator holding several batches never labels an item twice, and the
// permutation is computed per position in O(1), never materialised.

// Groups is the number of groups of a job.
func Groups(items uint64, batch uint32) uint32 {
	if batch == 0 {
		return 0
	}
	return uint32((items + uint64(batch) - 1) / uint64(batch))
}

// GroupItems lists the items of group g, in the order labels are given.
func GroupItems(seed []byte, items uint64, batch, g uint32) []uint32 {
	p := newPerm(seed, items)
	first := uint64(g) * uint64(batch)
	last := min(first+uint64(batch), items)
	out := make([]uint32, 0, last-first)
	for pos := first; pos < last; pos++ {
		out = append(out, uint32(p.at(pos)))
	}
	return out
}

type perm struct {
	n, half uint
	bits    uint
	keys    [4]uint64
}

func newPerm(seed []byte, n uint64) perm {
	bits := uint(1)
	for uint64(1)<<bits < n {
		bits++
	}
	if bits%2 == 1 {
		bits++
	}
	p := perm{n: uint(n), bits: bits, half: bits / 2}
	for r := range p.keys {
		h := sha256.Sum256(append(append([]byte("hinterland/groups/v1"), seed...), byte(r)))
		p.keys[r] = binary.BigEndian.Uint64(h[:8])
	}
	return p
}

func (p perm) round(x uint64, k uint64) uint64 {
	z := x ^ k
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (p perm) feistel(v uint64) uint64 {
	mask := uint64(1)<<p.half - 1
	l, r := v>>p.half, v&mask
	for _, k := range p.keys {
		l, r = r, l^(p.round(r, k)&mask)
	}
	return l<<p.half | r
}

// at maps position o to an item, cycle-walking until below n.
func (p perm) at(o uint64) uint64 {
	v := p.feistel(o)
	for v >= uint64(p.n) {
		v = p.feistel(v)
	}
	return v
}
