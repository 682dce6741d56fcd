package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
)

// TestLMLineage drives the three language-model presets through the real
// binary: Go sources packed with `dataset pack-text`, a transformer
// pretrained (lm-pretrain), LoRA-fine-tuned on it (lm-lora --base), and
// DPO-aligned on the fine-tune (lm-dpo --base: the CLI finds on chain that
// the base is a LoRA result and posts it as a stacked base), each a verified,
// paid task of one worker; the lineage query reads aligned -> LoRA -> base,
// the model query names the architecture, and the aligned model, exported,
// generates the same bytes twice.
func TestLMLineage(t *testing.T) {
	e := newWorkerEnv(t)
	c := e.c
	w := c.Addrs["worker1"]
	dir := t.TempDir()
	train, val := filepath.Join(dir, "go.hlds"), filepath.Join(dir, "go-val.hlds")
	c.MustCLI("dataset", "pack-text", "--context", "64", "--max-bytes", "200000", "--val-share", "16",
		"--out-train", train, "--out-val", val)
	pairs := filepath.Join(dir, "pairs.hlds")
	f, err := os.Create(pairs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.SyntheticTokens(32, 64, true).WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wd := filepath.Join(dir, "worker")
	wp := e.startWorker("worker1", "worker1", wd)

	// run posts a preset and waits until the worker's transcript is final;
	// it returns the task and its final model hash (hex).
	run := func(args ...string) (uint64, string) {
		t.Helper()
		id := e.post(append(args, "--samples", "1")...)
		tr := e.waitTranscript(id, w, "TRANSCRIPT_STATUS_FINAL", 180*time.Second, wp)
		if st, _ := e.assignment(id, w); st != "ASSIGNMENT_STATUS_VERIFIED" {
			t.Fatalf("task %d: assignment %s", id, st)
		}
		var res struct {
			Transcript struct {
				FinalModelHash string `json:"final_model_hash"`
			} `json:"transcript"`
		}
		c.Query(&res, "query", "verification", "transcript", fmt.Sprint(id), w)
		h, err := base64.StdEncoding.DecodeString(res.Transcript.FinalModelHash)
		if err != nil || len(h) != 32 {
			t.Fatalf("task %d: final model hash %q (transcript %s)", id, res.Transcript.FinalModelHash, tr.Transcript.Status)
		}
		return id, hex.EncodeToString(h)
	}
	_, base := run("--preset", "lm-pretrain", "--total-steps", "4", "--segment-steps", "2", "--dataset", train)
	_, tuned := run("--preset", "lm-lora", "--base", base, "--total-steps", "4", "--segment-steps", "2", "--dataset", train)
	alignedTask, aligned := run("--preset", "lm-dpo", "--base", tuned, "--total-steps", "2", "--segment-steps", "1", "--dataset", pairs)

	var task struct {
		Task struct {
			Spec struct {
				BaseLoraRank int    `json:"base_lora_rank"`
				Objective    string `json:"objective"`
			} `json:"spec"`
		} `json:"task"`
	}
	c.Query(&task, "query", "tasks", "task", fmt.Sprint(alignedTask))
	if task.Task.Spec.BaseLoraRank != 4 || task.Task.Spec.Objective != "OBJECTIVE_DPO" {
		t.Fatalf("the DPO task's spec: %+v (want a stacked base of rank 4)", task.Task.Spec)
	}
	// A status flag takes the full enum name the chain prints, as well as AutoCLI's short form.
	var done struct {
		Tasks []struct {
			Id string `json:"id"`
		} `json:"tasks"`
	}
	c.Query(&done, "query", "tasks", "tasks", "--status", "TASK_STATUS_COMPLETED")
	if len(done.Tasks) != 3 {
		t.Fatalf("--status TASK_STATUS_COMPLETED listed %d tasks, want the 3 verified ones", len(done.Tasks))
	}
	var lin struct {
		Records []struct {
			ModelHash string `json:"model_hash"`
		} `json:"records"`
	}
	c.Query(&lin, "query", "tasks", "lineage", aligned)
	var got []string
	for _, r := range lin.Records {
		h, _ := base64.StdEncoding.DecodeString(r.ModelHash)
		got = append(got, hex.EncodeToString(h))
	}
	if want := []string{aligned, tuned, base}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("lineage %v, want aligned -> LoRA -> base %v", got, want)
	}
	var model struct {
		Architecture string `json:"architecture"`
		Kind         string `json:"kind"`
	}
	c.Query(&model, "query", "tasks", "model", aligned)
	if model.Architecture != "transformer T=64 L=2 d=64 H=4 F=16" || !strings.HasPrefix(model.Kind, "aligned (DPO") {
		t.Fatalf("model query: %+v", model)
	}

	out := filepath.Join(dir, "aligned.model")
	c.MustCLI("worker", "export", "--work-dir", wd, "--task", fmt.Sprint(alignedTask), "--out", out)
	gen := func() string {
		return c.MustCLI("model", "generate", "--model", out, "--prompt", "func ", "--max-tokens", "24", "--top-k", "8", "--seed", "5")
	}
	if a, b := gen(), gen(); a != b || a == "" {
		t.Fatalf("generation is not reproducible: %q vs %q", a, b)
	}

	// Every query the READMEs document runs against this localnet.
	runDocumentedQueries(t, c, map[string]string{
		"hinter1...": w, "ADDRESS": w, "<model-hash-hex>": aligned, "ALIGNED_HASH": aligned, "BASE_HASH": base,
		"HASH": aligned, "HEX": aligned,
	})
	// And every documented transaction: its command and flags exist, and
	// those built from arguments alone build.
	runDocumentedTxs(t, c, map[string]string{
		"hinter1...": w, "<address on the other chain>": w, "BASE_HASH": base, "TUNED_HASH": base, "HASH": aligned,
	}, map[string]string{"annotator": "worker2"})

	// The operators' metrics (x/internal/metrics) count what just happened.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(c.API + "/metrics?format=prometheus")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := string(body)
		missing := ""
		for _, want := range []string{"hinterland_tasks_posted", `hinterland_tasks_by_status{status="TASK_STATUS_COMPLETED"}`,
			`hinterland_verification_reveals{match="true"}`, "hinterland_verification_reveal_ms", "hinterland_verification_recomputed_macs",
			`hinterland_verification_verdicts{outcome="OUTCOME_FINAL"}`, `hinterland_rewards_escrowed{denom="uhint"}`} {
			if !strings.Contains(m, want) {
				missing = want
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s missing from /metrics?format=prometheus:\n%s", missing, grepLines(m, "hinterland_"))
		}
		time.Sleep(time.Second)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
