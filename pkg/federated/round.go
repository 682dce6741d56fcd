package federated

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// ParticipantSeed is the seed of a participant's local training in a round:
//
//	SHA-256("hinterland/federated/seed/v1" || job seed || round (4 bytes BE) || participant address)
//
// so batch order differs between participants and rounds, and nobody chooses
// it (the job seed is fixed when the job is posted).
func ParticipantSeed(jobSeed []byte, round uint32, participant []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("hinterland/federated/seed/v1"))
	h.Write(jobSeed)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], round)
	h.Write(b[:])
	h.Write(participant)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// ShardRange is the index range [lo, hi) of public shard s of a dataset of
// rows rows split into shards contiguous shards (the first rows%shards
// shards have one row more).
func ShardRange(rows uint64, shards, s uint32) (lo, hi uint64, err error) {
	if shards == 0 || s >= shards || uint64(shards) > rows {
		return 0, 0, fmt.Errorf("shard %d of %d over %d rows", s, shards, rows)
	}
	n, r := rows/uint64(shards), rows%uint64(shards)
	lo = uint64(s)*n + min(uint64(s), r)
	hi = lo + n
	if uint64(s) < r {
		hi++
	}
	return lo, hi, nil
}

// StartStateHash is the hash of a round's start state: the global model
// (its model hash) with a fresh optimiser state at step 0. An update's h_0
// must equal it.
func StartStateHash(spec engine.Spec, globalModel engine.Hash) (engine.Hash, error) {
	opt, err := engine.InitialOptHash(spec)
	if err != nil {
		return engine.Hash{}, err
	}
	return engine.StateHashFrom(globalModel, opt, 0), nil
}

// ShardRows serves rows [Offset, Offset+n) of a dataset as rows [0, n): the
// engine trains a shard as a dataset of its own, while proofs name the
// dataset's own indices.
type ShardRows struct {
	Src    engine.RowSource
	Offset uint64
}

// Row returns row Offset+i of the dataset.
func (s ShardRows) Row(i uint64) (engine.Example, error) { return s.Src.Row(s.Offset + i) }
