package types

import (
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Defaults. The caps keep one commit a few tens of KB (1025 hashes = 32 KiB),
// bound the work a task can ask of workers, and keep deadlines long enough for
// real training on a CPU but short enough that escrow is never locked for long.
// max_segments leaves room for N >= 880 segments, and max_samples for the
// k = 44 that detection 0.99 derives at assumed_forged_bps 10%: enough to catch
// a worker who alters 10% of the segments with probability >= 99% while the
// chain recomputes k/N <= 5% of the training (the CLI presets: 880 and 44).
const (
	DefaultDenom                = "uhint"
	DefaultMaxReplicas          = 8
	DefaultMaxSamples           = 128
	DefaultMaxSegments          = 1024
	DefaultMaxTotalSteps        = 1_000_000
	DefaultMaxURILength         = 512
	DefaultAssumedForgedBps     = 1_000 // a cheater forges 10% of segments
	DefaultMaxDeadlinesPerBlock = 100
	DefaultGasPerSpecByte       = 10
	// A worker that gives up an unsealed claim pays the requester this much
	// (the requester lost the slot for the claim's duration); the rest of
	// the bond returns.
	DefaultAbandonFee = 1_000
	// The requester of a task the engine provably cannot train pays the
	// worker that proved it 10% of a replica's share on top of the share of
	// the steps trained before the failure.
	DefaultUntrainablePenaltyBps = 1_000
)

// DefaultParams returns the default x/tasks params.
func DefaultParams() Params {
	return Params{
		Denom:                 DefaultDenom,
		MinReward:             sdkmath.NewInt(1_000),
		MinBond:               sdkmath.NewInt(1_000),
		MaxReplicas:           DefaultMaxReplicas,
		MaxSamples:            DefaultMaxSamples,
		MaxSegments:           DefaultMaxSegments,
		MaxTotalSteps:         DefaultMaxTotalSteps,
		MaxParams:             engine.MaxParams,
		MaxUriLength:          DefaultMaxURILength,
		MinClaimWindow:        10 * time.Second,
		MaxClaimWindow:        30 * 24 * time.Hour,
		MinCommitWindow:       10 * time.Second,
		MaxCommitWindow:       7 * 24 * time.Hour,
		AssumedForgedBps:      DefaultAssumedForgedBps,
		MaxDeadlinesPerBlock:  DefaultMaxDeadlinesPerBlock,
		GasPerSpecByte:        DefaultGasPerSpecByte,
		AbandonFee:            sdkmath.NewInt(DefaultAbandonFee),
		UntrainablePenaltyBps: DefaultUntrainablePenaltyBps,
	}
}

// Validate checks every field; it is called from genesis and MsgUpdateParams.
func (p Params) Validate() error {
	if err := validateDenom(p.Denom); err != nil {
		return err
	}
	if p.MinReward.IsNil() || !p.MinReward.IsPositive() {
		return fmt.Errorf("min_reward must be positive")
	}
	if p.MinBond.IsNil() || !p.MinBond.IsPositive() {
		return fmt.Errorf("min_bond must be positive")
	}
	if p.MaxReplicas == 0 || p.MaxReplicas > 64 {
		return fmt.Errorf("max_replicas %d must be in 1..64", p.MaxReplicas)
	}
	if p.MaxSegments < 1 || p.MaxSegments > 4096 {
		return fmt.Errorf("max_segments %d must be in 1..4096", p.MaxSegments)
	}
	if p.MaxSamples == 0 || p.MaxSamples > p.MaxSegments {
		return fmt.Errorf("max_samples %d must be in 1..max_segments (%d)", p.MaxSamples, p.MaxSegments)
	}
	if p.MaxTotalSteps == 0 {
		return fmt.Errorf("max_total_steps must be positive")
	}
	if p.MaxParams == 0 || p.MaxParams > engine.MaxParams {
		return fmt.Errorf("max_params %d must be in 1..%d (the engine's limit)", p.MaxParams, engine.MaxParams)
	}
	if p.MaxUriLength < 8 || p.MaxUriLength > 4096 {
		return fmt.Errorf("max_uri_length %d must be in 8..4096", p.MaxUriLength)
	}
	if p.MinClaimWindow <= 0 || p.MaxClaimWindow < p.MinClaimWindow {
		return fmt.Errorf("claim windows must satisfy 0 < min (%s) <= max (%s)", p.MinClaimWindow, p.MaxClaimWindow)
	}
	if p.MinCommitWindow <= 0 || p.MaxCommitWindow < p.MinCommitWindow {
		return fmt.Errorf("commit windows must satisfy 0 < min (%s) <= max (%s)", p.MinCommitWindow, p.MaxCommitWindow)
	}
	if p.AssumedForgedBps == 0 || p.AssumedForgedBps >= 10_000 {
		return fmt.Errorf("assumed_forged_bps %d must be in 1..9999", p.AssumedForgedBps)
	}
	if p.MaxDeadlinesPerBlock == 0 {
		return fmt.Errorf("max_deadlines_per_block must be positive")
	}
	if p.AbandonFee.IsNil() || p.AbandonFee.IsNegative() {
		return fmt.Errorf("abandon_fee must not be negative")
	}
	if p.UntrainablePenaltyBps > 10_000 {
		return fmt.Errorf("untrainable_penalty_bps %d must be at most 10000", p.UntrainablePenaltyBps)
	}
	return validateAcceptedDenoms(p.Denom, p.AcceptedDenoms)
}

// MaxAcceptedDenoms bounds the allow-list of other reward and bond denoms,
// so a lookup stays a short scan.
const MaxAcceptedDenoms = 16

func validateAcceptedDenoms(native string, list []AcceptedDenom) error {
	if len(list) > MaxAcceptedDenoms {
		return fmt.Errorf("accepted_denoms has %d entries; at most %d", len(list), MaxAcceptedDenoms)
	}
	seen := make(map[string]bool, len(list))
	for i, a := range list {
		if err := validateDenom(a.Denom); err != nil {
			return fmt.Errorf("accepted_denoms[%d]: %w", i, err)
		}
		if a.Denom == native {
			return fmt.Errorf("accepted_denoms[%d]: %s is the native denom, accepted on the params' own minimums", i, a.Denom)
		}
		if seen[a.Denom] {
			return fmt.Errorf("accepted_denoms[%d]: %s is listed twice", i, a.Denom)
		}
		seen[a.Denom] = true
		for _, c := range []struct {
			name string
			v    sdkmath.Int
			zero bool
		}{{"min_reward", a.MinReward, false}, {"min_bond", a.MinBond, false}, {"abandon_fee", a.AbandonFee, true}, {"min_challenge_bond", a.MinChallengeBond, false}} {
			if c.v.IsNil() || c.v.IsNegative() || (!c.zero && c.v.IsZero()) {
				return fmt.Errorf("accepted_denoms[%d] (%s): %s must be %s", i, a.Denom, c.name, map[bool]string{true: "non-negative", false: "positive"}[c.zero])
			}
		}
		if a.ChallengeGasPrice.IsNil() || !a.ChallengeGasPrice.IsPositive() {
			return fmt.Errorf("accepted_denoms[%d] (%s): challenge_gas_price must be positive", i, a.Denom)
		}
	}
	return nil
}

// Terms returns the terms a task in denom is held to: for the native denom the
// params' own min_reward, min_bond and abandon_fee (its challenge pricing is
// x/verification's, so those two fields are left nil), for another the
// accepted_denoms entry. ok is false for a denom not on the allow-list.
func (p Params) Terms(denom string) (terms AcceptedDenom, ok bool) {
	if denom == p.Denom {
		return AcceptedDenom{Denom: p.Denom, MinReward: p.MinReward, MinBond: p.MinBond, AbandonFee: p.AbandonFee}, true
	}
	for _, a := range p.AcceptedDenoms {
		if a.Denom == denom {
			return a, true
		}
	}
	return AcceptedDenom{}, false
}

// AcceptedDenomNames lists every accepted denom, the native one first.
func (p Params) AcceptedDenomNames() []string {
	out := []string{p.Denom}
	for _, a := range p.AcceptedDenoms {
		out = append(out, a.Denom)
	}
	return out
}

func validateDenom(d string) error {
	if err := sdk.ValidateDenom(d); err != nil {
		return fmt.Errorf("denom %q: %w", d, err)
	}
	return nil
}
