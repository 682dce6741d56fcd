package dataset

import (
	"bytes"
	"testing"

	"github.com/cometbft/cometbft/crypto/merkle"
)

// FuzzDecodeRow: never panics; accepted rows re-encode to the same bytes
// and convert to engine examples (or fail cleanly).
func FuzzDecodeRow(f *testing.F) {
	f.Add(uint8(0), []byte("\x00\x01\x80\xff\x02\x00\x00\x00"))
	f.Add(uint8(1), make([]byte, 16))
	f.Add(uint8(2), make([]byte, 24))
	f.Add(uint8(3), []byte("fmt.P"))
	f.Add(uint8(4), []byte("Q:yesQ:no!\x02\x00\x00\x00"))
	schemas := []Schema{clsSchema, regSchema, prefSchema, tokSchema, tokPrefSchema}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		s := schemas[int(which)%len(schemas)]
		r, err := DecodeRow(s, b)
		if err != nil {
			return
		}
		e, err := EncodeRow(s, r)
		if err != nil || !bytes.Equal(e, b) {
			t.Fatalf("accepted row does not re-encode: %v", err)
		}
		_, _ = s.ToExample(r, 16)
	})
}

// FuzzDecodeTokens: token rows of any length (2..65 tokens) never panic;
// DecodeRow and DecodeExample accept the same rows, which re-encode to
// exactly the same bytes, keep a prompt of 1..T shared tokens, and carry
// no features.
func FuzzDecodeTokens(f *testing.F) {
	f.Add(false, uint8(3), []byte("fmt.P"))
	f.Add(true, uint8(3), []byte("Q:yesQ:no!\x02\x00\x00\x00"))
	f.Add(true, uint8(0), []byte("ababab\x01\x00\x00\x00"))
	f.Add(true, uint8(0), []byte("abac\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, pair bool, t1 uint8, b []byte) {
		s := TextSchema(uint32(t1%64) + 1)
		if pair {
			s.Kind = KindTokenPreference
		}
		r, err := DecodeRow(s, b)
		ex, exErr := DecodeExample(s, b, 16)
		if (err == nil) != (exErr == nil) {
			t.Fatalf("DecodeRow error %v, DecodeExample error %v", err, exErr)
		}
		if err != nil {
			return
		}
		if r.hasFeatureFields() || ex.X != nil || ex.Rejected != nil || ex.Target != nil {
			t.Fatalf("token row decoded with features: %+v", r)
		}
		e, err := EncodeRow(s, r)
		if err != nil || !bytes.Equal(e, b) {
			t.Fatalf("accepted row does not re-encode: %v", err)
		}
		e, err = EncodeRow(s, Row{Tokens: ex.Tokens, RejectedTokens: ex.RejectedTokens, PromptLen: ex.PromptLen})
		if err != nil || !bytes.Equal(e, b) {
			t.Fatalf("accepted example does not re-encode: %v", err)
		}
		n := int(s.Features)
		if len(ex.Tokens) != n || !bytes.Equal(ex.Tokens, b[:n]) {
			t.Fatal("example tokens differ from the row")
		}
		if pair {
			p := int(ex.PromptLen)
			if p < 1 || p >= n || len(ex.RejectedTokens) != n || !bytes.Equal(ex.Tokens[:p], ex.RejectedTokens[:p]) {
				t.Fatalf("pair accepted with prompt %d of %d tokens", p, n)
			}
		} else if ex.RejectedTokens != nil || ex.PromptLen != 0 {
			t.Fatal("sequence row decoded as a pair")
		}
	})
}

// FuzzDecodeSchema: never panics; accepted schemas round-trip.
func FuzzDecodeSchema(f *testing.F) {
	f.Add(clsSchema.Encode())
	f.Add(regSchema.Encode())
	f.Add(tokSchema.Encode())
	f.Add(tokPrefSchema.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSchema(b)
		if err == nil && !bytes.Equal(s.Encode(), b) {
			t.Fatal("non-canonical schema accepted")
		}
	})
}

// FuzzVerifyRow feeds hostile proofs (fields and aunts from the fuzzer) to
// VerifyRow: it must return errors, never panic, and accept only the real row.
func FuzzVerifyRow(f *testing.F) {
	rows := make([][]byte, 11)
	for i := range rows {
		rows[i] = []byte{byte(i), 1, 2, 3, 0, 0, 0, 0}
	}
	root, proofs := Proofs(rows)
	for i, p := range proofs {
		f.Add(uint64(11), uint64(i), p.Total, p.Index, p.LeafHash, bytes.Join(p.Aunts, nil), rows[i])
	}
	f.Fuzz(func(t *testing.T, total, index uint64, pt, pi int64, leaf, aunts, row []byte) {
		p := &merkle.Proof{Total: pt, Index: pi, LeafHash: leaf}
		for len(aunts) > 0 {
			n := min(32, len(aunts))
			if len(aunts) > 32 && aunts[0] == 0xff { // sometimes odd sizes
				n = int(aunts[1]) % len(aunts)
				if n == 0 {
					n = 1
				}
			}
			p.Aunts = append(p.Aunts, aunts[:n])
			aunts = aunts[n:]
		}
		if err := VerifyRow(root, total, index, row, p); err == nil {
			// A proof never makes a row up: the row is one the root commits
			// to, and with the true row count it is exactly row index. (With
			// a false count, a proof of the true tree can also verify where
			// both trees have the same shape above the leaf, as for row 6 of
			// 11 and of 9: the chain always takes the count from the task,
			// so only a requester lying about its own dataset's count meets
			// this, and then only with the dataset's real rows.)
			genuine := false
			for _, r := range rows {
				genuine = genuine || bytes.Equal(row, r)
			}
			if !genuine || (total == 11 && !bytes.Equal(row, rows[index])) {
				t.Fatalf("forged proof accepted: total %d index %d row %x", total, index, row)
			}
		}
		_ = VerifyRowProto(root, total, index, row, ProofToProto(p))
	})
}

// FuzzRead: reading a packed file never panics and accepts only files whose
// rows hash to their header root.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if _, err := Pack(&buf, clsSchema, [][]byte{{1, 2, 3, 4, 0, 0, 0, 0}, {5, 6, 7, 8, 2, 0, 0, 0}}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	buf.Reset()
	if _, err := Pack(&buf, tokPrefSchema, [][]byte{[]byte("Q:yesQ:no!\x02\x00\x00\x00")}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if _, err := fl.WriteTo(&out); err != nil || !bytes.Equal(out.Bytes(), b) {
			t.Fatal("accepted file does not re-pack to the same bytes")
		}
	})
}

// FuzzParseFixed: never panics; accepted decimals are within half a unit.
func FuzzParseFixed(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-0.001953125", ".5", "123.456", "-8388608"} {
		f.Add(s, uint8(8))
	}
	f.Fuzz(func(t *testing.T, s string, fb uint8) {
		_, _ = ParseFixed(s, uint32(fb))
	})
}
