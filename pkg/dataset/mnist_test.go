package dataset_test

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
)

// Pinned Merkle roots of the MNIST sets (canonical rows, see the package doc).
const (
	mnistTrainRoot = "5a0f0cf8c0c8a9f7f065157fc758df5cbc5792b6d3480227afb46c7e17d1c83a"
	mnistTestRoot  = "29753a3d9f5631f954fd3cea20ecaa7677018324d38902f61e43b700b0ca5dcb"
)

func TestMNIST(t *testing.T) {
	train := datasettest.MNIST(t, "train")
	test := datasettest.MNIST(t, "t10k")
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("sizes %d %d", train.Len(), test.Len())
	}
	s := train.Schema()
	if s.Features != 784 || s.Classes != 10 || s.Feature != dataset.FeatureUint8 || s.RowSize() != 788 {
		t.Fatalf("schema %+v", s)
	}
	r, err := train.Row(0)
	if err != nil || r.Label != 5 { // the first MNIST training digit is a 5
		t.Fatalf("row 0 label %d %v", r.Label, err)
	}
	if got := hex.EncodeToString(train.Root()); got != mnistTrainRoot {
		t.Errorf("train root %s, pinned %s", got, mnistTrainRoot)
	}
	if got := hex.EncodeToString(test.Root()); got != mnistTestRoot {
		t.Errorf("t10k root %s, pinned %s", got, mnistTestRoot)
	}
	// Pack -> Read round trip keeps the root; raw (un-gzipped) IDX files load
	// to the same rows.
	var buf bytes.Buffer
	if _, err := test.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := dataset.Read(&buf)
	if err != nil || !bytes.Equal(back.Root(), test.Root()) {
		t.Fatalf("pack/read: %v", err)
	}
	dir := t.TempDir()
	src := datasettest.MNISTDir(t)
	for _, name := range []string{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		in, err := os.Open(filepath.Join(src, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(in)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		in.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rawSet, err := dataset.LoadMNIST(dir, "t10k")
	if err != nil || !bytes.Equal(rawSet.Root(), test.Root()) {
		t.Fatalf("raw IDX: %v", err)
	}
	if _, err := dataset.LoadMNIST(t.TempDir(), "t10k"); err == nil {
		t.Fatal("missing files accepted")
	}
}
