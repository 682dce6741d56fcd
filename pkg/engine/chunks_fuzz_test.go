package engine

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// maxFuzzParams bounds the models FuzzVerifyModelChunk builds: nine chunks,
// the last one partial, so that every tree shape up to 10 leaves comes up.
const maxFuzzParams = 8*ChunkParams + 300

// fuzzModel is a dense linear model with exactly n >= 2 parameters (n-1
// inputs, one output), its parameters drawn from seed (SplitMix64).
func fuzzModel(tb testing.TB, n uint64, seed uint64) *Model {
	params := make([]int32, n)
	for i := range params {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		params[i] = int32(uint32(z ^ z>>31))
	}
	m, err := ModelFromParams(Arch{Kind: ModelLinear, Inputs: uint32(n - 1), Outputs: 1, FracBits: DefaultFracBits}, params)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// i32sOf reads little-endian int32 values from b (a trailing partial value
// is dropped).
func i32sOf(b []byte) []int32 {
	out := make([]int32, len(b)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// splitAunts cuts b into aunts whose lengths cycle through sizes (32 bytes
// each without sizes), at most 80 of them.
func splitAunts(b, sizes []byte) [][]byte {
	var out [][]byte
	for i := 0; len(b) > 0 && len(out) < 80; i++ {
		n := 32
		if len(sizes) > 0 {
			n = int(sizes[i%len(sizes)])
		}
		n = min(n, len(b))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// FuzzVerifyModelChunk builds a model of a fuzzed parameter count, takes the
// true proof of one of its chunks (Model.ModelChunk) and changes one thing:
// a value, the values, their count, the aunts (replaced, one dropped or
// added, one bit flipped), the index, the parameter count the verifier is
// told, or the root. VerifyModelChunk never panics, accepts the true chunk
// under the true count, and accepts nothing but a true chunk with its own
// proof, of the length the count it is told gives it.
func FuzzVerifyModelChunk(f *testing.F) {
	f.Add(uint16(3000), uint64(7), uint64(1), uint8(0), uint32(0), int32(0), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(3000), uint64(7), uint64(2), uint8(1), uint32(17), int32(1), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(1), uint64(1), uint64(0), uint8(0), uint32(0), int32(0), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(1023), uint64(2), uint64(0), uint8(3), uint32(0), int32(-1), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(2047), uint64(3), uint64(1), uint8(3), uint32(0), int32(1), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(5000), uint64(4), uint64(3), uint8(4), uint32(0), int32(0), int64(0), []byte{}, make([]byte, 96), []byte{32, 31, 33})
	f.Add(uint16(5000), uint64(4), uint64(4), uint8(5), uint32(1), int32(0), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(5000), uint64(4), uint64(4), uint8(6), uint32(77), int32(0), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(9000), uint64(5), uint64(2), uint8(7), uint32(0), int32(0), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(9000), uint64(5), uint64(8), uint8(8), uint32(0), int32(0), int64(-1), []byte{}, []byte{}, []byte{})
	f.Add(uint16(9000), uint64(5), uint64(3), uint8(8), uint32(0), int32(0), int64(100), []byte{}, []byte{}, []byte{})
	f.Add(uint16(2100), uint64(6), uint64(0), uint8(9), uint32(200), int32(0), int64(0), []byte{}, []byte{}, []byte{})
	f.Add(uint16(1500), uint64(6), uint64(1), uint8(2), uint32(0), int32(0), int64(0), make([]byte, 4*476), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, p uint16, seed, idx uint64, mode uint8, at uint32, add int32, delta int64, vals, aunts, sizes []byte) {
		n := 2 + uint64(p)%(maxFuzzParams-1)
		m := fuzzModel(t, n, seed)
		trueRoot := m.Hash()
		root := trueRoot
		count := ChunkCount(n)
		if _, err := m.ModelChunk(count); err == nil {
			t.Fatalf("Model.ModelChunk gives chunk %d of a %d-chunk model", count, count)
		}
		c, err := m.ModelChunk(idx % count)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyModelChunk(trueRoot, n, c); err != nil {
			t.Fatalf("the model's own chunk %d of %d does not verify: %v", c.Index, count, err)
		}
		claimed := n
		switch mode % 10 {
		case 1: // one value changed by add (0 keeps it)
			c.Values[int(at)%len(c.Values)] += add
		case 2: // other values altogether
			c.Values = i32sOf(vals)
		case 3: // values cut or extended by add
			if add < 0 {
				c.Values = c.Values[:max(0, len(c.Values)-int(-int64(add)%1025))]
			} else {
				c.Values = append(c.Values, make([]int32, add%1025)...)
			}
		case 4: // other aunts altogether
			c.Aunts = splitAunts(aunts, sizes)
		case 5: // one aunt dropped (even at) or one added (odd at)
			i := int(at/2) % (len(c.Aunts) + 1)
			if at%2 == 0 && i < len(c.Aunts) {
				c.Aunts = slices.Delete(c.Aunts, i, i+1)
			} else {
				c.Aunts = slices.Insert(c.Aunts, i, bytes.Repeat([]byte{byte(add)}, 32))
			}
		case 6: // one bit of one aunt
			bit := int(at) % (len(c.Aunts) * 32 * 8)
			c.Aunts[bit/256][bit%256/8] ^= 1 << (bit % 8)
		case 7: // any index
			c.Index = idx
		case 8: // the verifier told another parameter count
			claimed = uint64(int64(n) + delta)
		case 9: // another root
			root[int(at)%256/8] ^= 1 << (at % 8)
		}
		err = VerifyModelChunk(root, claimed, c)
		own := root == trueRoot && c.Index < count
		if own {
			truth, err := m.ModelChunk(c.Index)
			if err != nil {
				t.Fatal(err)
			}
			own = slices.Equal(c.Values, truth.Values) && slices.EqualFunc(c.Aunts, truth.Aunts, bytes.Equal)
		}
		if err != nil {
			if own && claimed == n {
				t.Fatalf("the true chunk %d of a %d-parameter model is refused: %v", c.Index, n, err)
			}
			return
		}
		if !own {
			t.Fatalf("a chunk that is not the model's own (mode %d, index %d, %d values, %d aunts) verifies",
				mode%10, c.Index, len(c.Values), len(c.Aunts))
		}
		// The proof binds the chunk's place, not the tree's leaf count: a
		// true chunk may verify under another parameter count whose tree
		// puts it on the same path, but only with the length that count
		// gives it.
		want := uint64(ChunkParams)
		if cc := ChunkCount(claimed); c.Index >= cc {
			t.Fatalf("chunk %d accepted for a %d-chunk model", c.Index, cc)
		} else if c.Index == cc-1 {
			want = claimed - (cc-1)*ChunkParams
		}
		if uint64(len(c.Values)) != want {
			t.Fatalf("chunk %d of %d values accepted where %d parameters give it %d", c.Index, len(c.Values), claimed, want)
		}
	})
}
