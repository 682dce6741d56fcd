package worker

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// PlotLoss writes the loss curve of a task as loss.png in its work dir.
func (d *TaskDir) PlotLoss(points []LossPoint) error {
	if len(points) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("task %d: %s %s, %d steps", d.Task.Id, d.Task.Spec.Model, d.Task.Spec.Objective, d.Task.Spec.TotalSteps)
	p.X.Label.Text = "step"
	p.Y.Label.Text = "minibatch loss"
	raw := make(plotter.XYs, len(points))
	smooth := make(plotter.XYs, len(points))
	// Each point is one minibatch, so the curve is noisy: the mean over the
	// points within lossWindow/2 on either side shows the trend.
	const lossWindow = 10
	for i, pt := range points {
		raw[i].X, raw[i].Y = float64(pt.Step), pt.Loss
		lo, hi := max(0, i-lossWindow/2), min(len(points), i+lossWindow/2+1)
		var sum float64
		for _, q := range points[lo:hi] {
			sum += q.Loss
		}
		smooth[i].X, smooth[i].Y = float64(pt.Step), sum/float64(hi-lo)
	}
	rawLine, err := plotter.NewLine(raw)
	if err != nil {
		return err
	}
	rawLine.Color = color.Gray{Y: 170}
	smoothLine, err := plotter.NewLine(smooth)
	if err != nil {
		return err
	}
	smoothLine.Width = vg.Points(2)
	smoothLine.Color = color.RGBA{R: 20, G: 80, B: 200, A: 255}
	p.Add(plotter.NewGrid(), rawLine, smoothLine)
	p.Legend.Add("minibatch", rawLine)
	p.Legend.Add(fmt.Sprintf("mean of %d", lossWindow+1), smoothLine)
	p.Legend.Top = true
	wt, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(d.Path, "loss.png"), func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
}

// FinalState reads the last checkpoint of a finished run and checks it
// against the recorded hashes.
func (d *TaskDir) FinalState(job engine.Job) (*engine.State, error) {
	init, err := engine.NewInitialState(job)
	if err != nil {
		return nil, err
	}
	hashes, last, err := d.LoadCheckpoints(job, init.Hash())
	if err != nil {
		return nil, err
	}
	if n := d.Task.Spec.Segments(); uint64(len(hashes)) != n+1 {
		return nil, fmt.Errorf("task %d: %d of %d checkpoints in %s; training has not finished", d.Task.Id, max(len(hashes), 1)-1, n, d.Path)
	}
	return last, nil
}

// Evaluate runs the final model of a task's work dir on every row of a
// dataset (e.g. a held-out test set) with the task's objective.
func (d *TaskDir) Evaluate(f *dataset.File, base *Base) (engine.EvalResult, error) {
	job, err := taskstypes.EngineJob(d.Task)
	if err != nil {
		return engine.EvalResult{}, err
	}
	if base != nil {
		base.Apply(&job)
	}
	if err := f.Schema().Compatible(job.Spec); err != nil {
		return engine.EvalResult{}, fmt.Errorf("evaluation dataset: %w", err)
	}
	st, err := d.FinalState(job)
	if err != nil {
		return engine.EvalResult{}, err
	}
	src, err := f.Source(job.Spec.FracBits)
	if err != nil {
		return engine.EvalResult{}, err
	}
	idx := make([]uint64, f.Len())
	for i := range idx {
		idx[i] = uint64(i)
	}
	return engine.Evaluate(job, st, src, idx)
}

// Report is report.json: the outcome of a task for this worker.
type Report struct {
	TaskID         uint64   `json:"task_id"`
	Worker         string   `json:"worker"`
	Assignment     string   `json:"assignment"`
	Transcript     string   `json:"transcript"`
	Failure        string   `json:"failure,omitempty"`
	FinalModelHash string   `json:"final_model_hash,omitempty"`
	Segments       uint64   `json:"segments"`
	Sampled        []uint32 `json:"sampled,omitempty"`
	Verified       []uint32 `json:"verified,omitempty"`
	MACsTotal      uint64   `json:"macs_total"`
	MACsVerified   uint64   `json:"macs_verified"`
	Txs            int      `json:"txs"`
	GasUsed        int64    `json:"gas_used"`
	Fees           string   `json:"fees"`
}

// BuildReport summarises a task's outcome from the chain's records and the
// work dir's transaction log.
func (d *TaskDir) BuildReport(worker string, a taskstypes.Assignment, tr *vtypes.Transcript) (Report, error) {
	r := Report{TaskID: d.Task.Id, Worker: worker, Assignment: a.Status.String(), Failure: a.Failure,
		Segments: d.Task.Spec.Segments()}
	if tr != nil {
		r.Transcript = tr.Status.String()
		r.FinalModelHash = hex.EncodeToString(tr.FinalModelHash)
		r.Sampled, r.Verified = tr.Sampled, tr.Verified
		r.MACsTotal, r.MACsVerified = tr.MacsTotal, tr.MacsVerified
		if tr.Failure != "" {
			r.Failure = tr.Failure
		}
	}
	txs, err := d.ReadTxs()
	if err != nil {
		return r, err
	}
	var fees sdk.Coins
	for _, t := range txs {
		r.Txs++
		r.GasUsed += t.GasUsed
		if c, err := sdk.ParseCoinsNormalized(t.Fee); err == nil {
			fees = fees.Add(c...)
		}
	}
	r.Fees = fees.String()
	return r, nil
}

// WriteModel stores a dense model as <dir>/<model hash>.model (engine model
// encoding), where LoRA tasks look up their base models.
func WriteModel(dir string, m *engine.Model) (string, error) {
	h := m.Hash()
	path := filepath.Join(dir, hex.EncodeToString(h[:])+".model")
	return path, writeFileAtomic(path, m.Encode())
}

// ReadModel loads the model with the given hash from dir and checks its
// hash: a dense model, or for a stacked base (a LoRA result on its dense
// base, WriteStackedBase) the merged weights.
func ReadModel(dir string, hash []byte) (*engine.Model, error) {
	b, err := ReadBase(dir, hash)
	if err != nil {
		return nil, err
	}
	return b.Model, nil
}

// Base is a LoRA task's frozen base as the worker holds it.
type Base struct {
	Model    *engine.Model // the weights (merged, for a stacked base)
	ID       engine.Hash   // the model hash the task names
	Encoding []byte        // what a reveal carries: the dense model or the stacked base
}

// ReadBase loads the base with the given hash from <dir>/<hash>.model.
func ReadBase(dir string, hash []byte) (*Base, error) {
	path := filepath.Join(dir, hex.EncodeToString(hash)+".model")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("base model %X: %w (put its engine encoding in %s)", hash, err, dir)
	}
	m, id, _, err := engine.DecodeBase(b)
	if err != nil {
		return nil, fmt.Errorf("base model %s: %w", path, err)
	}
	if !bytes.Equal(id[:], hash) {
		return nil, fmt.Errorf("base model %s hashes to %X, want %X", path, id[:], hash)
	}
	return &Base{Model: m, ID: id, Encoding: b}, nil
}

// Apply makes b the base of job.
func (b *Base) Apply(job *engine.Job) {
	job.Base = b.Model
	if b.Model.Hash() != b.ID {
		job.BaseHash = b.ID
	}
}

// LoadBase reads the base a LoRA task names and applies it to job; it
// returns nil for a task that trains from scratch.
func LoadBase(dir string, t taskstypes.Task, job *engine.Job) (*Base, error) {
	if t.Spec.LoraRank == 0 {
		return nil, nil
	}
	b, err := ReadBase(dir, t.Spec.BaseModelHash)
	if err != nil {
		return nil, err
	}
	if (t.Spec.BaseLoraRank > 0) != (b.Model.Hash() != b.ID) {
		return nil, fmt.Errorf("base model %X: task %d wants a %s base", t.Spec.BaseModelHash, t.Id, map[bool]string{true: "stacked", false: "dense"}[t.Spec.BaseLoraRank > 0])
	}
	b.Apply(job)
	return b, nil
}

// WriteStackedBase stores a LoRA result on its dense base as
// <dir>/<result model hash>.model (engine.EncodeStackedBase), so that a
// later task (DPO alignment of the fine-tune) can name it as its base.
func WriteStackedBase(dir string, dense *engine.Model, result *engine.State) (string, error) {
	enc, err := engine.EncodeStackedBase(dense, result)
	if err != nil {
		return "", err
	}
	h := result.ModelHash()
	path := filepath.Join(dir, hex.EncodeToString(h[:])+".model")
	return path, writeFileAtomic(path, enc)
}

// Export returns the effective dense model of a finished task: its final
// parameters, merged with the base for LoRA (work dir models in dir).
func (d *TaskDir) Export(dir string) (*engine.Model, error) {
	job, err := taskstypes.EngineJob(d.Task)
	if err != nil {
		return nil, err
	}
	base, err := LoadBase(dir, d.Task, &job)
	if err != nil {
		return nil, err
	}
	st, err := d.FinalState(job)
	if err != nil {
		return nil, err
	}
	if base == nil {
		return st.Model(nil)
	}
	return st.ModelOn(base.Model, base.ID)
}
