package annotator

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/worker"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// Items fetches a job's packed item set from its URI (file:// read in
// place; http(s):// downloaded once into dir under its root), checks it
// against the job (root, rows, schema) and hands out rows only with a Merkle
// proof checked against the job's items root: what the page shows is what
// the chain committed to.
type Items struct {
	dir string

	mu    sync.Mutex
	files map[string]*dataset.File // by hex root; looked up by key only
}

// NewItems keeps downloads in dir.
func NewItems(dir string) *Items {
	return &Items{dir: dir, files: make(map[string]*dataset.File)}
}

// file returns the job's item set, fetched and checked.
func (s *Items) file(ctx context.Context, job types.Job) (*dataset.File, error) {
	ref := job.Items
	key := hex.EncodeToString(ref.Root)
	s.mu.Lock()
	defer s.mu.Unlock() // one fetch at a time: a page asks for many rows of one set at once
	if f := s.files[key]; f != nil {
		return f, nil
	}
	want, err := ref.Schema.DatasetSchema()
	if err != nil {
		return nil, fmt.Errorf("job %d items schema: %w", job.Id, err)
	}
	u, err := url.Parse(ref.Uri)
	if err != nil {
		return nil, fmt.Errorf("job %d items uri %q: %w", job.Id, ref.Uri, err)
	}
	path := u.Path
	if u.Scheme != "file" {
		path = filepath.Join(s.dir, key+".hlds")
		if _, err := os.Stat(path); err != nil {
			// A set matching the job has exactly this size.
			limit := int64(dataset.HeaderSize) + int64(ref.Rows)*int64(want.RowSize())
			if err := worker.FetchToFile(ctx, ref.Uri, path, limit); err != nil {
				return nil, fmt.Errorf("job %d items: %w", job.Id, err)
			}
		}
	}
	// Open recomputes the root from the rows and refuses a file whose rows
	// do not hash to its header.
	f, err := dataset.Open(path)
	if err != nil {
		return nil, fmt.Errorf("job %d items at %s: %w", job.Id, ref.Uri, err)
	}
	switch {
	case !bytes.Equal(f.Root(), ref.Root):
		err = fmt.Errorf("root %X, the job's is %X", f.Root(), ref.Root)
	case f.Len() != ref.Rows:
		err = fmt.Errorf("%d rows, the job has %d", f.Len(), ref.Rows)
	case f.Schema() != want:
		err = fmt.Errorf("schema %s, the job's is %s", worker.SchemaString(f.Schema()), worker.SchemaString(want))
	}
	if err != nil {
		if u.Scheme != "file" {
			os.Remove(path) // fetched again next time
		}
		return nil, fmt.Errorf("job %d items at %s: %w; refusing to show them", job.Id, ref.Uri, err)
	}
	s.files[key] = f
	return f, nil
}

// Row returns item i of the job's items, checked against the job's items
// root with its Merkle proof.
func (s *Items) Row(ctx context.Context, job types.Job, i uint32) (dataset.Row, error) {
	f, err := s.file(ctx, job)
	if err != nil {
		return dataset.Row{}, err
	}
	bz, err := f.RowBytes(uint64(i))
	if err != nil {
		return dataset.Row{}, fmt.Errorf("job %d: %w", job.Id, err)
	}
	proof, err := f.Proof(uint64(i))
	if err != nil {
		return dataset.Row{}, fmt.Errorf("job %d: %w", job.Id, err)
	}
	if err := dataset.VerifyRow(job.Items.Root, job.Items.Rows, uint64(i), bz, proof); err != nil {
		return dataset.Row{}, fmt.Errorf("job %d item %d: %w; refusing to show it", job.Id, i, err)
	}
	return dataset.DecodeRow(f.Schema(), bz)
}

// MNIST-sized rows (28 x 28 bytes) are shown as images.
const imageSide = 28

// isImage reports whether rows of the schema are shown as images.
func isImage(s dataset.Schema) bool {
	return s.Feature == dataset.FeatureUint8 && s.Features == imageSide*imageSide
}

// sides returns what the annotator compares: the row's features for a
// class job; candidates A (the row's first) and B for a preference job.
func sides(kind types.LabelKind, r dataset.Row) [][]int32 {
	if kind == types.LABEL_KIND_PREFERENCE {
		return [][]int32{r.Features, r.Rejected}
	}
	return [][]int32{r.Features}
}

// renderPNG draws 784 byte features as a 28 x 28 grayscale PNG, pixel for
// pixel, row-major (MNIST's layout: 0 black background, 255 white ink).
func renderPNG(features []int32) ([]byte, error) {
	if len(features) != imageSide*imageSide {
		return nil, fmt.Errorf("%d features are not a %dx%d image", len(features), imageSide, imageSide)
	}
	img := image.NewGray(image.Rect(0, 0, imageSide, imageSide))
	for i, v := range features {
		if v < 0 || v > 255 {
			return nil, fmt.Errorf("feature %d = %d is not a byte", i, v)
		}
		img.SetGray(i%imageSide, i/imageSide, color.Gray{Y: uint8(v)})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// values renders features as numbers: bytes as they are, fixed point as
// decimals (s.FracBits fractional bits).
func values(s dataset.Schema, features []int32) []string {
	out := make([]string, len(features))
	for i, v := range features {
		if s.Feature == dataset.FeatureUint8 {
			out[i] = strconv.Itoa(int(v))
		} else {
			out[i] = strconv.FormatFloat(float64(v)/float64(int64(1)<<s.FracBits), 'g', 6, 64)
		}
	}
	return out
}
