package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

// writeTree writes files (slash paths relative to dir) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// streamOf rebuilds a split's stream from its rows (stride T, overlap 1).
func streamOf(t *testing.T, f *File) []byte {
	t.Helper()
	var s []byte
	for i, r := range f.Rows() {
		if i > 0 {
			if r[0] != s[len(s)-1] {
				t.Fatalf("row %d does not start with the last token of row %d", i, i-1)
			}
			r = r[1:]
		}
		s = append(s, r...)
	}
	return s
}

func TestPackTextTree(t *testing.T) {
	dir := t.TempDir()
	tree := map[string]string{
		"a.go":            "package a\n",
		"b/b.go":          "package b\n\nfunc B() {}\n",
		"b/b_test.go":     "package b\n",
		"b/README.md":     "not Go\n",
		"c/d/e.go":        "package e\n// é\n",
		"c/d/data.bin.go": "bin\x00ary\n",
		"z.txt":           "text\n",
	}
	for i := range 40 { // enough files that some land in validation at a share of 4
		tree[filepath.ToSlash(filepath.Join("many", string(rune('a'+i%26))+strings.Repeat("x", i/26)+".go"))] = strings.Repeat("x", i) + "\n"
	}
	writeTree(t, dir, tree)
	if err := os.Symlink(filepath.Join(dir, "a.go"), filepath.Join(dir, "link.go")); err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(dir)
	files, err := TextFiles(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 45 || files[0] != "a.go" || files[1] != "b/b.go" || files[2] != "b/b_test.go" {
		t.Fatalf("files %v", files)
	}
	for _, f := range files {
		if f == "link.go" || !strings.HasSuffix(f, ".go") {
			t.Fatalf("listed %s", f)
		}
	}
	if md, _ := TextFiles(fsys, []string{".md", ".txt"}); len(md) != 2 || md[0] != "b/README.md" || md[1] != "z.txt" {
		t.Fatalf("md and txt files %v", md)
	}

	const T = 8
	c, err := PackText(fsys, files, TextOptions{Context: T, ValShare: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Skipped) != 1 || c.Skipped[0] != "c/d/data.bin.go" || c.Dropped != 0 {
		t.Fatalf("skipped %v, dropped %d", c.Skipped, c.Dropped)
	}
	// Rebuild both streams by hand from the rule in the package comment.
	var train, val []byte
	nTrain, nVal := 0, 0
	for _, p := range files {
		if p == "c/d/data.bin.go" {
			continue
		}
		h := sha256.Sum256([]byte(p))
		doc := append([]byte(tree[p]), 0)
		if binary.BigEndian.Uint64(h[:8])%4 == 0 {
			val, nVal = append(val, doc...), nVal+1
		} else {
			train, nTrain = append(train, doc...), nTrain+1
		}
	}
	if nVal == 0 || nTrain == 0 {
		t.Fatalf("test tree too small: %d validation files", nVal)
	}
	for _, sp := range []struct {
		name   string
		split  TextSplit
		stream []byte
		files  int
	}{{"train", c.Train, train, nTrain}, {"val", c.Val, val, nVal}} {
		f := sp.split.File
		if sp.split.Files != sp.files || sp.split.Bytes != uint64(len(sp.stream)) {
			t.Fatalf("%s: %d files %d bytes, want %d and %d", sp.name, sp.split.Files, sp.split.Bytes, sp.files, len(sp.stream))
		}
		if f.Schema() != TextSchema(T) || f.Len() != uint64((len(sp.stream)-1)/T) {
			t.Fatalf("%s: schema %+v, %d rows for %d bytes", sp.name, f.Schema(), f.Len(), len(sp.stream))
		}
		got := streamOf(t, f)
		if want := sp.stream[:int(f.Len())*T+1]; !bytes.Equal(got, want) {
			t.Fatalf("%s: rows spell %q, want %q", sp.name, got, want)
		}
	}

	// The same tree packs to the same roots, whatever the order of files;
	// a tree built in another order (another machine) too.
	rev := append([]string(nil), files...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	mfs := fstest.MapFS{}
	for p, body := range tree {
		mfs[p] = &fstest.MapFile{Data: []byte(body)}
	}
	c2, err := PackText(mfs, rev, TextOptions{Context: T, ValShare: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c2.Train.File.Root(), c.Train.File.Root()) || !bytes.Equal(c2.Val.File.Root(), c.Val.File.Root()) {
		t.Fatal("the same files pack to different roots")
	}
}

func TestPackTextOptions(t *testing.T) {
	mfs := fstest.MapFS{
		"a.go": {Data: []byte("0123456789")}, // 11 bytes with its separator
		"b.go": {Data: []byte("abcdefghi")},  // 10
		"c.go": {Data: []byte("ABCDEFGH")},   // 9
	}
	files, _ := TextFiles(mfs, nil)
	// No validation split: everything trains.
	c, err := PackText(mfs, files, TextOptions{Context: 4})
	if err != nil {
		t.Fatal(err)
	}
	if c.Val.File != nil || c.Val.Files != 0 || c.Train.Files != 3 || c.Train.Bytes != 30 || c.Train.File.Len() != 7 {
		t.Fatalf("no split: train %+v val %+v", c.Train, c.Val)
	}
	if r, _ := c.Train.File.Row(2); string(r.Tokens) != "89\x00ab" {
		t.Fatalf("row 2 = %q", r.Tokens)
	}
	// The cap takes whole files in the order of the SHA-256 of their paths,
	// each one that still fits.
	sizes := map[string]uint64{"a.go": 11, "b.go": 10, "c.go": 9}
	byHash := append([]string(nil), files...)
	sort.Slice(byHash, func(i, j int) bool {
		hi, hj := sha256.Sum256([]byte(byHash[i])), sha256.Sum256([]byte(byHash[j]))
		return bytes.Compare(hi[:], hj[:]) < 0
	})
	for _, capBytes := range []uint64{29, 20, 19, 18, 12, 11, 10, 9} {
		var want uint64
		wantFiles := 0
		for _, p := range byHash {
			if want+sizes[p] <= capBytes {
				want += sizes[p]
				wantFiles++
			}
		}
		c, err = PackText(mfs, files, TextOptions{Context: 4, MaxBytes: capBytes})
		if err != nil {
			t.Fatal(err)
		}
		if c.Train.Files != wantFiles || c.Train.Bytes != want || c.Dropped != 3-wantFiles {
			t.Fatalf("cap %d: %d files %d bytes, %d dropped; want %d files %d bytes", capBytes,
				c.Train.Files, c.Train.Bytes, c.Dropped, wantFiles, want)
		}
	}
	for name, o := range map[string]TextOptions{
		"context 0":    {Context: 0},
		"context big":  {Context: MaxTextContext + 1},
		"share 1":      {Context: 4, ValShare: 1},
		"cap too low":  {Context: 4, MaxBytes: 8},
		"context long": {Context: 30},
	} {
		if _, err := PackText(mfs, files, o); err == nil {
			t.Errorf("%s: packed", name)
		}
	}
	// A validation split too small for a row is an error, not a silent gap.
	if _, err := PackText(mfs, files, TextOptions{Context: 4, ValShare: 1 << 31}); err == nil || !strings.Contains(err.Error(), "validation split") {
		t.Errorf("empty validation split: %v", err)
	}
	for name, fl := range map[string][]string{
		"missing":  {"a.go", "x.go"},
		"twice":    {"a.go", "a.go"},
		"absolute": {"/a.go"},
		"dotdot":   {"../a.go"},
		"unclean":  {"./a.go"},
	} {
		if _, err := PackText(mfs, fl, TextOptions{Context: 4}); err == nil {
			t.Errorf("files %s: packed", name)
		}
	}
}

// TestTextValidationPinned pins the split rule (SHA-256 of the path).
func TestTextValidationPinned(t *testing.T) {
	n := 0
	for i := range 1600 {
		if TextValidation("src/pkg"+strings.Repeat("/x", i%7)+string(rune('a'+i%26))+".go"+strings.Repeat("!", i/182), 16) {
			n++
		}
	}
	if n < 60 || n > 140 {
		t.Fatalf("%d of 1600 paths in validation at a share of 16", n)
	}
	if TextValidation("anything.go", 0) {
		t.Fatal("share 0 has a validation split")
	}
	// The rule as the package comment states it.
	h := sha256.Sum256([]byte("fmt/print.go"))
	if TextValidation("fmt/print.go", 16) != (binary.BigEndian.Uint64(h[:8])%16 == 0) {
		t.Fatal("split rule changed")
	}
}
