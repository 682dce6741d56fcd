package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationkeeper "github.com/hinterland-ai/hinterland/x/verification/keeper"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

var data = fixtures.Synthetic(64)

// Settings (environment): LOAD_DURATION (default 60s) of load per network,
// LOAD_BANK_RATE bank sends per second offered (default 40) by LOAD_SENDERS
// accounts (default 8), LOAD_WORKERS training workers (default 6),
// LOAD_POSTERS (default 2).
func setting(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func duration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("LOAD_DURATION")); err == nil && d > 0 {
		return d
	}
	return 60 * time.Second
}

type kind string

const (
	bank   kind = "bank send"
	post   kind = "post task"
	claim  kind = "claim task"
	seal   kind = "seal transcript"
	open   kind = "open transcript"
	reveal kind = "reveal segment"
)

var kinds = []kind{bank, post, claim, seal, open, reveal}

// tracker records every transaction a node accepted and when a block with it
// was first seen.
type tracker struct {
	mu       sync.Mutex
	sent     map[string]sentTx
	included map[kind]durations
	failed   map[kind]int
	blocks   []time.Time // header times of the blocks seen
	first    int64
	last     int64
}

type sentTx struct {
	kind kind
	at   time.Time
}

func newTracker() *tracker {
	return &tracker{sent: map[string]sentTx{}, included: map[kind]durations{}, failed: map[kind]int{}}
}

func (tr *tracker) pending() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.sent)
}

func (tr *tracker) add(k kind, s chainproc.Sent) {
	tr.mu.Lock()
	tr.sent[hex.EncodeToString(s.Hash)] = sentTx{k, s.At}
	tr.mu.Unlock()
}

// watch follows nd's blocks until stop, matching their transactions to the
// sent ones.
func (tr *tracker) watch(nd *chainproc.Node, stop <-chan struct{}) {
	h := nd.Height()
	tr.first = h + 1
	for {
		select {
		case <-stop:
			return
		default:
		}
		top := nd.Height()
		for ; h < top; h++ {
			next := h + 1
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			b, err := nd.Client.Block(ctx, &next)
			cancel()
			if err != nil {
				break
			}
			now := time.Now()
			ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
			results, rerr := nd.Client.BlockResults(ctx, &next)
			cancel()
			tr.mu.Lock()
			tr.blocks = append(tr.blocks, b.Block.Header.Time)
			tr.last = next
			for i, tx := range b.Block.Txs {
				sum := sha256.Sum256(tx)
				key := hex.EncodeToString(sum[:])
				s, ok := tr.sent[key]
				if !ok {
					continue
				}
				delete(tr.sent, key)
				if rerr == nil && i < len(results.TxsResults) && results.TxsResults[i].Code != 0 {
					tr.failed[s.kind]++
					continue
				}
				tr.included[s.kind] = append(tr.included[s.kind], now.Sub(s.at))
			}
			tr.mu.Unlock()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitIncluded polls until the transaction is in a block (or fails).
func waitIncluded(nd *chainproc.Node, s chainproc.Sent, timeout time.Duration) (uint32, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if found, code, _ := nd.FindTx(s.Hash); found {
			return code, true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0, false
}

// BenchmarkChain runs the mixed load on one node and on four validators.
// It is a benchmark (run with -bench, once: -benchtime 1x) so that plain
// `go test` never starts it.
func BenchmarkChain(b *testing.B) {
	for _, validators := range []int{1, 4} {
		b.Run(fmt.Sprintf("validators=%d", validators), func(b *testing.B) {
			for range b.N {
				runLoad(b, validators)
			}
		})
	}
}

func runLoad(b *testing.B, validators int) {
	dur := duration()
	bankRate := setting("LOAD_BANK_RATE", 40)
	nWorkers, nPosters, nSenders := setting("LOAD_WORKERS", 6), setting("LOAD_POSTERS", 2), setting("LOAD_SENDERS", 8)
	var names []string
	for i := range nSenders + nPosters + nWorkers {
		names = append(names, fmt.Sprintf("user%d", i))
	}
	n := chainproc.NewNetwork(b, chainproc.NetworkOptions{Validators: validators, Accounts: names})
	n.Start(2 * time.Minute)
	nd := n.Nodes[0]
	wallets := n.Wallets(nd)
	senders, posters, workers := wallets[:nSenders], wallets[nSenders:nSenders+nPosters], wallets[nSenders+nPosters:]

	tr := newTracker()
	stop, stopWatch := make(chan struct{}), make(chan struct{})
	watched := make(chan struct{})
	go func() { defer close(watched); tr.watch(nd, stopWatch) }()
	var wg sync.WaitGroup
	handler := &revealTimer{}
	wg.Add(1)
	go func() { defer wg.Done(); handler.run(b, stop) }()

	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	// Bank sends: an open-loop rate split across the senders, each sending in
	// sequence order from its own goroutine.
	for i, w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second * time.Duration(len(senders)) / time.Duration(bankRate))
			defer tick.Stop()
			r := rand.New(rand.NewPCG(1, uint64(i)))
			for !stopped() {
				<-tick.C
				to := wallets[r.IntN(len(wallets))]
				s, err := n.Broadcast(nd, w, 200_000, &banktypes.MsgSend{FromAddress: w.Addr.String(), ToAddress: to.Addr.String(),
					Amount: sdk.NewCoins(sdk.NewCoin("uhint", sdkmath.NewInt(1+r.Int64N(1000))))})
				if err != nil {
					_ = n.Refresh(nd, w)
					continue
				}
				tr.add(bank, s)
			}
		}()
	}
	// Posters keep a few tasks open.
	for _, p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped() {
				if open := openTasks(nd, ""); len(open) < 2*len(workers) {
					s, err := n.Broadcast(nd, p, 1_000_000, fixtures.PostMsg(p.Addr, data))
					if err != nil {
						_ = n.Refresh(nd, p)
					} else {
						tr.add(post, s)
					}
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
	}
	// Workers: claim, train, seal, open, answer the sample, again.
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 3))
			for !stopped() {
				workOne(n, nd, w, r, tr, stopped)
			}
		}()
	}

	start := time.Now()
	time.Sleep(dur)
	close(stop)
	elapsed := time.Since(start)
	wg.Wait()
	// Let the transactions still in mempools land (a few blocks).
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && tr.pending() > 0; {
		time.Sleep(200 * time.Millisecond)
	}
	close(stopWatch)
	<-watched
	report(b, validators, tr, handler, elapsed)
}

func openTasks(nd *chainproc.Node, notBy string) []taskstypes.Task {
	var res taskstypes.QueryTasksResponse
	if err := nd.ABCIQuery("/hinterland.tasks.v1.Query/Tasks", &taskstypes.QueryTasksRequest{Status: taskstypes.TASK_STATUS_OPEN}, &res); err != nil {
		return nil
	}
	var out []taskstypes.Task
	for _, t := range res.Tasks {
		if t.Poster != notBy {
			out = append(out, t)
		}
	}
	return out
}

// workOne runs one job through a worker: claim, train, seal, open (once the
// task's claims are closed), reveal.
func workOne(n *chainproc.Network, nd *chainproc.Node, w *chainproc.Wallet, r *rand.Rand, tr *tracker, stopped func() bool) {
	candidates := openTasks(nd, w.Addr.String())
	if len(candidates) == 0 {
		time.Sleep(300 * time.Millisecond)
		return
	}
	task := candidates[r.IntN(len(candidates))]
	send := func(k kind, gas uint64, msg sdk.Msg) (chainproc.Sent, bool) {
		s, err := n.Broadcast(nd, w, gas, msg)
		if err != nil {
			_ = n.Refresh(nd, w)
			return s, false
		}
		tr.add(k, s)
		return s, true
	}
	s, ok := send(claim, 500_000, &taskstypes.MsgClaimTask{Worker: w.Addr.String(), TaskId: task.Id})
	if !ok {
		return
	}
	if code, ok := waitIncluded(nd, s, 30*time.Second); !ok || code != 0 {
		return // another worker took the slot
	}
	run, err := fixtures.Train(task, data)
	if err != nil {
		panic(err)
	}
	if s, ok = send(seal, 500_000, run.Seal(w.Addr)); !ok {
		return
	}
	if code, ok := waitIncluded(nd, s, 30*time.Second); !ok || code != 0 {
		return
	}
	// The transcript opens once every claim of the task is sealed (at once
	// for the load's single-replica tasks).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		var res taskstypes.QueryTaskResponse
		if nd.ABCIQuery("/hinterland.tasks.v1.Query/Task", &taskstypes.QueryTaskRequest{Id: task.Id}, &res) == nil && res.Task.ClaimsClosed {
			break
		}
		if stopped() || !time.Now().Before(deadline) {
			return
		}
	}
	if s, ok = send(open, 1_000_000, run.Open(w.Addr)); !ok {
		return
	}
	if code, ok := waitIncluded(nd, s, 30*time.Second); !ok || code != 0 {
		return
	}
	// The sample is drawn at the next block.
	var pending []uint32
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !stopped(); time.Sleep(300 * time.Millisecond) {
		var res verificationtypes.QueryChallengesResponse
		if nd.ABCIQuery("/hinterland.verification.v1.Query/Challenges", &verificationtypes.QueryChallengesRequest{TaskId: task.Id}, &res) != nil {
			continue
		}
		for _, c := range res.Challenges {
			if c.Worker == w.Addr.String() && c.Status == verificationtypes.CHALLENGE_STATUS_PENDING {
				pending = append(pending, c.Segment)
			}
		}
		if len(pending) > 0 {
			break
		}
	}
	var last chainproc.Sent
	for _, seg := range pending {
		msg, err := run.Reveal(w.Addr, seg)
		if err != nil {
			panic(err)
		}
		if last, ok = send(reveal, 2_000_000, msg); !ok {
			return
		}
	}
	if len(pending) > 0 {
		waitIncluded(nd, last, 30*time.Second)
	}
}

// revealTimer times x/verification's RevealSegment handler (prepare the
// reveal, recompute the segment, record the verdict) on real keepers in the
// benchmark's own process, while the nodes are under load.
type revealTimer struct {
	mu    sync.Mutex
	times durations
}

func (rt *revealTimer) run(b *testing.B, stop <-chan struct{}) {
	f := keepers.New(b)
	poster, worker := keepers.Addr(1), keepers.Addr(2)
	f.Fund(b, poster, 100_000_000)
	f.Fund(b, worker, 100_000_000)
	tasks, ver := taskskeeper.NewMsgServerImpl(f.Tasks), verificationkeeper.NewMsgServerImpl(f.Verification)
	res, err := tasks.PostTask(f.Ctx, fixtures.PostMsg(poster, data))
	if err != nil {
		panic(err)
	}
	if _, err := tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: res.TaskId}); err != nil {
		panic(err)
	}
	task, _ := f.Tasks.GetTask(f.Ctx, res.TaskId)
	run, err := fixtures.Train(task, data)
	if err != nil {
		panic(err)
	}
	if _, err := ver.SealTranscript(f.Ctx, run.Seal(worker)); err != nil {
		panic(err)
	}
	if _, err := ver.OpenTranscript(f.Ctx, run.Open(worker)); err != nil {
		panic(err)
	}
	f.Advance(b, 5*time.Second)
	tr, _ := f.Verification.GetTranscript(f.Ctx, res.TaskId, worker)
	msg, err := run.Reveal(worker, tr.Sampled[0])
	if err != nil {
		panic(err)
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		branch, _ := f.Ctx.CacheContext()
		start := time.Now()
		out, err := ver.RevealSegment(branch, msg)
		took := time.Since(start)
		if err != nil || !out.Match {
			panic(fmt.Sprintf("reveal: %v", err))
		}
		rt.mu.Lock()
		rt.times = append(rt.times, took)
		rt.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
}

func report(b *testing.B, validators int, tr *tracker, rt *revealTimer, elapsed time.Duration) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	rows := [][]string{{"kind", "included", "tx/s", "p50 inclusion", "p95 inclusion", "failed in block", "not included"}}
	var all durations
	var total, bankN, taskN int
	pendingByKind := map[kind]int{}
	for _, s := range tr.sent {
		pendingByKind[s.kind]++
	}
	for _, k := range kinds {
		d := tr.included[k]
		all = append(all, d...)
		total += len(d)
		if k == bank {
			bankN += len(d)
		} else {
			taskN += len(d)
		}
		rows = append(rows, []string{string(k), fmt.Sprint(len(d)), fmt.Sprintf("%.1f", float64(len(d))/elapsed.Seconds()),
			ms(d.pct(50)), ms(d.pct(95)), fmt.Sprint(tr.failed[k]), fmt.Sprint(pendingByKind[k])})
	}
	rows = append(rows, []string{"all", fmt.Sprint(total), fmt.Sprintf("%.1f", float64(total)/elapsed.Seconds()),
		ms(all.pct(50)), ms(all.pct(95)), "", ""})
	var blockTimes durations
	for i := 1; i < len(tr.blocks); i++ {
		blockTimes = append(blockTimes, tr.blocks[i].Sub(tr.blocks[i-1]))
	}
	rt.mu.Lock()
	handler := rt.times
	rt.mu.Unlock()
	txps := float64(total) / elapsed.Seconds()
	ratio := "n/a"
	if taskN > 0 {
		ratio = fmt.Sprintf("%.2f : 1 (%d bank, %d task)", float64(bankN)/float64(taskN), bankN, taskN)
	}
	b.Logf("\n%d validator(s), %s of load, blocks %d..%d\n%s"+
		"block time: mean %s, p50 %s, p95 %s over %d blocks\n"+
		"bank : task transactions included: %s\n"+
		"reveal handler (keeper, same process, %d runs): p50 %s, p99 %s\n",
		validators, elapsed.Round(time.Second), tr.first, tr.last, table(rows),
		ms(blockTimes.mean()), ms(blockTimes.pct(50)), ms(blockTimes.pct(95)), len(blockTimes),
		ratio, len(handler), fmt.Sprintf("%.2f ms", float64(handler.pct(50))/1e6), fmt.Sprintf("%.2f ms", float64(handler.pct(99))/1e6))
	b.ReportMetric(txps, "tx/s")
	b.ReportMetric(float64(all.pct(50))/1e6, "p50-ms")
	b.ReportMetric(float64(all.pct(95))/1e6, "p95-ms")
	b.ReportMetric(float64(blockTimes.pct(50))/1e6, "block-ms")
	b.ReportMetric(float64(handler.pct(50))/1e6, "reveal-p50-ms")
	b.ReportMetric(float64(handler.pct(99))/1e6, "reveal-p99-ms")
	b.ReportMetric(0, "ns/op")
}
