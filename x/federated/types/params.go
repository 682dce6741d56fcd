package types

import (
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"
)

// Defaults. A round's settlement pays and settles at most max_participants
// participants in one block, and a chunk reveal carries one chunk of every
// accepted update (max_participants x 4 KiB).
const (
	DefaultMaxRounds           = 1_000
	DefaultMaxParticipants     = 64
	DefaultMaxSamplesPerUpdate = 64
	DefaultMaxChunkSamples     = 64
	DefaultGasPerChunkValue    = 4
	DefaultGasPerProofHash     = 300
	DefaultGasPerByte          = 10
	// MaxGasPerUnit bounds every gas price parameter.
	MaxGasPerUnit               = 1 << 20
	DefaultChallengerShareBps   = 5_000
	DefaultChallengeBondFactor  = 2
	DefaultMaxDeadlinesPerBlock = 50
)

// DefaultParams returns the default params.
func DefaultParams() Params {
	return Params{
		MaxRounds:            DefaultMaxRounds,
		MaxParticipants:      DefaultMaxParticipants,
		MaxSamplesPerUpdate:  DefaultMaxSamplesPerUpdate,
		MaxChunkSamples:      DefaultMaxChunkSamples,
		MinWindow:            5 * time.Second,
		MaxWindow:            7 * 24 * time.Hour,
		GasPerChunkValue:     DefaultGasPerChunkValue,
		GasPerProofHash:      DefaultGasPerProofHash,
		GasPerByte:           DefaultGasPerByte,
		ChallengerShareBps:   DefaultChallengerShareBps,
		ChallengeBondFactor:  DefaultChallengeBondFactor,
		ChallengeGasPrice:    sdkmath.LegacyNewDecWithPrec(1, 3),
		MaxDeadlinesPerBlock: DefaultMaxDeadlinesPerBlock,
	}
}

// Validate checks every field.
func (p Params) Validate() error {
	switch {
	case p.MaxRounds == 0 || p.MaxParticipants == 0 || p.MaxSamplesPerUpdate == 0 || p.MaxChunkSamples == 0:
		return fmt.Errorf("max_rounds, max_participants, max_samples_per_update and max_chunk_samples must be positive")
	case p.MaxParticipants > 1_000:
		return fmt.Errorf("max_participants %d above 1000 (a round settles in one block)", p.MaxParticipants)
	case p.MinWindow <= 0 || p.MaxWindow < p.MinWindow:
		return fmt.Errorf("windows: min %s, max %s", p.MinWindow, p.MaxWindow)
	case p.GasPerChunkValue == 0 || p.GasPerProofHash == 0 || p.GasPerByte == 0:
		return fmt.Errorf("gas prices must be positive")
	case p.GasPerChunkValue > MaxGasPerUnit || p.GasPerProofHash > MaxGasPerUnit || p.GasPerByte > MaxGasPerUnit:
		// Gas formulas multiply these by counts and sizes: an unbounded price
		// would overflow uint64 (wrapping to a small charge) or the gas meter.
		return fmt.Errorf("gas prices must be at most %d per unit", MaxGasPerUnit)
	case p.ChallengerShareBps > 10_000:
		return fmt.Errorf("challenger_share_bps %d above 10000", p.ChallengerShareBps)
	case p.ChallengeBondFactor == 0:
		return fmt.Errorf("challenge_bond_factor must be positive")
	case p.ChallengeGasPrice.IsNil() || !p.ChallengeGasPrice.IsPositive():
		return fmt.Errorf("challenge_gas_price must be positive")
	case p.MaxDeadlinesPerBlock == 0:
		return fmt.Errorf("max_deadlines_per_block must be positive")
	}
	return nil
}

// ChunkRevealGas is what a chunk reveal costs before its work: per update
// and the aggregate, one multiply-add per value and one hash per aunt and
// leaf.
func (p Params) ChunkRevealGas(updates uint64, values uint64, depth uint64) uint64 {
	return (updates+1)*(values*p.GasPerChunkValue+(depth+1)*p.GasPerProofHash) + updates*values*p.GasPerChunkValue
}
