package dataset

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/cometbft/cometbft/crypto/merkle"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Packed dataset file (little endian):
//
//	offset  0: magic "HLDS"
//	offset  4: u16 version = 1
//	offset  6: u16 reserved = 0
//	offset  8: schema (16 bytes, see the package comment)
//	offset 24: u64 row count (1..MaxRows)
//	offset 32: Merkle root (32 bytes)
//	offset 64: rows, row count x Schema.RowSize() bytes, nothing after
//
// Reading recomputes the root from the rows and refuses a file whose rows do
// not hash to the root in its header.
const (
	fileMagic   = "HLDS"
	fileVersion = 1
	// HeaderSize is the length of the packed file header.
	HeaderSize = 64
)

// File is a dataset held in memory: schema, rows and their Merkle root.
type File struct {
	schema  Schema
	count   uint64
	rowSize int
	root    []byte
	data    []byte // count * rowSize bytes

	proofsOnce sync.Once
	proofs     []*merkle.Proof
}

// NewFile validates every row against the schema and computes the root.
func NewFile(s Schema, rows [][]byte) (*File, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(rows) == 0 || uint64(len(rows)) > MaxRows {
		return nil, fmt.Errorf("dataset: %d rows, want 1..%d", len(rows), uint64(MaxRows))
	}
	size := s.RowSize()
	data := make([]byte, 0, len(rows)*size)
	for i, r := range rows {
		if _, err := DecodeRow(s, r); err != nil {
			return nil, fmt.Errorf("dataset: row %d: %w", i, err)
		}
		data = append(data, r...)
	}
	f := &File{schema: s, count: uint64(len(rows)), rowSize: size, data: data}
	f.root = Root(f.Rows())
	return f, nil
}

// Schema returns the row schema.
func (f *File) Schema() Schema { return f.schema }

// Len returns the number of rows.
func (f *File) Len() uint64 { return f.count }

// Root returns the Merkle root of the rows.
func (f *File) Root() []byte { return append([]byte(nil), f.root...) }

// Rows returns the encoded rows (slices of the file's memory; do not modify).
func (f *File) Rows() [][]byte {
	rows := make([][]byte, f.count)
	for i := range rows {
		rows[i] = f.data[i*f.rowSize : (i+1)*f.rowSize : (i+1)*f.rowSize]
	}
	return rows
}

// RowBytes returns the canonical encoding of row i.
func (f *File) RowBytes(i uint64) ([]byte, error) {
	if i >= f.count {
		return nil, fmt.Errorf("dataset: row %d out of range [0, %d)", i, f.count)
	}
	o := int(i) * f.rowSize
	return f.data[o : o+f.rowSize : o+f.rowSize], nil
}

// Row decodes row i.
func (f *File) Row(i uint64) (Row, error) {
	b, err := f.RowBytes(i)
	if err != nil {
		return Row{}, err
	}
	return DecodeRow(f.schema, b)
}

// Proof returns the Merkle inclusion proof of row i (all proofs are built on
// the first call and kept).
func (f *File) Proof(i uint64) (*merkle.Proof, error) {
	if i >= f.count {
		return nil, fmt.Errorf("dataset: row %d out of range [0, %d)", i, f.count)
	}
	f.proofsOnce.Do(func() { _, f.proofs = Proofs(f.Rows()) })
	return f.proofs[i], nil
}

// Source returns the rows as an engine.RowSource with fracBits fractional bits.
func (f *File) Source(fracBits uint32) (engine.RowSource, error) {
	if err := engine.CheckFracBits(fracBits); err != nil {
		return nil, err
	}
	return source{f: f, frac: fracBits, tab: newByteTable(fracBits)}, nil
}

type source struct {
	f    *File
	frac uint32
	tab  *byteTable
}

func (s source) Row(i uint64) (engine.Example, error) {
	b, err := s.f.RowBytes(i)
	if err != nil {
		return engine.Example{}, err
	}
	return decodeExample(s.f.schema, b, s.frac, s.tab)
}

// WriteTo writes the packed file.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	h := make([]byte, 0, HeaderSize)
	h = append(h, fileMagic...)
	h = binary.LittleEndian.AppendUint16(h, fileVersion)
	h = binary.LittleEndian.AppendUint16(h, 0)
	h = append(h, f.schema.Encode()...)
	h = binary.LittleEndian.AppendUint64(h, f.count)
	h = append(h, f.root...)
	n, err := w.Write(h)
	if err != nil {
		return int64(n), err
	}
	m, err := w.Write(f.data)
	return int64(n + m), err
}

// Pack writes the rows as a packed dataset file and returns their root.
func Pack(w io.Writer, s Schema, rows [][]byte) ([]byte, error) {
	f, err := NewFile(s, rows)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteTo(w); err != nil {
		return nil, fmt.Errorf("dataset: write: %w", err)
	}
	return f.Root(), nil
}

// Read parses a packed dataset file, validates every row and recomputes the
// Merkle root; a file whose rows do not hash to its header root is refused.
// Memory grows with the bytes actually read, not with the header's claims.
func Read(r io.Reader) (*File, error) {
	h := make([]byte, HeaderSize)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, fmt.Errorf("dataset file: header: %w", err)
	}
	if string(h[:4]) != fileMagic {
		return nil, errors.New("dataset file: bad magic (not a packed Hinterland dataset)")
	}
	if v := binary.LittleEndian.Uint16(h[4:]); v != fileVersion {
		return nil, fmt.Errorf("dataset file: version %d, want %d", v, fileVersion)
	}
	if binary.LittleEndian.Uint16(h[6:]) != 0 {
		return nil, errors.New("dataset file: reserved header bytes must be zero")
	}
	s, err := DecodeSchema(h[8:24])
	if err != nil {
		return nil, fmt.Errorf("dataset file: %w", err)
	}
	count := binary.LittleEndian.Uint64(h[24:])
	if count == 0 || count > MaxRows {
		return nil, fmt.Errorf("dataset file: row count %d out of range [1, %d]", count, uint64(MaxRows))
	}
	want := count * uint64(s.RowSize())
	data, err := io.ReadAll(io.LimitReader(r, int64(want)+1))
	if err != nil {
		return nil, fmt.Errorf("dataset file: rows: %w", err)
	}
	if uint64(len(data)) != want {
		return nil, fmt.Errorf("dataset file: %d row bytes, header says %d rows of %d bytes (%d); truncated or trailing data",
			len(data), count, s.RowSize(), want)
	}
	rows := make([][]byte, count)
	for i := range rows {
		rows[i] = data[i*s.RowSize() : (i+1)*s.RowSize()]
	}
	f, err := NewFile(s, rows)
	if err != nil {
		return nil, fmt.Errorf("dataset file: %w", err)
	}
	if !bytes.Equal(f.root, h[32:64]) {
		return nil, fmt.Errorf("dataset file: rows hash to root %s but the header says %s: file corrupted or tampered with",
			hex.EncodeToString(f.root), hex.EncodeToString(h[32:64]))
	}
	return f, nil
}

// Open reads a packed dataset file from disk (see Read).
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}
