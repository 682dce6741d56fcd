package reference

import (
	"errors"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// FromParams returns a trainer of a dense spec at step 0 with the given
// float64 parameters (trained tensors in canonical order, copied) and a fresh
// optimiser state: a float64 FedAvg participant starting a round from the
// global model.
func FromParams(spec engine.Spec, params [][]float64) (*Trainer, error) {
	if spec.IsLoRA() {
		return nil, errors.New("reference: FromParams takes a dense spec")
	}
	zero, err := engine.StateFromParams(spec, engine.Hash{}, make([]int32, spec.TrainableParams()))
	if err != nil {
		return nil, err
	}
	t, err := FromState(engine.Job{Spec: spec, RowCount: 1}, zero)
	if err != nil {
		return nil, err
	}
	if len(params) != len(t.params) {
		return nil, fmt.Errorf("reference: %d tensors, the spec trains %d", len(params), len(t.params))
	}
	for k, p := range params {
		if len(p) != len(t.params[k]) {
			return nil, fmt.Errorf("reference: tensor %d has %d values, want %d", k, len(p), len(t.params[k]))
		}
		copy(t.params[k], p)
	}
	return t, nil
}

// MeanParams is FedAvg in float64: sum_i w_i * p_i / sum_i w_i for every
// parameter, the exact mean that federated.MeanModels rounds to fixed point.
func MeanParams(weights []uint64, updates [][][]float64) ([][]float64, error) {
	if len(weights) == 0 || len(weights) != len(updates) {
		return nil, fmt.Errorf("reference: %d weights for %d updates", len(weights), len(updates))
	}
	var total float64
	for _, w := range weights {
		total += float64(w)
	}
	out := make([][]float64, len(updates[0]))
	for k := range out {
		out[k] = make([]float64, len(updates[0][k]))
		for i, u := range updates {
			if len(u) != len(out) || len(u[k]) != len(out[k]) {
				return nil, fmt.Errorf("reference: update %d has another shape than update 0", i)
			}
			w := float64(weights[i]) / total
			for j, v := range u[k] {
				out[k][j] += w * v
			}
		}
	}
	return out, nil
}

// Participant is one local training of a float64 FedAvg round: steps steps
// on the batches of job (engine.BatchIndices) over rows, weighted by Weight
// (its examples).
type Participant struct {
	Job    engine.Job
	Rows   engine.RowSource
	Steps  uint64
	Weight uint64
}

// FedAvgRound trains every participant from the global parameters with a
// fresh optimiser state and returns the weighted mean of their parameters.
func FedAvgRound(spec engine.Spec, global [][]float64, parts []Participant) ([][]float64, error) {
	weights := make([]uint64, len(parts))
	updates := make([][][]float64, len(parts))
	for i, p := range parts {
		t, err := FromParams(spec, global)
		if err != nil {
			return nil, err
		}
		if err := t.Run(p.Job, p.Rows, p.Steps); err != nil {
			return nil, fmt.Errorf("reference: participant %d: %w", i, err)
		}
		weights[i], updates[i] = p.Weight, t.Params()
	}
	return MeanParams(weights, updates)
}
