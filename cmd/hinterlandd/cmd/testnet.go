package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	sdkmath "cosmossdk.io/math"
	cmtcfg "github.com/cometbft/cometbft/config"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/hinterland-ai/hinterland/app"
	"github.com/hinterland-ai/hinterland/cmd/hinterlandd/cmd/ports"
)

const (
	flagValidators   = "validators"
	flagOutputDir    = "output-dir"
	flagStartingPort = "starting-port"
	flagAccounts     = "accounts"
)

func testnetCmd(basics module.BasicManager) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Create the files of a local multi-validator network",
	}
	cmd.AddCommand(testnetInitFilesCmd(basics))
	return cmd
}

func testnetInitFilesCmd(basics module.BasicManager) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init-files",
		Short: "Write homes for N validators on 127.0.0.1, with one genesis, keys (keyring-backend test) and peers",
		Long: fmt.Sprintf(`Writes OUTPUT/nodeI (I = 0..N-1), each a full node home with a validator key in a
test keyring, and one shared genesis in which every validator is bonded. Node I
listens on 127.0.0.1 at STARTING_PORT + %d*I + OFFSET, the offsets being
{%s}.
Extra funded accounts (--accounts) are created in OUTPUT/keyring-test for
users, workers and watchers. Start node I with:

  hinterlandd start --home OUTPUT/nodeI`, ports.PerNode, ports.Legend()),
		RunE: func(cmd *cobra.Command, _ []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			n, _ := cmd.Flags().GetInt(flagValidators)
			out, _ := cmd.Flags().GetString(flagOutputDir)
			base, _ := cmd.Flags().GetInt(flagStartingPort)
			chainID, _ := cmd.Flags().GetString(flags.FlagChainID)
			accounts, _ := cmd.Flags().GetStringSlice(flagAccounts)
			if n < 1 || n > 32 {
				return fmt.Errorf("--%s %d must be in 1..32", flagValidators, n)
			}
			if base < 1024 || ports.Port(base, n, 0) > 65535 {
				return fmt.Errorf("--%s %d leaves no room for %d nodes' ports", flagStartingPort, base, n)
			}
			if _, err := os.Stat(out); err == nil {
				return fmt.Errorf("%s already exists; remove it or choose another --%s", out, flagOutputDir)
			}
			return initTestnetFiles(cmd, clientCtx, basics, n, out, base, chainID, accounts)
		},
	}
	cmd.Flags().Int(flagValidators, 4, "number of validators")
	cmd.Flags().String(flagOutputDir, "./localnet", "directory for the nodes' homes")
	cmd.Flags().Int(flagStartingPort, 26600, fmt.Sprintf("first port; node I uses STARTING_PORT+%d*I .. +%d", ports.PerNode, ports.Prometheus))
	cmd.Flags().String(flags.FlagChainID, app.DefaultChainID, "chain id")
	cmd.Flags().StringSlice(flagAccounts, []string{"alice", "bob", "worker1", "worker2", "watcher"}, "extra funded accounts to create")
	return cmd
}

func initTestnetFiles(cmd *cobra.Command, clientCtx client.Context, basics module.BasicManager, n int, out string, base int, chainID string, accounts []string) error {
	var (
		genAccounts []authtypes.GenesisAccount
		balances    []banktypes.Balance
		nodeIDs     = make([]string, n)
		valPubKeys  = make([]cryptotypes.PubKey, n)
		configs     = make([]*cmtcfg.Config, n)
		gentxsDir   = filepath.Join(out, "gentxs")
		accTokens   = sdk.TokensFromConsensusPower(1_000_000, sdk.DefaultPowerReduction)
		valTokens   = sdk.TokensFromConsensusPower(100, sdk.DefaultPowerReduction)
	)
	fund := func(addr sdk.AccAddress) {
		genAccounts = append(genAccounts, authtypes.NewBaseAccount(addr, nil, 0, 0))
		balances = append(balances, banktypes.Balance{Address: addr.String(), Coins: sdk.NewCoins(sdk.NewCoin(app.BondDenom, accTokens))})
	}
	inBuf := bufio.NewReader(cmd.InOrStdin())

	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node%d", i)
		home := filepath.Join(out, name)
		cfg := cometConfig()
		cfg.SetRoot(home)
		cfg.Moniker = name
		cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", ports.Port(base, i, ports.P2P))
		cfg.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", ports.Port(base, i, ports.RPC))
		cfg.RPC.PprofListenAddress = fmt.Sprintf("127.0.0.1:%d", ports.Port(base, i, ports.Pprof))
		cfg.Instrumentation.PrometheusListenAddr = fmt.Sprintf("127.0.0.1:%d", ports.Port(base, i, ports.Prometheus))
		cfg.Consensus.TimeoutCommit = time.Second
		cfg.P2P.AllowDuplicateIP = true
		cfg.P2P.AddrBookStrict = false
		for _, dir := range []string{filepath.Join(home, "config"), filepath.Join(home, "data")} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		nodeID, pub, err := genutil.InitializeNodeValidatorFiles(cfg)
		if err != nil {
			return err
		}
		nodeIDs[i], valPubKeys[i], configs[i] = nodeID, pub, cfg

		kb, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, home, inBuf, clientCtx.Codec)
		if err != nil {
			return err
		}
		addr, mnemonic, err := newKey(kb, "validator")
		if err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(home, "key_seed.json"), map[string]string{"secret": mnemonic}); err != nil {
			return err
		}
		fund(addr)

		msg, err := stakingtypes.NewMsgCreateValidator(sdk.ValAddress(addr).String(), pub,
			sdk.NewCoin(app.BondDenom, valTokens), stakingtypes.NewDescription(name, "", "", "", ""),
			stakingtypes.NewCommissionRates(sdkmath.LegacyNewDecWithPrec(5, 2), sdkmath.LegacyNewDecWithPrec(20, 2), sdkmath.LegacyNewDecWithPrec(1, 2)),
			sdkmath.OneInt())
		if err != nil {
			return err
		}
		txb := clientCtx.TxConfig.NewTxBuilder()
		if err := txb.SetMsgs(msg); err != nil {
			return err
		}
		memo := fmt.Sprintf("%s@127.0.0.1:%d", nodeID, ports.Port(base, i, ports.P2P))
		txb.SetMemo(memo)
		txf := tx.Factory{}.WithChainID(chainID).WithMemo(memo).WithKeybase(kb).WithTxConfig(clientCtx.TxConfig)
		if err := tx.Sign(cmd.Context(), txf, "validator", txb, true); err != nil {
			return err
		}
		bz, err := clientCtx.TxConfig.TxJSONEncoder()(txb.GetTx())
		if err != nil {
			return err
		}
		if err := os.MkdirAll(gentxsDir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(gentxsDir, name+".json"), bz, 0o600); err != nil {
			return err
		}

		appCfg := serverconfig.DefaultConfig()
		_, def := appConfig()
		*appCfg = *def.(*serverconfig.Config)
		appCfg.API.Address = fmt.Sprintf("tcp://127.0.0.1:%d", ports.Port(base, i, ports.API))
		appCfg.GRPC.Address = fmt.Sprintf("127.0.0.1:%d", ports.Port(base, i, ports.GRPC))
		serverconfig.WriteConfigFile(filepath.Join(home, "config", "app.toml"), appCfg)
	}

	// Users' keys live in OUTPUT/keyring-test, funded at genesis.
	userKB, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, out, inBuf, clientCtx.Codec)
	if err != nil {
		return err
	}
	for _, name := range accounts {
		addr, _, err := newKey(userKB, name)
		if err != nil {
			return err
		}
		fund(addr)
	}

	appState := basics.DefaultGenesis(clientCtx.Codec)
	if err := addGenesisFunds(clientCtx, appState, genAccounts, balances); err != nil {
		return err
	}
	appStateJSON, err := json.MarshalIndent(appState, "", "  ")
	if err != nil {
		return err
	}
	genesis := genutiltypes.NewAppGenesisWithVersion(chainID, appStateJSON)
	applyGenesisLimits(genesis)

	genTime := time.Now().UTC()
	peers := make([]string, n)
	for i := range nodeIDs {
		peers[i] = fmt.Sprintf("%s@127.0.0.1:%d", nodeIDs[i], ports.Port(base, i, ports.P2P))
	}
	for i, cfg := range configs {
		if err := genesis.SaveAs(cfg.GenesisFile()); err != nil {
			return err
		}
		initCfg := genutiltypes.NewInitConfig(chainID, gentxsDir, nodeIDs[i], valPubKeys[i])
		state, err := genutil.GenAppStateFromConfig(clientCtx.Codec, clientCtx.TxConfig, cfg, initCfg, genesis,
			banktypes.GenesisBalancesIterator{}, genutiltypes.DefaultMessageValidator, clientCtx.TxConfig.SigningContext().ValidatorAddressCodec())
		if err != nil {
			return err
		}
		final := genutiltypes.NewAppGenesisWithVersion(chainID, state)
		final.GenesisTime = genTime
		applyGenesisLimits(final)
		if err := genutil.ExportGenesisFile(final, cfg.GenesisFile()); err != nil {
			return err
		}
		var others []string
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		cfg.P2P.PersistentPeers = strings.Join(others, ",")
		cmtcfg.WriteConfigFile(filepath.Join(cfg.RootDir, "config", "config.toml"), cfg)
	}
	cmd.Printf("Wrote %d validator homes to %s (chain id %s); user keys (keyring-backend test) in %s\n", n, out, chainID, out)
	for i := 0; i < n; i++ {
		cmd.Printf("  node%d: rpc 127.0.0.1:%d grpc 127.0.0.1:%d rest 127.0.0.1:%d\n", i,
			ports.Port(base, i, ports.RPC), ports.Port(base, i, ports.GRPC), ports.Port(base, i, ports.API))
	}
	return nil
}

// newKey creates a secp256k1 key in kb and returns its address and mnemonic.
func newKey(kb keyring.Keyring, name string) (sdk.AccAddress, string, error) {
	rec, mnemonic, err := kb.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	if err != nil {
		return nil, "", err
	}
	addr, err := rec.GetAddress()
	return addr, mnemonic, err
}

// addGenesisFunds adds accounts and balances to the auth and bank genesis.
func addGenesisFunds(clientCtx client.Context, appState map[string]json.RawMessage, accounts []authtypes.GenesisAccount, balances []banktypes.Balance) error {
	cdc := clientCtx.Codec
	var authGen authtypes.GenesisState
	if err := cdc.UnmarshalJSON(appState[authtypes.ModuleName], &authGen); err != nil {
		return err
	}
	packed, err := authtypes.PackAccounts(accounts)
	if err != nil {
		return err
	}
	authGen.Accounts = append(authGen.Accounts, packed...)
	if appState[authtypes.ModuleName], err = cdc.MarshalJSON(&authGen); err != nil {
		return err
	}
	var bankGen banktypes.GenesisState
	if err := cdc.UnmarshalJSON(appState[banktypes.ModuleName], &bankGen); err != nil {
		return err
	}
	bankGen.Balances = banktypes.SanitizeGenesisBalances(append(bankGen.Balances, balances...))
	bankGen.Supply = sdk.NewCoins()
	appState[banktypes.ModuleName], err = cdc.MarshalJSON(&bankGen)
	return err
}

func writeJSON(path string, v any) error {
	bz, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, bz, 0o600)
}
