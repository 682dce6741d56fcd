package worker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// WatchConfig configures the watchtower.
type WatchConfig struct {
	// WorkDir holds datasets/ and models/ (base models for LoRA tasks).
	WorkDir      string
	PollInterval time.Duration
	// Bond of each fraud challenge; zero uses the smallest bond the chain
	// accepts for the task (recompute.ChallengeBond).
	Bond sdk.Coin
	// WithholdGrace is how long a passed transcript's checkpoint may stay
	// unfetchable before the watchtower challenges the segment (a bonded
	// challenge forces the worker to reveal it on chain); default 30s.
	WithholdGrace time.Duration
	Log           *slog.Logger
}

// Watcher is `hinterlandd worker watch`: it follows passed transcripts,
// fetches the worker's checkpoints from the transcript URI, re-executes every
// segment the chain has not verified with the same engine and the same
// checks as the chain (PrepareReveal, then the recomputation), and bonds a
// fraud challenge on the first segment that does not reproduce h_(i+1). A
// worker that withholds a checkpoint (its server does not give it for
// WithholdGrace) is challenged on that segment too: silence is answered
// with a challenge that forces a reveal, never with a log line.
type Watcher struct {
	c    *Client
	cfg  WatchConfig
	log  *slog.Logger
	me   string
	data *DatasetCache

	trigger chan string
	mu      sync.Mutex
	watched map[string]*watchState // by "task/worker", for transcripts in their fraud window
}

// watchState is what the watchtower knows of one transcript.
type watchState struct {
	checked   map[uint32]bool      // re-executed and found exact
	failed    map[uint32]time.Time // could not be checked, when
	firstFail map[uint32]time.Time // first time the segment could not be fetched
	caught    bool                 // a fraud challenge was sent
}

// NewWatcher checks the configuration.
func NewWatcher(c *Client, cfg WatchConfig) (*Watcher, error) {
	if cfg.WorkDir == "" {
		return nil, errors.New("watch: work dir is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.WithholdGrace <= 0 {
		cfg.WithholdGrace = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	for _, sub := range []string{"datasets", "models"} {
		if err := os.MkdirAll(filepath.Join(cfg.WorkDir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	return &Watcher{c: c, cfg: cfg, log: cfg.Log, me: c.Address(),
		data:    newChainDatasetCache(c, filepath.Join(cfg.WorkDir, "datasets"), cfg.Log),
		trigger: make(chan string, 1), watched: make(map[string]*watchState)}, nil
}

func (w *Watcher) poke(reason string) {
	select {
	case w.trigger <- reason:
	default:
	}
}

// Run watches until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	w.log.Info("watchtower started", "address", w.me, "chain_id", w.c.ChainID())
	go Subscribe(ctx, w.c.Context().NodeURI, []string{TxEvents(evTranscriptPassed)}, nil, w.poke, w.log)
	tick := time.NewTicker(w.cfg.PollInterval)
	defer tick.Stop()
	for {
		w.scan(ctx)
		select {
		case <-ctx.Done():
			w.log.Info("watchtower stopped")
			return nil
		case <-tick.C:
		case <-w.trigger:
		}
	}
}

// scan checks every passed transcript whose fraud window is open.
func (w *Watcher) scan(ctx context.Context) {
	var tasks []taskstypes.Task
	for _, st := range []taskstypes.TaskStatus{taskstypes.TASK_STATUS_ASSIGNED, taskstypes.TASK_STATUS_OPEN} {
		ts, err := w.c.ListTasks(ctx, taskstypes.QueryTasksRequest{Status: st})
		if err != nil {
			w.log.Warn("cannot list tasks", "err", err)
			return
		}
		tasks = append(tasks, ts...)
	}
	seen := make(map[string]bool)
	for _, t := range tasks {
		res, err := w.c.Verification.Transcripts(ctx, &vtypes.QueryTranscriptsRequest{TaskId: t.Id})
		if err != nil {
			w.log.Warn("cannot list transcripts", "task", t.Id, "err", err)
			return
		}
		for _, tr := range res.Transcripts {
			if ctx.Err() != nil {
				return
			}
			if tr.Status != vtypes.TRANSCRIPT_STATUS_PASSED || tr.Worker == w.me || !time.Now().Before(tr.FraudWindowEnd) {
				continue
			}
			key := fmt.Sprintf("%d/%s", t.Id, tr.Worker)
			seen[key] = true
			w.mu.Lock()
			st := w.watched[key]
			if st == nil {
				st = &watchState{checked: make(map[uint32]bool), failed: make(map[uint32]time.Time), firstFail: make(map[uint32]time.Time)}
				w.watched[key] = st
			}
			w.mu.Unlock()
			w.checkTranscript(ctx, t, tr, st)
		}
	}
	// Forget transcripts whose fraud window is over (or that were settled).
	w.mu.Lock()
	for key := range w.watched {
		if !seen[key] {
			delete(w.watched, key)
		}
	}
	w.mu.Unlock()
}

func (w *Watcher) checkTranscript(ctx context.Context, t taskstypes.Task, tr vtypes.Transcript, st *watchState) {
	if st.caught {
		return
	}
	// Every segment of the transcript: h_0..h_N's N segments, or for an
	// engine-failure transcript h_0..h_s its s segments and the failing one.
	n := uint32(len(tr.Checkpoints) - 1)
	if tr.EngineFailure {
		n++
	}
	for seg := uint32(0); seg < n; seg++ {
		if ctx.Err() != nil || !time.Now().Before(tr.FraudWindowEnd) {
			return
		}
		failedAt, failed := st.failed[seg]
		if st.checked[seg] || slices.Contains(tr.Verified, seg) || (failed && time.Since(failedAt) < min(time.Minute, w.cfg.WithholdGrace/2)) {
			continue
		}
		check, err := w.recheck(ctx, t, tr, seg)
		if err != nil {
			now := time.Now()
			st.failed[seg] = now
			if _, ok := st.firstFail[seg]; !ok {
				st.firstFail[seg] = now
			}
			var withheld *withheldError
			if errors.As(err, &withheld) && now.Sub(st.firstFail[seg]) >= w.cfg.WithholdGrace {
				w.log.Warn("WITHHELD: the worker does not serve this checkpoint; challenging the segment so it must be revealed on chain",
					"task", t.Id, "worker", tr.Worker, "segment", seg, "since", st.firstFail[seg].Format(time.RFC3339), "err", err)
				st.caught = w.challenge(ctx, t, tr.Worker, seg)
				return
			}
			w.log.Warn("cannot check segment yet", "task", t.Id, "worker", tr.Worker, "segment", seg, "err", err)
			continue
		}
		if check.Match {
			st.checked[seg] = true
			continue
		}
		w.log.Warn("FRAUD: segment does not reproduce the committed checkpoint", "task", t.Id, "worker", tr.Worker,
			"segment", seg, "committed", check.Expected.String(), "recomputed", check.Got.String(), "reason", check.Reason)
		st.caught = w.challenge(ctx, t, tr.Worker, seg)
		return
	}
}

// recheck fetches h_seg from the worker and re-executes the segment.
func (w *Watcher) recheck(ctx context.Context, t taskstypes.Task, tr vtypes.Transcript, seg uint32) (SegmentCheck, error) {
	es, err := t.Spec.EngineSpec()
	if err != nil {
		return SegmentCheck{}, err
	}
	f, err := w.data.Get(ctx, t)
	if err != nil {
		return SegmentCheck{}, err
	}
	var base []byte
	if es.IsLoRA() {
		b, err := ReadBase(filepath.Join(w.cfg.WorkDir, "models"), t.Spec.BaseModelHash)
		if err != nil {
			return SegmentCheck{}, err
		}
		base = b.Encoding
	}
	start, err := FetchCheckpoint(ctx, tr.Uri, seg, es)
	if err != nil {
		return SegmentCheck{}, &withheldError{err}
	}
	params, err := w.c.VerificationParams(ctx)
	if err != nil {
		return SegmentCheck{}, err
	}
	return VerifySegment(t, tr.Checkpoints, seg, start, f, base, params)
}

// FetchCheckpoint fetches the state at h_i from a transcript URI
// (<uri>/<i>), refusing more bytes than a state of the spec can have.
func FetchCheckpoint(ctx context.Context, uri string, i uint32, es engine.Spec) ([]byte, error) {
	limit := int64(1024 + 16*es.TrainableParams() + 4*es.Arch().ParamCount())
	return Fetch(ctx, strings.TrimSuffix(uri, "/")+fmt.Sprintf("/%d", i), limit)
}

// withheldError is a checkpoint the worker's server did not give.
type withheldError struct{ err error }

func (e *withheldError) Error() string { return "checkpoint not served: " + e.err.Error() }
func (e *withheldError) Unwrap() error { return e.err }

// challenge bonds a fraud challenge after checking the chain still allows it:
// it seals the challenge (the segment hidden behind a salted commitment bound
// to this watcher, so nobody can take the find from the mempool), waits for a
// later block and opens it.
func (w *Watcher) challenge(ctx context.Context, t taskstypes.Task, worker string, seg uint32) bool {
	tr, err := w.c.Transcript(ctx, t.Id, worker)
	if err != nil || tr == nil || tr.Status != vtypes.TRANSCRIPT_STATUS_PASSED || !time.Now().Before(tr.FraudWindowEnd) ||
		slices.Contains(tr.Verified, seg) {
		return false
	}
	chs, err := w.c.Challenges(ctx, t.Id, worker)
	if err != nil {
		return false
	}
	if slices.ContainsFunc(chs, func(c vtypes.Challenge) bool { return c.Segment == seg && c.Challenger != w.me && c.SealedHeight == 0 }) {
		w.log.Info("segment already challenged", "task", t.Id, "worker", worker, "segment", seg)
		return true
	}
	bond := w.cfg.Bond
	if bond.IsNil() || bond.IsZero() {
		p, err := w.c.VerificationParams(ctx)
		if err != nil {
			return false
		}
		tp, err := w.c.TasksParams(ctx)
		if err != nil {
			return false
		}
		bond = recompute.ChallengeBondFor(t, p, tp)
	}
	res, err := SealAndOpenChallenge(ctx, w.c, t.Id, worker, seg, bond)
	if err != nil {
		w.log.Error("challenge failed", "task", t.Id, "worker", worker, "segment", seg, "err", err)
		return false
	}
	w.log.Info("challenged segment; the worker must reveal it", "task", t.Id, "worker", worker, "segment", seg,
		"bond", bond, "tx", res.Hash, "height", res.Height)
	return true
}

// SealAndOpenChallenge bonds a fraud challenge on segment seg of a worker's
// transcript in two transactions: the seal (a salted commitment bound to the
// challenger; the bond is locked) and, once a later block exists, the open
// that names the segment. It returns the open's result.
func SealAndOpenChallenge(ctx context.Context, c *Client, taskID uint64, worker string, seg uint32, bond sdk.Coin) (*TxResult, error) {
	me, err := sdk.AccAddressFromBech32(c.Address())
	if err != nil {
		return nil, err
	}
	wk, err := sdk.AccAddressFromBech32(worker)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, recompute.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	seal, err := c.Submit(ctx, &vtypes.MsgSealChallenge{Challenger: c.Address(), TaskId: taskID, Worker: worker,
		Commitment: recompute.ChallengeCommitment(taskID, wk, me, seg, salt), Bond: bond})
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := c.WaitHeight(ctx, seal.Height+1); err != nil {
		return nil, err
	}
	res, err := c.Submit(ctx, &vtypes.MsgChallengeSegment{Challenger: c.Address(), TaskId: taskID, Worker: worker, Segment: seg, Salt: salt})
	if err != nil {
		return nil, fmt.Errorf("open (the bond stays locked until the fraud window ends, then is refunded): %w", err)
	}
	return res, nil
}
