package chainproc

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NetworkOptions configure a network; zero values take the defaults.
type NetworkOptions struct {
	Validators int      // default 4
	Accounts   []string // funded user accounts, default user0 .. user7
	ChainID    string   // default hinterland-localnet-1
	// TimeoutCommit overrides config.toml's consensus.timeout_commit
	// (init-files writes 1 s).
	TimeoutCommit time.Duration
}

// Network is a set of validator homes written by `hinterlandd testnet
// init-files` in a temporary directory, on the ports of the layout from a
// free base, and their nodes, which tests start, stop (SIGTERM), kill
// (SIGKILL), pause (SIGSTOP) and resume (SIGCONT). client.go signs and
// broadcasts transactions from its funded accounts.
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

// NewNetwork writes the homes of a network (not started).
func NewNetwork(t testing.TB, opts NetworkOptions) *Network {
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
	n := &Network{t: t, Bin: Binary(t), Dir: filepath.Join(t.TempDir(), "net"), ChainID: opts.ChainID,
		Accounts: opts.Accounts}
	n.Base = FreeBase(t, opts.Validators)
	out, err := Run(n.Bin, "testnet", "init-files", "--validators", fmt.Sprint(opts.Validators),
		"--output-dir", n.Dir, "--starting-port", fmt.Sprint(n.Base), "--chain-id", n.ChainID,
		"--accounts", strings.Join(opts.Accounts, ","))
	if err != nil {
		t.Fatalf("testnet init-files: %v\n%s", err, out)
	}
	for i := range opts.Validators {
		nd := NewNode(t, n.Bin, filepath.Join(n.Dir, fmt.Sprintf("node%d", i)), n.Base, i)
		if opts.TimeoutCommit > 0 {
			if err := SetTOML(filepath.Join(nd.Home, "config", "config.toml"), "consensus", "timeout_commit",
				fmt.Sprintf("%q", opts.TimeoutCommit.String())); err != nil {
				t.Fatal(err)
			}
		}
		n.Nodes = append(n.Nodes, nd)
	}
	return n
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

// WaitHeight waits until every node in nodes has a block at height h,
// failing the test after timeout or if one of them is not running.
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
		for _, nd := range nodes {
			if !nd.Running() {
				n.t.Fatalf("waiting for height %d: %s is not running%s", h, nd.Name, n.tails(nodes))
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("nodes did not reach height %d within %s (lowest at %d)%s", h, timeout, low, n.tails(nodes))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// MaxHeight is the highest height any running, unpaused node reports.
func (n *Network) MaxHeight() int64 {
	var h int64
	for _, nd := range n.Nodes {
		if nd.Running() && !nd.Paused() {
			h = max(h, nd.Height())
		}
	}
	return h
}

func (n *Network) tails(nodes []*Node) string {
	var b strings.Builder
	for _, nd := range nodes {
		fmt.Fprintf(&b, "\n--- %s (height %d) ---\n%s", nd.Name, nd.Height(), Tail(nd.Log(), 8))
	}
	return b.String()
}

// KeyringDir is where the funded users' keys are (keyring-backend test).
func (n *Network) KeyringDir() string { return n.Dir }
