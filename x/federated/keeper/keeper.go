// Package keeper implements x/federated: federated jobs, rounds of local
// training verified by sampled recomputation (pkg/recompute, like tasks),
// FedAvg aggregates verified chunk by chunk against Merkle-rooted model
// hashes (pkg/federated), a fraud window over the other chunks, and
// settlement through x/rewards custody.
package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/federated/types"
	"github.com/hinterland-ai/hinterland/x/internal/addresses"
)

// RoundKey is (job, round); UpdateKey (job, round, participant);
// ChallengeKey (job, round, chunk).
type (
	RoundKey     = collections.Pair[uint64, uint32]
	UpdateKey    = collections.Triple[uint64, uint32, sdk.AccAddress]
	ChallengeKey = collections.Triple[uint64, uint32, uint64]
)

// Keeper of x/federated.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	authKeeper   types.AccountKeeper
	rewards      types.RewardsKeeper
	verification types.VerificationKeeper
	tasks        types.TasksKeeper
	authority    string

	Schema     collections.Schema
	Params     collections.Item[types.Params]
	Jobs       *collections.IndexedMap[uint64, types.FederatedJob, JobIndexes]
	NextJob    collections.Sequence
	Rounds     collections.Map[RoundKey, types.Round]
	Updates    collections.Map[UpdateKey, types.Update]
	Challenges collections.Map[ChallengeKey, types.ChunkChallenge]
	// DeadlineQueue holds (deadline, job) of each running job's current
	// round phase.
	DeadlineQueue collections.KeySet[collections.Pair[time.Time, uint64]]
	// Models maps a global model hash to (job, the round it starts): a job's
	// final model starts round `rounds`.
	Models collections.Map[[]byte, collections.Pair[uint64, uint32]]
}

// JobIndexes index jobs by status.
type JobIndexes struct {
	Status *indexes.Multi[int32, uint64, types.FederatedJob]
}

// IndexesList implements collections.Indexes.
func (i JobIndexes) IndexesList() []collections.Index[uint64, types.FederatedJob] {
	return []collections.Index[uint64, types.FederatedJob]{i.Status}
}

// NewKeeper builds the keeper.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, ak types.AccountKeeper, rk types.RewardsKeeper,
	vk types.VerificationKeeper, tk types.TasksKeeper, authority string,
) Keeper {
	if _, err := ak.AddressCodec().StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid federated authority address: %w", err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc: cdc, storeService: storeService, authKeeper: ak, rewards: rk, verification: vk, tasks: tk, authority: authority,
		Params: collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Jobs: collections.NewIndexedMap(sb, types.JobsKey, "jobs", collections.Uint64Key, codec.CollValue[types.FederatedJob](cdc),
			JobIndexes{Status: indexes.NewMulti(sb, types.StatusIndexKey, "jobs_by_status", collections.Int32Key, collections.Uint64Key,
				func(_ uint64, j types.FederatedJob) (int32, error) { return int32(j.Status), nil })}),
		NextJob: collections.NewSequence(sb, types.NextJobKey, "next_job"),
		Rounds: collections.NewMap(sb, types.RoundsKey, "rounds",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key), codec.CollValue[types.Round](cdc)),
		Updates: collections.NewMap(sb, types.UpdatesKey, "updates",
			collections.TripleKeyCodec(collections.Uint64Key, collections.Uint32Key, sdk.AccAddressKey), codec.CollValue[types.Update](cdc)),
		Challenges: collections.NewMap(sb, types.ChallengesKey, "challenges",
			collections.TripleKeyCodec(collections.Uint64Key, collections.Uint32Key, collections.Uint64Key), codec.CollValue[types.ChunkChallenge](cdc)),
		DeadlineQueue: collections.NewKeySet(sb, types.DeadlineQueueKey, "deadline_queue",
			collections.PairKeyCodec(sdk.TimeKey, collections.Uint64Key)),
		Models: collections.NewMap(sb, types.ModelsKey, "models", collections.BytesKey,
			collcodec.KeyToValueCodec(collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key))),
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
func (k Keeper) GetJob(ctx context.Context, id uint64) (types.FederatedJob, error) {
	j, err := k.Jobs.Get(ctx, id)
	if err != nil {
		return types.FederatedJob{}, errorsmod.Wrapf(types.ErrJobNotFound, "job %d", id)
	}
	return j, nil
}

// GetRound returns a round or ErrWrongRound.
func (k Keeper) GetRound(ctx context.Context, job uint64, round uint32) (types.Round, error) {
	r, err := k.Rounds.Get(ctx, collections.Join(job, round))
	if err != nil {
		return types.Round{}, errorsmod.Wrapf(types.ErrWrongRound, "job %d has no round %d", job, round)
	}
	return r, nil
}

func (k Keeper) decodeAddress(field, addr string) (sdk.AccAddress, string, error) {
	return addresses.Decode(k.authKeeper.AddressCodec(), field, addr, types.ErrInvalidAddress)
}

// roundUpdates returns a round's updates in store order (participant
// address bytes): the order of a chunk reveal's update chunks.
func (k Keeper) roundUpdates(ctx context.Context, job uint64, round uint32) ([]types.Update, error) {
	var out []types.Update
	err := k.Updates.Walk(ctx, collections.NewSuperPrefixedTripleRange[uint64, uint32, sdk.AccAddress](job, round),
		func(_ UpdateKey, u types.Update) (bool, error) {
			out = append(out, u)
			return false, nil
		})
	return out, err
}

// accepted filters updates to the accepted ones, keeping their order.
func accepted(us []types.Update) []types.Update {
	var out []types.Update
	for _, u := range us {
		if u.Status == types.UPDATE_STATUS_ACCEPTED {
			out = append(out, u)
		}
	}
	return out
}

// setDeadline moves a job's queue entry from the round's old deadline to t.
func (k Keeper) setDeadline(ctx context.Context, r *types.Round, t time.Time) error {
	if !r.Deadline.IsZero() {
		if err := k.DeadlineQueue.Remove(ctx, collections.Join(r.Deadline, r.JobId)); err != nil {
			return err
		}
	}
	r.Deadline = t
	return k.DeadlineQueue.Set(ctx, collections.Join(t, r.JobId))
}

func (k Keeper) clearDeadline(ctx context.Context, r *types.Round) error {
	if r.Deadline.IsZero() {
		return nil
	}
	return k.DeadlineQueue.Remove(ctx, collections.Join(r.Deadline, r.JobId))
}

func (k Keeper) setRound(ctx context.Context, r types.Round) error {
	return k.Rounds.Set(ctx, collections.Join(r.JobId, r.Round), r)
}

func (k Keeper) setUpdate(ctx context.Context, u types.Update) error {
	addr, err := k.authKeeper.AddressCodec().StringToBytes(u.Participant)
	if err != nil {
		return err
	}
	return k.Updates.Set(ctx, collections.Join3(u.JobId, u.Round, sdk.AccAddress(addr)), u)
}
