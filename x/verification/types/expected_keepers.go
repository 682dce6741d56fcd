package types

import (
	"context"

	"cosmossdk.io/core/address"

	sdk "github.com/cosmos/cosmos-sdk/types"

	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// AccountKeeper is what x/verification needs of x/auth.
type AccountKeeper interface {
	AddressCodec() address.Codec
}

// TasksKeeper is what x/verification needs of x/tasks: the task, the claim,
// and the three outcomes of a claim (x/tasks settles them through x/rewards).
type TasksKeeper interface {
	GetTask(ctx context.Context, id uint64) (taskstypes.Task, error)
	GetAssignment(ctx context.Context, id uint64, worker sdk.AccAddress) (taskstypes.Assignment, error)
	GetParams(ctx context.Context) (taskstypes.Params, error)
	MarkCommitted(ctx context.Context, taskID uint64, worker sdk.AccAddress) error
	FailAssignment(ctx context.Context, taskID uint64, worker, challenger sdk.AccAddress, reason string) error
	CompleteAssignment(ctx context.Context, taskID uint64, worker sdk.AccAddress, rec taskstypes.ModelRecord, macs uint64) error
	CompleteUntrainable(ctx context.Context, taskID uint64, worker sdk.AccAddress, stepsDone uint64, reason string) error
}

// RewardsKeeper holds fraud challengers' bonds.
type RewardsKeeper interface {
	LockChallengeBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, segment uint32, challenger sdk.AccAddress, amount sdk.Coin) error
	SettleChallenge(ctx context.Context, taskID uint64, worker sdk.AccAddress, segment uint32, workerRight bool) error
	// MoveChallengeBond re-keys a locked challenge bond (a sealed challenge
	// opening on a segment); RefundChallengeBond returns it to its owner.
	MoveChallengeBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, from, to uint32) error
	RefundChallengeBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, slot uint32) error
}
