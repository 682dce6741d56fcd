package worker

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// DatasetCache fetches the datasets of tasks by URI and checks each one
// against its task (Merkle root, row count, schema) before anything uses it.
// Downloads (http, https) are kept in Dir under their root; file:// URIs are
// read in place.
type DatasetCache struct {
	Dir string
	Log *slog.Logger
	// Labels reads a settled annotation job's items and labels from the
	// chain, for tasks whose dataset names one (nil: such tasks are refused).
	Labels func(ctx context.Context, jobID uint64) (taskstypes.DatasetRef, []byte, error)

	mu    sync.Mutex
	files map[string]*dataset.File // by hex root; looked up by key only
}

// NewDatasetCache returns a cache keeping downloads in dir.
func NewDatasetCache(dir string, log *slog.Logger) *DatasetCache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DatasetCache{Dir: dir, Log: log, files: make(map[string]*dataset.File)}
}

// Get returns the task's dataset, fetched and checked. Every failure says
// which task, which URI and what is wrong, and ends in "refusing": the
// dataset must not be used.
func (c *DatasetCache) Get(ctx context.Context, task taskstypes.Task) (*dataset.File, error) {
	ref := task.Dataset
	key := hex.EncodeToString(ref.Root)
	c.mu.Lock()
	f := c.files[key]
	c.mu.Unlock()
	if f != nil {
		if err := CheckDataset(f, task.Id, ref); err != nil {
			return nil, err
		}
		return f, nil
	}
	f, err := c.load(ctx, task)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.files[key] = f
	c.mu.Unlock()
	return f, nil
}

func (c *DatasetCache) load(ctx context.Context, task taskstypes.Task) (*dataset.File, error) {
	ref := task.Dataset
	if ref.AnnotationJob != 0 {
		return c.loadLabelled(ctx, task)
	}
	u, err := parseURI(ref.Uri)
	if err != nil {
		return nil, fmt.Errorf("task %d dataset: %w; refusing", task.Id, err)
	}
	if u.Scheme == "file" {
		return openChecked(u.Path, task.Id, ref)
	}
	schema, err := ref.Schema.DatasetSchema()
	if err != nil {
		return nil, fmt.Errorf("task %d dataset schema: %w; refusing", task.Id, err)
	}
	path := filepath.Join(c.Dir, hex.EncodeToString(ref.Root)+".hlds")
	if _, err := os.Stat(path); err == nil {
		f, err := openChecked(path, task.Id, ref)
		if err == nil {
			return f, nil
		}
		// A cached copy that no longer checks out is fetched again.
		c.Log.Warn("cached dataset is unusable; fetching it again", "task", task.Id, "path", path, "err", err)
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	// The header and rows of a dataset matching the task have exactly this size.
	limit := int64(dataset.HeaderSize) + int64(ref.Rows)*int64(schema.RowSize())
	c.Log.Info("fetching dataset", "task", task.Id, "uri", ref.Uri, "bytes", limit)
	if err := FetchToFile(ctx, ref.Uri, path+".download", limit); err != nil {
		return nil, fmt.Errorf("dataset at %s for task %d: %w; refusing", ref.Uri, task.Id, err)
	}
	f, err := openChecked(path+".download", task.Id, ref)
	if err != nil {
		os.Remove(path + ".download")
		return nil, err
	}
	if err := os.Rename(path+".download", path); err != nil {
		return nil, err
	}
	return f, nil
}

// openChecked opens a packed dataset (which recomputes the Merkle root of its
// rows and refuses a file whose rows do not hash to its header) and checks it
// against the task.
func openChecked(path string, taskID uint64, ref taskstypes.DatasetRef) (*dataset.File, error) {
	f, err := dataset.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset at %s for task %d is unusable: %w; refusing", ref.Uri, taskID, err)
	}
	if err := CheckDataset(f, taskID, ref); err != nil {
		return nil, err
	}
	return f, nil
}

// CheckDataset compares a dataset with a task's reference: the Merkle root,
// the row count and the schema must all be the task's.
func CheckDataset(f *dataset.File, taskID uint64, ref taskstypes.DatasetRef) error {
	if root := f.Root(); !bytes.Equal(root, ref.Root) {
		return fmt.Errorf("dataset at %s has root %X, task %d wants %X; refusing", ref.Uri, root, taskID, ref.Root)
	}
	if f.Len() != ref.Rows {
		return fmt.Errorf("dataset at %s has %d rows, task %d wants %d; refusing", ref.Uri, f.Len(), taskID, ref.Rows)
	}
	want, err := ref.Schema.DatasetSchema()
	if err != nil {
		return fmt.Errorf("task %d dataset schema: %w; refusing", taskID, err)
	}
	if got := f.Schema(); got != want {
		return fmt.Errorf("dataset at %s has schema %s, task %d wants %s; refusing", ref.Uri, SchemaString(got), taskID, SchemaString(want))
	}
	return nil
}

// SchemaString renders a schema in the syntax ParseSchema reads.
func SchemaString(s dataset.Schema) string {
	kind := map[dataset.Kind]string{dataset.KindClassification: "classification", dataset.KindRegression: "regression",
		dataset.KindPreference: "preference", dataset.KindTokens: "tokens", dataset.KindTokenPreference: "token-preference"}[s.Kind]
	feature := map[dataset.FeatureType]string{dataset.FeatureUint8: "uint8", dataset.FeatureFixed32: "fixed32"}[s.Feature]
	if kind == "" {
		kind = fmt.Sprintf("kind%d", s.Kind)
	}
	if feature == "" {
		feature = fmt.Sprintf("type%d", s.Feature)
	}
	out := fmt.Sprintf("kind=%s,feature=%s,features=%d", kind, feature, s.Features)
	if s.Classes > 0 {
		out += fmt.Sprintf(",classes=%d", s.Classes)
	}
	if s.Targets > 0 {
		out += fmt.Sprintf(",targets=%d", s.Targets)
	}
	if s.FracBits > 0 {
		out += fmt.Sprintf(",frac=%d", s.FracBits)
	}
	return out
}

// ParseSchema reads a schema written as comma-separated key=value pairs:
// kind=classification|regression|preference|tokens|token-preference,
// feature=uint8|fixed32, features=N, classes=N, targets=N, frac=N (frac
// defaults to 16 where a value is fixed point). Example:
// kind=classification,feature=uint8,features=784,classes=10; token rows of a
// context of T are kind=tokens,feature=uint8,features=T+1.
func ParseSchema(text string) (dataset.Schema, error) {
	var s dataset.Schema
	seen := make(map[string]bool)
	for _, part := range strings.Split(text, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return s, fmt.Errorf("schema %q: %q is not key=value", text, part)
		}
		if seen[k] {
			return s, fmt.Errorf("schema %q: %s given twice", text, k)
		}
		seen[k] = true
		num := func() (uint32, error) {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("schema %q: %s=%q is not a number", text, k, v)
			}
			return uint32(n), nil
		}
		var err error
		switch k {
		case "kind":
			switch v {
			case "classification":
				s.Kind = dataset.KindClassification
			case "regression":
				s.Kind = dataset.KindRegression
			case "preference":
				s.Kind = dataset.KindPreference
			case "tokens":
				s.Kind = dataset.KindTokens
			case "token-preference":
				s.Kind = dataset.KindTokenPreference
			default:
				return s, fmt.Errorf("schema %q: kind %q, want classification, regression, preference, tokens or token-preference", text, v)
			}
		case "feature":
			switch v {
			case "uint8":
				s.Feature = dataset.FeatureUint8
			case "fixed32":
				s.Feature = dataset.FeatureFixed32
			default:
				return s, fmt.Errorf("schema %q: feature %q, want uint8 or fixed32", text, v)
			}
		case "features":
			s.Features, err = num()
		case "classes":
			s.Classes, err = num()
		case "targets":
			s.Targets, err = num()
		case "frac":
			s.FracBits, err = num()
		default:
			return s, fmt.Errorf("schema %q: unknown key %q (kind, feature, features, classes, targets, frac)", text, k)
		}
		if err != nil {
			return s, err
		}
	}
	if !seen["frac"] && (s.Feature == dataset.FeatureFixed32 || s.Kind == dataset.KindRegression) {
		s.FracBits = 16
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("schema %q: %w", text, err)
	}
	return s, nil
}

// loadLabelled builds the dataset of a task that trains on an annotation
// job: the job's items (fetched and checked against their root like any
// dataset) with the labels the chain aggregated (dataset.WithLabels). Its
// root must be the task's: a requester cannot pass off other labels as the
// job's.
func (c *DatasetCache) loadLabelled(ctx context.Context, task taskstypes.Task) (*dataset.File, error) {
	ref := task.Dataset
	if c.Labels == nil {
		return nil, fmt.Errorf("task %d trains on annotation job %d, and this worker cannot read the chain's labels; refusing", task.Id, ref.AnnotationJob)
	}
	itemsRef, labels, err := c.Labels(ctx, ref.AnnotationJob)
	if err != nil {
		return nil, fmt.Errorf("task %d: %w; refusing", task.Id, err)
	}
	itemsTask := task
	itemsTask.Dataset = itemsRef
	itemsTask.Dataset.AnnotationJob = 0
	items, err := c.Get(ctx, itemsTask)
	if err != nil {
		return nil, err
	}
	f, err := dataset.WithLabels(items, labels)
	if err != nil {
		return nil, fmt.Errorf("task %d: annotation job %d: %w; refusing", task.Id, ref.AnnotationJob, err)
	}
	if !bytes.Equal(f.Root(), ref.Root) {
		return nil, fmt.Errorf("task %d: the items of annotation job %d with the chain's labels have root %X, the task says %X; refusing",
			task.Id, ref.AnnotationJob, f.Root(), ref.Root)
	}
	return f, CheckDataset(f, task.Id, ref)
}

// newChainDatasetCache is a cache that reads annotation labels from c.
func newChainDatasetCache(c *Client, dir string, log *slog.Logger) *DatasetCache {
	d := NewDatasetCache(dir, log)
	d.Labels = c.AnnotationLabels
	return d
}
