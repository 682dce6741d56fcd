package types

import (
	"fmt"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Default economic parameters (see README "Economics"):
//   - 5% protocol fee: validators recompute a few percent of the work, so a
//     fee of the same order pays them without eating the worker's margin;
//   - a slashed bond goes 50% to the requester (compensation for the delay),
//     30% to a successful challenger (pays watchtowers), 20% burned (so that a
//     requester colluding with a cheater still loses value);
//   - no emissions until the pool is funded; 1 HINT per daily epoch when it is;
//   - workers with 10 / 100 verified tasks lock 10% / 25% smaller bonds;
//   - at most 1000 distinct workers share an epoch's emission, so the epoch
//     hook does at most 1000 bank sends in one block.
const (
	DefaultProtocolFeeBps    = 500
	DefaultSlashRequesterBps = 5_000
	DefaultSlashChallengeBps = 3_000
	DefaultSlashBurnBps      = 2_000
	DefaultEpochIdentifier   = "day"
	DefaultDenom             = "uhint"

	DefaultMaxEmissionRecipients = 1_000
	// MaxEmissionRecipientsLimit is the most max_emission_recipients may be,
	// whatever governance votes: the epoch hook pays every recipient in one
	// block, so the cap must stay a real bound.
	MaxEmissionRecipientsLimit = 10_000
)

// DefaultParams returns the default x/rewards params.
func DefaultParams() Params {
	return Params{
		ProtocolFeeBps:     DefaultProtocolFeeBps,
		SlashRequesterBps:  DefaultSlashRequesterBps,
		SlashChallengerBps: DefaultSlashChallengeBps,
		SlashBurnBps:       DefaultSlashBurnBps,
		EpochIdentifier:    DefaultEpochIdentifier,
		EpochEmission:      sdk.NewCoin(DefaultDenom, sdkmath.NewInt(1_000_000)),
		BondDiscounts: []BondDiscount{
			{MinVerified: 10, DiscountBps: 1_000},
			{MinVerified: 100, DiscountBps: 2_500},
		},
		MaxEmissionRecipients: DefaultMaxEmissionRecipients,
	}
}

// Validate checks every field; it is called from genesis and MsgUpdateParams.
func (p Params) Validate() error {
	if p.ProtocolFeeBps > BasisPoints {
		return fmt.Errorf("protocol_fee_bps %d exceeds %d", p.ProtocolFeeBps, BasisPoints)
	}
	sum := uint64(p.SlashRequesterBps) + uint64(p.SlashChallengerBps) + uint64(p.SlashBurnBps)
	if sum != BasisPoints {
		return fmt.Errorf("slash_requester_bps + slash_challenger_bps + slash_burn_bps = %d, must be %d", sum, BasisPoints)
	}
	if p.EpochIdentifier == "" {
		return fmt.Errorf("epoch_identifier must not be empty")
	}
	if err := p.EpochEmission.Validate(); err != nil {
		return fmt.Errorf("epoch_emission: %w", err)
	}
	var prev uint64
	for i, d := range p.BondDiscounts {
		if d.DiscountBps >= BasisPoints {
			return fmt.Errorf("bond_discounts[%d].discount_bps %d must be below %d", i, d.DiscountBps, BasisPoints)
		}
		if i > 0 && d.MinVerified <= prev {
			return fmt.Errorf("bond_discounts[%d].min_verified %d must be greater than the previous tier's %d", i, d.MinVerified, prev)
		}
		prev = d.MinVerified
	}
	if p.MaxEmissionRecipients == 0 || p.MaxEmissionRecipients > MaxEmissionRecipientsLimit {
		return fmt.Errorf("max_emission_recipients %d must be between 1 and %d", p.MaxEmissionRecipients, MaxEmissionRecipientsLimit)
	}
	return nil
}

// EmissionRecipientsCap is max_emission_recipients, or its default for params
// stored before the field existed (zero), never above the hard limit.
func (p Params) EmissionRecipientsCap() uint64 {
	switch {
	case p.MaxEmissionRecipients == 0:
		return DefaultMaxEmissionRecipients
	case p.MaxEmissionRecipients > MaxEmissionRecipientsLimit:
		return MaxEmissionRecipientsLimit
	}
	return uint64(p.MaxEmissionRecipients)
}

// DiscountBps is the bond discount a worker with `verified` verified tasks gets.
func (p Params) DiscountBps(verified uint64) uint32 {
	var bps uint32
	for _, d := range p.BondDiscounts {
		if verified >= d.MinVerified {
			bps = d.DiscountBps
		}
	}
	return bps
}
