package app

import (
	"path/filepath"
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
}
