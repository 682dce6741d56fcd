package types

import "cosmossdk.io/errors"

// x/annotation errors. Codes are never reused.
var (
	ErrInvalidParams  = errors.Register(ModuleName, 2, "invalid annotation params")
	ErrInvalidGenesis = errors.Register(ModuleName, 3, "invalid annotation genesis")
	ErrInvalidAddress = errors.Register(ModuleName, 4, "invalid address")
	ErrInvalidJob     = errors.Register(ModuleName, 5, "invalid annotation job")
	ErrSchemaMismatch = errors.Register(ModuleName, 6, "the items' schema does not fit the label kind")
	ErrEscrow         = errors.Register(ModuleName, 7, "the escrow cannot cover the job")
	ErrJobNotFound    = errors.Register(ModuleName, 8, "annotation job not found")
	ErrWrongPhase     = errors.Register(ModuleName, 9, "not allowed in the job's current phase")
	ErrNoBatchLeft    = errors.Register(ModuleName, 10, "no group of the job is left for this annotator")
	ErrOwnJob         = errors.Register(ModuleName, 11, "the requester cannot annotate its own job")
	ErrBatchNotFound  = errors.Register(ModuleName, 12, "no batch of this group is assigned to the sender")
	ErrAlreadySealed  = errors.Register(ModuleName, 13, "the batch is already sealed")
	ErrBadSeal        = errors.Register(ModuleName, 14, "the opened labels do not match the seal")
	ErrBadLabels      = errors.Register(ModuleName, 15, "labels outside the label space or of the wrong count")
	ErrLate           = errors.Register(ModuleName, 16, "the window for this message has closed")
	ErrEarly          = errors.Register(ModuleName, 17, "the window for this message has not opened yet")
	ErrBadGold        = errors.Register(ModuleName, 18, "the gold set does not match its commitment")
	ErrNotRequester   = errors.Register(ModuleName, 19, "only the job's requester can do this")
	ErrInvalidHash    = errors.Register(ModuleName, 20, "invalid hash")
)
