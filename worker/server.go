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
//	GET /healthz                      "ok"
//
// It serves a task's checkpoints only once its transcript is open on chain
// (TaskDir.Opened): before that, a replica could copy them.
type CheckpointServer struct {
	Root string // <work-dir>/tasks
	Log  *slog.Logger

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
	f, err := os.Open(dir.CheckpointPath(i))
	if err != nil {
		http.Error(w, fmt.Sprintf("task %d has no checkpoint %d here", id, i), http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "stat failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", st.ModTime(), f)
	s.Log.Debug("served checkpoint", "task", id, "checkpoint", i, "remote", strings.Split(r.RemoteAddr, ":")[0])
}
