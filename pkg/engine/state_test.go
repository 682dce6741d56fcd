package engine

import (
	"encoding/binary"
	"testing"
)

func TestStateSizesAndLayeredHashes(t *testing.T) {
	for name, c := range map[string]struct {
		spec Spec
		size int
	}{
		"softmax-sgd":  {DefaultSpecMNISTSoftmax(), 1 + 8 + 4 + 2 + 12 + 4*7850 + 4 + 2 + 4*7850},
		"softmax-adam": {DefaultSpecMNISTSoftmaxAdam(), 1 + 8 + 4 + 2 + 12 + 4*7850 + 4 + 2 + 12*7850},
		"mlp-sgd":      {DefaultSpecMNISTMLP(), 1 + 8 + 4 + 2 + 16 + 4*101770 + 4 + 2 + 4*101770},
	} {
		st, err := NewInitialState(Job{Spec: c.spec, RowCount: 1})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(st.Encode()); n != c.size {
			t.Errorf("%s: %d bytes, want %d", name, n, c.size)
		}
		m, _ := st.Model(nil)
		if m.Hash() != st.ModelHash() {
			t.Errorf("%s: dense ModelHash must equal Model.Hash", name)
		}
		if StateHashFrom(st.ModelHash(), st.OptHash(), st.Step) != st.Hash() {
			t.Errorf("%s: layering", name)
		}
		dm, err := DecodeModel(m.Encode())
		if err != nil || dm.Hash() != m.Hash() {
			t.Errorf("%s: model round trip: %v", name, err)
		}
	}
}

func TestDecodeStateRejects(t *testing.T) {
	job, _ := smallJob(t, "ce", "adam", 0)
	st, _ := NewInitialState(job)
	good := st.Encode()
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	mlen := int(binary.LittleEndian.Uint32(good[9:]))
	optOff := 13 + mlen + 4 // start of the optimiser part
	cases := map[string][]byte{
		"empty":        nil,
		"version":      mut(func(b []byte) []byte { b[0] = 2; return b }),
		"truncated":    good[:len(good)-1],
		"trailing":     append(append([]byte(nil), good...), 0),
		"model-len":    mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[9:], uint32(mlen+1)); return b }),
		"model-ver":    mut(func(b []byte) []byte { b[13] = 9; return b }),
		"part":         mut(func(b []byte) []byte { b[14] = 7; return b }),
		"arch":         mut(func(b []byte) []byte { b[15] = 9; return b }),
		"opt-kind":     mut(func(b []byte) []byte { b[optOff+1] = 1; return b }),
		"opt-ver":      mut(func(b []byte) []byte { b[optOff] = 0; return b }),
		"negative-v":   mut(func(b []byte) []byte { b[len(b)-1] = 0x80; return b }),
		"huge-lengths": mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[9:], 1<<31); return b }),
	}
	for name, b := range cases {
		if _, err := DecodeState(job.Spec, b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A valid state of another spec is refused by DecodeState(spec).
	other, _ := smallJob(t, "ce", "momentum", 0)
	if _, err := DecodeState(other.Spec, good); err == nil {
		t.Error("state decoded under the wrong spec")
	}
	if _, err := DecodeState(job.Spec, good); err != nil {
		t.Fatalf("good state refused: %v", err)
	}
}

func seedStates(f *testing.F) {
	cs := syntheticCases(f)
	// The first 12 synthetic cases and every transformer case (dense, LoRA, DPO).
	for i, c := range cs {
		if i >= 12 && c.job.Spec.Model != ModelTransformer {
			continue
		}
		st, err := NewInitialState(c.job)
		if err != nil {
			f.Fatal(err)
		}
		st, _, err = RunSegment(c.job, st, c.rows, 2)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(st.Encode())
	}
}

// FuzzDecodeState: decoding never panics, and every accepted encoding is
// canonical (re-encodes to the same bytes).
func FuzzDecodeState(f *testing.F) {
	seedStates(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		if string(st.Encode()) != string(b) {
			t.Fatalf("non-canonical encoding accepted")
		}
		_ = st.Hash()
	})
}

// FuzzDecodeSpec: decoding never panics; accepted specs validate and
// round-trip; MACsPerStep is defined for them.
func FuzzDecodeSpec(f *testing.F) {
	lm := tinyLMSpec()
	dpo := lm
	dpo.LoRARank, dpo.LoRAAlpha, dpo.Objective, dpo.DPOBeta = 2, 4<<16, ObjectiveDPO, 1<<15
	for _, s := range []Spec{DefaultSpecMNISTSoftmax(), DefaultSpecMNISTSoftmaxAdam(), DefaultSpecMNISTMLP(), DefaultSpecMNISTLoRA(), lm, dpo} {
		f.Add(s.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSpec(b)
		if err != nil {
			return
		}
		if s.Validate() != nil || string(s.Encode()) != string(b) || MACsPerStep(s) == 0 {
			t.Fatalf("accepted spec is not valid/canonical")
		}
	})
}

// FuzzDecodeModel: decoding never panics; accepted models round-trip.
func FuzzDecodeModel(f *testing.F) {
	st, _ := NewInitialState(Job{Spec: optSpec(objSpec(Spec{Model: ModelMLP, Inputs: 5, Hidden: []uint32{3}, BatchSize: 2, FracBits: 12}, "ce"), "sgd"), RowCount: 1})
	m, _ := st.Model(nil)
	f.Add(m.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeModel(b)
		if err != nil {
			return
		}
		if m.Validate() != nil || string(m.Encode()) != string(b) {
			t.Fatalf("accepted model is not valid/canonical")
		}
	})
}

// EncodedStateSize and EncodedModelSize are exactly the encodings' lengths,
// for every optimiser, dense and LoRA, without building a state.
func TestEncodedSizes(t *testing.T) {
	for _, lora := range []uint32{0, 2} {
		for _, opt := range []string{"sgd", "momentum", "adam"} {
			job, _ := smallJob(t, "ce", opt, lora)
			st, err := NewInitialState(job)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := EncodedStateSize(job.Spec), uint64(len(st.Encode())); got != want {
				t.Errorf("lora %d %s: EncodedStateSize %d, encoding has %d bytes", lora, opt, got, want)
			}
			if job.Base != nil {
				if got, want := EncodedModelSize(job.Base.Arch), uint64(len(job.Base.Encode())); got != want {
					t.Errorf("EncodedModelSize %d, encoding has %d bytes", got, want)
				}
			}
		}
	}
	if EncodedStateSize(Spec{}) != 0 {
		t.Error("an invalid spec has no encoded size")
	}
}

// EncodeHashed is Encode with the three hashes, for every optimiser, dense and LoRA.
func TestEncodeHashed(t *testing.T) {
	for _, lora := range []uint32{0, 2} {
		for _, opt := range []string{"sgd", "momentum", "adam"} {
			job, rows := smallJob(t, "ce", opt, lora)
			st, err := NewInitialState(job)
			if err != nil {
				t.Fatal(err)
			}
			if st, _, err = RunSegment(job, st, rows, 3); err != nil {
				t.Fatal(err)
			}
			enc, h, m, o := st.EncodeHashed()
			if string(enc) != string(st.Encode()) || h != st.Hash() || m != st.ModelHash() || o != st.OptHash() {
				t.Errorf("lora %d %s: EncodeHashed differs from Encode and the hashes", lora, opt)
			}
		}
	}
}
