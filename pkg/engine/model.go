package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Hash is a SHA-256 digest.
type Hash [32]byte

// String returns the lower-case hex form.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Domain tags of the layered hashes.
const (
	optTag   = "hinterland/opt/v1"
	stateTag = "hinterland/state/v1"
)

// Layer is one affine layer y = W x + b.
type Layer struct {
	W []int32 // out x in, row-major (W[o*in+i])
	B []int32 // out
}

// Model is an architecture plus its parameters (no optimiser state).
type Model struct {
	Arch   Arch
	Layers []Layer
}

// Model encoding (version 1, little endian):
//
//	u8 version=1 | u8 part=1 (dense) | arch | for each layer: W (out*in int32), B (out int32)
//
// Model.Hash is the Merkle root over Encode()'s chunks (chunks.go). It equals the
// ModelHash of a fully trained State holding the same parameters.
const (
	modelVersion  = 1
	partDense     = 1
	partLoRA      = 2
	stateVersion  = 1
	optVersion    = 1
	hashSize      = 32
	archFixedSize = 12 // kind, frac, nHidden, reserved, inputs, outputs
)

// Validate checks the architecture and the tensor shapes.
func (m *Model) Validate() error {
	if m == nil {
		return errors.New("model: nil")
	}
	if err := m.Arch.Validate(); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	d := m.Arch.layout()
	if len(m.Layers) != len(d) {
		return fmt.Errorf("model: %d layers, architecture has %d", len(m.Layers), len(d))
	}
	for l, t := range d {
		if len(m.Layers[l].W) != t.out*t.in || len(m.Layers[l].B) != t.bias {
			return fmt.Errorf("model: layer %d: W has %d values (want %d), B has %d (want %d)",
				l, len(m.Layers[l].W), t.out*t.in, len(m.Layers[l].B), t.bias)
		}
	}
	return nil
}

// Encode returns the canonical encoding. The model must be valid.
func (m *Model) Encode() []byte {
	b := make([]byte, 0, 2+archFixedSize+4*len(m.Arch.Hidden)+4*int(m.Arch.ParamCount()))
	b = append(b, modelVersion, partDense)
	b = appendArch(b, m.Arch)
	for _, l := range m.Layers {
		b = appendI32s(b, l.W)
		b = appendI32s(b, l.B)
	}
	return b
}

// Hash returns the Merkle root over the model's chunks (chunks.go).
func (m *Model) Hash() Hash { return modelHash(m.Encode()) }

// DecodeModel decodes a canonical dense model encoding.
func DecodeModel(b []byte) (*Model, error) {
	d := decoder{b: b}
	if v, p := d.u8(), d.u8(); v != modelVersion || p != partDense {
		return nil, fmt.Errorf("model encoding: version %d part %d, want version %d part %d", v, p, modelVersion, partDense)
	}
	a, err := d.arch()
	if err != nil {
		return nil, fmt.Errorf("model encoding: %w", err)
	}
	if want := 4 * int(a.ParamCount()); d.remaining() != want {
		return nil, fmt.Errorf("model encoding: %d parameter bytes, want %d", d.remaining(), want)
	}
	m := &Model{Arch: a, Layers: d.layers(a)}
	if err := d.finish("model encoding"); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *decoder) layers(a Arch) []Layer {
	shapes := a.layout()
	ls := make([]Layer, len(shapes))
	for l, t := range shapes {
		ls[l].W = d.i32s(t.out * t.in)
		ls[l].B = d.i32s(t.bias)
	}
	return ls
}

// Clone returns a deep copy.
func (m *Model) Clone() *Model {
	c := &Model{Arch: m.Arch, Layers: make([]Layer, len(m.Layers))}
	c.Arch.Hidden = append([]uint32(nil), m.Arch.Hidden...)
	for i, l := range m.Layers {
		c.Layers[i] = Layer{W: append([]int32(nil), l.W...), B: append([]int32(nil), l.B...)}
	}
	return c
}

func taggedHash(tag string, parts ...[]byte) Hash {
	h := sha256.New()
	h.Write([]byte(tag))
	for _, p := range parts {
		h.Write(p)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}
