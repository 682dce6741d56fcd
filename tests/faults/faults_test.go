// Package faults injects process faults into a real four-validator localnet
// (real hinterlandd binaries on 127.0.0.1, temporary homes from `hinterlandd
// testnet init-files`) under a load of bank sends, task posts and claims, and
// checks that the chain recovers without losing a task or a coin:
//
//   - kill -9 of one validator: the others go on; the restarted one catches
//     up with the same blocks and app hash;
//   - SIGSTOP / SIGCONT of one validator: the same;
//   - two of four validators down: the chain halts (no new block, the
//     survivors agree on every block) and resumes when they return;
//   - kill -9 of all four: after the restart the chain resumes, and every
//     escrow, bond, task and balance at the last height before the crash is
//     exactly what it was.
//
// Recovery times are logged ("recovery:" lines). `make test-faults` runs it
// (it needs build/hinterlandd, or $HINTERLANDD).
package faults

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	rpcclient "github.com/cometbft/cometbft/rpc/client"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	gogoproto "github.com/cosmos/gogoproto/proto"

	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

const (
	// Waits are generous for a loaded two-core CI machine; the measured
	// recovery times are what the report shows.
	blockWait   = 60 * time.Second
	haltObserve = 8 * time.Second
)

func TestFaults(t *testing.T) {
	n := chainproc.NewNetwork(t, chainproc.NetworkOptions{})
	n.Start(2 * time.Minute)
	wallets := n.Wallets(n.Nodes[0])
	l := startLoad(t, n, wallets)
	n.WaitHeight(n.Nodes, n.MaxHeight()+3, blockWait)

	var recoveries []string
	record := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		recoveries = append(recoveries, line)
		t.Logf("recovery: %s", line)
	}

	t.Run("kill -9 one validator, restart, catch up", func(t *testing.T) {
		victim := n.Nodes[3]
		victim.Kill()
		down := n.MaxHeight()
		n.WaitHeight(n.Nodes[:3], down+5, blockWait) // three of four keep the chain going
		victim.Start()
		start := time.Now()
		target := n.Nodes[0].Height()
		n.WaitHeight([]*chainproc.Node{victim}, target, 2*time.Minute)
		record("kill -9 of 1 validator (down %d blocks): restarted node at the tip in %.1f s", target-down, time.Since(start).Seconds())
		requireSameChain(t, n.Nodes, target)
	})

	t.Run("SIGSTOP one validator, SIGCONT, catch up", func(t *testing.T) {
		victim := n.Nodes[2]
		victim.Pause()
		frozen := n.MaxHeight()
		n.WaitHeight([]*chainproc.Node{n.Nodes[0], n.Nodes[1], n.Nodes[3]}, frozen+5, blockWait)
		victim.Resume()
		start := time.Now()
		target := n.Nodes[0].Height()
		n.WaitHeight([]*chainproc.Node{victim}, target, 2*time.Minute)
		record("SIGSTOP of 1 validator (frozen %d blocks): resumed node at the tip in %.1f s", target-frozen, time.Since(start).Seconds())
		requireSameChain(t, n.Nodes, target)
	})

	t.Run("two of four down: halt without fork, resume", func(t *testing.T) {
		a, b := n.Nodes[1], n.Nodes[3]
		a.Kill()
		b.Kill()
		survivors := []*chainproc.Node{n.Nodes[0], n.Nodes[2]}
		// Let an in-flight round finish, then watch: no validator set with 2
		// of 4 votes can commit a block.
		time.Sleep(3 * time.Second)
		before := heights(survivors)
		time.Sleep(haltObserve)
		after := heights(survivors)
		require.Equal(t, before, after, "the chain made blocks with half of the voting power down")
		halted := max(after[0], after[1])
		requireSameChain(t, survivors, min(after[0], after[1]))
		a.Start()
		b.Start()
		start := time.Now()
		n.WaitHeight(survivors, halted+1, 3*time.Minute)
		resumed := time.Since(start)
		n.WaitHeight(n.Nodes, halted+3, 2*time.Minute)
		record("2 of 4 validators down: no block for %.0f s (survivors at height %d, same blocks); first new block %.1f s after restarting them",
			haltObserve.Seconds(), halted, resumed.Seconds())
		requireSameChain(t, n.Nodes, halted+3)
	})

	t.Run("kill -9 all four, restart, escrows and bonds intact", func(t *testing.T) {
		h := n.Nodes[0].Height()
		n.WaitHeight(n.Nodes, h, blockWait)
		before := state(t, n.Nodes[0], h)
		require.NotEmpty(t, before.escrows, "the load has posted tasks")
		for _, nd := range n.Nodes {
			nd.Kill()
		}
		crashed := time.Now()
		for _, nd := range n.Nodes {
			nd.Start()
		}
		restarted := time.Now()
		top := h
		for _, nd := range n.Nodes {
			n.WaitHeight([]*chainproc.Node{nd}, h, 2*time.Minute)
			top = max(top, nd.Height())
		}
		n.WaitHeight(n.Nodes, top+1, 3*time.Minute)
		record("kill -9 of all 4 validators: first new block %.1f s after the restart (%.1f s after the crash)",
			time.Since(restarted).Seconds(), time.Since(crashed).Seconds())
		for _, nd := range n.Nodes {
			after := state(t, nd, h)
			require.Equalf(t, before.String(), after.String(), "node%d's state at height %d after the crash", nd.Index, h)
		}
		t.Logf("height %d before and after the crash, on every node: %d escrows, %d bonds, %d tasks, %d balances identical",
			h, len(before.escrows), len(before.bonds), len(before.tasks), len(before.balances))
	})

	// Everything the load got accepted: included once, identically on every
	// node, and the chain's books balance.
	l.halt()
	end := n.Nodes[0].Height()
	n.WaitHeight(n.Nodes, end+2, blockWait)
	end += 2
	sentTxs, refused := l.snapshot()
	var included, posts, claims int
	// The same bytes can be sent twice: after a refusal the generator reads
	// the account's sequence again, possibly from a node still catching up,
	// and a post task from the same account with the same sequence is the
	// same transaction. Count each hash once.
	counted := map[string]bool{}
	resent := 0
	for _, s := range sentTxs {
		if counted[fmt.Sprintf("%X", s.Hash)] {
			resent++
			continue
		}
		counted[fmt.Sprintf("%X", s.Hash)] = true
		found, code, _ := n.Nodes[0].FindTx(s.Hash)
		if !found {
			continue // accepted by a node that died before gossiping it
		}
		included++
		for _, nd := range n.Nodes[1:] {
			f2, c2, _ := nd.FindTx(s.Hash)
			require.True(t, f2, "node%d lacks tx %X", nd.Index, s.Hash)
			require.Equal(t, code, c2)
		}
		if code == 0 && s.kind == kindPost {
			posts++
		}
		if code == 0 && s.kind == kindClaim {
			claims++
		}
	}
	final := state(t, n.Nodes[0], end)
	require.Equal(t, posts, len(final.tasks), "every included post is a task")
	require.Equal(t, claims, final.claims, "every included claim is a claim")
	requireCustody(t, final)
	requireSameChain(t, n.Nodes, end)
	t.Logf("load: %d transactions accepted by a node (%d refused while nodes were down, %d the same bytes again), %d included (%d posts, %d claims); %d blocks",
		len(sentTxs), refused, resent, included, posts, claims, end)
	t.Logf("recovery summary:\n  %s", strings.Join(recoveries, "\n  "))
}

func heights(nodes []*chainproc.Node) []int64 {
	var out []int64
	for _, nd := range nodes {
		out = append(out, nd.Height())
	}
	return out
}

// requireSameChain requires every node to have the same block (hence app
// hash) at every height from 1 to h.
func requireSameChain(t *testing.T, nodes []*chainproc.Node, h int64) {
	t.Helper()
	for height := int64(1); height <= h; height++ {
		want, err := nodes[0].BlockHash(height)
		require.NoError(t, err)
		for _, nd := range nodes[1:] {
			got, err := nd.BlockHash(height)
			require.NoError(t, err)
			require.Truef(t, bytes.Equal(want, got), "node%d's block %d is %X, node%d's %X", nd.Index, height, got, nodes[0].Index, want)
		}
	}
}

// books is the x/rewards and x/tasks state and the balances at a height.
type books struct {
	escrows  map[uint64]string
	bonds    map[uint64]string
	tasks    map[uint64]string
	balances map[string]string
	claims   int
	custody  sdk.Coins // the rewards module account's balance
	held     sdk.Coins // escrows + bonds
}

func (b books) String() string {
	var lines []string
	for id, e := range b.escrows {
		lines = append(lines, fmt.Sprintf("escrow %d %s", id, e))
	}
	for id, e := range b.bonds {
		lines = append(lines, fmt.Sprintf("bonds %d %s", id, e))
	}
	for id, e := range b.tasks {
		lines = append(lines, fmt.Sprintf("task %d %s", id, e))
	}
	for a, e := range b.balances {
		lines = append(lines, fmt.Sprintf("balance %s %s", a, e))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// queryAt runs a query at a height.
func queryAt(nd *chainproc.Node, h int64, path string, req, res gogoproto.Message) error {
	bz, err := gogoproto.Marshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := nd.Client.ABCIQueryWithOptions(ctx, path, bz, rpcclient.ABCIQueryOptions{Height: h})
	if err != nil {
		return err
	}
	if out.Response.Code != 0 {
		return fmt.Errorf("%s at %d: %s", path, h, out.Response.Log)
	}
	return gogoproto.Unmarshal(out.Response.Value, res)
}

// state reads the books at height h from nd: every task, its escrow and
// bonds, every balance.
func state(t *testing.T, nd *chainproc.Node, h int64) books {
	t.Helper()
	b := books{escrows: map[uint64]string{}, bonds: map[uint64]string{}, tasks: map[uint64]string{}, balances: map[string]string{}}
	var tasks taskstypes.QueryTasksResponse
	require.NoError(t, queryAt(nd, h, "/hinterland.tasks.v1.Query/Tasks", &taskstypes.QueryTasksRequest{
		Pagination: pageAll()}, &tasks))
	for _, task := range tasks.Tasks {
		b.tasks[task.Id] = fmt.Sprintf("%s active %d verified %d", task.Status, task.Active, task.Verified)
		var esc rewardstypes.QueryEscrowResponse
		if err := queryAt(nd, h, "/hinterland.rewards.v1.Query/Escrow", &rewardstypes.QueryEscrowRequest{TaskId: task.Id}, &esc); err == nil {
			b.escrows[task.Id] = esc.Escrow.String()
			b.held = b.held.Add(esc.Escrow.Amount)
		}
		var bonds rewardstypes.QueryBondsResponse
		require.NoError(t, queryAt(nd, h, "/hinterland.rewards.v1.Query/Bonds", &rewardstypes.QueryBondsRequest{TaskId: task.Id}, &bonds))
		if len(bonds.Bonds) > 0 {
			var parts []string
			for _, bd := range bonds.Bonds {
				parts = append(parts, bd.String())
				b.held = b.held.Add(bd.Amount)
			}
			b.bonds[task.Id] = strings.Join(parts, "; ")
		}
		var as taskstypes.QueryAssignmentsResponse
		require.NoError(t, queryAt(nd, h, "/hinterland.tasks.v1.Query/Assignments", &taskstypes.QueryAssignmentsRequest{TaskId: task.Id}, &as))
		b.claims += len(as.Assignments)
	}
	var all banktypes.QueryDenomOwnersResponse
	require.NoError(t, queryAt(nd, h, "/cosmos.bank.v1beta1.Query/DenomOwners", &banktypes.QueryDenomOwnersRequest{
		Denom: "uhint", Pagination: pageAll()}, &all))
	rewardsAddr := authtypes.NewModuleAddress(rewardstypes.ModuleName).String()
	for _, o := range all.DenomOwners {
		b.balances[o.Address] = o.Balance.String()
		if o.Address == rewardsAddr {
			b.custody = sdk.NewCoins(o.Balance)
		}
	}
	return b
}

// requireCustody: the rewards module account holds exactly the escrows and bonds.
func requireCustody(t *testing.T, b books) {
	t.Helper()
	require.Truef(t, b.custody.Equal(b.held), "rewards module holds %s, escrows and bonds add up to %s", b.custody, b.held)
}

func pageAll() *query.PageRequest { return &query.PageRequest{Limit: 10_000} }
