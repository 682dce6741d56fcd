package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// OptKind tags the optimiser state layout.
type OptKind uint8

// Optimiser state kinds.
const (
	OptNone     OptKind = 0 // plain SGD: no state
	OptMomentum OptKind = 1 // SGD with momentum: one velocity tensor per trained tensor
	OptAdam     OptKind = 2 // Adam: first moments (int32, F bits) and second moments (int64, 2F bits)
)

// OptState is the optimiser state, one tensor per trained tensor in
// canonical order (see State).
type OptState struct {
	Kind     OptKind
	Velocity [][]int32 // OptMomentum
	M        [][]int32 // OptAdam, F fractional bits
	V        [][]int64 // OptAdam, 2F fractional bits, never negative
}

// Adapter is the LoRA pair of one layer: W_eff = W + (alpha/r) * B*A.
type Adapter struct {
	A []int32 // r x in, row-major
	B []int32 // out x r, row-major
}

// LoRAState is the trained part of a LoRA fine-tune.
type LoRAState struct {
	Rank     uint32
	Alpha    uint32 // fixed point, F fractional bits
	BaseHash Hash   // Model.Hash of the frozen base
	Adapters []Adapter
}

// State is everything training carries from step to step: the trained
// parameters, the optimiser state and the step counter.
//
// The trained tensors, in canonical order, are W0, B0, W1, B1, ... for dense
// training (Layers) and A0, B0, A1, B1, ... for LoRA (LoRA.Adapters, the base
// stays outside the state and is referenced by its hash).
type State struct {
	Arch   Arch
	Step   uint64
	Layers []Layer    // dense training; nil for LoRA
	LoRA   *LoRAState // LoRA; nil for dense training
	Opt    OptState
}

// State encoding (version 1, little endian):
//
//	u8 version=1 | u64 step | u32 len(M) | M = model part | u32 len(O) | O = optimiser part
//
// model part, dense: exactly Model.Encode() of the parameters;
// model part, LoRA:  u8 version=1 | u8 part=2 | arch | u32 rank | u32 alpha |
//
//	[32] base model hash | per layer: A (r*in int32), B (out*r int32)
//
// optimiser part:    u8 version=1 | u8 kind | kind 1: velocities (int32) |
//
//	kind 2: all M tensors (int32) then all V tensors (int64)
//
// Hashes:
//
//	ModelHash = Merkle root over the model part's chunks (chunks.go)
//	OptHash   = SHA-256("hinterland/opt/v1" || optimiser part)
//	StateHash = SHA-256("hinterland/state/v1" || ModelHash || OptHash || step u64 LE)

// Clone returns a deep copy.
func (s *State) Clone() *State {
	c := &State{Arch: s.Arch, Step: s.Step}
	c.Arch.Hidden = append([]uint32(nil), s.Arch.Hidden...)
	if s.Layers != nil {
		c.Layers = (&Model{Layers: s.Layers}).Clone().Layers
	}
	if s.LoRA != nil {
		l := *s.LoRA
		l.Adapters = make([]Adapter, len(s.LoRA.Adapters))
		for i, a := range s.LoRA.Adapters {
			l.Adapters[i] = Adapter{A: append([]int32(nil), a.A...), B: append([]int32(nil), a.B...)}
		}
		c.LoRA = &l
	}
	c.Opt.Kind = s.Opt.Kind
	c.Opt.Velocity = clone2(s.Opt.Velocity)
	c.Opt.M = clone2(s.Opt.M)
	c.Opt.V = clone2(s.Opt.V)
	return c
}

func clone2[T int32 | int64](v [][]T) [][]T {
	if v == nil {
		return nil
	}
	c := make([][]T, len(v))
	for i := range v {
		c[i] = append([]T(nil), v[i]...)
	}
	return c
}

// tensors returns the trained tensors in canonical order (aliases, not copies).
func (s *State) tensors() [][]int32 {
	var t [][]int32
	if s.LoRA != nil {
		for _, a := range s.LoRA.Adapters {
			t = append(t, a.A, a.B)
		}
		return t
	}
	for _, l := range s.Layers {
		t = append(t, l.W, l.B)
	}
	return t
}

// trainedSizes returns the lengths of the trained tensors for an architecture
// (rank 0 = dense).
func trainedSizes(a Arch, rank uint32) []int {
	var n []int
	for _, t := range a.layout() {
		switch {
		case rank == 0:
			n = append(n, t.out*t.in, t.bias)
		case t.lora:
			n = append(n, int(rank)*t.in, t.out*int(rank))
		}
	}
	return n
}

func optKindFor(s Spec) OptKind {
	switch {
	case s.Optimizer == OptimizerAdam:
		return OptAdam
	case s.Momentum > 0:
		return OptMomentum
	}
	return OptNone
}

// ModelPart returns the canonical encoding of the model part.
func (s *State) ModelPart() []byte {
	if s.LoRA == nil {
		return (&Model{Arch: s.Arch, Layers: s.Layers}).Encode()
	}
	b := []byte{modelVersion, partLoRA}
	b = appendArch(b, s.Arch)
	b = binary.LittleEndian.AppendUint32(b, s.LoRA.Rank)
	b = binary.LittleEndian.AppendUint32(b, s.LoRA.Alpha)
	b = append(b, s.LoRA.BaseHash[:]...)
	for _, a := range s.LoRA.Adapters {
		b = appendI32s(b, a.A)
		b = appendI32s(b, a.B)
	}
	return b
}

// OptPart returns the canonical encoding of the optimiser part.
func (s *State) OptPart() []byte {
	b := []byte{optVersion, byte(s.Opt.Kind)}
	for _, v := range s.Opt.Velocity {
		b = appendI32s(b, v)
	}
	for _, v := range s.Opt.M {
		b = appendI32s(b, v)
	}
	for _, v := range s.Opt.V {
		b = appendI64s(b, v)
	}
	return b
}

// Encode returns the canonical state encoding.
func (s *State) Encode() []byte { return encodeState(s.Step, s.ModelPart(), s.OptPart()) }

// EncodeHashed returns Encode() with Hash(), ModelHash() and OptHash(),
// building each part once (Encode followed by Hash would build them twice):
// what a worker's checkpoint writer needs for every checkpoint.
func (s *State) EncodeHashed() (enc []byte, h, model, opt Hash) {
	m, o := s.ModelPart(), s.OptPart()
	model, opt = modelHash(m), taggedHash(optTag, o)
	return encodeState(s.Step, m, o), StateHashFrom(model, opt, s.Step), model, opt
}

// encodeState lays out the state encoding from its two parts.
func encodeState(step uint64, m, o []byte) []byte {
	b := make([]byte, 0, 17+len(m)+len(o))
	b = append(b, stateVersion)
	b = binary.LittleEndian.AppendUint64(b, step)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m)))
	b = append(b, m...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(o)))
	return append(b, o...)
}

// ModelHash is the Merkle root over the model part's chunks (chunks.go).
func (s *State) ModelHash() Hash { return modelHash(s.ModelPart()) }

// OptHash is SHA-256("hinterland/opt/v1" || optimiser part).
func (s *State) OptHash() Hash { return taggedHash(optTag, s.OptPart()) }

// Hash is the checkpoint hash StateHashFrom(ModelHash, OptHash, Step).
func (s *State) Hash() Hash { return StateHashFrom(s.ModelHash(), s.OptHash(), s.Step) }

// StateHashFrom combines the layered hashes:
// SHA-256("hinterland/state/v1" || modelHash || optHash || step u64 LE).
func StateHashFrom(modelHash, optHash Hash, step uint64) Hash {
	var st [8]byte
	binary.LittleEndian.PutUint64(st[:], step)
	return taggedHash(stateTag, modelHash[:], optHash[:], st[:])
}

// DecodeState decodes a canonical state encoding and checks that it is a
// state of the given (valid) spec: same architecture, same LoRA rank and
// alpha, optimiser state of the spec's optimiser.
func DecodeState(spec Spec, b []byte) (*State, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	s, err := decodeState(b)
	if err != nil {
		return nil, err
	}
	if err := s.checkSpec(spec); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeState decodes any canonical state encoding (self-describing).
func decodeState(b []byte) (*State, error) {
	d := decoder{b: b}
	if v := d.u8(); v != stateVersion {
		return nil, fmt.Errorf("state encoding: version %d, want %d", v, stateVersion)
	}
	s := &State{Step: d.u64()}
	mlen := int(d.u32())
	if d.bad || mlen > d.remaining() {
		return nil, errors.New("state encoding: truncated model part")
	}
	mb := d.take(mlen)
	olen := int(d.u32())
	if d.bad || olen != d.remaining() {
		return nil, errors.New("state encoding: optimiser part length does not match the remaining bytes")
	}
	ob := d.take(olen)
	rank, err := s.decodeModelPart(mb)
	if err != nil {
		return nil, err
	}
	if err := s.decodeOptPart(ob, rank); err != nil {
		return nil, err
	}
	return s, nil
}

// decodeModelPart reads the model part (architecture, then dense layers or
// LoRA adapters) into s and returns the LoRA rank (0 when dense).
func (s *State) decodeModelPart(mb []byte) (rank uint32, err error) {
	md := decoder{b: mb}
	if v := md.u8(); v != modelVersion {
		return 0, fmt.Errorf("state encoding: model part version %d, want %d", v, modelVersion)
	}
	part := md.u8()
	a, err := md.arch()
	if err != nil {
		return 0, fmt.Errorf("state encoding: %w", err)
	}
	s.Arch = a
	switch part {
	case partDense:
		if want := 4 * int(a.ParamCount()); md.remaining() != want {
			return 0, fmt.Errorf("state encoding: %d parameter bytes, want %d", md.remaining(), want)
		}
		s.Layers = md.layers(a)
	case partLoRA:
		l, err := md.lora(a)
		if err != nil {
			return 0, err
		}
		s.LoRA, rank = l, l.Rank
	default:
		return 0, fmt.Errorf("state encoding: unknown model part kind %d", part)
	}
	return rank, md.finish("state encoding: model part")
}

// lora reads a LoRA header and its adapters for architecture a.
func (md *decoder) lora(a Arch) (*LoRAState, error) {
	l := &LoRAState{Rank: md.u32(), Alpha: md.u32()}
	copy(l.BaseHash[:], md.take(hashSize))
	if md.bad {
		return nil, errors.New("state encoding: truncated LoRA header")
	}
	if l.Rank == 0 || l.Rank > MaxLoRARank || l.Alpha == 0 {
		return nil, fmt.Errorf("state encoding: LoRA rank %d / alpha %d invalid", l.Rank, l.Alpha)
	}
	if n := loraParamCount(a, l.Rank); n > MaxParams || md.remaining() != 4*int(n) {
		return nil, fmt.Errorf("state encoding: %d adapter bytes for %d parameters (limit %d)", md.remaining(), n, MaxParams)
	}
	for _, t := range a.layout() {
		if t.lora {
			l.Adapters = append(l.Adapters, Adapter{A: md.i32s(int(l.Rank) * t.in), B: md.i32s(t.out * int(l.Rank))})
		}
	}
	return l, nil
}

// decodeOptPart reads the optimiser part (kind, then momentum or Adam moments
// sized by the trained tensors) into s.
func (s *State) decodeOptPart(ob []byte, rank uint32) error {
	od := decoder{b: ob}
	if v := od.u8(); v != optVersion {
		return fmt.Errorf("state encoding: optimiser part version %d, want %d", v, optVersion)
	}
	s.Opt.Kind = OptKind(od.u8())
	sizes := trainedSizes(s.Arch, rank)
	total := 0
	for _, n := range sizes {
		total += n
	}
	var want int
	switch s.Opt.Kind {
	case OptNone:
	case OptMomentum:
		want = 4 * total
	case OptAdam:
		want = 12 * total
	default:
		return fmt.Errorf("state encoding: unknown optimiser kind %d", s.Opt.Kind)
	}
	if od.remaining() != want {
		return fmt.Errorf("state encoding: optimiser part has %d bytes, want %d", od.remaining(), want)
	}
	switch s.Opt.Kind {
	case OptMomentum:
		for _, n := range sizes {
			s.Opt.Velocity = append(s.Opt.Velocity, od.i32s(n))
		}
	case OptAdam:
		for _, n := range sizes {
			s.Opt.M = append(s.Opt.M, od.i32s(n))
		}
		for _, n := range sizes {
			v := od.i64s(n)
			for _, x := range v {
				if x < 0 {
					return errors.New("state encoding: negative Adam second moment")
				}
			}
			s.Opt.V = append(s.Opt.V, v)
		}
	}
	return od.finish("state encoding: optimiser part")
}

// checkSpec verifies that the state has the shapes and kinds the spec
// implies (for states built in memory as well as decoded ones).
func (s *State) checkSpec(spec Spec) error {
	if s == nil {
		return errors.New("state: nil")
	}
	if !s.Arch.Equal(spec.Arch()) {
		return errors.New("state: architecture does not match the spec")
	}
	if spec.IsLoRA() != (s.LoRA != nil) || (s.LoRA != nil && s.Layers != nil) {
		return errors.New("state: LoRA/dense mismatch with the spec")
	}
	if s.LoRA != nil && (s.LoRA.Rank != spec.LoRARank || s.LoRA.Alpha != spec.LoRAAlpha) {
		return fmt.Errorf("state: LoRA rank/alpha %d/%d, spec says %d/%d", s.LoRA.Rank, s.LoRA.Alpha, spec.LoRARank, spec.LoRAAlpha)
	}
	sizes := trainedSizes(s.Arch, spec.LoRARank)
	if s.LoRA != nil && len(s.LoRA.Adapters) != len(sizes)/2 || s.LoRA == nil && len(s.Layers) != len(sizes)/2 {
		return errors.New("state: wrong number of layers")
	}
	t := s.tensors()
	for i, n := range sizes {
		if len(t[i]) != n {
			return fmt.Errorf("state: trained tensor %d has %d values, want %d", i, len(t[i]), n)
		}
	}
	if k := optKindFor(spec); s.Opt.Kind != k {
		return fmt.Errorf("state: optimiser state kind %d, spec needs %d", s.Opt.Kind, k)
	}
	check := func(name string, n int, size func(i int) int) error {
		if n != len(sizes) {
			return fmt.Errorf("state: %d %s tensors, want %d", n, name, len(sizes))
		}
		for i := 0; i < n; i++ {
			if size(i) != sizes[i] {
				return fmt.Errorf("state: %s tensor %d has %d values, want %d", name, i, size(i), sizes[i])
			}
		}
		return nil
	}
	o := s.Opt
	switch o.Kind {
	case OptNone:
		if o.Velocity != nil || o.M != nil || o.V != nil {
			return errors.New("state: plain SGD carries no optimiser tensors")
		}
	case OptMomentum:
		if o.M != nil || o.V != nil {
			return errors.New("state: momentum state carries Adam tensors")
		}
		return check("velocity", len(o.Velocity), func(i int) int { return len(o.Velocity[i]) })
	case OptAdam:
		if o.Velocity != nil {
			return errors.New("state: Adam state carries velocities")
		}
		if err := check("adam m", len(o.M), func(i int) int { return len(o.M[i]) }); err != nil {
			return err
		}
		if err := check("adam v", len(o.V), func(i int) int { return len(o.V[i]) }); err != nil {
			return err
		}
		for _, v := range o.V {
			for _, x := range v {
				if x < 0 {
					return errors.New("state: negative Adam second moment")
				}
			}
		}
	}
	return nil
}

// EncodedModelSize is len(Model.Encode()) of a dense model of architecture a,
// computed without building it.
func EncodedModelSize(a Arch) uint64 {
	return 2 + archFixedSize + 4*uint64(len(a.Hidden)) + 4*a.ParamCount()
}

// encodedLoRAPartSize is len(State.ModelPart()) of a rank-r LoRA state.
func encodedLoRAPartSize(a Arch, rank uint32) uint64 {
	return 2 + archFixedSize + 4*uint64(len(a.Hidden)) + 8 + hashSize + 4*loraParamCount(a, rank)
}

// EncodedStateSize is len(State.Encode()) of any state of the spec (the
// encoding's size does not depend on the values), computed without building
// it: what a reveal's start state costs in bytes, and what building, encoding
// and hashing the initial state at commit costs in work. It is 0 for a spec
// that does not validate.
func EncodedStateSize(s Spec) uint64 {
	if s.Validate() != nil {
		return 0
	}
	a := s.Arch()
	model := EncodedModelSize(a)
	if s.IsLoRA() {
		model = encodedLoRAPartSize(a, s.LoRARank)
	}
	opt := uint64(2)
	switch optKindFor(s) {
	case OptMomentum:
		opt += 4 * s.TrainableParams()
	case OptAdam:
		opt += 12 * s.TrainableParams()
	}
	return 17 + model + opt
}
