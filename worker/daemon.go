package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// Config configures the worker daemon.
type Config struct {
	// WorkDir holds tasks/<id> (checkpoints, loss curve, reports),
	// datasets/ (downloaded datasets) and models/ (base models for LoRA).
	WorkDir string
	// ServeAddr is where checkpoints are served (host:port; port 0 picks one).
	ServeAddr string
	// PublicURI is the base URL others reach ServeAddr at; empty uses
	// http://<ServeAddr>. Transcripts carry PublicURI/tasks/<id>/checkpoints.
	PublicURI    string
	Policy       Policy
	PollInterval time.Duration
	LossEvery    uint64
	Forge        ForgePlan
	// MaxTrainShare refuses tasks whose estimated training time is more than
	// this share of the commit window (default 0.8).
	MaxTrainShare float64
	// Federated is the worker's part in federated jobs (off unless Enabled).
	Federated FederatedConfig
	Progress  *Progress
	Log       *slog.Logger
}

// Daemon is `hinterlandd worker start`: it claims tasks by policy, trains
// them with checkpoints, commits transcripts, answers every challenge with a
// self-checked reveal and serves its checkpoints through the fraud window.
// It follows CometBFT events and polls, and before every transaction checks
// the chain so that nothing is sent twice.
type Daemon struct {
	c    *Client
	cfg  Config
	log  *slog.Logger
	me   string
	data *DatasetCache
	uri  string // public base URL of the checkpoint server

	trigger chan string

	mu       sync.Mutex
	jobs     map[uint64]*trainJob // by task id; only looked up or counted
	refused  map[uint64]refusal
	sent     map[string]time.Time // reveals sent and commits failed recently, by "task/segment" and "commit/task"
	last     map[uint64]string    // last logged state per task
	finished map[uint64]bool      // report written
	fed      *fedState
	wg       sync.WaitGroup
}

type trainJob struct {
	dir      *TaskDir
	job      engine.Job
	cancel   context.CancelFunc
	done     chan struct{}
	res      *TrainResult
	err      error
	failedAt time.Time
}

type refusal struct {
	until time.Time
	why   string
}

// refuseFor is how long a refused task is left alone before it is looked at
// again (its dataset may be fixed, the worker's balance topped up).
const refuseFor = 2 * time.Minute

// NewDaemon checks the configuration.
func NewDaemon(c *Client, cfg Config) (*Daemon, error) {
	if cfg.WorkDir == "" {
		return nil, errors.New("worker: work dir is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.MaxTrainShare <= 0 {
		cfg.MaxTrainShare = 0.8
	}
	if cfg.Policy.MaxConcurrent <= 0 {
		cfg.Policy.MaxConcurrent = 1
	}
	if err := cfg.Forge.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	for _, sub := range []string{"tasks", "datasets", "models", "federated"} {
		if err := os.MkdirAll(filepath.Join(cfg.WorkDir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	return &Daemon{
		c: c, cfg: cfg, log: cfg.Log, me: c.Address(),
		data:     newChainDatasetCache(c, filepath.Join(cfg.WorkDir, "datasets"), cfg.Log),
		trigger:  make(chan string, 1),
		jobs:     make(map[uint64]*trainJob),
		refused:  make(map[uint64]refusal),
		sent:     make(map[string]time.Time),
		last:     make(map[uint64]string),
		finished: make(map[uint64]bool),
		fed:      newFedState(),
	}, nil
}

func (d *Daemon) tasksDir() string  { return filepath.Join(d.cfg.WorkDir, "tasks") }
func (d *Daemon) modelsDir() string { return filepath.Join(d.cfg.WorkDir, "models") }

// poke asks for a reconciliation soon (never blocks).
func (d *Daemon) poke(reason string) {
	select {
	case d.trigger <- reason:
	default:
	}
}

// Run works until ctx ends; then it stops training between two steps
// (checkpoints are kept for the next start) and stops serving.
func (d *Daemon) Run(ctx context.Context) error {
	srv := &CheckpointServer{Root: d.tasksDir(), FederatedRoot: d.fedDir(), Address: d.me, Log: d.log}
	if err := srv.Listen(d.cfg.ServeAddr); err != nil {
		return err
	}
	d.uri = strings.TrimSuffix(d.cfg.PublicURI, "/")
	if d.uri == "" {
		if host, _, _ := net.SplitHostPort(srv.Addr()); net.ParseIP(host).IsUnspecified() {
			srv.Close()
			return fmt.Errorf("checkpoints are served on all interfaces (%s): give --public-uri, the URL others reach them at", srv.Addr())
		}
		d.uri = "http://" + srv.Addr()
	}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ctx) }()
	d.log.Info("worker started", "address", d.me, "chain_id", d.c.ChainID(), "work_dir", d.cfg.WorkDir,
		"checkpoints", d.uri, "max_concurrent", d.cfg.Policy.MaxConcurrent)
	// Say which accepted denoms the policy declines, once, rather than only
	// per task.
	if tp, err := d.c.TasksParams(ctx); err == nil && d.cfg.Policy.MinRewardPerMAC != nil {
		for _, denom := range tp.AcceptedDenomNames() {
			if _, ok := d.cfg.Policy.MinRewardPerMAC[denom]; !ok {
				d.log.Info("tasks paid in this accepted denom are declined: --min-reward-per-mac does not price it", "denom", denom)
			}
		}
	}
	if d.cfg.Forge.Active() {
		d.log.Warn("FORGING: this worker corrupts segment results on purpose (tests and demos only) and will be slashed",
			"segments", d.cfg.Forge.Segments, "fraction", d.cfg.Forge.Fraction)
	}
	go Subscribe(ctx, d.c.Context().NodeURI,
		[]string{TxEvents(evTaskPosted), TxEvents(evSegmentsChallenged), TxEvents(evTaskReopened), TxEvents(evClaimsClosed)},
		[]string{evSegmentsChallenged, evTaskReopened, evTranscriptFailed, evClaimsClosed}, d.poke, d.log)
	if d.cfg.Federated.Enabled {
		// A second connection: CometBFT allows five subscriptions a client.
		go Subscribe(ctx, d.c.Context().NodeURI,
			[]string{FederatedTxEvents(evRoundPhase), FederatedTxEvents(evUpdateVerdict), FederatedTxEvents(evChunkChallenged)},
			[]string{evRoundPhase, evUpdateVerdict, evAggregateFailed}, d.poke, d.log)
		d.log.Info("taking part in federated jobs", "jobs", d.cfg.Federated.Jobs, "watch", d.cfg.Federated.Watch)
		if len(d.cfg.Federated.ForgeRounds) > 0 {
			d.log.Warn("FORGING: this worker corrupts its federated updates on purpose (tests and demos only) and will be slashed",
				"rounds", d.cfg.Federated.ForgeRounds)
		}
	}

	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	for {
		d.reconcile(ctx)
		select {
		case <-ctx.Done():
			d.wg.Wait()
			if d.cfg.Progress != nil {
				d.cfg.Progress.Done()
			}
			d.log.Info("worker stopped")
			return <-srvDone
		case <-tick.C:
		case <-d.trigger:
		}
	}
}

// reconcile brings the worker in line with the chain: answer challenges,
// commit finished training, (re)start training of active claims, write
// reports of settled tasks, then claim new tasks while there is room.
func (d *Daemon) reconcile(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if d.cfg.Federated.Enabled {
		d.reconcileFederated(ctx)
	}
	mine, err := d.c.ListTasks(ctx, taskstypes.QueryTasksRequest{Worker: d.me})
	if err != nil {
		d.log.Warn("cannot list my tasks; will retry", "err", err)
		return
	}
	params, err := d.c.VerificationParams(ctx)
	if err != nil {
		d.log.Warn("cannot read verification params; will retry", "err", err)
		return
	}
	active := 0
	claimed := make(map[uint64]bool, len(mine))
	for _, t := range mine {
		claimed[t.Id] = true
		if d.isFinished(t.Id) {
			continue
		}
		a, err := d.c.Assignment(ctx, t.Id, d.me)
		if err != nil || a == nil {
			if err != nil {
				d.log.Warn("cannot read my claim", "task", t.Id, "err", err)
			}
			continue
		}
		switch a.Status {
		case taskstypes.ASSIGNMENT_STATUS_ACTIVE:
			active++
			d.handleActive(ctx, t, *a)
		case taskstypes.ASSIGNMENT_STATUS_COMMITTED:
			d.handleCommitted(ctx, t, params)
		case taskstypes.ASSIGNMENT_STATUS_VERIFIED, taskstypes.ASSIGNMENT_STATUS_FAILED,
			taskstypes.ASSIGNMENT_STATUS_ABANDONED, taskstypes.ASSIGNMENT_STATUS_UNTRAINABLE:
			d.handleSettled(ctx, t, *a)
		}
	}
	if active < d.cfg.Policy.MaxConcurrent {
		d.claimNew(ctx, params, claimed, d.cfg.Policy.MaxConcurrent-active)
	}
}

func (d *Daemon) isFinished(id uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.finished[id]
}

// note logs a task's state once per change.
func (d *Daemon) note(id uint64, state string, level slog.Level, msg string, args ...any) {
	d.mu.Lock()
	changed := d.last[id] != state
	d.last[id] = state
	d.mu.Unlock()
	if changed {
		d.log.Log(context.Background(), level, msg, append([]any{"task", id}, args...)...)
	}
}

// ---------------------------------------------------------------------------
// Training and commit.
// ---------------------------------------------------------------------------

func (d *Daemon) handleActive(ctx context.Context, t taskstypes.Task, a taskstypes.Assignment) {
	if !time.Now().Before(a.CommitDeadline) {
		d.note(t.Id, "deadline", slog.LevelWarn, "commit deadline has passed; the chain will slash this claim", "deadline", a.CommitDeadline)
		return
	}
	d.mu.Lock()
	j := d.jobs[t.Id]
	d.mu.Unlock()
	if j == nil {
		if err := d.startTraining(ctx, t); err != nil {
			d.note(t.Id, "start-error: "+err.Error(), slog.LevelWarn, "cannot start training; will retry", "err", err)
		}
		return
	}
	select {
	case <-j.done:
	default:
		return // still training
	}
	if j.err != nil {
		if ctx.Err() != nil {
			return
		}
		if errors.Is(j.err, engine.ErrTrainingFailed) {
			// Deterministic: every machine fails here. Prove it instead of
			// losing the bond: seal the checkpoints up to the failing
			// segment as an engine-failure transcript.
			s, err := failureTranscript(j.dir, j.job, t)
			if err != nil {
				d.note(t.Id, "failure-proof-error: "+err.Error(), slog.LevelError, "the engine cannot train this task and the failure cannot be proven; abandon the claim (tx tasks abandon-claim) to lose only the abandon fee", "train_err", j.err, "err", err)
				return
			}
			s.URI = d.uri + CheckpointsPath(t.Id)
			d.note(t.Id, "untrainable", slog.LevelWarn, "the engine cannot train this task; sealing a proof of the failure", "err", j.err, "segment", len(s.Checkpoints)-1)
			d.seal(ctx, t, j.dir, s)
			return
		}
		d.note(t.Id, "train-error: "+j.err.Error(), slog.LevelError, "training failed; will resume from the last checkpoint", "err", j.err)
		if time.Since(j.failedAt) > 30*time.Second {
			d.mu.Lock()
			delete(d.jobs, t.Id)
			d.mu.Unlock()
		}
		return
	}
	d.commit(ctx, t, j)
}

// startTraining fetches and checks the dataset and trains in the background
// from the last checkpoint on disk.
func (d *Daemon) startTraining(ctx context.Context, t taskstypes.Task) error {
	f, err := d.data.Get(ctx, t)
	if err != nil {
		return err
	}
	job, err := taskstypes.EngineJob(t)
	if err != nil {
		return err
	}
	if _, err := LoadBase(d.modelsDir(), t, &job); err != nil {
		return err
	}
	src, err := f.Source(job.Spec.FracBits)
	if err != nil {
		return err
	}
	dir, err := OpenTaskDir(d.tasksDir(), t)
	if err != nil {
		return err
	}
	jctx, cancel := context.WithCancel(ctx)
	j := &trainJob{dir: dir, job: job, cancel: cancel, done: make(chan struct{})}
	d.mu.Lock()
	d.jobs[t.Id] = j
	d.mu.Unlock()
	macs, _ := TrainingMACs(t)
	d.log.Info("training", "task", t.Id, "model", t.Spec.Model, "steps", t.Spec.TotalSteps,
		"segments", t.Spec.Segments(), "macs", macs, "dir", dir.Path)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(j.done)
		defer cancel()
		j.res, j.err = Train(jctx, TrainConfig{Dir: dir, Job: job, Rows: src, LossEvery: d.cfg.LossEvery,
			Forge: d.cfg.Forge, Progress: d.cfg.Progress, Log: d.log})
		if j.err != nil {
			j.failedAt = time.Now()
			return
		}
		r := j.res
		d.log.Info("training done", "task", t.Id, "steps", r.Steps, "resumed_checkpoints", r.Resumed,
			"seconds", fmt.Sprintf("%.1f", r.Elapsed.Seconds()), "final_model", r.FinalModelHash.String())
		if len(r.Forged) > 0 {
			d.log.Warn("FORGED segments", "task", t.Id, "segments", r.Forged)
		}
		if err := dir.PlotLoss(r.Loss); err != nil {
			d.log.Warn("cannot plot the loss curve", "task", t.Id, "err", err)
		}
		// The result is stored where a later task can name it as its base:
		// a dense model, or a LoRA result on a dense base (a stacked base).
		if !job.Spec.IsLoRA() {
			if m, err := r.Final.Model(nil); err == nil {
				if _, err := WriteModel(d.modelsDir(), m); err != nil {
					d.log.Warn("cannot store the final model", "task", t.Id, "err", err)
				}
			}
		} else if job.BaseHash == (engine.Hash{}) {
			if _, err := WriteStackedBase(d.modelsDir(), job.Base, r.Final); err != nil {
				d.log.Warn("cannot store the final model", "task", t.Id, "err", err)
			}
		}
		d.poke("training done")
	}()
	return nil
}

// retryAfter is how long a failed commit waits before it is sent again.
const retryAfter = 30 * time.Second

func (d *Daemon) commit(ctx context.Context, t taskstypes.Task, j *trainJob) {
	cps := make([][]byte, len(j.res.Checkpoints))
	for i, h := range j.res.Checkpoints {
		cps[i] = append([]byte(nil), h[:]...)
	}
	d.seal(ctx, t, j.dir, sealedTranscript{Checkpoints: cps, URI: d.uri + CheckpointsPath(t.Id),
		FinalModelHash: j.res.FinalModelHash[:], FinalOptHash: j.res.FinalOptHash[:]})
}

func (d *Daemon) recordTx(dir *TaskDir, kind string, segment *uint32, res *TxResult) {
	if res == nil || dir == nil {
		return
	}
	if err := dir.AppendTx(res.Record(kind, segment)); err != nil {
		d.log.Warn("cannot record tx", "task", dir.Task.Id, "err", err)
	}
}

// ---------------------------------------------------------------------------
// Challenges and reveals.
// ---------------------------------------------------------------------------

func (d *Daemon) handleCommitted(ctx context.Context, t taskstypes.Task, params vtypes.Params) {
	tr, err := d.c.Transcript(ctx, t.Id, d.me)
	if err != nil || tr == nil {
		if err != nil {
			d.log.Warn("cannot read my transcript", "task", t.Id, "err", err)
		}
		return
	}
	if tr.Status == vtypes.TRANSCRIPT_STATUS_SEALED {
		d.open(ctx, t, tr)
		return
	}
	if dir, err := OpenTaskDir(d.tasksDir(), t); err == nil && !dir.Opened() {
		_ = dir.MarkOpened() // opened on chain (perhaps before a restart)
	}
	switch tr.Status {
	case vtypes.TRANSCRIPT_STATUS_CHALLENGED:
		d.note(t.Id, "challenged", slog.LevelInfo, "segments sampled; revealing", "sampled", tr.Sampled)
	case vtypes.TRANSCRIPT_STATUS_PASSED:
		d.note(t.Id, "passed", slog.LevelInfo, "every sampled segment verified; fraud window open, serving checkpoints",
			"verified", tr.Verified, "fraud_window_end", tr.FraudWindowEnd.Format(time.RFC3339))
	}
	chs, err := d.c.Challenges(ctx, t.Id, d.me)
	if err != nil {
		d.log.Warn("cannot read challenges", "task", t.Id, "err", err)
		return
	}
	for _, ch := range chs {
		if ch.Status != vtypes.CHALLENGE_STATUS_PENDING || slices.Contains(tr.Verified, ch.Segment) {
			continue
		}
		if !time.Now().Before(ch.Deadline) {
			d.note(t.Id, fmt.Sprintf("late-%d", ch.Segment), slog.LevelError, "reveal deadline passed", "segment", ch.Segment)
			continue
		}
		key := fmt.Sprintf("%d/%d", t.Id, ch.Segment)
		d.mu.Lock()
		recent := time.Since(d.sent[key]) < time.Minute
		d.mu.Unlock()
		if recent {
			continue
		}
		if err := d.reveal(ctx, t, *tr, ch, params); err != nil {
			d.log.Error("reveal failed; will retry before the deadline", "task", t.Id, "segment", ch.Segment,
				"kind", ch.Kind, "err", err)
			continue
		}
		d.mu.Lock()
		d.sent[key] = time.Now()
		d.mu.Unlock()
	}
}

func (d *Daemon) reveal(ctx context.Context, t taskstypes.Task, tr vtypes.Transcript, ch vtypes.Challenge, params vtypes.Params) error {
	dir, err := OpenTaskDir(d.tasksDir(), t)
	if err != nil {
		return err
	}
	start, err := dir.ReadCheckpoint(uint64(ch.Segment))
	if err != nil {
		return fmt.Errorf("checkpoint %d: %w", ch.Segment, err)
	}
	f, err := d.data.Get(ctx, t)
	if err != nil {
		return err
	}
	var base []byte
	if t.Spec.LoraRank > 0 {
		b, err := ReadBase(d.modelsDir(), t.Spec.BaseModelHash)
		if err != nil {
			return err
		}
		base = b.Encoding
	}
	msg, rc, err := BuildReveal(d.me, t, tr.Checkpoints, ch.Segment, start, f, base, params)
	if err != nil {
		return err
	}
	// The chain may have moved on while the reveal was built.
	chs, err := d.c.Challenges(ctx, t.Id, d.me)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(chs, func(c vtypes.Challenge) bool { return c.Segment == ch.Segment }); i < 0 || chs[i].Status != vtypes.CHALLENGE_STATUS_PENDING {
		return nil
	}
	d.log.Info("revealing segment", "task", t.Id, "segment", ch.Segment, "kind", ch.Kind, "rows", len(msg.Rows),
		"bytes", msg.Size(), "macs", rc.Cost.MACs)
	res, err := d.c.Submit(ctx, msg)
	seg := ch.Segment
	d.recordTx(dir, "reveal", &seg, res)
	if err != nil {
		return err
	}
	switch {
	case hasEvent(res, evSegmentVerified):
		d.log.Info("segment verified by the chain", "task", t.Id, "segment", ch.Segment, "tx", res.Hash, "gas_used", res.GasUsed)
	case hasEvent(res, evTranscriptFailed):
		d.log.Error("segment MISMATCH: the chain recomputed a different checkpoint; transcript failed",
			"task", t.Id, "segment", ch.Segment, "tx", res.Hash)
	}
	return nil
}

func hasEvent(res *TxResult, typ string) bool {
	for _, e := range res.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Settled tasks.
// ---------------------------------------------------------------------------

func (d *Daemon) handleSettled(ctx context.Context, t taskstypes.Task, a taskstypes.Assignment) {
	tr, err := d.c.Transcript(ctx, t.Id, d.me)
	if err != nil {
		return
	}
	d.mu.Lock()
	j := d.jobs[t.Id]
	delete(d.jobs, t.Id)
	d.finished[t.Id] = true
	d.mu.Unlock()
	if j != nil {
		j.cancel() // a failed claim may still be training: stop it
		<-j.done
	}
	if a.Status == taskstypes.ASSIGNMENT_STATUS_VERIFIED {
		d.log.Info("task verified and paid", "task", t.Id, "macs_total", trMACs(tr), "macs_verified", trVerified(tr))
	} else {
		d.log.Warn("claim failed and was slashed", "task", t.Id, "reason", a.Failure)
	}
	path := filepath.Join(d.tasksDir(), fmt.Sprint(t.Id))
	if _, err := os.Stat(path); err != nil {
		return // never trained here (e.g. failed before training started)
	}
	dir, err := LoadTaskDir(path)
	if err != nil || dir.Task.Id != t.Id || !bytes.Equal(dir.Task.Seed, t.Seed) {
		return
	}
	r, err := dir.BuildReport(d.me, a, tr)
	if err == nil {
		err = dir.WriteJSON("report.json", r)
	}
	if err != nil {
		d.log.Warn("cannot write report.json", "task", t.Id, "err", err)
	}
}

func trMACs(tr *vtypes.Transcript) uint64 {
	if tr == nil {
		return 0
	}
	return tr.MacsTotal
}

func trVerified(tr *vtypes.Transcript) uint64 {
	if tr == nil {
		return 0
	}
	return tr.MacsVerified
}

// ---------------------------------------------------------------------------
// Claiming.
// ---------------------------------------------------------------------------

func (d *Daemon) claimNew(ctx context.Context, params vtypes.Params, claimed map[uint64]bool, room int) {
	open, err := d.c.ListTasks(ctx, taskstypes.QueryTasksRequest{Status: taskstypes.TASK_STATUS_OPEN})
	if err != nil {
		d.log.Warn("cannot list open tasks", "err", err)
		return
	}
	type cand struct {
		t   taskstypes.Task
		rpm float64
	}
	var cands []cand
	now := time.Now()
	for _, t := range open {
		if claimed[t.Id] || t.Poster == d.me || !now.Before(t.ClaimDeadline) {
			continue
		}
		d.mu.Lock()
		r, refused := d.refused[t.Id]
		d.mu.Unlock()
		if refused && now.Before(r.until) {
			continue
		}
		if err := d.cfg.Policy.Check(t); err != nil {
			d.refuse(t.Id, fmt.Sprintf("policy: %s", err), slog.LevelInfo)
			continue
		}
		rpm, _ := RewardPerMAC(t)
		f, _ := rpm.Float64()
		cands = append(cands, cand{t, f})
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		switch {
		case a.rpm > b.rpm:
			return -1
		case a.rpm < b.rpm:
			return 1
		}
		return int(a.t.Id) - int(b.t.Id)
	})
	for _, c := range cands {
		if room == 0 || ctx.Err() != nil {
			return
		}
		if err := d.feasible(ctx, c.t, params); err != nil {
			d.refuse(c.t.Id, err.Error(), slog.LevelWarn)
			continue
		}
		if d.claim(ctx, c.t) {
			room--
		}
	}
}

func (d *Daemon) refuse(id uint64, why string, level slog.Level) {
	d.mu.Lock()
	prev := d.refused[id]
	d.refused[id] = refusal{until: time.Now().Add(refuseFor), why: why}
	d.mu.Unlock()
	if prev.why != why {
		d.log.Log(context.Background(), level, "not claiming task", "task", id, "reason", why)
	}
}

// feasible checks, before any bond is locked, that the worker can do the
// task: its dataset is fetched and matches the task, its reveals fit the
// chain's limits, training fits the commit window and the balance covers
// the bond and the fees.
func (d *Daemon) feasible(ctx context.Context, t taskstypes.Task, params vtypes.Params) error {
	job, err := taskstypes.EngineJob(t)
	if err != nil {
		return err
	}
	if _, err := LoadBase(d.modelsDir(), t, &job); err != nil {
		return err
	}
	// The chain refuses such tasks at post; params may have changed since.
	cost, err := recompute.WorstSegmentCost(t.Spec, t.Dataset)
	if err != nil {
		return err
	}
	if err := cost.Check(params); err != nil {
		return fmt.Errorf("its reveals would be refused: %w", err)
	}
	f, err := d.data.Get(ctx, t)
	if err != nil {
		return err
	}
	// Time a few steps to estimate the training time.
	src, err := f.Source(job.Spec.FracBits)
	if err != nil {
		return err
	}
	init, err := engine.NewInitialState(job)
	if err != nil {
		return err
	}
	probe := min(t.Spec.TotalSteps, 4)
	began := time.Now()
	if _, _, err := engine.RunSegment(job, init, src, probe); err != nil {
		return fmt.Errorf("the engine cannot train this task: %w", err)
	}
	est := time.Duration(float64(time.Since(began)) * float64(t.Spec.TotalSteps) / float64(probe) * 1.1)
	if limit := time.Duration(float64(t.CommitWindow) * d.cfg.MaxTrainShare); est > limit {
		return fmt.Errorf("training would take about %s here, more than %.0f%% of the %s commit window", est.Round(time.Second), d.cfg.MaxTrainShare*100, t.CommitWindow)
	}
	// Bond plus fees for the claim, the commit and every sampled reveal.
	revealGas := cost.Gas(params, cost.MaxRows*(cost.ProofDepth+1)) + params.GasPerRevealByte*cost.RevealBytes
	fees := d.c.Fee(uint64(float64(uint64(t.Samples+1)*revealGas+1_000_000) * d.c.cfg.GasAdjustment))
	need := t.Bond.Amount.Add(fees.AmountOf(t.Bond.Denom))
	bal, err := d.c.Balance(ctx, d.me, t.Bond.Denom)
	if err != nil {
		return err
	}
	if bal.Amount.LT(need) {
		return fmt.Errorf("balance %s is below the bond %s plus about %s in fees", bal, t.Bond, fees)
	}
	return nil
}

// claim locks the bond on a task after checking it is still open and not
// already claimed by this worker, then starts training.
func (d *Daemon) claim(ctx context.Context, t taskstypes.Task) bool {
	cur, err := d.c.Task(ctx, t.Id)
	if err != nil || cur.Status != taskstypes.TASK_STATUS_OPEN {
		return false
	}
	if a, err := d.c.Assignment(ctx, t.Id, d.me); err != nil || a != nil {
		return false
	}
	rpm, _ := RewardPerMAC(t)
	d.log.Info("claiming task", "task", t.Id, "reward", t.Reward, "bond", t.Bond, "reward_per_mac", rpm.String())
	res, err := d.c.Submit(ctx, &taskstypes.MsgClaimTask{Worker: d.me, TaskId: t.Id})
	if err != nil {
		d.log.Warn("claim failed", "task", t.Id, "err", err)
		return false
	}
	d.log.Info("task claimed", "task", t.Id, "tx", res.Hash, "height", res.Height, "gas_used", res.GasUsed)
	dir, err := OpenTaskDir(d.tasksDir(), cur)
	if err == nil {
		d.recordTx(dir, "claim", nil, res)
	}
	if err := d.startTraining(ctx, cur); err != nil {
		d.log.Error("cannot start training; will retry", "task", t.Id, "err", err)
	}
	return true
}
