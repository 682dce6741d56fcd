package annotator

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"time"
)

// The page: one HTML file, vanilla JS and CSS, no build step.
//
//go:embed web
var web embed.FS

// TokenHeader carries the API token. Every /api/ request needs it (in this
// header, or as ?token= for images): the URL printed at start-up holds it,
// and a page of another origin can neither read it nor send a custom header
// without a CORS preflight this server never grants, so no other web page
// the person visits can claim or seal through it.
const TokenHeader = "X-Annotator-Token"

// Server serves the page and its JSON API on a loopback address.
type Server struct {
	a     *Annotator
	token string
	log   *slog.Logger
	ln    net.Listener
}

// NewServer returns a server for a, with a fresh random token.
func NewServer(a *Annotator, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return &Server{a: a, token: hex.EncodeToString(b), log: log}, nil
}

// Token is the API token.
func (s *Server) Token() string { return s.token }

// Listen binds addr, which must be a loopback address (port 0: any free
// port), and returns the page's URL with its token.
func (s *Server) Listen(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("listen address %q: the page signs with your key, so it listens on loopback only (127.0.0.1)", addr)
	}
	if s.ln, err = net.Listen("tcp", addr); err != nil {
		return "", err
	}
	return fmt.Sprintf("http://%s/?token=%s", s.ln.Addr(), s.token), nil
}

// Serve serves on the listener until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("annotator server: Listen first")
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Handler is the page and the API:
//
//	GET  /                the page (index.html, app.js, style.css)
//	GET  /api/jobs        open jobs
//	POST /api/claim       {"job": ID} -> the claimed batch
//	GET  /api/batch       the batch to label, with its items (null if none)
//	GET  /api/image       ?job=&item=&side= -> PNG of an item of a claimed batch
//	POST /api/seal        {"job", "group", "items": [...], "labels": [...]} -> the seal's tx
//	GET  /api/status      the annotator's record and batches, with gold and pay
func (s *Server) Handler() http.Handler {
	static, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	api := http.NewServeMux()
	api.HandleFunc("GET /api/jobs", func(w http.ResponseWriter, r *http.Request) {
		jobs, err := s.a.Jobs(r.Context())
		s.reply(w, jobs, err)
	})
	api.HandleFunc("POST /api/claim", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Job uint64 `json:"job"`
		}
		if !s.decode(w, r, &req) {
			return
		}
		rec, err := s.a.Claim(r.Context(), req.Job)
		s.reply(w, map[string]any{"job": rec.Job, "group": rec.Group, "items": rec.Items, "tx": rec.ClaimTx}, err)
	})
	api.HandleFunc("GET /api/batch", func(w http.ResponseWriter, r *http.Request) {
		b, err := s.a.Current(r.Context())
		s.reply(w, b, err)
	})
	api.HandleFunc("GET /api/image", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		job, err1 := strconv.ParseUint(q.Get("job"), 10, 64)
		item, err2 := strconv.ParseUint(q.Get("item"), 10, 32)
		side, err3 := strconv.Atoi(q.Get("side"))
		if err := errors.Join(err1, err2, err3); err != nil {
			s.reply(w, nil, fmt.Errorf("%w: job, item and side must be numbers: %v", ErrBadInput, err))
			return
		}
		img, err := s.a.Image(r.Context(), job, uint32(item), side)
		if err != nil {
			s.reply(w, nil, err)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "private, max-age=3600")
		_, _ = w.Write(img)
	})
	api.HandleFunc("POST /api/seal", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Job    uint64   `json:"job"`
			Group  uint32   `json:"group"`
			Items  []uint32 `json:"items"`
			Labels []uint32 `json:"labels"`
		}
		if !s.decode(w, r, &req) {
			return
		}
		res, err := s.a.Seal(r.Context(), req.Job, req.Group, req.Items, req.Labels)
		s.reply(w, res, err)
	})
	api.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.a.Status(r.Context())
		s.reply(w, st, err)
	})

	mux := http.NewServeMux()
	mux.Handle("/api/", s.guard(api))
	mux.Handle("/", http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Scripts, styles and images from this server only; never framed.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

// guard refuses API requests without the token or for another host name (a
// DNS-rebinding page reaches 127.0.0.1 under its own name).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, `{"error":"forbidden host"}`, http.StatusForbidden)
			return
		}
		token := r.Header.Get(TokenHeader)
		if token == "" && r.Method == http.MethodGet {
			token = r.URL.Query().Get("token")
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
			http.Error(w, `{"error":"missing or wrong token: open the URL hinterlandd annotate printed"}`, http.StatusForbidden)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// decode reads a JSON request body (at most 1 MiB).
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.reply(w, nil, fmt.Errorf("%w: send application/json", ErrBadInput))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.reply(w, nil, fmt.Errorf("%w: %v", ErrBadInput, err))
		return false
	}
	return true
}

// reply writes v as JSON, or err as {"error": ...} with its status code.
func (s *Server) reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, ErrBadInput):
			code = http.StatusBadRequest
		case errors.Is(err, ErrNotFound):
			code = http.StatusNotFound
		case errors.Is(err, ErrWrongPhase):
			code = http.StatusConflict
		default:
			s.log.Warn("request failed", "err", err)
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}
