// Command lintdet enforces the determinism rules of Hinterland's consensus
// code (pkg/engine, pkg/dataset): in every non-test Go
// file of the given directory trees (testdata directories skipped) it reports
//
//   - imports of math, math/rand, math/rand/v2, math/cmplx, crypto/rand,
//     time or unsafe (math/bits is allowed: it is integer only);
//   - any expression or declaration of floating-point or complex type,
//     including untyped float constants;
//   - range loops over maps (iteration order is random).
//
// Types come from go/types with the compiler's export data (go list -export),
// so a map returned by another package is recognised too. It prints
// file:line: message for each finding and exits 1 if there is any.
//
// With -keeper first, the trees are keepers (x/*/keeper): block time and
// math's integer constants are theirs to use, so time and math are allowed;
// randomness, unsafe, floats and map ranges are not.
//
// Usage: go run ./scripts/lintdet [-keeper] DIR...
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

var forbiddenImports = []string{"math", "math/rand", "math/rand/v2", "math/cmplx", "crypto/rand", "time", "unsafe"}

// keeperForbiddenImports apply with -keeper.
var keeperForbiddenImports = []string{"math/rand", "math/rand/v2", "math/cmplx", "crypto/rand", "unsafe"}

// finding is one violation.
type finding struct {
	pos token.Position
	msg string
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "-keeper" {
		forbiddenImports, args = keeperForbiddenImports, args[1:]
	}
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: lintdet [-keeper] DIR...")
		os.Exit(2)
	}
	var all []finding
	for _, root := range args {
		fs, err := lintTree(root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lintdet:", err)
			os.Exit(2)
		}
		all = append(all, fs...)
	}
	for _, f := range all {
		fmt.Printf("%s:%d: %s\n", f.pos.Filename, f.pos.Line, f.msg)
	}
	if len(all) > 0 {
		fmt.Printf("lintdet: %d determinism violation(s)\n", len(all))
		os.Exit(1)
	}
}

// lintTree checks every package directory under root.
func lintTree(root string) ([]finding, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []finding
	for _, d := range dirs {
		fs, err := lintDir(d)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// contexts are the build configurations a directory is checked under, so
// that files for other architectures (and the purego fallback) are covered.
var contexts = func() []build.Context {
	pure := build.Default
	pure.BuildTags = append(slices.Clone(pure.BuildTags), "purego")
	arm := build.Default
	arm.GOARCH = "arm64"
	return []build.Context{build.Default, pure, arm}
}()

// lintDir checks the non-test files of one directory under every context.
func lintDir(dir string) ([]finding, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var out []finding
	seen := make(map[string]bool)
	for _, ctx := range contexts {
		fs, err := lintDirContext(dir, ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			key := fmt.Sprintf("%s:%d:%s", f.pos.Filename, f.pos.Line, f.msg)
			if !seen[key] {
				seen[key] = true
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// exportLookup returns a lookup of compiler export data for the packages
// that dir depends on, from `go list -export -deps`.
func exportLookup(dir string) (func(string) (io.ReadCloser, error), error) {
	cmd := exec.Command("go", "list", "-e", "-export", "-deps", "-f", "{{.ImportPath}}={{.Export}}", ".")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -export in %s: %v: %s", dir, err, stderr.String())
	}
	files := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(outb))
	for sc.Scan() {
		if path, file, ok := strings.Cut(sc.Text(), "="); ok && file != "" {
			files[path] = file
		}
	}
	return func(path string) (io.ReadCloser, error) {
		f, ok := files[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	}, nil
}

func lintDirContext(dir string, ctx build.Context) ([]finding, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		if ok, err := ctx.MatchFile(dir, n); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, nil
	}
	var out []finding
	report := func(p token.Pos, format string, args ...any) {
		out = append(out, finding{fset.Position(p), fmt.Sprintf(format, args...)})
	}
	for _, f := range files {
		for _, im := range f.Imports {
			path := strings.Trim(im.Path.Value, `"`)
			if slices.Contains(forbiddenImports, path) {
				report(im.Pos(), "import of %q is forbidden in consensus code", path)
			}
		}
	}
	lookup, err := exportLookup(dir)
	if err != nil {
		return nil, err
	}
	info := &types.Info{Types: make(map[ast.Expr]types.TypeAndValue)}
	var typeErr error
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup), Error: func(err error) {
		if typeErr == nil {
			typeErr = err
		}
	}}
	_, _ = conf.Check(dir, fset, files, info)
	if typeErr != nil && ctx.GOARCH == build.Default.GOARCH {
		// Without complete types a map or float could go unnoticed.
		return nil, fmt.Errorf("type-checking %s: %v", dir, typeErr)
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.RangeStmt:
				if tv, ok := info.Types[n.X]; ok && tv.Type != nil {
					if _, isMap := tv.Type.Underlying().(*types.Map); isMap {
						report(n.Pos(), "range over a map (random order) is forbidden in consensus code")
					}
				}
			case ast.Expr:
				if tv, ok := info.Types[n]; ok && isFloat(tv.Type) {
					report(n.Pos(), "floating-point value or type (%s) is forbidden in consensus code", tv.Type)
					return false // one finding per outermost float expression
				}
			}
			return true
		})
	}
	return out, nil
}

func isFloat(t types.Type) bool {
	if t == nil {
		return false
	}
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&(types.IsFloat|types.IsComplex) != 0
}
