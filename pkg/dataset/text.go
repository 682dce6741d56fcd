package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// ---------------------------------------------------------------------------
// Text corpora. PackText turns a tree of text files (source code, say) into
// two datasets of KindTokens rows for next-token training, a training and a
// validation split, the same on every machine for the same files:
//
//   - a file is named by its slash-separated path relative to the root, and
//     h(file) is SHA-256 of that path;
//   - with a cap (MaxBytes), whole files are taken in byte order of h, a
//     deterministic shuffle, each one that still fits under the cap (with
//     its separator): a sample of the whole tree, not of its first
//     directories; without a cap, every file is taken;
//   - a file goes to the validation split iff the first 8 bytes of h, big
//     endian, are divisible by ValShare (about one file in ValShare), so a
//     file's split never depends on the others;
//   - each split is the concatenation of its files in byte order of their
//     paths, each followed by TextSeparator (an end-of-document token);
//   - that stream is cut into rows of T+1 bytes with stride T: row i is
//     stream[i*T : i*T+T+1], so the last token of a row is the first of the
//     next and every byte after the first is a target exactly once; the tail
//     shorter than a row is dropped.
//
// File contents are taken as they are (no newline or encoding conversion);
// files holding a zero byte (not text, and it would blur the separator) are
// skipped. This is off-chain tooling; only the rows it produces are
// committed to.
// ---------------------------------------------------------------------------

// TextSeparator follows every file in a packed text stream.
const TextSeparator byte = 0

// MaxTextContext is the largest context of token rows (rows of
// MaxTextContext+1 = engine.MaxInputs bytes).
const MaxTextContext = engine.MaxInputs - 1

// DefaultTextExts are the file name suffixes TextFiles takes by default.
var DefaultTextExts = []string{".go"}

// TextOptions configures PackText.
type TextOptions struct {
	// Context is T, the transformer's context length: rows hold T+1 bytes.
	Context uint32
	// MaxBytes caps the corpus (file bytes and separators, both splits
	// together) with a sample of whole files; 0 takes every file.
	MaxBytes uint64
	// ValShare sends about one file in ValShare to the validation split;
	// 0 makes no validation split, 1 is refused (no training split).
	ValShare uint32
}

// TextSplit is one split of a packed text corpus.
type TextSplit struct {
	File  *File  // the rows; nil for the validation split when ValShare is 0
	Files int    // files in the split
	Bytes uint64 // length of the split's stream (file bytes and separators)
}

// TextCorpus is what PackText produces.
type TextCorpus struct {
	Train, Val TextSplit
	Skipped    []string // files holding a zero byte, not packed (sorted)
	Dropped    int      // files left out by the MaxBytes cap
}

// TextSchema returns the schema of the token rows of a context of T.
func TextSchema(context uint32) Schema {
	return Schema{Kind: KindTokens, Feature: FeatureUint8, Features: context + 1}
}

// TextFiles lists the regular files of fsys whose names end in one of exts
// (DefaultTextExts when exts is empty), as sorted slash-separated paths
// relative to the root of fsys. Symbolic links and other special files are
// left out, so the list is the same on every machine for the same tree.
func TextFiles(fsys fs.FS, exts []string) ([]string, error) {
	if len(exts) == 0 {
		exts = DefaultTextExts
	}
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		for _, e := range exts {
			if strings.HasSuffix(d.Name(), e) {
				files = append(files, p)
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// TextValidation reports whether the file at rel (a slash-separated relative
// path) belongs to the validation split for a share of valShare (see above).
func TextValidation(rel string, valShare uint32) bool {
	h := sha256.Sum256([]byte(rel))
	return textValidation(h, valShare)
}

func textValidation(h [32]byte, valShare uint32) bool {
	return valShare != 0 && binary.BigEndian.Uint64(h[:8])%uint64(valShare) == 0
}

// PackText packs the files of fsys named by files (slash-separated paths
// relative to its root, as TextFiles returns them; taken in sorted order
// whatever their order here) into training and validation datasets of
// KindTokens rows (see above). Each split that exists must hold at least one
// row.
func PackText(fsys fs.FS, files []string, opt TextOptions) (*TextCorpus, error) {
	if opt.Context < 1 || opt.Context > MaxTextContext {
		return nil, fmt.Errorf("text: context %d out of range [1, %d]", opt.Context, MaxTextContext)
	}
	s := TextSchema(opt.Context)
	if opt.ValShare == 1 {
		return nil, errors.New("text: validation share 1 sends every file to validation (want 0 for none or >= 2)")
	}
	sorted := append([]string(nil), files...)
	sort.Strings(sorted)
	for i, p := range sorted {
		if !fs.ValidPath(p) || p == "." {
			return nil, fmt.Errorf("text: %q is not a clean slash-separated relative path", p)
		}
		if i > 0 && sorted[i-1] == p {
			return nil, fmt.Errorf("text: %s given twice", p)
		}
	}
	hashes := make([][32]byte, len(sorted))
	order := make([]int, len(sorted)) // the order in which files are taken
	for i, p := range sorted {
		hashes[i] = sha256.Sum256([]byte(p))
		order[i] = i
	}
	if opt.MaxBytes > 0 {
		sort.Slice(order, func(a, b int) bool {
			return bytes.Compare(hashes[order[a]][:], hashes[order[b]][:]) < 0
		})
	}
	c := &TextCorpus{}
	bodies := make([][]byte, len(sorted)) // nil: not taken
	var total uint64
	for _, i := range order {
		b, err := fs.ReadFile(fsys, sorted[i])
		if err != nil {
			return nil, fmt.Errorf("text: %w", err)
		}
		if bytes.IndexByte(b, TextSeparator) >= 0 {
			c.Skipped = append(c.Skipped, sorted[i])
			continue
		}
		n := uint64(len(b)) + 1
		if opt.MaxBytes > 0 && total+n > opt.MaxBytes {
			c.Dropped++
			continue
		}
		total += n
		bodies[i] = append(b, TextSeparator)
	}
	sort.Strings(c.Skipped)
	var train, val bytes.Buffer
	for i, b := range bodies {
		if b == nil {
			continue
		}
		buf, split := &train, &c.Train
		if textValidation(hashes[i], opt.ValShare) {
			buf, split = &val, &c.Val
		}
		buf.Write(b)
		split.Files++
		split.Bytes += uint64(len(b))
		bodies[i] = nil
	}
	var err error
	if c.Train.File, err = textRows(s, train.Bytes()); err != nil {
		return nil, fmt.Errorf("text: training split (%d files): %w", c.Train.Files, err)
	}
	if opt.ValShare > 0 {
		if c.Val.File, err = textRows(s, val.Bytes()); err != nil {
			return nil, fmt.Errorf("text: validation split (%d files): %w", c.Val.Files, err)
		}
	}
	return c, nil
}

// textRows cuts a stream into rows of T+1 tokens with stride T.
func textRows(s Schema, stream []byte) (*File, error) {
	t := int(s.Features) - 1
	if len(stream) < t+1 {
		return nil, fmt.Errorf("%d bytes, fewer than one row of %d tokens", len(stream), t+1)
	}
	rows := make([][]byte, (len(stream)-1)/t)
	for i := range rows {
		rows[i] = stream[i*t : i*t+t+1 : i*t+t+1]
	}
	return NewFile(s, rows)
}
