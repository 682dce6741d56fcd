package engine

import (
	"strings"
	"testing"
)

func TestDefaultSpecsValid(t *testing.T) {
	for name, s := range map[string]Spec{
		"softmax": DefaultSpecMNISTSoftmax(), "softmax-adam": DefaultSpecMNISTSoftmaxAdam(),
		"mlp": DefaultSpecMNISTMLP(), "lora": DefaultSpecMNISTLoRA(),
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		d, err := DecodeSpec(s.Encode())
		if err != nil || !d.Equal(s) {
			t.Errorf("%s: round trip: %v", name, err)
		}
	}
	if got := DefaultSpecMNISTSoftmax().LearningRate; got != 1311 { // round(0.02 * 65536)
		t.Errorf("lr raw = %d", got)
	}
}

func TestSpecValidateNamesFieldAndLimit(t *testing.T) {
	base := DefaultSpecMNISTMLP()
	cases := []struct {
		name string
		mod  func(*Spec)
		want string
	}{
		{"frac", func(s *Spec) { s.FracBits = 30 }, "FracBits"},
		{"frac-low", func(s *Spec) { s.FracBits = 4 }, "FracBits"},
		{"model", func(s *Spec) { s.Model = 9 }, "model"},
		{"hidden-linear", func(s *Spec) { s.Model = ModelLinear }, "hidden"},
		{"hidden-none", func(s *Spec) { s.Hidden = nil }, "hidden"},
		{"hidden-many", func(s *Spec) { s.Hidden = []uint32{4, 4, 4, 4} }, "hidden"},
		{"width", func(s *Spec) { s.Hidden = []uint32{5000} }, "hidden[0]"},
		{"inputs", func(s *Spec) { s.Inputs = 0 }, "inputs"},
		{"outputs", func(s *Spec) { s.Outputs = 0 }, "outputs"},
		{"params", func(s *Spec) { s.Inputs, s.Hidden = 60000, []uint32{4000} }, "params"},
		{"ce-outputs", func(s *Spec) { s.Outputs = 1 }, "outputs"},
		{"bt-outputs", func(s *Spec) { s.Objective = ObjectiveBradleyTerry }, "outputs"},
		{"objective", func(s *Spec) { s.Objective = 0 }, "objective"},
		{"lr0", func(s *Spec) { s.LearningRate = 0 }, "learning rate"},
		{"lrbig", func(s *Spec) { s.LearningRate = 17 << 16 }, "learning rate"},
		{"momentum", func(s *Spec) { s.Momentum = 1 << 16 }, "momentum"},
		{"sgd-betas", func(s *Spec) { s.Beta1 = 5 }, "beta1"},
		{"optimizer", func(s *Spec) { s.Optimizer = 7 }, "optimizer"},
		{"adam-momentum", func(s *Spec) { s.Optimizer = OptimizerAdam; s.Epsilon = 1 }, "momentum"},
		{"adam-eps", func(s *Spec) { s.Optimizer, s.Momentum = OptimizerAdam, 0 }, "epsilon"},
		{"adam-beta", func(s *Spec) { s.Optimizer, s.Momentum, s.Epsilon, s.Beta2 = OptimizerAdam, 0, 1, 1<<16 }, "beta"},
		{"batch0", func(s *Spec) { s.BatchSize = 0 }, "batch size"},
		{"batchbig", func(s *Spec) { s.BatchSize = 5000 }, "batch size"},
		{"alpha-without-rank", func(s *Spec) { s.LoRAAlpha = 3 }, "lora alpha"},
		{"rank", func(s *Spec) { s.LoRARank, s.LoRAAlpha = 65, 1 }, "lora rank"},
		{"alpha0", func(s *Spec) { s.LoRARank = 4 }, "lora alpha"},
	}
	for _, c := range cases {
		s := base
		s.Hidden = append([]uint32(nil), base.Hidden...)
		c.mod(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.want)) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.want)
		}
	}
}

func TestDecodeSpecRejects(t *testing.T) {
	good := DefaultSpecMNISTMLP().Encode()
	bad := map[string][]byte{
		"empty":    nil,
		"short":    good[:len(good)-1],
		"trailing": append(append([]byte(nil), good...), 0),
		"version":  append([]byte{2}, good[1:]...),
		"reserved": func() []byte { b := append([]byte(nil), good...); b[6] = 1; return b }(),
		"hidden":   func() []byte { b := append([]byte(nil), good...); b[5] = 200; return b }(),
		"invalid":  func() []byte { b := append([]byte(nil), good...); b[1] = 0; return b }(),
	}
	for name, b := range bad {
		if _, err := DecodeSpec(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
