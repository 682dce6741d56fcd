// Package e2e drives the real hinterlandd binary as a user would: processes,
// ports on 127.0.0.1, temporary homes. `make test-e2e` builds the binary and
// sets HINTERLANDD.
package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"

	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/hinterland-ai/hinterland/cmd/hinterlandd/cmd/ports"
	"github.com/hinterland-ai/hinterland/testutil/chainproc"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// node is one hinterlandd home that the tests set up with the CLI, as an
// operator would, and then start: a chainproc.Node (node 0 of the port
// layout from a free base, started, stopped and watched by chainproc).
type node struct {
	*chainproc.Node
	t *testing.T
}

func newNode(t *testing.T, bin string) *node {
	return &node{Node: chainproc.NewNode(t, bin, t.TempDir(), chainproc.FreeBase(t, 1), 0), t: t}
}

// run runs a CLI command against this home and returns stdout; it fails the
// test on a non-zero exit.
func (n *node) run(args ...string) string {
	n.t.Helper()
	out, err := n.try(args...)
	require.NoError(n.t, err, "hinterlandd %s\n%s", strings.Join(args, " "), out)
	return out
}

func (n *node) try(args ...string) (string, error) {
	args = append(args, "--home", n.Home)
	cmd := exec.Command(n.Bin, args...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// configure puts every listener on the node's ports (127.0.0.1), uses 1 s
// blocks, and points the CLI at the node and the test keyring.
func (n *node) configure() { n.WriteConfig(time.Second, "") }

// start starts the node and waits for its first blocks; it is stopped at
// the end of the test.
func (n *node) start() {
	n.t.Helper()
	n.Start()
	n.WaitHeight(2, 60*time.Second)
}

func (n *node) rest(path string) []byte {
	n.t.Helper()
	resp, err := http.Get(n.API + path)
	require.NoError(n.t, err)
	defer resp.Body.Close()
	bz, err := io.ReadAll(resp.Body)
	require.NoError(n.t, err)
	require.Equal(n.t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, bz)
	return bz
}

func (n *node) grpcConn() *grpc.ClientConn {
	conn, err := grpc.NewClient(n.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(n.t, err)
	n.t.Cleanup(func() { conn.Close() })
	return conn
}

// initChain creates a one-validator chain with funded keys as an operator
// would: init -> keys add -> add-genesis-account -> gentx -> collect-gentxs.
func initChain(t *testing.T, bin string) (*node, map[string]string) {
	n := newNode(t, bin)
	n.run("init", "e2e-node")
	addrs := map[string]string{}
	for _, k := range []string{"validator", "alice", "bob"} {
		n.run("keys", "add", k, "--keyring-backend", "test")
		addrs[k] = strings.TrimSpace(n.run("keys", "show", k, "-a", "--keyring-backend", "test"))
		n.run("genesis", "add-genesis-account", k, "1000000000000uhint", "--keyring-backend", "test")
	}
	n.run("genesis", "gentx", "validator", "100000000000uhint", "--keyring-backend", "test")
	n.run("genesis", "collect-gentxs")
	require.Contains(t, n.run("genesis", "validate"), "is a valid genesis file")
	n.configure()
	return n, addrs
}

func (n *node) cliBalance(addr string) string {
	out := n.run("q", "bank", "balance", addr, "uhint", "-o", "json")
	var res struct {
		Balance struct {
			Amount string `json:"amount"`
		} `json:"balance"`
	}
	require.NoError(n.t, json.Unmarshal([]byte(out), &res), out)
	return res.Balance.Amount
}

var txHashRe = regexp.MustCompile(`"txhash":"([0-9A-F]+)"`)

// TestNodeLifecycle: init -> gentx -> collect -> start -> bank send via the
// CLI -> balance via CLI, gRPC and REST; every custom module's params via
// gRPC and REST; gRPC reflection and the OpenAPI document; export, then a new
// chain from the exported genesis holds the same balances.
func TestNodeLifecycle(t *testing.T) {
	bin := chainproc.Binary(t)
	n, addrs := initChain(t, bin)
	n.start()

	out := n.run("tx", "bank", "send", "alice", addrs["bob"], "123456uhint", "--fees", "2000uhint", "-y", "-o", "json")
	m := txHashRe.FindStringSubmatch(strings.ReplaceAll(out, " ", ""))
	require.NotNil(t, m, out)
	waitOut := n.run("q", "wait-tx", m[1], "--timeout", "30s", "-o", "json")
	require.Contains(t, waitOut, `"code":0`)
	want := "1000000123456"

	require.Equal(t, want, n.cliBalance(addrs["bob"]), "CLI")

	conn := n.grpcConn()
	ctx := context.Background()
	bal, err := banktypes.NewQueryClient(conn).Balance(ctx, &banktypes.QueryBalanceRequest{Address: addrs["bob"], Denom: "uhint"})
	require.NoError(t, err)
	require.Equal(t, want, bal.Balance.Amount.String(), "gRPC")

	bz := n.rest("/cosmos/bank/v1beta1/balances/" + addrs["bob"] + "/by_denom?denom=uhint")
	require.Contains(t, string(bz), `"amount":"`+want+`"`, "REST")

	// Params of the three Hinterland modules over gRPC and REST.
	tp, err := taskstypes.NewQueryClient(conn).Params(ctx, &taskstypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, taskstypes.DefaultParams(), tp.Params)
	vp, err := verificationtypes.NewQueryClient(conn).Params(ctx, &verificationtypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, verificationtypes.DefaultParams(), vp.Params)
	rp, err := rewardstypes.NewQueryClient(conn).Params(ctx, &rewardstypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, rewardstypes.DefaultParams(), rp.Params)
	require.Contains(t, string(n.rest("/hinterland/tasks/v1/params")), `"max_segments":1024`)
	require.Contains(t, string(n.rest("/hinterland/verification/v1/params")), `"gas_per_mac":"1"`)
	require.Contains(t, string(n.rest("/hinterland/rewards/v1/params")), `"protocol_fee_bps":500`)

	// gRPC reflection lists the Hinterland services.
	stream, err := reflectpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}))
	ref, err := stream.Recv()
	require.NoError(t, err)
	var services []string
	for _, s := range ref.GetListServicesResponse().GetService() {
		services = append(services, s.Name)
	}
	for _, s := range []string{"hinterland.tasks.v1.Query", "hinterland.verification.v1.Query", "hinterland.rewards.v1.Query"} {
		require.Contains(t, services, s)
	}
	// The OpenAPI document of the custom REST routes is served with the swagger.
	require.Contains(t, string(n.rest("/hinterland/openapi.json")), "/hinterland/tasks/v1/tasks/{id}")
	// Prometheus is on.
	resp, err := http.Get("http://" + n.Addr(ports.Prometheus) + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(metrics), "cometbft_consensus_height")

	// Export, then start a new chain from the exported genesis.
	n.Stop()
	exported := n.run("export")
	n2 := newNode(t, bin)
	n2.run("init", "e2e-node-2")
	for _, f := range []string{"priv_validator_key.json", "node_key.json"} {
		bz, err := os.ReadFile(filepath.Join(n.Home, "config", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(n2.Home, "config", f), bz, 0o600))
	}
	start := strings.Index(exported, "{")
	require.GreaterOrEqual(t, start, 0, exported)
	require.NoError(t, os.WriteFile(filepath.Join(n2.Home, "config", "genesis.json"), []byte(exported[start:]), 0o600))
	require.Contains(t, n2.run("genesis", "validate"), "is a valid genesis file")
	n2.configure()
	n2.start()
	require.Equal(t, want, n2.cliBalance(addrs["bob"]), "bob after export/import")
	require.Equal(t, n.balanceFromExport(exported, addrs["alice"]), n2.cliBalance(addrs["alice"]), "alice after export/import")
}

// balanceFromExport reads an address's uhint balance from an exported genesis.
func (n *node) balanceFromExport(exported, addr string) string {
	var g struct {
		AppState struct {
			Bank struct {
				Balances []struct {
					Address string `json:"address"`
					Coins   []struct{ Denom, Amount string }
				} `json:"balances"`
			} `json:"bank"`
		} `json:"app_state"`
	}
	require.NoError(n.t, json.Unmarshal([]byte(exported[strings.Index(exported, "{"):]), &g))
	for _, b := range g.AppState.Bank.Balances {
		if b.Address == addr {
			for _, c := range b.Coins {
				if c.Denom == "uhint" {
					return c.Amount
				}
			}
		}
	}
	n.t.Fatalf("%s not in the exported genesis", addr)
	return ""
}

// TestGenesisValidateRejects: `genesis validate` names the problem in a bad
// genesis (invalid Hinterland params, a duplicate account).
func TestGenesisValidateRejects(t *testing.T) {
	bin := chainproc.Binary(t)
	n, _ := initChain(t, bin)
	path := filepath.Join(n.Home, "config", "genesis.json")
	good, err := os.ReadFile(path)
	require.NoError(t, err)

	edit := func(fn func(g map[string]any)) {
		var g map[string]any
		require.NoError(t, json.Unmarshal(good, &g))
		fn(g)
		bz, err := json.Marshal(g)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, bz, 0o600))
	}
	appState := func(g map[string]any, module string) map[string]any {
		return g["app_state"].(map[string]any)[module].(map[string]any)
	}

	edit(func(g map[string]any) { appState(g, "tasks")["params"].(map[string]any)["max_replicas"] = 0 })
	out, err := n.try("genesis", "validate")
	require.Error(t, err)
	require.Contains(t, out, "max_replicas")

	edit(func(g map[string]any) {
		p := appState(g, "rewards")["params"].(map[string]any)
		p["slash_burn_bps"] = 100
	})
	out, err = n.try("genesis", "validate")
	require.Error(t, err)
	require.Contains(t, out, "must be 10000")

	edit(func(g map[string]any) {
		accts := appState(g, "auth")["accounts"].([]any)
		appState(g, "auth")["accounts"] = append(accts, accts[0])
	})
	out, err = n.try("genesis", "validate")
	require.Error(t, err)
	require.Contains(t, strings.ToLower(out), "duplicate account")

	edit(func(g map[string]any) {
		bals := appState(g, "bank")["balances"].([]any)
		appState(g, "bank")["balances"] = append(bals, bals[0])
	})
	out, err = n.try("genesis", "validate")
	require.Error(t, err)
	require.Contains(t, strings.ToLower(out), "duplicate")
}
