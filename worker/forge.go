package worker

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// ForgePlan makes a worker cheat, for tests and the demo only: the state at
// the end of every forged segment is corrupted (one weight bit flipped)
// before it is hashed, and training continues from the corrupted state. The
// transcript is then internally consistent everywhere except at the forged
// segments, which is what a realistic forger that skips or fakes part of the
// work produces, and what sampling and watchtowers must catch.
type ForgePlan struct {
	// Segments forged by index.
	Segments []uint32
	// Fraction of segments forged, chosen deterministically from the task
	// seed; 1 forges every segment.
	Fraction float64
}

// Active reports whether the plan forges anything.
func (p ForgePlan) Active() bool { return len(p.Segments) > 0 || p.Fraction > 0 }

// Validate checks the plan.
func (p ForgePlan) Validate() error {
	if p.Fraction < 0 || p.Fraction > 1 {
		return fmt.Errorf("forge fraction %v must be in [0, 1]", p.Fraction)
	}
	return nil
}

// Forges reports whether segment i of the task with this seed is forged.
func (p ForgePlan) Forges(seed []byte, i uint64) bool {
	if slices.Contains(p.Segments, uint32(i)) {
		return true
	}
	if p.Fraction <= 0 {
		return false
	}
	if p.Fraction >= 1 {
		return true
	}
	h := sha256.New()
	h.Write([]byte("hinterland/forge/v1"))
	h.Write(seed)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], i)
	h.Write(b[:])
	draw := binary.BigEndian.Uint64(h.Sum(nil))
	return float64(draw>>11)/float64(uint64(1)<<53) < p.Fraction
}

// corrupt flips the lowest bit of the first trained weight.
func corrupt(st *engine.State) {
	if st.LoRA != nil {
		st.LoRA.Adapters[0].A[0] ^= 1
		return
	}
	st.Layers[0].W[0] ^= 1
}
