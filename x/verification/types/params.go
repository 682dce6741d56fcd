package types

import (
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"
)

// Defaults. Gas per MAC and the MAC cap are calibrated by the reveal benchmark
// (x/verification/keeper, BenchmarkReveal; docs/PERFORMANCE.md): one MAC costs
// about 0.35 ns in the engine here, so 1 gas per 4 MACs… see the closing note of
// the calibration for the figures. A block's max_gas bounds the recomputation
// per block.
const (
	DefaultRevealWindow     = 10 * time.Minute
	DefaultFraudWindow      = time.Hour
	DefaultMaxRevealBytes   = 2 << 20
	DefaultGasPerMAC        = 1
	DefaultGasPerRevealByte = 2
	DefaultMaxMACsPerReveal = 200_000_000
	DefaultMaxItemsPerBlock = 100
)

// DefaultParams returns the default x/verification params.
func DefaultParams() Params {
	return Params{
		RevealWindow:     DefaultRevealWindow,
		FraudWindow:      DefaultFraudWindow,
		MinChallengeBond: sdkmath.NewInt(1_000),
		MaxRevealBytes:   DefaultMaxRevealBytes,
		GasPerMac:        DefaultGasPerMAC,
		GasPerRevealByte: DefaultGasPerRevealByte,
		MaxMacsPerReveal: DefaultMaxMACsPerReveal,
		MaxItemsPerBlock: DefaultMaxItemsPerBlock,
	}
}

// Validate checks every field; it is called from genesis and MsgUpdateParams.
func (p Params) Validate() error {
	if p.RevealWindow <= 0 {
		return fmt.Errorf("reveal_window %s must be positive", p.RevealWindow)
	}
	if p.FraudWindow < 0 {
		return fmt.Errorf("fraud_window %s must not be negative", p.FraudWindow)
	}
	if p.MinChallengeBond.IsNil() || !p.MinChallengeBond.IsPositive() {
		return fmt.Errorf("min_challenge_bond must be positive")
	}
	if p.MaxRevealBytes < 1024 || p.MaxRevealBytes > 64<<20 {
		return fmt.Errorf("max_reveal_bytes %d must be in 1 KiB..64 MiB", p.MaxRevealBytes)
	}
	if p.GasPerMac == 0 {
		return fmt.Errorf("gas_per_mac must be positive: recomputation is never free")
	}
	if p.GasPerRevealByte == 0 {
		return fmt.Errorf("gas_per_reveal_byte must be positive")
	}
	if p.MaxMacsPerReveal == 0 {
		return fmt.Errorf("max_macs_per_reveal must be positive")
	}
	if p.MaxMacsPerReveal > (1<<63)/p.GasPerMac {
		return fmt.Errorf("max_macs_per_reveal * gas_per_mac overflows")
	}
	if p.MaxItemsPerBlock == 0 {
		return fmt.Errorf("max_items_per_block must be positive")
	}
	return nil
}
