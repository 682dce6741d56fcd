package worker

import (
	"context"
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
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// WatchConfig configures the watchtower.
type WatchConfig struct {
	// WorkDir holds datasets/ and models/ (base models for LoRA tasks).
	WorkDir      string
	PollInterval time.Duration
	// Bond of each fraud challenge; zero uses min_challenge_bond.
	Bond sdk.Coin
	Log  *slog.Logger
}

// Watcher is `hinterlandd worker watch`: it follows passed transcripts,
// fetches the worker's checkpoints from the transcript URI, re-executes every
// segment the chain has not verified with the same engine and the same
// checks as the chain (PrepareReveal, then the recomputation), and bonds a
// fraud challenge on the first segment that does not reproduce h_(i+1).
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
	checked map[uint32]bool      // re-executed and found exact
	failed  map[uint32]time.Time // could not be checked, when
	caught  bool                 // a fraud challenge was sent
}

// NewWatcher checks the configuration.
func NewWatcher(c *Client, cfg WatchConfig) (*Watcher, error) {
	if cfg.WorkDir == "" {
		return nil, errors.New("watch: work dir is required")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
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
		data:    NewDatasetCache(filepath.Join(cfg.WorkDir, "datasets"), cfg.Log),
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
				st = &watchState{checked: make(map[uint32]bool), failed: make(map[uint32]time.Time)}
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
	n := uint32(t.Spec.Segments())
	for seg := uint32(0); seg < n; seg++ {
		if ctx.Err() != nil || !time.Now().Before(tr.FraudWindowEnd) {
			return
		}
		failedAt, failed := st.failed[seg]
		if st.checked[seg] || slices.Contains(tr.Verified, seg) || (failed && time.Since(failedAt) < time.Minute) {
			continue
		}
		check, err := w.recheck(ctx, t, tr, seg)
		if err != nil {
			st.failed[seg] = time.Now()
			w.log.Warn("cannot check segment", "task", t.Id, "worker", tr.Worker, "segment", seg, "err", err)
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
		m, err := ReadModel(filepath.Join(w.cfg.WorkDir, "models"), t.Spec.BaseModelHash)
		if err != nil {
			return SegmentCheck{}, err
		}
		base = m.Encode()
	}
	start, err := FetchCheckpoint(ctx, tr.Uri, seg, es)
	if err != nil {
		return SegmentCheck{}, err
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

// challenge bonds a fraud challenge after checking the chain still allows it.
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
	if slices.ContainsFunc(chs, func(c vtypes.Challenge) bool { return c.Segment == seg }) {
		w.log.Info("segment already challenged", "task", t.Id, "worker", worker, "segment", seg)
		return true
	}
	bond := w.cfg.Bond
	if bond.IsNil() || bond.IsZero() {
		p, err := w.c.VerificationParams(ctx)
		if err != nil {
			return false
		}
		bond = sdk.NewCoin(t.Bond.Denom, p.MinChallengeBond)
	}
	res, err := w.c.Submit(ctx, &vtypes.MsgChallengeSegment{Challenger: w.me, TaskId: t.Id, Worker: worker, Segment: seg, Bond: bond})
	if err != nil {
		w.log.Error("challenge failed", "task", t.Id, "worker", worker, "segment", seg, "err", err)
		return false
	}
	w.log.Info("challenged segment; the worker must reveal it", "task", t.Id, "worker", worker, "segment", seg,
		"bond", bond, "tx", res.Hash, "height", res.Height)
	return true
}
