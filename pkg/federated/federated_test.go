package federated_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/merkle"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from this run")

const goldenFile = "testdata/golden.txt"

// ints is a deterministic stream of int32 values (SplitMix64 of i).
func ints(n int, seed uint64) []int32 {
	out := make([]int32, n)
	z := seed
	for i := range out {
		z += 0x9e3779b97f4a7c15
		x := z
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
		x = (x ^ (x >> 27)) * 0x94d049bb133111eb
		out[i] = int32(uint32(x ^ (x >> 31)))
	}
	return out
}

func le32(v []int32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// cometLeaves are the Merkle leaves of a model part as crypto/merkle sees
// them: the header, then the parameters in chunks of engine.ChunkParams.
func cometLeaves(header []byte, params []int32) [][]byte {
	leaves := [][]byte{header}
	for off := 0; off < len(params); off += engine.ChunkParams {
		leaves = append(leaves, le32(params[off:min(off+engine.ChunkParams, len(params))]))
	}
	return leaves
}

// TestModelHashFromPartsIsCometMerkle: the engine's RFC 6962 tree is
// CometBFT's for every leaf count around the chunk boundaries, including a
// model of a single parameter (one chunk, two leaves).
func TestModelHashFromPartsIsCometMerkle(t *testing.T) {
	header := []byte("any header leaf")
	for _, n := range []int{1, 2, 1023, 1024, 1025, 2048, 3000, 3 * 1024, 101770} {
		params := ints(n, uint64(n))
		want := merkle.HashFromByteSlices(cometLeaves(header, params))
		if got := engine.ModelHashFromParts(header, params); !bytes.Equal(got[:], want) {
			t.Errorf("%d params: engine root %x, crypto/merkle %x", n, got, want)
		}
		if got, want := engine.ChunkLeaves(uint64(n)), uint64(len(cometLeaves(header, params))); got != want {
			t.Errorf("%d params: ChunkLeaves %d, want %d", n, got, want)
		}
	}
}

// chunkCase is a spec whose trained parameter count is the one named.
type chunkCase struct {
	name string
	spec engine.Spec
	base engine.Hash // LoRA only
}

func chunkCases() []chunkCase {
	linear := func(in, out uint32) engine.Spec {
		return engine.Spec{Model: engine.ModelLinear, Inputs: in, Outputs: out, Objective: engine.ObjectiveMSE,
			Optimizer: engine.OptimizerSGD, LearningRate: 1 << 12, BatchSize: 4, FracBits: 16}
	}
	return []chunkCase{
		{name: "linear-1-1/2", spec: linear(1, 1)},
		{name: "linear-340-3/1023", spec: linear(340, 3)},
		{name: "linear-1023-1/1024", spec: linear(1023, 1)},
		{name: "linear-1024-1/1025", spec: linear(1024, 1)},
		{name: "linear-299-10/3000", spec: linear(299, 10)},
		{name: "mnist-mlp/101770", spec: engine.DefaultSpecMNISTMLP()},
		{name: "mnist-lora/4200", spec: engine.DefaultSpecMNISTLoRA(), base: sha256.Sum256([]byte("base"))},
	}
}

// TestModelChunksProveWithCometMerkle: for dense and LoRA states, the model
// hash is crypto/merkle's root over the spec's header leaf and the parameter
// chunks, every chunk's engine proof is crypto/merkle's proof and verifies
// with merkle.Proof.Verify and engine.VerifyModelChunk, and so does the header.
func TestModelChunksProveWithCometMerkle(t *testing.T) {
	for _, c := range chunkCases() {
		t.Run(c.name, func(t *testing.T) {
			n := c.spec.TrainableParams()
			params := ints(int(n), n)
			header, err := engine.ModelHeader(c.spec, c.base)
			if err != nil {
				t.Fatal(err)
			}
			leaves := cometLeaves(header, params)
			root, proofs := merkle.ProofsFromByteSlices(leaves)
			st, err := engine.StateFromParams(c.spec, c.base, params)
			if err != nil {
				t.Fatal(err)
			}
			mh := st.ModelHash()
			if !bytes.Equal(mh[:], root) {
				t.Fatalf("state model hash %x, crypto/merkle root %x", mh, root)
			}
			if h := engine.ModelHashFromParts(header, params); h != mh {
				t.Fatalf("ModelHashFromParts %s, state model hash %s", h, mh)
			}
			if !c.spec.IsLoRA() {
				m, err := engine.ModelFromParams(c.spec.Arch(), params)
				if err != nil {
					t.Fatal(err)
				}
				if m.Hash() != mh {
					t.Fatalf("Model.Hash %s, state model hash %s", m.Hash(), mh)
				}
			}
			if !slices.EqualFunc(st.HeaderAunts(), proofs[0].Aunts, bytes.Equal) {
				t.Fatal("header aunts differ from crypto/merkle's")
			}
			if err := engine.VerifyModelHeader(mh, n, header, st.HeaderAunts()); err != nil {
				t.Fatal(err)
			}
			if err := proofs[0].Verify(root, header); err != nil {
				t.Fatal(err)
			}
			for i := range engine.ChunkCount(n) {
				ch, err := st.ModelChunk(i)
				if err != nil {
					t.Fatal(err)
				}
				p := proofs[1+i]
				if !bytes.Equal(ch.Leaf(), leaves[1+i]) || !slices.EqualFunc(ch.Aunts, p.Aunts, bytes.Equal) {
					t.Fatalf("chunk %d: leaf or aunts differ from crypto/merkle's", i)
				}
				if err := p.Verify(root, ch.Leaf()); err != nil {
					t.Fatalf("chunk %d: merkle.Proof.Verify: %v", i, err)
				}
				cp := merkle.Proof{Total: int64(len(leaves)), Index: int64(1 + i), LeafHash: p.LeafHash, Aunts: ch.Aunts}
				if err := cp.Verify(root, ch.Leaf()); err != nil {
					t.Fatalf("chunk %d: engine aunts in a merkle.Proof: %v", i, err)
				}
				if err := engine.VerifyModelChunk(mh, n, ch); err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
			}
			if _, err := st.ModelChunk(engine.ChunkCount(n)); err == nil {
				t.Fatal("chunk past the end accepted")
			}
		})
	}
}

// TestVerifyModelChunkRejects: every way a chunk can be wrong is refused.
func TestVerifyModelChunkRejects(t *testing.T) {
	spec := chunkCases()[4].spec // 3000 parameters: chunks 0, 1 full, 2 of 952
	n := spec.TrainableParams()
	st, err := engine.StateFromParams(spec, engine.Hash{}, ints(int(n), 7))
	if err != nil {
		t.Fatal(err)
	}
	root := st.ModelHash()
	chunk := func(i uint64) engine.ModelChunk {
		ch, err := st.ModelChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	last := chunk(2)
	if len(last.Values) != 3000-2*1024 {
		t.Fatalf("last chunk has %d values", len(last.Values))
	}
	bad := map[string]func() (engine.Hash, uint64, engine.ModelChunk){
		"tampered value": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(1)
			c.Values[17]++
			return root, n, c
		},
		"wrong index": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(0)
			c.Index = 1
			return root, n, c
		},
		"index past the end": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(2)
			c.Index = 3
			return root, n, c
		},
		"one value short": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(0)
			c.Values = c.Values[:1023]
			return root, n, c
		},
		"one value long": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(2)
			c.Values = append(c.Values, 0)
			return root, n, c
		},
		"wrong parameter count": func() (engine.Hash, uint64, engine.ModelChunk) {
			return root, n + 1, chunk(2)
		},
		"aunt missing": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(1)
			c.Aunts = c.Aunts[:len(c.Aunts)-1]
			return root, n, c
		},
		"aunt extra": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(1)
			c.Aunts = append([][]byte{make([]byte, 32)}, c.Aunts...)
			return root, n, c
		},
		"no aunts": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(1)
			c.Aunts = nil
			return root, n, c
		},
		"short aunt": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(1)
			c.Aunts[0] = c.Aunts[0][:31]
			return root, n, c
		},
		"tampered aunt": func() (engine.Hash, uint64, engine.ModelChunk) {
			c := chunk(1)
			c.Aunts[0] = append([]byte(nil), c.Aunts[0]...)
			c.Aunts[0][0] ^= 1
			return root, n, c
		},
		"other model": func() (engine.Hash, uint64, engine.ModelChunk) {
			other := root
			other[0] ^= 1
			return other, n, chunk(1)
		},
	}
	for _, name := range slices.Sorted(maps.Keys(bad)) {
		r, params, c := bad[name]()
		if err := engine.VerifyModelChunk(r, params, c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for i := range uint64(3) {
		if err := engine.VerifyModelChunk(root, n, chunk(i)); err != nil {
			t.Errorf("chunk %d: %v", i, err)
		}
	}
}

// TestMeanRounding: FedAvg rounds the exact weighted mean to nearest, ties
// toward +infinity, for negative values too, without overflow at the int32
// and weight limits.
func TestMeanRounding(t *testing.T) {
	const maxI, minI = int32(1<<31 - 1), int32(-1 << 31)
	cases := []struct {
		name    string
		weights []uint64
		values  [][]int32
		want    []int32
	}{
		{"one update is itself", []uint64{5}, [][]int32{{-3, 0, 7}}, []int32{-3, 0, 7}},
		{"tie 0.5 goes up", []uint64{1, 1}, [][]int32{{0}, {1}}, []int32{1}},
		{"tie -0.5 goes up to 0", []uint64{1, 1}, [][]int32{{-1}, {0}}, []int32{0}},
		{"tie -1.5 goes up to -1", []uint64{1, 1}, [][]int32{{-1}, {-2}}, []int32{-1}},
		{"tie 2.5 goes up to 3", []uint64{1, 1}, [][]int32{{2}, {3}}, []int32{3}},
		{"1/3 down", []uint64{2, 1}, [][]int32{{0}, {1}}, []int32{0}},
		{"2/3 up", []uint64{1, 2}, [][]int32{{0}, {1}}, []int32{1}},
		{"-1/3 up to 0", []uint64{2, 1}, [][]int32{{0}, {-1}}, []int32{0}},
		{"-2/3 down to -1", []uint64{1, 2}, [][]int32{{0}, {-1}}, []int32{-1}},
		{"weighted by examples", []uint64{3000, 1000}, [][]int32{{100, -100}, {200, 60}}, []int32{125, -60}},
		{"int32 extremes", []uint64{1, 1}, [][]int32{{maxI, minI, maxI}, {maxI, minI, minI}}, []int32{maxI, minI, 0}},
		{"max total weight", []uint64{1 << 31, 1 << 31}, [][]int32{{maxI, minI}, {maxI - 1, minI}}, []int32{maxI, minI}},
		{"three updates", []uint64{1, 1, 1}, [][]int32{{1}, {1}, {2}}, []int32{1}},
		{"three updates, -4/3", []uint64{1, 1, 1}, [][]int32{{-1}, {-1}, {-2}}, []int32{-1}},
		{"three updates, -5/3", []uint64{1, 1, 1}, [][]int32{{-1}, {-2}, {-2}}, []int32{-2}},
	}
	for _, c := range cases {
		got, err := federated.Mean(c.weights, c.values)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMeanRefusesBadInput(t *testing.T) {
	cases := []struct {
		name    string
		weights []uint64
		values  [][]int32
	}{
		{"no updates", nil, nil},
		{"more weights than updates", []uint64{1, 1}, [][]int32{{1}}},
		{"fewer weights than updates", []uint64{1}, [][]int32{{1}, {1}}},
		{"zero weight", []uint64{1, 0}, [][]int32{{1}, {1}}},
		{"one weight above the limit", []uint64{federated.MaxTotalWeight + 1}, [][]int32{{1}}},
		{"total above the limit", []uint64{federated.MaxTotalWeight, 1}, [][]int32{{1}, {1}}},
		{"lengths differ", []uint64{1, 1}, [][]int32{{1, 2}, {1}}},
	}
	for _, c := range cases {
		if _, err := federated.Mean(c.weights, c.values); !errors.Is(err, federated.ErrAggregate) {
			t.Errorf("%s: got %v, want ErrAggregate", c.name, err)
		}
	}
	if _, err := federated.Mean([]uint64{federated.MaxTotalWeight}, [][]int32{{1}}); err != nil {
		t.Errorf("total weight exactly at the limit: %v", err)
	}

	a, _ := engine.ModelFromParams(chunkCases()[1].spec.Arch(), make([]int32, 1023))
	b, _ := engine.ModelFromParams(chunkCases()[2].spec.Arch(), make([]int32, 1024))
	if _, err := federated.MeanModels([]uint64{1, 1}, []*engine.Model{a, b}); !errors.Is(err, federated.ErrAggregate) {
		t.Errorf("two architectures: got %v", err)
	}
	if _, err := federated.MeanModels(nil, nil); !errors.Is(err, federated.ErrAggregate) {
		t.Errorf("no models: got %v", err)
	}
	if _, err := federated.MeanModels([]uint64{1}, []*engine.Model{{Arch: a.Arch}}); !errors.Is(err, federated.ErrAggregate) {
		t.Errorf("invalid model: got %v", err)
	}
}

// TestChunkMeanIsModelMean: what the chain recomputes for a drawn chunk (Mean
// of that chunk of every update, each proven against its update's hash) is
// that chunk of MeanModels, and the chunk means assemble to the aggregate's
// hash.
func TestChunkMeanIsModelMean(t *testing.T) {
	spec := chunkCases()[3].spec // 1024 -> 5: 5125 parameters, a last chunk of 5
	spec.Outputs = 5
	n := spec.TrainableParams()
	weights := []uint64{6000, 5999, 1, 3}
	var models []*engine.Model
	for i := range weights {
		p := ints(int(n), uint64(100+i))
		for j := range p {
			p[j] >>= 8 + i // different scales, both signs
		}
		m, err := engine.ModelFromParams(spec.Arch(), p)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	agg, err := federated.MeanModels(weights, models)
	if err != nil {
		t.Fatal(err)
	}
	header, err := engine.ModelHeader(spec, engine.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	var all []int32
	for c := range engine.ChunkCount(n) {
		vals := make([][]int32, len(models))
		for i, m := range models {
			ch, err := m.ModelChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := engine.VerifyModelChunk(m.Hash(), n, ch); err != nil {
				t.Fatal(err)
			}
			vals[i] = ch.Values
		}
		mean, err := federated.Mean(weights, vals)
		if err != nil {
			t.Fatal(err)
		}
		want, err := agg.ModelChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(mean, want.Values) {
			t.Fatalf("chunk %d: chunk mean differs from the model mean", c)
		}
		all = append(all, mean...)
	}
	if h := engine.ModelHashFromParts(header, all); h != agg.Hash() {
		t.Fatalf("chunk means hash to %s, aggregate is %s", h, agg.Hash())
	}
}

// goldenRows are seeded synthetic rows: 16 features in [0, 1], label the
// index of the largest of the first 4 features (learnable, not trivial).
type goldenRows struct{ spec engine.Spec }

func (g goldenRows) Row(i uint64) (engine.Example, error) {
	v := ints(int(g.spec.Inputs), i*977+5)
	x := make([]int32, len(v))
	for k, u := range v {
		x[k] = int32(uint32(u) % (1<<g.spec.FracBits + 1))
	}
	label := 0
	for k := 1; k < int(g.spec.Outputs); k++ {
		if x[k] > x[label] {
			label = k
		}
	}
	return engine.Example{X: x, Label: uint32(label)}, nil
}

// fedRun is a small federated job: participants train steps local steps on
// their ShardRange shards from the round's global model, then FedAvg weighted
// by shard rows, exactly as the chain verifies it.
type fedRun struct {
	name         string
	spec         engine.Spec
	rows         uint64
	participants uint32
	rounds       uint32
	steps        uint64
}

// run returns "name hash" golden lines: per round, each update's final state
// hash and the global model hash.
func (r fedRun) run(t testing.TB) []string {
	jobSeed := []byte(r.name)
	src := goldenRows{spec: r.spec}
	st0, err := engine.NewInitialState(engine.Job{Spec: r.spec, Seed: sha256.Sum256(jobSeed), RowCount: r.rows})
	if err != nil {
		t.Fatal(err)
	}
	global, err := st0.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	header, err := engine.ModelHeader(r.spec, engine.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{fmt.Sprintf("%s/round0/global %s", r.name, global.Hash())}
	for round := uint32(1); round <= r.rounds; round++ {
		startHash, err := federated.StartStateHash(r.spec, global.Hash())
		if err != nil {
			t.Fatal(err)
		}
		var weights []uint64
		var updates []*engine.Model
		for p := range r.participants {
			lo, hi, err := federated.ShardRange(r.rows, r.participants, p)
			if err != nil {
				t.Fatal(err)
			}
			addr := sha256.Sum256([]byte{byte(p)})
			job := engine.Job{Spec: r.spec, Seed: federated.ParticipantSeed(jobSeed, round, addr[:20]), RowCount: hi - lo}
			start, err := engine.StateFromParams(r.spec, engine.Hash{}, global.Params())
			if err != nil {
				t.Fatal(err)
			}
			if start.Hash() != startHash {
				t.Fatalf("round %d: start state %s, StartStateHash %s", round, start.Hash(), startHash)
			}
			st, _, err := engine.RunSegment(job, start, federated.ShardRows{Src: src, Offset: lo}, r.steps)
			if err != nil {
				t.Fatal(err)
			}
			m, err := st.Model(nil)
			if err != nil {
				t.Fatal(err)
			}
			if m.Hash() != st.ModelHash() {
				t.Fatalf("round %d participant %d: model hash differs from the state's model hash", round, p)
			}
			lines = append(lines, fmt.Sprintf("%s/round%d/update%d %s", r.name, round, p, st.Hash()))
			weights = append(weights, hi-lo)
			updates = append(updates, m)
		}
		if global, err = federated.MeanModels(weights, updates); err != nil {
			t.Fatal(err)
		}
		if h := engine.ModelHashFromParts(header, global.Params()); h != global.Hash() {
			t.Fatalf("round %d: ModelHashFromParts %s, aggregate hash %s", round, h, global.Hash())
		}
		lines = append(lines, fmt.Sprintf("%s/round%d/global %s", r.name, round, global.Hash()))
	}
	return lines
}

func goldenRuns() []fedRun {
	softmax := engine.Spec{Model: engine.ModelLinear, Inputs: 16, Outputs: 4, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: engine.OptimizerSGD, LearningRate: 1 << 14, Momentum: 58982, BatchSize: 8, FracBits: 16}
	mlp := engine.Spec{Model: engine.ModelMLP, Inputs: 16, Hidden: []uint32{8}, Outputs: 4, Objective: engine.ObjectiveSoftmaxCE,
		Optimizer: engine.OptimizerAdam, LearningRate: 655, Beta1: 58982, Beta2: 65470, Epsilon: 1, BatchSize: 8, FracBits: 16}
	return []fedRun{
		{name: "softmax-16-4/momentum", spec: softmax, rows: 100, participants: 3, rounds: 2, steps: 6},
		{name: "mlp-16-8-4/adam", spec: mlp, rows: 100, participants: 3, rounds: 2, steps: 6},
	}
}

// splitLine pins a NonIID order (its SHA-256 over u64 little endian).
func splitLine(t testing.TB) string {
	labels := make([]uint32, 1000)
	for i, v := range ints(len(labels), 3) {
		labels[i] = uint32(v) % 10
	}
	order, err := federated.NonIID(labels, 10, 2, 42)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, i := range order {
		h.Write(binary.LittleEndian.AppendUint64(nil, i))
	}
	return fmt.Sprintf("split/1000-rows-10x2-seed42 %x", h.Sum(nil))
}

// TestGoldenFederated pins the hashes of small federated runs (every update
// and every global model) and of a non-IID split: the same bits on every
// architecture (scripts/test-cross-arch.sh) and under both kernels.
func TestGoldenFederated(t *testing.T) {
	var lines []string
	for _, r := range goldenRuns() {
		var first []string
		for _, simd := range []bool{true, false} {
			prev := engine.SetSIMD(simd)
			got := r.run(t)
			engine.SetSIMD(prev)
			if first == nil {
				first = got
			} else if !slices.Equal(got, first) {
				t.Fatalf("%s: the portable kernel gives other hashes than the SIMD kernel", r.name)
			}
		}
		lines = append(lines, first...)
	}
	lines = append(lines, splitLine(t))
	if *update {
		body := "# name hash (update: final state hash; global: model hash; split: SHA-256 of the row order)\n" +
			"# regenerate with: go test ./pkg/federated -run TestGoldenFederated -update\n" +
			strings.Join(lines, "\n") + "\n"
		if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenFile, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenFile)
		return
	}
	want := readGolden(t)
	if len(want) != len(lines) {
		t.Errorf("%s has %d lines, this run %d (run with -update after a deliberate change)", goldenFile, len(want), len(lines))
	}
	for i, l := range lines {
		if i < len(want) && want[i] != l {
			t.Errorf("got  %s\nwant %s", l, want[i])
		}
	}
}

func readGolden(t testing.TB) []string {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenFederated -update to create it)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
