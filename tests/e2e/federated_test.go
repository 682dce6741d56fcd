package e2e

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"

	"github.com/hinterland-ai/hinterland/pkg/dataset/datasettest"
	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
)

// The federated test runs the flow of scripts/demo-federated.sh, made small:
// three `worker start --federated` participants on a non-IID split of 1,200
// MNIST rows (`dataset pack` + `federated split`), a job of two rounds posted
// with `tx federated post`, and every check through `q federated ...`, bank
// balances and `federated accuracy`.

// The JSON of x/federated's queries (AutoCLI): 64-bit integers are strings, bytes
// base64, and zero values are left out.
type fedRoundJSON struct {
	Round     uint32 `json:"round"`
	Phase     string `json:"phase"`
	Accepted  uint32 `json:"accepted"`
	Rejected  uint32 `json:"rejected"`
	Aggregate struct {
		Committer        string   `json:"committer"`
		ModelHash        []byte   `json:"model_hash"`
		Drawn            []string `json:"drawn"`
		Verified         []string `json:"verified"`
		VerifiedAllDrawn bool     `json:"verified_all_drawn"`
	} `json:"aggregate"`
	StartModelHash []byte `json:"start_model_hash"`
	Reason         string `json:"reason"`
}

type fedUpdateJSON struct {
	Participant string   `json:"participant"`
	Status      string   `json:"status"`
	Sampled     []uint32 `json:"sampled"`
	Revealed    []uint32 `json:"revealed"`
	Reason      string   `json:"reason"`
	Bond        struct {
		Amount string `json:"amount"`
	} `json:"bond"`
}

type fedJobJSON struct {
	Job struct {
		Status          string `json:"status"`
		CurrentRound    uint32 `json:"current_round"`
		GlobalModelHash []byte `json:"global_model_hash"`
		Budget          struct {
			Amount string `json:"amount"`
		} `json:"budget"`
	} `json:"job"`
}

// feesPaid sums the fees of every transaction an address paid for, from the
// node's transaction index.
func feesPaid(t *testing.T, c *chainproc.Chain, addr string) int64 {
	t.Helper()
	var res struct {
		TotalCount string `json:"total_count"`
		Txs        []struct {
			Tx struct {
				AuthInfo struct {
					Fee struct {
						Amount []struct {
							Denom  string `json:"denom"`
							Amount string `json:"amount"`
						} `json:"amount"`
					} `json:"fee"`
				} `json:"auth_info"`
			} `json:"tx"`
		} `json:"txs"`
	}
	c.Query(&res, "query", "txs", "--query", fmt.Sprintf("tx.fee_payer='%s'", addr), "--limit", "1000")
	if n, _ := strconv.Atoi(res.TotalCount); n != len(res.Txs) {
		t.Fatalf("%s: %d of %s transactions listed", addr, len(res.Txs), res.TotalCount)
	}
	var fees int64
	for _, tx := range res.Txs {
		for _, c := range tx.Tx.AuthInfo.Fee.Amount {
			if c.Denom != "uhint" {
				t.Fatalf("%s paid a fee in %s", addr, c.Denom)
			}
			n, err := strconv.ParseInt(c.Amount, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			fees += n
		}
	}
	return fees
}

// forgedReason is the chain's verdict on a segment that did not recompute.
var forgedReason = regexp.MustCompile(`^segment (\d+): recomputed [0-9a-f]{64}, committed [0-9a-f]{64}$`)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFederatedRounds: three participants train two rounds of a federated
// job on non-IID MNIST shards. The forger's round-1 update is caught by its
// first sampled segment, rejected, its bond slashed to the requester and left
// out of the aggregate; every other update is accepted; every aggregate's
// drawn chunks are recomputed and verified; the final model's lineage goes
// back through both rounds; the job completes, each participant is paid
// exactly its accepted updates and aggregations less its fees (the forger
// less its bond too), and the requester gets the unspent budget back.
func TestFederatedRounds(t *testing.T) {
	const (
		rounds       = 2
		participants = 3
		pay          = 10_000
		aggPay       = 5_000
		fedBond      = 50_000
		chunkSamples = 3
		forger       = "p3"
		watcher      = "p1"
		forgedRound  = 1
		budget       = rounds * (participants*pay + aggPay)
		jobTimeout   = 150 * time.Second
		testSetRows  = "1000"
		trainRows    = "1200"
		localSteps   = "40"
		segmentSteps = "4"
		samples      = 2
	)
	keys := []string{"p1", "p2", "p3"}
	c := chainproc.Start(t, chainproc.Options{Keys: append([]string{"alice"}, keys...), BlockTime: 500 * time.Millisecond})
	e := &workerEnv{t: t, c: c}

	// Data: 1,200 training rows split non-IID (each shard two pieces of
	// label-sorted rows); the test set is the first 1,000 rows of t10k.
	mnist := datasettest.MNISTDir(t)
	data := t.TempDir()
	iid, train, test := filepath.Join(data, "train-iid.hlds"), filepath.Join(data, "train.hlds"), filepath.Join(data, "test.hlds")
	c.MustCLI("dataset", "pack", "--mnist", mnist, "--set", "train", "--limit", trainRows, "-o", iid)
	var split struct {
		Shards [][]uint64 `json:"shards"`
	}
	c.Query(&split, "federated", "split", iid, "-o", train, "--participants", fmt.Sprint(participants), "--classes-per", "2", "--seed", "1")
	if len(split.Shards) != participants {
		t.Fatalf("federated split: %d shards, want %d", len(split.Shards), participants)
	}
	// A shard is two pieces of 200 label-sorted rows; every digit has over
	// 100 of the 1,200 rows, so a piece spans at most three digits and a
	// shard at most six (an IID shard would hold all ten).
	for p, labels := range split.Shards {
		classes, rows := 0, uint64(0)
		for _, n := range labels {
			if n > 0 {
				classes++
			}
			rows += n
		}
		if classes > 6 || rows != 400 {
			t.Fatalf("shard %d: %d rows of %d digits (%v), want 400 rows of at most 6 digits", p, rows, classes, labels)
		}
	}
	c.MustCLI("dataset", "pack", "--mnist", mnist, "--set", "t10k", "--limit", testSetRows, "-o", test)

	before := map[string]int64{}
	for _, k := range keys {
		before[k] = c.Balance(c.Addrs[k], "uhint")
	}
	workDirs := map[string]string{}
	procs := map[string]*chainproc.Process{}
	for i, k := range keys {
		workDirs[k] = filepath.Join(t.TempDir(), k)
		extra := []string{"--federated", "--federated-shard", fmt.Sprint(i)}
		switch k {
		case forger:
			extra = append(extra, "--forge-federated-round", fmt.Sprint(forgedRound))
		case watcher:
			extra = append(extra, "--federated-watch")
		}
		procs[k] = e.startWorker(k, k, workDirs[k], extra...)
	}

	alice := c.Addrs["alice"]
	aliceBefore := c.Balance(alice, "uhint")
	r := c.MustTx("alice", "tx", "federated", "post", "--preset", "mnist-softmax",
		"--local-steps", localSteps, "--segment-steps", segmentSteps, "--dataset", train, "--shards", fmt.Sprint(participants),
		"--rounds", fmt.Sprint(rounds), "--min-participants", "2", "--max-participants", fmt.Sprint(participants),
		"--samples", fmt.Sprint(samples), "--chunk-samples", fmt.Sprint(chunkSamples),
		"--pay-per-update", fmt.Sprintf("%duhint", pay), "--pay-per-aggregation", fmt.Sprintf("%duhint", aggPay),
		"--bond", fmt.Sprintf("%duhint", fedBond), "--train-window", "60s", "--reveal-window", "30s", "--fraud-window", "10s")
	id, ok := r.Attr(proto.MessageName(&fedtypes.EventJobPosted{}), "job_id")
	if !ok {
		t.Fatalf("no EventJobPosted in %+v", r.Events)
	}
	// Nothing comes back to alice before a round settles: her balance now
	// is her balance before the post less the budget and the post's fee.
	aliceAfterPost := c.Balance(alice, "uhint")
	var job fedJobJSON
	c.Query(&job, "query", "federated", "job", id)
	if job.Job.Budget.Amount != fmt.Sprint(budget) || aliceBefore-aliceAfterPost <= budget {
		t.Fatalf("budget %s escrowed, alice paid %d: want %d escrowed plus the fee", job.Job.Budget.Amount, aliceBefore-aliceAfterPost, budget)
	}

	// The rounds run: poll the job until it ends, logging each phase.
	deadline := time.Now().Add(jobTimeout)
	last := ""
	for {
		c.Query(&job, "query", "federated", "job", id)
		if job.Job.Status != "JOB_STATUS_RUNNING" {
			break
		}
		var cur struct {
			Round fedRoundJSON `json:"round"`
		}
		c.Query(&cur, "query", "federated", "round", id, fmt.Sprint(job.Job.CurrentRound))
		if s := fmt.Sprintf("round %d %s", cur.Round.Round, cur.Round.Phase); s != last {
			t.Logf("job %s: %s", id, s)
			last = s
		}
		for _, k := range keys {
			if procs[k].Exited() {
				t.Fatalf("worker %s exited: %v", k, procs[k].ExitErr())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still running after %s (%s)", id, jobTimeout, last)
		}
		time.Sleep(time.Second)
	}
	var rs struct {
		Rounds []fedRoundJSON `json:"rounds"`
	}
	c.Query(&rs, "query", "federated", "rounds", id)
	if job.Job.Status != "JOB_STATUS_COMPLETED" {
		t.Fatalf("job %s ended %s: rounds %+v", id, job.Job.Status, rs.Rounds)
	}
	// Stop the workers so that no transaction of theirs lands after the
	// fees are counted.
	for _, k := range keys {
		procs[k].Stop()
	}
	c.WaitHeight(c.Height()+2, 30*time.Second)

	name := map[string]string{}
	for _, k := range append([]string{"alice"}, keys...) {
		name[c.Addrs[k]] = k
	}
	if len(rs.Rounds) != rounds {
		t.Fatalf("%d rounds, want %d: %+v", len(rs.Rounds), rounds, rs.Rounds)
	}
	earned := map[string]int64{} // pay and slashes by key, from the verdicts
	paid := int64(0)             // out of the escrow
	for n, rd := range rs.Rounds {
		if rd.Round != uint32(n) || rd.Phase != "ROUND_PHASE_FINAL" {
			t.Fatalf("round %d: %+v, want round %d final", n, rd, n)
		}
		agg := rd.Aggregate
		if len(agg.Drawn) != chunkSamples || !agg.VerifiedAllDrawn {
			t.Fatalf("round %d: drawn chunks %v, verified %v (all drawn: %v); want %d drawn, all verified", n, agg.Drawn, agg.Verified, agg.VerifiedAllDrawn, chunkSamples)
		}
		for _, ch := range agg.Drawn {
			if !slices.Contains(agg.Verified, ch) {
				t.Fatalf("round %d: drawn chunk %s not verified (verified %v)", n, ch, agg.Verified)
			}
		}
		var us struct {
			Updates []fedUpdateJSON `json:"updates"`
		}
		c.Query(&us, "query", "federated", "updates", id, fmt.Sprint(n))
		if len(us.Updates) != participants {
			t.Fatalf("round %d: %d updates, want %d: %+v", n, len(us.Updates), participants, us.Updates)
		}
		accepted := 0
		for _, u := range us.Updates {
			k := name[u.Participant]
			switch {
			case k == forger && n == forgedRound:
				// Caught by the first sampled segment it revealed.
				m := forgedReason.FindStringSubmatch(u.Reason)
				if u.Status != "UPDATE_STATUS_REJECTED" || m == nil || !slices.Contains(u.Sampled, uint32(atoi(t, m[1]))) ||
					u.Bond.Amount != fmt.Sprint(fedBond) {
					t.Fatalf("round %d: the forger's update %+v, want rejected for a sampled segment's mismatch with its bond %d slashed", n, u, fedBond)
				}
				if len(u.Revealed) != 0 {
					t.Fatalf("round %d: the forger's segments %v were accepted", n, u.Revealed)
				}
				earned[k] -= fedBond
			case u.Status == "UPDATE_STATUS_ACCEPTED":
				if len(u.Sampled) != samples || !slices.Equal(slices.Sorted(slices.Values(u.Revealed)), slices.Sorted(slices.Values(u.Sampled))) {
					t.Fatalf("round %d: %s's update sampled %v, revealed %v: want %d sampled, all revealed", n, k, u.Sampled, u.Revealed, samples)
				}
				accepted++
				earned[k] += pay
				paid += pay
			default:
				t.Fatalf("round %d: %s's update is %s (%s), want accepted", n, k, u.Status, u.Reason)
			}
		}
		wantAcc, wantRej := participants, 0
		if n == forgedRound {
			wantAcc, wantRej = participants-1, 1
		}
		if accepted != wantAcc || int(rd.Accepted) != wantAcc || int(rd.Rejected) != wantRej {
			t.Fatalf("round %d: %d accepted (round says %d accepted, %d rejected), want %d and %d", n, accepted, rd.Accepted, rd.Rejected, wantAcc, wantRej)
		}
		committer := name[agg.Committer]
		if committer == "" || committer == "alice" || (committer == forger && n == forgedRound) {
			t.Fatalf("round %d: aggregate committed by %q (%s)", n, committer, agg.Committer)
		}
		earned[committer] += aggPay
		paid += aggPay
		t.Logf("round %d: aggregate %X by %s, chunks %v verified", n, agg.ModelHash[:8], committer, agg.Verified)
	}
	if !slices.Equal(job.Job.GlobalModelHash, rs.Rounds[rounds-1].Aggregate.ModelHash) {
		t.Fatalf("job's global model %X, last aggregate %X", job.Job.GlobalModelHash, rs.Rounds[rounds-1].Aggregate.ModelHash)
	}
	if !slices.Equal(rs.Rounds[1].StartModelHash, rs.Rounds[0].Aggregate.ModelHash) {
		t.Fatalf("round 1 starts at %X, round 0's aggregate is %X", rs.Rounds[1].StartModelHash, rs.Rounds[0].Aggregate.ModelHash)
	}
	// The watcher recomputed, in its fraud window, every aggregate it did
	// not commit itself, and found nothing to challenge. (It does so within
	// a second or two of the window opening: 10 s leave room on busy cores.)
	watchLog := procs[watcher].Output()
	if strings.Contains(watchLog, "chunk challenged") {
		t.Fatalf("the watcher challenged an honest aggregate:\n%s", grepLine(watchLog, "chunk challenged"))
	}
	for n, rd := range rs.Rounds {
		if name[rd.Aggregate.Committer] == watcher {
			continue
		}
		want := fmt.Sprintf("job=%s round=%d aggregate=%x", id, n, rd.Aggregate.ModelHash)
		if !strings.Contains(grepLine(watchLog, want), "watch: the committed aggregate is the FedAvg") {
			t.Fatalf("the watcher did not confirm round %d's aggregate (%s):\n%s", n, want, watchLog)
		}
	}

	// Balances: each participant got exactly its pay, less its fees (and
	// the forger its slashed bond); alice got the unspent budget back and
	// the forger's bond, and the escrow is closed (nothing else left).
	for _, k := range keys {
		fees := feesPaid(t, c, c.Addrs[k])
		if got, want := c.Balance(c.Addrs[k], "uhint")-before[k], earned[k]-fees; got != want {
			t.Errorf("%s's balance changed by %d, want %d (pay and slashes %d, fees %d)", k, got, want, earned[k], fees)
		}
	}
	refund := budget - paid // the forger's unpaid update
	if got, want := c.Balance(alice, "uhint")-aliceAfterPost, refund+fedBond; got != want || refund != pay {
		t.Errorf("alice got %d back after the post, want %d (refund %d of the %d budget, %d paid; slashed bond %d)", got, want, refund, budget, paid, fedBond)
	}
	// x/rewards holds the job's escrow and bonds in custody; this chain
	// has no other job or task, so its account is empty once the job ends.
	var mod struct {
		Account struct {
			Value struct {
				Address string `json:"address"`
			} `json:"value"`
		} `json:"account"`
	}
	c.Query(&mod, "query", "auth", "module-account", "rewards")
	if addr := mod.Account.Value.Address; addr == "" {
		t.Errorf("no address in `query auth module-account rewards`: %+v", mod)
	} else if custody := c.Balance(addr, "uhint"); custody != 0 {
		t.Errorf("x/rewards custody %s holds %duhint after the job ended, want 0", addr, custody)
	}

	// Lineage of the final model: both rounds, each from the previous
	// round's aggregate, round 1 without the forger.
	final := hex.EncodeToString(job.Job.GlobalModelHash)
	var lin struct {
		JobID           string `json:"job_id"`
		ModelHash       []byte `json:"model_hash"`
		OriginModelHash []byte `json:"origin_model_hash"`
		Rounds          []struct {
			Round          uint32   `json:"round"`
			StartModelHash []byte   `json:"start_model_hash"`
			AggregateHash  []byte   `json:"aggregate_hash"`
			Aggregator     string   `json:"aggregator"`
			Participants   []string `json:"participants"`
		} `json:"rounds"`
	}
	c.Query(&lin, "query", "federated", "lineage", final)
	if lin.JobID != id || len(lin.Rounds) != rounds || !slices.Equal(lin.OriginModelHash, rs.Rounds[0].StartModelHash) {
		t.Fatalf("lineage of %s: %+v, want job %s's %d rounds from %X", final, lin, id, rounds, rs.Rounds[0].StartModelHash)
	}
	for n, step := range lin.Rounds {
		rd := rs.Rounds[n]
		if step.Round != uint32(n) || !slices.Equal(step.AggregateHash, rd.Aggregate.ModelHash) ||
			!slices.Equal(step.StartModelHash, rd.StartModelHash) || step.Aggregator != rd.Aggregate.Committer {
			t.Fatalf("lineage step %d %+v does not match round %+v", n, step, rd)
		}
		want := participants
		if n == forgedRound {
			want--
			if slices.Contains(step.Participants, c.Addrs[forger]) {
				t.Fatalf("lineage round %d lists the forger among %v", n, step.Participants)
			}
		}
		if len(step.Participants) != want {
			t.Fatalf("lineage round %d: participants %v, want %d", n, step.Participants, want)
		}
	}

	// `federated accuracy` evaluates every round's global model from the
	// work dirs: a row per round, with a test accuracy.
	args := []string{"federated", "accuracy", "--job", id, "--test", test}
	for _, k := range keys {
		args = append(args, "--work-dir", workDirs[k])
	}
	out := c.MustCLI(args...)
	t.Logf("federated accuracy:\n%s", out)
	m := regexp.MustCompile(`(?m)^start model: test accuracy (\S+)%$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("federated accuracy: no start model row:\n%s", out)
	}
	start, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	for n, rd := range rs.Rounds {
		row := regexp.MustCompile(fmt.Sprintf(`(?m)^\s*%d\s+ROUND_PHASE_FINAL\s+%d\s+%d\s+0\s+\S+\s+(\S+)%%\s`, n, rd.Accepted, rd.Rejected))
		m = row.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("federated accuracy: no row of final round %d with %d accepted and %d rejected:\n%s", n, rd.Accepted, rd.Rejected, out)
		}
		// A trained global model beats the random start by far (about 10%
		// against 35-50% here).
		if acc, err := strconv.ParseFloat(m[1], 64); err != nil || acc <= start || acc > 100 {
			t.Fatalf("round %d: test accuracy %q%%, want above the start model's %.2f%%", n, m[1], start)
		}
	}
}
