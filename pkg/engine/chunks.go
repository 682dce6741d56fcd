package engine

import (
	"crypto/sha256"
	"fmt"
)

// A model's hash is a Merkle root over fixed-size chunks of its parameters,
// so that a reveal or an aggregation check carries only the chunks it needs
// and proves each against the model hash.
//
// The leaves of a model part (the model encoding, or a state's model part):
//
//	leaf 0      = "hinterland/model/v2" || header (everything before the first parameter:
//	              version, part kind, architecture, and for LoRA rank, alpha and base hash)
//	leaf 1 + c  = parameters [c*ChunkParams, (c+1)*ChunkParams) of the trained tensors in
//	              canonical order (int32 little endian; the last chunk may be shorter)
//
// and ModelHash is the RFC 6962 Merkle root of the leaves, exactly as
// CometBFT's crypto/merkle computes it (leaf hash SHA-256(0x00 || leaf),
// inner hash SHA-256(0x01 || left || right), split at the largest power of two
// below the leaf count), so a chunk proves with merkle.Proof.Verify against
// the model hash. The engine implements it with the standard library;
// pkg/federated's tests check it against crypto/merkle.

// ChunkParams is the number of parameters in one model chunk (4 KiB).
const ChunkParams = 1024

// modelLeafTag prefixes the header leaf.
const modelLeafTag = "hinterland/model/v2"

// ChunkCount is the number of parameter chunks of a model with n parameters.
func ChunkCount(n uint64) uint64 { return (n + ChunkParams - 1) / ChunkParams }

// modelHeaderLen is the length of the header of a model part.
func modelHeaderLen(part []byte) int {
	if len(part) < 2+archFixedSize {
		return len(part)
	}
	n := 2 + archFixedSize + 4*int(part[4]) // part[2..] is the architecture; byte 2 of it is len(hidden)
	if part[1] == partLoRA {
		n += 8 + hashSize
	}
	if n > len(part) {
		return len(part)
	}
	return n
}

// modelLeaves splits a model part into its Merkle leaves. The header leaf is
// a fresh slice; parameter leaves alias the part.
func modelLeaves(part []byte) [][]byte {
	h := modelHeaderLen(part)
	params := part[h:]
	leaves := make([][]byte, 0, 1+(len(params)+4*ChunkParams-1)/(4*ChunkParams))
	leaves = append(leaves, append([]byte(modelLeafTag), part[:h]...))
	for off := 0; off < len(params); off += 4 * ChunkParams {
		leaves = append(leaves, params[off:min(off+4*ChunkParams, len(params))])
	}
	return leaves
}

// modelHash is the Merkle root over a model part's leaves.
func modelHash(part []byte) Hash { return merkleRoot(modelLeaves(part)) }

// ModelChunk is one parameter chunk of a model with its Merkle proof.
type ModelChunk struct {
	Index  uint64  // chunk index c (leaf 1+c)
	Values []int32 // the chunk's parameters
	Aunts  [][]byte
}

// Leaf returns the chunk's leaf bytes (int32 little endian).
func (c ModelChunk) Leaf() []byte { return appendI32s(nil, c.Values) }

// ChunkLeaves returns the number of Merkle leaves of a model with n
// parameters: the header and its chunks.
func ChunkLeaves(n uint64) uint64 { return 1 + ChunkCount(n) }

// Params returns the trained parameters of a state in canonical order,
// concatenated (a copy).
func (s *State) Params() []int32 {
	var out []int32
	for _, t := range s.tensors() {
		out = append(out, t...)
	}
	return out
}

// Params returns the model's parameters in canonical order, concatenated.
func (m *Model) Params() []int32 {
	var out []int32
	for _, l := range m.Layers {
		out = append(out, l.W...)
		out = append(out, l.B...)
	}
	return out
}

// ModelChunks returns chunk c of a state's model part with its proof against
// ModelHash.
func (s *State) ModelChunk(c uint64) (ModelChunk, error) {
	return chunkOf(s.ModelPart(), c)
}

// ModelChunk returns chunk c of the model with its proof against Hash.
func (m *Model) ModelChunk(c uint64) (ModelChunk, error) { return chunkOf(m.Encode(), c) }

func chunkOf(part []byte, c uint64) (ModelChunk, error) {
	leaves := modelLeaves(part)
	if c >= uint64(len(leaves)-1) {
		return ModelChunk{}, fmt.Errorf("model chunk %d of %d", c, len(leaves)-1)
	}
	leaf := leaves[1+c]
	v := make([]int32, len(leaf)/4)
	d := decoder{b: leaf}
	copy(v, d.i32s(len(v)))
	return ModelChunk{Index: c, Values: v, Aunts: merkleAunts(leaves, int(1+c))}, nil
}

// VerifyModelChunk checks a chunk against a model hash whose model has
// params parameters: the chunk's length and its proof.
func VerifyModelChunk(root Hash, params uint64, c ModelChunk) error {
	n := ChunkCount(params)
	if c.Index >= n {
		return fmt.Errorf("chunk %d of a model with %d chunks", c.Index, n)
	}
	want := uint64(ChunkParams)
	if c.Index == n-1 {
		want = params - (n-1)*ChunkParams
	}
	if uint64(len(c.Values)) != want {
		return fmt.Errorf("chunk %d has %d values, want %d", c.Index, len(c.Values), want)
	}
	got, ok := rootFromAunts(int(c.Index+1), int(n+1), leafHash(c.Leaf()), c.Aunts)
	if !ok {
		return fmt.Errorf("chunk %d: %d aunts do not fit a %d-leaf tree", c.Index, len(c.Aunts), n+1)
	}
	if got != root {
		return fmt.Errorf("chunk %d does not prove against model %s", c.Index, root)
	}
	return nil
}

// RFC 6962 Merkle tree (CometBFT crypto/merkle's layout).

func leafHash(leaf []byte) Hash {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	var out Hash
	h.Sum(out[:0])
	return out
}

func innerHash(l, r Hash) Hash {
	var buf [1 + 2*hashSize]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+hashSize:], r[:])
	return sha256.Sum256(buf[:])
}

// splitPoint is the largest power of two strictly below n (n >= 2).
func splitPoint(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

func merkleRoot(leaves [][]byte) Hash {
	hs := make([]Hash, len(leaves))
	for i, l := range leaves {
		hs[i] = leafHash(l)
	}
	return rootOf(hs)
}

func rootOf(hs []Hash) Hash {
	switch len(hs) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return hs[0]
	}
	k := splitPoint(len(hs))
	return innerHash(rootOf(hs[:k]), rootOf(hs[k:]))
}

// merkleAunts returns the proof of leaf i, bottom sibling first.
func merkleAunts(leaves [][]byte, i int) [][]byte {
	hs := make([]Hash, len(leaves))
	for j, l := range leaves {
		hs[j] = leafHash(l)
	}
	var aunts [][]byte
	var walk func(hs []Hash, i int)
	walk = func(hs []Hash, i int) {
		if len(hs) <= 1 {
			return
		}
		k := splitPoint(len(hs))
		if i < k {
			walk(hs[:k], i)
			r := rootOf(hs[k:])
			aunts = append(aunts, r[:])
		} else {
			walk(hs[k:], i-k)
			l := rootOf(hs[:k])
			aunts = append(aunts, l[:])
		}
	}
	walk(hs, i)
	return aunts
}

// rootFromAunts recomputes the root from leaf i of n and its aunts (bottom
// first); ok is false when the aunt count does not fit the tree.
func rootFromAunts(i, n int, leaf Hash, aunts [][]byte) (Hash, bool) {
	if i < 0 || i >= n {
		return Hash{}, false
	}
	if n == 1 {
		return leaf, len(aunts) == 0
	}
	if len(aunts) == 0 {
		return Hash{}, false
	}
	last := aunts[len(aunts)-1]
	if len(last) != hashSize {
		return Hash{}, false
	}
	var sib Hash
	copy(sib[:], last)
	k := splitPoint(n)
	if i < k {
		l, ok := rootFromAunts(i, k, leaf, aunts[:len(aunts)-1])
		return innerHash(l, sib), ok
	}
	r, ok := rootFromAunts(i-k, n-k, leaf, aunts[:len(aunts)-1])
	return innerHash(sib, r), ok
}

// ModelFromParams builds a dense model of an architecture from its
// parameters in canonical order (a copy).
func ModelFromParams(a Arch, params []int32) (*Model, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if uint64(len(params)) != a.ParamCount() {
		return nil, fmt.Errorf("model: %d parameters, architecture has %d", len(params), a.ParamCount())
	}
	m := &Model{Arch: a}
	m.Arch.Hidden = append([]uint32(nil), a.Hidden...)
	off := 0
	for _, t := range a.layout() {
		l := Layer{W: append([]int32(nil), params[off:off+t.out*t.in]...)}
		off += t.out * t.in
		l.B = append([]int32(nil), params[off:off+t.bias]...)
		off += t.bias
		m.Layers = append(m.Layers, l)
	}
	return m, nil
}

// StateFromParams is the state at step 0 of a spec whose trained tensors
// are params (canonical order) with a fresh (all-zero) optimiser state: a
// federated round starts every participant from it. For LoRA, params are the
// adapters and baseHash names the frozen base.
func StateFromParams(s Spec, baseHash Hash, params []int32) (*State, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	st := initialState(Job{Spec: s}, baseHash)
	ts := st.tensors()
	n := 0
	for _, t := range ts {
		n += len(t)
	}
	if len(params) != n {
		return nil, fmt.Errorf("state: %d parameters, the spec trains %d", len(params), n)
	}
	off := 0
	for _, t := range ts {
		off += copy(t, params[off:off+len(t)])
	}
	return st, nil
}

// InitialOptHash is the OptHash of a fresh optimiser state of the spec (all
// zero), without building parameters.
func InitialOptHash(s Spec) (Hash, error) {
	if err := s.Validate(); err != nil {
		return Hash{}, err
	}
	st := &State{Arch: s.Arch(), Opt: OptState{Kind: optKindFor(s)}}
	for _, n := range trainedSizes(st.Arch, s.LoRARank) {
		switch st.Opt.Kind {
		case OptMomentum:
			st.Opt.Velocity = append(st.Opt.Velocity, make([]int32, n))
		case OptAdam:
			st.Opt.M = append(st.Opt.M, make([]int32, n))
			st.Opt.V = append(st.Opt.V, make([]int64, n))
		}
	}
	return st.OptHash(), nil
}

// ModelHeader is the header leaf of the model part of a spec's states (the
// first Merkle leaf of its model hash): a chain that knows the spec checks an
// aggregate's header without its parameters.
func ModelHeader(s Spec, baseHash Hash) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	st := &State{Arch: s.Arch()}
	if s.IsLoRA() {
		st.LoRA = &LoRAState{Rank: s.LoRARank, Alpha: s.LoRAAlpha, BaseHash: baseHash}
	}
	part := st.ModelPart()
	return append([]byte(modelLeafTag), part[:modelHeaderLen(part)]...), nil
}

// ModelHashFromParts is the model hash (Merkle root) of a model part whose
// header leaf and parameter chunks are given: what an aggregator commits.
func ModelHashFromParts(header []byte, params []int32) Hash {
	leaves := [][]byte{header}
	for off := 0; off < len(params); off += ChunkParams {
		leaves = append(leaves, appendI32s(nil, params[off:min(off+ChunkParams, len(params))]))
	}
	return merkleRoot(leaves)
}

// VerifyModelHeader checks the header leaf against a model hash whose model
// has params parameters.
func VerifyModelHeader(root Hash, params uint64, header []byte, aunts [][]byte) error {
	got, ok := rootFromAunts(0, int(ChunkLeaves(params)), leafHash(header), aunts)
	if !ok || got != root {
		return fmt.Errorf("model header does not prove against model %s", root)
	}
	return nil
}

// HeaderAunts returns the proof of the header leaf of a state's model part.
func (s *State) HeaderAunts() [][]byte { return merkleAunts(modelLeaves(s.ModelPart()), 0) }
