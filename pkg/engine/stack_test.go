package engine

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestStackedBase: DPO alignment of a LoRA fine-tune of a pretrained LM. The
// stacked base decodes to the merged LoRA model and is known by the LoRA
// result's ModelHash, which the aligned state records as its base; the
// merge work is MergeMACs; malformed stacks are refused.
func TestStackedBase(t *testing.T) {
	spec := tinyLMSpec()
	rows := lmRows{text: lmText, T: 16}
	pst, err := NewInitialState(Job{Spec: spec, Seed: [32]byte{1}, RowCount: 64})
	if err != nil {
		t.Fatal(err)
	}
	dense, err := pst.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	lora := spec
	lora.LoRARank, lora.LoRAAlpha = 2, fix(4, 1)
	ljob := Job{Spec: lora, Seed: [32]byte{2}, RowCount: 64, Base: dense}
	l0, err := NewInitialState(ljob)
	if err != nil {
		t.Fatal(err)
	}
	lres, _, err := RunSegment(ljob, l0, rows, 4)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncodeStackedBase(dense, lres)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(enc)) != EncodedStackedBaseSize(spec.Arch(), lora.LoRARank) {
		t.Fatalf("stacked base is %d bytes, EncodedStackedBaseSize says %d", len(enc), EncodedStackedBaseSize(spec.Arch(), lora.LoRARank))
	}
	merged, id, macs, err := DecodeBase(enc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lres.Model(dense)
	if err != nil {
		t.Fatal(err)
	}
	if id != lres.ModelHash() || merged.Hash() != want.Hash() || merged.Hash() == dense.Hash() {
		t.Fatalf("stacked base: id %s (want %s), merged %s (want %s)", id, lres.ModelHash(), merged.Hash(), want.Hash())
	}
	if macs != MergeMACs(spec.Arch(), 2) || macs == 0 {
		t.Fatalf("merge MACs %d, MergeMACs %d", macs, MergeMACs(spec.Arch(), 2))
	}
	// A dense base decodes to itself, with no merge.
	if m, h, n, err := DecodeBase(dense.Encode()); err != nil || h != dense.Hash() || n != 0 || m.Hash() != dense.Hash() {
		t.Fatalf("dense base: %v %s %d", err, h, n)
	}

	dpo := lora
	dpo.Objective, dpo.DPOBeta = ObjectiveDPO, fix(1, 10)
	djob := Job{Spec: dpo, Seed: [32]byte{3}, RowCount: 64, Base: merged, BaseHash: id}
	d0, err := NewInitialState(djob)
	if err != nil {
		t.Fatal(err)
	}
	if d0.LoRA.BaseHash != id {
		t.Fatalf("aligned state's base is %s, want the LoRA result %s", d0.LoRA.BaseHash, id)
	}
	if h, err := InitialStateHash(Job{Spec: dpo, Seed: [32]byte{3}, RowCount: 64}, id[:]); err != nil || h != d0.Hash() {
		t.Fatalf("h_0 from the base hash alone: %v %s vs %s", err, h, d0.Hash())
	}
	dres, _, err := RunSegment(djob, d0, lmRows{text: lmText, T: 16, dpo: true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// The same run on the merged weights named by their own hash is another
	// job: its start state does not match.
	if _, _, err := RunSegment(Job{Spec: dpo, Seed: [32]byte{3}, RowCount: 64, Base: merged}, d0, lmRows{text: lmText, T: 16, dpo: true}, 1); err == nil {
		t.Fatal("a run naming the merged weights by their own hash accepted the stacked job's state")
	}
	final, err := dres.ModelOn(merged, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dres.ModelOn(merged, dense.Hash()); err == nil {
		t.Fatal("ModelOn accepted a base identity that is not the state's")
	}
	if final.Hash() == merged.Hash() {
		t.Fatal("three DPO steps left the model unchanged")
	}

	// Malformed stacks.
	other, _ := (&State{Arch: dense.Arch, Layers: dense.Clone().Layers}).Model(nil)
	other.Layers[0].B[0]++
	if _, err := EncodeStackedBase(other, lres); err == nil {
		t.Fatal("EncodeStackedBase accepted a dense model that is not the result's base")
	}
	bad := [][]byte{
		enc[:len(enc)-1],
		enc[:7],
		append(append([]byte(nil), enc...), 0),
	}
	swapped := bytes.Clone(enc)
	swapped[6+64]++ // a weight of the dense part: its hash no longer matches the LoRA part's base hash
	bad = append(bad, swapped)
	denseAsLoRA := append([]byte{modelVersion, PartStacked, 0, 0, 0, 0}, dense.Encode()...)
	bad = append(bad, denseAsLoRA)
	for i, b := range bad {
		if _, _, _, err := DecodeBase(b); err == nil {
			t.Errorf("malformed stacked base %d decoded", i)
		}
	}
}

// FuzzDecodeBase: decoding a reveal's base never panics; an accepted dense
// base round-trips, an accepted stacked base re-encodes to the same bytes,
// is known by its LoRA part's hash and reports its merge work.
func FuzzDecodeBase(f *testing.F) {
	spec := optSpec(objSpec(Spec{Model: ModelMLP, Inputs: 5, Hidden: []uint32{3}, BatchSize: 2, FracBits: 12}, "ce"), "sgd")
	st, _ := NewInitialState(Job{Spec: spec, Seed: [32]byte{1}, RowCount: 1})
	dense, _ := st.Model(nil)
	lora := spec
	lora.LoRARank, lora.LoRAAlpha = 1, 1<<12
	lst, _ := NewInitialState(Job{Spec: lora, Seed: [32]byte{2}, RowCount: 1, Base: dense})
	lst.LoRA.Adapters[0].B[0] = 7 // a non-zero B: the merge changes the weights
	enc, err := EncodeStackedBase(dense, lst)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Add(dense.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, id, macs, err := DecodeBase(b)
		if err != nil {
			return
		}
		if m.Validate() != nil {
			t.Fatal("accepted base does not validate")
		}
		if b[1] != PartStacked {
			if id != m.Hash() || macs != 0 || string(m.Encode()) != string(b) {
				t.Fatal("accepted dense base is not canonical")
			}
			return
		}
		n := int(binary.LittleEndian.Uint32(b[2:6]))
		d, err := DecodeModel(b[6 : 6+n])
		if err != nil {
			t.Fatal(err)
		}
		l := &State{}
		rank, err := l.decodeModelPart(b[6+n:])
		if err != nil || rank == 0 {
			t.Fatalf("accepted stacked base with a bad LoRA part: %v", err)
		}
		again, err := EncodeStackedBase(d, l)
		if err != nil || !bytes.Equal(again, b) || id != l.ModelHash() || macs != MergeMACs(m.Arch, rank) {
			t.Fatal("accepted stacked base is not canonical")
		}
	})
}
