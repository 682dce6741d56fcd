package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of x/verification.
	ModuleName = "verification"
	// StoreKey is the store key of x/verification.
	StoreKey = ModuleName
)

// Store prefixes; each is used once and never reused.
var (
	ParamsKey      = collections.NewPrefix(0)
	TranscriptsKey = collections.NewPrefix(1)
	ChallengesKey  = collections.NewPrefix(2)
	VerdictsKey    = collections.NewPrefix(3)
	NextVerdictKey = collections.NewPrefix(4)
	TaskVerdictKey = collections.NewPrefix(5)
	// DrawQueue: (commit height, task, worker) of transcripts awaiting their sample.
	DrawQueueKey = collections.NewPrefix(6)
	// RevealQueue: (deadline, task, worker) of transcripts with challenges pending.
	RevealQueueKey = collections.NewPrefix(7)
	// FraudQueue: (fraud window end, task, worker) of passed transcripts.
	FraudQueueKey = collections.NewPrefix(8)
	// ChallengeSeals: (task, worker, commitment) of sealed fraud challenges.
	ChallengeSealsKey = collections.NewPrefix(9)
	// PendingRevealGas: the gas of every reveal owed for a pending challenge.
	PendingRevealGasKey = collections.NewPrefix(10)
)

// SealSlot is the first x/rewards challenge-bond slot of sealed challenges:
// a sealed bond is kept at SealSlot + n until it opens on a segment (< 2^31).
const SealSlot = uint32(1) << 31

// HashLen is the length of checkpoint and model hashes (SHA-256).
const HashLen = 32
