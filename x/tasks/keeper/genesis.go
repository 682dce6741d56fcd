package keeper

import (
	"context"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// InitGenesis loads the state, rebuilds the secondary indexes and imports the
// deadline queues exactly as exported: the queues are not a function of the
// task and claim statuses (a task whose claim deadline passed with a claim in
// flight stays assigned with no queue entry), so rebuilding them would change
// the chain on export and import.
func (k Keeper) InitGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return errorsmod.Wrap(types.ErrInvalidGenesis, err.Error())
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	if err := k.NextTaskID.Set(ctx, gs.NextTaskId); err != nil {
		return err
	}
	for _, t := range gs.Tasks {
		if err := k.setTask(ctx, t); err != nil {
			return err
		}
	}
	for _, a := range gs.Assignments {
		if err := k.setAssignment(ctx, a); err != nil {
			return err
		}
	}
	for _, e := range gs.ClaimQueue {
		if err := k.ClaimQueue.Set(ctx, collections.Join(e.Deadline, e.TaskId)); err != nil {
			return err
		}
	}
	for _, e := range gs.CommitQueue {
		worker, err := k.authKeeper.AddressCodec().StringToBytes(e.Worker)
		if err != nil {
			return err
		}
		if err := k.CommitQueue.Set(ctx, collections.Join3(e.Deadline, e.TaskId, sdk.AccAddress(worker))); err != nil {
			return err
		}
	}
	for _, m := range gs.Models {
		if err := k.Models.Set(ctx, m.ModelHash, m); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis writes the whole state; importing it gives the same state.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	next, err := k.NextTaskID.Peek(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params, NextTaskId: next}
	if err := k.Tasks.Walk(ctx, nil, func(_ uint64, t types.Task) (bool, error) {
		gs.Tasks = append(gs.Tasks, t)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Assignments.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], a types.Assignment) (bool, error) {
		gs.Assignments = append(gs.Assignments, a)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Models.Walk(ctx, nil, func(_ []byte, m types.ModelRecord) (bool, error) {
		gs.Models = append(gs.Models, m)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.ClaimQueue.Walk(ctx, nil, func(key collections.Pair[time.Time, uint64]) (bool, error) {
		gs.ClaimQueue = append(gs.ClaimQueue, types.QueueEntry{Deadline: key.K1(), TaskId: key.K2()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.CommitQueue.Walk(ctx, nil, func(key collections.Triple[time.Time, uint64, sdk.AccAddress]) (bool, error) {
		gs.CommitQueue = append(gs.CommitQueue, types.QueueEntry{Deadline: key.K1(), TaskId: key.K2(), Worker: key.K3().String()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
