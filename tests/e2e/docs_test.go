package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/testutil/chainproc"
)

// docQuery is a query command as a README shows it.
type docQuery struct {
	file string
	line int
	text string
}

// readmes are the README and the module READMEs.
func readmes(t *testing.T) []string {
	t.Helper()
	mods, err := filepath.Glob(filepath.Join("..", "..", "x", "*", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join("..", "..", "README.md")}, mods...)
}

// documentedQueries returns every query command line (`$BIN q ...`,
// `hinterlandd query ...`) in a code block of the README and the module
// READMEs, in order.
func documentedQueries(t *testing.T) []docQuery {
	t.Helper()
	files := readmes(t)
	start := regexp.MustCompile(`^(\$BIN|hinterlandd) (q|query) `)
	var out []docQuery
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		in := false
		for n := 1; sc.Scan(); n++ {
			l := sc.Text()
			if strings.HasPrefix(l, "```") {
				in = !in
				continue
			}
			if in && start.MatchString(l) {
				out = append(out, docQuery{file: f, line: n, text: l})
			}
		}
		fh.Close()
	}
	return out
}

// runDocumentedQueries runs every documented query against a localnet that
// has served tasks, placeholders replaced by real values. A command the CLI
// refuses (an unknown flag, a value an enum does not take, a wrong number of
// arguments) fails the test; an object this localnet does not hold (an
// annotation job, a federated job) or not in the phase the query needs is
// accepted as served.
func runDocumentedQueries(t *testing.T, c *chainproc.Chain, subst map[string]string) {
	t.Helper()
	qs := documentedQueries(t)
	if len(qs) < 30 {
		t.Fatalf("found only %d documented queries", len(qs))
	}
	placeholder := regexp.MustCompile(`hinter1\.\.\.|<model-hash-hex>|\bALIGNED_HASH\b|\bBASE_HASH\b|\bHASH\b|\bHEX\b|\bADDRESS\b`)
	served := 0
	for _, q := range qs {
		cmd := q.text
		if i := strings.Index(cmd, " #"); i >= 0 {
			cmd = cmd[:i]
		}
		cmd = strings.NewReplacer("[", "", "]", "").Replace(cmd)
		cmd = placeholder.ReplaceAllStringFunc(cmd, func(p string) string { return subst[p] })
		args := strings.Fields(cmd)[1:] // without $BIN / hinterlandd
		out, err := c.CLI(args...)
		switch {
		case err == nil:
			served++
		case refusedForState(out + err.Error()):
		default:
			t.Errorf("%s:%d: %s\n  ran: hinterlandd %s\n  %v %s", q.file, q.line, q.text, strings.Join(args, " "), err, strings.TrimSpace(out))
		}
	}
	t.Logf("%d documented queries: %d answered, %d about objects this localnet does not hold", len(qs), served, len(qs)-served)
}

// refusedForState reports whether a query failed on the localnet's state
// (the object does not exist, or not in that phase), not on its syntax.
func refusedForState(msg string) bool {
	for _, s := range []string{"NotFound", "not found", "current phase"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// documentedTxs returns every transaction command (`$BIN tx ...`,
// `hinterlandd tx ...`) in a code block of the README and the module READMEs,
// continuation lines joined and comments cut.
func documentedTxs(t *testing.T) []docQuery {
	t.Helper()
	files := readmes(t)
	start := regexp.MustCompile(`^(\$BIN|hinterlandd) tx `)
	var out []docQuery
	for _, f := range files {
		bz, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(bz), "\n")
		in := false
		for n := 0; n < len(lines); n++ {
			l := lines[n]
			if strings.HasPrefix(l, "```") {
				in = !in
				continue
			}
			if !in || !start.MatchString(l) {
				continue
			}
			q := docQuery{file: f, line: n + 1}
			for {
				l = lines[n]
				if i := strings.Index(l, " #"); i >= 0 {
					l = l[:i]
				}
				l = strings.TrimSpace(l)
				cont := strings.HasSuffix(l, `\`)
				q.text += " " + strings.TrimSuffix(l, `\`)
				if !cont || n+1 == len(lines) {
					break
				}
				n++
			}
			q.text = strings.Join(strings.Fields(q.text), " ")
			out = append(out, q)
		}
	}
	return out
}

// handWritten are the transaction commands that do more than build one
// message from their arguments (read datasets and secrets, wait, seal then
// open): their documented flags are checked, not run.
var handWritten = map[string]bool{
	"tasks post": true, "tasks reveal-secret": true, "verification challenge": true, "federated post": true,
}

// runDocumentedTxs checks every documented transaction against the real
// binary: its command exists and takes every flag the line uses; a command
// that only builds a message from its arguments is built for real
// (--generate-only, placeholders and key names filled in) and must produce a
// transaction, or fail only on this localnet's state. Lines with placeholders
// for files or JSON a reader supplies are checked for their flags only.
func runDocumentedTxs(t *testing.T, c *chainproc.Chain, subst map[string]string, keys map[string]string) {
	t.Helper()
	txs := documentedTxs(t)
	if len(txs) < 20 {
		t.Fatalf("found only %d documented transactions", len(txs))
	}
	flag := regexp.MustCompile(`(^|\s)(--[a-z][a-z0-9-]*|-[a-z])\b`)
	placeholder := regexp.MustCompile(`hinter1\.\.\.|<address on the other chain>|\bBASE_HASH\b|\bTUNED_HASH\b|\bHASH\b`)
	built, state, checked := 0, 0, 0
	for _, q := range txs {
		words := strings.Fields(q.text)
		if len(words) < 4 {
			t.Errorf("%s:%d: %q: too short to be a command", q.file, q.line, q.text)
			continue
		}
		path := words[1:4] // tx <module> <command>
		help, err := c.CLI(append(append([]string{}, path...), "--help")...)
		if err != nil || !strings.Contains(help, "hinterlandd "+strings.Join(path, " ")) {
			t.Errorf("%s:%d: %s\n  no command %q: %v", q.file, q.line, q.text, strings.Join(path, " "), err)
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(q.text, -1) {
			f := m[2]
			if (strings.HasPrefix(f, "--") && !strings.Contains(help, f+" ")) || (!strings.HasPrefix(f, "--") && !strings.Contains(help, f+",")) {
				t.Errorf("%s:%d: %s\n  %s does not take %s", q.file, q.line, q.text, strings.Join(path, " "), f)
			}
		}
		checked++
		cmd := placeholder.ReplaceAllStringFunc(strings.Join(words[1:], " "), func(p string) string { return subst[p] })
		if handWritten[strings.Join(path[1:], " ")] || strings.ContainsAny(cmd, "<$") || strings.Contains(cmd, "...") {
			continue
		}
		var args []string
		fields := strings.Fields(cmd)
		for i, w := range fields {
			if w == "-y" {
				continue
			}
			if i > 0 && fields[i-1] == "--from" {
				if k, ok := keys[w]; ok {
					w = k
				}
			}
			args = append(args, w)
		}
		out, err := c.CLI(append(args, "--generate-only")...)
		switch {
		case err == nil && strings.Contains(out, `"body"`):
			built++
		case err != nil && refusedForState(out+err.Error()):
			state++
		default:
			t.Errorf("%s:%d: %s\n  ran: hinterlandd %s --generate-only\n  %v %s", q.file, q.line, q.text, strings.Join(args, " "), err, strings.TrimSpace(out))
		}
	}
	t.Logf("%d documented transactions: all %d commands and flags exist; %d built, %d refused for this localnet's state, %d take files or JSON a reader supplies",
		len(txs), checked, built, state, len(txs)-built-state)
}
