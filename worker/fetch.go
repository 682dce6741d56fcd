package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// httpClient fetches datasets and checkpoints. Datasets can be large, so
// there is no overall timeout; the caller's context bounds the transfer and
// the transport bounds connection set-up and the wait for response headers.
var httpClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	},
}

// ErrTooLarge is returned when a resource is larger than the caller allows.
var ErrTooLarge = errors.New("resource is larger than allowed")

// parseURI accepts file://, http:// and https:// URIs (the schemes the chain
// accepts for dataset and checkpoint URIs).
func parseURI(uri string) (*url.URL, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("uri %q: %w", uri, err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" {
			return nil, fmt.Errorf("uri %q: a file URI needs an absolute path (file:///path)", uri)
		}
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("uri %q: missing host", uri)
		}
	default:
		return nil, fmt.Errorf("uri %q: scheme must be file, http or https", uri)
	}
	return u, nil
}

// open returns a reader over the resource a URI names. The caller closes it.
func open(ctx context.Context, uri string) (io.ReadCloser, error) {
	u, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "file" {
		return os.Open(u.Path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", uri, res.Status)
	}
	return res.Body, nil
}

// Fetch reads the resource a file://, http:// or https:// URI names into
// memory. A resource larger than limit bytes is an error wrapping ErrTooLarge.
func Fetch(ctx context.Context, uri string, limit int64) ([]byte, error) {
	rc, err := open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", uri, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes)", uri, ErrTooLarge, limit)
	}
	return b, nil
}

// FetchToFile copies the resource a URI names into path, atomically: the
// bytes go to a temporary file in the same directory that is renamed over
// path only when complete, so an interrupted download never leaves a partial
// file under the final name.
func FetchToFile(ctx context.Context, uri, path string, limit int64) error {
	rc, err := open(ctx, uri)
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeAtomic(path, func(w io.Writer) error {
		n, err := io.Copy(w, io.LimitReader(rc, limit+1))
		if err != nil {
			return fmt.Errorf("reading %s: %w", uri, err)
		}
		if n > limit {
			return fmt.Errorf("%s: %w (%d bytes)", uri, ErrTooLarge, limit)
		}
		return nil
	})
}

// writeAtomic writes a file through a temporary file in the same directory
// renamed into place: after a kill -9 the file has either its old content or
// the complete new one. There is no fsync: it would triple the cost of
// checkpointing, and nothing read back is trusted without a check (every
// checkpoint's hash is verified on resume, every dataset's Merkle root on
// open), so a file lost to a power cut is recomputed or fetched again.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<16)
	if err = write(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// writeFileAtomic is writeAtomic for a byte slice.
func writeFileAtomic(path string, b []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
