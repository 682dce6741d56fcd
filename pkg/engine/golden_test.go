package engine

import (
	"bufio"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from this run")

const goldenFile = "testdata/golden.txt"

// goldenCase is one model x objective x optimiser combination.
type goldenCase struct {
	name string
	job  Job
	rows RowSource
	segs uint64 // segments
	len  uint64 // steps per segment
}

func optSpec(s Spec, opt string) Spec {
	one := uint32(1) << s.FracBits
	s.Momentum, s.Beta1, s.Beta2, s.Epsilon = 0, 0, 0, 0
	switch opt {
	case "sgd":
		s.Optimizer, s.LearningRate = OptimizerSGD, one/10
	case "momentum":
		s.Optimizer, s.LearningRate, s.Momentum = OptimizerSGD, one/20, one*9/10
	case "adam":
		s.Optimizer, s.LearningRate, s.Beta1, s.Beta2, s.Epsilon = OptimizerAdam, one/100, one*9/10, one*999/1000, 1
	}
	return s
}

func objSpec(s Spec, obj string) Spec {
	switch obj {
	case "mse":
		s.Objective, s.Outputs = ObjectiveMSE, 3
	case "ce":
		s.Objective, s.Outputs = ObjectiveSoftmaxCE, 4
	case "bt":
		s.Objective, s.Outputs = ObjectiveBradleyTerry, 1
	}
	return s
}

// baseFor returns a non-trivial frozen base for a LoRA spec: the dense
// spec's initial state trained for 3 steps.
func baseFor(t testing.TB, s Spec, rows RowSource) *Model {
	d := s
	d.LoRARank, d.LoRAAlpha = 0, 0
	job := Job{Spec: d, Seed: [32]byte{0xba, 0x5e}, RowCount: 50}
	st, err := NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	st, _, err = RunSegment(job, st, rows, 3)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func syntheticCases(t testing.TB) []goldenCase {
	var cs []goldenCase
	models := []struct {
		name   string
		kind   ModelKind
		hidden []uint32
		lora   uint32
	}{
		{"linear", ModelLinear, nil, 0},
		{"mlp1", ModelMLP, []uint32{16}, 0},
		{"mlp3", ModelMLP, []uint32{10, 8, 6}, 0},
		{"lora-linear", ModelLinear, nil, 2},
		{"lora-mlp", ModelMLP, []uint32{16}, 3},
	}
	for _, m := range models {
		for _, obj := range []string{"mse", "ce", "bt"} {
			for _, opt := range []string{"sgd", "momentum", "adam"} {
				s := Spec{Model: m.kind, Inputs: 12, Hidden: m.hidden, BatchSize: 8, FracBits: 16}
				s = optSpec(objSpec(s, obj), opt)
				if m.lora > 0 {
					s.LoRARank, s.LoRAAlpha = m.lora, 2<<16
				}
				cs = append(cs, goldenCase{name: fmt.Sprintf("%s/%s/%s", m.name, obj, opt), job: Job{Spec: s}})
			}
		}
	}
	// Other fixed-point widths.
	for _, f := range []uint32{8, 12, 20, 24} {
		s := Spec{Model: ModelMLP, Inputs: 12, Hidden: []uint32{16}, BatchSize: 8, FracBits: f}
		s = optSpec(objSpec(s, "ce"), "momentum")
		cs = append(cs, goldenCase{name: fmt.Sprintf("mlp1/ce/momentum/F%d", f), job: Job{Spec: s}})
		s = optSpec(objSpec(s, "mse"), "adam")
		cs = append(cs, goldenCase{name: fmt.Sprintf("mlp1/mse/adam/F%d", f), job: Job{Spec: s}})
	}
	// Batch sizes that are not powers of two (gradient division by roundDiv).
	for _, b := range []uint32{10, 7} {
		s := Spec{Model: ModelMLP, Inputs: 12, Hidden: []uint32{16}, BatchSize: b, FracBits: 16}
		cs = append(cs, goldenCase{name: fmt.Sprintf("mlp1/ce/momentum/B%d", b), job: Job{Spec: optSpec(objSpec(s, "ce"), "momentum")}})
		s.LoRARank, s.LoRAAlpha = 2, 3<<15
		cs = append(cs, goldenCase{name: fmt.Sprintf("lora-mlp/bt/adam/B%d", b), job: Job{Spec: optSpec(objSpec(s, "bt"), "adam")}})
	}
	for i := range cs {
		c := &cs[i]
		if c.job.Spec.Model == ModelTransformer {
			continue
		}
		c.job.Seed = sha256.Sum256([]byte(c.name))
		c.job.RowCount = 97
		c.rows = synthRows{spec: c.job.Spec, n: c.job.RowCount}
		c.segs, c.len = 3, 5
		if c.job.Spec.IsLoRA() {
			c.job.Base = baseFor(t, c.job.Spec, c.rows)
		}
	}
	// The byte-level transformer: pretraining (Adam, momentum at F = 12), a
	// LoRA fine-tune and DPO, on a base trained from the pretraining spec.
	lm := tinyLMSpec()
	lm.Inputs, lm.Hidden, lm.BatchSize = 8, []uint32{2, 8, 2}, 3
	lmRowsFor := func(dpo bool) RowSource { return lmRows{text: lmText, T: 8, dpo: dpo} }
	lmMom := optSpec(lm, "momentum")
	lmMom.FracBits, lmMom.LearningRate, lmMom.Momentum = 12, 1<<12/20, 1<<12*9/10
	lmLoRA := lm
	lmLoRA.LoRARank, lmLoRA.LoRAAlpha = 2, 4<<16
	lmDPO := lmLoRA
	lmDPO.Objective, lmDPO.DPOBeta = ObjectiveDPO, 1<<15
	var lmBase *Model
	for _, c := range []struct {
		name string
		spec Spec
	}{{"lm/next-token/adam", lm}, {"lm/next-token/momentum/F12", lmMom}, {"lm-lora/next-token/adam", lmLoRA}, {"lm-lora/dpo/adam", lmDPO}} {
		g := goldenCase{name: c.name, job: Job{Spec: c.spec, Seed: sha256.Sum256([]byte(c.name)), RowCount: 97},
			rows: lmRowsFor(c.spec.Objective == ObjectiveDPO), segs: 3, len: 2}
		if c.spec.IsLoRA() {
			if lmBase == nil {
				lmBase = baseFor(t, lm, lmRowsFor(false))
			}
			g.job.Base = lmBase
		}
		cs = append(cs, g)
	}
	return cs
}

// transcript runs a case and returns the hash over its checkpoint hashes
// h_0..h_N, the final state hash and the MAC count.
func transcript(t testing.TB, c goldenCase) (Hash, Hash, uint64) {
	st, err := NewInitialState(c.job)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	h := sha256.New()
	var macs uint64
	for i := uint64(0); ; i++ {
		hs := st.Hash()
		h.Write(hs[:])
		checkRoundTrip(t, c.name, c.job.Spec, st)
		if i == c.segs {
			break
		}
		var mt Meter
		st, mt, err = RunSegment(c.job, st, c.rows, c.len)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		macs += mt.MACs
	}
	var th Hash
	h.Sum(th[:0])
	return th, st.Hash(), macs
}

func checkRoundTrip(t testing.TB, name string, spec Spec, st *State) {
	enc := st.Encode()
	d, err := DecodeState(spec, enc)
	if err != nil {
		t.Fatalf("%s: decode of an encoded state: %v", name, err)
	}
	if string(d.Encode()) != string(enc) || d.Hash() != st.Hash() {
		t.Fatalf("%s: state does not round-trip", name)
	}
	if StateHashFrom(st.ModelHash(), st.OptHash(), st.Step) != st.Hash() {
		t.Fatalf("%s: StateHashFrom mismatch", name)
	}
}

func readGolden(t testing.TB, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Golden -update to create it)", err)
	}
	defer f.Close()
	g := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		g[name] = rest
	}
	return g
}

func writeGolden(t testing.TB, path string, lines []string) {
	slices.Sort(lines)
	body := "# name transcript-hash final-state-hash MACs\n" +
		"# regenerate with: go test ./pkg/engine -run 'TestGolden' -update\n" +
		strings.Join(lines, "\n") + "\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGolden pins the transcripts of every model x objective x optimiser
// combination (and several fixed-point widths), under every kernel (SIMD
// and portable) and thread count: the same bits everywhere, including under
// qemu on other architectures (scripts/test-cross-arch.sh).
func TestGolden(t *testing.T) {
	cases := syntheticCases(t)
	var lines []string
	var golden map[string]string
	if !*update {
		golden = readGolden(t, goldenFile)
	}
	for _, c := range cases {
		var first string
		kernelModes(t, func(t *testing.T) {
			th, fh, macs := transcript(t, c)
			got := fmt.Sprintf("%s %s %d", th, fh, macs)
			if first == "" {
				first = got
			} else if got != first {
				t.Fatalf("%s: simd=%v procs=%d gives %s, other mode gave %s", c.name, useSIMD.Load(), runtime.GOMAXPROCS(0), got, first)
			}
		})
		lines = append(lines, c.name+" "+first)
		if want := macsPerStepTimes(c); want != lastField(first) {
			t.Errorf("%s: meter MACs %s != MACsPerStep*steps %s", c.name, lastField(first), want)
		}
		if !*update {
			if g, ok := golden[c.name]; !ok {
				t.Errorf("%s: not in %s (run with -update)", c.name, goldenFile)
			} else if g != first {
				t.Errorf("%s: got %s, golden %s", c.name, first, g)
			}
		}
	}
	if *update {
		writeGolden(t, goldenFile, lines)
		t.Logf("wrote %s", goldenFile)
	}
}

func lastField(s string) string { f := strings.Fields(s); return f[len(f)-1] }

func macsPerStepTimes(c goldenCase) string {
	return fmt.Sprint(MACsPerStep(c.job.Spec) * c.segs * c.len)
}
