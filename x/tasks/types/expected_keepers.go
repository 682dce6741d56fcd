package types

import (
	"context"
	"time"

	sdkmath "cosmossdk.io/math"

	"cosmossdk.io/core/address"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AccountKeeper is what x/tasks needs of x/auth.
type AccountKeeper interface {
	AddressCodec() address.Codec
}

// RewardsKeeper is the custody and settlement API of x/rewards.
type RewardsKeeper interface {
	LockEscrow(ctx context.Context, taskID uint64, poster sdk.AccAddress, reward sdk.Coin, replicas uint32) error
	RequiredBond(ctx context.Context, worker sdk.AccAddress, bond sdk.Coin) (sdk.Coin, error)
	LockBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, amount sdk.Coin) error
	PayWorker(ctx context.Context, taskID uint64, worker sdk.AccAddress, macs uint64) error
	SlashWorker(ctx context.Context, taskID uint64, worker, challenger sdk.AccAddress, reason string) error
	CloseEscrow(ctx context.Context, taskID uint64) (sdk.Coin, error)
	ReleaseBond(ctx context.Context, taskID uint64, worker sdk.AccAddress, fee sdkmath.Int) (sdk.Coin, sdk.Coin, error)
	CompensateWorker(ctx context.Context, taskID uint64, worker sdk.AccAddress, stepsDone, totalSteps uint64, penaltyBps uint32) (sdk.Coin, error)
}

// VerificationKeeper is what x/tasks needs of x/verification when a task is
// posted: that every segment can be revealed and recomputed within the
// per-reveal limits (bytes, MACs, row look-ups). x/verification is built after
// x/tasks (it uses x/tasks), so the app sets it with SetVerificationKeeper.
type VerificationKeeper interface {
	CheckRevealable(ctx context.Context, spec TrainingSpec, d DatasetRef) error
	// OnClaimsClosed gives the task's sealed transcripts their open deadline
	// and returns it.
	OnClaimsClosed(ctx context.Context, taskID uint64) (time.Time, error)
	// OnSecretRevealed schedules the draw of the task's opened transcripts.
	OnSecretRevealed(ctx context.Context, taskID uint64) error
}

// AnnotationKeeper is what x/tasks needs of x/annotation: the items of a
// settled job (its labels are on chain; the task's dataset root is the
// labelled dataset's, which workers rebuild and check).
type AnnotationKeeper interface {
	SettledItems(ctx context.Context, jobID uint64) (DatasetRef, error)
}
