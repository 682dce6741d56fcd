package dataset

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

var (
	tokSchema     = Schema{Kind: KindTokens, Feature: FeatureUint8, Features: 5}
	tokPrefSchema = Schema{Kind: KindTokenPreference, Feature: FeatureUint8, Features: 5}
)

func TestTokenRowsHandChecked(t *testing.T) {
	b := mustEncode(t, tokSchema, Row{Tokens: []byte("fmt.P")})
	if string(b) != "fmt.P" || tokSchema.RowSize() != 5 {
		t.Fatalf("token row = %q, size %d", b, tokSchema.RowSize())
	}
	r, err := DecodeRow(tokSchema, b)
	if err != nil || string(r.Tokens) != "fmt.P" || r.RejectedTokens != nil || r.PromptLen != 0 || r.Features != nil {
		t.Fatalf("decode: %+v %v", r, err)
	}
	b[0] = 'x' // the row owns its tokens
	if r.Tokens[0] != 'f' {
		t.Fatal("decoded row aliases its encoding")
	}
	ex, err := DecodeExample(tokSchema, []byte{0, 1, 2, 254, 255}, 16)
	if err != nil || !bytes.Equal(ex.Tokens, []byte{0, 1, 2, 254, 255}) || ex.X != nil || ex.RejectedTokens != nil || ex.PromptLen != 0 {
		t.Fatalf("example: %+v %v", ex, err)
	}

	pair := Row{Tokens: []byte("Q:yes"), RejectedTokens: []byte("Q:no!"), PromptLen: 2}
	b = mustEncode(t, tokPrefSchema, pair)
	if hex.EncodeToString(b) != hex.EncodeToString([]byte("Q:yesQ:no!"))+"02000000" || tokPrefSchema.RowSize() != 14 {
		t.Fatalf("token preference row = %x, size %d", b, tokPrefSchema.RowSize())
	}
	ex, err = DecodeExample(tokPrefSchema, b, 16)
	if err != nil || string(ex.Tokens) != "Q:yes" || string(ex.RejectedTokens) != "Q:no!" || ex.PromptLen != 2 || ex.X != nil {
		t.Fatalf("pair example: %+v %v", ex, err)
	}
	ex, err = tokPrefSchema.ToExample(pair, 16)
	if err != nil || string(ex.Tokens) != "Q:yes" || ex.PromptLen != 2 {
		t.Fatalf("ToExample: %+v %v", ex, err)
	}
	// The widest prompt leaves one response token.
	mustEncode(t, tokPrefSchema, Row{Tokens: []byte("abcdX"), RejectedTokens: []byte("abcdY"), PromptLen: 4})
}

func TestTokenRowsRejects(t *testing.T) {
	for name, c := range map[string]struct {
		s Schema
		r Row
	}{
		"short":              {tokSchema, Row{Tokens: []byte("abcd")}},
		"long":               {tokSchema, Row{Tokens: []byte("abcdef")}},
		"features":           {tokSchema, Row{Tokens: []byte("abcde"), Features: []int32{1}}},
		"label":              {tokSchema, Row{Tokens: []byte("abcde"), Label: 1}},
		"rejected on tokens": {tokSchema, Row{Tokens: []byte("abcde"), RejectedTokens: []byte("abcde")}},
		"prompt on tokens":   {tokSchema, Row{Tokens: []byte("abcde"), PromptLen: 1}},
		"no rejected":        {tokPrefSchema, Row{Tokens: []byte("abcde"), PromptLen: 1}},
		"short rejected":     {tokPrefSchema, Row{Tokens: []byte("abcde"), RejectedTokens: []byte("abcd"), PromptLen: 1}},
		"prompt 0":           {tokPrefSchema, Row{Tokens: []byte("abcde"), RejectedTokens: []byte("abcdf")}},
		"prompt T+1":         {tokPrefSchema, Row{Tokens: []byte("abcde"), RejectedTokens: []byte("abcde"), PromptLen: 5}},
		"prompt differs":     {tokPrefSchema, Row{Tokens: []byte("abcde"), RejectedTokens: []byte("abXde"), PromptLen: 3}},
		"tokens on features": {clsSchema, Row{Features: []int32{0, 1, 2, 3}, Tokens: []byte{1}}},
	} {
		if _, err := EncodeRow(c.s, c.r); err == nil {
			t.Errorf("%s: encoded", name)
		}
		if c.s.Kind.Tokens() {
			if _, err := c.s.ToExample(c.r, 16); err == nil {
				t.Errorf("%s: converted to an example", name)
			}
		}
	}
	good := mustEncode(t, tokPrefSchema, Row{Tokens: []byte("abcde"), RejectedTokens: []byte("abcdf"), PromptLen: 4})
	bad := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, b := range map[string][]byte{
		"short":          good[:13],
		"long":           append(append([]byte(nil), good...), 0),
		"prompt 0":       bad(func(b []byte) []byte { b[10] = 0; return b }),
		"prompt 5":       bad(func(b []byte) []byte { b[10] = 5; return b }),
		"prompt huge":    bad(func(b []byte) []byte { b[13] = 1; return b }),
		"prompt differs": bad(func(b []byte) []byte { b[5+3] = 'x'; return b }),
	} {
		_, err := DecodeRow(tokPrefSchema, b)
		if err == nil {
			t.Errorf("%s: decoded", name)
		}
		if name == "prompt differs" && (err == nil || !strings.Contains(err.Error(), "differ at 3")) {
			t.Errorf("a prompt mismatch must name its position, got %v", err)
		}
	}
}

func TestTokenSchemas(t *testing.T) {
	for _, s := range []Schema{tokSchema, tokPrefSchema, TextSchema(MaxTextContext), TextSchema(1)} {
		if err := s.Validate(); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if d, err := DecodeSchema(s.Encode()); err != nil || d != s {
			t.Fatalf("round trip %+v: %v", s, err)
		}
	}
	for name, c := range map[string]struct {
		s    Schema
		want string
	}{
		"fixed32":   {Schema{Kind: KindTokens, Feature: FeatureFixed32, Features: 5, FracBits: 16}, "feature type"},
		"one token": {Schema{Kind: KindTokenPreference, Feature: FeatureUint8, Features: 1}, "T+1 >= 2"},
		"too long":  {Schema{Kind: KindTokens, Feature: FeatureUint8, Features: engine.MaxInputs + 1}, "features"},
		"classes":   {Schema{Kind: KindTokens, Feature: FeatureUint8, Features: 5, Classes: 2}, "classes"},
		"targets":   {Schema{Kind: KindTokenPreference, Feature: FeatureUint8, Features: 5, Targets: 1}, "targets"},
		"frac bits": {Schema{Kind: KindTokens, Feature: FeatureUint8, Features: 5, FracBits: 8}, "frac bits"},
		"kind 6":    {Schema{Kind: 6, Feature: FeatureUint8, Features: 5}, "5 token preference"},
	} {
		if err := c.s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}

func TestTokenCompatible(t *testing.T) {
	lm := engine.Spec{Model: engine.ModelTransformer, Inputs: 4, Hidden: []uint32{1, 8, 2}, Outputs: 256,
		Objective: engine.ObjectiveNextToken}
	dpo := lm
	dpo.Objective = engine.ObjectiveDPO
	mlp := engine.Spec{Model: engine.ModelMLP, Inputs: 5, Hidden: []uint32{8}, Outputs: 256, Objective: engine.ObjectiveSoftmaxCE}
	cls := Schema{Kind: KindClassification, Feature: FeatureUint8, Features: 5, Classes: 256}
	for _, c := range []struct {
		name string
		s    Schema
		spec engine.Spec
		want string // "" when compatible
	}{
		{"next token", tokSchema, lm, ""},
		{"dpo", tokPrefSchema, dpo, ""},
		{"next token on pairs", tokPrefSchema, lm, "next-token prediction needs token rows"},
		{"dpo on sequences", tokSchema, dpo, "DPO needs token preference rows"},
		{"context", Schema{Kind: KindTokens, Feature: FeatureUint8, Features: 4}, lm, "4 tokens per row, a transformer with context 4 needs 5"},
		{"transformer on features", cls, lm, "next-token prediction needs token rows"},
		{"tokens on an MLP", tokSchema, mlp, "train only transformer specs"},
		{"classes on an MLP", cls, mlp, ""},
	} {
		err := c.s.Compatible(c.spec)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestTokenCSV(t *testing.T) {
	f, err := LoadCSV(strings.NewReader("t0,t1,t2,t3,t4\n102,109,116,46,80\n0,1,2,3,255\n"), tokSchema, true)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := f.Row(0); string(r.Tokens) != "fmt.P" || f.Len() != 2 {
		t.Fatalf("token csv row 0 = %+v", r)
	}
	f, err = LoadCSV(strings.NewReader("1,2,3,4,5, 1,2,3,9,9, 3\n"), tokPrefSchema, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := f.Row(0); r.PromptLen != 3 || r.RejectedTokens[3] != 9 {
		t.Fatalf("token preference csv row 0 = %+v", r)
	}
	for name, text := range map[string]string{
		"columns":        "1,2,3,4\n",
		"byte":           "1,2,3,4,256\n",
		"prompt differs": "1,2,3,4,5,1,2,7,9,9,3\n",
		"prompt range":   "1,2,3,4,5,1,2,3,4,9,5\n",
	} {
		s := tokSchema
		if strings.Count(text, ",") > 5 {
			s = tokPrefSchema
		}
		if _, err := LoadCSV(strings.NewReader(text), s, false); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTokenFile(t *testing.T) {
	rows := [][]byte{[]byte("hello"), []byte("o wor"), []byte("rld!\x00")}
	var buf bytes.Buffer
	root, err := Pack(&buf, tokSchema, rows)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil || !bytes.Equal(f.Root(), root) || f.Schema() != tokSchema || buf.Len() != HeaderSize+15 {
		t.Fatalf("read back: %v", err)
	}
	src, err := f.Source(16)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := src.Row(1)
	if err != nil || string(ex.Tokens) != "o wor" || ex.X != nil {
		t.Fatalf("row 1: %+v %v", ex, err)
	}
	if _, err := WithLabels(f, []byte{0, 0, 0}); err == nil {
		t.Error("token rows labelled")
	}
}
