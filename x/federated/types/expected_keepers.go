package types

import (
	"context"

	"cosmossdk.io/core/address"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// AccountKeeper gives the address codec.
type AccountKeeper interface {
	AddressCodec() address.Codec
}

// RewardsKeeper holds a job's budget and its participants' and
// challengers' bonds in x/rewards custody (under CustodyID(job)), so the
// custody invariant covers them.
type RewardsKeeper interface {
	LockJobEscrow(ctx context.Context, jobID uint64, requester sdk.AccAddress, amount sdk.Coin) error
	LockStake(ctx context.Context, jobID uint64, owner sdk.AccAddress, amount sdk.Coin) error
	// SettleStakeSplit ends an owner's stake: each payee gets its amount
	// (together at most the stake), the rest returns to the owner.
	SettleStakeSplit(ctx context.Context, jobID uint64, owner sdk.AccAddress, payees []sdk.AccAddress, amounts []sdkmath.Int) error
	PayFromJob(ctx context.Context, jobID uint64, to sdk.AccAddress, amount sdk.Coin) error
	// PayFromStake pays part of an owner's stake and keeps the rest staked.
	PayFromStake(ctx context.Context, jobID uint64, owner, to sdk.AccAddress, amount sdk.Coin) error
	CloseJobEscrow(ctx context.Context, jobID uint64) (sdk.Coin, error)
}

// VerificationKeeper gives the recomputation limits and gas prices that
// every segment reveal, task or federated, is held to.
type VerificationKeeper interface {
	GetParams(ctx context.Context) (verificationtypes.Params, error)
	// CheckRevealable checks that every segment of a run of this spec on
	// this dataset fits the reveal limits.
	CheckRevealable(ctx context.Context, spec taskstypes.TrainingSpec, d taskstypes.DatasetRef) error
}

// TasksKeeper gives the training limits every job is held to (steps,
// segments, parameters, URI length, denom).
type TasksKeeper interface {
	GetParams(ctx context.Context) (taskstypes.Params, error)
}
