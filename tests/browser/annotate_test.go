// Package browser_test drives `hinterlandd annotate`'s page in headless
// Chromium (the Debian package chromium) through the DevTools protocol
// (chromedp), against a real one-validator localnet, as a person would.
package browser_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	"github.com/hinterland-ai/hinterland/x/annotation"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// ScreenshotEnv, when set, names the file the labelling page's screenshot
// is written to, relative to the repository root unless absolute
// (docs/annotator.png is made with `make test-browser SCREENSHOT=docs/annotator.png`).
const ScreenshotEnv = "ANNOTATOR_SCREENSHOT"

const (
	items       = 8
	labelWindow = 30 * time.Second
	window      = "15s" // open and gold windows (genesis)
	pay         = 1000  // uhint per accepted label
	flipped     = 2     // the gold item the person labels wrongly on purpose
)

var pageURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/\?token=[0-9a-f]+`)

// chromium finds the browser; the test fails, never skips, without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the browser test needs headless Chromium and found none on PATH: apt-get install -y chromium " +
		"(scripts/ensure-tools.sh installs it for make test)")
	return ""
}

// A person labels a batch of MNIST digits with the keyboard in the page; the
// chain gets a seal, then (the label deadline past) the opening the page's
// command sends by itself, with exactly the labels typed; once the job
// settles the page shows the gold accuracy and the pay the chain recorded.
func TestAnnotatorPage(t *testing.T) {
	browser := chromium(t)
	c := chainproc.Start(t, chainproc.Options{
		Keys:      []string{"requester", "annotator"},
		BlockTime: 500 * time.Millisecond,
		Genesis: func(app map[string]json.RawMessage) error {
			if err := chainproc.SetParam(app, "annotation", "open_window", window); err != nil {
				return err
			}
			return chainproc.SetParam(app, "annotation", "gold_window", window)
		},
	})
	dir := t.TempDir()
	itemsPath := filepath.Join(dir, "items.hlds")
	c.MustCLI("dataset", "pack", "--mnist", datasettest.MNISTDir(t), "--set", "t10k", "--limit", strconv.Itoa(items), "-o", itemsPath)
	file, err := dataset.Open(itemsPath)
	if err != nil {
		t.Fatal(err)
	}

	annotate := func(name string) (*chainproc.Process, string) {
		t.Helper()
		p := chainproc.StartProcess(t, name, filepath.Join(dir, name+".log"), c.Bin, "annotate",
			"--home", c.Home, "--from", "annotator", "--node", c.RPC, "--grpc-addr", c.GRPC, "--grpc-insecure",
			"--work-dir", filepath.Join(dir, "work"), "--listen", "127.0.0.1:0", "--poll-interval", "1s")
		return p, pageURL.FindString(p.WaitFor(60*time.Second, "the page's URL", pageURL.MatchString))
	}
	proc, url := annotate("annotate")

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1000, 940))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, stop := context.WithTimeout(ctx, 30*time.Second)
		defer stop()
		if err := chromedp.Do(step, steps...); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		step, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		v, err := chromedp.Run(step, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("browser: %s: %v", js, err)
		}
		return v
	}
	// The browser starts (without a timeout: see chromedp.Run) before the
	// job's label window does.
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browser: open %s: %v", url, err)
	}

	// The requester posts a one-group job over the 8 items, with a gold set
	// of items 0..4 at their true labels.
	truth := make([]uint32, items)
	for i := range truth {
		r, err := file.Row(uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		truth[i] = r.Label
	}
	var gold []types.GoldItem
	for i := range uint32(5) {
		gold = append(gold, types.GoldItem{Item: i, Label: truth[i]})
	}
	goldSalt := make([]byte, 32)
	_, _ = rand.Read(goldSalt)
	posted := sendTx(t, c, "requester", &types.MsgPostJob{
		Requester: c.Addrs["requester"],
		Items: taskstypes.DatasetRef{Root: file.Root(), Rows: file.Len(), Schema: taskstypes.FromDatasetSchema(file.Schema()),
			Uri: "file://" + itemsPath},
		Kind: types.LABEL_KIND_CLASS, Classes: 10, Redundancy: 1, BatchSize: items,
		PayPerLabel: sdk.NewInt64Coin("uhint", pay), Stake: sdk.NewInt64Coin("uhint", 5000),
		GoldDeposit: sdk.NewInt64Coin("uhint", 1000), MinGoldAccuracyBps: 6000,
		GoldCommitment: types.GoldCommitment(goldSalt, gold), LabelWindow: labelWindow,
	})
	id, ok := posted.Attr(types.EventTypeJobPosted, "job_id")
	if !ok {
		t.Fatalf("no EventJobPosted in %+v", posted.Events)
	}

	// Claim from the jobs table.
	do("reload and claim", chromedp.Navigate(url),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-claim="%s"]:not([disabled])`, id))),
		chromedp.WaitVisible(chromedp.ID("labeller")))
	group := eval(`document.getElementById("lab-group").textContent`)
	var grp struct {
		Items []uint32 `json:"items"`
	}
	c.Query(&grp, "query", "annotation", "group", id, group)
	if len(grp.Items) != items {
		t.Fatalf("group %s of job %s: %v", group, id, grp.Items)
	}

	// Label every item from the keyboard: the true digit, except the
	// flipped gold item; Enter and → alternate as "next".
	typed := make([]byte, items)
	for i, item := range grp.Items {
		do(fmt.Sprintf("item %d shown", i), chromedp.Poll[chromedp.Void](
			fmt.Sprintf(`document.getElementById("item").dataset.pos === "%d"`, i), chromedp.WithPollingTimeout(15*time.Second)))
		if shown := eval(`document.getElementById("item").dataset.item`); shown != strconv.Itoa(int(item)) {
			t.Fatalf("position %d shows item %s, the chain's group has %d there", i, shown, item)
		}
		row, err := file.Row(uint64(item))
		if err != nil {
			t.Fatal(err)
		}
		checkImage(t, eval(`document.querySelector("#item img").src`), row.Features)
		label := truth[item]
		if item == flipped {
			label = (label + 1) % 10
		}
		typed[i] = byte(label)
		do("type a digit", chromedp.KeyEvent(strconv.Itoa(int(label))))
		if sel := eval(`document.querySelector(".choice.selected").dataset.label`); sel != strconv.Itoa(int(label)) {
			t.Fatalf("item %d: typed %d, the page selected %s", i, label, sel)
		}
		if done := eval(`document.getElementById("progress").getAttribute("aria-valuenow")`); done != strconv.Itoa(i+1) {
			t.Fatalf("item %d: progress %s, want %d", i, done, i+1)
		}
		if i == 3 {
			screenshot(t, ctx)
		}
		next := kb.Enter
		if i%2 == 1 {
			next = kb.ArrowRight
		}
		do("next", chromedp.KeyEvent(next))
	}
	do("sealed", chromedp.WaitVisible(chromedp.ID("sealed")))

	// On chain: sealed now, opened after the label deadline by the command,
	// killed (kill -9) and started again on the same work dir meanwhile: the
	// opening needs only what it wrote to disk before sealing.
	me := c.Addrs["annotator"]
	if b := batch(t, c, id, me); b.Status != "BATCH_STATUS_SEALED" || len(b.Labels) != 0 {
		t.Fatalf("after the page sealed: %+v", b)
	}
	proc.Kill()
	proc, url = annotate("annotate-restarted")
	b := waitBatch(t, c, id, me, "BATCH_STATUS_OPENED", labelWindow+45*time.Second, proc)
	if !bytes.Equal(b.Labels, typed) {
		t.Fatalf("opened labels %v, typed %v", b.Labels, typed)
	}

	// The requester reveals its gold set; the job settles at the open deadline.
	sendTx(t, c, "requester", &types.MsgRevealGold{Requester: c.Addrs["requester"], JobId: mustUint(t, id), Gold: gold, Salt: goldSalt})
	b = waitBatch(t, c, id, me, "BATCH_STATUS_PAID", time.Minute, proc)
	var final struct {
		Labels []uint32 `json:"labels"`
	}
	c.Query(&final, "query", "annotation", "labels", id)
	accepted := 0
	for i, item := range grp.Items {
		if uint32(typed[i]) == final.Labels[item] {
			accepted++
		}
	}
	if b.GoldSeen != 5 || b.GoldCorrect != 4 || b.Accepted != accepted || b.Paid.Amount != strconv.Itoa(accepted*pay) {
		t.Fatalf("settled batch %+v; want gold 4/5, %d accepted, paid %d", b, accepted, accepted*pay)
	}

	// The page (of the restarted command) shows what the chain recorded.
	do("open the restarted page", chromedp.Navigate(url))
	row := fmt.Sprintf(`document.querySelector('tr[data-batch="%s-%s"]')`, id, group)
	do("the page shows the settlement", chromedp.Poll[chromedp.Void](row+`?.querySelector(".status").textContent === "paid"`,
		chromedp.WithPollingTimeout(20*time.Second)))
	for cell, want := range map[string]string{
		".gold":     "4 / 5",
		".accepted": fmt.Sprintf("%d / %d", accepted, items),
		".paid":     fmt.Sprintf("%duhint", accepted*pay),
	} {
		if got := eval(row + `.querySelector("` + cell + `").textContent`); got != want {
			t.Errorf("page %s: %q, want %q", cell, got, want)
		}
	}
	if got := eval(`document.getElementById("earned").textContent`); got != fmt.Sprintf("%duhint", accepted*pay) {
		t.Errorf("page earned %q", got)
	}
}

// checkImage fetches an image the page shows and compares it with the row.
func checkImage(t *testing.T, src string, want []int32) {
	t.Helper()
	res, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	img, err := png.Decode(res.Body)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if b := img.Bounds(); b.Dx() != 28 || b.Dy() != 28 {
		t.Fatalf("%s: %v, want 28x28", src, b)
	}
	for i, v := range want {
		if r, _, _, _ := img.At(i%28, i/28).RGBA(); int32(r>>8) != v {
			t.Fatalf("%s: pixel %d is %d, the row has %d", src, i, r>>8, v)
		}
	}
}

// screenshot captures the labelling page; it is written where ScreenshotEnv
// says, and always checked to be a PNG.
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	step, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	bz, err := chromedp.Run(step, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if _, err := png.Decode(bytes.NewReader(bz)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if path := os.Getenv(ScreenshotEnv); path != "" {
		if !filepath.IsAbs(path) {
			path = filepath.Join("..", "..", path) // the test runs in tests/browser
		}
		if err := os.WriteFile(path, bz, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the labelling page: %s (%d bytes)", path, len(bz))
	}
}

// sendTx signs msg with the key from through `tx sign` and broadcasts it
// with `tx broadcast` (x/annotation's post and gold reveal have no AutoCLI
// commands), and waits for it to succeed.
func sendTx(t *testing.T, c *chainproc.Chain, from string, msg sdk.Msg) chainproc.TxResult {
	t.Helper()
	enc := moduletestutil.MakeTestEncodingConfig(annotation.AppModule{})
	b := enc.TxConfig.NewTxBuilder()
	if err := b.SetMsgs(msg); err != nil {
		t.Fatal(err)
	}
	const gas = 2_000_000
	b.SetGasLimit(gas)
	b.SetFeeAmount(sdk.NewCoins(sdk.NewInt64Coin("uhint", gas/1000))) // the 0.001uhint minimum gas price
	bz, err := enc.TxConfig.TxJSONEncoder()(b.GetTx())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unsigned, signed := filepath.Join(dir, "unsigned.json"), filepath.Join(dir, "signed.json")
	if err := os.WriteFile(unsigned, bz, 0o600); err != nil {
		t.Fatal(err)
	}
	c.MustCLI("tx", "sign", unsigned, "--from", from, "--output-document", signed)
	out := c.MustCLI("tx", "broadcast", signed, "--output", "json")
	var sent struct {
		TxHash string `json:"txhash"`
		Code   uint32 `json:"code"`
		RawLog string `json:"raw_log"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &sent); err != nil || sent.TxHash == "" || sent.Code != 0 {
		t.Fatalf("broadcast %T: %v: %s", msg, err, out)
	}
	res := c.WaitTx(sent.TxHash, 30*time.Second)
	if res.Code != 0 {
		t.Fatalf("%T: code %d: %s", msg, res.Code, res.RawLog)
	}
	return res
}

type batchJSON struct {
	Annotator   string `json:"annotator"`
	Status      string `json:"status"`
	Labels      []byte `json:"labels"` // base64 in JSON
	GoldSeen    int    `json:"gold_seen"`
	GoldCorrect int    `json:"gold_correct"`
	Accepted    int    `json:"accepted"`
	Paid        struct {
		Amount string `json:"amount"`
	} `json:"paid"`
}

// batch returns the annotator's batch of a job.
func batch(t *testing.T, c *chainproc.Chain, job, annotator string) batchJSON {
	t.Helper()
	var res struct {
		Batches []batchJSON `json:"batches"`
	}
	c.Query(&res, "query", "annotation", "batches", job)
	for _, b := range res.Batches {
		if b.Annotator == annotator {
			return b
		}
	}
	t.Fatalf("job %s has no batch of %s: %+v", job, annotator, res.Batches)
	return batchJSON{}
}

// waitBatch waits for the annotator's batch to reach a status.
func waitBatch(t *testing.T, c *chainproc.Chain, job, annotator, status string, timeout time.Duration, proc *chainproc.Process) batchJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b := batch(t, c, job, annotator)
		if b.Status == status {
			return b
		}
		if proc.Exited() {
			t.Fatalf("%s exited: %v", proc.Name, proc.ExitErr())
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: the batch is %s after %s, want %s", job, b.Status, timeout, status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
