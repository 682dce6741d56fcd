package annotator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Record is one claimed batch as the annotator keeps it, in
// <work dir>/batches/<job>-<group>.json. It is written when the claim is in
// a block, and again, with the labels and the salt, before any seal is sent:
// a seal whose salt is not on disk is never broadcast, so a restart (or a
// crash at any point) loses nothing the opening needs.
type Record struct {
	Job   uint64   `json:"job"`
	Group uint32   `json:"group"`
	Items []uint32 `json:"items"` // in label order
	// ClaimTx is the claim's transaction ("" when the batch was found on
	// chain at start-up, its claim having landed before a crash).
	ClaimTx string    `json:"claim_tx,omitempty"`
	Claimed time.Time `json:"claimed"`
	// Seals is every (labels, salt) pair a seal was prepared for, in order.
	// Usually one; a seal retried after an error that hid whether the first
	// one landed adds another. The opening uses the pair whose seal is the
	// batch's seal on chain.
	Seals []Sealed `json:"seals,omitempty"`
	// Done: nothing is left to send for this batch (opened, or its job is
	// past the phase where anything could be).
	Done bool `json:"done,omitempty"`
	// OpenTx is the opening's transaction.
	OpenTx string `json:"open_tx,omitempty"`
}

// Sealed is one prepared seal: the labels (one byte per item, in the
// record's item order), the 32-byte salt and the seal they make
// (types.LabelsSeal), and the seal's transaction once it is in a block.
type Sealed struct {
	Labels []byte `json:"labels"`
	Salt   []byte `json:"salt"`
	Seal   []byte `json:"seal"`
	Tx     string `json:"tx,omitempty"`
}

// matching returns the prepared seal that is seal, if any.
func (r *Record) matching(seal []byte) *Sealed {
	for i := range r.Seals {
		if bytes.Equal(r.Seals[i].Seal, seal) {
			return &r.Seals[i]
		}
	}
	return nil
}

// Store keeps the records of one work dir (one annotator process per work
// dir: the lock is in-process).
type Store struct {
	dir string
	mu  sync.Mutex
}

// OpenStore creates <dir>/batches if needed.
func OpenStore(dir string) (*Store, error) {
	s := &Store{dir: filepath.Join(dir, "batches")}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) path(job uint64, group uint32) string {
	return filepath.Join(s.dir, fmt.Sprintf("%d-%d.json", job, group))
}

// Get reads one record; ok is false when there is none.
func (s *Store) Get(job uint64, group uint32) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(job, group)
}

func (s *Store) get(job uint64, group uint32) (Record, bool, error) {
	bz, err := os.ReadFile(s.path(job, group))
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	var r Record
	if err := json.Unmarshal(bz, &r); err != nil {
		return Record{}, false, fmt.Errorf("%s: %w", s.path(job, group), err)
	}
	if r.Job != job || r.Group != group {
		return Record{}, false, fmt.Errorf("%s holds job %d group %d", s.path(job, group), r.Job, r.Group)
	}
	return r, true, nil
}

// Put writes a record durably (see writeDurable).
func (s *Store) Put(r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.put(r)
}

func (s *Store) put(r Record) error {
	bz, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return writeDurable(s.path(r.Job, r.Group), bz)
}

// Update reads a record, applies fn and writes it back, under the store's
// lock; fn returning an error writes nothing.
func (s *Store) Update(job uint64, group uint32, fn func(*Record) error) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok, err := s.get(job, group)
	if err != nil {
		return Record{}, err
	}
	if !ok {
		return Record{}, fmt.Errorf("no batch of job %d group %d in %s", job, group, s.dir)
	}
	if err := fn(&r); err != nil {
		return Record{}, err
	}
	return r, s.put(r)
}

// List returns every record, by job then group.
func (s *Store) List() ([]Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, e := range entries {
		var job uint64
		var group uint32
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		if _, err := fmt.Sscanf(name, "%d-%d.json", &job, &group); err != nil {
			continue
		}
		r, ok, err := s.get(job, group)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Job != out[j].Job {
			return out[i].Job < out[j].Job
		}
		return out[i].Group < out[j].Group
	})
	return out, nil
}

// writeDurable writes a file through a temporary file in the same directory,
// synced, renamed into place, and the directory synced: after a crash or a
// power cut the file has its old content or the complete new one. Unlike the
// worker's checkpoints (recomputable, so written without fsync), a lost salt
// cannot be recomputed: the batch could not be opened and its stake would be
// forfeited.
func writeDurable(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
