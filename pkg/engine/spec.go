package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ModelKind selects the architecture family.
type ModelKind uint8

// Model kinds. The zero value is invalid on purpose.
const (
	ModelLinear ModelKind = 1 // one affine layer: linear or softmax regression
	ModelMLP    ModelKind = 2 // 1-3 hidden ReLU layers
	// ModelTransformer is a decoder-only byte-level language model
	// (transformer.go). Its architecture reuses the Arch fields: Inputs is
	// the context length T, Outputs the vocabulary (always 256 bytes) and
	// Hidden = [blocks, width, heads].
	ModelTransformer ModelKind = 3
)

// Objective selects the loss.
type Objective uint8

// Objectives. With B the batch size:
//
//	MSE:          L = (1/B) sum_b 1/2 ||y_b - t_b||^2
//	SoftmaxCE:    L = (1/B) sum_b -ln softmax(z_b)[label_b]
//	BradleyTerry: L = (1/B) sum_b -ln sigmoid(s(chosen_b) - s(rejected_b)), Outputs == 1
//	NextToken:    L = (1/(B*T)) sum_b sum_t -ln softmax(z_bt)[x_b,t+1] (transformer)
//	DPO:          L = (1/B) sum_b -ln sigmoid(beta * ((lp(y_w) - lpref(y_w)) - (lp(y_l) - lpref(y_l))))
//	              (transformer LoRA; lp sums the log-probabilities of the
//	              response tokens, lpref is the frozen base's; beta = DPOBeta)
const (
	ObjectiveMSE          Objective = 1
	ObjectiveSoftmaxCE    Objective = 2
	ObjectiveBradleyTerry Objective = 3
	ObjectiveNextToken    Objective = 4
	ObjectiveDPO          Objective = 5
)

// Optimizer selects the update rule.
type Optimizer uint8

// Optimizers (all hyper-parameters are fixed point with F fractional bits):
//
//	SGD (Momentum = 0):  w -= round(lr*g)
//	SGD (Momentum = mu): v = round(mu*v + g); w -= round(lr*v)
//	Adam: m = round(b1*m + (1-b1)*g); v = round(b2*v + (1-b2)*g^2) (v has 2F
//	      fractional bits, int64); with t = step+1,
//	      lr_t = lr*sqrt(1-b2^t)/(1-b1^t) (Q30);
//	      w -= round(lr_t*m / (sqrtRound(v) + eps))
//
// (Kingma & Ba's "efficient" form of the bias correction.)
const (
	OptimizerSGD  Optimizer = 1
	OptimizerAdam Optimizer = 2
)

// Limits enforced by Spec.Validate. They keep every accumulator provably in
// range and bound the work of one step.
const (
	MaxParams      = 1 << 20 // parameters of the architecture (the frozen base for LoRA)
	MaxInputs      = 1 << 16
	MaxWidth       = 4096 // hidden layer width and Outputs
	MaxHidden      = 3    // hidden layers of an MLP
	MaxBatchSize   = 1024
	MaxLoRARank    = 64
	MaxLRReal      = 16 // LearningRate <= 16.0
	MaxLoRAAlphaRe = 256
	MaxDPOBetaRe   = 16 // DPOBeta <= 16.0
)

// Spec is a task's model, objective and hyper-parameters. Every field is an
// integer; fixed-point hyper-parameters are raw values with FracBits
// fractional bits (0.1 at F=16 is 6554).
type Spec struct {
	Model     ModelKind
	Inputs    uint32
	Hidden    []uint32 // empty for ModelLinear, 1..3 widths for ModelMLP
	Outputs   uint32
	Objective Objective
	Optimizer Optimizer

	LearningRate uint32 // > 0, <= 16.0
	Momentum     uint32 // SGD only, < 1.0; 0 = plain SGD (no velocity in the state)
	Beta1        uint32 // Adam only, < 1.0
	Beta2        uint32 // Adam only, < 1.0
	Epsilon      uint32 // Adam only, >= 1 unit, <= 1.0

	BatchSize uint32 // 1..MaxBatchSize
	FracBits  uint32 // MinFracBits..MaxFracBits

	LoRARank  uint32 // 0 = train all parameters; r > 0 = rank-r adapters on a frozen base
	LoRAAlpha uint32 // fixed point; adapter scale = LoRAAlpha / LoRARank; 0 iff LoRARank == 0

	DPOBeta uint32 // fixed point, ObjectiveDPO only (> 0, <= MaxDPOBetaRe); 0 otherwise
}

// Arch is the architecture part of a spec: what a Model needs to be used.
type Arch struct {
	Kind     ModelKind
	Inputs   uint32
	Hidden   []uint32
	Outputs  uint32
	FracBits uint32
}

// String names the architecture the way the docs do, e.g.
// "transformer T=64 L=2 d=64 H=4 F=16" or "mlp 784-[128]-10 F=16".
func (a Arch) String() string {
	switch a.Kind {
	case ModelTransformer:
		if len(a.Hidden) == 3 {
			return fmt.Sprintf("transformer T=%d L=%d d=%d H=%d F=%d", a.Context(), a.Blocks(), a.Width(), a.Heads(), a.FracBits)
		}
	case ModelMLP:
		return fmt.Sprintf("mlp %d-%v-%d F=%d", a.Inputs, a.Hidden, a.Outputs, a.FracBits)
	case ModelLinear:
		return fmt.Sprintf("linear %d-%d F=%d", a.Inputs, a.Outputs, a.FracBits)
	}
	return fmt.Sprintf("model kind %d %d-%v-%d F=%d", a.Kind, a.Inputs, a.Hidden, a.Outputs, a.FracBits)
}

// Arch returns the architecture of the spec.
func (s Spec) Arch() Arch {
	return Arch{Kind: s.Model, Inputs: s.Inputs, Hidden: append([]uint32(nil), s.Hidden...),
		Outputs: s.Outputs, FracBits: s.FracBits}
}

// dims returns (in, out) of every layer.
func (a Arch) dims() [][2]int {
	w := make([]int, 0, len(a.Hidden)+2)
	w = append(w, int(a.Inputs))
	for _, h := range a.Hidden {
		w = append(w, int(h))
	}
	w = append(w, int(a.Outputs))
	d := make([][2]int, len(w)-1)
	for i := range d {
		d[i] = [2]int{w[i], w[i+1]}
	}
	return d
}

// tensorShape is one parameter Layer: W is out x in, B has bias values,
// lora marks the layers that carry LoRA adapters.
type tensorShape struct {
	out, in, bias int
	lora          bool
}

// layout returns the shape of every parameter Layer in canonical order: the
// dense layers of a linear model or MLP (all adapted by LoRA), or the
// transformer's tensors (transformer.go).
func (a Arch) layout() []tensorShape {
	if a.Kind == ModelTransformer {
		return a.transformerLayout()
	}
	d := a.dims()
	ls := make([]tensorShape, len(d))
	for i, dd := range d {
		ls[i] = tensorShape{out: dd[1], in: dd[0], bias: dd[1], lora: true}
	}
	return ls
}

// ParamCount returns the number of parameters (weights and biases).
func (a Arch) ParamCount() uint64 {
	var n uint64
	for _, t := range a.layout() {
		n += uint64(t.out)*uint64(t.in) + uint64(t.bias)
	}
	return n
}

// Equal reports whether two architectures are identical.
func (a Arch) Equal(b Arch) bool {
	if a.Kind != b.Kind || a.Inputs != b.Inputs || a.Outputs != b.Outputs ||
		a.FracBits != b.FracBits || len(a.Hidden) != len(b.Hidden) {
		return false
	}
	for i := range a.Hidden {
		if a.Hidden[i] != b.Hidden[i] {
			return false
		}
	}
	return true
}

// Validate checks the architecture limits.
func (a Arch) Validate() error {
	if err := CheckFracBits(a.FracBits); err != nil {
		return fmt.Errorf("FracBits: %w", err)
	}
	switch a.Kind {
	case ModelTransformer:
		return a.validateTransformer()
	case ModelLinear:
		if len(a.Hidden) != 0 {
			return fmt.Errorf("hidden: a linear model has no hidden layers, got %d", len(a.Hidden))
		}
	case ModelMLP:
		if len(a.Hidden) < 1 || len(a.Hidden) > MaxHidden {
			return fmt.Errorf("hidden: an MLP has 1..%d hidden layers, got %d", MaxHidden, len(a.Hidden))
		}
	default:
		return fmt.Errorf("model: unknown kind %d (want %d linear, %d MLP or %d transformer)", a.Kind, ModelLinear, ModelMLP, ModelTransformer)
	}
	if a.Inputs < 1 || a.Inputs > MaxInputs {
		return fmt.Errorf("inputs: %d out of range [1, %d]", a.Inputs, MaxInputs)
	}
	for i, h := range a.Hidden {
		if h < 1 || h > MaxWidth {
			return fmt.Errorf("hidden[%d]: width %d out of range [1, %d]", i, h, MaxWidth)
		}
	}
	if a.Outputs < 1 || a.Outputs > MaxWidth {
		return fmt.Errorf("outputs: %d out of range [1, %d]", a.Outputs, MaxWidth)
	}
	if n := a.ParamCount(); n > MaxParams {
		return fmt.Errorf("params: architecture has %d parameters, limit %d", n, MaxParams)
	}
	return nil
}

// IsLoRA reports whether the spec fine-tunes LoRA adapters on a frozen base.
func (s Spec) IsLoRA() bool { return s.LoRARank > 0 }

// Validate checks every field against its limit; errors name the field.
func (s Spec) Validate() error {
	if err := s.Arch().Validate(); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	one := uint32(1) << s.FracBits
	switch s.Objective {
	case ObjectiveMSE:
	case ObjectiveSoftmaxCE:
		if s.Outputs < 2 {
			return fmt.Errorf("spec: outputs: softmax cross-entropy needs >= 2 outputs, got %d", s.Outputs)
		}
	case ObjectiveBradleyTerry:
		if s.Outputs != 1 {
			return fmt.Errorf("spec: outputs: Bradley-Terry needs exactly 1 output (a score), got %d", s.Outputs)
		}
	case ObjectiveNextToken:
	case ObjectiveDPO:
		if s.LoRARank == 0 {
			return errors.New("spec: objective: DPO trains LoRA adapters on a base (the reference model): lora rank must be > 0")
		}
		if s.DPOBeta == 0 || uint64(s.DPOBeta) > uint64(MaxDPOBetaRe)<<s.FracBits {
			return fmt.Errorf("spec: dpo beta: raw %d out of range [1, %d] (16.0 at F=%d)", s.DPOBeta, uint64(MaxDPOBetaRe)<<s.FracBits, s.FracBits)
		}
	default:
		return fmt.Errorf("spec: objective: unknown value %d (want 1 MSE, 2 softmax CE, 3 Bradley-Terry, 4 next token, 5 DPO)", s.Objective)
	}
	if lm, tok := s.Model == ModelTransformer, s.Objective == ObjectiveNextToken || s.Objective == ObjectiveDPO; lm != tok {
		return fmt.Errorf("spec: objective: %d does not fit model kind %d (next token and DPO are the transformer's objectives, and only them)", s.Objective, s.Model)
	}
	if s.Objective != ObjectiveDPO && s.DPOBeta != 0 {
		return errors.New("spec: dpo beta: must be 0 unless the objective is DPO")
	}
	if s.LearningRate == 0 || uint64(s.LearningRate) > uint64(MaxLRReal)<<s.FracBits {
		return fmt.Errorf("spec: learning rate: raw %d out of range [1, %d] (16.0 at F=%d)",
			s.LearningRate, uint64(MaxLRReal)<<s.FracBits, s.FracBits)
	}
	switch s.Optimizer {
	case OptimizerSGD:
		if s.Momentum >= one {
			return fmt.Errorf("spec: momentum: raw %d must be < %d (1.0)", s.Momentum, one)
		}
		if s.Beta1 != 0 || s.Beta2 != 0 || s.Epsilon != 0 {
			return errors.New("spec: beta1, beta2, epsilon: must be 0 for SGD")
		}
	case OptimizerAdam:
		if s.Momentum != 0 {
			return errors.New("spec: momentum: must be 0 for Adam (use beta1)")
		}
		if s.Beta1 >= one || s.Beta2 >= one {
			return fmt.Errorf("spec: beta1/beta2: raw %d/%d must be < %d (1.0)", s.Beta1, s.Beta2, one)
		}
		if s.Epsilon < 1 || s.Epsilon > one {
			return fmt.Errorf("spec: epsilon: raw %d out of range [1, %d]", s.Epsilon, one)
		}
	default:
		return fmt.Errorf("spec: optimizer: unknown value %d (want 1 SGD or 2 Adam)", s.Optimizer)
	}
	if s.BatchSize < 1 || s.BatchSize > MaxBatchSize {
		return fmt.Errorf("spec: batch size: %d out of range [1, %d]", s.BatchSize, MaxBatchSize)
	}
	if s.LoRARank == 0 {
		if s.LoRAAlpha != 0 {
			return errors.New("spec: lora alpha: must be 0 when lora rank is 0")
		}
	} else {
		if s.LoRARank > MaxLoRARank {
			return fmt.Errorf("spec: lora rank: %d exceeds limit %d", s.LoRARank, MaxLoRARank)
		}
		if s.LoRAAlpha == 0 || uint64(s.LoRAAlpha) > uint64(MaxLoRAAlphaRe)<<s.FracBits {
			return fmt.Errorf("spec: lora alpha: raw %d out of range [1, %d]", s.LoRAAlpha, uint64(MaxLoRAAlphaRe)<<s.FracBits)
		}
		if n := loraParamCount(s.Arch(), s.LoRARank); n > MaxParams {
			return fmt.Errorf("spec: lora rank: %d adapter parameters, limit %d", n, MaxParams)
		}
	}
	return nil
}

func loraParamCount(a Arch, r uint32) uint64 {
	var n uint64
	for _, t := range a.layout() {
		if t.lora {
			n += uint64(r) * uint64(t.in+t.out)
		}
	}
	return n
}

// TrainableParams returns the number of parameters the optimiser updates.
func (s Spec) TrainableParams() uint64 {
	if s.IsLoRA() {
		return loraParamCount(s.Arch(), s.LoRARank)
	}
	return s.Arch().ParamCount()
}

// ---------------------------------------------------------------------------
// Canonical spec encoding (version 1, little endian, 48 + 4*len(Hidden) bytes):
//
//	u8 version=1 | u8 model | u8 objective | u8 optimizer | u8 fracBits |
//	u8 len(hidden) | u16 reserved=0 |
//	u32 inputs | u32 hidden[i]... | u32 outputs |
//	u32 lr | u32 momentum | u32 beta1 | u32 beta2 | u32 epsilon |
//	u32 batch | u32 loraRank | u32 loraAlpha
//
// DecodeSpec accepts exactly the encodings of valid specs, so
// Encode(Decode(b)) == b.
// ---------------------------------------------------------------------------

// Version 2 (DPO specs, and only them) appends u32 dpoBeta; every other spec
// keeps its version 1 encoding, so existing spec hashes are unchanged.
const (
	specVersion    = 1
	specVersionDPO = 2
)

// Encode returns the canonical encoding of the spec.
func (s Spec) Encode() []byte {
	b := make([]byte, 0, 52+4*len(s.Hidden))
	v := byte(specVersion)
	if s.DPOBeta != 0 {
		v = specVersionDPO
	}
	b = append(b, v, byte(s.Model), byte(s.Objective), byte(s.Optimizer), byte(s.FracBits),
		byte(len(s.Hidden)), 0, 0)
	b = binary.LittleEndian.AppendUint32(b, s.Inputs)
	for _, h := range s.Hidden {
		b = binary.LittleEndian.AppendUint32(b, h)
	}
	for _, v := range []uint32{s.Outputs, s.LearningRate, s.Momentum, s.Beta1, s.Beta2, s.Epsilon,
		s.BatchSize, s.LoRARank, s.LoRAAlpha} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	if s.DPOBeta != 0 {
		b = binary.LittleEndian.AppendUint32(b, s.DPOBeta)
	}
	return b
}

// DecodeSpec decodes and validates a canonical spec encoding.
func DecodeSpec(b []byte) (Spec, error) {
	d := decoder{b: b}
	version := d.u8()
	if version != specVersion && version != specVersionDPO {
		return Spec{}, fmt.Errorf("spec encoding: version %d, want %d (or %d for DPO)", version, specVersion, specVersionDPO)
	}
	var s Spec
	s.Model, s.Objective, s.Optimizer = ModelKind(d.u8()), Objective(d.u8()), Optimizer(d.u8())
	s.FracBits = uint32(d.u8())
	nh := int(d.u8())
	if d.u16() != 0 {
		return Spec{}, errors.New("spec encoding: reserved bytes must be zero")
	}
	if nh > MaxHidden {
		return Spec{}, fmt.Errorf("spec encoding: %d hidden layers, limit %d", nh, MaxHidden)
	}
	s.Inputs = d.u32()
	if nh > 0 {
		s.Hidden = make([]uint32, nh)
		for i := range s.Hidden {
			s.Hidden[i] = d.u32()
		}
	}
	for _, p := range []*uint32{&s.Outputs, &s.LearningRate, &s.Momentum, &s.Beta1, &s.Beta2, &s.Epsilon,
		&s.BatchSize, &s.LoRARank, &s.LoRAAlpha} {
		*p = d.u32()
	}
	if version == specVersionDPO {
		if s.DPOBeta = d.u32(); s.DPOBeta == 0 {
			return Spec{}, errors.New("spec encoding: version 2 is for DPO specs (dpo beta > 0)")
		}
	}
	if err := d.finish("spec encoding"); err != nil {
		return Spec{}, err
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Equal reports whether two specs are identical.
func (s Spec) Equal(o Spec) bool { return string(s.Encode()) == string(o.Encode()) }

// ---------------------------------------------------------------------------
// Standard specs.
// ---------------------------------------------------------------------------

// fix converts num/den to a raw fixed-point value at DefaultFracBits.
func fix(num, den int64) uint32 { return uint32(roundDiv(num<<DefaultFracBits, den)) }

// DefaultSpecMNISTSoftmax is softmax regression on MNIST (784 -> 10,
// cross-entropy), SGD with momentum 0.9, lr 0.02, batch 32, F = 16.
func DefaultSpecMNISTSoftmax() Spec {
	return Spec{Model: ModelLinear, Inputs: 784, Outputs: 10, Objective: ObjectiveSoftmaxCE,
		Optimizer: OptimizerSGD, LearningRate: fix(2, 100), Momentum: fix(9, 10),
		BatchSize: 32, FracBits: DefaultFracBits}
}

// DefaultSpecMNISTSoftmaxAdam is DefaultSpecMNISTSoftmax trained with Adam
// (lr 0.001, beta1 0.9, beta2 0.999, epsilon 2^-16, the smallest at F = 16).
func DefaultSpecMNISTSoftmaxAdam() Spec {
	s := DefaultSpecMNISTSoftmax()
	s.Optimizer, s.Momentum = OptimizerAdam, 0
	s.LearningRate, s.Beta1, s.Beta2, s.Epsilon = fix(1, 1000), fix(9, 10), fix(999, 1000), 1
	return s
}

// DefaultSpecMNISTMLP is an MLP 784-128-10 (ReLU) on MNIST with
// cross-entropy, SGD with momentum 0.9, lr 0.02, batch 32, F = 16.
func DefaultSpecMNISTMLP() Spec {
	return Spec{Model: ModelMLP, Inputs: 784, Hidden: []uint32{128}, Outputs: 10,
		Objective: ObjectiveSoftmaxCE, Optimizer: OptimizerSGD, LearningRate: fix(2, 100),
		Momentum: fix(9, 10), BatchSize: 32, FracBits: DefaultFracBits}
}

// DefaultSpecLMPretrain is a small byte-level transformer LM trained from
// scratch: context T = 64, 2 blocks of width 64 with 4 heads (about 120k
// parameters), batch 2 (128 tokens a step, about 50M MACs: the chain's
// default per-reveal limits fit segments of 2 steps), Adam lr 0.001, F = 16.
func DefaultSpecLMPretrain() Spec {
	return Spec{Model: ModelTransformer, Inputs: 64, Hidden: []uint32{2, 64, 4}, Outputs: Vocab,
		Objective: ObjectiveNextToken, Optimizer: OptimizerAdam, LearningRate: fix(1, 1000),
		Beta1: fix(9, 10), Beta2: fix(999, 1000), Epsilon: 1, BatchSize: 2, FracBits: DefaultFracBits}
}

// DefaultSpecLMLoRA fine-tunes rank-4 LoRA adapters (alpha 8) on the
// attention and MLP projections of a frozen DefaultSpecLMPretrain base,
// batch 4 (segments of 2 steps fit the default limits).
func DefaultSpecLMLoRA() Spec {
	s := DefaultSpecLMPretrain()
	s.LoRARank, s.LoRAAlpha, s.BatchSize = 4, fix(8, 1), 4
	return s
}

// DefaultSpecLMDPO aligns a DefaultSpecLMPretrain-shaped base (or a LoRA
// fine-tune of one) with DPO, beta 0.1, on rank-4 adapters, batch 2 pairs
// (4 sequences a step, plus the reference pass; segments of 1 step).
func DefaultSpecLMDPO() Spec {
	s := DefaultSpecLMLoRA()
	s.Objective, s.DPOBeta, s.BatchSize = ObjectiveDPO, fix(1, 10), 2
	return s
}

// DefaultSpecMNISTLoRA fine-tunes rank-4 LoRA adapters (alpha 8, scale 2) on
// every layer of a frozen DefaultSpecMNISTMLP base with Adam (lr 0.001).
func DefaultSpecMNISTLoRA() Spec {
	s := DefaultSpecMNISTMLP()
	s.Optimizer, s.Momentum = OptimizerAdam, 0
	s.LearningRate, s.Beta1, s.Beta2, s.Epsilon = fix(1, 1000), fix(9, 10), fix(999, 1000), 1
	s.LoRARank, s.LoRAAlpha = 4, fix(8, 1)
	return s
}
