package federated

import (
	"errors"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// MaxTotalWeight bounds the sum of the weights of one aggregation, so that
// every weighted sum sum_i w_i * v_i (|v_i| <= 2^31) fits in an int64.
const MaxTotalWeight = uint64(1) << 32

// ErrAggregate wraps every aggregation input error.
var ErrAggregate = errors.New("federated aggregation")

// Mean is FedAvg of one chunk (or of whole parameter vectors): for every
// parameter j,
//
//	out[j] = round( sum_i w_i * v_i[j] / sum_i w_i )
//
// with the engine's rounding rule (round to nearest, ties toward +inf). The
// sum is exact in int64 (MaxTotalWeight) and the mean of int32 values is an
// int32, so nothing saturates. Updates are summed in the order given, which
// does not matter: integer addition is exact.
func Mean(weights []uint64, values [][]int32) ([]int32, error) {
	if len(weights) == 0 || len(weights) != len(values) {
		return nil, fmt.Errorf("%w: %d weights for %d updates", ErrAggregate, len(weights), len(values))
	}
	var total uint64
	for i, w := range weights {
		if w == 0 {
			return nil, fmt.Errorf("%w: update %d has weight 0", ErrAggregate, i)
		}
		if w > MaxTotalWeight || total+w > MaxTotalWeight {
			return nil, fmt.Errorf("%w: total weight above %d", ErrAggregate, MaxTotalWeight)
		}
		total += w
		if len(values[i]) != len(values[0]) {
			return nil, fmt.Errorf("%w: update %d has %d values, update 0 has %d", ErrAggregate, i, len(values[i]), len(values[0]))
		}
	}
	out := make([]int32, len(values[0]))
	for j := range out {
		var s int64
		for i, v := range values {
			s += int64(weights[i]) * int64(v[j])
		}
		out[j] = int32(engine.RoundDiv(s, int64(total)))
	}
	return out, nil
}

// MeanModels is FedAvg of whole dense models of one architecture: the same
// rule as Mean, parameter by parameter, so every chunk of the result is Mean
// of that chunk of the updates.
func MeanModels(weights []uint64, models []*engine.Model) (*engine.Model, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("%w: no updates", ErrAggregate)
	}
	vals := make([][]int32, len(models))
	for i, m := range models {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("%w: update %d: %v", ErrAggregate, i, err)
		}
		if !m.Arch.Equal(models[0].Arch) {
			return nil, fmt.Errorf("%w: update %d has another architecture", ErrAggregate, i)
		}
		vals[i] = m.Params()
	}
	mean, err := Mean(weights, vals)
	if err != nil {
		return nil, err
	}
	return engine.ModelFromParams(models[0].Arch, mean)
}
