package browser_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/testutil/chainproc"
)

// ExplorerScreenshotEnv, when set, names the file the explorer's screenshot
// is written to (docs/explorer.png: make test-browser SCREENSHOT_EXPLORER=docs/explorer.png).
const ExplorerScreenshotEnv = "EXPLORER_SCREENSHOT"

var explorerURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/`)

// TestExplorerPage: a requester posts an MNIST task on a localnet, a worker
// trains it, the chain verifies and pays; the explorer page, opened in
// headless Chromium on the task, follows it live over the websocket and ends
// showing the task completed, its transcript final with the sampled segments
// verified, the verdicts, the worker's loss curve and the model's lineage.
func TestExplorerPage(t *testing.T) {
	browser := chromium(t)
	c := chainproc.Start(t, chainproc.Options{
		Keys:      []string{"alice", "worker1"},
		BlockTime: 500 * time.Millisecond,
		Genesis: func(app map[string]json.RawMessage) error {
			if err := chainproc.SetParam(app, "verification", "fraud_window", "10s"); err != nil {
				return err
			}
			return chainproc.SetParam(app, "verification", "reveal_window", "60s")
		},
	})
	dir := t.TempDir()
	train := filepath.Join(dir, "train.hlds")
	if _, err := chainproc.Run(c.Bin, "dataset", "pack", "--mnist", datasettest.MNISTDir(t), "--set", "train", "--limit", "1000",
		"-o", train, "--home", filepath.Join(dir, "pack")); err != nil {
		t.Fatal(err)
	}
	exp := chainproc.StartProcess(t, "explorer", filepath.Join(dir, "explorer.log"), c.Bin, "explorer",
		"--rest-url", c.API, "--rpc-url", c.RPC, "--addr", "127.0.0.1:0")
	url := explorerURL.FindString(exp.WaitForText(20*time.Second, "explorer at"))
	if url == "" {
		t.Fatalf("no URL in the explorer's output:\n%s", exp.Output())
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1200, 1400))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	do := func(what string, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, stop := context.WithTimeout(ctx, timeout)
		defer stop()
		if err := chromedp.Do(step, steps...); err != nil {
			t.Fatalf("browser: %s: %v\nexplorer log:\n%s", what, err, exp.Output())
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"#task/1")); err != nil {
		t.Fatalf("browser: open %s: %v", url, err)
	}

	r := c.MustTx("alice", "tx", "tasks", "post", "--preset", "mnist-softmax", "--total-steps", "48", "--segment-steps", "4",
		"--dataset", train, "--samples", "3", "--chain-randomness", "--reward", "1000000uhint", "--bond", "100000uhint",
		"--claim-window", "10m", "--commit-window", "5m")
	if id, _ := r.Attr("hinterland.tasks.v1.EventTaskPosted", "task_id"); id != "1" {
		t.Fatalf("posted task %q, want 1", id)
	}
	do("the open task is listed", 30*time.Second, chromedp.WaitVisible(chromedp.CSS(`#tasks tr[data-task="1"]`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("live").textContent === "live"`, chromedp.WithPollingTimeout(20*time.Second)))
	chainproc.StartProcess(t, "worker1", filepath.Join(dir, "worker1.log"), c.Bin, "worker", "start", "--home", c.Home,
		"--from", "worker1", "--node", c.RPC, "--grpc-addr", c.GRPC, "--grpc-insecure", "--work-dir", filepath.Join(dir, "w1"),
		"--serve-addr", "127.0.0.1:0", "--poll-interval", "1s")

	do("the sampled segments verified, the fraud window counting down", 120*time.Second,
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#verdicts tr[data-outcome="OUTCOME_SEGMENT_VERIFIED"]').length === 3`,
			chromedp.WithPollingTimeout(110*time.Second)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('.transcript .seg.verified').length === 3 && document.querySelectorAll('.transcript .seg').length === 12`,
			chromedp.WithPollingTimeout(10*time.Second)))
	do("the task completed, the transcript final, the model in the lineage", 60*time.Second,
		chromedp.Poll[chromedp.Void](`document.getElementById("task-status")?.dataset.status === "TASK_STATUS_COMPLETED"`, chromedp.WithPollingTimeout(55*time.Second)),
		chromedp.Poll[chromedp.Void](`document.querySelector('.transcript')?.dataset.status === "TRANSCRIPT_STATUS_FINAL" &&
			document.querySelectorAll('#verdicts tr[data-outcome="OUTCOME_FINAL"]').length === 1 &&
			document.querySelectorAll('#lineage-graph g[data-model]').length === 1 &&
			document.querySelector('#tasks tr[data-task="1"]').dataset.status === "TASK_STATUS_COMPLETED" &&
			document.querySelector('#leaderboard tbody tr td') !== null`, chromedp.WithPollingTimeout(20*time.Second)),
		// The loss curve the worker publishes beside its checkpoints, fetched
		// from the worker's server (another origin) and drawn.
		chromedp.Poll[chromedp.Void](`Number(document.querySelector('.transcript .loss svg.loss-curve')?.dataset.points) >= 2 &&
			document.querySelector('.transcript .loss polyline').getAttribute('points').split(' ').length ===
			Number(document.querySelector('.transcript .loss svg.loss-curve').dataset.points)`, chromedp.WithPollingTimeout(20*time.Second)))

	// The lineage node is the model the chain recorded.
	var tr struct {
		Transcript struct {
			FinalModelHash string `json:"final_model_hash"`
		} `json:"transcript"`
	}
	c.Query(&tr, "query", "verification", "transcript", "1", c.Addrs["worker1"])
	step, stop := context.WithTimeout(ctx, 10*time.Second)
	shown, err := chromedp.Run(step, chromedp.Evaluate[string](`document.querySelector('#lineage-graph g[data-model]').dataset.model`))
	stop()
	if err != nil || fmt.Sprintf("%x", b64(t, tr.Transcript.FinalModelHash)) != shown {
		t.Fatalf("lineage shows model %q (%v), the chain recorded %s", shown, err, tr.Transcript.FinalModelHash)
	}
	shot(t, ctx, ExplorerScreenshotEnv)
}

// b64 decodes proto JSON bytes.
func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("model hash %q: %v", s, err)
	}
	return b
}

// shot captures the page as a PNG (full page) and writes it where env says.
func shot(t *testing.T, ctx context.Context, env string) {
	t.Helper()
	step, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	bz, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if path := os.Getenv(env); path != "" {
		if !filepath.IsAbs(path) {
			path = filepath.Join("..", "..", path)
		}
		if err := os.WriteFile(path, bz, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(bz))
	}
}
