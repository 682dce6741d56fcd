package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis returns the default genesis state.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextTaskId: 1}
}

// Validate checks params, ids, duplicates and cross references.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	if gs.NextTaskId == 0 {
		return fmt.Errorf("next_task_id must be at least 1")
	}
	tasks := make(map[uint64]Task, len(gs.Tasks))
	for i, t := range gs.Tasks {
		if t.Id == 0 || t.Id >= gs.NextTaskId {
			return fmt.Errorf("tasks[%d]: id %d must be in 1..next_task_id-1 (%d)", i, t.Id, gs.NextTaskId-1)
		}
		if _, dup := tasks[t.Id]; dup {
			return fmt.Errorf("tasks[%d]: duplicate id %d", i, t.Id)
		}
		tasks[t.Id] = t
		if _, err := sdk.AccAddressFromBech32(t.Poster); err != nil {
			return fmt.Errorf("tasks[%d].poster: %w", i, err)
		}
		if _, err := t.Spec.EngineSpec(); err != nil {
			return fmt.Errorf("tasks[%d].spec: %w", i, err)
		}
		if len(t.Seed) != HashLen {
			return fmt.Errorf("tasks[%d].seed must be %d bytes", i, HashLen)
		}
		if t.Status == TASK_STATUS_UNSPECIFIED {
			return fmt.Errorf("tasks[%d].status is unspecified", i)
		}
		if t.Replicas == 0 || t.Verified+t.Active > t.Replicas {
			return fmt.Errorf("tasks[%d]: verified (%d) + active (%d) exceeds replicas (%d)", i, t.Verified, t.Active, t.Replicas)
		}
	}
	type akey struct {
		task   uint64
		worker string
	}
	seen := make(map[akey]bool, len(gs.Assignments))
	active := make(map[uint64]uint32)
	for i, a := range gs.Assignments {
		k := akey{a.TaskId, a.Worker}
		if seen[k] {
			return fmt.Errorf("assignments[%d]: duplicate claim of task %d by %s", i, a.TaskId, a.Worker)
		}
		seen[k] = true
		if _, ok := tasks[a.TaskId]; !ok {
			return fmt.Errorf("assignments[%d]: unknown task %d", i, a.TaskId)
		}
		if _, err := sdk.AccAddressFromBech32(a.Worker); err != nil {
			return fmt.Errorf("assignments[%d].worker: %w", i, err)
		}
		if a.Status == ASSIGNMENT_STATUS_ACTIVE || a.Status == ASSIGNMENT_STATUS_COMMITTED {
			active[a.TaskId]++
		}
	}
	for _, t := range gs.Tasks {
		if active[t.Id] != t.Active {
			return fmt.Errorf("task %d: active is %d but %d assignments are active or committed", t.Id, t.Active, active[t.Id])
		}
	}
	// Queue entries must point at a task (claim queue) or a claim (commit
	// queue). Entries whose task or claim has since moved on are allowed: the
	// end blocker skips them, as it does on the live chain.
	for i, e := range gs.ClaimQueue {
		if _, ok := tasks[e.TaskId]; !ok {
			return fmt.Errorf("claim_queue[%d]: unknown task %d", i, e.TaskId)
		}
		if e.Worker != "" {
			return fmt.Errorf("claim_queue[%d]: claim-queue entries name no worker (got %s)", i, e.Worker)
		}
	}
	queued := make(map[akey]bool, len(gs.CommitQueue))
	for i, e := range gs.CommitQueue {
		if !seen[akey{e.TaskId, e.Worker}] {
			return fmt.Errorf("commit_queue[%d]: no claim of task %d by %q", i, e.TaskId, e.Worker)
		}
		queued[akey{e.TaskId, e.Worker}] = true
	}
	// An active claim without its commit deadline in the queue would never
	// time out and would hold its bond and slot for ever.
	for i, a := range gs.Assignments {
		if a.Status == ASSIGNMENT_STATUS_ACTIVE && !queued[akey{a.TaskId, a.Worker}] {
			return fmt.Errorf("assignments[%d]: active claim of task %d by %s has no commit_queue entry", i, a.TaskId, a.Worker)
		}
	}
	models := make(map[string]bool, len(gs.Models))
	for i, m := range gs.Models {
		if len(m.ModelHash) != HashLen {
			return fmt.Errorf("models[%d].model_hash must be %d bytes", i, HashLen)
		}
		if models[string(m.ModelHash)] {
			return fmt.Errorf("models[%d]: duplicate model hash %X", i, m.ModelHash)
		}
		models[string(m.ModelHash)] = true
	}
	return nil
}
