package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/testutil/chainproc"
)

// The TypeScript test's accounts. Test keys of a throwaway chain: A signs
// SIGN_MODE_DIRECT, B SIGN_MODE_LEGACY_AMINO_JSON.
const (
	tsMnemonicA = "danger neck wrist burger tag interest token field since bench enough oak extend dice glare mom empower junk symptom piece farm wire plastic cage"
	tsMnemonicB = "habit husband raven chair price same feature trap merit lemon pass zero work dismiss trim adapt vicious miracle foster cube another hidden symptom slogan"
)

// TestTypeScriptClient runs the tests of the TypeScript client (client/ts,
// node's test runner) against a localnet: the unit tests, the freshness of
// its generated code, and a test in which account A posts a task signed
// direct, account B one signed with amino JSON, each claims the other's, and
// the client's queries and event subscription see all of it. The CLI then
// reads the two tasks and the claims back.
func TestTypeScriptClient(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the TypeScript client's tests need Node.js 20+ and npm", tool)
		}
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "client", "ts"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(timeout time.Duration, env []string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s (in client/ts): %v\n%s", strings.Join(args, " "), err, out.String())
		}
		t.Logf("%s: %s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		run(5*time.Minute, nil, "npm", "ci", "--no-audit", "--no-fund")
	}
	run(2*time.Minute, nil, "npm", "run", "build")

	c := chainproc.Start(t, chainproc.Options{
		ChainID: "hinterland-ts-1", Keys: []string{"alice", "worker1"}, BlockTime: 500 * time.Millisecond,
		Genesis: func(app map[string]json.RawMessage) error {
			if err := chainproc.SetParam(app, "verification", "fraud_window", "10s"); err != nil {
				return err
			}
			return chainproc.SetParam(app, "verification", "reveal_window", "60s")
		},
	})
	tmp := t.TempDir()
	addrs := make([]string, 2)
	for i, m := range []string{tsMnemonicA, tsMnemonicB} {
		file := filepath.Join(tmp, "mnemonic")
		if err := os.WriteFile(file, []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
		var key struct {
			Address string `json:"address"`
		}
		name := []string{"tsdirect", "tsamino"}[i]
		c.Query(&key, "keys", "add", name, "--recover", "--source", file, "--keyring-backend", "test")
		addrs[i] = key.Address
	}
	c.MustTx("validator", "tx", "bank", "multi-send", "validator", addrs[0], addrs[1], "10000000000uhint")

	rpc := strings.Replace(c.RPC, "tcp://", "http://", 1)
	result := filepath.Join(tmp, "result.json")
	run(3*time.Minute, []string{
		"HINTERLAND_RPC=" + rpc,
		"HINTERLAND_CHAIN_ID=" + c.ChainID,
		"HINTERLAND_MNEMONIC_A=" + tsMnemonicA,
		"HINTERLAND_MNEMONIC_B=" + tsMnemonicB,
		"HINTERLAND_RESULT=" + result,
	}, "node", "--test", "--test-reporter=spec", "dist/test/unit.test.js", "dist/test/gen.test.js", "dist/test/localnet.test.js")

	bz, err := os.ReadFile(result)
	if err != nil {
		t.Fatalf("the TypeScript test wrote no result: %v", err)
	}
	var res struct {
		Direct, Amino struct {
			ID string `json:"id"`
		}
	}
	if err := json.Unmarshal(bz, &res); err != nil {
		t.Fatalf("result %s: %v", bz, err)
	}
	// A's task (direct) is claimed by B and, with one replica, assigned; B's
	// (amino JSON) has two replicas, one claimed by A, and is still open.
	for _, p := range []struct {
		ID, how, poster, worker, status string
	}{
		{res.Direct.ID, "direct", addrs[0], addrs[1], "TASK_STATUS_ASSIGNED"},
		{res.Amino.ID, "amino JSON", addrs[1], addrs[0], "TASK_STATUS_OPEN"},
	} {
		var q struct {
			Task struct {
				ID     string `json:"id"`
				Poster string `json:"poster"`
				Reward struct {
					Denom  string `json:"denom"`
					Amount string `json:"amount"`
				} `json:"reward"`
				Status string `json:"status"`
			} `json:"task"`
		}
		c.Query(&q, "query", "tasks", "task", p.ID)
		if q.Task.ID != p.ID || q.Task.Poster != p.poster || q.Task.Reward.Amount != "1000000" || q.Task.Reward.Denom != "uhint" || q.Task.Status != p.status {
			t.Errorf("task %s posted with %s signing: the CLI shows %+v, want poster %s, reward 1000000uhint, %s", p.ID, p.how, q.Task, p.poster, p.status)
		}
		var a struct {
			Assignments []struct {
				Worker string `json:"worker"`
				Status string `json:"status"`
			} `json:"assignments"`
		}
		c.Query(&a, "query", "tasks", "assignments", p.ID)
		if len(a.Assignments) != 1 || a.Assignments[0].Worker != p.worker || a.Assignments[0].Status != "ASSIGNMENT_STATUS_ACTIVE" {
			t.Errorf("task %s: the CLI shows claims %+v, want one active claim by %s", p.ID, a.Assignments, p.worker)
		}
	}

	followToPayout(t, c, dir, rpc)
}

// followToPayout posts a real MNIST task with the CLI and runs the
// TypeScript test that subscribes (block events included) before a worker
// starts, follows the task to its payout, and queries the final transcript,
// verdicts, lineage and leaderboard; the CLI must agree with what it saw.
func followToPayout(t *testing.T, c *chainproc.Chain, dir, rpc string) {
	tmp := t.TempDir()
	train := filepath.Join(tmp, "train.hlds")
	c.MustCLI("dataset", "pack", "--mnist", datasettest.MNISTDir(t), "--set", "train", "--limit", "1000", "-o", train)
	r := c.MustTx("alice", "tx", "tasks", "post", "--preset", "mnist-softmax", "--total-steps", "48", "--segment-steps", "4",
		"--dataset", train, "--samples", "3", "--chain-randomness", "--reward", "1000000uhint", "--bond", "100000uhint",
		"--claim-window", "10m", "--commit-window", "5m")
	id, _ := r.Attr("hinterland.tasks.v1.EventTaskPosted", "task_id")
	if id == "" {
		t.Fatal("no task posted")
	}

	result := filepath.Join(tmp, "verified.json")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "dist/test/verified.test.js")
	node.Dir = dir
	node.Env = append(os.Environ(), "HINTERLAND_RPC="+rpc, "HINTERLAND_TASK_ID="+id, "HINTERLAND_RESULT="+result)
	var out syncBuffer
	node.Stdout, node.Stderr = &out, &out
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "subscribed"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the TypeScript test did not subscribe:\n%s", out.String())
		}
	}
	// Only now a worker: every event of the task comes after the subscription.
	chainproc.StartProcess(t, "worker1", filepath.Join(tmp, "worker1.log"), c.Bin, "worker", "start", "--home", c.Home,
		"--from", "worker1", "--node", c.RPC, "--grpc-addr", c.GRPC, "--grpc-insecure", "--work-dir", filepath.Join(tmp, "w1"),
		"--serve-addr", "127.0.0.1:0", "--poll-interval", "1s", "--models", "linear")
	start := time.Now()
	if err := node.Wait(); err != nil {
		t.Fatalf("node --test dist/test/verified.test.js: %v\n%s", err, out.String())
	}
	t.Logf("TypeScript followed task %s to its payout in %s", id, time.Since(start).Round(100*time.Millisecond))

	var got struct {
		Worker, ModelHash, VerifiedMacs, Paid string
		Verdicts                              int
	}
	bz, err := os.ReadFile(result)
	if err != nil || json.Unmarshal(bz, &got) != nil {
		t.Fatalf("result %s: %v", bz, err)
	}
	var tr struct {
		Transcript struct {
			FinalModelHash string `json:"final_model_hash"`
			Status         string `json:"status"`
		} `json:"transcript"`
	}
	c.Query(&tr, "query", "verification", "transcript", id, c.Addrs["worker1"])
	hash, err := base64.StdEncoding.DecodeString(tr.Transcript.FinalModelHash)
	if err != nil || got.Worker != c.Addrs["worker1"] || got.ModelHash != hex.EncodeToString(hash) || tr.Transcript.Status != "TRANSCRIPT_STATUS_FINAL" {
		t.Errorf("TypeScript saw %+v; the CLI shows %+v for worker %s", got, tr.Transcript, c.Addrs["worker1"])
	}
	var rep struct {
		Reputation struct {
			VerifiedMacs string `json:"verified_macs"`
		} `json:"reputation"`
	}
	c.Query(&rep, "query", "rewards", "reputation", c.Addrs["worker1"])
	if rep.Reputation.VerifiedMacs != got.VerifiedMacs || got.Verdicts < 5 {
		t.Errorf("TypeScript saw %s verified MACs and %d verdicts; the CLI shows %s MACs", got.VerifiedMacs, got.Verdicts, rep.Reputation.VerifiedMacs)
	}
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
