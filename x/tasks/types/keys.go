package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of x/tasks, the task market.
	ModuleName = "tasks"
	// StoreKey is the store key of x/tasks.
	StoreKey = ModuleName
)

// Store prefixes; each is used once and never reused.
var (
	ParamsKey      = collections.NewPrefix(0)
	NextTaskIDKey  = collections.NewPrefix(1)
	TasksKey       = collections.NewPrefix(2)
	AssignmentsKey = collections.NewPrefix(3)
	// Secondary indexes of Tasks and Assignments.
	PosterIndexKey = collections.NewPrefix(4)
	StatusIndexKey = collections.NewPrefix(5)
	WorkerIndexKey = collections.NewPrefix(6)
	// Deadline queues, keyed by time first so the end blocker walks them in order.
	ClaimQueueKey  = collections.NewPrefix(7)
	CommitQueueKey = collections.NewPrefix(8)
	// Model lineage.
	ModelsKey = collections.NewPrefix(9)
)

// HashLen is the length of every hash the module stores (SHA-256).
const HashLen = 32
