package chainproc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/hinterland-ai/hinterland/cmd/hinterlandd/cmd/ports"
)

// Node is one node home on 127.0.0.1 and, once started, its process. Its
// ports are node Index's in the layout of package ports from Base: the
// ports `testnet init-files` writes into the homes of a network, and the
// ones WriteConfig writes into any other home.
type Node struct {
	Name  string // node0, node1, ...: the process's name in logs
	Index int
	Home  string
	Bin   string
	Base  int
	// RPC is the CometBFT RPC address (tcp://127.0.0.1:PORT), GRPC the gRPC
	// address (127.0.0.1:PORT), API the REST address (http://127.0.0.1:PORT).
	RPC, GRPC, API string
	// Client talks to the node's CometBFT RPC.
	Client *rpchttp.HTTP

	t      testing.TB
	proc   *Process
	paused bool
	starts int
}

// NewNode describes node index of the layout from base, in home (which it
// neither creates nor writes; see WriteConfig). Nothing is started.
func NewNode(t testing.TB, bin, home string, base, index int) *Node {
	t.Helper()
	nd := &Node{Name: fmt.Sprintf("node%d", index), Index: index, Home: home, Bin: bin, Base: base, t: t}
	nd.RPC = "tcp://" + nd.Addr(ports.RPC)
	nd.GRPC = nd.Addr(ports.GRPC)
	nd.API = "http://" + nd.Addr(ports.API)
	client, err := rpchttp.New(nd.RPC, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	nd.Client = client
	return nd
}

// Port is the node's port at an offset of package ports (ports.RPC, ...).
func (nd *Node) Port(offset int) int { return ports.Port(nd.Base, nd.Index, offset) }

// Addr is 127.0.0.1:Port(offset).
func (nd *Node) Addr(offset int) string { return fmt.Sprintf("127.0.0.1:%d", nd.Port(offset)) }

// WriteConfig puts every listener of the home (written by `init`) on the
// node's ports, sets consensus.timeout_commit to blockTime, and points
// client.toml at the node and the test keyring, and at chainID unless it
// is "".
func (nd *Node) WriteConfig(blockTime time.Duration, chainID string) {
	nd.t.Helper()
	cfg := filepath.Join(nd.Home, "config")
	edits := []struct{ file, section, key, value string }{
		{"config.toml", "rpc", "laddr", strconv.Quote(nd.RPC)},
		{"config.toml", "rpc", "pprof_laddr", strconv.Quote(nd.Addr(ports.Pprof))},
		{"config.toml", "p2p", "laddr", strconv.Quote("tcp://" + nd.Addr(ports.P2P))},
		{"config.toml", "consensus", "timeout_commit", strconv.Quote(blockTime.String())},
		{"config.toml", "instrumentation", "prometheus_listen_addr", strconv.Quote(nd.Addr(ports.Prometheus))},
		{"app.toml", "api", "address", strconv.Quote("tcp://" + nd.Addr(ports.API))},
		{"app.toml", "grpc", "address", strconv.Quote(nd.GRPC)},
		{"client.toml", "", "node", strconv.Quote(nd.RPC)},
		{"client.toml", "", "keyring-backend", `"test"`},
	}
	if chainID != "" {
		edits = append(edits, struct{ file, section, key, value string }{"client.toml", "", "chain-id", strconv.Quote(chainID)})
	}
	for _, e := range edits {
		if err := SetTOML(filepath.Join(cfg, e.file), e.section, e.key, e.value); err != nil {
			nd.t.Fatal(err)
		}
	}
}

// Start starts (or restarts) `hinterlandd start` on the home; the output of
// the Nth start goes to HOME/node.N.log. It does not wait for blocks (see
// WaitHeight).
func (nd *Node) Start() {
	nd.t.Helper()
	if nd.Running() {
		nd.t.Fatalf("%s is already running", nd.Name)
	}
	nd.starts++
	log := filepath.Join(nd.Home, fmt.Sprintf("node.%d.log", nd.starts))
	proc := StartProcess(nd.t, nd.Name, log, nd.Bin, "start", "--home", nd.Home)
	// Runs before StartProcess's cleanup: a frozen process would ignore its
	// SIGTERM until the SIGKILL 15 s later.
	nd.t.Cleanup(func() {
		if nd.proc == proc && nd.paused {
			_ = proc.Signal(syscall.SIGCONT)
		}
	})
	nd.proc = proc
	nd.paused = false
}

// Running reports whether the node's process is alive (paused or not).
func (nd *Node) Running() bool { return nd.proc != nil && !nd.proc.Exited() }

// Paused reports whether the node is frozen by Pause.
func (nd *Node) Paused() bool { return nd.paused }

// Stop ends the node gracefully (SIGTERM, SIGKILL after 15 s) and waits for
// it; a paused node is resumed first.
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
	nd.t.Helper()
	nd.signal(syscall.SIGSTOP)
	nd.paused = true
}

// Resume thaws a paused node (SIGCONT).
func (nd *Node) Resume() {
	nd.t.Helper()
	nd.signal(syscall.SIGCONT)
	nd.paused = false
}

func (nd *Node) signal(sig syscall.Signal) {
	nd.t.Helper()
	if !nd.Running() {
		nd.t.Fatalf("%s is not running", nd.Name)
	}
	if err := nd.proc.Signal(sig); err != nil {
		nd.t.Fatalf("%s: %s: %v", nd.Name, sig, err)
	}
}

// Log is everything the node's current (or last) process has written.
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

// WaitHeight waits until the node has a block at height h, failing the test
// after timeout or if its process ends first.
func (nd *Node) WaitHeight(h int64, timeout time.Duration) {
	nd.t.Helper()
	deadline := time.Now().Add(timeout)
	for nd.Height() < h {
		if nd.proc != nil && nd.proc.Exited() {
			nd.t.Fatalf("%s exited (%v) before height %d", nd.Name, nd.proc.waitErr, h)
		}
		if time.Now().After(deadline) {
			nd.t.Fatalf("%s did not reach height %d within %s (at %d)", nd.Name, h, timeout, nd.Height())
		}
		time.Sleep(200 * time.Millisecond)
	}
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

// BlockTime is the header time of the block at height h.
func (nd *Node) BlockTime(h int64) (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := nd.Client.Block(ctx, &h)
	if err != nil {
		return time.Time{}, err
	}
	return b.Block.Header.Time, nil
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

// PeakRSS is the node process's peak resident memory (VmHWM in
// /proc/PID/status), in bytes.
func (nd *Node) PeakRSS() (uint64, error) {
	if nd.proc == nil {
		return 0, fmt.Errorf("%s is not running", nd.Name)
	}
	bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", nd.proc.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(bz), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", nd.proc.Pid())
}
