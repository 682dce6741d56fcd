package types

import "cosmossdk.io/errors"

// x/federated errors. Codes are never reused.
var (
	ErrInvalidParams     = errors.Register(ModuleName, 2, "invalid federated params")
	ErrInvalidGenesis    = errors.Register(ModuleName, 3, "invalid federated genesis")
	ErrInvalidAddress    = errors.Register(ModuleName, 4, "invalid address")
	ErrInvalidJob        = errors.Register(ModuleName, 5, "invalid federated job")
	ErrUnderfunded       = errors.Register(ModuleName, 6, "the budget cannot cover the job's rounds")
	ErrJobNotFound       = errors.Register(ModuleName, 7, "federated job not found")
	ErrWrongRound        = errors.Register(ModuleName, 8, "not the job's current round")
	ErrWrongPhase        = errors.Register(ModuleName, 9, "not allowed in the round's current phase")
	ErrRoundFull         = errors.Register(ModuleName, 10, "the round has its maximum of participants")
	ErrAlreadyJoined     = errors.Register(ModuleName, 11, "already a participant of this round")
	ErrNotParticipant    = errors.Register(ModuleName, 12, "not a participant of this round")
	ErrBadShard          = errors.Register(ModuleName, 13, "shard outside the job's shards or already taken")
	ErrDatasetMismatch   = errors.Register(ModuleName, 14, "the data root does not match the job's data assignment")
	ErrBadSeal           = errors.Register(ModuleName, 15, "the opened update does not match its seal")
	ErrWrongStartState   = errors.Register(ModuleName, 16, "the update does not start at the round's global model")
	ErrBadTranscript     = errors.Register(ModuleName, 17, "invalid transcript")
	ErrNotSampled        = errors.Register(ModuleName, 18, "segment not sampled or already revealed")
	ErrNotAggregator     = errors.Register(ModuleName, 19, "not allowed to aggregate this round")
	ErrBadChunk          = errors.Register(ModuleName, 20, "chunk reveal does not prove against the committed hashes")
	ErrChunkNotPending   = errors.Register(ModuleName, 21, "chunk neither drawn nor challenged, or already verified")
	ErrChallengeBond     = errors.Register(ModuleName, 22, "challenge bond below the job's minimum")
	ErrInvalidHash       = errors.Register(ModuleName, 23, "invalid hash")
	ErrOwnJob            = errors.Register(ModuleName, 24, "the requester cannot take part in its own job")
	ErrAlreadyChallenged = errors.Register(ModuleName, 25, "chunk already challenged, drawn or verified")
)
