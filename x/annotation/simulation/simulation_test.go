package simulation_test

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/annotation/simulation"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// Every draw of GenParams is valid, takes the simulation's jobs (their
// datasets and label spaces) and lets an aggregation progress.
func TestGenParamsAreValid(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for range 2_000 {
		p := simulation.GenParams(r, "uhint")
		require.NoError(t, p.Validate())
		require.GreaterOrEqual(t, p.MaxItems, uint64(simulation.MaxJobItems))
		require.GreaterOrEqual(t, p.MaxClasses, uint32(simulation.MaxJobClasses))
		require.GreaterOrEqual(t, p.MaxBatchSize, uint32(4))
		require.LessOrEqual(t, p.MinGoldItems, uint32(simulation.MinJobGold))
		require.GreaterOrEqual(t, p.MaxUnitsPerBlock, uint64(32), "a budget below annotation.MinBudget never progresses")
	}
}

// The gold set of a simulated requester is valid for every dataset, of 6 to
// 16 items, and the same every time (the reveal factory recomputes it).
func TestGoldSetIsValidAndReproducible(t *testing.T) {
	for _, kind := range []types.LabelKind{types.LABEL_KIND_CLASS, types.LABEL_KIND_PREFERENCE} {
		classes := uint32(4)
		if kind == types.LABEL_KIND_PREFERENCE {
			classes = 2
		}
		for _, d := range simulation.Datasets(kind) {
			require.NotNil(t, simulation.DatasetOf(simulation.Ref(d)))
			for i := range 50 {
				requester := sdk.AccAddress([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
				gold, err := simulation.GoldSet(requester, d)
				require.NoError(t, err)
				require.NoError(t, types.ValidateGold(gold, d.Len(), classes))
				require.GreaterOrEqual(t, len(gold), simulation.MinJobGold)
				require.LessOrEqual(t, len(gold), simulation.MaxJobGold)
				again, err := simulation.GoldSet(requester, d)
				require.NoError(t, err)
				require.Equal(t, types.GoldCommitment(simulation.GoldSalt(requester, d), gold),
					types.GoldCommitment(simulation.GoldSalt(requester, d), again))
			}
		}
	}
}

// An annotator's labels are in the label space, one per item of the group,
// and reproducible, so the open factory opens what the seal factory sealed;
// the behaviours occur in about their proportions.
func TestAnnotatorLabels(t *testing.T) {
	d := simulation.Datasets(types.LABEL_KIND_CLASS)[2]
	job := types.Job{Id: 7, Items: simulation.Ref(d), Classes: 4, BatchSize: 8, Seed: make([]byte, 32)}
	job.Groups = types.Groups(d.Len(), job.BatchSize)
	seen := map[simulation.Behaviour]int{}
	for i := range 400 {
		a := sdk.AccAddress([]byte{byte(i), byte(i >> 8), 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
		seen[simulation.AnnotatorOf(job.Seed, a).Behaviour]++
		g := uint32(i) % job.Groups
		labels, err := simulation.Labels(job, g, a)
		require.NoError(t, err)
		require.Len(t, labels, len(types.GroupItems(job.Seed, d.Len(), job.BatchSize, g)))
		for _, l := range labels {
			require.Less(t, uint32(l), job.Classes)
		}
		again, err := simulation.Labels(job, g, a)
		require.NoError(t, err)
		require.Equal(t, labels, again)
	}
	require.Greater(t, seen[simulation.Honest], 200)
	require.NotZero(t, seen[simulation.Noisy])
	require.NotZero(t, seen[simulation.Spammer])
	require.NotZero(t, seen[simulation.Random])
}
