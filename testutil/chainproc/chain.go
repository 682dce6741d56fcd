package chainproc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hinterland-ai/hinterland/app"
)

// Options configure a test chain.
type Options struct {
	// ChainID defaults to hinterland-e2e-1.
	ChainID string
	// Keys are funded accounts created besides "validator".
	Keys []string
	// Balance of every account (default 1000000000000uhint).
	Balance string
	// BlockTime is CometBFT's timeout_commit (default 1 s).
	BlockTime time.Duration
	// Genesis edits the app state before the chain starts (see SetParam).
	Genesis func(appState map[string]json.RawMessage) error
}

// Chain is a running one-validator chain in a temporary home.
type Chain struct {
	Bin     string
	Home    string
	ChainID string
	// RPC is the CometBFT RPC address (tcp://127.0.0.1:PORT), GRPC the gRPC
	// address (127.0.0.1:PORT), API the REST address (http://127.0.0.1:PORT):
	// Node's.
	RPC, GRPC, API string
	// Addrs maps key names to addresses.
	Addrs map[string]string
	// Node is the validator: node 0 of the port layout from a free base.
	Node *Node

	t testing.TB
}

// GasPrice is the fee price the helpers pay (the node's default minimum).
const GasPrice = app.DefaultMinGasPrices

// Start initialises a chain in a temporary home (init, keys add,
// add-genesis-account, gentx, collect-gentxs), puts its listeners on the
// ports of node 0 of the layout from a free base, starts the node and waits
// for its first blocks. The node is stopped at the end of the test.
func Start(t testing.TB, opts Options) *Chain {
	t.Helper()
	if opts.ChainID == "" {
		opts.ChainID = "hinterland-e2e-1"
	}
	if opts.Balance == "" {
		opts.Balance = "1000000000000uhint"
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = time.Second
	}
	c := &Chain{Bin: Binary(t), Home: filepath.Join(t.TempDir(), "chain"), ChainID: opts.ChainID,
		Addrs: make(map[string]string), t: t}
	c.Node = NewNode(t, c.Bin, c.Home, FreeBase(t, 1), 0)
	c.RPC, c.GRPC, c.API = c.Node.RPC, c.Node.GRPC, c.Node.API
	must := func(args ...string) string {
		t.Helper()
		out, err := Run(c.Bin, append(args, "--home", c.Home)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	must("init", "validator", "--chain-id", c.ChainID)
	for _, k := range append([]string{"validator"}, opts.Keys...) {
		out := must("keys", "add", k, "--keyring-backend", "test", "--output", "json")
		var key struct {
			Address string `json:"address"`
		}
		if err := json.Unmarshal([]byte(lastJSON(out)), &key); err != nil || key.Address == "" {
			t.Fatalf("keys add %s: %v: %s", k, err, out)
		}
		c.Addrs[k] = key.Address
		must("genesis", "add-genesis-account", k, opts.Balance, "--keyring-backend", "test")
	}
	must("genesis", "gentx", "validator", "100000000000uhint", "--chain-id", c.ChainID, "--keyring-backend", "test")
	must("genesis", "collect-gentxs")
	if opts.Genesis != nil {
		if err := editGenesis(filepath.Join(c.Home, "config", "genesis.json"), opts.Genesis); err != nil {
			t.Fatal(err)
		}
	}
	must("genesis", "validate")

	c.Node.WriteConfig(opts.BlockTime, c.ChainID)
	c.Node.Start()
	c.WaitHeight(2, 60*time.Second)
	return c
}

func lastJSON(out string) string {
	if i := strings.LastIndex(out, "\n{"); i >= 0 {
		return out[i+1:]
	}
	return out
}

// editGenesis applies fn to the app_state of a genesis file.
func editGenesis(path string, fn func(map[string]json.RawMessage) error) error {
	bz, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(bz, &doc); err != nil {
		return err
	}
	var app map[string]json.RawMessage
	if err := json.Unmarshal(doc["app_state"], &app); err != nil {
		return err
	}
	if err := fn(app); err != nil {
		return err
	}
	if doc["app_state"], err = json.Marshal(app); err != nil {
		return err
	}
	if bz, err = json.MarshalIndent(doc, "", " "); err != nil {
		return err
	}
	return os.WriteFile(path, bz, 0o644)
}

// SetParam sets app_state.<module>.params.<key> = value in a genesis edit.
func SetParam(app map[string]json.RawMessage, module, key string, value any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(app[module], &m); err != nil {
		return fmt.Errorf("genesis %s: %w", module, err)
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(m["params"], &params); err != nil {
		return fmt.Errorf("genesis %s.params: %w", module, err)
	}
	if _, ok := params[key]; !ok {
		return fmt.Errorf("genesis %s.params has no %q", module, key)
	}
	v, err := json.Marshal(value)
	if err != nil {
		return err
	}
	params[key] = v
	if m["params"], err = json.Marshal(params); err != nil {
		return err
	}
	app[module], err = json.Marshal(m)
	return err
}

// SetTOML sets key = value (value written as is) in [section] of a TOML
// file ("" for the top level, before any section).
func SetTOML(path, section, key, value string) error {
	bz, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(bz), "\n")
	cur := ""
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "[") {
			cur = strings.Trim(trimmed, "[]")
			continue
		}
		if cur == section && strings.HasPrefix(trimmed, key+" =") {
			lines[i] = key + " = " + value
			return os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
		}
	}
	return fmt.Errorf("%s: no %q in section [%s]", path, key, section)
}

// Height returns the latest block height (0 if the node does not answer).
func (c *Chain) Height() int64 { return c.Node.Height() }

// BlockTime returns the header time of block h.
func (c *Chain) BlockTime(h int64) time.Time {
	c.t.Helper()
	at, err := c.Node.BlockTime(h)
	if err != nil || at.IsZero() {
		c.t.Fatalf("block %d: no header time (%v)", h, err)
	}
	return at
}

// WaitHeight waits until the chain reaches height h.
func (c *Chain) WaitHeight(h int64, timeout time.Duration) {
	c.t.Helper()
	c.Node.WaitHeight(h, timeout)
}

// CLI runs a hinterlandd command against the chain's home (whose
// client.toml points at the node, the test keyring and the chain id).
func (c *Chain) CLI(args ...string) (string, error) {
	return Run(c.Bin, append(args, "--home", c.Home)...)
}

// MustCLI is CLI failing the test on error.
func (c *Chain) MustCLI(args ...string) string {
	c.t.Helper()
	out, err := c.CLI(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// Query runs a query with JSON output into out.
func (c *Chain) Query(out any, args ...string) {
	c.t.Helper()
	s := c.MustCLI(append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(s), out); err != nil {
		c.t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, s)
	}
}

// Balance returns an address's balance of a denom.
func (c *Chain) Balance(addr, denom string) int64 {
	c.t.Helper()
	var res struct {
		Balance struct {
			Amount string `json:"amount"`
		} `json:"balance"`
	}
	c.Query(&res, "query", "bank", "balance", addr, denom)
	n, _ := strconv.ParseInt(res.Balance.Amount, 10, 64)
	return n
}
