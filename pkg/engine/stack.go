package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A stacked base lets a LoRA job fine-tune a LoRA result: DPO alignment of a
// LoRA fine-tune of a pretrained model, so that the lineage reads
// base -> LoRA -> aligned with each model known by its own hash.
//
// Its identity is the LoRA result's ModelHash (what the chain records and a
// task names in base_model_hash); its weights, what the job trains on and
// what DPO uses as the reference, are the merged W + (alpha/r) B*A
// (State.Model). Only one level stacks: the LoRA result's own base must be
// dense, which bounds the merge a validator does to one pass.
//
// Stacked base encoding (little endian):
//
//	u8 version=1 | u8 part=3 | u32 len(D) | D = the dense base's Model.Encode() |
//	L = the LoRA result's model part (State.ModelPart, part 2), to the end
//
// PartStacked is the part byte (the second) of a stacked base encoding.
const PartStacked = 3

// EncodeStackedBase returns the stacked base encoding of a LoRA result on
// its dense base.
func EncodeStackedBase(dense *Model, result *State) ([]byte, error) {
	if result == nil || result.LoRA == nil {
		return nil, errors.New("stacked base: the result must be a LoRA state")
	}
	if err := dense.Validate(); err != nil {
		return nil, fmt.Errorf("stacked base: %w", err)
	}
	if dense.Hash() != result.LoRA.BaseHash || !dense.Arch.Equal(result.Arch) {
		return nil, errors.New("stacked base: the dense model is not the LoRA result's base")
	}
	d, l := dense.Encode(), result.ModelPart()
	b := make([]byte, 0, 6+len(d)+len(l))
	b = append(b, modelVersion, PartStacked)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(d)))
	b = append(b, d...)
	return append(b, l...), nil
}

// DecodeBase decodes the frozen base of a LoRA job: a dense model encoding
// (its identity is its Model.Hash) or a stacked base (its identity is the
// LoRA result's ModelHash; the model returned is the merged one). mergeMACs
// is the matrix work the merge did (0 for a dense base), which the chain
// charges.
func DecodeBase(b []byte) (m *Model, id Hash, mergeMACs uint64, err error) {
	if len(b) < 2 || b[1] != PartStacked {
		if m, err = DecodeModel(b); err != nil {
			return nil, Hash{}, 0, err
		}
		return m, m.Hash(), 0, nil
	}
	d := decoder{b: b}
	if v := d.u8(); v != modelVersion {
		return nil, Hash{}, 0, fmt.Errorf("stacked base: version %d, want %d", v, modelVersion)
	}
	d.u8()
	n := int(d.u32())
	if d.bad || n > d.remaining() {
		return nil, Hash{}, 0, errors.New("stacked base: truncated dense part")
	}
	dense, err := DecodeModel(d.take(n))
	if err != nil {
		return nil, Hash{}, 0, fmt.Errorf("stacked base: %w", err)
	}
	lb := d.take(d.remaining())
	st := &State{}
	rank, err := st.decodeModelPart(lb)
	if err != nil {
		return nil, Hash{}, 0, fmt.Errorf("stacked base: %w", err)
	}
	if rank == 0 {
		return nil, Hash{}, 0, errors.New("stacked base: the second part must be a LoRA result (part 2)")
	}
	if m, err = st.Model(dense); err != nil {
		return nil, Hash{}, 0, fmt.Errorf("stacked base: %w", err)
	}
	return m, modelHash(lb), MergeMACs(st.Arch, rank), nil
}

// EncodedStackedBaseSize is len(EncodeStackedBase()) for a rank-r LoRA
// result of architecture a.
func EncodedStackedBaseSize(a Arch, rank uint32) uint64 {
	return 6 + EncodedModelSize(a) + encodedLoRAPartSize(a, rank)
}

// MergeMACs is the matrix work of merging rank-r adapters into a model of
// architecture a: r MACs per adapted weight.
func MergeMACs(a Arch, rank uint32) uint64 {
	var n uint64
	for _, t := range a.layout() {
		if t.lora {
			n += uint64(t.out) * uint64(t.in) * uint64(rank)
		}
	}
	return n
}

// ModelOn is State.Model for a LoRA state whose base is identified by
// baseID rather than by base.Hash(): a fine-tune on a stacked base, whose
// base is the merged model of the LoRA result baseID (DecodeBase).
func (s *State) ModelOn(base *Model, baseID Hash) (*Model, error) {
	if s.LoRA == nil || baseID == base.Hash() {
		return s.Model(base)
	}
	if baseID != s.LoRA.BaseHash {
		return nil, errors.New("model: base identity does not match the state's base hash")
	}
	t := *s
	l := *s.LoRA
	l.BaseHash = base.Hash()
	t.LoRA = &l
	return t.Model(base)
}
