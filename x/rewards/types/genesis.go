package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis returns the default genesis state.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks params, duplicates, addresses and amounts.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	escrows := make(map[uint64]bool, len(gs.Escrows))
	for i, e := range gs.Escrows {
		if escrows[e.TaskId] {
			return fmt.Errorf("escrows[%d]: duplicate escrow for task %d", i, e.TaskId)
		}
		escrows[e.TaskId] = true
		if _, err := sdk.AccAddressFromBech32(e.Poster); err != nil {
			return fmt.Errorf("escrows[%d].poster: %w", i, err)
		}
		if err := e.Amount.Validate(); err != nil {
			return fmt.Errorf("escrows[%d].amount: %w", i, err)
		}
		if err := e.Share.Validate(); err != nil {
			return fmt.Errorf("escrows[%d].share: %w", i, err)
		}
	}
	type bondKey struct {
		task           uint64
		owner, against string
		segment        uint32
	}
	bonds := make(map[bondKey]bool, len(gs.Bonds))
	for i, b := range gs.Bonds {
		// A worker bond is unique per (task, worker); a challenger bond per
		// disputed (task, worker, segment).
		k := bondKey{task: b.TaskId, owner: b.Owner}
		if b.Against != "" {
			k = bondKey{task: b.TaskId, against: b.Against, segment: b.Segment}
		}
		if bonds[k] {
			return fmt.Errorf("bonds[%d]: duplicate bond for task %d", i, b.TaskId)
		}
		bonds[k] = true
		if _, err := sdk.AccAddressFromBech32(b.Owner); err != nil {
			return fmt.Errorf("bonds[%d].owner: %w", i, err)
		}
		if b.Against != "" {
			if _, err := sdk.AccAddressFromBech32(b.Against); err != nil {
				return fmt.Errorf("bonds[%d].against: %w", i, err)
			}
		}
		if err := b.Amount.Validate(); err != nil || !b.Amount.IsPositive() {
			return fmt.Errorf("bonds[%d].amount must be a positive coin", i)
		}
		if !escrows[b.TaskId] {
			return fmt.Errorf("bonds[%d]: task %d has no escrow", i, b.TaskId)
		}
	}
	jobs := make(map[uint64]bool, len(gs.JobEscrows))
	for i, e := range gs.JobEscrows {
		if jobs[e.TaskId] {
			return fmt.Errorf("job_escrows[%d]: duplicate escrow for job %d", i, e.TaskId)
		}
		jobs[e.TaskId] = true
		if _, err := sdk.AccAddressFromBech32(e.Poster); err != nil {
			return fmt.Errorf("job_escrows[%d].poster: %w", i, err)
		}
		if err := e.Amount.Validate(); err != nil {
			return fmt.Errorf("job_escrows[%d].amount: %w", i, err)
		}
	}
	type stakeKey struct {
		job   uint64
		owner string
	}
	stakes := make(map[stakeKey]bool, len(gs.Stakes))
	for i, b := range gs.Stakes {
		k := stakeKey{b.TaskId, b.Owner}
		if stakes[k] {
			return fmt.Errorf("stakes[%d]: duplicate stake of %s on job %d", i, b.Owner, b.TaskId)
		}
		stakes[k] = true
		if _, err := sdk.AccAddressFromBech32(b.Owner); err != nil {
			return fmt.Errorf("stakes[%d].owner: %w", i, err)
		}
		if err := b.Amount.Validate(); err != nil || !b.Amount.IsPositive() {
			return fmt.Errorf("stakes[%d].amount must be a positive coin", i)
		}
		if !jobs[b.TaskId] {
			return fmt.Errorf("stakes[%d]: job %d has no escrow", i, b.TaskId)
		}
	}
	reps := make(map[string]bool, len(gs.Reputations))
	for i, r := range gs.Reputations {
		if reps[r.Address] {
			return fmt.Errorf("reputations[%d]: duplicate address %s", i, r.Address)
		}
		reps[r.Address] = true
		if _, err := sdk.AccAddressFromBech32(r.Address); err != nil {
			return fmt.Errorf("reputations[%d].address: %w", i, err)
		}
	}
	// Workers are only added to epoch_work up to max_emission_recipients, which
	// never exceeds MaxEmissionRecipientsLimit; a longer list would make the
	// next epoch hook unbounded.
	if len(gs.EpochWork) > MaxEmissionRecipientsLimit {
		return fmt.Errorf("epoch_work has %d workers, more than %d", len(gs.EpochWork), MaxEmissionRecipientsLimit)
	}
	work := make(map[string]bool, len(gs.EpochWork))
	for i, w := range gs.EpochWork {
		if work[w.Worker] {
			return fmt.Errorf("epoch_work[%d]: duplicate worker %s", i, w.Worker)
		}
		work[w.Worker] = true
		if _, err := sdk.AccAddressFromBech32(w.Worker); err != nil {
			return fmt.Errorf("epoch_work[%d].worker: %w", i, err)
		}
	}
	funded := make(map[string]bool, len(gs.Funders))
	for i, f := range gs.Funders {
		if funded[f.Address] {
			return fmt.Errorf("funders[%d]: duplicate address %s", i, f.Address)
		}
		funded[f.Address] = true
		addr, err := sdk.AccAddressFromBech32(f.Address)
		if err != nil {
			return fmt.Errorf("funders[%d].address: %w", i, err)
		}
		funder, err := sdk.AccAddressFromBech32(f.Funder)
		if err != nil {
			return fmt.Errorf("funders[%d].funder: %w", i, err)
		}
		if addr.Equals(funder) {
			return fmt.Errorf("funders[%d]: %s cannot be its own funder", i, f.Address)
		}
	}
	return nil
}

// Held is the sum of every escrow and bond, annotation jobs' escrows and
// annotators' stakes included: what the module account must hold.
func (gs GenesisState) Held() sdk.Coins {
	held := sdk.NewCoins()
	for _, e := range gs.Escrows {
		held = held.Add(e.Amount)
	}
	for _, b := range gs.Bonds {
		held = held.Add(b.Amount)
	}
	for _, e := range gs.JobEscrows {
		held = held.Add(e.Amount)
	}
	for _, b := range gs.Stakes {
		held = held.Add(b.Amount)
	}
	return held
}
