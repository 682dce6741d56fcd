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
	ids := make(map[uint64]bool, len(gs.Verdicts))
	for i, v := range gs.Verdicts {
		if v.Id == 0 || v.Id >= gs.NextVerdictId || ids[v.Id] {
			return fmt.Errorf("verdicts[%d]: id %d is duplicate or not below next_verdict_id %d", i, v.Id, gs.NextVerdictId)
		}
		ids[v.Id] = true
	}
	return nil
}
