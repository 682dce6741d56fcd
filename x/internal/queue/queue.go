// Package queue holds the deadline-queue helpers the modules' end blockers
// share: collect the due items of a time-keyed KeySet, and run each one in
// its own cache context so one bad item cannot halt the chain.
package queue

import (
	"context"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Due returns, in key order, up to limit keys of set whose time (given by at)
// is not after now. The set must be ordered by that time first.
func Due[K any](ctx context.Context, set collections.KeySet[K], at func(K) time.Time, now time.Time, limit uint32) ([]K, error) {
	var due []K
	err := set.Walk(ctx, nil, func(key K) (bool, error) {
		if at(key).After(now) || uint32(len(due)) >= limit {
			return true, nil
		}
		due = append(due, key)
		return false, nil
	})
	return due, err
}

// RunIsolated runs fn in a cache context and keeps its writes and events only
// if it succeeds; a failure is logged with `what` and the task id.
func RunIsolated(ctx sdk.Context, module, what string, taskID uint64, fn func(sdk.Context) error) bool {
	cacheCtx, write := ctx.CacheContext()
	if err := fn(cacheCtx); err != nil {
		ctx.Logger().Error(module+": queue item failed and was dropped", "item", what, "task", taskID, "err", err)
		return false
	}
	write()
	return true
}
