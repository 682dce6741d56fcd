package worker

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// TaskDir is the work directory of one claimed task, under <work-dir>/tasks/<id>:
//
//	task.json          the task as the chain returned it (proto JSON)
//	ckpt/NNNNNN.state  the canonical engine encoding of the state at h_N
//	checkpoints.log    "i h_i" per checkpoint written so far
//	loss.csv, loss.png the training loss curve
//	txs.jsonl          every transaction the worker sent for the task
//	report.json        the outcome, once the transcript is final or failed
//
// Files are replaced atomically (temporary file + rename) or appended to
// (the logs, whose torn last line is dropped on reading), so a worker killed
// at any moment finds consistent content.
type TaskDir struct {
	Path string
	Task taskstypes.Task
}

// taskCodec encodes tasks as proto JSON (tasks hold no Any values).
var taskCodec = codec.NewProtoCodec(codectypes.NewInterfaceRegistry())

// OpenTaskDir opens (or creates) the work directory of a task under root. A
// directory left by a different task with the same id (another chain, or a
// chain restarted from genesis) is moved aside, never deleted.
func OpenTaskDir(root string, task taskstypes.Task) (*TaskDir, error) {
	path := filepath.Join(root, strconv.FormatUint(task.Id, 10))
	if old, err := LoadTaskDir(path); err == nil {
		if sameJob(old.Task, task) {
			return &TaskDir{Path: path, Task: task}, nil
		}
		aside := fmt.Sprintf("%s.stale-%d", path, time.Now().Unix())
		if err := os.Rename(path, aside); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("task %d work dir %s: %w (move it away to start over)", task.Id, path, err)
	}
	if err := os.MkdirAll(filepath.Join(path, "ckpt"), 0o755); err != nil {
		return nil, err
	}
	bz, err := taskCodec.MarshalJSON(&task)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(path, "task.json"), bz); err != nil {
		return nil, err
	}
	return &TaskDir{Path: path, Task: task}, nil
}

// LoadTaskDir opens an existing task work directory.
func LoadTaskDir(path string) (*TaskDir, error) {
	bz, err := os.ReadFile(filepath.Join(path, "task.json"))
	if err != nil {
		return nil, err
	}
	var t taskstypes.Task
	if err := taskCodec.UnmarshalJSON(bz, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(path, "task.json"), err)
	}
	return &TaskDir{Path: path, Task: t}, nil
}

// sameJob reports whether two tasks describe the same training run.
func sameJob(a, b taskstypes.Task) bool {
	return a.Id == b.Id && bytes.Equal(a.Seed, b.Seed) && bytes.Equal(a.SpecHash, b.SpecHash) &&
		bytes.Equal(a.Dataset.Root, b.Dataset.Root) && a.Spec.TotalSteps == b.Spec.TotalSteps &&
		a.Spec.SegmentSteps == b.Spec.SegmentSteps
}

// CheckpointPath is the file holding the state at h_i.
func (d *TaskDir) CheckpointPath(i uint64) string {
	return filepath.Join(d.Path, "ckpt", fmt.Sprintf("%06d.state", i))
}

// ReadCheckpoint returns the state encoding at h_i.
func (d *TaskDir) ReadCheckpoint(i uint64) ([]byte, error) { return os.ReadFile(d.CheckpointPath(i)) }

// checkpointLog is the file recording h_0, h_1, ...: one line "i hex(h_i)"
// per checkpoint, appended after the state file is in place. Appending costs
// far less than replacing a file per checkpoint; a torn last line (killed
// mid-append) fails to parse and is dropped on resume like a bad checkpoint.
const checkpointLog = "checkpoints.log"

// WriteCheckpoint stores the state at h_i, then records h_i. A crash between
// the two leaves an unrecorded state file that resuming ignores.
func (d *TaskDir) WriteCheckpoint(i uint64, encoded []byte, h engine.Hash) error {
	if err := writeFileAtomic(d.CheckpointPath(i), encoded); err != nil {
		return err
	}
	return appendFile(filepath.Join(d.Path, checkpointLog), fmt.Sprintf("%d %s\n", i, h))
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// hasCheckpoints reports whether a checkpoint log exists (a fresh run has
// none and need not hash its initial state to check it).
func (d *TaskDir) hasCheckpoints() bool {
	_, err := os.Stat(filepath.Join(d.Path, checkpointLog))
	return !errors.Is(err, fs.ErrNotExist)
}

// LoadCheckpoints returns the checkpoints that survive checking, for
// resuming: each recorded state file must decode as a state of the spec, be
// at the step its index implies and hash to the recorded h_i, and h_0 must be
// the task's initial state. The first checkpoint that fails ends the list;
// it and everything after it are discarded (and recomputed by the trainer).
// It returns the hashes and the last good state (nil if there is none).
func (d *TaskDir) LoadCheckpoints(job engine.Job, h0 engine.Hash) ([]engine.Hash, *engine.State, error) {
	bz, err := os.ReadFile(filepath.Join(d.Path, checkpointLog))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(bz), "\n"), "\n")
	var (
		hashes []engine.Hash
		last   *engine.State
	)
	for i, line := range lines {
		idx, hx, ok := strings.Cut(line, " ")
		want, err := hex.DecodeString(hx)
		if !ok || idx != strconv.Itoa(i) || err != nil || len(want) != len(engine.Hash{}) {
			break
		}
		if i == 0 && !bytes.Equal(want, h0[:]) {
			break
		}
		b, err := d.ReadCheckpoint(uint64(i))
		if err != nil {
			break
		}
		st, err := engine.DecodeState(job.Spec, b)
		if err != nil || st.Step != checkpointStep(d.Task.Spec, uint64(i)) {
			break
		}
		h := st.Hash()
		if !bytes.Equal(h[:], want) {
			break
		}
		hashes, last = append(hashes, h), st
	}
	if len(hashes) < len(lines) || !strings.HasSuffix(string(bz), "\n") {
		if err := d.discardFrom(uint64(len(hashes)), hashes); err != nil {
			return nil, nil, err
		}
	}
	return hashes, last, nil
}

// discardFrom removes the checkpoint files from index i on and rewrites the
// log with the hashes kept.
func (d *TaskDir) discardFrom(i uint64, keep []engine.Hash) error {
	entries, err := os.ReadDir(filepath.Join(d.Path, "ckpt"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		n, err := strconv.ParseUint(strings.TrimSuffix(e.Name(), ".state"), 10, 64)
		if err == nil && n >= i {
			if err := os.Remove(filepath.Join(d.Path, "ckpt", e.Name())); err != nil {
				return err
			}
		}
	}
	var b strings.Builder
	for j, h := range keep {
		fmt.Fprintf(&b, "%d %s\n", j, h)
	}
	return writeFileAtomic(filepath.Join(d.Path, checkpointLog), []byte(b.String()))
}

// checkpointStep is the step counter of the state at h_i.
func checkpointStep(s taskstypes.TrainingSpec, i uint64) uint64 {
	return min(i*s.SegmentSteps, s.TotalSteps)
}

// LossPoint is one point of the loss curve: the mean loss of the minibatch
// of step Step-1, measured after that step's update (at Step 0: the initial
// model on the first minibatch).
type LossPoint struct {
	Step uint64
	Loss float64
}

const lossFile = "loss.csv"

func lossLines(points []LossPoint) string {
	var b strings.Builder
	for _, p := range points {
		fmt.Fprintf(&b, "%d,%.6f\n", p.Step, p.Loss)
	}
	return b.String()
}

// ResetLoss replaces loss.csv with the given points.
func (d *TaskDir) ResetLoss(points []LossPoint) error {
	return writeFileAtomic(filepath.Join(d.Path, lossFile), []byte("step,loss\n"+lossLines(points)))
}

// AppendLoss appends points to loss.csv.
func (d *TaskDir) AppendLoss(points []LossPoint) error {
	if len(points) == 0 {
		return nil
	}
	return appendFile(filepath.Join(d.Path, lossFile), lossLines(points))
}

// ReadLoss reads loss.csv, keeping the points up to step maxStep.
func (d *TaskDir) ReadLoss(maxStep uint64) ([]LossPoint, error) {
	f, err := os.Open(filepath.Join(d.Path, lossFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []LossPoint
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s, l, ok := strings.Cut(sc.Text(), ",")
		if !ok {
			continue
		}
		step, err1 := strconv.ParseUint(s, 10, 64)
		loss, err2 := strconv.ParseFloat(l, 64)
		if err1 != nil || err2 != nil || step > maxStep {
			continue
		}
		out = append(out, LossPoint{Step: step, Loss: loss})
	}
	return out, sc.Err()
}

// TxRecord is one line of txs.jsonl.
type TxRecord struct {
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Segment   *uint32   `json:"segment,omitempty"`
	Hash      string    `json:"hash"`
	Height    int64     `json:"height"`
	Code      uint32    `json:"code"`
	GasWanted int64     `json:"gas_wanted"`
	GasUsed   int64     `json:"gas_used"`
	Fee       string    `json:"fee"`
	Log       string    `json:"log,omitempty"`
}

// AppendTx appends a record to txs.jsonl.
func (d *TaskDir) AppendTx(r TxRecord) error {
	bz, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return appendFile(filepath.Join(d.Path, "txs.jsonl"), string(bz)+"\n")
}

// ReadTxs reads txs.jsonl.
func (d *TaskDir) ReadTxs() ([]TxRecord, error) {
	bz, err := os.ReadFile(filepath.Join(d.Path, "txs.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []TxRecord
	for _, line := range bytes.Split(bz, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r TxRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("txs.jsonl: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// WriteJSON replaces a JSON file of the directory.
func (d *TaskDir) WriteJSON(name string, v any) error {
	bz, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(d.Path, name), append(bz, '\n'))
}
