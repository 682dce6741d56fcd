package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/hinterland-ai/hinterland/app"
)

// initCmd wraps the SDK's `init` so that a new genesis gets Hinterland's
// block limits and chain id defaults.
func initCmd(sdkInit *cobra.Command) *cobra.Command {
	run := sdkInit.RunE
	sdkInit.RunE = func(cmd *cobra.Command, args []string) error {
		if f := cmd.Flags().Lookup("chain-id"); f != nil && !f.Changed {
			if err := f.Value.Set(app.DefaultChainID); err != nil {
				return err
			}
		}
		if err := run(cmd, args); err != nil {
			return err
		}
		cfg := server.GetServerContextFromCmd(cmd).Config
		if err := setGenesisLimits(cfg); err != nil {
			return err
		}
		chainID, _ := cmd.Flags().GetString("chain-id")
		return setClientChainID(cfg.RootDir, chainID)
	}
	sdkInit.Long = "Initialize a node's home: keys, config.toml and app.toml with Hinterland's defaults, and a genesis file with chain id " +
		app.DefaultChainID + " unless --chain-id is given, block max_gas " + strconv.Itoa(app.GenesisMaxBlockGas) + " and max_bytes " + strconv.Itoa(app.GenesisMaxBlockBytes) + "."
	return sdkInit
}

// setClientChainID records the chain id in client.toml so that later
// commands (gentx, tx ...) need no --chain-id.
func setClientChainID(home, chainID string) error {
	path := filepath.Join(home, "config", "client.toml")
	bz, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	updated := strings.Replace(string(bz), `chain-id = ""`, fmt.Sprintf("chain-id = %q", chainID), 1)
	return os.WriteFile(path, []byte(updated), 0o600)
}

// setGenesisLimits writes the block gas and size limits into a genesis file.
func setGenesisLimits(cfg *cmtcfg.Config) error {
	genFile := cfg.GenesisFile()
	g, err := genutiltypes.AppGenesisFromFile(genFile)
	if err != nil {
		return err
	}
	applyGenesisLimits(g)
	return genutil.ExportGenesisFile(g, genFile)
}

// applyGenesisLimits sets Hinterland's block limits on a genesis document.
// A document without consensus params (as a new testnet's is) gets CometBFT's
// defaults first, so the limits apply to every network the binary writes.
func applyGenesisLimits(g *genutiltypes.AppGenesis) {
	if g.Consensus == nil {
		g.Consensus = &genutiltypes.ConsensusGenesis{}
	}
	if g.Consensus.Params == nil {
		g.Consensus.Params = cmttypes.DefaultConsensusParams()
	}
	g.Consensus.Params.Block.MaxGas = app.GenesisMaxBlockGas
	g.Consensus.Params.Block.MaxBytes = app.GenesisMaxBlockBytes
}
