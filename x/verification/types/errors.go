package types

import "cosmossdk.io/errors"

// x/verification errors. Codes are never reused.
var (
	ErrInvalidParams      = errors.Register(ModuleName, 2, "invalid verification params")
	ErrInvalidGenesis     = errors.Register(ModuleName, 3, "invalid verification genesis")
	ErrInvalidAddress     = errors.Register(ModuleName, 4, "invalid address")
	ErrTranscriptExists   = errors.Register(ModuleName, 5, "a transcript is already committed for this claim")
	ErrTranscriptNotFound = errors.Register(ModuleName, 6, "no transcript for this task and worker")
	ErrBadCheckpoints     = errors.Register(ModuleName, 7, "checkpoint list does not fit the task")
	ErrInitialState       = errors.Register(ModuleName, 8, "h_0 is not the task's seed-derived initial state")
	ErrFinalState         = errors.Register(ModuleName, 9, "h_N does not match the final model and optimiser hashes")
	ErrInvalidURI         = errors.Register(ModuleName, 10, "invalid checkpoint URI")
	ErrNotChallenged      = errors.Register(ModuleName, 11, "this segment has no pending challenge")
	ErrRevealLate         = errors.Register(ModuleName, 12, "the reveal deadline has passed")
	ErrRevealTooLarge     = errors.Register(ModuleName, 13, "reveal exceeds max_reveal_bytes")
	ErrWrongStartState    = errors.Register(ModuleName, 14, "start state does not hash to the committed checkpoint")
	ErrBadRows            = errors.Register(ModuleName, 15, "revealed rows are not the rows the segment uses")
	ErrBadProof           = errors.Register(ModuleName, 16, "row Merkle proof does not verify against the dataset root")
	ErrBadBaseModel       = errors.Register(ModuleName, 17, "base model does not match the task's base model hash")
	ErrTooMuchWork        = errors.Register(ModuleName, 18, "recomputation exceeds max_macs_per_reveal")
	ErrWrongStatus        = errors.Register(ModuleName, 19, "not allowed in the transcript's current status")
	ErrFraudWindowClosed  = errors.Register(ModuleName, 20, "the fraud window is closed")
	ErrSegmentVerified    = errors.Register(ModuleName, 21, "segment already verified")
	ErrInvalidSegment     = errors.Register(ModuleName, 22, "segment index out of range")
	ErrInvalidBond        = errors.Register(ModuleName, 23, "invalid challenge bond")
	ErrSelfChallenge      = errors.Register(ModuleName, 24, "a worker cannot challenge its own transcript")
	ErrChallengePending   = errors.Register(ModuleName, 25, "segment already has a pending challenge")
	ErrInvalidHash        = errors.Register(ModuleName, 26, "invalid hash")
	ErrEngine             = errors.Register(ModuleName, 27, "engine rejected the input")
)
