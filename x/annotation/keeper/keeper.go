// Package keeper implements x/annotation: annotation jobs, batches drawn by
// the chain, sealed labels, the requester's gold set, the in-consensus
// aggregation (gold accuracy, then Dawid-Skene EM in fixed point, in bounded
// chunks per block) and settlement through x/rewards custody.
package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/annotation/types"
	"github.com/hinterland-ai/hinterland/x/internal/addresses"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// BatchKey is (job, group, annotator).
type BatchKey = collections.Triple[uint64, uint32, sdk.AccAddress]

// Keeper of x/annotation.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	authKeeper   types.AccountKeeper
	rewards      types.RewardsKeeper
	authority    string

	Schema  collections.Schema
	Params  collections.Item[types.Params]
	Jobs    *collections.IndexedMap[uint64, types.Job, JobIndexes]
	NextJob collections.Sequence
	Batches collections.Map[BatchKey, types.Batch]
	// GroupFill counts the batches claimed on a group; OpenGroups lists, per
	// job, the groups that still take a batch (slot -> group), OpenCount
	// their number: a claim draws a slot uniformly and swap-removes it when
	// the group is full.
	GroupFill  collections.Map[collections.Pair[uint64, uint32], uint32]
	OpenGroups collections.Map[collections.Pair[uint64, uint32], uint32]
	OpenCount  collections.Map[uint64, uint32]
	Annotators collections.Map[sdk.AccAddress, types.AnnotatorRecord]
	Gold       collections.Map[uint64, types.JobGold]
	Labels     collections.Map[uint64, []byte]
	// Aggregations holds the encoded in-flight aggregation of each job.
	Aggregations   collections.Map[uint64, []byte]
	DeadlineQueue  collections.KeySet[collections.Pair[time.Time, uint64]]
	AggregateQueue collections.KeySet[uint64]
}

// JobIndexes index jobs by status.
type JobIndexes struct {
	Status *indexes.Multi[int32, uint64, types.Job]
}

// IndexesList implements collections.Indexes.
func (i JobIndexes) IndexesList() []collections.Index[uint64, types.Job] {
	return []collections.Index[uint64, types.Job]{i.Status}
}

// NewKeeper builds the keeper.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, ak types.AccountKeeper, rk types.RewardsKeeper, authority string) Keeper {
	if _, err := ak.AddressCodec().StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid annotation authority address: %w", err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc: cdc, storeService: storeService, authKeeper: ak, rewards: rk, authority: authority,
		Params: collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Jobs: collections.NewIndexedMap(sb, types.JobsKey, "jobs", collections.Uint64Key, codec.CollValue[types.Job](cdc),
			JobIndexes{Status: indexes.NewMulti(sb, types.StatusIndexKey, "jobs_by_status", collections.Int32Key, collections.Uint64Key,
				func(_ uint64, j types.Job) (int32, error) { return int32(j.Status), nil })}),
		NextJob: collections.NewSequence(sb, types.NextJobKey, "next_job"),
		Batches: collections.NewMap(sb, types.BatchesKey, "batches",
			collections.TripleKeyCodec(collections.Uint64Key, collections.Uint32Key, sdk.AccAddressKey), codec.CollValue[types.Batch](cdc)),
		GroupFill: collections.NewMap(sb, types.GroupFillKey, "group_fill",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), collections.Uint32Value),
		OpenGroups: collections.NewMap(sb, types.OpenGroupsKey, "open_groups",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), collections.Uint32Value),
		OpenCount:    collections.NewMap(sb, types.OpenCountKey, "open_count", collections.Uint64Key, collections.Uint32Value),
		Annotators:   collections.NewMap(sb, types.AnnotatorsKey, "annotators", sdk.AccAddressKey, codec.CollValue[types.AnnotatorRecord](cdc)),
		Gold:         collections.NewMap(sb, types.GoldKey, "gold", collections.Uint64Key, codec.CollValue[types.JobGold](cdc)),
		Labels:       collections.NewMap(sb, types.LabelsKey, "labels", collections.Uint64Key, collections.BytesValue),
		Aggregations: collections.NewMap(sb, types.AggregationKey, "aggregations", collections.Uint64Key, collections.BytesValue),
		DeadlineQueue: collections.NewKeySet(sb, types.DeadlineQueueKey, "deadline_queue",
			collections.PairKeyCodec(sdk.TimeKey, collections.Uint64Key)),
		AggregateQueue: collections.NewKeySet(sb, types.AggregateQueueKey, "aggregate_queue", collections.Uint64Key),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority is the address allowed to update params.
func (k Keeper) Authority() string { return k.authority }

// GetJob returns a job or ErrJobNotFound.
func (k Keeper) GetJob(ctx context.Context, id uint64) (types.Job, error) {
	j, err := k.Jobs.Get(ctx, id)
	if err != nil {
		return types.Job{}, errorsmod.Wrapf(types.ErrJobNotFound, "job %d", id)
	}
	return j, nil
}

func (k Keeper) decodeAddress(field, addr string) (sdk.AccAddress, string, error) {
	return addresses.Decode(k.authKeeper.AddressCodec(), field, addr, types.ErrInvalidAddress)
}

func (k Keeper) record(ctx context.Context, addr sdk.AccAddress, fn func(*types.AnnotatorRecord)) error {
	r, err := k.Annotators.Get(ctx, addr)
	if err != nil {
		r = types.AnnotatorRecord{Address: addr.String()}
	}
	fn(&r)
	return k.Annotators.Set(ctx, addr, r)
}

// SettledItems (x/tasks calls it for a dataset that names a job) returns a
// settled job's items; the chain holds their aggregated labels.
func (k Keeper) SettledItems(ctx context.Context, jobID uint64) (taskstypes.DatasetRef, error) {
	j, err := k.GetJob(ctx, jobID)
	if err != nil {
		return taskstypes.DatasetRef{}, err
	}
	if j.Status != types.JOB_STATUS_SETTLED || len(j.LabelsHash) == 0 {
		return taskstypes.DatasetRef{}, errorsmod.Wrapf(types.ErrWrongPhase, "job %d is %s with no labels to train on", jobID, j.Status)
	}
	return j.Items, nil
}
