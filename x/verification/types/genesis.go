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
// challenges and verdicts.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	if gs.NextVerdictId == 0 {
		return fmt.Errorf("next_verdict_id must be at least 1")
	}
	type tkey struct {
		task   uint64
		worker string
	}
	transcripts := make(map[tkey]Transcript, len(gs.Transcripts))
	for i, t := range gs.Transcripts {
		k := tkey{t.TaskId, t.Worker}
		if _, dup := transcripts[k]; dup {
			return fmt.Errorf("transcripts[%d]: duplicate transcript of task %d by %s", i, t.TaskId, t.Worker)
		}
		transcripts[k] = t
		if _, err := sdk.AccAddressFromBech32(t.Worker); err != nil {
			return fmt.Errorf("transcripts[%d].worker: %w", i, err)
		}
		if len(t.Checkpoints) < 2 {
			return fmt.Errorf("transcripts[%d]: needs at least 2 checkpoints", i)
		}
		for j, h := range t.Checkpoints {
			if len(h) != HashLen {
				return fmt.Errorf("transcripts[%d].checkpoints[%d] must be %d bytes", i, j, HashLen)
			}
		}
		if t.Status == TRANSCRIPT_STATUS_UNSPECIFIED {
			return fmt.Errorf("transcripts[%d].status is unspecified", i)
		}
	}
	type ckey struct {
		tkey
		segment uint32
	}
	challenges := make(map[ckey]bool, len(gs.Challenges))
	for i, c := range gs.Challenges {
		k := ckey{tkey{c.TaskId, c.Worker}, c.Segment}
		if challenges[k] {
			return fmt.Errorf("challenges[%d]: duplicate challenge of segment %d", i, c.Segment)
		}
		challenges[k] = true
		t, ok := transcripts[k.tkey]
		if !ok {
			return fmt.Errorf("challenges[%d]: no transcript of task %d by %s", i, c.TaskId, c.Worker)
		}
		if uint64(c.Segment)+1 >= uint64(len(t.Checkpoints)) {
			return fmt.Errorf("challenges[%d]: segment %d out of range", i, c.Segment)
		}
		if c.Kind == CHALLENGE_KIND_FRAUD {
			if _, err := sdk.AccAddressFromBech32(c.Challenger); err != nil {
				return fmt.Errorf("challenges[%d].challenger: %w", i, err)
			}
		}
	}
	// Queue entries must point at a transcript. Entries of transcripts that
	// have moved on are allowed (the blockers skip them, as on the live chain),
	// but a committed transcript needs its draw and a pending challenge its
	// reveal deadline, or the worker's claim would never be decided.
	drawn := make(map[tkey]bool, len(gs.DrawQueue))
	for i, e := range gs.DrawQueue {
		if _, ok := transcripts[tkey{e.TaskId, e.Worker}]; !ok {
			return fmt.Errorf("draw_queue[%d]: no transcript of task %d by %q", i, e.TaskId, e.Worker)
		}
		if e.Height < 0 {
			return fmt.Errorf("draw_queue[%d]: negative height %d", i, e.Height)
		}
		drawn[tkey{e.TaskId, e.Worker}] = true
	}
	type dkey struct {
		tkey
		deadline int64
	}
	revealDue := make(map[dkey]bool, len(gs.RevealQueue))
	for _, q := range []struct {
		name    string
		entries []DeadlineEntry
	}{{"reveal_queue", gs.RevealQueue}, {"fraud_queue", gs.FraudQueue}} {
		name := q.name
		for i, e := range q.entries {
			if _, ok := transcripts[tkey{e.TaskId, e.Worker}]; !ok {
				return fmt.Errorf("%s[%d]: no transcript of task %d by %q", name, i, e.TaskId, e.Worker)
			}
			if name == "reveal_queue" {
				revealDue[dkey{tkey{e.TaskId, e.Worker}, e.Deadline.UnixNano()}] = true
			}
		}
	}
	for i, t := range gs.Transcripts {
		if t.Status == TRANSCRIPT_STATUS_COMMITTED && !drawn[tkey{t.TaskId, t.Worker}] {
			return fmt.Errorf("transcripts[%d]: committed transcript of task %d by %s has no draw_queue entry", i, t.TaskId, t.Worker)
		}
	}
	for i, c := range gs.Challenges {
		if c.Status == CHALLENGE_STATUS_PENDING && !revealDue[dkey{tkey{c.TaskId, c.Worker}, c.Deadline.UnixNano()}] {
			return fmt.Errorf("challenges[%d]: pending challenge of segment %d has no reveal_queue entry at its deadline %s", i, c.Segment, c.Deadline)
		}
	}
	ids := make(map[uint64]bool, len(gs.Verdicts))
	for i, v := range gs.Verdicts {
		if v.Id == 0 || v.Id >= gs.NextVerdictId || ids[v.Id] {
			return fmt.Errorf("verdicts[%d]: id %d is duplicate or not below next_verdict_id %d", i, v.Id, gs.NextVerdictId)
		}
		ids[v.Id] = true
	}
	return nil
}
