package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// The worker tests run the real binary: a one-validator chain with a short
// fraud window (genesis edit), `tx tasks post`, `worker start` and
// `worker watch` processes, and the CLI for every check.

const (
	fraudWindow  = "15s"
	revealWindow = "60s"
	reward       = 1_000_000
	bond         = 100_000
)

// workerEnv is a chain plus the datasets the tests post tasks on.
type workerEnv struct {
	t     *testing.T
	c     *chainproc.Chain
	train string // MNIST training subset, packed
}

var (
	packOnce sync.Once
	packDir  string
	packErr  error
)

// packedTrain packs (once per test binary) the first 2000 MNIST training
// rows with `hinterlandd dataset pack`.
func packedTrain(t *testing.T, bin string) string {
	t.Helper()
	mnist := datasettest.MNISTDir(t)
	packOnce.Do(func() {
		if packDir, packErr = os.MkdirTemp("", "hinterland-e2e-data"); packErr != nil {
			return
		}
		_, packErr = chainproc.Run(bin, "dataset", "pack", "--mnist", mnist, "--set", "train", "--limit", "2000",
			"-o", filepath.Join(packDir, "train.hlds"), "--home", filepath.Join(packDir, "home"))
	})
	if packErr != nil {
		t.Fatal(packErr)
	}
	return filepath.Join(packDir, "train.hlds")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if packDir != "" {
		os.RemoveAll(packDir)
	}
	os.Exit(code)
}

func newWorkerEnv(t *testing.T) *workerEnv {
	t.Helper()
	c := chainproc.Start(t, chainproc.Options{
		Keys:      []string{"alice", "worker1", "worker2", "watcher"},
		BlockTime: 500 * time.Millisecond,
		Genesis: func(app map[string]json.RawMessage) error {
			if err := chainproc.SetParam(app, "verification", "fraud_window", fraudWindow); err != nil {
				return err
			}
			return chainproc.SetParam(app, "verification", "reveal_window", revealWindow)
		},
	})
	return &workerEnv{t: t, c: c, train: packedTrain(t, c.Bin)}
}

// post posts a task from alice, its samples drawn from the chain's
// randomness (no requester secret to reveal), and returns its id.
func (e *workerEnv) post(args ...string) uint64 {
	e.t.Helper()
	return e.postSecret(append(args, "--chain-randomness")...)
}

// postSecret posts a task with a requester secret (the CLI's default): alice
// must reveal it (revealSecret) once every claim is sealed.
func (e *workerEnv) postSecret(args ...string) uint64 {
	e.t.Helper()
	base := []string{"tx", "tasks", "post", "--reward", fmt.Sprintf("%duhint", reward), "--bond", fmt.Sprintf("%duhint", bond),
		"--claim-window", "10m", "--commit-window", "5m"}
	r := e.c.MustTx("alice", append(base, args...)...)
	id, ok := r.Attr(taskstypes.EventTypeTaskPosted, "task_id")
	if !ok {
		e.t.Fatalf("no EventTaskPosted in %+v", r.Events)
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// revealSecret waits until every claim of the task is sealed, then reveals
// alice's sampling secret with `tx tasks reveal-secret`.
func (e *workerEnv) revealSecret(id uint64, timeout time.Duration, procs ...*chainproc.Process) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var task struct {
			Task struct {
				ClaimsClosed bool `json:"claims_closed"`
			} `json:"task"`
		}
		e.c.Query(&task, "query", "tasks", "task", fmt.Sprint(id))
		if task.Task.ClaimsClosed {
			break
		}
		for _, p := range procs {
			if p.Exited() {
				e.t.Fatalf("%s exited before sealing:\n%s", p.Name, p.Output())
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("task %d: claims not closed within %s", id, timeout)
		}
		time.Sleep(300 * time.Millisecond)
	}
	e.c.MustTx("alice", "tx", "tasks", "reveal-secret", fmt.Sprint(id))
}

// startWorker runs `worker start` for a key with its own work dir.
func (e *workerEnv) startWorker(name, key, workDir string, extra ...string) *chainproc.Process {
	e.t.Helper()
	args := append([]string{"worker", "start", "--home", e.c.Home, "--from", key, "--node", e.c.RPC,
		"--grpc-addr", e.c.GRPC, "--grpc-insecure", "--work-dir", workDir, "--serve-addr", "127.0.0.1:0",
		"--poll-interval", "1s", "--progress", "log"}, extra...)
	return chainproc.StartProcess(e.t, name, filepath.Join(e.t.TempDir(), name+".log"), e.c.Bin, args...)
}

type transcriptJSON struct {
	Transcript struct {
		Status       string   `json:"status"`
		Uri          string   `json:"uri"`
		Sampled      []uint32 `json:"sampled"`
		Verified     []uint32 `json:"verified"`
		MacsTotal    string   `json:"macs_total"`
		MacsVerified string   `json:"macs_verified"`
		Failure      string   `json:"failure"`
		Checkpoints  []string `json:"checkpoints"`
		FraudEnd     string   `json:"fraud_window_end"`
		DrawSource   string   `json:"draw_source"`
	} `json:"transcript"`
}

// transcript returns a worker's transcript (Status "" if there is none).
func (e *workerEnv) transcript(id uint64, worker string) transcriptJSON {
	var tr transcriptJSON
	out, err := e.c.CLI("query", "verification", "transcript", fmt.Sprint(id), worker, "--output", "json")
	if err == nil {
		_ = json.Unmarshal([]byte(out), &tr)
	}
	return tr
}

// waitTranscript waits for a transcript status, failing early on another
// terminal status.
func (e *workerEnv) waitTranscript(id uint64, worker, status string, timeout time.Duration, procs ...*chainproc.Process) transcriptJSON {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		tr := e.transcript(id, worker)
		switch s := tr.Transcript.Status; {
		case s == status:
			return tr
		case s == "TRANSCRIPT_STATUS_FINAL" || s == "TRANSCRIPT_STATUS_FAILED":
			e.t.Fatalf("task %d worker %s: transcript %s (%s), want %s", id, worker, s, tr.Transcript.Failure, status)
		}
		for _, p := range procs {
			if p.Exited() {
				e.t.Fatalf("%s exited: %v", p.Name, p.ExitErr())
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("task %d worker %s: transcript is %q after %s, want %s", id, worker, tr.Transcript.Status, timeout, status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

type assignmentsJSON struct {
	Assignments []struct {
		Worker  string `json:"worker"`
		Status  string `json:"status"`
		Failure string `json:"failure"`
	} `json:"assignments"`
}

func (e *workerEnv) assignment(id uint64, worker string) (status, failure string) {
	e.t.Helper()
	var as assignmentsJSON
	e.c.Query(&as, "query", "tasks", "assignments", fmt.Sprint(id))
	for _, a := range as.Assignments {
		if a.Worker == worker {
			return a.Status, a.Failure
		}
	}
	return "", ""
}

func (e *workerEnv) taskStatus(id uint64) string {
	e.t.Helper()
	var res struct {
		Task struct {
			Status string `json:"status"`
		} `json:"task"`
	}
	e.c.Query(&res, "query", "tasks", "task", fmt.Sprint(id))
	return res.Task.Status
}

// txRecord is a line of the worker's txs.jsonl.
type txRecord struct {
	Kind    string `json:"kind"`
	Code    uint32 `json:"code"`
	Fee     string `json:"fee"`
	GasUsed int64  `json:"gas_used"`
}

// workerTxs reads a task's txs.jsonl and returns the records and the fees paid.
func workerTxs(t *testing.T, workDir string, id uint64) ([]txRecord, int64) {
	t.Helper()
	bz, err := os.ReadFile(filepath.Join(workDir, "tasks", fmt.Sprint(id), "txs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []txRecord
	var fees int64
	for _, line := range strings.Split(strings.TrimSpace(string(bz)), "\n") {
		var r txRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
		n, err := strconv.ParseInt(strings.TrimSuffix(r.Fee, "uhint"), 10, 64)
		if err != nil {
			t.Fatalf("fee %q: %v", r.Fee, err)
		}
		fees += n
	}
	return recs, fees
}

func countKind(recs []txRecord, kind string) int {
	n := 0
	for _, r := range recs {
		if r.Kind == kind {
			n++
		}
	}
	return n
}

// TestWorkerHonest: a task posted with an http:// dataset URI is claimed,
// trained, committed, its sampled segments revealed and verified, and after
// the fraud window the worker is paid exactly its share minus the protocol
// fee, minus the fees it paid; its checkpoints are served and check out
// with `verification verify-segment`.
func TestWorkerHonest(t *testing.T) {
	e := newWorkerEnv(t)
	c := e.c
	srvPort := chainproc.FreePort(t)
	srv := chainproc.StartProcess(t, "dataset-server", filepath.Join(t.TempDir(), "serve.log"), c.Bin,
		"dataset", "serve", filepath.Dir(e.train), "--addr", fmt.Sprintf("127.0.0.1:%d", srvPort), "--home", c.Home)
	srv.WaitForText(20*time.Second, "train.hlds")
	uri := fmt.Sprintf("http://127.0.0.1:%d/train.hlds", srvPort)

	w1 := c.Addrs["worker1"]
	before := c.Balance(w1, "uhint")
	id := e.postSecret("--preset", "mnist-softmax", "--total-steps", "240", "--segment-steps", "12",
		"--dataset", e.train, "--dataset-uri", uri, "--samples", "3")
	wd := filepath.Join(t.TempDir(), "w1")
	wp := e.startWorker("worker1", "worker1", wd)
	e.revealSecret(id, 90*time.Second, wp)

	tr := e.waitTranscript(id, w1, "TRANSCRIPT_STATUS_PASSED", 90*time.Second, wp)
	if len(tr.Transcript.Sampled) != 3 || len(tr.Transcript.Verified) != 3 {
		t.Fatalf("sampled %v verified %v, want 3 each", tr.Transcript.Sampled, tr.Transcript.Verified)
	}
	if tr.Transcript.DrawSource != "DRAW_SOURCE_REQUESTER_SECRET" {
		t.Fatalf("sample drawn from %q, want the requester's secret", tr.Transcript.DrawSource)
	}
	// During the fraud window the checkpoints are served and an unverified
	// segment checks out off-chain.
	seg := uint32(0)
	for containsU32(tr.Transcript.Verified, seg) {
		seg++
	}
	res, err := http.Get(tr.Transcript.Uri + "/" + fmt.Sprint(seg))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET checkpoint %d from %s: %v %v", seg, tr.Transcript.Uri, err, res)
	}
	res.Body.Close()
	out, err := c.CLI("verification", "verify-segment", "--task", fmt.Sprint(id), "--worker", w1,
		"--segment", fmt.Sprint(seg), "--dataset", e.train)
	if err != nil || !strings.Contains(out, "MATCH") {
		t.Fatalf("verify-segment %d: %v\n%s", seg, err, out)
	}

	e.waitTranscript(id, w1, "TRANSCRIPT_STATUS_FINAL", 60*time.Second, wp)
	if st, _ := e.assignment(id, w1); st != "ASSIGNMENT_STATUS_VERIFIED" {
		t.Fatalf("assignment %s", st)
	}
	if st := e.taskStatus(id); st != "TASK_STATUS_COMPLETED" {
		t.Fatalf("task %s", st)
	}
	wp.WaitForText(30*time.Second, "task verified and paid")
	recs, fees := workerTxs(t, wd, id)
	if countKind(recs, "claim") != 1 || countKind(recs, "seal") != 1 || countKind(recs, "open") != 1 || countKind(recs, "reveal") != 3 || len(recs) != 6 {
		t.Fatalf("worker txs %+v: want exactly one claim, one seal, one open and three reveals", recs)
	}
	for _, r := range recs {
		if r.Code != 0 {
			t.Fatalf("worker tx failed: %+v", r)
		}
	}
	// Paid reward minus the 5% protocol fee; the bond came back.
	if got, want := c.Balance(w1, "uhint")-before, int64(reward*95/100)-fees; got != want {
		t.Fatalf("worker balance changed by %d, want %d (reward share %d - fees %d)", got, want, reward*95/100, fees)
	}
	for _, f := range []string{"loss.csv", "loss.png", "report.json", "checkpoints.log"} {
		if _, err := os.Stat(filepath.Join(wd, "tasks", fmt.Sprint(id), f)); err != nil {
			t.Fatal(err)
		}
	}
	var rep struct {
		Assignment   string `json:"assignment"`
		MACsTotal    uint64 `json:"macs_total"`
		MACsVerified uint64 `json:"macs_verified"`
	}
	bz, _ := os.ReadFile(filepath.Join(wd, "tasks", fmt.Sprint(id), "report.json"))
	if err := json.Unmarshal(bz, &rep); err != nil || rep.Assignment != "ASSIGNMENT_STATUS_VERIFIED" ||
		rep.MACsVerified == 0 || rep.MACsVerified*20 != rep.MACsTotal*3 {
		t.Fatalf("report.json %s (%v): want 3 of 20 segments' MACs verified", bz, err)
	}
	out = c.MustCLI("worker", "evaluate", "--work-dir", wd, "--task", fmt.Sprint(id), "--dataset", e.train, "--output", "json")
	var ev struct {
		Accuracy float64 `json:"accuracy"`
		Rows     uint64  `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Rows != 2000 || ev.Accuracy < 0.7 {
		t.Fatalf("evaluate: %s (%v): want accuracy >= 0.7 on the 2000 training rows", out, err)
	}
}

func containsU32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestWorkerForgerSlashed: a worker that forges every segment is caught by
// the first sampled reveal and slashed; the task reopens and an honest
// worker completes it.
func TestWorkerForgerSlashed(t *testing.T) {
	e := newWorkerEnv(t)
	c := e.c
	w1, w2 := c.Addrs["worker1"], c.Addrs["worker2"]
	before := c.Balance(w1, "uhint")
	id := e.post("--preset", "mnist-softmax", "--total-steps", "120", "--segment-steps", "10",
		"--dataset", e.train, "--samples", "2")
	wd1 := filepath.Join(t.TempDir(), "forger")
	forger := e.startWorker("forger", "worker1", wd1, "--forge-fraction", "1")
	forger.WaitForText(60*time.Second, "task claimed")
	honest := e.startWorker("honest", "worker2", filepath.Join(t.TempDir(), "honest"))

	tr := e.waitTranscript(id, w1, "TRANSCRIPT_STATUS_FAILED", 90*time.Second, forger)
	if !strings.Contains(tr.Transcript.Failure, "mismatch") {
		t.Fatalf("forger failed with %q, want a mismatch", tr.Transcript.Failure)
	}
	if st, failure := e.assignment(id, w1); st != "ASSIGNMENT_STATUS_FAILED" || failure == "" {
		t.Fatalf("forger assignment %s %q", st, failure)
	}
	forger.WaitForText(30*time.Second, "claim failed and was slashed")
	_, fees := workerTxs(t, wd1, id)
	if got := before - c.Balance(w1, "uhint"); got != bond+fees {
		t.Fatalf("forger lost %d, want its bond %d plus fees %d", got, bond, fees)
	}

	e.waitTranscript(id, w2, "TRANSCRIPT_STATUS_FINAL", 120*time.Second, honest)
	if st, _ := e.assignment(id, w2); st != "ASSIGNMENT_STATUS_VERIFIED" {
		t.Fatalf("honest assignment %s", st)
	}
	if st := e.taskStatus(id); st != "TASK_STATUS_COMPLETED" {
		t.Fatalf("task %s", st)
	}
}

// TestWorkerResumesAfterKill: a worker killed with SIGKILL in the middle of
// training restarts from its last checkpoint (not from h_0) and completes.
func TestWorkerResumesAfterKill(t *testing.T) {
	e := newWorkerEnv(t)
	c := e.c
	w1 := c.Addrs["worker1"]
	id := e.post("--preset", "mnist-mlp", "--total-steps", "800", "--segment-steps", "8",
		"--dataset", e.train, "--samples", "2")
	wd := filepath.Join(t.TempDir(), "w1")
	wp := e.startWorker("worker1", "worker1", wd)
	ckpts := filepath.Join(wd, "tasks", fmt.Sprint(id), "ckpt")
	count := func() int {
		n, _ := filepath.Glob(filepath.Join(ckpts, "*.state"))
		return len(n)
	}
	deadline := time.Now().Add(90 * time.Second)
	for count() < 4 {
		if time.Now().After(deadline) || wp.Exited() {
			t.Fatalf("worker wrote %d checkpoints", count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	wp.Kill()
	at := count()
	if at >= 101 {
		t.Fatalf("training finished (%d checkpoints) before the kill; make the task longer", at)
	}
	if tr := e.transcript(id, w1); tr.Transcript.Status != "" {
		t.Fatalf("transcript %s exists after a kill during training", tr.Transcript.Status)
	}

	wp2 := e.startWorker("worker1-restarted", "worker1", wd)
	out := wp2.WaitForText(60*time.Second, "resuming from the last checkpoint")
	line := grepLine(out, "resuming from the last checkpoint")
	var resumedAt int
	if _, err := fmt.Sscanf(line[strings.Index(line, "checkpoint=")+len("checkpoint="):], "%d", &resumedAt); err != nil || resumedAt < at-2 || resumedAt < 2 {
		t.Fatalf("resumed at %q; %d checkpoints were on disk", line, at)
	}
	e.waitTranscript(id, w1, "TRANSCRIPT_STATUS_FINAL", 120*time.Second, wp2)
	if st, _ := e.assignment(id, w1); st != "ASSIGNMENT_STATUS_VERIFIED" {
		t.Fatalf("assignment %s", st)
	}
	done := grepLine(wp2.Output(), "training done")
	if !strings.Contains(done, fmt.Sprintf("resumed_checkpoints=%d", resumedAt+1)) {
		t.Fatalf("training done line %q: want resumed_checkpoints=%d", done, resumedAt+1)
	}
}

func grepLine(out, text string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, text) {
			return l
		}
	}
	return ""
}

// TestWatchtowerCatchesUnsampledForgery: a worker forges one segment; when
// the chain's sample misses it (it does with probability 39/40 per task; a
// task whose sample hits it is retried), the transcript passes, and the
// watchtower re-executes the unverified segments from the served
// checkpoints, challenges the forged one within the fraud window, and the
// worker's reveal of it fails: slashed, challenger paid.
func TestWatchtowerCatchesUnsampledForgery(t *testing.T) {
	e := newWorkerEnv(t)
	c := e.c
	w1, watcher := c.Addrs["worker1"], c.Addrs["watcher"]
	const forged = 17
	watchBefore := c.Balance(watcher, "uhint")
	wd := filepath.Join(t.TempDir(), "forger")
	forger := e.startWorker("forger", "worker1", wd, "--forge-segment", fmt.Sprint(forged))
	var (
		id uint64
		tr transcriptJSON
	)
	for attempt := 1; ; attempt++ {
		id = e.post("--preset", "mnist-softmax", "--total-steps", "400", "--segment-steps", "10",
			"--dataset", e.train, "--samples", "1")
		deadline := time.Now().Add(90 * time.Second)
		for {
			tr = e.transcript(id, w1)
			if s := tr.Transcript.Status; s == "TRANSCRIPT_STATUS_PASSED" || s == "TRANSCRIPT_STATUS_FAILED" {
				break
			}
			if time.Now().After(deadline) || forger.Exited() {
				t.Fatalf("task %d: transcript %q", id, tr.Transcript.Status)
			}
			time.Sleep(300 * time.Millisecond)
		}
		if tr.Transcript.Status == "TRANSCRIPT_STATUS_PASSED" {
			break
		}
		// The sample hit the forged segment: the chain caught it itself.
		if attempt == 3 {
			t.Fatal("the sample hit the forged segment three times in a row")
		}
		t.Logf("task %d: the sample hit segment %d; posting another task", id, forged)
	}
	if containsU32(tr.Transcript.Verified, forged) {
		t.Fatalf("segment %d verified", forged)
	}
	watch := chainproc.StartProcess(t, "watcher", filepath.Join(t.TempDir(), "watcher.log"), c.Bin,
		"worker", "watch", "--home", c.Home, "--from", "watcher", "--node", c.RPC, "--grpc-addr", c.GRPC,
		"--grpc-insecure", "--work-dir", filepath.Join(t.TempDir(), "watch"), "--poll-interval", "1s")
	watch.WaitForText(30*time.Second, "challenged segment")
	if !strings.Contains(grepLine(watch.Output(), "FRAUD"), fmt.Sprintf("segment=%d", forged)) {
		t.Fatalf("watchtower flagged %q, want segment %d", grepLine(watch.Output(), "FRAUD"), forged)
	}
	fraudEnd, err := time.Parse(time.RFC3339Nano, tr.Transcript.FraudEnd)
	if err != nil {
		t.Fatal(err)
	}
	var chs struct {
		Challenges []struct {
			Segment    uint32 `json:"segment"`
			Kind       string `json:"kind"`
			Challenger string `json:"challenger"`
			Height     string `json:"created_height"`
		} `json:"challenges"`
	}
	c.Query(&chs, "query", "verification", "challenges", fmt.Sprint(id))
	var at int64
	for _, ch := range chs.Challenges {
		if ch.Kind == "CHALLENGE_KIND_FRAUD" && ch.Segment == forged && ch.Challenger == watcher {
			at, _ = strconv.ParseInt(ch.Height, 10, 64)
		}
	}
	if at == 0 {
		t.Fatalf("no fraud challenge of segment %d by the watchtower: %+v", forged, chs.Challenges)
	}
	if bt := c.BlockTime(at); !bt.Before(fraudEnd) {
		t.Fatalf("challenge at %s (height %d), after the fraud window ended at %s", bt, at, fraudEnd)
	}
	tr = e.waitTranscript(id, w1, "TRANSCRIPT_STATUS_FAILED", 90*time.Second, forger)
	if !strings.Contains(tr.Transcript.Failure, fmt.Sprintf("segment %d mismatch", forged)) {
		t.Fatalf("failure %q, want a mismatch of segment %d", tr.Transcript.Failure, forged)
	}
	// Off-chain, `verification verify-segment` says the same: exit 1 on the
	// forged segment, 0 on an honest one, 2 when the check cannot be made.
	verify := func(seg string) (string, int) {
		out, err := c.CLI("verification", "verify-segment", "--task", fmt.Sprint(id), "--worker", w1, "--segment", seg,
			"--dataset", e.train)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out + err.Error(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out, 0
	}
	if out, code := verify(fmt.Sprint(forged)); code != 1 || !strings.Contains(out, "MISMATCH") {
		t.Fatalf("verify-segment %d: exit %d, want 1 (mismatch):\n%s", forged, code, out)
	}
	if out, code := verify(fmt.Sprint(forged + 1)); code != 0 || !strings.Contains(out, "MATCH") {
		t.Fatalf("verify-segment %d: exit %d, want 0 (match):\n%s", forged+1, code, out)
	}
	if out, code := verify("400"); code != 2 || !strings.Contains(out, "40 segments") {
		t.Fatalf("verify-segment 400: exit %d, want 2 (no such segment):\n%s", code, out)
	}
	var rep struct {
		Reputation struct {
			ChallengesWon string `json:"challenges_won"`
		} `json:"reputation"`
	}
	c.Query(&rep, "query", "rewards", "reputation", watcher)
	if rep.Reputation.ChallengesWon != "1" {
		t.Fatalf("watchtower reputation %+v, want one challenge won", rep.Reputation)
	}
	// The challenger gets its bond back and 30% of the slashed worker bond,
	// and pays only its fees.
	if gain := c.Balance(watcher, "uhint") - watchBefore; gain <= 0 || gain > bond*30/100 {
		t.Fatalf("watchtower balance changed by %d, want a gain of at most %d", gain, bond*30/100)
	}
}

// TestWorkerRefusesTamperedDataset: the bytes at the dataset URI do not hash
// to their root (a row was altered after packing), or are another dataset;
// the worker says so, refuses the task before claiming it (no bond locked)
// and keeps running.
func TestWorkerRefusesTamperedDataset(t *testing.T) {
	e := newWorkerEnv(t)
	c := e.c
	raw, err := os.ReadFile(e.train)
	if err != nil {
		t.Fatal(err)
	}
	raw[dataset.HeaderSize+500] ^= 0x5a
	bad := filepath.Join(t.TempDir(), "tampered.hlds")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	id := e.post("--preset", "mnist-softmax", "--total-steps", "100", "--segment-steps", "10",
		"--dataset", e.train, "--dataset-uri", "file://"+bad, "--samples", "2")
	wp := e.startWorker("worker1", "worker1", filepath.Join(t.TempDir(), "w1"))
	out := wp.WaitForText(60*time.Second, "refusing")
	line := grepLine(out, "refusing")
	for _, want := range []string{fmt.Sprintf("task=%d", id), "rows hash to root", bad} {
		if !strings.Contains(line, want) {
			t.Fatalf("refusal %q lacks %q", line, want)
		}
	}

	// A sound dataset file that is not the task's (another MNIST subset of
	// the same shape) is refused for its root.
	other := filepath.Join(t.TempDir(), "other.hlds")
	c.MustCLI("dataset", "pack", "--mnist", datasettest.MNISTDir(t), "--set", "t10k", "--limit", "2000", "-o", other)
	id2 := e.post("--preset", "mnist-softmax", "--total-steps", "100", "--segment-steps", "10",
		"--dataset", e.train, "--dataset-uri", "file://"+other, "--samples", "2")
	out = wp.WaitForText(60*time.Second, fmt.Sprintf("task %d wants", id2))
	line = grepLine(out, fmt.Sprintf("task %d wants", id2))
	if !strings.Contains(line, "file://"+other+" has root ") || !strings.HasSuffix(strings.TrimSuffix(line, `"`), "refusing") {
		t.Fatalf("refusal %q: want \"dataset at <uri> has root X, task %d wants Y; refusing\"", line, id2)
	}

	time.Sleep(3 * time.Second)
	if wp.Exited() {
		t.Fatalf("worker exited: %v", wp.ExitErr())
	}
	for _, task := range []uint64{id, id2} {
		if st, _ := e.assignment(task, c.Addrs["worker1"]); st != "" {
			t.Fatalf("worker claimed task %d (%s)", task, st)
		}
		if st := e.taskStatus(task); st != "TASK_STATUS_OPEN" {
			t.Fatalf("task %d is %s", task, st)
		}
	}
}

// TestWatchtowerChallengesWithheldCheckpoints: a worker that stops serving its
// checkpoints during the fraud window is not let off with a log line: after
// --withhold-grace the watchtower seals and opens a fraud challenge of the
// unfetchable segment, which forces the worker to reveal it on chain. Here
// the worker comes back and reveals; the segment recomputes exactly and the
// watcher's bond pays the worker.
func TestWatchtowerChallengesWithheldCheckpoints(t *testing.T) {
	e := newWorkerEnv(t)
	c := e.c
	w1, watcher := c.Addrs["worker1"], c.Addrs["watcher"]
	id := e.post("--preset", "mnist-softmax", "--total-steps", "200", "--segment-steps", "10",
		"--dataset", e.train, "--samples", "1")
	wd := filepath.Join(t.TempDir(), "w1")
	wp := e.startWorker("worker1", "worker1", wd)
	e.waitTranscript(id, w1, "TRANSCRIPT_STATUS_PASSED", 90*time.Second, wp)
	wp.Kill() // the checkpoint server goes with it
	workerBefore := c.Balance(w1, "uhint")

	watch := chainproc.StartProcess(t, "watcher", filepath.Join(t.TempDir(), "watcher.log"), c.Bin,
		"worker", "watch", "--home", c.Home, "--from", "watcher", "--node", c.RPC, "--grpc-addr", c.GRPC,
		"--grpc-insecure", "--work-dir", filepath.Join(t.TempDir(), "watch"), "--poll-interval", "500ms",
		"--withhold-grace", "2s")
	watch.WaitForText(30*time.Second, "challenged segment")
	if !strings.Contains(watch.Output(), "WITHHELD") {
		t.Fatalf("the watchtower challenged without seeing a withheld checkpoint:\n%s", watch.Output())
	}
	var chs struct {
		Challenges []struct {
			Segment    uint32 `json:"segment"`
			Kind       string `json:"kind"`
			Challenger string `json:"challenger"`
			Status     string `json:"status"`
			Bond       struct {
				Amount string `json:"amount"`
			} `json:"bond"`
		} `json:"challenges"`
	}
	c.Query(&chs, "query", "verification", "challenges", fmt.Sprint(id))
	var bondAmt int64
	for _, ch := range chs.Challenges {
		if ch.Kind == "CHALLENGE_KIND_FRAUD" && ch.Challenger == watcher {
			bondAmt, _ = strconv.ParseInt(ch.Bond.Amount, 10, 64)
		}
	}
	if bondAmt == 0 {
		t.Fatalf("no fraud challenge by the watchtower: %+v", chs.Challenges)
	}
	// The worker comes back and answers the challenge it was forced into.
	wp2 := e.startWorker("worker1-again", "worker1", wd)
	e.waitTranscript(id, w1, "TRANSCRIPT_STATUS_FINAL", 120*time.Second, wp2)
	c.Query(&chs, "query", "verification", "challenges", fmt.Sprint(id))
	for _, ch := range chs.Challenges {
		if ch.Kind == "CHALLENGE_KIND_FRAUD" && ch.Status != "CHALLENGE_STATUS_UPHELD" {
			t.Fatalf("fraud challenge %+v: want upheld (the worker revealed)", ch)
		}
	}
	if got := c.Balance(w1, "uhint") - workerBefore; got < bondAmt {
		t.Fatalf("worker gained %d, want at least the watcher's bond %d (minus its reveal fee) plus its pay", got, bondAmt)
	}
}
