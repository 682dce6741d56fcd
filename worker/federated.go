package worker

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// FederatedConfig is the worker's part in federated jobs (x/federated):
// with Enabled, the daemon joins the rounds of running jobs besides
// claiming tasks. In each round it joins (locking the bond) once it holds
// the round's global model and its data, trains its local steps from the
// global model with checkpoints exactly like a task, seals the transcript,
// opens it when training closes, reveals the segments the chain samples,
// and, when it is the round's aggregator (or any accepted participant may
// aggregate), computes FedAvg of the accepted updates, commits its root and
// reveals every drawn or challenged chunk. Before every transaction it reads
// the chain, so a restart repeats nothing.
type FederatedConfig struct {
	Enabled bool
	// Jobs limits the jobs joined to these ids; empty joins any.
	Jobs []uint64
	// Shard is the public shard trained while it is free; nil (or a taken
	// shard) takes the lowest free shard.
	Shard *uint32
	// Data is this worker's own packed dataset, for bring-your-own-data
	// jobs (shards = 0); without it such jobs are not joined.
	Data string
	// ForgeRounds make the worker forge its update in these rounds, for
	// tests and demos: every segment's result is corrupted
	// (ForgePlan{Fraction: 1}), so whichever segments the chain samples,
	// the first reveal mismatches and the update is rejected and slashed.
	ForgeRounds []uint32
	// Watch recomputes the committed aggregate of every round in its fraud
	// window from the accepted updates, and challenges a chunk where the
	// committed aggregate differs.
	Watch bool
}

// fedKey names one round of one job.
type fedKey struct {
	job   uint64
	round uint32
}

// fedState is the daemon's federated bookkeeping.
type fedState struct {
	mu      sync.Mutex
	train   map[fedKey]*trainJob       // local training, by round
	updates map[fedKey][]*engine.State // accepted updates' final models (aggregation order), by round
	logged  map[fedKey]bool            // round outcome reported
	watched map[string]bool            // aggregates checked, by job/round/hash
	last    map[string]string          // last logged state, by key
	joined  map[uint64]bool            // jobs this worker took part in
	own     *dataset.File              // FederatedConfig.Data, opened once
	ownRef  *taskstypes.DatasetRef
}

func newFedState() *fedState {
	return &fedState{
		train:   make(map[fedKey]*trainJob),
		updates: make(map[fedKey][]*engine.State),
		logged:  make(map[fedKey]bool),
		watched: make(map[string]bool),
		last:    make(map[string]string),
		joined:  make(map[uint64]bool),
	}
}

func (d *Daemon) fedDir() string { return filepath.Join(d.cfg.WorkDir, "federated") }

// fedRetry is how long a failed federated transaction waits before it is
// sent again: round windows are short.
const fedRetry = 5 * time.Second

// sentWithin reports whether key was marked within dur.
func (d *Daemon) sentWithin(key string, dur time.Duration) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Since(d.sent[key]) < dur
}

// fnote logs a round's state once per change.
func (d *Daemon) fnote(job uint64, round uint32, what, state string, level slog.Level, msg string, args ...any) {
	key := fmt.Sprintf("%d/%d/%s", job, round, what)
	d.fed.mu.Lock()
	changed := d.fed.last[key] != state
	d.fed.last[key] = state
	d.fed.mu.Unlock()
	if changed {
		d.log.Log(context.Background(), level, msg, append([]any{"job", job, "round", round}, args...)...)
	}
}

// reconcileFederated brings the worker in line with every running job it
// follows, then reports the end of the jobs it took part in.
func (d *Daemon) reconcileFederated(ctx context.Context) {
	jobs, err := d.c.FederatedJobs(ctx, fedtypes.JOB_STATUS_RUNNING)
	if err != nil {
		d.log.Warn("cannot list federated jobs; will retry", "err", err)
		return
	}
	running := make(map[uint64]bool, len(jobs))
	for _, job := range jobs {
		if ctx.Err() != nil {
			return
		}
		if !d.followsJob(job) {
			continue
		}
		running[job.Id] = true
		d.fedJob(ctx, job)
	}
	d.fed.mu.Lock()
	var ended []uint64
	for id := range d.fed.joined {
		if !running[id] {
			ended = append(ended, id)
		}
	}
	d.fed.mu.Unlock()
	slices.Sort(ended)
	for _, id := range ended {
		d.fedJobEnded(ctx, id)
	}
}

// followsJob applies --federated-jobs and the policy.
func (d *Daemon) followsJob(job fedtypes.FederatedJob) bool {
	if len(d.cfg.Federated.Jobs) > 0 && !slices.Contains(d.cfg.Federated.Jobs, job.Id) {
		return false
	}
	if job.Requester == d.me {
		return false
	}
	if err := d.cfg.Policy.CheckFederated(job); err != nil {
		d.fnote(job.Id, job.CurrentRound, "policy", err.Error(), slog.LevelInfo, "not joining federated job", "reason", err)
		return false
	}
	if job.Shards == 0 && d.cfg.Federated.Data == "" {
		d.fnote(job.Id, job.CurrentRound, "policy", "byod", slog.LevelInfo,
			"not joining federated job: participants bring their own data and --federated-data is not given")
		return false
	}
	return true
}

// fedJob handles the current round of a job.
func (d *Daemon) fedJob(ctx context.Context, job fedtypes.FederatedJob) {
	r, err := d.c.FederatedRound(ctx, job.Id, job.CurrentRound)
	if err != nil {
		d.log.Warn("cannot read the round", "job", job.Id, "err", err)
		return
	}
	us, err := d.c.FederatedUpdates(ctx, job.Id, r.Round)
	if err != nil {
		d.log.Warn("cannot read the round's updates", "job", job.Id, "round", r.Round, "err", err)
		return
	}
	d.fedForget(job.Id, r.Round)
	if r.Round > 0 {
		d.fedRoundOutcome(ctx, job, r.Round-1)
	}
	mine := findUpdate(us, d.me)
	if mine != nil {
		d.fed.mu.Lock()
		d.fed.joined[job.Id] = true
		d.fed.mu.Unlock()
		d.fedVerdict(job, *mine)
	}
	switch r.Phase {
	case fedtypes.ROUND_PHASE_TRAINING:
		if mine == nil {
			d.fedJoin(ctx, job, r, us)
		} else if mine.Status == fedtypes.UPDATE_STATUS_JOINED {
			d.fedTrain(ctx, job, r, *mine)
		}
	case fedtypes.ROUND_PHASE_OPENING, fedtypes.ROUND_PHASE_REVEALING:
		switch {
		case mine == nil:
		case mine.Status == fedtypes.UPDATE_STATUS_SEALED && r.Phase == fedtypes.ROUND_PHASE_OPENING:
			d.fedOpen(ctx, job, r, *mine)
		case mine.Status == fedtypes.UPDATE_STATUS_OPENED:
			d.fedReveal(ctx, job, r, *mine)
		}
	case fedtypes.ROUND_PHASE_AGGREGATING:
		d.fedAggregate(ctx, job, r, us, mine)
	case fedtypes.ROUND_PHASE_CHUNKS, fedtypes.ROUND_PHASE_FRAUD_WINDOW:
		if r.Aggregate.Committer == d.me {
			d.fedRevealChunks(ctx, job, r, us)
		} else if d.cfg.Federated.Watch && r.Phase == fedtypes.ROUND_PHASE_FRAUD_WINDOW {
			d.fedWatch(ctx, job, r, us)
		}
	}
}

func findUpdate(us []fedtypes.Update, addr string) *fedtypes.Update {
	for i := range us {
		if us[i].Participant == addr {
			return &us[i]
		}
	}
	return nil
}

// fedForget stops local training of rounds before the current one (the
// chain closed them: the update is a straggler) and drops cached models of
// rounds before the previous one.
func (d *Daemon) fedForget(jobID uint64, current uint32) {
	d.fed.mu.Lock()
	var stale []*trainJob
	for k, j := range d.fed.train {
		if k.job == jobID && k.round < current {
			stale = append(stale, j)
			delete(d.fed.train, k)
		}
	}
	for k := range d.fed.updates {
		if k.job == jobID && k.round+1 < current {
			delete(d.fed.updates, k)
		}
	}
	d.fed.mu.Unlock()
	for _, j := range stale {
		j.cancel()
	}
}

// fedVerdict reports the chain's verdict on this worker's update once.
func (d *Daemon) fedVerdict(job fedtypes.FederatedJob, u fedtypes.Update) {
	switch u.Status {
	case fedtypes.UPDATE_STATUS_ACCEPTED:
		d.fnote(job.Id, u.Round, "verdict", u.Status.String(), slog.LevelInfo,
			"federated update ACCEPTED: every sampled segment recomputed to the committed checkpoint", "sampled", u.Sampled)
	case fedtypes.UPDATE_STATUS_REJECTED:
		d.fnote(job.Id, u.Round, "verdict", u.Status.String(), slog.LevelError,
			"federated update REJECTED and its bond slashed", "reason", u.Reason, "bond", u.Bond)
	case fedtypes.UPDATE_STATUS_STRAGGLER:
		d.fnote(job.Id, u.Round, "verdict", u.Status.String(), slog.LevelError,
			"federated update counted as a straggler and its bond slashed", "reason", u.Reason, "bond", u.Bond)
	case fedtypes.UPDATE_STATUS_EXCLUDED:
		d.fnote(job.Id, u.Round, "verdict", u.Status.String(), slog.LevelWarn, "federated update excluded: the round failed", "reason", u.Reason)
	}
	if u.Status == fedtypes.UPDATE_STATUS_OPENED || u.Status == fedtypes.UPDATE_STATUS_ACCEPTED {
		// Opened on chain (perhaps before a restart): serve it.
		if dir, err := LoadTaskDir(roundDir(d.fedDir(), job.Id, u.Round)); err == nil && !dir.Opened() {
			_ = dir.MarkOpened()
		}
	}
}

// ---------------------------------------------------------------------------
// Inputs of a round: the global model, the data, the engine job.
// ---------------------------------------------------------------------------

// fedRun is what local training and reveals of one update need.
type fedRun struct {
	work  recompute.Work // the chain's view (seed, rows, offset)
	job   engine.Job     // work.Job with the base model of a LoRA job
	file  *dataset.File  // the update's dataset (proofs name its indices)
	rows  engine.RowSource
	start *engine.State // h_0: the round's global model at step 0
}

// fedInputs gathers the inputs of an update (joined, or about to join).
func (d *Daemon) fedInputs(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, u fedtypes.Update) (*fedRun, error) {
	w, err := UpdateWork(job, u)
	if err != nil {
		return nil, err
	}
	in := &fedRun{work: w, job: w.Job}
	if in.job.Spec.IsLoRA() {
		if in.job.Base, err = ReadModel(d.modelsDir(), job.Spec.BaseModelHash); err != nil {
			return nil, err
		}
	}
	if in.file, err = d.fedData(ctx, job, u.Dataset); err != nil {
		return nil, err
	}
	src, err := in.file.Source(in.job.Spec.FracBits)
	if err != nil {
		return nil, err
	}
	in.rows = federated.ShardRows{Src: src, Offset: u.RowOffset}
	if in.start, err = d.fedStart(ctx, job, r); err != nil {
		return nil, err
	}
	return in, nil
}

// fedData returns the dataset an update trains: the job's public dataset
// (fetched and checked against its root), or this worker's own.
func (d *Daemon) fedData(ctx context.Context, job fedtypes.FederatedJob, ref taskstypes.DatasetRef) (*dataset.File, error) {
	if job.Shards > 0 {
		return d.data.Get(ctx, taskstypes.Task{Id: job.Id, Dataset: ref})
	}
	f, own, err := d.ownData(job)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(own.Root, ref.Root) {
		return nil, fmt.Errorf("federated job %d: the update trains dataset %X, --federated-data is %X", job.Id, ref.Root, own.Root)
	}
	return f, nil
}

// ownData opens --federated-data once and checks it fits the job.
func (d *Daemon) ownData(job fedtypes.FederatedJob) (*dataset.File, taskstypes.DatasetRef, error) {
	d.fed.mu.Lock()
	defer d.fed.mu.Unlock()
	if d.fed.own == nil {
		f, err := dataset.Open(d.cfg.Federated.Data)
		if err != nil {
			return nil, taskstypes.DatasetRef{}, fmt.Errorf("--federated-data: %w", err)
		}
		abs, _ := filepath.Abs(d.cfg.Federated.Data)
		d.fed.own = f
		d.fed.ownRef = &taskstypes.DatasetRef{Root: f.Root(), Rows: f.Len(), Schema: taskstypes.FromDatasetSchema(f.Schema()), Uri: "file://" + abs}
	}
	if d.fed.ownRef.Schema != job.Dataset.Schema {
		return nil, taskstypes.DatasetRef{}, fmt.Errorf("federated job %d wants rows of schema %v, --federated-data has %v", job.Id, job.Dataset.Schema, d.fed.ownRef.Schema)
	}
	return d.fed.own, *d.fed.ownRef, nil
}

// stateLimit bounds a fetched model or state of a spec.
func stateLimit(es engine.Spec) int64 { return int64(engine.EncodedStateSize(es)) + 4096 }

// fedStart returns the start state of a round (its global model at step
// 0 with a fresh optimiser), checked against the round's hashes. The model
// comes from this worker's store, the job's seed (round 0), the job's
// initial model URI, the previous round's aggregator, or, failing that, is
// recomputed from the previous round's accepted updates.
func (d *Daemon) fedStart(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round) (*engine.State, error) {
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return nil, err
	}
	var base engine.Hash
	copy(base[:], job.Spec.BaseModelHash)
	st, err := LoadGlobal(d.fedDir(), job.Id, es, r.StartModelHash)
	if err != nil {
		params, err := d.fetchGlobal(ctx, job, r, es)
		if err != nil {
			return nil, fmt.Errorf("federated job %d round %d: global model %X: %w", job.Id, r.Round, r.StartModelHash, err)
		}
		if st, err = engine.StateFromParams(es, base, params); err != nil {
			return nil, err
		}
		if h := st.ModelHash(); !bytes.Equal(h[:], r.StartModelHash) {
			return nil, fmt.Errorf("federated job %d round %d: global model is %s, the round starts at %X", job.Id, r.Round, h, r.StartModelHash)
		}
		if err := saveGlobal(d.fedDir(), job.Id, st); err != nil {
			return nil, err
		}
	}
	if h := st.Hash(); !bytes.Equal(h[:], r.StartStateHash) {
		return nil, fmt.Errorf("federated job %d round %d: start state %s, the chain says %X", job.Id, r.Round, h, r.StartStateHash)
	}
	return st, nil
}

func (d *Daemon) fetchGlobal(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, es engine.Spec) ([]int32, error) {
	if r.Round == 0 {
		if len(job.InitialModelHash) == 0 {
			var seed [32]byte
			copy(seed[:], job.Seed)
			ej := engine.Job{Spec: es, Seed: seed, RowCount: 1}
			if es.IsLoRA() {
				var err error
				if ej.Base, err = ReadModel(d.modelsDir(), job.Spec.BaseModelHash); err != nil {
					return nil, err
				}
			}
			st, err := engine.NewInitialState(ej)
			if err != nil {
				return nil, err
			}
			return st.Params(), nil
		}
		b, err := Fetch(ctx, job.InitialModelUri, stateLimit(es))
		if err != nil {
			return nil, err
		}
		return ModelParams(es, b, job.InitialModelHash)
	}
	prev, err := d.c.FederatedRound(ctx, job.Id, r.Round-1)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(prev.Aggregate.ModelHash, r.StartModelHash) {
		return nil, fmt.Errorf("round %d's aggregate %X is not round %d's start", prev.Round, prev.Aggregate.ModelHash, r.Round)
	}
	if st, err := loadState(filepath.Join(roundDir(d.fedDir(), job.Id, prev.Round), aggregateFile), es, r.StartModelHash); err == nil {
		return st.Params(), nil
	}
	b, err := Fetch(ctx, prev.Aggregate.Uri, stateLimit(es))
	if err == nil {
		p, perr := ModelParams(es, b, r.StartModelHash)
		if perr == nil {
			return p, nil
		}
		err = perr
	}
	d.log.Warn("the aggregator does not serve round's aggregate; recomputing it from the accepted updates",
		"job", job.Id, "round", prev.Round, "uri", prev.Aggregate.Uri, "err", err)
	us, err := d.c.FederatedUpdates(ctx, job.Id, prev.Round)
	if err != nil {
		return nil, err
	}
	agg, _, err := d.recomputeAggregate(ctx, job, prev.Round, us)
	if err != nil {
		return nil, err
	}
	return agg.Params(), nil
}

// updateStates returns the final models of a round's accepted updates (in
// that order) as states at step 0, this worker's own from its checkpoint,
// the others' fetched from their URIs; each checked against its committed
// final model hash. They are kept in memory for the round's chunk reveals.
func (d *Daemon) updateStates(ctx context.Context, job fedtypes.FederatedJob, round uint32, acc []fedtypes.Update) ([]*engine.State, error) {
	k := fedKey{job.Id, round}
	d.fed.mu.Lock()
	cached := d.fed.updates[k]
	d.fed.mu.Unlock()
	if len(cached) == len(acc) {
		ok := true
		for i, st := range cached {
			h := st.ModelHash()
			ok = ok && bytes.Equal(h[:], acc[i].FinalModelHash)
		}
		if ok {
			return cached, nil
		}
	}
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return nil, err
	}
	var base engine.Hash
	copy(base[:], job.Spec.BaseModelHash)
	out := make([]*engine.State, len(acc))
	for i, u := range acc {
		var b []byte
		if u.Participant == d.me {
			dir, err := LoadTaskDir(roundDir(d.fedDir(), job.Id, round))
			if err != nil {
				return nil, err
			}
			b, err = dir.ReadCheckpoint(job.Spec.Segments())
			if err != nil {
				return nil, fmt.Errorf("own final checkpoint: %w", err)
			}
		} else if b, err = Fetch(ctx, u.Uri+"/model", stateLimit(es)); err != nil {
			return nil, fmt.Errorf("final model of %s: %w", u.Participant, err)
		}
		params, err := ModelParams(es, b, u.FinalModelHash)
		if err != nil {
			return nil, fmt.Errorf("final model of %s: %w", u.Participant, err)
		}
		if out[i], err = engine.StateFromParams(es, base, params); err != nil {
			return nil, err
		}
	}
	d.fed.mu.Lock()
	d.fed.updates[k] = out
	d.fed.mu.Unlock()
	return out, nil
}

// recomputeAggregate is FedAvg of a round's accepted updates.
func (d *Daemon) recomputeAggregate(ctx context.Context, job fedtypes.FederatedJob, round uint32, us []fedtypes.Update) (*engine.State, []fedtypes.Update, error) {
	acc, err := AcceptedUpdates(us)
	if err != nil {
		return nil, nil, err
	}
	states, err := d.updateStates(ctx, job, round, acc)
	if err != nil {
		return nil, nil, err
	}
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return nil, nil, err
	}
	var base engine.Hash
	copy(base[:], job.Spec.BaseModelHash)
	agg, err := AggregateStates(es, base, UpdateWeights(acc), states)
	return agg, acc, err
}

// ---------------------------------------------------------------------------
// Join, train, seal, open, reveal.
// ---------------------------------------------------------------------------

// pickShard returns the preferred shard when it is free, else the lowest
// free one.
func pickShard(shards uint32, us []fedtypes.Update, preferred *uint32) (uint32, bool) {
	taken := make(map[uint32]bool, len(us))
	for _, u := range us {
		taken[u.Shard] = true
	}
	if preferred != nil && *preferred < shards && !taken[*preferred] {
		return *preferred, true
	}
	for s := range shards {
		if !taken[s] {
			return s, true
		}
	}
	return 0, false
}

// fedJoin locks a bond in the round once the worker holds the round's
// global model and its data, and its local training fits the deadline.
func (d *Daemon) fedJoin(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, us []fedtypes.Update) {
	key := fmt.Sprintf("fed-join/%d/%d", job.Id, r.Round)
	if d.sentWithin(key, fedRetry) || !time.Now().Before(r.Deadline) || r.Joined >= job.MaxParticipants {
		return
	}
	msg := &fedtypes.MsgJoinRound{Participant: d.me, JobId: job.Id, Round: r.Round}
	u := fedtypes.Update{JobId: job.Id, Round: r.Round, Participant: d.me, Dataset: job.Dataset}
	if job.Shards > 0 {
		shard, ok := pickShard(job.Shards, us, d.cfg.Federated.Shard)
		if !ok {
			d.fnote(job.Id, r.Round, "join", "full", slog.LevelInfo, "every shard of the round is taken")
			return
		}
		lo, hi, err := federated.ShardRange(job.Dataset.Rows, job.Shards, shard)
		if err != nil {
			d.log.Warn("shard", "job", job.Id, "err", err)
			return
		}
		msg.Shard, u.Shard, u.RowOffset, u.Examples = shard, shard, lo, hi-lo
	} else {
		_, own, err := d.ownData(job)
		if err != nil {
			d.fnote(job.Id, r.Round, "join", err.Error(), slog.LevelWarn, "not joining", "err", err)
			return
		}
		msg.Dataset, u.Dataset, u.Examples = own, own, own.Rows
	}
	in, err := d.fedInputs(ctx, job, r, u)
	if err == nil {
		err = d.fedFeasible(ctx, job, r, in)
	}
	if err != nil {
		d.markSent(key)
		d.fnote(job.Id, r.Round, "join", err.Error(), slog.LevelWarn, "not joining the round", "reason", err)
		return
	}
	res, err := d.c.Submit(ctx, msg)
	if err != nil {
		d.markSent(key)
		d.fnote(job.Id, r.Round, "join", "error: "+err.Error(), slog.LevelWarn, "join failed; will retry", "err", err)
		return
	}
	d.fed.mu.Lock()
	d.fed.joined[job.Id] = true
	d.fed.mu.Unlock()
	d.log.Info("joined federated round", "job", job.Id, "round", r.Round, "shard", msg.Shard,
		"rows", fmt.Sprintf("[%d, %d)", u.RowOffset, u.RowOffset+u.Examples), "local_steps", job.Spec.TotalSteps,
		"bond", job.Bond, "tx", res.Hash, "height", res.Height)
	d.poke("joined")
}

// fedFeasible estimates the local training time from a few steps and
// checks it fits the time left before the train deadline, and that the
// balance covers the bond.
func (d *Daemon) fedFeasible(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, in *fedRun) error {
	probe := min(job.Spec.TotalSteps, 4)
	began := time.Now()
	if _, _, err := engine.RunSegment(in.job, in.start, in.rows, probe); err != nil {
		return fmt.Errorf("the engine cannot train this round: %w", err)
	}
	est := time.Duration(float64(time.Since(began)) * float64(job.Spec.TotalSteps) / float64(probe) * 1.1)
	if left := time.Until(r.Deadline); est > time.Duration(float64(left)*d.cfg.MaxTrainShare) {
		return fmt.Errorf("local training would take about %s here; %s is left before the train deadline", est.Round(time.Second), left.Round(time.Second))
	}
	bal, err := d.c.Balance(ctx, d.me, job.Bond.Denom)
	if err != nil {
		return err
	}
	if bal.Amount.LT(job.Bond.Amount) {
		return fmt.Errorf("balance %s is below the bond %s", bal, job.Bond)
	}
	return nil
}

// fedTrain starts (or resumes) local training of a joined round and seals
// it once done.
func (d *Daemon) fedTrain(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, u fedtypes.Update) {
	k := fedKey{job.Id, r.Round}
	d.fed.mu.Lock()
	j := d.fed.train[k]
	d.fed.mu.Unlock()
	if j == nil {
		if !time.Now().Before(r.Deadline) {
			d.fnote(job.Id, r.Round, "train", "late", slog.LevelWarn, "the train deadline has passed; the chain will count this update as a straggler")
			return
		}
		if err := d.fedStartTraining(ctx, job, r, u); err != nil {
			d.fnote(job.Id, r.Round, "train", "start-error: "+err.Error(), slog.LevelWarn, "cannot start local training; will retry", "err", err)
		}
		return
	}
	select {
	case <-j.done:
	default:
		return
	}
	if j.err != nil {
		if ctx.Err() != nil {
			return
		}
		d.fnote(job.Id, r.Round, "train", "error: "+j.err.Error(), slog.LevelError, "local training failed; will resume from the last checkpoint", "err", j.err)
		if time.Since(j.failedAt) > fedRetry {
			d.fed.mu.Lock()
			delete(d.fed.train, k)
			d.fed.mu.Unlock()
		}
		return
	}
	d.fedSeal(ctx, job, r, j)
}

func (d *Daemon) fedStartTraining(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, u fedtypes.Update) error {
	in, err := d.fedInputs(ctx, job, r, u)
	if err != nil {
		return err
	}
	dir, err := OpenTaskDir(jobDir(d.fedDir(), job.Id), roundTask(job, r, in.work.Job.Seed, u.Dataset))
	if err != nil {
		return err
	}
	var forge ForgePlan
	if slices.Contains(d.cfg.Federated.ForgeRounds, r.Round) {
		forge = ForgePlan{Fraction: 1}
	}
	jctx, cancel := context.WithCancel(ctx)
	j := &trainJob{dir: dir, job: in.job, cancel: cancel, done: make(chan struct{})}
	d.fed.mu.Lock()
	d.fed.train[fedKey{job.Id, r.Round}] = j
	d.fed.mu.Unlock()
	d.log.Info("federated local training", "job", job.Id, "round", r.Round, "steps", job.Spec.TotalSteps,
		"segments", job.Spec.Segments(), "rows", u.Examples, "start_model", fmt.Sprintf("%X", r.StartModelHash), "dir", dir.Path)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(j.done)
		defer cancel()
		j.res, j.err = Train(jctx, TrainConfig{Dir: dir, Job: in.job, Rows: in.rows, Start: in.start,
			LossEvery: d.cfg.LossEvery, Forge: forge, Log: d.log})
		if j.err != nil {
			j.failedAt = time.Now()
			return
		}
		res := j.res
		d.log.Info("federated local training done", "job", job.Id, "round", r.Round, "steps", res.Steps,
			"seconds", fmt.Sprintf("%.1f", res.Elapsed.Seconds()), "mean_loss", fmt.Sprintf("%.4f", meanLoss(res.Loss)),
			"final_model", res.FinalModelHash.String())
		if len(res.Forged) > 0 {
			d.log.Warn("FORGED federated update: every segment's result corrupted (tests and demos only); the chain will reject it and slash the bond",
				"job", job.Id, "round", r.Round, "segments", len(res.Forged))
		}
		d.poke("federated training done")
	}()
	return nil
}

// meanLoss is the mean of the loss points after step 0 (all of them for a
// curve with only the initial point).
func meanLoss(points []LossPoint) float64 {
	var sum float64
	var n int
	for _, p := range points {
		if p.Step > 0 {
			sum += p.Loss
			n++
		}
	}
	if n == 0 {
		for _, p := range points {
			sum += p.Loss
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// reportedLoss is the mean local loss of a round in the spec's fixed point,
// as MsgOpenUpdate reports it (read from loss.csv, so a restart reports the
// same).
func reportedLoss(dir *TaskDir) int64 {
	points, err := dir.ReadLoss(dir.Task.Spec.TotalSteps)
	if err != nil {
		return 0
	}
	return int64(math.Round(meanLoss(points) * float64(uint64(1)<<dir.Task.Spec.FracBits)))
}

// myUpdate reads this worker's update of a round from the chain.
func (d *Daemon) myUpdate(ctx context.Context, jobID uint64, round uint32) (*fedtypes.Update, error) {
	us, err := d.c.FederatedUpdates(ctx, jobID, round)
	if err != nil {
		return nil, err
	}
	return findUpdate(us, d.me), nil
}

// fedSeal seals a finished local training. The salt and the transcript are
// stored (sealed.json) before the seal is sent.
func (d *Daemon) fedSeal(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, j *trainJob) {
	key := fmt.Sprintf("fed-seal/%d/%d", job.Id, r.Round)
	if d.sentWithin(key, fedRetry) {
		return
	}
	if u, err := d.myUpdate(ctx, job.Id, r.Round); err != nil || u == nil || u.Status != fedtypes.UPDATE_STATUS_JOINED {
		return
	}
	me, err := sdk.AccAddressFromBech32(d.me)
	if err != nil {
		d.log.Error("own address", "err", err)
		return
	}
	cps := make([][]byte, len(j.res.Checkpoints))
	for i, h := range j.res.Checkpoints {
		cps[i] = append([]byte(nil), h[:]...)
	}
	s := sealedTranscript{Checkpoints: cps, URI: d.uri + FederatedUpdatePath(job.Id, r.Round, d.me),
		FinalModelHash: j.res.FinalModelHash[:], FinalOptHash: j.res.FinalOptHash[:]}
	if old, err := j.dir.readSealed(); err == nil && len(old.Salt) == fedtypes.HashLen {
		s.Salt = old.Salt // a seal may have been sent before a restart
	} else {
		s.Salt = make([]byte, fedtypes.HashLen)
		if _, err := rand.Read(s.Salt); err != nil {
			d.log.Error("cannot draw a salt", "err", err)
			return
		}
	}
	if err := j.dir.writeSealed(s); err != nil {
		d.log.Error("cannot store the sealed transcript", "job", job.Id, "round", r.Round, "err", err)
		return
	}
	seal := fedtypes.UpdateSeal(job.Id, r.Round, me, s.Salt, recompute.TranscriptHash(cps), s.FinalModelHash, s.FinalOptHash)
	res, err := d.c.Submit(ctx, &fedtypes.MsgSealUpdate{Participant: d.me, JobId: job.Id, Round: r.Round, Seal: seal})
	d.recordTx(j.dir, "seal", nil, res)
	if err != nil {
		d.markSent(key)
		d.fnote(job.Id, r.Round, "seal", "error: "+err.Error(), slog.LevelError, "seal failed; will retry", "err", err)
		return
	}
	d.log.Info("federated update sealed", "job", job.Id, "round", r.Round, "checkpoints", len(cps), "tx", res.Hash, "height", res.Height)
}

// roundTaskDir opens this worker's directory of a round it trained.
func (d *Daemon) roundTaskDir(job fedtypes.FederatedJob, r fedtypes.Round, u fedtypes.Update) (*TaskDir, error) {
	me, err := sdk.AccAddressFromBech32(d.me)
	if err != nil {
		return nil, err
	}
	return OpenTaskDir(jobDir(d.fedDir(), job.Id), roundTask(job, r, federated.ParticipantSeed(job.Seed, r.Round, me), u.Dataset))
}

// fedOpen opens a sealed update once training has closed.
func (d *Daemon) fedOpen(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, u fedtypes.Update) {
	key := fmt.Sprintf("fed-open/%d/%d", job.Id, r.Round)
	if d.sentWithin(key, fedRetry) {
		return
	}
	dir, err := d.roundTaskDir(job, r, u)
	if err != nil {
		d.log.Warn("round dir", "job", job.Id, "round", r.Round, "err", err)
		return
	}
	s, err := dir.readSealed()
	if err != nil {
		d.fnote(job.Id, r.Round, "open", "lost", slog.LevelError, "cannot open: the sealed transcript is lost; the chain will count a straggler", "err", err)
		return
	}
	msg := &fedtypes.MsgOpenUpdate{Participant: d.me, JobId: job.Id, Round: r.Round, Salt: s.Salt, Checkpoints: s.Checkpoints,
		FinalModelHash: s.FinalModelHash, FinalOptHash: s.FinalOptHash, Uri: s.URI, ReportedLoss: reportedLoss(dir)}
	res, err := d.c.Submit(ctx, msg)
	d.recordTx(dir, "open", nil, res)
	if err != nil {
		d.markSent(key)
		d.fnote(job.Id, r.Round, "open", "error: "+err.Error(), slog.LevelError, "open failed; will retry", "err", err)
		return
	}
	if err := dir.MarkOpened(); err != nil {
		d.log.Warn("cannot record the open", "job", job.Id, "round", r.Round, "err", err)
	}
	d.log.Info("federated update opened; serving its checkpoints and final model", "job", job.Id, "round", r.Round,
		"uri", s.URI, "reported_loss", fmt.Sprintf("%.4f", float64(msg.ReportedLoss)/float64(uint64(1)<<job.Spec.FracBits)),
		"tx", res.Hash, "height", res.Height)
	d.poke("opened")
}

// fedReveal reveals every sampled segment not yet revealed.
func (d *Daemon) fedReveal(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, u fedtypes.Update) {
	d.fnote(job.Id, r.Round, "sampled", fmt.Sprint(u.Sampled), slog.LevelInfo, "segments sampled; revealing", "sampled", u.Sampled)
	var params *vtypes.Params
	for _, seg := range u.Sampled {
		if slices.Contains(u.Revealed, seg) {
			continue
		}
		key := fmt.Sprintf("fed-reveal/%d/%d/%d", job.Id, r.Round, seg)
		if d.sentWithin(key, time.Minute) {
			continue
		}
		if params == nil {
			p, err := d.c.VerificationParams(ctx)
			if err != nil {
				d.log.Warn("cannot read verification params", "err", err)
				return
			}
			params = &p
		}
		if err := d.fedRevealSegment(ctx, job, r, u, seg, *params); err != nil {
			d.log.Error("reveal failed; will retry before the deadline", "job", job.Id, "round", r.Round, "segment", seg, "err", err)
			continue
		}
		d.markSent(key)
	}
}

func (d *Daemon) fedRevealSegment(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, u fedtypes.Update, seg uint32, params vtypes.Params) error {
	in, err := d.fedInputs(ctx, job, r, u)
	if err != nil {
		return err
	}
	dir, err := d.roundTaskDir(job, r, u)
	if err != nil {
		return err
	}
	start, err := dir.ReadCheckpoint(uint64(seg))
	if err != nil {
		return fmt.Errorf("checkpoint %d: %w", seg, err)
	}
	var base []byte
	if in.job.Base != nil {
		base = in.job.Base.Encode()
	}
	msg, rc, err := BuildUpdateReveal(in.work, d.me, job.Id, r.Round, u.Checkpoints, seg, start, in.file, base, params)
	if err != nil {
		return err
	}
	// The chain may have moved on while the reveal was built.
	cur, err := d.myUpdate(ctx, job.Id, r.Round)
	if err != nil {
		return err
	}
	if cur == nil || cur.Status != fedtypes.UPDATE_STATUS_OPENED || slices.Contains(cur.Revealed, seg) {
		return nil
	}
	d.log.Info("revealing segment", "job", job.Id, "round", r.Round, "segment", seg, "rows", len(msg.Rows), "bytes", msg.Size(), "macs", rc.Cost.MACs)
	res, err := d.c.Submit(ctx, msg)
	d.recordTx(dir, "reveal", &seg, res)
	if err != nil {
		return err
	}
	if cur, err = d.myUpdate(ctx, job.Id, r.Round); err == nil && cur != nil {
		switch {
		case cur.Status == fedtypes.UPDATE_STATUS_REJECTED:
			d.log.Error("segment MISMATCH: the chain recomputed another checkpoint; update rejected", "job", job.Id, "round", r.Round,
				"segment", seg, "reason", cur.Reason, "tx", res.Hash)
		case slices.Contains(cur.Revealed, seg):
			d.log.Info("segment verified by the chain", "job", job.Id, "round", r.Round, "segment", seg, "tx", res.Hash, "gas_used", res.GasUsed)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Aggregation.
// ---------------------------------------------------------------------------

// fedAggregate commits the round's aggregate when this worker may: it is
// the designated aggregator, or the designated one let its deadline pass and
// this worker's update is accepted and its own aggregate has not failed.
func (d *Daemon) fedAggregate(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, us []fedtypes.Update, mine *fedtypes.Update) {
	if mine == nil || mine.Status != fedtypes.UPDATE_STATUS_ACCEPTED || slices.Contains(r.FailedAggregators, d.me) {
		return
	}
	if r.Aggregator != "" && r.Aggregator != d.me {
		d.fnote(job.Id, r.Round, "aggregate", "wait "+r.Aggregator, slog.LevelInfo, "waiting for the round's aggregator", "aggregator", r.Aggregator)
		return
	}
	key := fmt.Sprintf("fed-agg/%d/%d", job.Id, r.Round)
	if d.sentWithin(key, fedRetry) {
		return
	}
	agg, acc, err := d.recomputeAggregate(ctx, job, r.Round, us)
	if err != nil {
		d.markSent(key)
		d.fnote(job.Id, r.Round, "aggregate", "error: "+err.Error(), slog.LevelError, "cannot compute the aggregate; will retry", "err", err)
		return
	}
	if err := saveAggregate(d.fedDir(), job.Id, r.Round, agg); err != nil {
		d.log.Error("cannot store the aggregate", "job", job.Id, "round", r.Round, "err", err)
		return
	}
	if err := saveGlobal(d.fedDir(), job.Id, agg); err != nil {
		d.log.Warn("cannot store the aggregate as a global model", "job", job.Id, "round", r.Round, "err", err)
	}
	if cur, err := d.c.FederatedRound(ctx, job.Id, r.Round); err != nil || cur.Phase != fedtypes.ROUND_PHASE_AGGREGATING {
		return
	}
	h := agg.ModelHash()
	msg := &fedtypes.MsgCommitAggregate{Aggregator: d.me, JobId: job.Id, Round: r.Round, ModelHash: h[:],
		HeaderAunts: agg.HeaderAunts(), Uri: d.uri + FederatedAggregatePath(job.Id, r.Round)}
	d.log.Info("aggregating", "job", job.Id, "round", r.Round, "accepted_updates", len(acc), "examples", r.Examples, "aggregate", h.String())
	res, err := d.c.Submit(ctx, msg)
	if err != nil {
		d.markSent(key)
		d.fnote(job.Id, r.Round, "aggregate", "error: "+err.Error(), slog.LevelWarn, "aggregate commit failed", "err", err)
		return
	}
	if err := writeFileAtomic(filepath.Join(roundDir(d.fedDir(), job.Id, r.Round), aggregateCommitted), h[:]); err != nil {
		d.log.Warn("cannot record the commit", "job", job.Id, "round", r.Round, "err", err)
	}
	d.log.Info("aggregate committed; serving it", "job", job.Id, "round", r.Round, "aggregate", h.String(), "uri", msg.Uri,
		"tx", res.Hash, "height", res.Height, "gas_used", res.GasUsed)
	d.poke("aggregate committed")
}

// fedRevealChunks reveals every drawn chunk (in the CHUNKS phase) and every
// challenged chunk of this worker's committed aggregate not yet verified.
func (d *Daemon) fedRevealChunks(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, us []fedtypes.Update) {
	var pending []uint64
	if r.Phase == fedtypes.ROUND_PHASE_CHUNKS {
		d.fnote(job.Id, r.Round, "drawn", fmt.Sprint(r.Aggregate.Drawn), slog.LevelInfo, "aggregate chunks drawn; revealing", "drawn", r.Aggregate.Drawn)
		for _, c := range r.Aggregate.Drawn {
			if !slices.Contains(r.Aggregate.Verified, c) {
				pending = append(pending, c)
			}
		}
	} else {
		d.fnote(job.Id, r.Round, "drawn", "verified", slog.LevelInfo, "every drawn chunk verified; fraud window open, serving the aggregate",
			"verified", r.Aggregate.Verified, "fraud_window_end", r.Deadline.Format(time.RFC3339))
	}
	chs, err := d.c.FederatedChallenges(ctx, job.Id, r.Round)
	if err != nil {
		d.log.Warn("cannot read chunk challenges", "job", job.Id, "round", r.Round, "err", err)
		return
	}
	for _, ch := range chs {
		if !slices.Contains(r.Aggregate.Verified, ch.Chunk) && !slices.Contains(pending, ch.Chunk) {
			d.fnote(job.Id, r.Round, fmt.Sprintf("challenge/%d", ch.Chunk), "open", slog.LevelWarn, "aggregate chunk challenged; answering",
				"chunk", ch.Chunk, "challenger", ch.Challenger, "deadline", ch.Deadline.Format(time.RFC3339))
			pending = append(pending, ch.Chunk)
		}
	}
	if len(pending) == 0 {
		return
	}
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return
	}
	agg, err := loadState(filepath.Join(roundDir(d.fedDir(), job.Id, r.Round), aggregateFile), es, r.Aggregate.ModelHash)
	if err != nil {
		d.fnote(job.Id, r.Round, "chunks", "lost", slog.LevelError, "cannot reveal chunks: the committed aggregate is not in the work dir", "err", err)
		return
	}
	acc, err := AcceptedUpdates(us)
	if err != nil {
		return
	}
	states, err := d.updateStates(ctx, job, r.Round, acc)
	if err != nil {
		d.log.Error("cannot read the accepted updates for a chunk reveal; will retry", "job", job.Id, "round", r.Round, "err", err)
		return
	}
	for _, c := range pending {
		key := fmt.Sprintf("fed-chunk/%d/%d/%d", job.Id, r.Round, c)
		if d.sentWithin(key, 30*time.Second) {
			continue
		}
		msg, err := BuildChunkReveal(d.me, job.Id, r.Round, c, agg, UpdateWeights(acc), states)
		if err != nil {
			d.log.Error("cannot build the chunk reveal", "job", job.Id, "round", r.Round, "chunk", c, "err", err)
			continue
		}
		res, err := d.c.Submit(ctx, msg)
		d.markSent(key)
		if err != nil {
			d.log.Error("chunk reveal failed; will retry before the deadline", "job", job.Id, "round", r.Round, "chunk", c, "err", err)
			continue
		}
		d.log.Info("aggregate chunk revealed", "job", job.Id, "round", r.Round, "chunk", c, "updates", len(msg.Updates),
			"bytes", msg.Size(), "tx", res.Hash, "gas_used", res.GasUsed, "passed", !hasEvent(res, evAggregateFailed))
	}
}

// fedWatch recomputes a committed aggregate in its fraud window and
// challenges a chunk where it differs from the recomputation.
func (d *Daemon) fedWatch(ctx context.Context, job fedtypes.FederatedJob, r fedtypes.Round, us []fedtypes.Update) {
	key := fmt.Sprintf("%d/%d/%X", job.Id, r.Round, r.Aggregate.ModelHash)
	d.fed.mu.Lock()
	done := d.fed.watched[key]
	d.fed.mu.Unlock()
	if done || d.sentWithin("fed-watch/"+key, fedRetry) {
		return
	}
	d.markSent("fed-watch/" + key)
	mine, _, err := d.recomputeAggregate(ctx, job, r.Round, us)
	if err != nil {
		d.fnote(job.Id, r.Round, "watch", "error: "+err.Error(), slog.LevelWarn, "cannot recompute the aggregate; will retry", "err", err)
		return
	}
	finish := func() {
		d.fed.mu.Lock()
		d.fed.watched[key] = true
		d.fed.mu.Unlock()
	}
	if h := mine.ModelHash(); bytes.Equal(h[:], r.Aggregate.ModelHash) {
		d.log.Info("watch: the committed aggregate is the FedAvg of the accepted updates", "job", job.Id, "round", r.Round, "aggregate", h.String())
		finish()
		return
	}
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return
	}
	b, err := Fetch(ctx, r.Aggregate.Uri, stateLimit(es))
	var params []int32
	if err == nil {
		params, err = ModelParams(es, b, r.Aggregate.ModelHash)
	}
	if err != nil {
		d.fnote(job.Id, r.Round, "watch", "unserved", slog.LevelWarn, "watch: the committed aggregate differs from the recomputation and is not served; cannot locate a wrong chunk", "err", err)
		return
	}
	var base engine.Hash
	copy(base[:], job.Spec.BaseModelHash)
	committed, err := engine.StateFromParams(es, base, params)
	if err != nil {
		return
	}
	diff, err := DifferingChunks(mine, committed)
	if err != nil {
		return
	}
	chs, err := d.c.FederatedChallenges(ctx, job.Id, r.Round)
	if err != nil {
		return
	}
	for _, c := range diff {
		if slices.Contains(r.Aggregate.Verified, c) || slices.ContainsFunc(chs, func(ch fedtypes.ChunkChallenge) bool { return ch.Chunk == c }) {
			continue
		}
		d.log.Warn("watch: the committed aggregate differs from FedAvg of the accepted updates; challenging", "job", job.Id,
			"round", r.Round, "chunk", c, "differing_chunks", len(diff), "bond", job.ChallengeBond)
		res, err := d.c.Submit(ctx, &fedtypes.MsgChallengeChunk{Challenger: d.me, JobId: job.Id, Round: r.Round, Chunk: c, Bond: job.ChallengeBond})
		if err != nil {
			d.log.Error("chunk challenge failed", "job", job.Id, "round", r.Round, "chunk", c, "err", err)
			return
		}
		d.log.Info("chunk challenged", "job", job.Id, "round", r.Round, "chunk", c, "tx", res.Hash)
		finish()
		return
	}
	finish()
}

// ---------------------------------------------------------------------------
// Outcomes.
// ---------------------------------------------------------------------------

// fedRoundOutcome reports a finished round once: its verdicts, its new
// global model and the chain's share of the work.
func (d *Daemon) fedRoundOutcome(ctx context.Context, job fedtypes.FederatedJob, round uint32) {
	k := fedKey{job.Id, round}
	d.fed.mu.Lock()
	done := d.fed.logged[k]
	d.fed.mu.Unlock()
	if done {
		return
	}
	r, err := d.c.FederatedRound(ctx, job.Id, round)
	if err != nil || (r.Phase != fedtypes.ROUND_PHASE_FINAL && r.Phase != fedtypes.ROUND_PHASE_FAILED) {
		return
	}
	us, err := d.c.FederatedUpdates(ctx, job.Id, round)
	if err != nil {
		return
	}
	if mine := findUpdate(us, d.me); mine != nil {
		d.fedVerdict(job, *mine)
	}
	one := float64(uint64(1) << job.Spec.FracBits)
	args := []any{"job", job.Id, "round", round, "accepted", r.Accepted, "rejected", r.Rejected, "stragglers", r.Stragglers,
		"mean_loss", fmt.Sprintf("%.4f", float64(r.MeanLoss)/one), "chain_share", ChainShare(r)}
	if r.Phase == fedtypes.ROUND_PHASE_FINAL {
		d.log.Info("federated round final", append(args, "aggregator", r.Aggregate.Committer,
			"global_model", fmt.Sprintf("%X", r.Aggregate.ModelHash), "chunks_verified", len(r.Aggregate.Verified))...)
	} else {
		d.log.Warn("federated round FAILED", append(args, "reason", r.Reason)...)
	}
	d.fed.mu.Lock()
	d.fed.logged[k] = true
	d.fed.mu.Unlock()
}

// fedJobEnded reports the end of a job this worker took part in.
func (d *Daemon) fedJobEnded(ctx context.Context, id uint64) {
	job, err := d.c.FederatedJob(ctx, id)
	if err != nil {
		return
	}
	if job.Status == fedtypes.JOB_STATUS_RUNNING {
		return // not listed by a lagging node; next time
	}
	d.fedRoundOutcome(ctx, job, job.CurrentRound)
	d.fedForget(id, math.MaxUint32)
	d.fed.mu.Lock()
	delete(d.fed.joined, id)
	d.fed.mu.Unlock()
	d.log.Info("federated job ended", "job", id, "status", job.Status, "rounds", job.Rounds, "global_model", fmt.Sprintf("%X", job.GlobalModelHash))
}

// ChainShare is the chain's work over the training it verified in a round:
// (recomputed MACs + aggregation multiply-adds) / training MACs of the
// accepted updates, as a percentage string ("-" without training).
func ChainShare(r fedtypes.Round) string {
	if r.TrainingMacs == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(r.RecomputedMacs+r.AggregationOps)/float64(r.TrainingMacs))
}
