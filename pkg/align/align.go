// Package align builds preference pairs for DPO from a rule a program can
// check, and measures how far a DPO-trained policy moved: off-chain tooling
// around the engine's byte-level transformer (engine.ModelTransformer), not
// consensus code. It is deterministic all the same: the same model, files,
// options and seed give the same prompts and the same pair rows on every
// machine (sampling is engine.Generate's integer top-k); the metrics are
// float64.
//
// # The rule
//
// Of two continuations of a Go line, prefer the one that completes it into a
// statement (Parses). A prompt is the start of a real statement line of a
// function body (its indentation and the first 1..MaxCut bytes of the
// statement), taken from the validation split of dataset.PackText (the same
// file-hash split), so a model pretrained on the training split never saw
// it; the line itself fits in one token row of the model and parses, so some
// continuation satisfies the rule. A continuation is sampled up to and
// including its first newline, or until the row is full.
//
// # Rows
//
// A pair is a dataset.KindTokenPreference row of T+1 tokens (PairSchema):
// prompt + chosen continuation and prompt + rejected continuation, each
// padded with dataset.TextSeparator (0x00, PackText's end of document) to
// T+1 bytes; PromptLen is the prompt's length. The DPO loss scores every
// token after the prompt, padding included, and so do the rewards here.
package align

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math"
	"sort"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Domain tags of the hashes that order prompts and seed samples.
const (
	promptTag = "hinterland/align/prompt/v1"
	sampleTag = "hinterland/align/pairs/v1"
)

// qOne is 1.0 in the engine's Q30 log-probabilities.
const qOne = float64(engine.QOne)

// DefaultMaxCut is PromptOptions.MaxCut when it is 0.
const DefaultMaxCut = 8

// PairSchema returns the schema of the pair rows for a context of T.
func PairSchema(context uint32) dataset.Schema {
	return dataset.Schema{Kind: dataset.KindTokenPreference, Feature: dataset.FeatureUint8, Features: context + 1}
}

// Parses reports whether prompt + continuation, up to the continuation's
// first newline, is a complete line that is a statement of a function body.
// A continuation without a newline (the row filled up first) never parses:
// the line is unfinished. The line is accepted when go/parser accepts one
// of these files (LINE on a line of its own, then a newline before each
// closing brace):
//
//	package p; func _() { LINE }                 a whole statement
//	package p; func _() { LINE } }               a line that opens one block or literal (`if x {`, `s := T{`)
//	package p; func _() { if true { LINE }       a line that closes one block (`}`)
//	package p; func _() { if true { LINE } }     ... and opens another (`} else {`)
//
// and, as the Go specification requires, every expression statement in it
// is a call or a receive, so a line cut short to a bare name (`fmt.Pri`) is
// refused. Closing a block the line opens is the natural reading of a
// one-line completion; lines that only make sense inside a switch or select
// (`case x:`) or that continue a multi-line expression are refused. The
// check is syntax only: undefined or unused names are not looked up.
func Parses(prompt, continuation []byte) bool {
	i := bytes.IndexByte(continuation, '\n')
	if i < 0 {
		return false
	}
	line := append(append(make([]byte, 0, len(prompt)+i), prompt...), continuation[:i]...)
	return parsesLine(line)
}

var lineContexts = [][2]string{{"", ""}, {"", "}\n"}, {"if true {\n", ""}, {"if true {\n", "}\n"}}

func parsesLine(line []byte) bool {
	for _, c := range lineContexts {
		var src bytes.Buffer
		src.WriteString("package p\nfunc _() {\n" + c[0])
		src.Write(line)
		src.WriteString("\n" + c[1] + "}\n")
		f, err := parser.ParseFile(token.NewFileSet(), "", src.Bytes(), parser.SkipObjectResolution)
		if err == nil && callsOnly(f) {
			return true
		}
	}
	return false
}

// callsOnly reports whether every expression statement of f is a call or a
// receive (the only expressions allowed in statement context).
func callsOnly(f *ast.File) bool {
	ok := true
	ast.Inspect(f, func(n ast.Node) bool {
		s, isExpr := n.(*ast.ExprStmt)
		if !isExpr {
			return ok
		}
		switch x := ast.Unparen(s.X).(type) {
		case *ast.CallExpr:
		case *ast.UnaryExpr:
			ok = ok && x.Op == token.ARROW
		default:
			ok = false
		}
		return ok
	})
	return ok
}

// PromptOptions selects the prompts of Prompts.
type PromptOptions struct {
	// Context is T, the model's context: a prompt's whole line and its
	// newline fit in a row of T+1 tokens.
	Context int
	// Count is the number of prompts wanted (fewer when the files hold
	// fewer candidate lines).
	Count int
	// ValShare is the validation share of dataset.PackText (>= 2): only
	// files of its validation split give prompts.
	ValShare uint32
	// MaxCut bounds the statement bytes of a prompt (0: DefaultMaxCut).
	MaxCut int
	// Seed orders the candidate lines; another seed gives another sample.
	Seed [32]byte
}

// candidate is a statement line of a validation file.
type candidate struct {
	key  [32]byte
	line []byte // without its newline
	ind  int    // bytes of indentation
}

// Prompts returns up to opts.Count distinct prompts from the Go files of fsys
// named by files (slash-separated paths, as dataset.TextFiles lists them)
// that dataset.PackText puts in the validation split for opts.ValShare.
// Candidates are the lines of those files on which a statement of a
// function body starts (after tabs or spaces), of at most T bytes, without a
// carriage return, with at least two statement bytes, whose whole line
// Parses. They are taken in the order of key = SHA-256(promptTag || seed ||
// path || 0x00 || u64 big-endian offset of the line); a candidate's prompt is
// its indentation and the first k statement bytes, k = 1 + (bytes 8..15 of
// key, big endian) mod min(MaxCut, statement bytes - 1); a prompt already
// taken is skipped. Files that do not parse are skipped (so are those
// holding a zero byte, which PackText skips: go/parser refuses them).
func Prompts(fsys fs.FS, files []string, opts PromptOptions) ([][]byte, error) {
	if opts.Context < 2 || opts.Context > dataset.MaxTextContext {
		return nil, fmt.Errorf("prompts: context %d out of range [2, %d]", opts.Context, dataset.MaxTextContext)
	}
	if opts.Count < 1 {
		return nil, fmt.Errorf("prompts: count %d, want at least 1", opts.Count)
	}
	if opts.ValShare < 2 {
		return nil, fmt.Errorf("prompts: validation share %d, want >= 2 (prompts come from the validation split)", opts.ValShare)
	}
	maxCut := opts.MaxCut
	if maxCut == 0 {
		maxCut = DefaultMaxCut
	}
	if maxCut < 1 {
		return nil, fmt.Errorf("prompts: max cut %d, want at least 1", maxCut)
	}
	sorted := append([]string(nil), files...)
	sort.Strings(sorted)
	var cands []candidate
	for _, p := range sorted {
		if !dataset.TextValidation(p, opts.ValShare) {
			continue
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("prompts: %w", err)
		}
		for _, off := range statementLines(src) {
			line := src[off:]
			if n := bytes.IndexByte(line, '\n'); n >= 0 {
				line = line[:n]
			}
			ind := len(line) - len(bytes.TrimLeft(line, " \t"))
			if len(line) > opts.Context || len(line)-ind < 2 || bytes.IndexByte(line, '\r') >= 0 {
				continue
			}
			c := candidate{line: line, ind: ind}
			h := sha256.New()
			h.Write([]byte(promptTag))
			h.Write(opts.Seed[:])
			h.Write([]byte(p))
			h.Write([]byte{0})
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(off)))
			h.Sum(c.key[:0])
			cands = append(cands, c)
		}
	}
	sort.Slice(cands, func(a, b int) bool { return bytes.Compare(cands[a].key[:], cands[b].key[:]) < 0 })
	var out [][]byte
	seen := make(map[string]bool)
	for _, c := range cands {
		if len(out) == opts.Count {
			break
		}
		if !parsesLine(c.line) {
			continue
		}
		k := 1 + int(binary.BigEndian.Uint64(c.key[8:16])%uint64(min(maxCut, len(c.line)-c.ind-1)))
		prompt := c.line[:c.ind+k]
		if seen[string(prompt)] {
			continue
		}
		seen[string(prompt)] = true
		out = append(out, append([]byte(nil), prompt...))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("prompts: no statement line of at most %d bytes in the %d validation files (share 1/%d) of %d files",
			opts.Context, countValidation(sorted, opts.ValShare), opts.ValShare, len(sorted))
	}
	return out, nil
}

func countValidation(files []string, share uint32) int {
	n := 0
	for _, p := range files {
		if dataset.TextValidation(p, share) {
			n++
		}
	}
	return n
}

// statementLines returns the sorted offsets of the lines of a Go file on
// which a statement of a block (function bodies, case and select clauses)
// starts after nothing but indentation; nil if the file does not parse.
func statementLines(src []byte) []int {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var offs []int
	add := func(list []ast.Stmt) {
		for _, s := range list {
			pos := fset.Position(s.Pos())
			start := pos.Offset - (pos.Column - 1)
			if start >= 0 && len(bytes.Trim(src[start:pos.Offset], " \t")) == 0 {
				offs = append(offs, start)
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BlockStmt:
			add(n.List)
		case *ast.CaseClause:
			add(n.Body)
		case *ast.CommClause:
			add(n.Body)
		}
		return true
	})
	sort.Ints(offs)
	out := offs[:0]
	for i, o := range offs {
		if i == 0 || o != offs[i-1] {
			out = append(out, o)
		}
	}
	return out
}

// PairOptions configures Pairs.
type PairOptions struct {
	Samples int      // continuations sampled per prompt, >= 2
	TopK    int      // sampling among the TopK most likely bytes (engine.GenerateOptions.TopK), >= 2
	Seed    [32]byte // sample j of prompt i uses SHA-256(sampleTag || Seed || u64 i || u64 j), big endian
}

// PairStats counts what Pairs did.
type PairStats struct {
	Prompts   int `json:"prompts"`    // prompts tried
	Samples   int `json:"samples"`    // continuations sampled
	Parsed    int `json:"parsed"`     // continuations that parse
	Pairs     int `json:"pairs"`      // prompts that gave a pair (rows)
	AllParse  int `json:"all_parse"`  // prompts skipped: every continuation parsed
	NoneParse int `json:"none_parse"` // prompts skipped: no continuation parsed
}

// Pairs samples opts.Samples continuations of every prompt with m (each up
// to its first newline or the end of the row: at most T+1-len(prompt)
// bytes) and, where at least one Parses and one does not, emits a pair row
// (see the package comment) whose chosen response is the first parsing
// sample and whose rejected response is the first other one. Prompts must
// hold 1..T bytes.
func Pairs(m *engine.Model, prompts [][]byte, opts PairOptions) ([]dataset.Row, PairStats, error) {
	var st PairStats
	T, err := contextOf(m, "model")
	if err != nil {
		return nil, st, err
	}
	if opts.Samples < 2 {
		return nil, st, fmt.Errorf("pairs: %d samples per prompt, want at least 2", opts.Samples)
	}
	if opts.TopK < 2 {
		return nil, st, fmt.Errorf("pairs: top-k %d samples nothing but the most likely byte, want at least 2", opts.TopK)
	}
	schema := PairSchema(uint32(T))
	var rows []dataset.Row
	for i, p := range prompts {
		if len(p) < 1 || len(p) > T {
			return nil, st, fmt.Errorf("pairs: prompt %d has %d bytes, want 1..%d (the context)", i, len(p), T)
		}
		st.Prompts++
		var chosen, rejected []byte
		for j := 0; j < opts.Samples; j++ {
			h := sha256.New()
			h.Write([]byte(sampleTag))
			h.Write(opts.Seed[:])
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(i)))
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(j)))
			var seed [32]byte
			h.Sum(seed[:0])
			c, err := engine.Generate(m, p, engine.GenerateOptions{MaxTokens: T + 1 - len(p), TopK: opts.TopK, Seed: seed, Stop: '\n'})
			if err != nil {
				return nil, st, fmt.Errorf("pairs: prompt %d sample %d: %w", i, j, err)
			}
			st.Samples++
			if Parses(p, c) {
				st.Parsed++
				if chosen == nil {
					chosen = c
				}
			} else if rejected == nil {
				rejected = c
			}
		}
		switch {
		case chosen == nil:
			st.NoneParse++
			continue
		case rejected == nil:
			st.AllParse++
			continue
		}
		r := dataset.Row{Tokens: padRow(T, p, chosen), RejectedTokens: padRow(T, p, rejected), PromptLen: uint32(len(p))}
		if _, err := dataset.EncodeRow(schema, r); err != nil {
			return nil, st, fmt.Errorf("pairs: prompt %d: %w", i, err)
		}
		rows = append(rows, r)
		st.Pairs++
	}
	return rows, st, nil
}

// padRow returns prompt + response padded with the separator to T+1 bytes.
func padRow(T int, prompt, response []byte) []byte {
	r := make([]byte, T+1) // zero: dataset.TextSeparator
	copy(r[copy(r, prompt):], response)
	return r
}

// contextOf returns the context T of a transformer model.
func contextOf(m *engine.Model, what string) (int, error) {
	if err := m.Validate(); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if m.Arch.Kind != engine.ModelTransformer {
		return 0, fmt.Errorf("%s: not a transformer (model kind %d)", what, m.Arch.Kind)
	}
	return m.Arch.Context(), nil
}

// Metrics measures a policy against its reference.
type Metrics struct {
	Prompts    int     `json:"prompts"`     // greedy continuations of the policy
	Parsed     int     `json:"parsed"`      // of them, those that parse
	ParseShare float64 `json:"parse_share"` // Parsed / Prompts
	// KL is the mean of KL(policy || ref) over the positions of the greedy
	// continuations (each position's next-byte distributions), in nats
	// per token; KLTokens counts the positions.
	KL       float64 `json:"kl"`
	KLTokens int     `json:"kl_tokens"`
	// Pairs are the held-out pairs; RewardCorrect those whose implicit
	// reward margin is > 0, RewardAccuracy = RewardCorrect / Pairs, and
	// RewardMargin the mean margin (nats).
	Pairs          int     `json:"pairs"`
	RewardCorrect  int     `json:"reward_correct"`
	RewardAccuracy float64 `json:"reward_accuracy"`
	RewardMargin   float64 `json:"reward_margin"`
}

// Evaluate measures policy against ref:
//
//   - ParseShare: the share of prompts whose greedy (TopK 1) continuation by
//     the policy, up to a newline or the end of the row, Parses;
//   - KL: the mean KL(policy || ref) per token of those continuations, from
//     both models' next-byte log-distributions at every position that
//     predicts a continuation byte (engine.NextByteLogProbs);
//   - RewardAccuracy: the share of held-out pair rows (PairSchema of the
//     models' context) whose implicit reward margin beta*((lp(w) -
//     lref(w)) - (lp(l) - lref(l))) is > 0, lp and lref summing the
//     log-probabilities of the tokens the DPO loss scores (every token after
//     the prompt, padding included) under the policy and the reference. The
//     sums are exact Q30 integers, so a tie (policy == ref gives margin 0) is
//     not counted correct, as in the engine's DPO accuracy.
//
// Both models must be transformers of the same context; beta must be > 0.
func Evaluate(policy, ref *engine.Model, beta float64, heldOut []dataset.Row, prompts [][]byte) (Metrics, error) {
	var mt Metrics
	T, err := contextOf(policy, "policy")
	if err != nil {
		return mt, err
	}
	Tr, err := contextOf(ref, "reference")
	if err != nil {
		return mt, err
	}
	if T != Tr {
		return mt, fmt.Errorf("evaluate: policy context %d, reference context %d", T, Tr)
	}
	if !(beta > 0) || math.IsInf(beta, 0) {
		return mt, fmt.Errorf("evaluate: beta %v, want a finite beta > 0", beta)
	}
	var kl float64
	for i, p := range prompts {
		if len(p) < 1 || len(p) > T {
			return mt, fmt.Errorf("evaluate: prompt %d has %d bytes, want 1..%d (the context)", i, len(p), T)
		}
		c, err := engine.Generate(policy, p, engine.GenerateOptions{MaxTokens: T + 1 - len(p), TopK: 1, Stop: '\n'})
		if err != nil {
			return mt, fmt.Errorf("evaluate: prompt %d: %w", i, err)
		}
		mt.Prompts++
		if Parses(p, c) {
			mt.Parsed++
		}
		seq := append(append([]byte(nil), p...), c...)
		lp, lq, err := logProbsBoth(policy, ref, seq[:len(seq)-1])
		if err != nil {
			return mt, fmt.Errorf("evaluate: prompt %d: %w", i, err)
		}
		for t := len(p) - 1; t < len(seq)-1; t++ {
			kl += klRow(lp[t*engine.Vocab:(t+1)*engine.Vocab], lq[t*engine.Vocab:(t+1)*engine.Vocab])
			mt.KLTokens++
		}
	}
	schema := PairSchema(uint32(T))
	var margin float64
	for i, r := range heldOut {
		if _, err := dataset.EncodeRow(schema, r); err != nil {
			return mt, fmt.Errorf("evaluate: held-out pair %d: %w", i, err)
		}
		var d int64 // (lp(w) - lref(w)) - (lp(l) - lref(l)), Q30
		for side, seq := range [][]byte{r.Tokens, r.RejectedTokens} {
			lp, lq, err := logProbsBoth(policy, ref, seq[:T])
			if err != nil {
				return mt, fmt.Errorf("evaluate: held-out pair %d: %w", i, err)
			}
			var s int64
			for t := int(r.PromptLen) - 1; t < T; t++ {
				k := t*engine.Vocab + int(seq[t+1])
				s += lp[k] - lq[k]
			}
			if side == 1 {
				s = -s
			}
			d += s
		}
		mt.Pairs++
		if d > 0 {
			mt.RewardCorrect++
		}
		margin += beta * float64(d) / qOne
	}
	if mt.Prompts > 0 {
		mt.ParseShare = float64(mt.Parsed) / float64(mt.Prompts)
	}
	if mt.KLTokens > 0 {
		mt.KL = kl / float64(mt.KLTokens)
	}
	if mt.Pairs > 0 {
		mt.RewardAccuracy = float64(mt.RewardCorrect) / float64(mt.Pairs)
		mt.RewardMargin = margin / float64(mt.Pairs)
	}
	return mt, nil
}

// logProbsBoth runs engine.NextByteLogProbs for both models on ctx.
func logProbsBoth(policy, ref *engine.Model, ctx []byte) ([]int64, []int64, error) {
	lp, err := engine.NextByteLogProbs(policy, ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("policy: %w", err)
	}
	lq, err := engine.NextByteLogProbs(ref, ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reference: %w", err)
	}
	return lp, lq, nil
}

// klRow returns sum_v p(v) (ln p(v) - ln q(v)) for two Q30
// log-distributions (exactly 0 when they are equal).
func klRow(lp, lq []int64) float64 {
	var s float64
	for v, a := range lp {
		if d := a - lq[v]; d != 0 {
			s += math.Exp(float64(a)/qOne) * float64(d) / qOne
		}
	}
	return s
}
