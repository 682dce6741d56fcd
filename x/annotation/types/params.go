package types

import (
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Defaults. A 10 000-item job at r = 5 is 50 000 labels; its aggregation
// (gold scoring and 10 EM iterations) fits in one block's unit budget. The
// setup and the settlement of a job are done in one block each, in time
// proportional to its labels and batches: max_items and max_batches_per_job
// bound them (100 000 labels at r = 5, 5 000 payments).
const (
	DefaultDenom            = "uhint"
	DefaultMaxItems         = 20_000
	DefaultMaxBatchesPerJob = 5_000
	DefaultMaxRedundancy    = 9
	DefaultMaxBatchSize     = 256
	DefaultMaxClasses       = 16
	DefaultEMIterations     = 10
	DefaultGasPerUnit       = 1
	DefaultMaxUnitsPerBlock = 40_000_000
	DefaultMinGoldItems     = 5
	DefaultMinGoldSeen      = 3
	DefaultGasPerByte       = 20
)

// DefaultParams returns the default params.
func DefaultParams() Params {
	return Params{
		Denom:               DefaultDenom,
		MaxItems:            DefaultMaxItems,
		MaxRedundancy:       DefaultMaxRedundancy,
		MaxBatchSize:        DefaultMaxBatchSize,
		MaxClasses:          DefaultMaxClasses,
		MinLabelWindow:      10 * time.Second,
		MaxLabelWindow:      30 * 24 * time.Hour,
		OpenWindow:          10 * time.Minute,
		GoldWindow:          10 * time.Minute,
		EmIterations:        DefaultEMIterations,
		GasPerUnit:          DefaultGasPerUnit,
		AggregationGasPrice: sdkmath.LegacyNewDecWithPrec(1, 3),
		MaxUnitsPerBlock:    DefaultMaxUnitsPerBlock,
		MinGoldItems:        DefaultMinGoldItems,
		MinGoldSeen:         DefaultMinGoldSeen,
		MinGoldDeposit:      sdkmath.NewInt(1_000),
		GasPerByte:          DefaultGasPerByte,
		MaxBatchesPerJob:    DefaultMaxBatchesPerJob,
	}
}

// Validate checks every field.
func (p Params) Validate() error {
	if err := sdk.ValidateDenom(p.Denom); err != nil {
		return fmt.Errorf("denom %q: %w", p.Denom, err)
	}
	if p.MaxItems == 0 || p.MaxItems > 1<<24 {
		return fmt.Errorf("max_items %d must be in 1..2^24", p.MaxItems)
	}
	if p.MaxRedundancy == 0 || p.MaxRedundancy > 64 {
		return fmt.Errorf("max_redundancy %d must be in 1..64", p.MaxRedundancy)
	}
	if p.MaxBatchSize == 0 || p.MaxBatchSize > 4096 {
		return fmt.Errorf("max_batch_size %d must be in 1..4096", p.MaxBatchSize)
	}
	if p.MaxClasses < 2 || p.MaxClasses > 255 {
		return fmt.Errorf("max_classes %d must be in 2..255 (labels are bytes)", p.MaxClasses)
	}
	if p.MinLabelWindow <= 0 || p.MaxLabelWindow < p.MinLabelWindow {
		return fmt.Errorf("label windows must satisfy 0 < min (%s) <= max (%s)", p.MinLabelWindow, p.MaxLabelWindow)
	}
	if p.OpenWindow <= 0 || p.GoldWindow <= 0 {
		return fmt.Errorf("open_window and gold_window must be positive")
	}
	if p.EmIterations == 0 || p.EmIterations > 100 {
		return fmt.Errorf("em_iterations %d must be in 1..100", p.EmIterations)
	}
	if p.GasPerUnit == 0 || p.GasPerUnit > 1<<20 {
		return fmt.Errorf("gas_per_unit %d must be in 1..2^20", p.GasPerUnit)
	}
	if p.AggregationGasPrice.IsNil() || p.AggregationGasPrice.IsNegative() {
		return fmt.Errorf("aggregation_gas_price must not be negative")
	}
	// A step smaller than annotation.MinBudget (32 units) may not progress;
	// the block budget is in units x K, so it must allow 32 units at any K.
	if p.MaxUnitsPerBlock < 32*256 {
		return fmt.Errorf("max_units_per_block %d must be at least %d (32 units at 256 classes)", p.MaxUnitsPerBlock, 32*256)
	}
	if p.MinGoldItems == 0 || p.MinGoldSeen == 0 {
		return fmt.Errorf("min_gold_items and min_gold_seen must be positive")
	}
	if p.MinGoldDeposit.IsNil() || p.MinGoldDeposit.IsNegative() {
		return fmt.Errorf("min_gold_deposit must not be negative")
	}
	if p.GasPerByte == 0 {
		return fmt.Errorf("gas_per_byte must be positive")
	}
	if p.MaxBatchesPerJob == 0 || p.MaxBatchesPerJob > 100_000 {
		return fmt.Errorf("max_batches_per_job %d must be in 1..100000", p.MaxBatchesPerJob)
	}
	return nil
}
