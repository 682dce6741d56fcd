package faults

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

var data = fixtures.Synthetic(64)

// kind of a load transaction.
type kind int

const (
	kindSend kind = iota
	kindPost
	kindClaim
)

// sent is a transaction the load generator had accepted by a node.
type sent struct {
	chainproc.Sent
	kind kind
	from string
}

// load sends bank transfers, task posts and claims from the network's funded
// users, round-robin to the nodes that are up, until stopped. A refused
// broadcast (node down, paused, or halted mempool) resynchronises the
// wallet's sequence from another node and moves on.
type load struct {
	net     *chainproc.Network
	wallets []*chainproc.Wallet
	stop    chan struct{}
	done    sync.WaitGroup

	mu      sync.Mutex
	sent    []sent
	refused int
	posted  []uint64 // task ids seen open, for claims
}

func startLoad(t *testing.T, n *chainproc.Network, wallets []*chainproc.Wallet) *load {
	l := &load{net: n, wallets: wallets, stop: make(chan struct{})}
	l.done.Add(1)
	go l.run()
	t.Cleanup(l.halt)
	return l
}

func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
		l.done.Wait()
	}
}

// up are the nodes that answer.
func (l *load) up() []*chainproc.Node {
	var out []*chainproc.Node
	for _, nd := range l.net.Nodes {
		if nd.Running() && !nd.Paused() {
			out = append(out, nd)
		}
	}
	return out
}

func (l *load) run() {
	defer l.done.Done()
	r := rand.New(rand.NewPCG(7, 11))
	tick := time.NewTicker(150 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		nodes := l.up()
		if len(nodes) == 0 {
			continue
		}
		nd := nodes[i%len(nodes)]
		w := l.wallets[r.IntN(len(l.wallets))]
		var (
			k    kind
			msg  sdk.Msg
			gas  uint64 = 200_000
			roll        = r.IntN(10)
		)
		switch {
		case roll < 6:
			to := l.wallets[r.IntN(len(l.wallets))]
			k, msg = kindSend, &banktypes.MsgSend{FromAddress: w.Addr.String(), ToAddress: to.Addr.String(),
				Amount: sdk.NewCoins(sdk.NewCoin("uhint", sdkmath.NewInt(1+r.Int64N(1_000))))}
		case roll < 8:
			m := fixtures.PostMsg(w.Addr, data)
			m.ClaimWindow, m.CommitWindow = 10*time.Minute, 10*time.Minute
			k, msg, gas = kindPost, m, 1_000_000
		default:
			id := l.openTask(nd, r)
			if id == 0 {
				continue
			}
			k, msg, gas = kindClaim, &taskstypes.MsgClaimTask{Worker: w.Addr.String(), TaskId: id}, 500_000
		}
		s, err := l.net.Broadcast(nd, w, gas, msg)
		l.mu.Lock()
		if err != nil {
			l.refused++
			l.mu.Unlock()
			_ = l.net.Refresh(nd, w)
			continue
		}
		l.sent = append(l.sent, sent{Sent: s, kind: k, from: w.Name})
		l.mu.Unlock()
	}
}

// openTask is an open task's id (queried from nd), or 0.
func (l *load) openTask(nd *chainproc.Node, r *rand.Rand) uint64 {
	var res taskstypes.QueryTasksResponse
	if err := nd.ABCIQuery("/hinterland.tasks.v1.Query/Tasks", &taskstypes.QueryTasksRequest{Status: taskstypes.TASK_STATUS_OPEN}, &res); err != nil || len(res.Tasks) == 0 {
		return 0
	}
	return res.Tasks[r.IntN(len(res.Tasks))].Id
}

// snapshot copies what the generator has sent so far.
func (l *load) snapshot() (out []sent, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sent(nil), l.sent...), l.refused
}
