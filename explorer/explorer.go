// Package explorer serves Hinterland's explorer: one static web page (HTML,
// vanilla JS and CSS, no build step) that reads a node's REST API and follows
// its CometBFT websocket: open and running tasks, a task's transcripts with
// their sampled segments and verdicts, the fraud window's countdown, the
// model lineage as a graph, the leaderboard, the compute pool and epochs,
// annotation and federated jobs.
//
// The page is served with a same-origin, read-only proxy to the node (the
// node's REST server does not send CORS headers): /api/... goes to the REST
// server (GET only), /rpc/status and /rpc/websocket to CometBFT's RPC. No
// other RPC route (broadcast, unsafe routes) is reachable through it.
package explorer

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

//go:embed web
var web embed.FS

// Handler returns the explorer for a node whose REST server is at api and
// CometBFT RPC at rpc (http:// URLs).
func Handler(api, rpc string) (http.Handler, error) {
	apiURL, err := url.Parse(api)
	if err != nil || apiURL.Scheme == "" || apiURL.Host == "" {
		return nil, fmt.Errorf("REST address %q: want http://host:port", api)
	}
	rpcURL, err := url.Parse(rpc)
	if err != nil || rpcURL.Scheme == "" || rpcURL.Host == "" {
		return nil, fmt.Errorf("RPC address %q: want http://host:port", rpc)
	}
	static, err := fs.Sub(web, "web")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(static))
	// GET only: the mux answers other methods with 405 Method Not Allowed.
	mux.Handle("GET /api/", proxy(apiURL, "/api"))
	rpcProxy := proxy(rpcURL, "/rpc")
	mux.Handle("GET /rpc/status", rpcProxy)
	mux.Handle("GET /rpc/websocket", rpcProxy)
	return mux, nil
}

// proxy forwards requests under prefix to target, without the prefix. The
// websocket upgrade passes through (httputil.ReverseProxy handles it).
func proxy(target *url.URL, prefix string) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.URL.Path = strings.TrimPrefix(r.In.URL.Path, prefix)
			r.Out.URL.RawPath = ""
			r.Out.Host = target.Host
			// The node's websocket checks the origin against its own host.
			r.Out.Header.Del("Origin")
		},
	}
}
