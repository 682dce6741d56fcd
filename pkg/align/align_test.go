package align

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
)

func TestParses(t *testing.T) {
	for _, c := range []struct {
		prompt, cont string
		want         bool
	}{
		{"\tx := ", "1\n", true},
		{"\tif err != nil", " {\n", true},
		{"\tret", "urn nil, err\n", true},
		{"\tfmt.Pri", "ntln(a, b)\n", true},
		{"\t} els", "e {\n", true},
		{"\t}", "\n", true},
		{"\tfor i := 0; i < n; i++", " {\n", true},
		{"\ts := []int", "{\n", true},
		{"\tdefer f.Close", "()\n", true},
		{"\tv := <-", "ch\n", true},
		{"\t<-c", "h\n", true},
		{"\tgo func() { ", "done <- true }()\n", true},
		{"\tx := 1", " // a comment\n", true},
		{"\tx", " := 1\nthe rest is ignored", true},
		{"\tx := ", "\n", false},                  // unfinished
		{"\tfmt.Pri", "\n", false},                // a bare selector is not a statement
		{"\tret", "\n", false},                    // a bare name is not a statement
		{"\tfmt.Println(a", "\n", false},          // unbalanced
		{"\treturn nil", ")\n", false},            // unbalanced
		{"\tif x {", "{\n", false},                // opens two blocks
		{"\tcase 1", ":\n", false},                // only inside a switch
		{"\tx := 1", "\x00\n", false},             // not Go text
		{"\tx := 1", "", false},                   // no newline: the row filled up
		{"\tx := \"", "abc\n", false},             // unterminated string
		{"\tx := 1", " /* open comment\n", false}, // unterminated comment
	} {
		if got := Parses([]byte(c.prompt), []byte(c.cont)); got != c.want {
			t.Errorf("Parses(%q, %q) = %v, want %v", c.prompt, c.cont, got, c.want)
		}
	}
}

// srcFile is a Go file whose statement lines start with the identifier
// prefix id (so a prompt tells its file's split).
func srcFile(id string) string {
	return fmt.Sprintf(`package p

import "fmt"

var %[1]sTop = 1

func %[1]sF(a int) int {
	%[1]sX := a + 1
	if %[1]sX > 2 {
		fmt.Println("%[1]s", %[1]sX)
	}
	for %[1]sJ := 0; %[1]sJ < 3; %[1]sJ++ {
		%[1]sX += %[1]sJ
	}
	%[1]sG(func() {
		%[1]sX++
	},
		%[1]sX)
	return %[1]sX
}
`, id)
}

// testTree returns a tree of Go files and their list: three in the
// validation split of share 2 (usable; statements starting with "v"), three
// in the training split ("q"), and two validation files that must be
// skipped: one holding a zero byte ("n") and one that does not parse ("s").
func testTree() (fsys fstest.MapFS, files, usable []string) {
	fsys = fstest.MapFS{}
	nv, nt := 0, 0
	for i := 0; nv < 5 || nt < 3; i++ {
		p := fmt.Sprintf("d%d/f%d.go", i%3, i)
		var body string
		switch val := dataset.TextValidation(p, 2); {
		case val && nv == 3:
			body = srcFile("n") + "// \x00\n"
		case val && nv == 4:
			body = srcFile("s") + "func {\n"
		case val && nv < 3:
			body = srcFile(fmt.Sprintf("v%d", i))
			usable = append(usable, p)
		case !val && nt < 3:
			body = srcFile(fmt.Sprintf("q%d", i))
		default:
			continue
		}
		if dataset.TextValidation(p, 2) {
			nv++
		} else {
			nt++
		}
		fsys[p] = &fstest.MapFile{Data: []byte(body)}
		files = append(files, p)
	}
	return fsys, files, usable
}

// TestPrompts: prompts are deterministic, come from statement lines of
// function bodies in validation files only, fit the context and start a
// line that parses; another seed draws another order.
func TestPrompts(t *testing.T) {
	fsys, files, usable := testTree()
	opts := PromptOptions{Context: 24, Count: 100, ValShare: 2, Seed: [32]byte{1}}
	ps, err := Prompts(fsys, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Prompts(fsys, append([]string{files[len(files)-1]}, files[:len(files)-1]...), opts)
	if fmt.Sprintf("%q", ps) != fmt.Sprintf("%q", again) {
		t.Fatal("prompts depend on the order of the file list")
	}
	// The full lines that may be completed: statement lines of the usable
	// validation files of at most 24 bytes that parse (not the for line: 44
	// bytes; not the call split over three lines). A prompt of a training
	// ("q") or skipped ("n", "s") file would not start one.
	var lines []string
	for _, p := range usable {
		for _, l := range strings.Split(string(fsys[p].Data), "\n") {
			if strings.HasPrefix(l, "\t") && len(l) <= 24 && parsesLine([]byte(l)) {
				lines = append(lines, l)
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range ps {
		s := string(p)
		if seen[s] {
			t.Fatalf("prompt %q twice", s)
		}
		seen[s] = true
		var line string
		for _, l := range lines {
			if strings.HasPrefix(l, s) && len(l) > len(s) {
				line = l
				break
			}
		}
		if line == "" {
			t.Errorf("prompt %q is not a strict prefix of a parsing statement line of a validation file", s)
		}
		if n := len(strings.TrimLeft(s, "\t")); n < 1 || n > DefaultMaxCut {
			t.Errorf("prompt %q holds %d statement bytes, want 1..%d", s, n, DefaultMaxCut)
		}
	}
	// 3 files: prompts "v<i>..." from X :=, X +=, X++ (same start) and
	// return; "if v", "fmt.", and "ret" are shared by the files, so at
	// least 3*2 + 1 distinct prompts.
	if len(ps) < 7 {
		t.Fatalf("only %d prompts: %q", len(ps), ps)
	}
	opts.Count = 3
	few, _ := Prompts(fsys, files, opts)
	if fmt.Sprintf("%q", few) != fmt.Sprintf("%q", ps[:3]) {
		t.Fatalf("count 3 gives %q, not the first three of %q", few, ps)
	}
	opts.Seed = [32]byte{2}
	other, _ := Prompts(fsys, files, opts)
	if fmt.Sprintf("%q", other) == fmt.Sprintf("%q", few) {
		t.Fatal("another seed drew the same prompts in the same order")
	}
	for _, bad := range []PromptOptions{
		{Context: 1, Count: 1, ValShare: 2},
		{Context: 24, Count: 0, ValShare: 2},
		{Context: 24, Count: 1, ValShare: 1},
		{Context: 4, Count: 1, ValShare: 2}, // no line fits
	} {
		if _, err := Prompts(fsys, files, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// biasedModel returns a tiny transformer of context T whose logit biases
// make the given bytes far more likely than the rest.
func biasedModel(t *testing.T, T uint32, seed byte, likely ...byte) *engine.Model {
	t.Helper()
	spec := engine.Spec{Model: engine.ModelTransformer, Inputs: T, Hidden: []uint32{1, 8, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveNextToken, Optimizer: engine.OptimizerSGD, LearningRate: 655, BatchSize: 2, FracBits: 16}
	st, err := engine.NewInitialState(engine.Job{Spec: spec, Seed: [32]byte{seed}, RowCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Model(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range likely {
		m.Layers[0].B[b] = 8 << 16
	}
	return m
}

// response returns a row's bytes after the prompt up to its first newline
// (included) and checks that only padding follows.
func response(t *testing.T, row []byte, promptLen uint32) []byte {
	t.Helper()
	r := row[promptLen:]
	n := bytes.IndexByte(r, '\n') + 1
	if n == 0 {
		n = len(r)
	}
	if len(bytes.Trim(r[n:], "\x00")) != 0 {
		t.Fatalf("row %q: bytes after the response are not padding", row)
	}
	return r[:n]
}

var pairPrompts = [][]byte{[]byte("\tx := f(1"), []byte("\tx := 1"), []byte("\tg(h(2)"), []byte("\treturn"), []byte("\ty = 3")}

// TestPairs: on a model that emits ')' and '\n', pairs are valid DPO rows
// whose chosen response parses and whose rejected one does not,
// reproducibly; a few DPO steps on them raise the reward accuracy.
func TestPairs(t *testing.T) {
	const T = 16
	m := biasedModel(t, T, 4, ')', '\n')
	opts := PairOptions{Samples: 6, TopK: 2, Seed: [32]byte{9}}
	rows, st, err := Pairs(m, pairPrompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", st)
	if st.Prompts != len(pairPrompts) || st.Samples != 6*len(pairPrompts) || st.Pairs+st.AllParse+st.NoneParse != st.Prompts ||
		st.Pairs != len(rows) || st.Parsed > st.Samples {
		t.Fatalf("inconsistent stats %+v for %d rows", st, len(rows))
	}
	if len(rows) < 3 {
		t.Fatalf("only %d pairs from %d prompts", len(rows), len(pairPrompts))
	}
	schema := PairSchema(T)
	var enc [][]byte
	for _, r := range rows {
		b, err := dataset.EncodeRow(schema, r)
		if err != nil {
			t.Fatal(err)
		}
		enc = append(enc, b)
		p := r.Tokens[:r.PromptLen]
		if !bytes.Equal(r.RejectedTokens[:r.PromptLen], p) {
			t.Fatal("responses do not share the prompt")
		}
		c, j := response(t, r.Tokens, r.PromptLen), response(t, r.RejectedTokens, r.PromptLen)
		t.Logf("%q: chosen %q, rejected %q", p, c, j)
		if !Parses(p, c) || Parses(p, j) {
			t.Fatalf("%q: chosen %q parses %v, rejected %q parses %v", p, c, Parses(p, c), j, Parses(p, j))
		}
	}
	if _, err := dataset.NewFile(schema, enc); err != nil {
		t.Fatal(err)
	}
	again, _, _ := Pairs(m, pairPrompts, opts)
	if fmt.Sprint(again) != fmt.Sprint(rows) {
		t.Fatal("pairs are not reproducible")
	}
	for _, bad := range []struct {
		prompts [][]byte
		opts    PairOptions
	}{
		{[][]byte{make([]byte, T+1)}, opts},
		{[][]byte{{}}, opts},
		{pairPrompts, PairOptions{Samples: 1, TopK: 2}},
		{pairPrompts, PairOptions{Samples: 2, TopK: 1}},
	} {
		if _, _, err := Pairs(m, bad.prompts, bad.opts); err == nil {
			t.Errorf("%d prompts with %+v accepted", len(bad.prompts), bad.opts)
		}
	}

	// DPO (LoRA on m) on the pairs: the reward accuracy, 0 at the start
	// (policy == reference), rises.
	spec := engine.Spec{Model: engine.ModelTransformer, Inputs: T, Hidden: []uint32{1, 8, 2}, Outputs: engine.Vocab,
		Objective: engine.ObjectiveDPO, Optimizer: engine.OptimizerAdam, LearningRate: 655 * 5,
		Beta1: 58982, Beta2: 65470, Epsilon: 1, BatchSize: uint32(len(rows)), FracBits: 16,
		LoRARank: 2, LoRAAlpha: 4 << 16, DPOBeta: 1 << 15}
	if err := schema.Compatible(spec); err != nil {
		t.Fatal(err)
	}
	f, _ := dataset.NewFile(schema, enc)
	src, _ := f.Source(16)
	job := engine.Job{Spec: spec, Seed: [32]byte{1}, RowCount: f.Len(), Base: m}
	st0, err := engine.NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	end, _, err := engine.RunSegment(job, st0, src, 30)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := end.Model(m)
	if err != nil {
		t.Fatal(err)
	}
	before, err := Evaluate(m, m, 0.5, rows, pairPrompts)
	if err != nil {
		t.Fatal(err)
	}
	after, err := Evaluate(policy, m, 0.5, rows, pairPrompts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before %+v\nafter  %+v", before, after)
	if before.RewardCorrect != 0 || after.RewardAccuracy <= 0.5 || after.RewardMargin <= 0 || after.KL <= 0 {
		t.Fatalf("DPO on the pairs: reward accuracy %v -> %v, margin %v, KL %v", before.RewardAccuracy, after.RewardAccuracy, after.RewardMargin, after.KL)
	}
}

// TestEvaluate: a policy equal to its reference has KL 0 and no correct
// pair (ties count as wrong); raising the logit of the chosen response's
// byte makes the margin positive, swapping the pair makes it negative; a
// model that ends every line at once parses exactly the complete prompts.
func TestEvaluate(t *testing.T) {
	const T = 12
	ref := biasedModel(t, T, 5, '\n')
	prompts := [][]byte{[]byte("\treturn"), []byte("\tx :="), []byte("\tf()"), []byte("\tif x {")}
	pair := dataset.Row{Tokens: padRow(T, []byte("\tx = "), []byte("aaa\n")),
		RejectedTokens: padRow(T, []byte("\tx = "), []byte("bbb\n")), PromptLen: 5}
	swapped := dataset.Row{Tokens: pair.RejectedTokens, RejectedTokens: pair.Tokens, PromptLen: 5}
	same, err := Evaluate(ref, ref, 0.1, []dataset.Row{pair, swapped}, prompts)
	if err != nil {
		t.Fatal(err)
	}
	if same.KL != 0 || same.KLTokens != len(prompts) || same.RewardCorrect != 0 || same.RewardMargin != 0 ||
		same.Parsed != 3 || same.ParseShare != 0.75 || same.Pairs != 2 {
		t.Fatalf("policy == ref: %+v", same)
	}
	policy := ref.Clone()
	policy.Layers[0].B['a'] += 2 << 16
	for _, c := range []struct {
		row  dataset.Row
		want int
	}{{pair, 1}, {swapped, 0}} {
		mt, err := Evaluate(policy, ref, 0.1, []dataset.Row{c.row}, prompts)
		if err != nil {
			t.Fatal(err)
		}
		// Three 'a' tokens gain about 2 nats each: margin about 0.1 * 6.
		if mt.RewardCorrect != c.want || (c.want == 1) != (mt.RewardMargin > 0.4) || (c.want == 0) != (mt.RewardMargin < -0.4) || mt.KL <= 0 {
			t.Fatalf("pair %d: %+v", c.want, mt)
		}
	}
	bad := pair
	bad.Tokens = bad.Tokens[:T]
	other := biasedModel(t, T+1, 5)
	for _, c := range []struct {
		name   string
		p, r   *engine.Model
		beta   float64
		rows   []dataset.Row
		prompt [][]byte
	}{
		{"beta 0", policy, ref, 0, nil, prompts},
		{"short row", policy, ref, 0.1, []dataset.Row{bad}, nil},
		{"contexts differ", other, ref, 0.1, nil, prompts},
		{"long prompt", policy, ref, 0.1, nil, [][]byte{make([]byte, T+1)}},
	} {
		if _, err := Evaluate(c.p, c.r, c.beta, c.rows, c.prompt); err == nil {
			t.Errorf("%s accepted", c.name)
		}
	}
}
