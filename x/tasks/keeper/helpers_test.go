package keeper_test

import (
	"time"

	"cosmossdk.io/collections"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

func collectionsPair(t types.Task) collections.Pair[time.Time, uint64] {
	return collections.Join(t.ClaimDeadline, t.Id)
}
