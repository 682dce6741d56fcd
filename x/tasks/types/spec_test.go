package types

import (
	"errors"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// TestEngineSpecRefusesTransformer: a valid engine transformer spec is
// refused on chain (ErrInvalidSpec) until its reveal gas is calibrated,
// while the MLP presets still convert.
func TestEngineSpecRefusesTransformer(t *testing.T) {
	lm := engine.Spec{Model: engine.ModelTransformer, Inputs: 16, Hidden: []uint32{1, 16, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerSGD, LearningRate: 655, BatchSize: 2, FracBits: 16}
	if err := lm.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := FromEngineSpec(lm, 10, 2, nil).EngineSpec()
	if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "transformer") {
		t.Fatalf("transformer spec: got %v, want ErrInvalidSpec naming the transformer", err)
	}
	if _, err := FromEngineSpec(engine.DefaultSpecMNISTMLP(), 10, 2, nil).EngineSpec(); err != nil {
		t.Fatalf("MLP preset refused: %v", err)
	}
}
