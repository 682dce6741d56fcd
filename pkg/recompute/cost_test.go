package recompute_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// The cost of a segment is what the engine and the reveal really take: MACs
// equal the engine's meter, the largest reveal bound holds for a real reveal,
// and the row bound is min(look-ups, rows).
func TestSegmentCostMatchesTheWork(t *testing.T) {
	data := fixtures.Synthetic(64)
	msg := fixtures.PostMsg(keepers.Addr(1), data)
	task := taskstypes.Task{Id: 1, Spec: msg.Spec, Dataset: msg.Dataset, Seed: make([]byte, 32)}
	run, err := fixtures.Train(task, data)
	require.NoError(t, err)
	c, err := recompute.SegmentCost(task.Spec, task.Dataset, 1)
	require.NoError(t, err)
	es, err := task.Spec.EngineSpec()
	require.NoError(t, err)
	require.Equal(t, engine.MACsPerStep(es)*c.Steps, c.MACs)
	require.Equal(t, c.Steps*uint64(es.BatchSize), c.BatchRows)
	require.Equal(t, min(c.BatchRows, data.Len()), c.MaxRows)
	require.Equal(t, uint64(6), c.ProofDepth, "64 rows: 6 aunts")
	require.Equal(t, uint64(len(run.States[1].Encode())), c.StateBytes)
	reveal, err := run.Reveal(keepers.Addr(2), 1)
	require.NoError(t, err)
	require.LessOrEqual(t, uint64(reveal.Size()), c.RevealBytes)

	_, err = recompute.SegmentCost(task.Spec, task.Dataset, task.Spec.Segments())
	require.Error(t, err, "segment out of range")
	huge := task.Dataset
	huge.Rows = recompute.MaxDatasetRows + 1
	_, err = recompute.SegmentCost(task.Spec, huge, 0)
	require.ErrorContains(t, err, "Merkle proof")
}

// LongestSegment is the boundary: it fits, one step more does not.
func TestLongestSegmentIsTheBoundary(t *testing.T) {
	data := fixtures.Synthetic(64)
	ref := fixtures.PostMsg(keepers.Addr(1), data).Dataset
	p := types.DefaultParams()
	for _, spec := range []taskstypes.TrainingSpec{fixtures.Spec(1, 1), func() taskstypes.TrainingSpec {
		s := fixtures.Spec(1, 1)
		s.BatchSize = 64
		return s
	}()} {
		n := recompute.LongestSegment(spec, ref, p, 1<<20)
		require.NotZero(t, n)
		at := func(steps uint64) error {
			s := spec
			s.TotalSteps, s.SegmentSteps = steps, steps
			c, err := recompute.SegmentCost(s, ref, 0)
			require.NoError(t, err)
			return c.Check(p)
		}
		require.NoError(t, at(n))
		require.Error(t, at(n+1))
	}
}

// Gas saturates instead of wrapping.
func TestGasSaturates(t *testing.T) {
	c := recompute.Cost{MACs: 1 << 62, Steps: 1 << 62}
	p := types.DefaultParams()
	require.Equal(t, ^uint64(0), c.Gas(p, 0))
	require.Equal(t, ^uint64(0), c.MaxGas(p))
}
