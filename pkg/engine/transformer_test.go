package engine

import (
	"testing"
)

// lmRows is a RowSource of byte sequences cut from a fixed text.
type lmRows struct {
	text []byte
	T    int
	dpo  bool
}

func (r lmRows) Row(i uint64) (Example, error) {
	off := int(i) * r.T % (len(r.text) - r.T - 1)
	ex := Example{Tokens: append([]byte(nil), r.text[off:off+r.T+1]...)}
	if r.dpo {
		ex.PromptLen = uint32(r.T / 2)
		ex.RejectedTokens = append([]byte(nil), ex.Tokens...)
		for j := int(ex.PromptLen); j <= r.T; j++ {
			ex.RejectedTokens[j] = 'x'
		}
	}
	return ex, nil
}

var lmText = []byte(`package main

import "fmt"

func main() {
	for i := 0; i < 10; i++ {
		fmt.Println(i, i*i)
	}
}
`)

func tinyLMSpec() Spec {
	return Spec{Model: ModelTransformer, Inputs: 16, Hidden: []uint32{2, 16, 2}, Outputs: Vocab,
		Objective: ObjectiveNextToken, Optimizer: OptimizerAdam, LearningRate: fix(1, 100),
		Beta1: fix(9, 10), Beta2: fix(999, 1000), Epsilon: 1, BatchSize: 4, FracBits: DefaultFracBits}
}

// TestTransformerTrains pretrains a tiny LM, checks that the loss falls, that
// the meter counts exactly MACsPerStep, and that the SIMD and portable
// kernels give the same state; then a LoRA fine-tune and a DPO step run on
// the result.
func TestTransformerTrains(t *testing.T) {
	spec := tinyLMSpec()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	rows := lmRows{text: lmText, T: 16}
	job := Job{Spec: spec, Seed: [32]byte{1}, RowCount: 64}
	st, err := NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	idx := []uint64{0, 1, 2, 3, 4, 5, 6, 7}
	before, err := Evaluate(job, st, rows, idx)
	if err != nil {
		t.Fatal(err)
	}
	end, mt, err := RunSegment(job, st, rows, 40)
	if err != nil {
		t.Fatal(err)
	}
	if want := 40 * MACsPerStep(spec); mt.MACs != want {
		t.Fatalf("meter counted %d MACs, MACsPerStep says %d", mt.MACs, want)
	}
	after, err := Evaluate(job, end, rows, idx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss per byte %.3f -> %.3f nats, top-1 %d -> %d of %d",
		float64(before.Loss)/65536, float64(after.Loss)/65536, before.Correct, after.Correct, after.Tokens)
	if after.Loss >= before.Loss*2/3 {
		t.Fatalf("loss did not fall: %d -> %d", before.Loss, after.Loss)
	}
	if SIMDAvailable() {
		prev := SetSIMD(false)
		end2, _, err := RunSegment(job, st, rows, 40)
		SetSIMD(prev)
		if err != nil {
			t.Fatal(err)
		}
		if end2.Hash() != end.Hash() {
			t.Fatal("portable and SIMD kernels disagree")
		}
	}
	base, err := end.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	lora := spec
	lora.LoRARank, lora.LoRAAlpha = 2, fix(4, 1)
	ljob := Job{Spec: lora, Seed: [32]byte{2}, RowCount: 64, Base: base}
	lst, err := NewInitialState(ljob)
	if err != nil {
		t.Fatal(err)
	}
	if _, mt, err = RunSegment(ljob, lst, rows, 3); err != nil {
		t.Fatal(err)
	} else if want := 3 * MACsPerStep(lora); mt.MACs != want {
		t.Fatalf("LoRA meter %d MACs, MACsPerStep %d", mt.MACs, want)
	}
	dpo := lora
	dpo.Objective, dpo.DPOBeta = ObjectiveDPO, fix(1, 10)
	djob := Job{Spec: dpo, Seed: [32]byte{3}, RowCount: 64, Base: base}
	dst, err := NewInitialState(djob)
	if err != nil {
		t.Fatal(err)
	}
	drows := lmRows{text: lmText, T: 16, dpo: true}
	d0, err := Evaluate(djob, dst, drows, idx)
	if err != nil {
		t.Fatal(err)
	}
	dend, mt, err := RunSegment(djob, dst, drows, 20)
	if err != nil {
		t.Fatal(err)
	}
	if want := 20 * MACsPerStep(dpo); mt.MACs != want {
		t.Fatalf("DPO meter %d MACs, MACsPerStep %d", mt.MACs, want)
	}
	d1, err := Evaluate(djob, dend, drows, idx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DPO loss %.4f -> %.4f, reward accuracy %d -> %d of %d", float64(d0.Loss)/65536, float64(d1.Loss)/65536, d0.Correct, d1.Correct, d1.Count)
	if d1.Loss >= d0.Loss {
		t.Fatalf("DPO loss did not fall: %d -> %d", d0.Loss, d1.Loss)
	}
}

// TestTransformerSpecEncoding round-trips LM and DPO specs and refuses
// mismatched objectives.
func TestTransformerSpecEncoding(t *testing.T) {
	s := tinyLMSpec()
	d := s
	d.LoRARank, d.LoRAAlpha, d.Objective, d.DPOBeta = 2, fix(4, 1), ObjectiveDPO, fix(1, 10)
	for _, sp := range []Spec{s, d} {
		got, err := DecodeSpec(sp.Encode())
		if err != nil || !got.Equal(sp) {
			t.Fatalf("round trip: %v", err)
		}
	}
	bad := s
	bad.Objective = ObjectiveSoftmaxCE
	if bad.Validate() == nil {
		t.Fatal("softmax CE accepted for a transformer")
	}
	bad = DefaultSpecMNISTMLP()
	bad.Objective = ObjectiveNextToken
	if bad.Validate() == nil {
		t.Fatal("next token accepted for an MLP")
	}
	bad = s
	bad.Objective, bad.DPOBeta = ObjectiveDPO, fix(1, 10)
	if bad.Validate() == nil {
		t.Fatal("dense DPO accepted")
	}
}

// TestGenerate: greedy generation from a model trained on a snippet
// reproduces the snippet's continuation; sampling is reproducible from its
// seed and changes with it.
func TestGenerate(t *testing.T) {
	spec := tinyLMSpec()
	job := Job{Spec: spec, Seed: [32]byte{1}, RowCount: 64}
	st, _ := NewInitialState(job)
	st, _, err := RunSegment(job, st, lmRows{text: lmText, T: 16}, 150)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := st.Model(nil)
	greedy, err := Generate(m, []byte("func main() {\n\tfor"), GenerateOptions{MaxTokens: 12, TopK: 1, Stop: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("greedy: %q", greedy)
	if string(greedy[:4]) != " i :" {
		t.Fatalf("greedy continuation %q does not follow the training text", greedy)
	}
	a, _ := Generate(m, []byte("fmt"), GenerateOptions{MaxTokens: 40, TopK: 40, Seed: [32]byte{5}, Stop: -1})
	b, _ := Generate(m, []byte("fmt"), GenerateOptions{MaxTokens: 40, TopK: 40, Seed: [32]byte{5}, Stop: -1})
	c, _ := Generate(m, []byte("fmt"), GenerateOptions{MaxTokens: 40, TopK: 40, Seed: [32]byte{6}, Stop: -1})
	if string(a) != string(b) {
		t.Fatal("sampling with one seed is not reproducible")
	}
	if string(a) == string(c) {
		t.Fatal("two seeds sampled the same 40 bytes")
	}
	if _, err := Generate(m, nil, GenerateOptions{MaxTokens: 1}); err == nil {
		t.Fatal("empty prompt accepted")
	}
	p, err := NextByteProbs(m, []byte("fmt.Print"))
	if err != nil {
		t.Fatal(err)
	}
	if argmax(p) != 'l' {
		t.Fatalf("most likely byte after fmt.Print is %q", rune(argmax(p)))
	}
}

type exRows []Example

func (r exRows) Row(i uint64) (Example, error) { return r[int(i)%len(r)], nil }

// TestTransformerBadRows: malformed token rows are refused with an error
// naming the row, never a panic, and the start state is untouched.
func TestTransformerBadRows(t *testing.T) {
	spec := tinyLMSpec()
	dpo := spec
	dpo.LoRARank, dpo.LoRAAlpha, dpo.Objective, dpo.DPOBeta = 2, 4<<16, ObjectiveDPO, 1<<15
	good := make([]byte, 17)
	base, err := NewInitialState(Job{Spec: spec, RowCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	bm, _ := base.Model(nil)
	other := append([]byte(nil), good...)
	other[0] = 'x'
	for _, c := range []struct {
		name string
		spec Spec
		ex   Example
	}{
		{"short", spec, Example{Tokens: good[:16]}},
		{"long", spec, Example{Tokens: append(good, 0)}},
		{"no rejected", dpo, Example{Tokens: good, PromptLen: 4}},
		{"prompt 0", dpo, Example{Tokens: good, RejectedTokens: good, PromptLen: 0}},
		{"prompt too long", dpo, Example{Tokens: good, RejectedTokens: good, PromptLen: 17}},
		{"different prompts", dpo, Example{Tokens: good, RejectedTokens: other, PromptLen: 4}},
	} {
		job := Job{Spec: c.spec, RowCount: 4}
		if c.spec.IsLoRA() {
			job.Base = bm
		}
		st, err := NewInitialState(job)
		if err != nil {
			t.Fatal(err)
		}
		h := st.Hash()
		if _, _, err := RunSegment(job, st, exRows{c.ex}, 1); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
		if st.Hash() != h {
			t.Errorf("%s: start state changed", c.name)
		}
	}
}
