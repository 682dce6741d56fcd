package engine

import (
	"errors"
	"fmt"
)

// Initialisation, drawn from the SplitMix64 stream of the seed (rng.go) in
// canonical tensor order, row-major within a tensor:
//
//   - dense weights W_l ~ U[-b, b] (integers, inclusive) with
//     b = sqrtRound(round(c * 2^(2F) / in)), i.e. sqrt(c/in) in F bits,
//     c = 6 for hidden layers (He-uniform, ReLU follows) and c = 3 for the
//     output layer (LeCun-uniform); biases are 0;
//   - LoRA: A_l ~ U[-b, b] with c = 1 (b = 1/sqrt(in)), B_l = 0, so the
//     fine-tune starts exactly at the base model;
//   - optimiser state all zero, step 0.
//
// A draw for bound b is the high word of next()*(2b+1), minus b.

func initBound(c, in int64, f uint) int64 {
	return int64(sqrtRound(uint64(roundDiv(c<<(2*f), in))))
}

func fillUniform(rng *splitMix64, w []int32, b int64) {
	for i := range w {
		w[i] = int32(int64(rng.uniformBelow(uint64(2*b+1))) - b)
	}
}

// NewInitialState returns the state h_0 of a job: seed-derived weights for
// dense training, zero-B adapters on the base for LoRA.
func NewInitialState(job Job) (*State, error) {
	if err := job.Validate(); err != nil {
		return nil, err
	}
	var baseHash Hash
	if job.Base != nil {
		baseHash = job.baseID()
	}
	return initialState(job, baseHash), nil
}

// InitialStateHash returns h_0 of a job. A LoRA job needs only its base
// model's hash (job.Base may be nil): the chain checks h_0 at commit time
// without the base weights, which only reveals carry.
func InitialStateHash(job Job, baseHash []byte) (Hash, error) {
	if job.Spec.IsLoRA() && job.Base == nil {
		if len(baseHash) != len(Hash{}) {
			return Hash{}, fmt.Errorf("init: LoRA base hash has %d bytes, want %d", len(baseHash), len(Hash{}))
		}
		if err := job.Spec.Validate(); err != nil {
			return Hash{}, err
		}
		if job.RowCount == 0 {
			return Hash{}, errors.New("job: row count must be >= 1")
		}
		var h Hash
		copy(h[:], baseHash)
		return initialState(job, h).Hash(), nil
	}
	st, err := NewInitialState(job)
	if err != nil {
		return Hash{}, err
	}
	return st.Hash(), nil
}

// initialState builds h_0 of a validated job; baseHash is used for LoRA.
func initialState(job Job, baseHash Hash) *State {
	s := job.Spec
	f := uint(s.FracBits)
	rng := newInitRNG(job.Seed)
	st := &State{Arch: s.Arch()}
	if s.IsLoRA() {
		l := &LoRAState{Rank: s.LoRARank, Alpha: s.LoRAAlpha, BaseHash: baseHash}
		for _, t := range st.Arch.layout() {
			if !t.lora {
				continue
			}
			a := Adapter{A: make([]int32, int(s.LoRARank)*t.in), B: make([]int32, t.out*int(s.LoRARank))}
			fillUniform(rng, a.A, initBound(1, int64(t.in), f))
			l.Adapters = append(l.Adapters, a)
		}
		st.LoRA = l
	} else if s.Model == ModelTransformer {
		st.Layers = transformerInit(rng, st.Arch)
	} else {
		dims := st.Arch.dims()
		for i, d := range dims {
			c := int64(6)
			if i == len(dims)-1 {
				c = 3
			}
			ly := Layer{W: make([]int32, d[0]*d[1]), B: make([]int32, d[1])}
			fillUniform(rng, ly.W, initBound(c, int64(d[0]), f))
			st.Layers = append(st.Layers, ly)
		}
	}
	st.Opt.Kind = optKindFor(s)
	sizes := trainedSizes(st.Arch, s.LoRARank)
	for _, n := range sizes {
		switch st.Opt.Kind {
		case OptMomentum:
			st.Opt.Velocity = append(st.Opt.Velocity, make([]int32, n))
		case OptAdam:
			st.Opt.M = append(st.Opt.M, make([]int32, n))
			st.Opt.V = append(st.Opt.V, make([]int64, n))
		}
	}
	return st
}

// Model returns the effective dense model of a state. For dense training it
// is a copy of the parameters; for LoRA (base required, checked by hash) the
// merged weights W + round(round(B*A) * alpha/r), each rounding with the
// package rule. The identity of a LoRA result remains its ModelHash; the
// merged model is for evaluation and export.
func (s *State) Model(base *Model) (*Model, error) {
	if s.LoRA == nil {
		m := (&Model{Arch: s.Arch, Layers: s.Layers}).Clone()
		return m, m.Validate()
	}
	if base == nil {
		return nil, errors.New("model: LoRA state needs its base model")
	}
	if err := base.Validate(); err != nil {
		return nil, err
	}
	if !base.Arch.Equal(s.Arch) || base.Hash() != s.LoRA.BaseHash {
		return nil, errors.New("model: base model does not match the state's base hash")
	}
	f := uint(s.Arch.FracBits)
	rk := int(s.LoRA.Rank)
	scale := roundDiv(int64(s.LoRA.Alpha), int64(rk))
	m := base.Clone()
	var mt Meter
	var sc gemmScratch
	k := 0
	for l, t := range s.Arch.layout() {
		if !t.lora {
			continue
		}
		in, out := t.in, t.out
		ad := s.LoRA.Adapters[k]
		k++
		at := make([]int32, in*rk)
		transpose(at, ad.A, rk, in)
		ba := make([]int32, out*in)
		if err := gemm("lora merge", ba, ad.B, at, out, in, rk, epilogue{shift: f, f: f}, &mt, &sc); err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		w := m.Layers[l].W
		for i, v := range ba {
			w[i], _ = sat32(int64(w[i]) + roundShift(scale*int64(v), f))
		}
	}
	return m, nil
}

// InitialModelHash returns the ModelHash of h_0 of a job; like
// InitialStateHash, a LoRA job needs only its base model's hash.
func InitialModelHash(job Job, baseHash []byte) (Hash, error) {
	if err := job.Spec.Validate(); err != nil {
		return Hash{}, err
	}
	var h Hash
	if job.Spec.IsLoRA() {
		if len(baseHash) != len(Hash{}) {
			return Hash{}, fmt.Errorf("init: LoRA base hash has %d bytes, want %d", len(baseHash), len(Hash{}))
		}
		copy(h[:], baseHash)
	}
	return initialState(job, h).ModelHash(), nil
}
