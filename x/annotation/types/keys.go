package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of x/annotation.
	ModuleName = "annotation"
	// StoreKey is its store key.
	StoreKey = ModuleName
)

// Store prefixes; each is used once and never reused.
var (
	ParamsKey      = collections.NewPrefix(0)
	JobsKey        = collections.NewPrefix(1)
	NextJobKey     = collections.NewPrefix(2)
	BatchesKey     = collections.NewPrefix(3) // (job, group, annotator) -> Batch
	GroupFillKey   = collections.NewPrefix(4) // (job, group) -> batches claimed on the group
	AnnotatorsKey  = collections.NewPrefix(5)
	GoldKey        = collections.NewPrefix(6) // job -> JobGold
	LabelsKey      = collections.NewPrefix(7) // job -> aggregated labels
	AggregationKey = collections.NewPrefix(8) // job -> in-flight aggregation state
	// DeadlineQueue: (time, job) of jobs whose phase ends then.
	DeadlineQueueKey = collections.NewPrefix(9)
	// AggregateQueue: jobs aggregating, in order.
	AggregateQueueKey = collections.NewPrefix(10)
	StatusIndexKey    = collections.NewPrefix(11)
	OpenGroupsKey     = collections.NewPrefix(12)
	OpenCountKey      = collections.NewPrefix(13)
)

// HashLen is the length of seals, salts and commitments (SHA-256).
const HashLen = 32
