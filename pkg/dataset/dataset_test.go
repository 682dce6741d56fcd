package dataset

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/merkle"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

var (
	clsSchema  = Schema{Kind: KindClassification, Feature: FeatureUint8, Features: 4, Classes: 3}
	regSchema  = Schema{Kind: KindRegression, Feature: FeatureFixed32, Features: 2, Targets: 2, FracBits: 8}
	prefSchema = Schema{Kind: KindPreference, Feature: FeatureFixed32, Features: 3, FracBits: 12}
)

func TestRowEncodingHandChecked(t *testing.T) {
	b, err := EncodeRow(clsSchema, Row{Features: []int32{0, 1, 128, 255}, Label: 2})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(b) != "000180ff02000000" {
		t.Errorf("classification row = %x", b)
	}
	b, err = EncodeRow(regSchema, Row{Features: []int32{-1, 256}, Targets: []int32{384, -128}})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(b) != "ffffffff0001000080010000"+"80ffffff" {
		t.Errorf("regression row = %x", b)
	}
	r, err := DecodeRow(regSchema, b)
	if err != nil || r.Targets[1] != -128 || r.Features[0] != -1 {
		t.Fatalf("decode: %+v %v", r, err)
	}
	ex, err := regSchema.ToExample(r, 16)
	if err != nil || ex.X[1] != 1<<16 || ex.Target[0] != 384<<8 {
		t.Fatalf("example: %+v %v", ex, err)
	}
	// uint8 -> fixed point: round(p * 2^F / 255).
	ex, err = DecodeExample(clsSchema, mustEncode(t, clsSchema, Row{Features: []int32{0, 1, 128, 255}, Label: 1}), 16)
	if err != nil || ex.X[0] != 0 || ex.X[1] != 257 || ex.X[2] != 32897 || ex.X[3] != 65536 || ex.Label != 1 {
		t.Fatalf("uint8 conversion: %+v %v", ex, err)
	}
	// Rescale down with rounding: 1.5 units at F=12 -> F=8 ... 24/16 = 1.5 -> 2.
	ex, err = prefSchema.ToExample(Row{Features: []int32{24, -24, 16}, Rejected: []int32{0, 0, 0}}, 8)
	if err != nil || ex.X[0] != 2 || ex.X[1] != -1 || ex.X[2] != 1 {
		t.Fatalf("rescale: %+v %v", ex, err)
	}
	if _, err := prefSchema.ToExample(Row{Features: []int32{1 << 30, 0, 0}, Rejected: []int32{0, 0, 0}}, 24); err == nil {
		t.Fatal("overflowing rescale accepted")
	}
}

func mustEncode(t *testing.T, s Schema, r Row) []byte {
	t.Helper()
	b, err := EncodeRow(s, r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRowRejects(t *testing.T) {
	if _, err := EncodeRow(clsSchema, Row{Features: []int32{0, 1, 2, 256}}); err == nil {
		t.Error("byte feature 256 accepted")
	}
	if _, err := EncodeRow(clsSchema, Row{Features: []int32{0, 1, 2, 3}, Label: 3}); err == nil {
		t.Error("label 3 of 3 classes accepted")
	}
	if _, err := EncodeRow(clsSchema, Row{Features: []int32{0, 1, 2}}); err == nil {
		t.Error("short row accepted")
	}
	good := mustEncode(t, clsSchema, Row{Features: []int32{0, 1, 2, 3}, Label: 1})
	if _, err := DecodeRow(clsSchema, good[:7]); err == nil {
		t.Error("short encoding accepted")
	}
	if _, err := DecodeRow(clsSchema, append(good, 0)); err == nil {
		t.Error("long encoding accepted")
	}
	bad := append([]byte(nil), good...)
	bad[4] = 3
	if _, err := DecodeRow(clsSchema, bad); err == nil {
		t.Error("out-of-range label accepted")
	}
}

func TestSchema(t *testing.T) {
	for _, s := range []Schema{clsSchema, regSchema, prefSchema} {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		d, err := DecodeSchema(s.Encode())
		if err != nil || d != s {
			t.Fatalf("round trip %+v: %v", s, err)
		}
	}
	for name, s := range map[string]Schema{
		"kind":     {Kind: 9, Feature: FeatureUint8, Features: 1},
		"feature":  {Kind: KindPreference, Feature: 3, Features: 1},
		"features": {Kind: KindPreference, Feature: FeatureUint8},
		"classes":  {Kind: KindClassification, Feature: FeatureUint8, Features: 1, Classes: 1},
		"frac":     {Kind: KindPreference, Feature: FeatureFixed32, Features: 1},
		"frac0":    {Kind: KindPreference, Feature: FeatureUint8, Features: 1, FracBits: 8},
		"targets":  {Kind: KindRegression, Feature: FeatureUint8, Features: 1, FracBits: 8},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := clsSchema.Compatible(engine.Spec{Inputs: 4, Outputs: 3, Objective: engine.ObjectiveSoftmaxCE}); err != nil {
		t.Error(err)
	}
	if err := clsSchema.Compatible(engine.Spec{Inputs: 4, Outputs: 1, Objective: engine.ObjectiveBradleyTerry}); err == nil {
		t.Error("classification rows for Bradley-Terry accepted")
	}
}

func makeRows(t *testing.T, n int) [][]byte {
	rows := make([][]byte, n)
	for i := range rows {
		rows[i] = mustEncode(t, clsSchema, Row{Features: []int32{int32(i % 256), 1, 2, int32(i * 7 % 256)}, Label: uint32(i % 3)})
	}
	return rows
}

func TestMerkleProofs(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 8, 13, 100} {
		rows := makeRows(t, n)
		root, proofs := Proofs(rows)
		if !bytes.Equal(root, Root(rows)) || !bytes.Equal(root, merkle.HashFromByteSlices(rows)) {
			t.Fatal("roots differ")
		}
		for i, p := range proofs {
			if err := VerifyRow(root, uint64(n), uint64(i), rows[i], p); err != nil {
				t.Fatalf("n=%d row %d: %v", n, i, err)
			}
			if len(p.Aunts) != proofDepth(uint64(i), uint64(n)) {
				t.Fatalf("depth")
			}
			pb, err := ProofFromProto(ProofToProto(p))
			if err != nil || VerifyRowProto(root, uint64(n), uint64(i), rows[i], ProofToProto(pb)) != nil {
				t.Fatalf("proto round trip: %v", err)
			}
			if n > 1 {
				if err := VerifyRow(root, uint64(n), uint64((i+1)%n), rows[i], p); err == nil {
					t.Fatal("proof accepted for another index")
				}
				if err := VerifyRow(root, uint64(n), uint64(i), rows[(i+1)%n], p); err == nil {
					t.Fatal("proof accepted for another row")
				}
			}
		}
	}
}

func TestVerifyRowHostile(t *testing.T) {
	rows := makeRows(t, 13)
	root, proofs := Proofs(rows)
	p := proofs[6]
	clone := func(f func(*merkle.Proof)) *merkle.Proof {
		c := &merkle.Proof{Total: p.Total, Index: p.Index, LeafHash: append([]byte(nil), p.LeafHash...)}
		for _, a := range p.Aunts {
			c.Aunts = append(c.Aunts, append([]byte(nil), a...))
		}
		f(c)
		return c
	}
	cases := map[string]struct {
		root         []byte
		total, index uint64
		proof        *merkle.Proof
	}{
		"nil proof":      {root, 13, 6, nil},
		"short root":     {root[:31], 13, 6, p},
		"nil root":       {nil, 13, 6, p},
		"zero total":     {root, 0, 0, p},
		"index>=total":   {root, 13, 13, p},
		"huge total":     {root, 1 << 63, 6, p},
		"total mismatch": {root, 14, 6, p},
		"index mismatch": {root, 13, 5, p},
		"proof total":    {root, 13, 6, clone(func(c *merkle.Proof) { c.Total = -1 })},
		"proof index":    {root, 13, 6, clone(func(c *merkle.Proof) { c.Index = 1 << 62 })},
		"leaf size":      {root, 13, 6, clone(func(c *merkle.Proof) { c.LeafHash = c.LeafHash[:5] })},
		"extra aunt":     {root, 13, 6, clone(func(c *merkle.Proof) { c.Aunts = append(c.Aunts, make([]byte, 32)) })},
		"missing aunt":   {root, 13, 6, clone(func(c *merkle.Proof) { c.Aunts = c.Aunts[1:] })},
		"oversized aunt": {root, 13, 6, clone(func(c *merkle.Proof) { c.Aunts[0] = make([]byte, 1<<20) })},
		"many aunts":     {root, 13, 6, clone(func(c *merkle.Proof) { c.Aunts = make([][]byte, 1000) })},
		"flipped aunt":   {root, 13, 6, clone(func(c *merkle.Proof) { c.Aunts[1][0] ^= 1 })},
	}
	for name, c := range cases {
		if err := VerifyRow(c.root, c.total, c.index, rows[6], c.proof); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ProofFromProto(nil); err == nil {
		t.Error("nil proto accepted")
	}
}

func TestPackedFile(t *testing.T) {
	rows := makeRows(t, 37)
	var buf bytes.Buffer
	root, err := Pack(&buf, clsSchema, rows)
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() != HeaderSize+37*clsSchema.RowSize() {
		t.Fatalf("file size %d", buf.Len())
	}
	f, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Root(), root) || f.Len() != 37 || f.Schema() != clsSchema {
		t.Fatal("header mismatch")
	}
	for i := uint64(0); i < 37; i++ {
		b, _ := f.RowBytes(i)
		p, err := f.Proof(i)
		if err != nil || VerifyRow(root, 37, i, b, p) != nil {
			t.Fatalf("row %d proof: %v", i, err)
		}
	}
	src, err := f.Source(16)
	if err != nil {
		t.Fatal(err)
	}
	var _ engine.RowSource = src
	ex, err := src.Row(36)
	if err != nil || ex.Label != 0 || len(ex.X) != 4 {
		t.Fatalf("row 36: %+v %v", ex, err)
	}
	if _, err := src.Row(37); err == nil {
		t.Fatal("row 37 of 37 served")
	}
	good := buf.Bytes()
	tamper := func(off int) []byte { b := append([]byte(nil), good...); b[off] ^= 1; return b }
	for name, b := range map[string][]byte{
		"row byte":  tamper(HeaderSize + 1),
		"root":      tamper(40),
		"magic":     tamper(0),
		"version":   tamper(4),
		"schema":    tamper(9),
		"count":     tamper(24),
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"header":    good[:10],
		"bad label": func() []byte { b := append([]byte(nil), good...); b[HeaderSize+4] = 7; return b }(),
	} {
		_, err := Read(bytes.NewReader(b))
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if name == "row byte" && (err == nil || !strings.Contains(err.Error(), "tampered")) {
			t.Errorf("row tamper must be refused with a clear root mismatch error, got %v", err)
		}
	}
}

func TestParseFixedAndCSV(t *testing.T) {
	for _, c := range []struct {
		s    string
		f    uint32
		want int32
		ok   bool
	}{
		{"1.5", 16, 98304, true}, {"-1.5", 16, -98304, true}, {"0.1", 8, 26, true}, {"-0.1", 8, -26, true},
		{"+2", 8, 512, true}, {".5", 8, 128, true}, {"3.", 8, 768, true}, {"0.001953125", 8, 1, true},
		{"-0.001953125", 8, 0, true}, {"0.50000000000000000000000", 8, 128, true}, {"00000000000000000000001", 8, 256, true},
		{"", 8, 0, false}, {"-", 8, 0, false}, {".", 8, 0, false}, {"1e5", 8, 0, false}, {"1.2.3", 8, 0, false},
		{"12345678901234567890", 8, 0, false}, {"8388608", 8, 0, false}, {"-8388608", 8, -1 << 31, true}, {"nan", 8, 0, false},
	} {
		got, err := ParseFixed(c.s, c.f)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseFixed(%q, %d) = %d, %v; want %d ok=%v", c.s, c.f, got, err, c.want, c.ok)
		}
	}
	csv := "a,b,c\n0.5,-1.25,0.75,1\n1,2,3,4\n"
	f, err := LoadCSV(strings.NewReader(csv), regSchema2, true)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := f.Row(0)
	if r.Features[0] != 128 || r.Features[1] != -320 || r.Targets[0] != 192 || r.Targets[1] != 256 {
		t.Fatalf("csv row 0 = %+v", r)
	}
	if _, err := LoadCSV(strings.NewReader("1,2,3\n"), regSchema2, false); err == nil {
		t.Error("wrong column count accepted")
	}
	if _, err := LoadCSV(strings.NewReader("1,2,3,x\n"), regSchema2, false); err == nil {
		t.Error("bad number accepted")
	}
	c, err := LoadCSV(strings.NewReader("1,2,3,4,2\n"), clsSchema, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := c.Row(0); r.Label != 2 || r.Features[3] != 4 {
		t.Fatalf("classification csv = %+v", r)
	}
	if _, err := LoadCSV(strings.NewReader("1,2,3,256,2\n"), clsSchema, false); err == nil {
		t.Error("byte 256 accepted")
	}
	if _, err := LoadCSV(strings.NewReader("1,2,3,4,3\n"), clsSchema, false); err == nil {
		t.Error("label out of range accepted")
	}
}

var regSchema2 = Schema{Kind: KindRegression, Feature: FeatureFixed32, Features: 2, Targets: 2, FracBits: 8}
