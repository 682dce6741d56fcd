package worker

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	vtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// A transcript goes on chain in two steps (see x/verification): the worker
// seals it (a hash bound to its address and a random salt), and opens it once
// every claim of the task is sealed. Until it is open the checkpoint server
// serves none of the task's states, so a replica cannot copy them.

// sealedTranscript is what the worker sealed, kept in <task dir>/sealed.json
// (written before the seal is sent) so that it can open it after a restart.
type sealedTranscript struct {
	Checkpoints    [][]byte `json:"checkpoints"`
	FinalModelHash []byte   `json:"final_model_hash,omitempty"`
	FinalOptHash   []byte   `json:"final_opt_hash,omitempty"`
	URI            string   `json:"uri"`
	Salt           []byte   `json:"salt"`
	EngineFailure  bool     `json:"engine_failure,omitempty"`
}

const (
	sealedFile = "sealed.json"
	openedFile = "opened"
)

func (d *TaskDir) writeSealed(s sealedTranscript) error {
	bz, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(d.Path, sealedFile), bz)
}

func (d *TaskDir) readSealed() (*sealedTranscript, error) {
	bz, err := os.ReadFile(filepath.Join(d.Path, sealedFile))
	if err != nil {
		return nil, err
	}
	var s sealedTranscript
	if err := json.Unmarshal(bz, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", sealedFile, err)
	}
	return &s, nil
}

// MarkOpened records that the task's transcript is open on chain: from then
// on the checkpoint server serves its states.
func (d *TaskDir) MarkOpened() error {
	if d.Opened() {
		return nil
	}
	return writeFileAtomic(filepath.Join(d.Path, openedFile), []byte("open\n"))
}

// Opened tells whether the transcript is open on chain.
func (d *TaskDir) Opened() bool {
	_, err := os.Stat(filepath.Join(d.Path, openedFile))
	return err == nil
}

// seal fixes a finished (or provably failed) training run on chain. The salt
// and the transcript are stored before the seal is sent.
func (d *Daemon) seal(ctx context.Context, t taskstypes.Task, dir *TaskDir, s sealedTranscript) {
	key := fmt.Sprintf("commit/%d", t.Id)
	if d.recentlySent(key) {
		return
	}
	tr, err := d.c.Transcript(ctx, t.Id, d.me)
	if err != nil {
		d.log.Warn("cannot check for a sealed transcript", "task", t.Id, "err", err)
		return
	}
	if tr != nil {
		return // already sealed; the chain moved the claim on
	}
	if old, err := dir.readSealed(); err == nil && len(old.Salt) == recompute.SaltLen {
		s.Salt = old.Salt // a seal may have been sent before a restart
	} else {
		s.Salt = make([]byte, recompute.SaltLen)
		if _, err := rand.Read(s.Salt); err != nil {
			d.log.Error("cannot draw a salt", "err", err)
			return
		}
	}
	if err := dir.writeSealed(s); err != nil {
		d.log.Error("cannot store the sealed transcript", "task", t.Id, "err", err)
		return
	}
	me, err := sdk.AccAddressFromBech32(d.me)
	if err != nil {
		d.log.Error("own address", "err", err)
		return
	}
	th := recompute.TranscriptHash(s.Checkpoints)
	msg := &vtypes.MsgSealTranscript{Worker: d.me, TaskId: t.Id,
		Seal: recompute.TranscriptSeal(t.Id, me, s.Salt, th, s.FinalModelHash, s.FinalOptHash, s.EngineFailure)}
	res, err := d.c.Submit(ctx, msg)
	d.recordTx(dir, "seal", nil, res)
	if err != nil {
		d.markSent(key)
		d.note(t.Id, "seal-error: "+err.Error(), slog.LevelError, "seal failed; will retry", "in", retryAfter, "err", err)
		return
	}
	d.log.Info("transcript sealed", "task", t.Id, "checkpoints", len(s.Checkpoints), "engine_failure", s.EngineFailure,
		"tx", res.Hash, "height", res.Height, "gas_used", res.GasUsed)
}

// open opens a sealed transcript once the task's claims are closed.
func (d *Daemon) open(ctx context.Context, t taskstypes.Task, tr *vtypes.Transcript) {
	dir, err := OpenTaskDir(d.tasksDir(), t)
	if err != nil {
		d.log.Warn("task dir", "task", t.Id, "err", err)
		return
	}
	if !t.ClaimsClosed {
		d.note(t.Id, "sealed", slog.LevelInfo, "transcript sealed; waiting for the task's other claims to seal")
		return
	}
	key := fmt.Sprintf("open/%d", t.Id)
	if d.recentlySent(key) {
		return
	}
	s, err := dir.readSealed()
	if err != nil {
		d.note(t.Id, "open-error: "+err.Error(), slog.LevelError, "cannot open: the sealed transcript is lost; the chain will slash this claim at the open deadline", "err", err)
		return
	}
	msg := &vtypes.MsgOpenTranscript{Worker: d.me, TaskId: t.Id, Checkpoints: s.Checkpoints, Uri: s.URI,
		FinalModelHash: s.FinalModelHash, FinalOptHash: s.FinalOptHash, Salt: s.Salt, EngineFailure: s.EngineFailure}
	res, err := d.c.Submit(ctx, msg)
	d.recordTx(dir, "open", nil, res)
	if err != nil {
		d.markSent(key)
		d.note(t.Id, "open-error: "+err.Error(), slog.LevelError, "open failed; will retry", "in", retryAfter, "err", err)
		return
	}
	if err := dir.MarkOpened(); err != nil {
		d.log.Warn("cannot record the open", "task", t.Id, "err", err)
	}
	d.log.Info("transcript opened; serving checkpoints", "task", t.Id, "checkpoints", len(s.Checkpoints), "uri", s.URI,
		"tx", res.Hash, "height", res.Height, "gas_used", res.GasUsed)
}

// failureTranscript is the transcript of a run the engine cannot continue:
// the checkpoints written so far, h_0..h_s, the engine failing inside
// segment s. The chain recomputes segment s (it must fail) and samples the
// others; if it holds, the requester pays (x/tasks CompleteUntrainable).
func failureTranscript(dir *TaskDir, job engine.Job, t taskstypes.Task) (sealedTranscript, error) {
	h0, err := engine.InitialStateHash(job, t.Spec.BaseModelHash)
	if err != nil {
		return sealedTranscript{}, err
	}
	hashes, _, err := dir.LoadCheckpoints(job, h0)
	if err != nil {
		return sealedTranscript{}, err
	}
	if len(hashes) == 0 || uint64(len(hashes)) > t.Spec.Segments() {
		return sealedTranscript{}, errors.New("no checkpoint to prove the failure from")
	}
	cps := make([][]byte, len(hashes))
	for i, h := range hashes {
		cps[i] = append([]byte(nil), h[:]...)
	}
	return sealedTranscript{Checkpoints: cps, EngineFailure: true}, nil
}

func (d *Daemon) recentlySent(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Since(d.sent[key]) < retryAfter
}

func (d *Daemon) markSent(key string) {
	d.mu.Lock()
	d.sent[key] = time.Now()
	d.mu.Unlock()
}
