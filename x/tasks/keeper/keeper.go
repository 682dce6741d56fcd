// Package keeper implements x/tasks: the task market (post, claim, cancel),
// its deadline queues and the model lineage.
package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// Keeper of x/tasks.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	authKeeper   types.AccountKeeper
	rewards      types.RewardsKeeper
	authority    string
	// verification is set once, after construction, by SetVerificationKeeper;
	// a pointer so that every copy of the keeper sees it.
	verification *types.VerificationKeeper
	// annotation (SetAnnotationKeeper) resolves datasets that name an
	// x/annotation job; nil: such datasets are refused.
	annotation *types.AnnotationKeeper

	Schema     collections.Schema
	Params     collections.Item[types.Params]
	NextTaskID collections.Sequence
	// Tasks by id, indexed by poster and by status.
	Tasks *collections.IndexedMap[uint64, types.Task, TaskIndexes]
	// Assignments (claims) by (task, worker), indexed by worker.
	Assignments *collections.IndexedMap[collections.Pair[uint64, sdk.AccAddress], types.Assignment, AssignmentIndexes]
	// ClaimQueue holds (claim deadline, task) of tasks that still accept claims.
	ClaimQueue collections.KeySet[collections.Pair[time.Time, uint64]]
	// CommitQueue holds (commit deadline, task, worker) of active claims.
	CommitQueue collections.KeySet[collections.Triple[time.Time, uint64, sdk.AccAddress]]
	// Models maps a verified model hash to the work that produced it.
	Models collections.Map[[]byte, types.ModelRecord]
}

// NewKeeper builds the keeper.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, ak types.AccountKeeper, rk types.RewardsKeeper, authority string) Keeper {
	if _, err := ak.AddressCodec().StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid tasks authority address: %w", err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		authKeeper:   ak,
		rewards:      rk,
		authority:    authority,
		verification: new(types.VerificationKeeper),
		annotation:   new(types.AnnotationKeeper),
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		NextTaskID:   collections.NewSequence(sb, types.NextTaskIDKey, "next_task_id"),
		Tasks: collections.NewIndexedMap(sb, types.TasksKey, "tasks", collections.Uint64Key,
			codec.CollValue[types.Task](cdc), newTaskIndexes(sb, ak.AddressCodec())),
		Assignments: collections.NewIndexedMap(sb, types.AssignmentsKey, "assignments",
			collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey), codec.CollValue[types.Assignment](cdc),
			newAssignmentIndexes(sb)),
		ClaimQueue: collections.NewKeySet(sb, types.ClaimQueueKey, "claim_queue", collections.PairKeyCodec(sdk.TimeKey, collections.Uint64Key)),
		CommitQueue: collections.NewKeySet(sb, types.CommitQueueKey, "commit_queue",
			collections.TripleKeyCodec(sdk.TimeKey, collections.Uint64Key, sdk.AccAddressKey)),
		Models: collections.NewMap(sb, types.ModelsKey, "models", collections.BytesKey, codec.CollValue[types.ModelRecord](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetAnnotationKeeper wires x/annotation, whose settled jobs' labels a task
// may train on; it panics if called twice.
func (k Keeper) SetAnnotationKeeper(ak types.AnnotationKeeper) {
	if *k.annotation != nil {
		panic("tasks: annotation keeper already set")
	}
	*k.annotation = ak
}

// SetVerificationKeeper wires x/verification's reveal limits (see
// types.VerificationKeeper); it panics if called twice.
func (k Keeper) SetVerificationKeeper(vk types.VerificationKeeper) {
	if *k.verification != nil {
		panic("tasks: verification keeper already set")
	}
	*k.verification = vk
}

// Authority is the address allowed to update params.
func (k Keeper) Authority() string { return k.authority }

// GetTask returns a task or ErrTaskNotFound.
func (k Keeper) GetTask(ctx context.Context, id uint64) (types.Task, error) {
	t, err := k.Tasks.Get(ctx, id)
	if err != nil {
		return types.Task{}, errorsmod.Wrapf(types.ErrTaskNotFound, "task %d", id)
	}
	return t, nil
}

// GetAssignment returns a worker's claim on a task or ErrAssignmentMissing.
func (k Keeper) GetAssignment(ctx context.Context, id uint64, worker sdk.AccAddress) (types.Assignment, error) {
	a, err := k.Assignments.Get(ctx, collections.Join(id, worker))
	if err != nil {
		return types.Assignment{}, errorsmod.Wrapf(types.ErrAssignmentMissing, "task %d worker %s", id, worker)
	}
	return a, nil
}

// setTask stores a task; the poster and status indexes follow.
func (k Keeper) setTask(ctx context.Context, t types.Task) error { return k.Tasks.Set(ctx, t.Id, t) }

// setAssignment stores a claim; the worker index follows.
func (k Keeper) setAssignment(ctx context.Context, a types.Assignment) error {
	worker, err := k.authKeeper.AddressCodec().StringToBytes(a.Worker)
	if err != nil {
		return err
	}
	return k.Assignments.Set(ctx, collections.Join(a.TaskId, sdk.AccAddress(worker)), a)
}

// refreshStatus recomputes an unfinished task's status from its counters.
func refreshStatus(t *types.Task, now time.Time) {
	switch t.Status {
	case types.TASK_STATUS_OPEN, types.TASK_STATUS_ASSIGNED:
		if !t.ClaimsClosed && t.Untrainable == "" && t.Verified+t.Active < t.Replicas && now.Before(t.ClaimDeadline) {
			t.Status = types.TASK_STATUS_OPEN
		} else {
			t.Status = types.TASK_STATUS_ASSIGNED
		}
	}
}

// maybeClose finishes a task once no claim is in flight and either every
// replica is verified or claims are no longer accepted: the rest of the
// escrow (unpaid shares, rounding remainder) returns to the poster.
func (k Keeper) maybeClose(ctx context.Context, t *types.Task) error {
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	// Claims stay closed once a verified transcript is open (a new claim
	// could copy it) or the task is proven untrainable.
	final := t.Untrainable != "" || (t.ClaimsClosed && t.Verified > 0)
	if t.Active > 0 || (t.Verified < t.Replicas && now.Before(t.ClaimDeadline) && !final) {
		return nil
	}
	refund, err := k.rewards.CloseEscrow(ctx, t.Id)
	if err != nil {
		return err
	}
	if err := k.ClaimQueue.Remove(ctx, collections.Join(t.ClaimDeadline, t.Id)); err != nil {
		return err
	}
	em := sdk.UnwrapSDKContext(ctx).EventManager()
	if t.Untrainable != "" {
		t.Status = types.TASK_STATUS_UNTRAINABLE
		return em.EmitTypedEvent(&types.EventTaskExpired{TaskId: t.Id, Refund: refund.String()})
	}
	if t.Verified > 0 {
		t.Status = types.TASK_STATUS_COMPLETED
		return em.EmitTypedEvent(&types.EventTaskCompleted{TaskId: t.Id, Verified: t.Verified})
	}
	t.Status = types.TASK_STATUS_EXPIRED
	return em.EmitTypedEvent(&types.EventTaskExpired{TaskId: t.Id, Refund: refund.String()})
}

// closeClaimsIfSealed closes a task's claims once every claim it holds has
// sealed its transcript (and at least one has): transcripts may then open,
// the requester may reveal its secret, and no new claim can copy an opened
// transcript. x/verification gives every sealed transcript its open deadline.
func (k Keeper) closeClaimsIfSealed(ctx context.Context, t *types.Task) error {
	if t.ClaimsClosed {
		return nil
	}
	var unsealed, sealed uint32
	err := k.Assignments.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](t.Id),
		func(_ collections.Pair[uint64, sdk.AccAddress], a types.Assignment) (bool, error) {
			switch a.Status {
			case types.ASSIGNMENT_STATUS_ACTIVE:
				unsealed++
			case types.ASSIGNMENT_STATUS_COMMITTED:
				sealed++
			}
			return false, nil
		})
	if err != nil || unsealed > 0 || sealed == 0 {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	t.ClaimsClosed = true
	t.SealedAt = sdkCtx.BlockTime()
	refreshStatus(t, t.SealedAt)
	deadline, err := (*k.verification).OnClaimsClosed(ctx, t.Id)
	if err != nil {
		return err
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventClaimsClosed{TaskId: t.Id, OpenDeadline: deadline, Sealed: sealed})
}

// claimResolved moves a task on after one of its claims left flight (failed,
// abandoned, verified, untrainable; t.Active already counts it out): the
// remaining claims may now all be sealed; a task whose claims closed but
// whose every transcript failed reopens (with the requester's next secret,
// since the revealed one is spent); and a task with nothing left to do closes.
func (k Keeper) claimResolved(ctx context.Context, t *types.Task, worker sdk.AccAddress) error {
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	if err := k.closeClaimsIfSealed(ctx, t); err != nil {
		return err
	}
	if t.ClaimsClosed && t.Active == 0 && t.Verified == 0 && t.Untrainable == "" {
		t.ClaimsClosed = false
		t.SealedAt = time.Time{}
		if len(t.Secret) != 0 {
			t.SecretHash, t.Secret, t.NextSecretHash = t.NextSecretHash, nil, nil
		}
	}
	was := t.Status
	refreshStatus(t, now)
	if t.Status == types.TASK_STATUS_OPEN && was != types.TASK_STATUS_OPEN {
		if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventTaskReopened{TaskId: t.Id, FailedWorker: worker.String()}); err != nil {
			return err
		}
	}
	return k.maybeClose(ctx, t)
}

// GetParams returns the current params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) { return k.Params.Get(ctx) }
