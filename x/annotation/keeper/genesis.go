package keeper

import (
	"bytes"
	"context"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// InitGenesis loads a validated genesis state. Open groups and deadline and
// aggregation queues are derived from the jobs and batches.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	next := max(gs.NextJobId, 1)
	if err := k.NextJob.Set(ctx, next); err != nil {
		return err
	}
	ac := k.authKeeper.AddressCodec()
	for _, b := range gs.Batches {
		a, err := ac.StringToBytes(b.Annotator)
		if err != nil {
			return err
		}
		if err := k.Batches.Set(ctx, collections.Join3(b.JobId, b.Group, sdk.AccAddress(a)), b); err != nil {
			return err
		}
		fill, _ := k.GroupFill.Get(ctx, collections.Join(b.JobId, b.Group))
		if err := k.GroupFill.Set(ctx, collections.Join(b.JobId, b.Group), fill+1); err != nil {
			return err
		}
	}
	for _, j := range gs.Jobs {
		if err := k.Jobs.Set(ctx, j.Id, j); err != nil {
			return err
		}
	}
	// Claim slots, deadlines and aggregations as exported: a rebuilt slot
	// order would make claims after an import draw other groups.
	for _, o := range gs.OpenSlots {
		if err := k.OpenGroups.Set(ctx, collections.Join(o.JobId, o.Slot), o.Group); err != nil {
			return err
		}
		n, _ := k.OpenCount.Get(ctx, o.JobId)
		if err := k.OpenCount.Set(ctx, o.JobId, n+1); err != nil {
			return err
		}
	}
	for _, d := range gs.Deadlines {
		if err := k.DeadlineQueue.Set(ctx, collections.Join(d.Time, d.JobId)); err != nil {
			return err
		}
	}
	for _, id := range gs.Aggregating {
		if err := k.AggregateQueue.Set(ctx, id); err != nil {
			return err
		}
	}
	for _, r := range gs.Annotators {
		a, err := ac.StringToBytes(r.Address)
		if err != nil {
			return err
		}
		if err := k.Annotators.Set(ctx, a, r); err != nil {
			return err
		}
	}
	for _, g := range gs.Gold {
		if err := k.Gold.Set(ctx, g.JobId, g); err != nil {
			return err
		}
	}
	for _, l := range gs.Labels {
		if err := k.Labels.Set(ctx, l.JobId, l.Data); err != nil {
			return err
		}
	}
	for _, a := range gs.Aggregations {
		if err := k.Aggregations.Set(ctx, a.JobId, a.Data); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis writes the state.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	p, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	next, err := k.NextJob.Peek(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: p, NextJobId: max(next, 1)}
	if err := k.Jobs.Walk(ctx, nil, func(_ uint64, j types.Job) (bool, error) {
		gs.Jobs = append(gs.Jobs, j)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Batches.Walk(ctx, nil, func(_ BatchKey, b types.Batch) (bool, error) {
		gs.Batches = append(gs.Batches, b)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Annotators.Walk(ctx, nil, func(_ sdk.AccAddress, r types.AnnotatorRecord) (bool, error) {
		gs.Annotators = append(gs.Annotators, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Gold.Walk(ctx, nil, func(_ uint64, g types.JobGold) (bool, error) {
		gs.Gold = append(gs.Gold, g)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Labels.Walk(ctx, nil, func(id uint64, b []byte) (bool, error) {
		gs.Labels = append(gs.Labels, types.JobLabels{JobId: id, Data: bytes.Clone(b)})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Aggregations.Walk(ctx, nil, func(id uint64, b []byte) (bool, error) {
		gs.Aggregations = append(gs.Aggregations, types.JobLabels{JobId: id, Data: bytes.Clone(b)})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.OpenGroups.Walk(ctx, nil, func(key collections.Pair[uint64, uint32], g uint32) (bool, error) {
		gs.OpenSlots = append(gs.OpenSlots, types.OpenSlot{JobId: key.K1(), Slot: key.K2(), Group: g})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.DeadlineQueue.Walk(ctx, nil, func(key collections.Pair[time.Time, uint64]) (bool, error) {
		gs.Deadlines = append(gs.Deadlines, types.JobDeadline{JobId: key.K2(), Time: key.K1()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.AggregateQueue.Walk(ctx, nil, func(id uint64) (bool, error) {
		gs.Aggregating = append(gs.Aggregating, id)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
