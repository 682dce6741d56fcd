package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis returns the default genesis state.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextVerdictId: 1}
}

// Validate checks params, duplicates and references between transcripts,
// challenges, deadline queues and verdicts.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	if gs.NextVerdictId == 0 {
		return fmt.Errorf("next_verdict_id must be at least 1")
	}
	transcripts, err := gs.validateTranscripts()
	if err != nil {
		return err
	}
	if err := gs.validateChallenges(transcripts); err != nil {
		return err
	}
	if err := gs.validateQueues(transcripts); err != nil {
		return err
	}
	if err := gs.validateChallengeSeals(transcripts); err != nil {
		return err
	}
	return gs.validateVerdicts()
}

// claimKey identifies a transcript: task and worker address bytes (so two
// spellings of one address are the same worker).
type claimKey struct {
	task   uint64
	worker string
}

func newClaimKey(task uint64, worker string) (claimKey, error) {
	addr, err := sdk.AccAddressFromBech32(worker)
	if err != nil {
		return claimKey{}, err
	}
	return claimKey{task, string(addr)}, nil
}

// Validate checks one transcript on its own. A transcript that was never
// opened (sealed, or failed before its open) has a seal and no checkpoints;
// an opened one has at least h_0 and h_N (an engine-failure transcript at
// least h_0).
func (t Transcript) Validate() error {
	if t.Status == TRANSCRIPT_STATUS_UNSPECIFIED {
		return fmt.Errorf("status is unspecified")
	}
	if n := len(t.Seal); n != HashLen && (n != 0 || t.Status == TRANSCRIPT_STATUS_SEALED) {
		return fmt.Errorf("seal must be %d bytes", HashLen)
	}
	switch {
	case t.Status == TRANSCRIPT_STATUS_SEALED:
		if len(t.Checkpoints) != 0 {
			return fmt.Errorf("a sealed transcript has no checkpoints until it opens")
		}
		return nil
	case t.Status == TRANSCRIPT_STATUS_FAILED && len(t.Checkpoints) == 0:
		// Failed before it opened.
		if len(t.Seal) != HashLen {
			return fmt.Errorf("a transcript that was never opened must have its %d-byte seal", HashLen)
		}
		return nil
	case t.EngineFailure && len(t.Checkpoints) < 1:
		return fmt.Errorf("an engine-failure transcript needs at least 1 checkpoint")
	case !t.EngineFailure && len(t.Checkpoints) < 2:
		return fmt.Errorf("needs at least 2 checkpoints")
	}
	for j, h := range t.Checkpoints {
		if len(h) != HashLen {
			return fmt.Errorf("checkpoints[%d] must be %d bytes", j, HashLen)
		}
	}
	return nil
}

// Validate checks one challenge against its transcript. The segment ends at a
// checkpoint of the transcript, except the failing segment of an
// engine-failure transcript h_0..h_s (segment s).
func (c Challenge) Validate(t Transcript) error {
	n := uint64(len(t.Checkpoints))
	if seg := uint64(c.Segment); seg+1 > n || (seg+1 == n && !t.EngineFailure) {
		return fmt.Errorf("segment %d out of range", c.Segment)
	}
	if c.Kind == CHALLENGE_KIND_FRAUD {
		if _, err := sdk.AccAddressFromBech32(c.Challenger); err != nil {
			return fmt.Errorf("challenger: %w", err)
		}
	}
	return nil
}

func (gs GenesisState) validateTranscripts() (map[claimKey]Transcript, error) {
	transcripts := make(map[claimKey]Transcript, len(gs.Transcripts))
	for i, t := range gs.Transcripts {
		k, err := newClaimKey(t.TaskId, t.Worker)
		if err != nil {
			return nil, fmt.Errorf("transcripts[%d].worker: %w", i, err)
		}
		if _, dup := transcripts[k]; dup {
			return nil, fmt.Errorf("transcripts[%d]: duplicate transcript of task %d by %s", i, t.TaskId, t.Worker)
		}
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("transcripts[%d]: %w", i, err)
		}
		transcripts[k] = t
	}
	return transcripts, nil
}

func (gs GenesisState) validateChallenges(transcripts map[claimKey]Transcript) error {
	type ckey struct {
		claimKey
		segment uint32
	}
	seen := make(map[ckey]bool, len(gs.Challenges))
	for i, c := range gs.Challenges {
		tk, err := newClaimKey(c.TaskId, c.Worker)
		if err != nil {
			return fmt.Errorf("challenges[%d].worker: %w", i, err)
		}
		k := ckey{tk, c.Segment}
		if seen[k] {
			return fmt.Errorf("challenges[%d]: duplicate challenge of segment %d", i, c.Segment)
		}
		seen[k] = true
		t, ok := transcripts[tk]
		if !ok {
			return fmt.Errorf("challenges[%d]: no transcript of task %d by %s", i, c.TaskId, c.Worker)
		}
		if err := c.Validate(t); err != nil {
			return fmt.Errorf("challenges[%d]: %w", i, err)
		}
	}
	return nil
}

// validateQueues: queue entries must point at a transcript. Entries of
// transcripts that have moved on are allowed (the blockers skip them, as on
// the live chain), but a sealed transcript whose task's claims closed needs
// its open deadline, an opened (committed) one its draw or, while its
// requester's secret is due, its open deadline (from which it is drawn from
// the chain), and a pending challenge its reveal deadline, or the worker's
// claim would never be decided.
func (gs GenesisState) validateQueues(transcripts map[claimKey]Transcript) error {
	entryKey := func(name string, i int, task uint64, worker string) (claimKey, error) {
		k, err := newClaimKey(task, worker)
		if err != nil {
			return k, fmt.Errorf("%s[%d].worker: %w", name, i, err)
		}
		if _, ok := transcripts[k]; !ok {
			return k, fmt.Errorf("%s[%d]: no transcript of task %d by %q", name, i, task, worker)
		}
		return k, nil
	}
	drawn := make(map[claimKey]bool, len(gs.DrawQueue))
	for i, e := range gs.DrawQueue {
		k, err := entryKey("draw_queue", i, e.TaskId, e.Worker)
		if err != nil {
			return err
		}
		if e.Height < 0 {
			return fmt.Errorf("draw_queue[%d]: negative height %d", i, e.Height)
		}
		drawn[k] = true
	}
	type dkey struct {
		claimKey
		deadline int64
	}
	revealDue := make(map[dkey]bool, len(gs.RevealQueue))
	for i, e := range gs.RevealQueue {
		k, err := entryKey("reveal_queue", i, e.TaskId, e.Worker)
		if err != nil {
			return err
		}
		revealDue[dkey{k, e.Deadline.UnixNano()}] = true
	}
	for i, e := range gs.FraudQueue {
		if _, err := entryKey("fraud_queue", i, e.TaskId, e.Worker); err != nil {
			return err
		}
	}
	for i, t := range gs.Transcripts {
		k, _ := newClaimKey(t.TaskId, t.Worker) // checked by validateTranscripts
		openDue := !t.OpenDeadline.IsZero() && revealDue[dkey{k, t.OpenDeadline.UnixNano()}]
		if t.Status == TRANSCRIPT_STATUS_COMMITTED && !drawn[k] && !openDue {
			return fmt.Errorf("transcripts[%d]: committed transcript of task %d by %s has no draw_queue entry nor reveal_queue entry at its open deadline %s",
				i, t.TaskId, t.Worker, t.OpenDeadline)
		}
		if t.Status == TRANSCRIPT_STATUS_SEALED && !t.OpenDeadline.IsZero() && !openDue {
			return fmt.Errorf("transcripts[%d]: sealed transcript of task %d by %s has no reveal_queue entry at its open deadline %s",
				i, t.TaskId, t.Worker, t.OpenDeadline)
		}
	}
	for i, c := range gs.Challenges {
		k, _ := newClaimKey(c.TaskId, c.Worker) // checked by validateChallenges
		if c.Status == CHALLENGE_STATUS_PENDING && !revealDue[dkey{k, c.Deadline.UnixNano()}] {
			return fmt.Errorf("challenges[%d]: pending challenge of segment %d has no reveal_queue entry at its deadline %s", i, c.Segment, c.Deadline)
		}
	}
	return nil
}

// validateChallengeSeals: each sealed fraud challenge names a transcript, a
// challenger, a commitment and a positive bond, once per (task, worker,
// commitment), and holds its bond in a seal slot of its own below the
// transcript's seal count (the slot the next seal takes).
func (gs GenesisState) validateChallengeSeals(transcripts map[claimKey]Transcript) error {
	type skey struct {
		claimKey
		commitment string
	}
	type slotKey struct {
		claimKey
		slot uint32
	}
	seen := make(map[skey]bool, len(gs.ChallengeSeals))
	slots := make(map[slotKey]bool, len(gs.ChallengeSeals))
	for i, s := range gs.ChallengeSeals {
		tk, err := newClaimKey(s.TaskId, s.Worker)
		if err != nil {
			return fmt.Errorf("challenge_seals[%d].worker: %w", i, err)
		}
		if _, err := sdk.AccAddressFromBech32(s.Challenger); err != nil {
			return fmt.Errorf("challenge_seals[%d].challenger: %w", i, err)
		}
		if len(s.Commitment) != HashLen {
			return fmt.Errorf("challenge_seals[%d]: commitment must be %d bytes", i, HashLen)
		}
		if err := s.Bond.Validate(); err != nil || !s.Bond.IsPositive() {
			return fmt.Errorf("challenge_seals[%d]: bond %s must be a positive coin", i, s.Bond)
		}
		if s.Height < 0 {
			return fmt.Errorf("challenge_seals[%d]: negative height %d", i, s.Height)
		}
		k := skey{tk, string(s.Commitment)}
		if seen[k] {
			return fmt.Errorf("challenge_seals[%d]: duplicate seal of task %d by %s", i, s.TaskId, s.Worker)
		}
		seen[k] = true
		t, ok := transcripts[tk]
		if !ok {
			return fmt.Errorf("challenge_seals[%d]: no transcript of task %d by %s", i, s.TaskId, s.Worker)
		}
		if s.Slot < SealSlot || s.Slot-SealSlot >= t.ChallengeSeals {
			return fmt.Errorf("challenge_seals[%d]: slot %d must be in [2^31, 2^31 + the transcript's challenge_seals %d)", i, s.Slot, t.ChallengeSeals)
		}
		sk := slotKey{tk, s.Slot}
		if slots[sk] {
			return fmt.Errorf("challenge_seals[%d]: slot %d is another seal's", i, s.Slot)
		}
		slots[sk] = true
	}
	return nil
}

func (gs GenesisState) validateVerdicts() error {
	ids := make(map[uint64]bool, len(gs.Verdicts))
	for i, v := range gs.Verdicts {
		if v.Id == 0 || v.Id >= gs.NextVerdictId || ids[v.Id] {
			return fmt.Errorf("verdicts[%d]: id %d is duplicate or not below next_verdict_id %d", i, v.Id, gs.NextVerdictId)
		}
		ids[v.Id] = true
	}
	return nil
}
