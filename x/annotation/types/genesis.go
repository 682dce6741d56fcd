package types

import "fmt"

// DefaultGenesis is an empty market with default params.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextJobId: 1}
}

// Validate checks params, ids and references.
func (g GenesisState) Validate() error {
	if err := g.Params.Validate(); err != nil {
		return err
	}
	jobs := make(map[uint64]Job, len(g.Jobs))
	for i, j := range g.Jobs {
		if j.Id == 0 || j.Id >= g.NextJobId {
			return fmt.Errorf("jobs[%d]: id %d must be in 1..next_job_id-1 (%d)", i, j.Id, g.NextJobId)
		}
		if _, dup := jobs[j.Id]; dup {
			return fmt.Errorf("jobs[%d]: duplicate id %d", i, j.Id)
		}
		if j.Classes < 2 || j.Redundancy == 0 || j.BatchSize == 0 || j.Groups != Groups(j.Items.Rows, j.BatchSize) {
			return fmt.Errorf("jobs[%d]: inconsistent shape", i)
		}
		if len(j.Seed) != HashLen || len(j.GoldCommitment) != HashLen {
			return fmt.Errorf("jobs[%d]: seed and gold commitment must be %d bytes", i, HashLen)
		}
		jobs[j.Id] = j
	}
	for i, b := range g.Batches {
		j, ok := jobs[b.JobId]
		if !ok {
			return fmt.Errorf("batches[%d]: unknown job %d", i, b.JobId)
		}
		if b.Group >= j.Groups {
			return fmt.Errorf("batches[%d]: group %d of a %d-group job", i, b.Group, j.Groups)
		}
		if len(b.Labels) != 0 {
			for _, l := range b.Labels {
				if uint32(l) >= j.Classes {
					return fmt.Errorf("batches[%d]: label %d outside the label space", i, l)
				}
			}
		}
	}
	for i, gd := range g.Gold {
		j, ok := jobs[gd.JobId]
		if !ok {
			return fmt.Errorf("gold[%d]: unknown job %d", i, gd.JobId)
		}
		if err := ValidateGold(gd.Gold, j.Items.Rows, j.Classes); err != nil {
			return fmt.Errorf("gold[%d]: %w", i, err)
		}
	}
	for i, l := range g.Labels {
		j, ok := jobs[l.JobId]
		if !ok || uint64(len(l.Data)) != j.Items.Rows {
			return fmt.Errorf("labels[%d]: unknown job %d or wrong length", i, l.JobId)
		}
	}
	for i, a := range g.Aggregations {
		if _, ok := jobs[a.JobId]; !ok {
			return fmt.Errorf("aggregations[%d]: unknown job %d", i, a.JobId)
		}
	}
	return nil
}
