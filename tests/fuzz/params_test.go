package fuzz

import (
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// intOrNil turns a fuzzed amount into an Int, or the nil Int a params
// message may decode to.
func intOrNil(nilInt bool, v int64) sdkmath.Int {
	if nilInt {
		return sdkmath.Int{}
	}
	return sdkmath.NewInt(v)
}

// FuzzUpdateTasksParams: MsgUpdateParams of x/tasks with every field fuzzed,
// from the authority or anyone else.
func FuzzUpdateTasksParams(f *testing.F) {
	p := taskstypes.DefaultParams()
	f.Add(uint8(5), "", p.Denom, false, int64(1_000), int64(1_000), p.MaxReplicas, p.MaxSamples, p.MaxSegments, p.MaxTotalSteps,
		p.MaxParams, p.MaxUriLength, int64(p.MinClaimWindow), int64(p.MaxClaimWindow), int64(p.MinCommitWindow),
		int64(p.MaxCommitWindow), p.AssumedForgedBps, p.MaxDeadlinesPerBlock, p.GasPerSpecByte, p.AbandonFee.Int64(), p.UntrainablePenaltyBps)
	f.Add(uint8(0), "", "u", true, int64(-1), int64(0), uint32(0), uint32(5000), uint32(5000), uint64(0),
		uint64(1<<63), uint32(0), int64(-1), int64(-2), int64(0), int64(0), uint32(10_000), uint32(0), uint64(0), int64(-1), uint32(10_001))
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw, denom string, nilInts bool, minReward, minBond int64, maxReplicas, maxSamples,
		maxSegments uint32, maxSteps, maxParams uint64, maxURI uint32, minClaim, maxClaim, minCommit, maxCommit int64,
		forged, deadlines uint32, gasPerByte uint64, abandonFee int64, untrainableBps uint32,
	) {
		q := taskstypes.Params{Denom: denom, MinReward: intOrNil(nilInts, minReward), MinBond: intOrNil(nilInts, minBond),
			MaxReplicas: maxReplicas, MaxSamples: maxSamples, MaxSegments: maxSegments, MaxTotalSteps: maxSteps,
			MaxParams: maxParams, MaxUriLength: maxURI, MinClaimWindow: time.Duration(minClaim),
			MaxClaimWindow: time.Duration(maxClaim), MinCommitWindow: time.Duration(minCommit),
			MaxCommitWindow: time.Duration(maxCommit), AssumedForgedBps: forged, MaxDeadlinesPerBlock: deadlines,
			GasPerSpecByte: gasPerByte, AbandonFee: intOrNil(nilInts, abandonFee), UntrainablePenaltyBps: untrainableBps}
		msg := &taskstypes.MsgUpdateParams{Authority: account(who, raw), Params: q}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.tasks.UpdateParams(ctx, msg); return err })
	})
}

// FuzzUpdateVerificationParams: MsgUpdateParams of x/verification with its
// windows, bonds, caps, gas prices and block time fuzzed (the fields a newer
// params type adds keep their defaults).
func FuzzUpdateVerificationParams(f *testing.F) {
	p := verificationtypes.DefaultParams()
	f.Add(uint8(5), "", int64(p.RevealWindow), int64(p.FraudWindow), false, int64(1_000), p.MaxRevealBytes, p.GasPerMac,
		p.GasPerRevealByte, p.MaxMacsPerReveal, p.MaxItemsPerBlock, p.ChallengeBondFactor, int64(1), int64(p.BlockTime))
	f.Add(uint8(5), "", int64(0), int64(-1), true, int64(0), uint64(0), uint64(1<<63), uint64(0), uint64(1<<63), uint32(0),
		uint32(1001), int64(-1), int64(0))
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, reveal, fraud int64, nilInt bool, bond int64, maxBytes, gasMac,
		gasByte, maxMacs uint64, items uint32, bondFactor uint32, gasPriceMilli, blockTime int64,
	) {
		q := verificationtypes.DefaultParams()
		q.RevealWindow, q.FraudWindow, q.MinChallengeBond = time.Duration(reveal), time.Duration(fraud), intOrNil(nilInt, bond)
		q.MaxRevealBytes, q.GasPerMac, q.GasPerRevealByte, q.MaxMacsPerReveal, q.MaxItemsPerBlock = maxBytes, gasMac, gasByte, maxMacs, items
		q.ChallengeBondFactor, q.BlockTime = bondFactor, time.Duration(blockTime)
		q.ChallengeGasPrice = sdkmath.LegacyNewDecWithPrec(gasPriceMilli, 3)
		if nilInt {
			q.ChallengeGasPrice = sdkmath.LegacyDec{}
		}
		msg := &verificationtypes.MsgUpdateParams{Authority: account(who, raw), Params: q}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.ver.UpdateParams(ctx, msg); return err })
	})
}

// FuzzUpdateRewardsParams: MsgUpdateParams of x/rewards with the fee, the
// slash split, the emission and two bond-discount tiers fuzzed.
func FuzzUpdateRewardsParams(f *testing.F) {
	p := rewardstypes.DefaultParams()
	f.Add(uint8(5), "", p.ProtocolFeeBps, p.SlashRequesterBps, p.SlashChallengerBps, p.SlashBurnBps, p.EpochIdentifier,
		"uhint", int64(1_000_000), uint64(10), uint32(1_000), uint64(100), uint32(2_500))
	f.Add(uint8(5), "", uint32(10_001), uint32(1<<31), uint32(1<<31), uint32(0), "", "", int64(-1), uint64(5), uint32(10_000), uint64(5), uint32(0))
	w := newWorld(f)
	f.Fuzz(func(t *testing.T, who uint8, raw string, fee, requester, challenger, burn uint32, epoch, denom string,
		emission int64, min1 uint64, bps1 uint32, min2 uint64, bps2 uint32,
	) {
		q := rewardstypes.Params{ProtocolFeeBps: fee, SlashRequesterBps: requester, SlashChallengerBps: challenger,
			SlashBurnBps: burn, EpochIdentifier: epoch, EpochEmission: coin(denom, emission),
			BondDiscounts: []rewardstypes.BondDiscount{{MinVerified: min1, DiscountBps: bps1}, {MinVerified: min2, DiscountBps: bps2}}}
		msg := &rewardstypes.MsgUpdateParams{Authority: account(who, raw), Params: q}
		_ = w.deliver(t, func(ctx sdk.Context) error { _, err := w.rew.UpdateParams(ctx, msg); return err })
	})
}
