package types

import (
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// addr checks a stored address and returns its bytes (as a map key).
func addr(field, s string) (string, error) {
	a, err := sdk.AccAddressFromBech32(s)
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", field, s, err)
	}
	return string(a), nil
}

// DefaultGenesis returns the default genesis state.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextJobId: 1}
}

// Validate checks a genesis state: params, unique jobs below next_job_id,
// rounds, updates and challenges of existing jobs, each once.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if gs.NextJobId == 0 {
		return fmt.Errorf("next_job_id must be >= 1")
	}
	jobs := make(map[uint64]FederatedJob, len(gs.Jobs))
	for _, j := range gs.Jobs {
		if j.Id == 0 || j.Id >= gs.NextJobId {
			return fmt.Errorf("job id %d must be in 1..next_job_id-1 (%d)", j.Id, gs.NextJobId)
		}
		if _, dup := jobs[j.Id]; dup {
			return fmt.Errorf("job %d appears twice", j.Id)
		}
		if len(j.GlobalModelHash) != HashLen || len(j.Seed) != HashLen {
			return fmt.Errorf("job %d: global model hash and seed must be %d bytes", j.Id, HashLen)
		}
		if j.Rounds == 0 || j.CurrentRound >= j.Rounds {
			return fmt.Errorf("job %d: round %d of %d", j.Id, j.CurrentRound, j.Rounds)
		}
		if _, err := addr("job requester", j.Requester); err != nil {
			return fmt.Errorf("job %d: %w", j.Id, err)
		}
		jobs[j.Id] = j
	}
	rounds := make(map[[2]uint64]bool, len(gs.Rounds))
	for _, r := range gs.Rounds {
		j, ok := jobs[r.JobId]
		if !ok {
			return fmt.Errorf("round %d of unknown job %d", r.Round, r.JobId)
		}
		if r.Round > j.CurrentRound {
			return fmt.Errorf("job %d: round %d after the current round %d", r.JobId, r.Round, j.CurrentRound)
		}
		for _, a := range append([]string{r.Aggregate.Committer, r.Aggregator}, r.FailedAggregators...) {
			if a == "" {
				continue
			}
			if _, err := addr("aggregator", a); err != nil {
				return fmt.Errorf("job %d round %d: %w", r.JobId, r.Round, err)
			}
		}
		k := [2]uint64{r.JobId, uint64(r.Round)}
		if rounds[k] {
			return fmt.Errorf("job %d round %d appears twice", r.JobId, r.Round)
		}
		rounds[k] = true
	}
	updates := make(map[string]bool, len(gs.Updates))
	for _, u := range gs.Updates {
		if !rounds[[2]uint64{u.JobId, uint64(u.Round)}] {
			return fmt.Errorf("update of %s in unknown round %d of job %d", u.Participant, u.Round, u.JobId)
		}
		a, err := addr("participant", u.Participant)
		if err != nil {
			return err
		}
		k := fmt.Sprintf("%d/%d/%x", u.JobId, u.Round, a)
		if updates[k] {
			return fmt.Errorf("update %s appears twice", k)
		}
		updates[k] = true
	}
	challenges := make(map[string]bool, len(gs.Challenges))
	for _, c := range gs.Challenges {
		if !rounds[[2]uint64{c.JobId, uint64(c.Round)}] {
			return fmt.Errorf("challenge of chunk %d in unknown round %d of job %d", c.Chunk, c.Round, c.JobId)
		}
		if _, err := addr("challenger", c.Challenger); err != nil {
			return err
		}
		k := fmt.Sprintf("%d/%d/%d", c.JobId, c.Round, c.Chunk)
		if challenges[k] {
			return fmt.Errorf("challenge %s appears twice", k)
		}
		challenges[k] = true
	}
	return nil
}
