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

// Validate checks one transcript on its own.
func (t Transcript) Validate() error {
	if len(t.Checkpoints) < 2 {
		return fmt.Errorf("needs at least 2 checkpoints")
	}
	for j, h := range t.Checkpoints {
		if len(h) != HashLen {
			return fmt.Errorf("checkpoints[%d] must be %d bytes", j, HashLen)
		}
	}
	if t.Status == TRANSCRIPT_STATUS_UNSPECIFIED {
		return fmt.Errorf("status is unspecified")
	}
	return nil
}

// Validate checks one challenge against its transcript.
func (c Challenge) Validate(t Transcript) error {
	if uint64(c.Segment)+1 >= uint64(len(t.Checkpoints)) {
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
// the live chain), but a committed transcript needs its draw and a pending
// challenge its reveal deadline, or the worker's claim would never be decided.
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
		if t.Status == TRANSCRIPT_STATUS_COMMITTED && !drawn[k] {
			return fmt.Errorf("transcripts[%d]: committed transcript of task %d by %s has no draw_queue entry", i, t.TaskId, t.Worker)
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
