package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of x/federated.
	ModuleName = "federated"
	// StoreKey is its store key.
	StoreKey = ModuleName
)

// Store prefixes; each is used once and never reused.
var (
	ParamsKey  = collections.NewPrefix(0)
	JobsKey    = collections.NewPrefix(1)
	NextJobKey = collections.NewPrefix(2)
	RoundsKey  = collections.NewPrefix(3) // (job, round) -> Round
	UpdatesKey = collections.NewPrefix(4) // (job, round, participant) -> Update
	// ChallengesKey: (job, round, chunk) -> ChunkChallenge.
	ChallengesKey = collections.NewPrefix(5)
	// DeadlineQueueKey: (deadline, job) of running jobs' current round phase.
	DeadlineQueueKey = collections.NewPrefix(6)
	// ModelsKey: global model hash -> (job, the round it starts); a job's
	// final model starts round `rounds`.
	ModelsKey      = collections.NewPrefix(7)
	StatusIndexKey = collections.NewPrefix(8)
)

// HashLen is the length of seals, salts, hashes (SHA-256).
const HashLen = 32

// CustodyID is the id under which x/rewards holds a federated job's escrow
// and stakes: job ids with the top bit set, a range x/annotation's job ids
// never reach.
func CustodyID(jobID uint64) uint64 { return jobID | 1<<63 }
