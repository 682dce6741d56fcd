package keeper

import (
	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// TaskIndexes are the secondary indexes of Tasks: by poster (the address
// bytes, so every spelling of one address finds the same tasks) and by status.
type TaskIndexes struct {
	Poster *indexes.Multi[sdk.AccAddress, uint64, types.Task]
	Status *indexes.Multi[int32, uint64, types.Task]
}

// IndexesList implements collections.Indexes.
func (i TaskIndexes) IndexesList() []collections.Index[uint64, types.Task] {
	return []collections.Index[uint64, types.Task]{i.Poster, i.Status}
}

func newTaskIndexes(sb *collections.SchemaBuilder, ac address.Codec) TaskIndexes {
	return TaskIndexes{
		Poster: indexes.NewMulti(sb, types.PosterIndexKey, "tasks_by_poster", sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, t types.Task) (sdk.AccAddress, error) { return ac.StringToBytes(t.Poster) }),
		Status: indexes.NewMulti(sb, types.StatusIndexKey, "tasks_by_status", collections.Int32Key, collections.Uint64Key,
			func(_ uint64, t types.Task) (int32, error) { return int32(t.Status), nil }),
	}
}

// AssignmentIndexes index the claims by worker.
type AssignmentIndexes struct {
	Worker *indexes.Multi[sdk.AccAddress, collections.Pair[uint64, sdk.AccAddress], types.Assignment]
}

// IndexesList implements collections.Indexes.
func (i AssignmentIndexes) IndexesList() []collections.Index[collections.Pair[uint64, sdk.AccAddress], types.Assignment] {
	return []collections.Index[collections.Pair[uint64, sdk.AccAddress], types.Assignment]{i.Worker}
}

func newAssignmentIndexes(sb *collections.SchemaBuilder) AssignmentIndexes {
	return AssignmentIndexes{
		Worker: indexes.NewMulti(sb, types.WorkerIndexKey, "assignments_by_worker", sdk.AccAddressKey,
			collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey),
			func(pk collections.Pair[uint64, sdk.AccAddress], _ types.Assignment) (sdk.AccAddress, error) {
				return pk.K2(), nil
			}),
	}
}
