package recompute

import (
	"crypto/sha256"
	"encoding/binary"
)

// ChallengeSeed is SHA-256(block hash ‖ task id (8 bytes BE) ‖ worker address
// ‖ transcript hash): the block is the first one after the commit, so the
// worker fixed its checkpoints before the seed existed.
func ChallengeSeed(blockHash []byte, taskID uint64, worker []byte, transcriptHash []byte) []byte {
	h := sha256.New()
	h.Write(blockHash)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], taskID)
	h.Write(b[:])
	h.Write(worker)
	h.Write(transcriptHash)
	return h.Sum(nil)
}

// DrawSegments picks k distinct segment indices out of n (k <= n) from seed,
// by a partial Fisher-Yates shuffle driven by SHA-256 in counter mode
// (SHA-256(seed ‖ counter (8 bytes BE)), 4 draws of 64 bits per hash; each
// draw is reduced with rejection sampling so every index is equally likely).
// The result is in draw order.
func DrawSegments(seed []byte, n uint64, k uint32) []uint32 {
	if uint64(k) > n {
		k = uint32(n)
	}
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	var (
		counter uint64
		block   [32]byte
		used    = 4
	)
	next := func() uint64 {
		if used == 4 {
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], counter)
			counter++
			block = sha256.Sum256(append(append([]byte(nil), seed...), c[:]...))
			used = 0
		}
		v := binary.BigEndian.Uint64(block[used*8:])
		used++
		return v
	}
	below := func(m uint64) uint64 {
		limit := ^uint64(0) - (^uint64(0) % m) // largest multiple of m, exclusive
		for {
			if v := next(); v < limit {
				return v % m
			}
		}
	}
	for i := uint64(0); i < uint64(k); i++ {
		j := i + below(n-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[:k]
}

// TranscriptHash is SHA-256("hinterland/transcript/v1" ‖ h_0 ‖ … ‖ h_N).
func TranscriptHash(checkpoints [][]byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/transcript/v1"))
	for _, c := range checkpoints {
		h.Write(c)
	}
	return h.Sum(nil)
}
