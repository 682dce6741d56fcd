package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// InitGenesis loads the state and rebuilds the indexes and deadline queues.
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
		if t.Status == types.TASK_STATUS_OPEN || t.Status == types.TASK_STATUS_ASSIGNED {
			if err := k.ClaimQueue.Set(ctx, collections.Join(t.ClaimDeadline, t.Id)); err != nil {
				return err
			}
		}
	}
	for _, a := range gs.Assignments {
		if err := k.setAssignment(ctx, a); err != nil {
			return err
		}
		if a.Status == types.ASSIGNMENT_STATUS_ACTIVE {
			worker, err := k.authKeeper.AddressCodec().StringToBytes(a.Worker)
			if err != nil {
				return err
			}
			if err := k.CommitQueue.Set(ctx, collections.Join3(a.CommitDeadline, a.TaskId, sdk.AccAddress(worker))); err != nil {
				return err
			}
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
	return gs, nil
}
