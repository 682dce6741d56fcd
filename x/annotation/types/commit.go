package types

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// LabelsSeal is what an annotator commits before anyone sees its labels:
// SHA-256("hinterland/labels/v1" ‖ job (8 bytes BE) ‖ group (4 bytes BE) ‖
// annotator address ‖ salt (32 bytes) ‖ labels). Bound to the annotator, so a
// copied seal cannot be opened by anyone else, and salted, so nobody can test
// guessed labels against it.
func LabelsSeal(jobID uint64, group uint32, annotator, salt, labels []byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/labels/v1"))
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], jobID)
	binary.BigEndian.PutUint32(b[8:], group)
	h.Write(b[:])
	writeLen(h, annotator)
	writeLen(h, salt)
	writeLen(h, labels)
	return h.Sum(nil)
}

// GoldCommitment is the requester's commitment to its hidden gold set:
// SHA-256("hinterland/gold/v1" ‖ salt (32 bytes) ‖ for each gold item in
// increasing item order: item (4 bytes BE) ‖ label (4 bytes BE)).
func GoldCommitment(salt []byte, gold []GoldItem) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/gold/v1"))
	writeLen(h, salt)
	var b [8]byte
	for _, g := range gold {
		binary.BigEndian.PutUint32(b[:4], g.Item)
		binary.BigEndian.PutUint32(b[4:], g.Label)
		h.Write(b[:])
	}
	return h.Sum(nil)
}

// ValidateGold checks a gold set against a job: items in range and strictly
// increasing, labels in the label space.
func ValidateGold(gold []GoldItem, items uint64, classes uint32) error {
	for i, g := range gold {
		if uint64(g.Item) >= items {
			return fmt.Errorf("gold[%d]: item %d of a %d-item job", i, g.Item, items)
		}
		if g.Label >= classes {
			return fmt.Errorf("gold[%d]: label %d outside 0..%d", i, g.Label, classes-1)
		}
		if i > 0 && g.Item <= gold[i-1].Item {
			return fmt.Errorf("gold[%d]: item %d not above the previous %d (sorted, each once)", i, g.Item, gold[i-1].Item)
		}
	}
	return nil
}

type hashWriter interface{ Write([]byte) (int, error) }

func writeLen(h hashWriter, b []byte) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(b)))
	h.Write(l[:])
	h.Write(b)
}

// JobSeed keys a job's item permutation and group draws:
// SHA-256("hinterland/annotation/v1" ‖ job id ‖ posting block hash).
func JobSeed(jobID uint64, blockHash []byte) []byte {
	h := sha256.New()
	h.Write([]byte("hinterland/annotation/v1"))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], jobID)
	h.Write(b[:])
	h.Write(blockHash)
	return h.Sum(nil)
}
