package types

import "cosmossdk.io/errors"

// x/tasks errors. Codes are never reused.
var (
	ErrInvalidParams     = errors.Register(ModuleName, 2, "invalid tasks params")
	ErrInvalidGenesis    = errors.Register(ModuleName, 3, "invalid tasks genesis")
	ErrInvalidAddress    = errors.Register(ModuleName, 4, "invalid address")
	ErrInvalidSpec       = errors.Register(ModuleName, 5, "invalid training spec")
	ErrInvalidDataset    = errors.Register(ModuleName, 6, "invalid dataset reference")
	ErrInvalidReward     = errors.Register(ModuleName, 7, "invalid reward")
	ErrInvalidBond       = errors.Register(ModuleName, 8, "invalid bond")
	ErrInvalidReplicas   = errors.Register(ModuleName, 9, "invalid replicas")
	ErrInvalidSamples    = errors.Register(ModuleName, 10, "invalid samples")
	ErrInvalidWindow     = errors.Register(ModuleName, 11, "invalid deadline window")
	ErrTaskNotFound      = errors.Register(ModuleName, 12, "task not found")
	ErrTaskNotOpen       = errors.Register(ModuleName, 13, "task is not open for claims")
	ErrOwnTask           = errors.Register(ModuleName, 14, "the poster cannot claim its own task")
	ErrAlreadyClaimed    = errors.Register(ModuleName, 15, "this worker already holds or held a claim on the task")
	ErrNotPoster         = errors.Register(ModuleName, 16, "only the poster can do this")
	ErrTaskClaimed       = errors.Register(ModuleName, 17, "the task has claims and can no longer be cancelled")
	ErrAssignmentMissing = errors.Register(ModuleName, 18, "no claim by this worker on the task")
	ErrWrongState        = errors.Register(ModuleName, 19, "not allowed in the current state")
	ErrModelNotFound     = errors.Register(ModuleName, 20, "model not found")
	ErrInvalidHash       = errors.Register(ModuleName, 21, "invalid hash")
	ErrClaimsClosed      = errors.Register(ModuleName, 22, "claims are closed: the task's transcripts are sealed or open")
	ErrBadSecret         = errors.Register(ModuleName, 23, "the secret does not match the task's secret hash")
	ErrSecretNotDue      = errors.Register(ModuleName, 24, "the secret may be revealed only once every claim is sealed")
)
