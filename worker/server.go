package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CheckpointServer serves a worker's checkpoints over HTTP, for watchtowers
// and challengers during the fraud window:
//
//	GET /tasks/{id}/checkpoints/{i}   the canonical engine encoding of the state at h_i
//	GET /tasks/{id}/loss.csv          the training loss curve (step,loss), readable
//	                                  from any origin (the explorer page draws it)
//	GET /healthz                      "ok"
//
// and the worker's federated updates and aggregates (FederatedRoot set):
//
//	GET /federated/{job}/{round}/{addr}/checkpoints/{i}   the state at h_i of its update
//	GET /federated/{job}/{round}/{addr}/model             the update's final state
//	GET /federated/{job}/{round}/aggregate                the aggregate it committed (state at step 0)
//
// It serves a task's checkpoints only once its transcript is open on chain
// (TaskDir.Opened): before that, a replica could copy them. Likewise an
// update is served once it is opened, an aggregate once it is committed.
type CheckpointServer struct {
	Root string // <work-dir>/tasks
	// FederatedRoot is <work-dir>/federated and Address the worker's
	// account; without them no federated route serves anything.
	FederatedRoot string
	Address       string
	Log           *slog.Logger

	srv *http.Server
	ln  net.Listener
}

// CheckpointsPath is the path under which a task's checkpoints are served;
// the transcript URI is the public base URL followed by it.
func CheckpointsPath(taskID uint64) string { return fmt.Sprintf("/tasks/%d/checkpoints", taskID) }

// Listen binds the address (host:port; port 0 picks a free one).
func (s *CheckpointServer) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("checkpoint server: %w", err)
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tasks/{id}/checkpoints/{i}", s.checkpoint)
	mux.HandleFunc("GET /tasks/{id}/loss.csv", s.loss)
	mux.HandleFunc("GET /federated/{job}/{round}/{addr}/checkpoints/{i}", s.federatedUpdate)
	mux.HandleFunc("GET /federated/{job}/{round}/{addr}/model", s.federatedUpdate)
	mux.HandleFunc("GET /federated/{job}/{round}/aggregate", s.federatedAggregate)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// Close releases the listener of a server that will not Serve.
func (s *CheckpointServer) Close() error { return s.ln.Close() }

// Addr is the bound address.
func (s *CheckpointServer) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends.
func (s *CheckpointServer) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(sctx)
	}()
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *CheckpointServer) checkpoint(w http.ResponseWriter, r *http.Request) {
	id, err1 := strconv.ParseUint(r.PathValue("id"), 10, 64)
	i, err2 := strconv.ParseUint(r.PathValue("i"), 10, 64)
	if err1 != nil || err2 != nil {
		http.Error(w, "task id and checkpoint index must be decimal integers", http.StatusBadRequest)
		return
	}
	dir := &TaskDir{Path: filepath.Join(s.Root, strconv.FormatUint(id, 10))}
	// Nothing is served before the transcript is open on chain: a replica
	// that could fetch the states before sealing its own could copy them.
	if !dir.Opened() {
		http.Error(w, fmt.Sprintf("task %d: the transcript is not open on chain yet", id), http.StatusForbidden)
		return
	}
	if serveFile(w, r, dir.CheckpointPath(i), fmt.Sprintf("task %d has no checkpoint %d here", id, i)) {
		s.Log.Debug("served checkpoint", "task", id, "checkpoint", i, "remote", strings.Split(r.RemoteAddr, ":")[0])
	}
}

// LossPath is the path of a task's published loss curve, beside its checkpoints.
func LossPath(taskID uint64) string { return fmt.Sprintf("/tasks/%d/loss.csv", taskID) }

// loss publishes a task's loss curve once its transcript is open, under the
// same rule as its checkpoints. It carries no secret of the model, so any
// origin may read it: the explorer page, served elsewhere, fetches it.
func (s *CheckpointServer) loss(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "task id must be a decimal integer", http.StatusBadRequest)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	dir := &TaskDir{Path: filepath.Join(s.Root, strconv.FormatUint(id, 10))}
	if !dir.Opened() {
		http.Error(w, fmt.Sprintf("task %d: the transcript is not open on chain yet", id), http.StatusForbidden)
		return
	}
	f, err := os.Open(filepath.Join(dir.Path, lossFile))
	if err != nil {
		http.Error(w, fmt.Sprintf("task %d has no loss curve here", id), http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "stat failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// serveFile serves a file as application/octet-stream, or 404 with
// missing; it reports whether it served it.
func serveFile(w http.ResponseWriter, r *http.Request, path, missing string) bool {
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, missing, http.StatusNotFound)
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "stat failed", http.StatusInternalServerError)
		return false
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return true
}

// federatedRound parses {job} and {round}.
func (s *CheckpointServer) federatedRound(w http.ResponseWriter, r *http.Request) (uint64, uint32, bool) {
	job, err1 := strconv.ParseUint(r.PathValue("job"), 10, 64)
	round, err2 := strconv.ParseUint(r.PathValue("round"), 10, 32)
	if err1 != nil || err2 != nil || s.FederatedRoot == "" {
		http.Error(w, "job and round must be decimal integers", http.StatusBadRequest)
		return 0, 0, false
	}
	return job, uint32(round), true
}

// federatedUpdate serves a checkpoint, or the final state, of this
// worker's update of a round once it is opened.
func (s *CheckpointServer) federatedUpdate(w http.ResponseWriter, r *http.Request) {
	job, round, ok := s.federatedRound(w, r)
	if !ok {
		return
	}
	if r.PathValue("addr") != s.Address {
		http.Error(w, fmt.Sprintf("this worker is %s", s.Address), http.StatusNotFound)
		return
	}
	dir, err := LoadTaskDir(roundDir(s.FederatedRoot, job, round))
	if err != nil {
		http.Error(w, fmt.Sprintf("no update of federated job %d round %d here", job, round), http.StatusNotFound)
		return
	}
	if !dir.Opened() {
		http.Error(w, fmt.Sprintf("federated job %d round %d: the update is not open on chain yet", job, round), http.StatusForbidden)
		return
	}
	i := dir.Task.Spec.Segments() // .../model: the final state
	if p := r.PathValue("i"); p != "" {
		if i, err = strconv.ParseUint(p, 10, 64); err != nil {
			http.Error(w, "checkpoint index must be a decimal integer", http.StatusBadRequest)
			return
		}
	}
	if serveFile(w, r, dir.CheckpointPath(i), fmt.Sprintf("federated job %d round %d has no checkpoint %d here", job, round, i)) {
		s.Log.Debug("served federated checkpoint", "job", job, "round", round, "checkpoint", i, "remote", strings.Split(r.RemoteAddr, ":")[0])
	}
}

// federatedAggregate serves the aggregate this worker committed in a round.
func (s *CheckpointServer) federatedAggregate(w http.ResponseWriter, r *http.Request) {
	job, round, ok := s.federatedRound(w, r)
	if !ok {
		return
	}
	dir := roundDir(s.FederatedRoot, job, round)
	if _, err := os.Stat(filepath.Join(dir, aggregateCommitted)); err != nil {
		http.Error(w, fmt.Sprintf("no committed aggregate of federated job %d round %d here", job, round), http.StatusNotFound)
		return
	}
	if serveFile(w, r, filepath.Join(dir, aggregateFile), fmt.Sprintf("federated job %d round %d: aggregate missing", job, round)) {
		s.Log.Debug("served federated aggregate", "job", job, "round", round, "remote", strings.Split(r.RemoteAddr, ":")[0])
	}
}
