package explorer

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestHandler: the page is served, REST GETs and the two RPC routes reach
// the node with their prefix stripped, and nothing else does (no writes, no
// other RPC route such as broadcast_tx_commit).
func TestHandler(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	node := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, name+" "+r.Method+" "+r.URL.RequestURI())
			mu.Unlock()
			io.WriteString(w, `{"ok":true}`)
		}))
	}
	rest, rpc := node("rest"), node("rpc")
	defer rest.Close()
	defer rpc.Close()
	h, err := Handler(rest.URL, rpc.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("GET", "/"); code != 200 || !strings.Contains(body, "Hinterland explorer") {
		t.Fatalf("page: %d %.80s", code, body)
	}
	if code, body := do("GET", "/app.js"); code != 200 || !strings.Contains(body, "rpc/websocket") {
		t.Fatalf("app.js: %d", code)
	}
	if code, _ := do("GET", "/api/hinterland/tasks/v1/tasks?pagination.limit=5"); code != 200 {
		t.Fatalf("REST GET: %d", code)
	}
	if code, _ := do("GET", "/rpc/status"); code != 200 {
		t.Fatalf("RPC status: %d", code)
	}
	for _, p := range [][2]string{{"POST", "/api/cosmos/tx/v1beta1/txs"}, {"POST", "/rpc/status"}, {"GET", "/rpc/broadcast_tx_commit?tx=0x00"}, {"GET", "/rpc/unsafe_flush_mempool"}} {
		if code, _ := do(p[0], p[1]); code == 200 {
			t.Errorf("%s %s reached the node (%d)", p[0], p[1], code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"rest GET /hinterland/tasks/v1/tasks?pagination.limit=5", "rpc GET /status"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Fatalf("the node saw %q, want %q", seen, want)
	}
	if _, err := Handler("127.0.0.1:1317", rpc.URL); err == nil {
		t.Fatal("a REST address without a scheme was accepted")
	}
}
