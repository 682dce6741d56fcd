package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// The memory attack of the denial-of-service report, driven as a user would:
// `tx tasks post` of a job with one segment of a million steps over a dataset
// that claims 2^40 rows. The CLI refuses it before signing, naming the limit;
// and the same transaction built offline, signed and broadcast anyway is
// refused by the chain (CheckTx) with x/tasks' registered error, and no task
// exists afterwards.
func TestPostRefusesUnverifiableJob(t *testing.T) {
	c := chainproc.Start(t, chainproc.Options{Keys: []string{"alice"}})
	args := []string{"tx", "tasks", "post", "--preset", "mnist-softmax",
		"--total-steps", "1000000", "--segment-steps", "1000000", "--samples", "1",
		"--dataset-root", strings.Repeat("ab", 32), "--rows", "1099511627776",
		"--schema", "kind=classification,feature=uint8,features=784,classes=10",
		"--dataset-uri", "http://127.0.0.1:1/huge.hlds", "--reward", "5000000uhint", "--bond", "1000000uhint",
		"--from", "alice", "--yes", "--gas", "400000", "--gas-prices", chainproc.GasPrice}

	out, err := c.CLI(args...)
	if err == nil {
		t.Fatalf("tx tasks post accepted the attack:\n%s", out)
	}
	for _, want := range []string{"the chain cannot verify this job", "max_batch_rows_per_reveal"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the CLI's error does not say %q:\n%v", want, err)
		}
	}

	// Bypass the CLI's check: generate, sign, broadcast.
	gen, err := c.CLI(append(args, "--generate-only")...)
	if err != nil {
		t.Fatalf("generate-only: %v\n%s", err, gen)
	}
	unsigned := filepath.Join(t.TempDir(), "post.json")
	if err := os.WriteFile(unsigned, []byte(gen), 0o600); err != nil {
		t.Fatal(err)
	}
	signed := c.MustCLI("tx", "sign", unsigned, "--from", "alice")
	signedFile := filepath.Join(t.TempDir(), "signed.json")
	if err := os.WriteFile(signedFile, []byte(signed), 0o600); err != nil {
		t.Fatal(err)
	}
	out = c.MustCLI("tx", "broadcast", signedFile, "--output", "json")
	var sent struct {
		TxHash string `json:"txhash"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &sent); err != nil || sent.TxHash == "" {
		t.Fatalf("broadcast output %q: %v", out, err)
	}
	// CheckTx runs the ante handler only; the message handler refuses it in
	// the block, having charged the gas the transaction asked for.
	res := c.WaitTx(sent.TxHash, 30*time.Second)
	if res.Code != taskstypes.ErrInvalidSpec.ABCICode() || !strings.Contains(res.RawLog, "max_batch_rows_per_reveal") {
		t.Fatalf("the chain did not refuse the attack with x/tasks' ErrInvalidSpec: %+v", res)
	}
	var tasks struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	c.Query(&tasks, "q", "tasks", "tasks")
	if len(tasks.Tasks) != 0 {
		t.Fatalf("a task exists after the refused post: %s", tasks.Tasks)
	}
}
