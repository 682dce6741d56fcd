package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/registry"
)

// TestRegistryMatchesApp: the chain-registry profile says what the binary
// does: its address prefixes, fee and staking denom, minimum gas price,
// daemon name and home.
func TestRegistryMatchesApp(t *testing.T) {
	var c registry.Chain
	var a registry.AssetList
	require.NoError(t, registry.Load(filepath.Join("..", "registry", "chain.json"), &c))
	require.NoError(t, registry.Load(filepath.Join("..", "registry", "assetlist.json"), &a))
	require.NoError(t, registry.Validate(c, a))
	SetConfig()
	cfg := sdk.GetConfig()
	require.Equal(t, Bech32Prefix, c.Bech32Prefix)
	require.Equal(t, registry.Bech32Config{
		AccAddr: cfg.GetBech32AccountAddrPrefix(), AccPub: cfg.GetBech32AccountPubPrefix(),
		ValAddr: cfg.GetBech32ValidatorAddrPrefix(), ValPub: cfg.GetBech32ValidatorPubPrefix(),
		ConsAddr: cfg.GetBech32ConsensusAddrPrefix(), ConsPub: cfg.GetBech32ConsensusPubPrefix(),
	}, c.Bech32Config)
	require.Equal(t, BondDenom, c.Fees.FeeTokens[0].Denom)
	require.Equal(t, BondDenom, c.Staking.StakingTokens[0].Denom)
	minGas, err := sdk.ParseDecCoins(DefaultMinGasPrices)
	require.NoError(t, err)
	require.True(t, minGas.AmountOf(BondDenom).Equal(sdkmath.LegacyMustNewDecFromStr("0.001")))
	require.Equal(t, minGas.AmountOf(BondDenom).MustFloat64(), c.Fees.FeeTokens[0].FixedMinGasPrice)
	require.Equal(t, "hinterlandd", c.DaemonName)
	require.Equal(t, "$HOME/.hinterland", c.NodeHome)
	require.Equal(t, BondDenom, a.Assets[0].Base)

	// The codebase versions are the modules this binary is built with.
	var cb struct {
		SDK struct{ Version string } `json:"sdk"`
		IBC struct {
			Version    string   `json:"version"`
			ICSEnabled []string `json:"ics_enabled"`
		} `json:"ibc"`
	}
	require.NoError(t, json.Unmarshal(c.Codebase, &cb))
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	require.NoError(t, err)
	deps := map[string]string{}
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[1], "v") {
			deps[f[0]] = strings.TrimPrefix(f[1], "v")
		}
	}
	require.Equal(t, deps["github.com/cosmos/cosmos-sdk"], cb.SDK.Version)
	require.Equal(t, deps["github.com/cosmos/ibc-go/v11"], cb.IBC.Version)
	require.Equal(t, []string{"ics20-1"}, cb.IBC.ICSEnabled)
}
