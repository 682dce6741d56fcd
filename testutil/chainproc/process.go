// Package chainproc runs the real hinterlandd binary in black-box tests.
//
//   - Process (process.go): a long-running child process (a node, a worker,
//     a watchtower, a server) whose output is kept in a log file; Run for a
//     command run to completion.
//   - Node (node.go): one node home on 127.0.0.1 and its process, started,
//     stopped, killed, paused and resumed; its ports follow the layout of
//     package ports, the one `hinterlandd testnet init-files` writes, from a
//     base found free by FreeBase.
//   - Chain (chain.go, tx.go): a one-validator chain in a temporary home
//     (init, keys, gentx, collect-gentxs), CLI calls against it and
//     transactions waited for.
//   - Network (network.go, client.go): validators from `hinterlandd testnet
//     init-files`, and transactions signed and broadcast from its funded
//     accounts through a node's CometBFT RPC.
//
// Everything a helper starts is stopped by t.Cleanup, also when the test
// fails, and the tail of every log is printed on failure.
package chainproc

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/cmd/hinterlandd/cmd/ports"
)

// BinaryEnv names the environment variable holding the hinterlandd path.
const BinaryEnv = "HINTERLANDD"

// LogsEnv, when set, prints the tail of every process log at the end of a
// test that passed too (they are always printed when it fails).
const LogsEnv = "CHAINPROC_LOGS"

// Binary returns the hinterlandd binary under test: $HINTERLANDD, or
// ../../build/hinterlandd (relative to the test's package directory, i.e.
// the repository's build/ for packages two levels down). It fails the test,
// never skips it, when the binary is missing.
func Binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv(BinaryEnv)
	if path == "" {
		path = filepath.Join("..", "..", "build", "hinterlandd")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(abs)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("hinterlandd binary not found at %s: run `make build` (or set %s to its path)", abs, BinaryEnv)
	}
	return abs
}

var (
	portsMu sync.Mutex
	used    = make(map[int]bool) // ports handed out in this process (FreePort, FreeBase)
)

// FreePort returns a TCP port on 127.0.0.1 that was free when asked and has
// not been handed out before in this process (by FreePort or FreeBase), for
// a listener outside the nodes' layout (a dataset server, say).
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !used[p] {
			used[p] = true
			return p
		}
	}
	t.Fatal("no free port found")
	return 0
}

// Bases are drawn from [baseLow, baseHigh): below Linux's default ephemeral
// range (ip_local_port_range 32768-60999), where the kernel picks FreePort's
// ports and the source ports of outgoing connections, so that neither takes
// a node's port between FreeBase and the node's start.
const baseLow, baseHigh = 20_000, 32_768

// FreeBase returns a base port for nodes nodes in the layout of package
// ports: every port of the block base .. ports.Port(base, nodes, 0)-1 was
// free on 127.0.0.1 when asked and had not been handed out in this process;
// they are all reserved now.
func FreeBase(t testing.TB, nodes int) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	span := ports.PerNode * nodes
	for range 200 {
		base := baseLow + ports.PerNode*rand.IntN((baseHigh-baseLow-span)/ports.PerNode)
		free := true
		for p := base; free && p < base+span; p++ {
			if used[p] {
				free = false
				break
			}
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			for p := base; p < base+span; p++ {
				used[p] = true
			}
			return base
		}
	}
	t.Fatalf("no free range of %d ports for %d node(s)", span, nodes)
	return 0
}

// Process is a long-running child process whose output goes to a log file.
type Process struct {
	Name    string
	LogPath string

	t       testing.TB
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// StartProcess starts bin with args, output (stdout and stderr) appended to
// logPath. It is stopped at the end of the test.
func StartProcess(t testing.TB, name, logPath, bin string, args ...string) *Process {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a signal from the terminal to the test does
	// not reach it before the cleanup does, in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, t: t, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		// A binary built with -race reports races on its output.
		if out := p.Output(); strings.Contains(out, "WARNING: DATA RACE") {
			i := strings.Index(out, "WARNING: DATA RACE")
			t.Errorf("%s: data race:\n%s", name, out[i:min(len(out), i+4000)])
		}
		if t.Failed() || os.Getenv(LogsEnv) != "" {
			t.Logf("--- last lines of %s (%s) ---\n%s", name, logPath, Tail(p.Output(), 40))
		}
	})
	return p
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is the process's exit status (nil for exit 0) once it has ended.
func (p *Process) ExitErr() error {
	<-p.done
	return p.waitErr
}

// Stop sends SIGTERM and, if the process has not ended after 15 s, SIGKILL.
// It is safe to call more than once.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.Kill()
	}
}

// Signal sends sig to the process (SIGSTOP, SIGCONT, ...); it does not wait.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return fmt.Errorf("%s has exited", p.Name)
	}
	return p.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL (kill -9) and waits for the process to end.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Output returns everything the process has written so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// WaitFor polls the process output until cond holds, failing the test after
// timeout or if the process ends first.
func (p *Process) WaitFor(timeout time.Duration, what string, cond func(out string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := p.Output()
		if cond(out) {
			return out
		}
		if p.Exited() {
			p.t.Fatalf("%s exited (%v) while waiting for %s", p.Name, p.waitErr, what)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no %s within %s", p.Name, what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// WaitForText waits until the output contains text.
func (p *Process) WaitForText(timeout time.Duration, text string) string {
	p.t.Helper()
	return p.WaitFor(timeout, fmt.Sprintf("%q", text), func(out string) bool { return strings.Contains(out, text) })
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Run runs bin with args to completion and returns its stdout; a non-zero
// exit is an error wrapping the *exec.ExitError and carrying stderr.
func Run(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), fmt.Errorf("%s %s: %w: %s%s", filepath.Base(bin), strings.Join(args, " "),
				err, stderr.String(), Tail(stdout.String(), 5))
		}
		return stdout.String(), err
	}
	return stdout.String(), nil
}
