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

// documentedQueries returns every query command line (`$BIN q ...`,
// `hinterlandd query ...`) in a code block of the README and the module
// READMEs, in order.
func documentedQueries(t *testing.T) []docQuery {
	t.Helper()
	files := []string{filepath.Join("..", "..", "README.md")}
	mods, err := filepath.Glob(filepath.Join("..", "..", "x", "*", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, mods...)
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
