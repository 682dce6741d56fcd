package simulation

import (
	"bytes"
	"fmt"
	"math/rand"
	"sync"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// The simulation posts small, real training jobs on synthetic datasets that
// every simulated worker holds, so that x/verification's factories answer
// them with real transcripts and reveals (recomputed bit for bit on chain).
const (
	// MaxJobSteps bounds total_steps of a simulated job.
	MaxJobSteps = 24
	// MaxJobParams is the parameter count of the largest simulated model,
	// the MLP 16-8-4.
	MaxJobParams = 16*8 + 8 + 8*4 + 4
)

var (
	datasetsOnce sync.Once
	datasets     []*dataset.File
)

// Datasets are the datasets jobs are posted on: fixtures.Synthetic with 32,
// 48 and 64 rows (16 uint8 features, 4 classes).
func Datasets() []*dataset.File {
	datasetsOnce.Do(func() {
		for _, n := range []int{32, 48, 64} {
			datasets = append(datasets, fixtures.Synthetic(n))
		}
	})
	return datasets
}

// DatasetOf returns the simulation dataset a task references, or nil if the
// task was not posted by the simulation.
func DatasetOf(ref types.DatasetRef) *dataset.File {
	for _, d := range Datasets() {
		if d.Len() == ref.Rows && bytes.Equal(d.Root(), ref.Root) {
			return d
		}
	}
	return nil
}

// models are the engine specs of simulated jobs: softmax regression with SGD
// and momentum (the fixtures' spec), the same with Adam, and an MLP 16-8-4.
func models() []engine.Spec {
	linear := engine.Spec{
		Model: engine.ModelLinear, Inputs: 16, Outputs: 4,
		Objective: engine.ObjectiveSoftmaxCE, Optimizer: engine.OptimizerSGD,
		LearningRate: 1 << 13, Momentum: 58982, // 0.125, 0.9 at F=16
		BatchSize: 8, FracBits: 16,
	}
	adam := linear
	adam.Optimizer, adam.Momentum, adam.BatchSize = engine.OptimizerAdam, 0, 4
	adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon = 655, 58982, 65470, 1 // 0.01, 0.9, 0.999, 2^-16
	mlp := linear
	mlp.Model, mlp.Hidden, mlp.BatchSize = engine.ModelMLP, []uint32{8}, 6
	return []engine.Spec{linear, adam, mlp}
}

// RandomJob draws a job that fits p: a model, 2..MaxJobSteps steps cut into
// at most p.MaxSegments segments, and a dataset reference.
func RandomJob(r *rand.Rand, p types.Params) (types.TrainingSpec, types.DatasetRef) {
	ms := models()
	es := ms[r.Intn(len(ms))]
	total := uint64(2 + r.Intn(MaxJobSteps-1))
	seg := uint64(1 + r.Intn(6))
	if seg > total {
		seg = total
	}
	for (total+seg-1)/seg > uint64(p.MaxSegments) {
		seg++
	}
	data := Datasets()[r.Intn(len(Datasets()))]
	ref := types.DatasetRef{
		Root: data.Root(), Rows: data.Len(), Schema: types.FromDatasetSchema(data.Schema()),
		Uri: fmt.Sprintf("file:///sim/synthetic-%d.hlds", data.Len()),
	}
	return types.FromEngineSpec(es, total, seg, nil), ref
}
