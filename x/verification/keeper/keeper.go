// Package keeper implements x/verification: transcripts, the challenge draw,
// in-consensus recomputation of revealed segments, the fraud window, replica
// disputes and verdicts.
package keeper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/x/internal/metrics"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// TranscriptKey is (task, worker).
type TranscriptKey = collections.Pair[uint64, sdk.AccAddress]

// ChallengeKey is (task, worker, segment).
type ChallengeKey = collections.Triple[uint64, sdk.AccAddress, uint32]

// DeadlineKey is (time, task, worker).
type DeadlineKey = collections.Triple[time.Time, uint64, sdk.AccAddress]

// Keeper of x/verification.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	authKeeper   types.AccountKeeper
	tasks        types.TasksKeeper
	rewards      types.RewardsKeeper
	authority    string

	Schema      collections.Schema
	Params      collections.Item[types.Params]
	Transcripts collections.Map[TranscriptKey, types.Transcript]
	Challenges  collections.Map[ChallengeKey, types.Challenge]
	// Verdicts by id, indexed by task.
	Verdicts    *collections.IndexedMap[uint64, types.Verdict, VerdictIndexes]
	NextVerdict collections.Sequence
	DrawQueue   collections.KeySet[collections.Triple[int64, uint64, sdk.AccAddress]]
	RevealQueue collections.KeySet[DeadlineKey]
	FraudQueue  collections.KeySet[DeadlineKey]
	// Sealed fraud challenges by (task, worker, commitment).
	ChallengeSeals collections.Map[SealKey, types.ChallengeSeal]
	// Gas of the reveals owed for pending challenges: reveal deadlines are
	// extended by the blocks this needs.
	PendingRevealGas collections.Item[uint64]
}

// SealKey is (task, worker, commitment).
type SealKey = collections.Triple[uint64, sdk.AccAddress, []byte]

// NewKeeper builds the keeper.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, ak types.AccountKeeper, tk types.TasksKeeper, rk types.RewardsKeeper, authority string) Keeper {
	if _, err := ak.AddressCodec().StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid verification authority address: %w", err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	deadlineKey := collections.TripleKeyCodec(sdk.TimeKey, collections.Uint64Key, sdk.AccAddressKey)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		authKeeper:   ak,
		tasks:        tk,
		rewards:      rk,
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Transcripts: collections.NewMap(sb, types.TranscriptsKey, "transcripts",
			collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey), codec.CollValue[types.Transcript](cdc)),
		Challenges: collections.NewMap(sb, types.ChallengesKey, "challenges",
			collections.TripleKeyCodec(collections.Uint64Key, sdk.AccAddressKey, collections.Uint32Key), codec.CollValue[types.Challenge](cdc)),
		Verdicts: collections.NewIndexedMap(sb, types.VerdictsKey, "verdicts", collections.Uint64Key,
			codec.CollValue[types.Verdict](cdc), newVerdictIndexes(sb)),
		NextVerdict: collections.NewSequence(sb, types.NextVerdictKey, "next_verdict"),
		DrawQueue: collections.NewKeySet(sb, types.DrawQueueKey, "draw_queue",
			collections.TripleKeyCodec(collections.Int64Key, collections.Uint64Key, sdk.AccAddressKey)),
		RevealQueue: collections.NewKeySet(sb, types.RevealQueueKey, "reveal_queue", deadlineKey),
		FraudQueue:  collections.NewKeySet(sb, types.FraudQueueKey, "fraud_queue", deadlineKey),
		ChallengeSeals: collections.NewMap(sb, types.ChallengeSealsKey, "challenge_seals",
			collections.TripleKeyCodec(collections.Uint64Key, sdk.AccAddressKey, collections.BytesKey), codec.CollValue[types.ChallengeSeal](cdc)),
		PendingRevealGas: collections.NewItem(sb, types.PendingRevealGasKey, "pending_reveal_gas", collections.Uint64Value),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// VerdictIndexes index the verdicts by task.
type VerdictIndexes struct {
	Task *indexes.Multi[uint64, uint64, types.Verdict]
}

// IndexesList implements collections.Indexes.
func (i VerdictIndexes) IndexesList() []collections.Index[uint64, types.Verdict] {
	return []collections.Index[uint64, types.Verdict]{i.Task}
}

func newVerdictIndexes(sb *collections.SchemaBuilder) VerdictIndexes {
	return VerdictIndexes{Task: indexes.NewMulti(sb, types.TaskVerdictKey, "verdicts_by_task", collections.Uint64Key,
		collections.Uint64Key, func(_ uint64, v types.Verdict) (uint64, error) { return v.TaskId, nil })}
}

// CheckRevealable tells whether every segment of a task with this spec and
// dataset can be revealed and recomputed within the current per-reveal limits
// (x/tasks asks when the task is posted).
func (k Keeper) CheckRevealable(ctx context.Context, spec taskstypes.TrainingSpec, d taskstypes.DatasetRef) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	c, err := recompute.WorstSegmentCost(spec, d)
	if err != nil {
		return err
	}
	return c.Check(params)
}

// Authority is the address allowed to update params.
func (k Keeper) Authority() string { return k.authority }

// GetTranscript returns a transcript or ErrTranscriptNotFound.
func (k Keeper) GetTranscript(ctx context.Context, taskID uint64, worker sdk.AccAddress) (types.Transcript, error) {
	t, err := k.Transcripts.Get(ctx, collections.Join(taskID, worker))
	if err != nil {
		return types.Transcript{}, errorsmod.Wrapf(types.ErrTranscriptNotFound, "task %d worker %s", taskID, worker)
	}
	return t, nil
}

// pendingChallenges lists a transcript's pending challenges by segment.
func (k Keeper) pendingChallenges(ctx context.Context, taskID uint64, worker sdk.AccAddress) ([]types.Challenge, error) {
	var out []types.Challenge
	rng := collections.NewSuperPrefixedTripleRange[uint64, sdk.AccAddress, uint32](taskID, worker)
	err := k.Challenges.Walk(ctx, rng, func(_ ChallengeKey, c types.Challenge) (bool, error) {
		if c.Status == types.CHALLENGE_STATUS_PENDING {
			out = append(out, c)
		}
		return false, nil
	})
	return out, err
}

// addVerdict records a decision.
func (k Keeper) addVerdict(ctx context.Context, v types.Verdict) error {
	id, err := k.NextVerdict.Next(ctx)
	if err != nil {
		return err
	}
	v.Id = id
	v.Height = sdk.UnwrapSDKContext(ctx).BlockHeight()
	metrics.Count(types.ModuleName, "verdicts", "outcome", v.Outcome.String())
	return k.Verdicts.Set(ctx, id, v)
}

// addChallenge stores a pending challenge and schedules its deadline. Its
// gas (c.Gas) must already be reserved (reserveRevealGas).
func (k Keeper) addChallenge(ctx context.Context, c types.Challenge, worker sdk.AccAddress) error {
	c.Status = types.CHALLENGE_STATUS_PENDING
	c.CreatedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.Challenges.Set(ctx, collections.Join3(c.TaskId, worker, c.Segment), c); err != nil {
		return err
	}
	return k.RevealQueue.Set(ctx, collections.Join3(c.Deadline, c.TaskId, worker))
}

func containsSegment(list []uint32, s uint32) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// answerGas is the gas of the largest well-formed reveal of a task's segment:
// what an honest worker pays to answer a challenge on it.
func answerGas(task taskstypes.Task, segment uint32, params types.Params) uint64 {
	c, err := recompute.SegmentCost(task.Spec, task.Dataset, uint64(segment))
	if err != nil {
		return params.MaxGasPerReveal
	}
	return c.MaxGas(params)
}

// reserveRevealGas counts gas more of reveals owed and returns their
// deadline: the reveal window, extended by the blocks that every reveal owed
// so far needs at half of a block's max_gas each. A flood of challenges (paid
// for with bonds) therefore lengthens the windows instead of crowding the
// honest answers out of the blocks they need.
func (k Keeper) reserveRevealGas(ctx context.Context, params types.Params, gas uint64) (time.Time, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	pending, err := k.PendingRevealGas.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return time.Time{}, err
	}
	pending = satAdd(pending, gas)
	if err := k.PendingRevealGas.Set(ctx, pending); err != nil {
		return time.Time{}, err
	}
	perBlock := uint64(types.CalibratedMaxBlockGas / 2)
	if cp := sdkCtx.ConsensusParams(); cp.Block != nil && cp.Block.MaxGas > 0 {
		perBlock = uint64(cp.Block.MaxGas) / 2
	}
	blocks := pending/perBlock + 1
	extra := time.Duration(blocks) * params.BlockTime
	if blocks > uint64(365*24*time.Hour/params.BlockTime) {
		extra = 365 * 24 * time.Hour
	}
	return sdkCtx.BlockTime().Add(params.RevealWindow + extra), nil
}

// releaseRevealGas stops counting a challenge that is no longer pending.
func (k Keeper) releaseRevealGas(ctx context.Context, gas uint64) error {
	pending, err := k.PendingRevealGas.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	if gas > pending {
		gas = pending
	}
	return k.PendingRevealGas.Set(ctx, pending-gas)
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// GetParams returns the recomputation limits and gas prices (x/federated
// holds its segment reveals to them too).
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) { return k.Params.Get(ctx) }
