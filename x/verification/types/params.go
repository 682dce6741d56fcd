package types

import (
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"
)

// Defaults. Gas per MAC, per parameter-step, per reveal byte and the
// per-reveal cap are calibrated by BenchmarkReveal (x/verification/keeper BenchmarkReveal;
// docs/PERFORMANCE.md, "Gas calibration") against CalibratedMaxBlockGas: the
// engine's portable kernel (what non-amd64 validators run) does about 1.3 ns
// per MAC, and a reveal's bytes (decoding, hashing the states, verifying the
// rows' Merkle proofs) cost about 15 ns each, so a block full of reveals of
// any default job stays under ~0.4 s on them, and under ~0.25 s on amd64
// (AVX2, ~0.6 ns/MAC). The byte price matters most for small models, whose
// reveals are mostly rows and state.
const (
	DefaultRevealWindow     = 10 * time.Minute
	DefaultFraudWindow      = time.Hour
	DefaultMaxRevealBytes   = 2 << 20
	DefaultGasPerMAC        = 1
	DefaultGasPerRevealByte = 20
	DefaultMaxMACsPerReveal = 200_000_000
	DefaultMaxItemsPerBlock = 100
	DefaultGasPerParamStep  = 40
	// Per-step and per-row-look-up overheads, proof hashes and state bytes
	// (see BenchmarkRevealShapes: they make tiny models, batch 1, one-row
	// datasets and large commits pay what they cost).
	DefaultGasPerStep            = 3_000
	DefaultGasPerBatchRow        = 1_500
	DefaultGasPerProofHash       = 300
	DefaultGasPerStateByte       = 20
	DefaultGasPerActivation      = 64
	DefaultMaxBatchRowsPerReveal = 1 << 16
	// DefaultMaxGasPerReveal is three quarters of CalibratedMaxBlockGas: an
	// honest reveal always fits in a block with room for other transactions.
	DefaultMaxGasPerReveal = CalibratedMaxBlockGas / 4 * 3
	// A fraud challenge bonds at least twice the gas of the honest answer
	// at the default gas price (the demo and localnets run at 0.001 uhint/gas
	// or more; operators set challenge_gas_price to their minimum gas price).
	DefaultChallengeBondFactor = 2
	DefaultBlockTime           = 5 * time.Second
)

// DefaultChallengeGasPrice is the gas price challenge bonds are sized at.
var DefaultChallengeGasPrice = sdkmath.LegacyNewDecWithPrec(1, 3)

// CalibratedMaxBlockGas is the genesis block max_gas the gas params are
// calibrated for (the app writes it into new genesis files).
const CalibratedMaxBlockGas = 400_000_000

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
		GasPerParamStep:  DefaultGasPerParamStep,

		GasPerStep:            DefaultGasPerStep,
		GasPerBatchRow:        DefaultGasPerBatchRow,
		GasPerProofHash:       DefaultGasPerProofHash,
		GasPerStateByte:       DefaultGasPerStateByte,
		GasPerActivation:      DefaultGasPerActivation,
		MaxBatchRowsPerReveal: DefaultMaxBatchRowsPerReveal,
		MaxGasPerReveal:       DefaultMaxGasPerReveal,

		ChallengeBondFactor: DefaultChallengeBondFactor,
		ChallengeGasPrice:   DefaultChallengeGasPrice,
		BlockTime:           DefaultBlockTime,
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
	if p.GasPerParamStep == 0 {
		return fmt.Errorf("gas_per_param_step must be positive")
	}
	for _, g := range []struct {
		name string
		v    uint64
	}{{"gas_per_step", p.GasPerStep}, {"gas_per_batch_row", p.GasPerBatchRow}, {"gas_per_proof_hash", p.GasPerProofHash}, {"gas_per_state_byte", p.GasPerStateByte}, {"gas_per_activation", p.GasPerActivation}} {
		if g.v == 0 || g.v > 1<<20 {
			return fmt.Errorf("%s %d must be in 1..2^20: every unit of work is paid for", g.name, g.v)
		}
	}
	if p.MaxGasPerReveal == 0 {
		return fmt.Errorf("max_gas_per_reveal must be positive")
	}
	if p.MaxBatchRowsPerReveal == 0 || p.MaxBatchRowsPerReveal > 1<<24 {
		return fmt.Errorf("max_batch_rows_per_reveal %d must be in 1..2^24", p.MaxBatchRowsPerReveal)
	}
	if p.MaxItemsPerBlock == 0 {
		return fmt.Errorf("max_items_per_block must be positive")
	}
	if p.ChallengeBondFactor == 0 || p.ChallengeBondFactor > 1000 {
		return fmt.Errorf("challenge_bond_factor %d must be in 1..1000: a challenge must bond at least the gas of its answer", p.ChallengeBondFactor)
	}
	if p.ChallengeGasPrice.IsNil() || !p.ChallengeGasPrice.IsPositive() || p.ChallengeGasPrice.GT(sdkmath.LegacyNewDec(1_000_000)) {
		return fmt.Errorf("challenge_gas_price must be in (0, 10^6]")
	}
	if p.BlockTime <= 0 || p.BlockTime > time.Hour {
		return fmt.Errorf("block_time %s must be in (0, 1h]", p.BlockTime)
	}
	return nil
}
