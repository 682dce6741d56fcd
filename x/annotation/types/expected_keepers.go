package types

import (
	"context"

	"cosmossdk.io/core/address"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AccountKeeper gives the address codec.
type AccountKeeper interface {
	AddressCodec() address.Codec
}

// RewardsKeeper holds a job's escrow and its annotators' stakes in x/rewards
// custody, so that the custody invariant covers them.
type RewardsKeeper interface {
	LockJobEscrow(ctx context.Context, jobID uint64, requester sdk.AccAddress, amount sdk.Coin) error
	LockStake(ctx context.Context, jobID uint64, annotator sdk.AccAddress, amount sdk.Coin) error
	// SettleStake returns an annotator's stake on a job, less toRequester
	// (forfeited or slashed), which goes to the requester.
	SettleStake(ctx context.Context, jobID uint64, annotator sdk.AccAddress, toRequester sdkmath.Int) error
	// PayFromJob pays out of the job's escrow (to an annotator; or, with
	// to empty, to the fee collector); BurnFromJob burns out of it.
	PayFromJob(ctx context.Context, jobID uint64, to sdk.AccAddress, amount sdk.Coin) error
	BurnFromJob(ctx context.Context, jobID uint64, amount sdk.Coin) error
	// CloseJobEscrow refunds what is left to the requester.
	CloseJobEscrow(ctx context.Context, jobID uint64) (sdk.Coin, error)
}
