package app

import (
	sdk "github.com/cosmos/cosmos-sdk/types"

	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

const (
	// Name is the application name.
	Name = "hinterland"
	// Bech32Prefix is the account address prefix: hinter1...
	Bech32Prefix = "hinter"
	// BondDenom is the staking and fee denom (1 HINT = 10^6 uhint).
	BondDenom = "uhint"
	// DefaultChainID is the chain id of a local chain.
	DefaultChainID = "hinterland-local-1"
	// DefaultMinGasPrices is what a validator accepts out of the box.
	DefaultMinGasPrices = "0.001" + BondDenom
)

// SetConfig sets the bech32 prefixes and the default bond denom. It is
// idempotent and must run before any address is encoded; the binary seals the
// config afterwards.
func SetConfig() {
	cfg := sdk.GetConfig()
	cfg.SetBech32PrefixForAccount(Bech32Prefix, Bech32Prefix+sdk.PrefixPublic)
	cfg.SetBech32PrefixForValidator(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator, Bech32Prefix+sdk.PrefixValidator+sdk.PrefixOperator+sdk.PrefixPublic)
	cfg.SetBech32PrefixForConsensusNode(Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus, Bech32Prefix+sdk.PrefixValidator+sdk.PrefixConsensus+sdk.PrefixPublic)
	sdk.DefaultBondDenom = BondDenom
}

func init() { SetConfig() }

// Genesis consensus limits a validator wants instead of CometBFT's defaults
// (max_gas -1, i.e. unlimited). max_gas bounds the recomputation a block may
// ask of every validator (x/verification charges gas per MAC; see
// docs/PERFORMANCE.md for the calibration); max_bytes leaves room for a few
// maximum-size reveals per block.
const (
	GenesisMaxBlockGas   = verificationtypes.CalibratedMaxBlockGas
	GenesisMaxBlockBytes = 8 << 20
)
