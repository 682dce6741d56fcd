package reference_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/testutil/reference"
)

// FedAvgEnv turns on the slow non-IID MNIST FedAvg experiment (scripts/bench-federated.sh sets it).
const FedAvgEnv = "HINTERLAND_FEDAVG"

func envUint(name string, def uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

// TestFedAvgNonIIDMNIST is the accuracy experiment of docs/FEDERATED.md:
// MNIST split non-IID as McMahan et al. 2017 did (federated.NonIIDFile: 10
// participants, 2 label-sorted pieces each), FedAvg weighted by examples,
// the MLP preset (engine.DefaultSpecMNISTMLP), every participant training
// HINTERLAND_FEDAVG_STEPS local steps per round (default 188, one local
// epoch) for HINTERLAND_FEDAVG_ROUNDS rounds (default 200). Three runs share
// the data and the initial weights, the two FedAvg runs every batch:
//
//   - fixed point: what the chain verifies. Each participant runs
//     engine.RunSegment from engine.StateFromParams(global) with seed
//     federated.ParticipantSeed on its shard (federated.ShardRows), and
//     federated.MeanModels averages the updates;
//   - float64: the same FedAvg with the gonum reference trainer (the same
//     start, the same batch indices), averaged in float64;
//   - centralised: the engine on all rows (one job, its momentum kept), with
//     the same total number of steps (participants x local steps per round).
//
// It prints test accuracy (all 10000 t10k rows) per round, the largest
// fixed-point vs float64 FedAvg gap (it fails above 0.5 points) and the
// first round each run reaches 97%.
func TestFedAvgNonIIDMNIST(t *testing.T) {
	if os.Getenv(FedAvgEnv) == "" {
		t.Skip("slow: set " + FedAvgEnv + "=1 (scripts/bench-federated.sh does) to run the federated MNIST experiment")
	}
	const participants, classesPer, splitSeed = 10, 2, 2017
	rounds := envUint("HINTERLAND_FEDAVG_ROUNDS", 200)
	local := envUint("HINTERLAND_FEDAVG_STEPS", 188)
	spec := engine.DefaultSpecMNISTMLP()
	start := time.Now()

	train, err := federated.NonIIDFile(datasettest.MNIST(t, "train"), participants, classesPer, splitSeed)
	if err != nil {
		t.Fatal(err)
	}
	test := datasettest.MNIST(t, "t10k")
	src, err := train.Source(spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	tsrc, err := test.Source(spec.FracBits)
	if err != nil {
		t.Fatal(err)
	}
	testIdx := make([]uint64, test.Len())
	for i := range testIdx {
		testIdx[i] = uint64(i)
	}

	jobSeed := []byte("hinterland/bench/fedavg-mnist")
	central := engine.Job{Spec: spec, Seed: sha256.Sum256(jobSeed), RowCount: train.Len()}
	st0, err := engine.NewInitialState(central)
	if err != nil {
		t.Fatal(err)
	}
	global, err := st0.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	ref0, err := reference.FromState(central, st0)
	if err != nil {
		t.Fatal(err)
	}
	globalF := ref0.Params()
	centralSt := st0

	// Shards, and the labels each participant holds.
	type shard struct {
		lo, hi uint64
		addr   []byte
	}
	shards := make([]shard, participants)
	for p := range shards {
		lo, hi, err := federated.ShardRange(train.Len(), participants, uint32(p))
		if err != nil {
			t.Fatal(err)
		}
		a := sha256.Sum256([]byte(fmt.Sprintf("participant-%d", p)))
		shards[p] = shard{lo, hi, a[:20]}
		var counts [10]int
		for i := lo; i < hi; i++ {
			r, err := train.Row(i)
			if err != nil {
				t.Fatal(err)
			}
			counts[r.Label]++
		}
		var held []string
		for d, c := range counts {
			if c > 0 {
				held = append(held, fmt.Sprintf("%d:%d", d, c))
			}
		}
		t.Logf("participant %d: rows [%d, %d), digit:rows %s", p, lo, hi, strings.Join(held, " "))
	}

	acc := func(r engine.EvalResult) float64 { return 100 * float64(r.Correct) / float64(r.Count) }
	const target = 97.0
	names := []string{"fixed", "float64", "centralised"}
	reached := make([]uint64, len(names))
	var maxGap float64
	var maxGapRound uint64
	t.Logf("MLP 784-128-10 (DefaultSpecMNISTMLP): SGD lr %.4f, momentum %.3f (velocity reset every round), batch %d, F=%d",
		float64(spec.LearningRate)/65536, float64(spec.Momentum)/65536, spec.BatchSize, spec.FracBits)
	t.Logf("%d participants x %d pieces, %d local steps per round, %d rounds; centralised: %d steps per round",
		participants, classesPer, local, rounds, participants*local)
	t.Logf("%5s %9s %9s %6s %12s", "round", "fixed", "float64", "gap", "centralised")
	for round := uint64(1); round <= rounds; round++ {
		var parts []reference.Participant
		for _, s := range shards {
			parts = append(parts, reference.Participant{
				Job:    engine.Job{Spec: spec, Seed: federated.ParticipantSeed(jobSeed, uint32(round), s.addr), RowCount: s.hi - s.lo},
				Rows:   federated.ShardRows{Src: src, Offset: s.lo},
				Steps:  local,
				Weight: s.hi - s.lo,
			})
		}
		// The three runs are independent: train and evaluate them side by side.
		var accs [3]float64
		var errs [3]error
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { // fixed point, exactly what the chain verifies
			defer wg.Done()
			var weights []uint64
			var updates []*engine.Model
			for _, p := range parts {
				st, err := engine.StateFromParams(spec, engine.Hash{}, global.Params())
				if err == nil {
					st, _, err = engine.RunSegment(p.Job, st, p.Rows, p.Steps)
				}
				var m *engine.Model
				if err == nil {
					m, err = st.Model(nil)
				}
				if err != nil {
					errs[0] = err
					return
				}
				weights, updates = append(weights, p.Weight), append(updates, m)
			}
			var err error
			if global, err = federated.MeanModels(weights, updates); err != nil {
				errs[0] = err
				return
			}
			ev, err := engine.EvaluateModel(spec, global, tsrc, testIdx)
			accs[0], errs[0] = acc(ev), err
		}()
		go func() { // float64
			defer wg.Done()
			var err error
			if globalF, err = reference.FedAvgRound(spec, globalF, parts); err != nil {
				errs[1] = err
				return
			}
			tr, err := reference.FromParams(spec, globalF)
			if err != nil {
				errs[1] = err
				return
			}
			r, err := tr.Evaluate(tsrc, testIdx)
			accs[1], errs[1] = 100*r.Accuracy(), err
		}()
		go func() { // centralised, the same total steps
			defer wg.Done()
			var err error
			if centralSt, _, err = engine.RunSegment(central, centralSt, src, uint64(participants)*local); err != nil {
				errs[2] = err
				return
			}
			ev, err := engine.Evaluate(central, centralSt, tsrc, testIdx)
			accs[2], errs[2] = acc(ev), err
		}()
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, %s run: %v", round, names[i], err)
			}
		}
		for i, a := range accs {
			if reached[i] == 0 && a >= target {
				reached[i] = round
			}
		}
		gap := accs[0] - accs[1]
		if abs := max(gap, -gap); abs > maxGap {
			maxGap, maxGapRound = abs, round
		}
		t.Logf("%5d %8.2f%% %8.2f%% %6.2f %11.2f%%   (%v)", round, accs[0], accs[1], gap, accs[2], time.Since(start).Round(time.Second))
	}
	t.Logf("largest |fixed - float64| FedAvg gap: %.2f points (round %d)", maxGap, maxGapRound)
	for i, name := range names {
		if reached[i] > 0 {
			t.Logf("%s reaches %.0f%% at round %d", name, target, reached[i])
		} else {
			t.Logf("%s does not reach %.0f%% in %d rounds", name, target, rounds)
		}
	}
	t.Logf("total %v", time.Since(start).Round(time.Second))
	if maxGap > 0.5 {
		t.Errorf("fixed-point FedAvg differs from float64 FedAvg by %.2f points at round %d (> 0.5)", maxGap, maxGapRound)
	}
}

// TestFedAvgRoundFloat64: MeanParams is the weighted mean, FromParams starts
// from exactly the given parameters, and a round of one participant is that
// participant's training.
func TestFedAvgRoundFloat64(t *testing.T) {
	got, err := reference.MeanParams([]uint64{3, 1}, [][][]float64{{{1, -2}, {4}}, {{5, 2}, {0}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]float64{{2, -1}, {3}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("MeanParams = %v, want %v", got, want)
	}
	for name, bad := range map[string][][][]float64{"one update for two weights": {{{1}}}, "shapes differ": {{{1}}, {{1, 2}}}} {
		w := []uint64{1, 1}
		if _, err := reference.MeanParams(w, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	spec := engine.DefaultSpecMNISTSoftmax()
	job := engine.Job{Spec: spec, Seed: [32]byte{3}, RowCount: 64}
	st, err := engine.NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	a, err := reference.FromState(job, st)
	if err != nil {
		t.Fatal(err)
	}
	b, err := reference.FromParams(spec, a.Params())
	if err != nil {
		t.Fatal(err)
	}
	src := rows{spec: spec}
	if err := a.Run(job, src, 3); err != nil {
		t.Fatal(err)
	}
	start, err := reference.FromState(job, st)
	if err != nil {
		t.Fatal(err)
	}
	avg, err := reference.FedAvgRound(spec, start.Params(), []reference.Participant{{Job: job, Rows: src, Steps: 3, Weight: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(avg) != fmt.Sprint(a.Params()) {
		t.Fatal("a one-participant round differs from that participant's training")
	}
	if fmt.Sprint(b.Params()) == fmt.Sprint(a.Params()) {
		t.Fatal("FromParams shares the parameters it was given")
	}
	if _, err := reference.FromParams(spec, a.Params()[:1]); err == nil {
		t.Fatal("FromParams accepted one tensor of two")
	}
}
