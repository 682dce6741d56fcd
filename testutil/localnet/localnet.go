// Package localnet runs a network of real hinterlandd validator processes on
// 127.0.0.1: homes written by `hinterlandd testnet init-files` in a temporary
// directory, on ports found free, and nodes that tests start, stop (SIGTERM),
// kill (SIGKILL), pause (SIGSTOP) and resume (SIGCONT). Client (client.go)
// signs and broadcasts transactions from the network's funded accounts and
// queries the chain through a node's CometBFT RPC.
package localnet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/hinterland-ai/hinterland/testutil/chainproc"
)

// Port offsets of node I from the network's base port (see
// `hinterlandd testnet init-files --help`).
const (
	offP2P = iota
	offRPC
	offGRPC
	offAPI
	offPprof
	offPrometheus
	portsPerNode = 10
)

// Options configure a network; zero values take the defaults.
type Options struct {
	Validators int      // default 4
	Accounts   []string // funded user accounts, default user0 .. user7
	ChainID    string   // default hinterland-localnet-1
	// TimeoutCommit overrides config.toml's consensus.timeout_commit
	// (init-files writes 1 s).
	TimeoutCommit time.Duration
}

// Network is a set of validator homes and their processes.
type Network struct {
	t       testing.TB
	Bin     string
	Dir     string // OUTPUT of init-files: node homes and the users' keyring
	ChainID string
	Base    int
	Nodes   []*Node
	// Accounts are the funded user accounts' names.
	Accounts []string
}

// Node is one validator.
type Node struct {
	Index int
	Home  string
	// RPC is the CometBFT RPC address (tcp://127.0.0.1:PORT).
	RPC    string
	Client *rpchttp.HTTP
	net    *Network
	proc   *chainproc.Process
	paused bool
	starts int
}

// New writes the homes of a network (not started).
func New(t testing.TB, opts Options) *Network {
	t.Helper()
	if opts.Validators == 0 {
		opts.Validators = 4
	}
	if len(opts.Accounts) == 0 {
		for i := range 8 {
			opts.Accounts = append(opts.Accounts, fmt.Sprintf("user%d", i))
		}
	}
	if opts.ChainID == "" {
		opts.ChainID = "hinterland-localnet-1"
	}
	n := &Network{t: t, Bin: chainproc.Binary(t), Dir: filepath.Join(t.TempDir(), "net"), ChainID: opts.ChainID,
		Accounts: opts.Accounts}
	n.Base = freeBase(t, opts.Validators)
	out, err := chainproc.Run(n.Bin, "testnet", "init-files", "--validators", fmt.Sprint(opts.Validators),
		"--output-dir", n.Dir, "--starting-port", fmt.Sprint(n.Base), "--chain-id", n.ChainID,
		"--accounts", strings.Join(opts.Accounts, ","))
	if err != nil {
		t.Fatalf("testnet init-files: %v\n%s", err, out)
	}
	for i := range opts.Validators {
		home := filepath.Join(n.Dir, fmt.Sprintf("node%d", i))
		if opts.TimeoutCommit > 0 {
			if err := chainproc.SetTOML(filepath.Join(home, "config", "config.toml"), "consensus", "timeout_commit",
				fmt.Sprintf("%q", opts.TimeoutCommit.String())); err != nil {
				t.Fatal(err)
			}
		}
		rpc := fmt.Sprintf("tcp://127.0.0.1:%d", n.Base+portsPerNode*i+offRPC)
		client, err := rpchttp.New(rpc, "/websocket")
		if err != nil {
			t.Fatal(err)
		}
		n.Nodes = append(n.Nodes, &Node{Index: i, Home: home, RPC: rpc, Client: client, net: n})
	}
	return n
}

// freeBase finds a base port such that every port of every node is free on
// 127.0.0.1 now.
func freeBase(t testing.TB, nodes int) int {
	t.Helper()
	for range 200 {
		base := 20_000 + portsPerNode*rand.IntN(4_000)
		free := true
		for i := 0; free && i < nodes*portsPerNode; i++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port range for the network")
	return 0
}

// Start starts every node and waits until every one has block 2 (the
// chain is making blocks).
func (n *Network) Start(timeout time.Duration) {
	n.t.Helper()
	for _, nd := range n.Nodes {
		nd.Start()
	}
	n.WaitHeight(n.Nodes, 2, timeout)
}

// Start starts (or restarts) the node's process on its home.
func (nd *Node) Start() {
	t := nd.net.t
	t.Helper()
	if nd.proc != nil && !nd.proc.Exited() {
		t.Fatalf("node%d is already running", nd.Index)
	}
	nd.starts++
	log := filepath.Join(nd.Home, fmt.Sprintf("node.%d.log", nd.starts))
	nd.proc = chainproc.StartProcess(t, fmt.Sprintf("node%d", nd.Index), log, nd.net.Bin, "start", "--home", nd.Home)
	nd.paused = false
}

// Running reports whether the node's process is alive (paused or not).
func (nd *Node) Running() bool { return nd.proc != nil && !nd.proc.Exited() }

// Paused reports whether the node is frozen by Pause.
func (nd *Node) Paused() bool { return nd.paused }

// Stop ends the node gracefully (SIGTERM).
func (nd *Node) Stop() {
	if nd.paused {
		nd.Resume()
	}
	if nd.proc != nil {
		nd.proc.Stop()
	}
}

// Kill ends the node at once (SIGKILL, kill -9): no shutdown, no flush.
func (nd *Node) Kill() {
	if nd.proc != nil {
		nd.proc.Kill()
	}
	nd.paused = false
}

// Pause freezes the node (SIGSTOP): its process and sockets stay, it does
// nothing until Resume.
func (nd *Node) Pause() {
	nd.signal(syscall.SIGSTOP)
	nd.paused = true
}

// Resume thaws a paused node (SIGCONT).
func (nd *Node) Resume() {
	nd.signal(syscall.SIGCONT)
	nd.paused = false
}

func (nd *Node) signal(sig syscall.Signal) {
	t := nd.net.t
	t.Helper()
	if !nd.Running() {
		t.Fatalf("node%d is not running", nd.Index)
	}
	if err := syscall.Kill(nd.proc.Pid(), sig); err != nil {
		t.Fatalf("node%d: %s: %v", nd.Index, sig, err)
	}
}

// Log is everything the node's current process has written.
func (nd *Node) Log() string {
	if nd.proc == nil {
		return ""
	}
	return nd.proc.Output()
}

// Height is the node's latest block height, or 0 when it does not answer
// within a second.
func (nd *Node) Height() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := nd.Client.Status(ctx)
	if err != nil {
		return 0
	}
	return st.SyncInfo.LatestBlockHeight
}

// BlockHash is the hash of the block at height h as the node has it (it
// covers the header, hence the app hash of the block before).
func (nd *Node) BlockHash(h int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := nd.Client.Block(ctx, &h)
	if err != nil {
		return nil, err
	}
	return b.BlockID.Hash, nil
}

// AppHash is the app hash after block h, as the node's header of block h+1
// records it.
func (nd *Node) AppHash(h int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	next := h + 1
	b, err := nd.Client.Block(ctx, &next)
	if err != nil {
		return nil, err
	}
	return b.Block.Header.AppHash, nil
}

// WaitHeight waits until every node in nodes has a block at height h.
func (n *Network) WaitHeight(nodes []*Node, h int64, timeout time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		low := int64(-1)
		for _, nd := range nodes {
			if got := nd.Height(); low < 0 || got < low {
				low = got
			}
		}
		if low >= h {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nodes did not reach height %d within %s (lowest at %d)%s", h, timeout, low, n.tails(nodes))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// MaxHeight is the highest height any running node reports.
func (n *Network) MaxHeight() int64 {
	var h int64
	for _, nd := range n.Nodes {
		if nd.Running() && !nd.paused {
			h = max(h, nd.Height())
		}
	}
	return h
}

func (n *Network) tails(nodes []*Node) string {
	var b strings.Builder
	for _, nd := range nodes {
		fmt.Fprintf(&b, "\n--- node%d (height %d) ---\n%s", nd.Index, nd.Height(), chainproc.Tail(nd.Log(), 8))
	}
	return b.String()
}

// KeyringDir is where the funded users' keys are (keyring-backend test).
func (n *Network) KeyringDir() string { return n.Dir }
