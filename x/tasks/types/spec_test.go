package types

import (
	"errors"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// TestTransformerSpecRoundTrip: a transformer spec (DPO's beta included)
// survives the on-chain form, and the stacked-base rules of the schedule
// refuse what cannot be revealed.
func TestTransformerSpecRoundTrip(t *testing.T) {
	lm := engine.Spec{Model: engine.ModelTransformer, Inputs: 16, Hidden: []uint32{1, 16, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveDPO, Optimizer: engine.OptimizerSGD, LearningRate: 655, BatchSize: 2, FracBits: 16,
		LoRARank: 2, LoRAAlpha: 2 << 16, DPOBeta: 1 << 15}
	if err := lm.Validate(); err != nil {
		t.Fatal(err)
	}
	base := make([]byte, HashLen)
	ts := FromEngineSpec(lm, 10, 2, base)
	got, err := ts.EngineSpec()
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Encode()) != string(lm.Encode()) || got.DPOBeta != lm.DPOBeta {
		t.Fatalf("round trip changed the spec: %+v vs %+v", got, lm)
	}
	p := DefaultParams()
	if err := ts.ValidateSchedule(p); err != nil {
		t.Fatal(err)
	}
	bad := ts
	bad.DpoBeta = 0
	if _, err := bad.EngineSpec(); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("DPO without beta: %v", err)
	}
	stacked := ts
	stacked.BaseLoraRank = engine.MaxLoRARank + 1
	if err := stacked.ValidateSchedule(p); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("base_lora_rank above the engine's limit: %v", err)
	}
	stacked.BaseLoraRank = 4
	if err := stacked.ValidateSchedule(p); err != nil {
		t.Fatal(err)
	}
	dense := FromEngineSpec(engine.DefaultSpecMNISTMLP(), 10, 2, nil)
	dense.BaseLoraRank = 4
	if err := dense.ValidateSchedule(p); !errors.Is(err, ErrInvalidSpec) {
		t.Fatalf("a stacked base on a dense (non-LoRA) task: %v", err)
	}
}
