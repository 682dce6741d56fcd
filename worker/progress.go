package worker

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// TrainStatus is a snapshot of one training run.
type TrainStatus struct {
	Task       uint64
	Step       uint64 // steps done (resumed ones included)
	Total      uint64
	Checkpoint uint64 // checkpoints written after h_0
	Segments   uint64
	Loss       float64 // latest measured minibatch loss; < 0 before the first measurement
	StepsPerS  float64 // in this run (resumed steps excluded)
	ETA        time.Duration
}

// Progress shows training progress: on a terminal a bar redrawn in place
// (log lines written through Writer clear and redraw it), otherwise one
// structured log line every Interval and one at the last checkpoint.
type Progress struct {
	out      io.Writer
	tty      bool
	log      *slog.Logger
	Interval time.Duration

	mu       sync.Mutex
	bar      string
	lastDraw time.Time
	lastLog  time.Time
}

// NewProgress returns a progress reporter. out is where the bar goes; log
// gets the structured lines (use a logger writing through Writer so that
// both interleave cleanly on a terminal).
func NewProgress(out io.Writer, tty bool) *Progress {
	return &Progress{out: out, tty: tty, Interval: 5 * time.Second, log: slog.New(slog.DiscardHandler)}
}

// SetLogger sets the logger of the non-terminal lines.
func (p *Progress) SetLogger(l *slog.Logger) { p.log = l }

// Writer returns a writer for log output that keeps the bar intact.
func (p *Progress) Writer() io.Writer { return progressWriter{p} }

type progressWriter struct{ p *Progress }

func (w progressWriter) Write(b []byte) (int, error) {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.bar != "" {
		fmt.Fprint(p.out, "\r\033[K")
	}
	n, err := p.out.Write(b)
	if p.tty && p.bar != "" {
		fmt.Fprint(p.out, p.bar)
	}
	return n, err
}

// Update reports progress; it draws or logs at most every so often.
func (p *Progress) Update(s TrainStatus) {
	now := time.Now()
	if p.tty {
		p.mu.Lock()
		defer p.mu.Unlock()
		if now.Sub(p.lastDraw) < 100*time.Millisecond && s.Step < s.Total {
			return
		}
		p.lastDraw = now
		p.bar = renderBar(s)
		fmt.Fprint(p.out, "\r\033[K"+p.bar)
		return
	}
	p.mu.Lock()
	due := now.Sub(p.lastLog) >= p.Interval
	if due {
		p.lastLog = now
	}
	p.mu.Unlock()
	if due {
		p.logLine("training", s)
	}
}

// Checkpoint reports a checkpoint written: logged like Update, but always
// the last one.
func (p *Progress) Checkpoint(s TrainStatus) {
	if p.tty || s.Checkpoint < s.Segments {
		p.Update(s)
		return
	}
	p.logLine("checkpoint", s)
}

// Done ends the bar of a finished (or interrupted) run.
func (p *Progress) Done() {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != "" {
		fmt.Fprint(p.out, "\r\033[K"+p.bar+"\n")
		p.bar = ""
	}
}

func (p *Progress) logLine(msg string, s TrainStatus) {
	args := []any{"task", s.Task, "step", s.Step, "total", s.Total,
		"checkpoint", fmt.Sprintf("%d/%d", s.Checkpoint, s.Segments),
		"steps_per_s", fmt.Sprintf("%.0f", s.StepsPerS), "eta", s.ETA.Round(time.Second).String()}
	if s.Loss >= 0 {
		args = append(args, "loss", fmt.Sprintf("%.4f", s.Loss))
	}
	p.log.Info(msg, args...)
}

func renderBar(s TrainStatus) string {
	const width = 30
	filled := 0
	if s.Total > 0 {
		filled = int(s.Step * width / s.Total)
	}
	loss := "   -  "
	if s.Loss >= 0 {
		loss = fmt.Sprintf("%.4f", s.Loss)
	}
	return fmt.Sprintf("task %d [%s%s] %d/%d steps  loss %s  %.0f steps/s  ETA %s  ckpt %d/%d",
		s.Task, strings.Repeat("█", filled), strings.Repeat("░", width-filled), s.Step, s.Total,
		loss, s.StepsPerS, s.ETA.Round(time.Second), s.Checkpoint, s.Segments)
}

// trainReporter is the status of one training run, fed from two goroutines:
// the trainer reports the steps done, the checkpoint writer the loss points
// and the checkpoints written. With no Progress it does nothing.
type trainReporter struct {
	p     *Progress
	start time.Time
	from  uint64 // the step the run resumed at

	mu sync.Mutex
	s  TrainStatus
}

func newTrainReporter(p *Progress, s TrainStatus) *trainReporter {
	return &trainReporter{p: p, start: time.Now(), from: s.Step, s: s}
}

// snapshot returns the status with the rate and ETA of this run; r.mu is held.
func (r *trainReporter) snapshot() TrainStatus {
	s := r.s
	if el := time.Since(r.start).Seconds(); el > 0 && s.Step > r.from {
		s.StepsPerS = float64(s.Step-r.from) / el
		s.ETA = time.Duration(float64(s.Total-s.Step) / s.StepsPerS * float64(time.Second))
	}
	return s
}

// stepped reports that training reached step (training goroutine).
func (r *trainReporter) stepped(step uint64) {
	if r.p == nil {
		return
	}
	r.mu.Lock()
	r.s.Step = step
	s := r.snapshot()
	r.mu.Unlock()
	r.p.Update(s)
}

// measured reports a loss point (checkpoint writer).
func (r *trainReporter) measured(loss float64) {
	if r.p == nil {
		return
	}
	r.mu.Lock()
	r.s.Loss = loss
	r.mu.Unlock()
}

// checkpointed reports checkpoint h_i written (checkpoint writer).
func (r *trainReporter) checkpointed(i uint64) {
	if r.p == nil {
		return
	}
	r.mu.Lock()
	r.s.Checkpoint = i
	s := r.snapshot()
	r.mu.Unlock()
	r.p.Checkpoint(s)
}

// done ends the bar of a finished run.
func (r *trainReporter) done() {
	if r.p != nil {
		r.p.Done()
	}
}
