package types

import (
	"crypto/sha256"
	"encoding/binary"
)

// UpdateSeal is what a participant commits before anyone sees its update:
//
//	SHA-256("hinterland/federated/seal/v1" || job (8 bytes BE) || round (4 bytes BE) ||
//	        participant address || salt || transcript hash || final model hash || final opt hash)
//
// Bound to the participant, so a copied seal opens for nobody else.
func UpdateSeal(jobID uint64, round uint32, participant, salt, transcriptHash, finalModel, finalOpt []byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/federated/seal/v1"))
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], jobID)
	binary.BigEndian.PutUint32(b[8:], round)
	h.Write(b[:])
	for _, p := range [][]byte{participant, salt, transcriptHash, finalModel, finalOpt} {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(p)))
		h.Write(l[:])
		h.Write(p)
	}
	return h.Sum(nil)
}

// DrawSeed is the seed of a round's draws (segments of an update, chunks of
// an aggregate): SHA-256(tag || block hash || job || round || subject), the
// block being the one that includes the last commitment drawn on, which its
// sender cannot know when it signs.
func DrawSeed(tag string, blockHash []byte, jobID uint64, round uint32, subject ...[]byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/federated/draw/" + tag))
	h.Write(blockHash)
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], jobID)
	binary.BigEndian.PutUint32(b[8:], round)
	h.Write(b[:])
	for _, s := range subject {
		h.Write(s)
	}
	return h.Sum(nil)
}
