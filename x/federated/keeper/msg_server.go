package keeper

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// PostJob validates a job, escrows its budget and opens round 0.
func (m msgServer) PostJob(ctx context.Context, msg *types.MsgPostJob) (*types.MsgPostJobResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerByte*uint64(msg.Size()), "federated: job bytes")
	requester, requesterAddr, err := m.decodeAddress("requester", msg.Requester)
	if err != nil {
		return nil, err
	}
	es, chunks, err := m.validateJob(ctx, msg, params)
	if err != nil {
		return nil, err
	}
	tasksParams, err := m.tasks.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	id, err := m.NextJob.Next(ctx)
	if err != nil {
		return nil, err
	}
	seed := types.DrawSeed("seed", sdkCtx.HeaderHash(), id, 0)
	global := msg.InitialModelHash
	if len(global) == 0 {
		var s [32]byte
		copy(s[:], seed)
		h, err := engine.InitialModelHash(engine.Job{Spec: es, Seed: s, RowCount: 1}, msg.Spec.BaseModelHash)
		if err != nil {
			return nil, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
		}
		global = h[:]
	}
	if err := m.rewards.LockJobEscrow(ctx, types.CustodyID(id), requester, msg.Budget); err != nil {
		return nil, err
	}
	job := types.FederatedJob{
		Id: id, Requester: requesterAddr, Spec: msg.Spec, Seed: seed,
		InitialModelHash: msg.InitialModelHash, InitialModelUri: msg.InitialModelUri,
		Dataset: msg.Dataset, Shards: msg.Shards, Rounds: msg.Rounds,
		MinParticipants: msg.MinParticipants, MaxParticipants: msg.MaxParticipants,
		SamplesPerUpdate: msg.SamplesPerUpdate, ChunkSamples: msg.ChunkSamples,
		PayPerUpdate: msg.PayPerUpdate, PayPerAggregation: msg.PayPerAggregation, Bond: msg.Bond, Budget: msg.Budget,
		TrainWindow: msg.TrainWindow, RevealWindow: msg.RevealWindow, FraudWindow: msg.FraudWindow,
		Status: types.JOB_STATUS_RUNNING, GlobalModelHash: global, PostedHeight: sdkCtx.BlockHeight(), Chunks: chunks,
		ChallengeBond: jobChallengeBond(params, tasksParams, msg.MaxParticipants, chunks, msg.Bond.Denom),
	}
	if err := m.Jobs.Set(ctx, id, job); err != nil {
		return nil, err
	}
	if err := m.openRound(ctx, &job, 0); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventJobPosted{
		JobId: id, Requester: requesterAddr, Rounds: msg.Rounds, Budget: msg.Budget.String(), GlobalModelHash: global,
	}); err != nil {
		return nil, err
	}
	return &types.MsgPostJobResponse{JobId: id, GlobalModelHash: global}, nil
}

// jobChallengeBond is challengeBond in the job's denom: the native denom at
// the module's challenge_gas_price, another at its accepted_denoms terms
// (challenge_gas_price, and at least its min_challenge_bond).
func jobChallengeBond(p types.Params, tp taskstypes.Params, participants uint32, chunks uint64, denom string) sdk.Coin {
	terms, ok := tp.Terms(denom)
	if !ok || denom == tp.Denom {
		return challengeBond(p, participants, chunks, denom)
	}
	p.ChallengeGasPrice = terms.ChallengeGasPrice
	c := challengeBond(p, participants, chunks, denom)
	c.Amount = sdkmath.MaxInt(c.Amount, terms.MinChallengeBond)
	return c
}

// challengeBond sizes a chunk challenge's bond to the aggregator's answer:
// factor x (the largest chunk reveal's gas + its bytes + a transaction's
// overhead) x price.
func challengeBond(p types.Params, participants uint32, chunks uint64, denom string) sdk.Coin {
	depth := uint64(0)
	for n := uint64(1); n < chunks+1; n *= 2 {
		depth++
	}
	n := uint64(participants)
	gas := p.ChunkRevealGas(n, engine.ChunkParams, depth)
	bytes := (n + 1) * (engine.ChunkParams*5 + depth*34 + 16)
	gas += bytes*(p.GasPerByte+recompute.TxSizeGasPerByte) + recompute.RevealTxOverheadGas
	need := p.ChallengeGasPrice.MulInt(sdkmath.NewIntFromUint64(gas)).MulInt64(int64(p.ChallengeBondFactor)).Ceil().TruncateInt()
	return sdk.NewCoin(denom, sdkmath.MaxInt(need, sdkmath.OneInt()))
}

// validateJob checks every field of a job before any state is touched.
func (m msgServer) validateJob(ctx context.Context, msg *types.MsgPostJob, params types.Params) (engine.Spec, uint64, error) {
	tp, err := m.tasks.GetParams(ctx)
	if err != nil {
		return engine.Spec{}, 0, err
	}
	es, err := msg.Spec.EngineSpec()
	if err != nil {
		return es, 0, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
	}
	if n := es.Arch().ParamCount(); n > tp.MaxParams {
		return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "model has %d parameters, more than max_params %d", n, tp.MaxParams)
	}
	if err := msg.Spec.ValidateSchedule(tp); err != nil {
		return es, 0, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
	}
	if msg.Spec.BaseLoraRank != 0 {
		// The global model of a round is a LoRA state on a dense base;
		// stacked bases are for tasks.
		return es, 0, errorsmod.Wrap(types.ErrInvalidJob, "base_lora_rank: federated jobs fine-tune dense bases only (base_lora_rank must be 0)")
	}
	switch {
	case msg.Rounds == 0 || msg.Rounds > params.MaxRounds:
		return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "rounds %d must be in 1..%d", msg.Rounds, params.MaxRounds)
	case msg.MinParticipants == 0 || msg.MinParticipants > msg.MaxParticipants || msg.MaxParticipants > params.MaxParticipants:
		return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "participants %d..%d must satisfy 1 <= min <= max <= %d", msg.MinParticipants, msg.MaxParticipants, params.MaxParticipants)
	case msg.SamplesPerUpdate == 0 || msg.SamplesPerUpdate > params.MaxSamplesPerUpdate || uint64(msg.SamplesPerUpdate) > msg.Spec.Segments():
		return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "samples_per_update %d must be in 1..min(%d, %d segments)", msg.SamplesPerUpdate, params.MaxSamplesPerUpdate, msg.Spec.Segments())
	}
	chunks := engine.ChunkCount(es.TrainableParams())
	if msg.ChunkSamples == 0 || msg.ChunkSamples > params.MaxChunkSamples || uint64(msg.ChunkSamples) > chunks {
		return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "chunk_samples %d must be in 1..min(%d, %d chunks)", msg.ChunkSamples, params.MaxChunkSamples, chunks)
	}
	for _, w := range []struct {
		name string
		d    time.Duration
	}{{"train_window", msg.TrainWindow}, {"reveal_window", msg.RevealWindow}, {"fraud_window", msg.FraudWindow}} {
		if w.d < params.MinWindow || w.d > params.MaxWindow {
			return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "%s %s must be in %s..%s", w.name, w.d, params.MinWindow, params.MaxWindow)
		}
	}
	if len(msg.InitialModelHash) != 0 {
		if len(msg.InitialModelHash) != types.HashLen {
			return es, 0, errorsmod.Wrapf(types.ErrInvalidHash, "initial_model_hash must be %d bytes", types.HashLen)
		}
		if err := taskstypes.ValidateURI("initial_model_uri", msg.InitialModelUri, tp.MaxUriLength); err != nil {
			return es, 0, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
		}
	}
	if msg.Shards > 0 {
		if msg.Shards < msg.MaxParticipants {
			return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "%d shards cannot serve %d participants (one shard each per round)", msg.Shards, msg.MaxParticipants)
		}
		if err := msg.Dataset.Validate(es, tp); err != nil {
			return es, 0, errorsmod.Wrap(types.ErrDatasetMismatch, err.Error())
		}
		if msg.Dataset.AnnotationJob != 0 {
			return es, 0, errorsmod.Wrap(types.ErrInvalidJob, "federated jobs train packed datasets, not annotation jobs")
		}
		if msg.Dataset.Rows/uint64(msg.Shards) < uint64(es.BatchSize) {
			return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "shards of %d rows are smaller than batch_size %d", msg.Dataset.Rows/uint64(msg.Shards), es.BatchSize)
		}
		if err := m.verification.CheckRevealable(ctx, msg.Spec, msg.Dataset); err != nil {
			return es, 0, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
		}
	} else {
		// Bring your own data: the job fixes the schema only.
		ds, err := msg.Dataset.Schema.DatasetSchema()
		if err != nil {
			return es, 0, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
		}
		if err := ds.Compatible(es); err != nil {
			return es, 0, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
		}
		if len(msg.Dataset.Root) != 0 || msg.Dataset.Rows != 0 {
			return es, 0, errorsmod.Wrap(types.ErrInvalidJob, "a bring-your-own-data job (shards = 0) names only the row schema; participants commit their data roots")
		}
	}
	ds, err := msg.Dataset.Schema.DatasetSchema()
	if err != nil {
		return es, 0, errorsmod.Wrap(types.ErrInvalidJob, err.Error())
	}
	if err := engine.CheckTrainable(es, msg.Spec.TotalSteps, rowFormat(ds)); err != nil {
		return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "the engine cannot train this job: %s", err)
	}
	// One denom for all of a job's coins: the native one or one on x/tasks'
	// accepted_denoms (an IBC voucher, say).
	denom := msg.Budget.Denom
	if _, ok := tp.Terms(denom); !ok {
		return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "budget denom %q is not accepted; accepted: %s", denom, strings.Join(tp.AcceptedDenomNames(), ", "))
	}
	for _, c := range []struct {
		name string
		c    sdk.Coin
	}{{"pay_per_update", msg.PayPerUpdate}, {"pay_per_aggregation", msg.PayPerAggregation}, {"bond", msg.Bond}, {"budget", msg.Budget}} {
		if !c.c.IsValid() || !c.c.IsPositive() || c.c.Denom != denom {
			return es, 0, errorsmod.Wrapf(types.ErrInvalidJob, "%s %s must be a positive amount of %s", c.name, c.c, denom)
		}
	}
	// Amounts are up to 256 bits: the products are checked, never allowed
	// to panic.
	need, err := msg.PayPerUpdate.Amount.SafeMul(sdkmath.NewInt(int64(msg.MaxParticipants)))
	if err == nil {
		need, err = need.SafeAdd(msg.PayPerAggregation.Amount)
	}
	if err == nil {
		need, err = need.SafeMul(sdkmath.NewInt(int64(msg.Rounds)))
	}
	if err != nil {
		return es, 0, errorsmod.Wrapf(types.ErrUnderfunded, "%d rounds x (%d x %s + %s) overflows: %s", msg.Rounds, msg.MaxParticipants, msg.PayPerUpdate, msg.PayPerAggregation, err)
	}
	if msg.Budget.Amount.LT(need) {
		return es, 0, errorsmod.Wrapf(types.ErrUnderfunded, "budget %s < %d rounds x (%d x %s + %s) = %s%s",
			msg.Budget, msg.Rounds, msg.MaxParticipants, msg.PayPerUpdate, msg.PayPerAggregation, need, denom)
	}
	return es, chunks, nil
}

func rowFormat(ds dataset.Schema) engine.RowFormat {
	return engine.RowFormat{FixedPoint: ds.Feature == dataset.FeatureFixed32 || ds.Kind == dataset.KindRegression, FracBits: ds.FracBits}
}

// current returns the job and its current round, checking that msgRound is
// the round now running.
func (m msgServer) current(ctx context.Context, jobID uint64, msgRound uint32) (types.FederatedJob, types.Round, error) {
	job, err := m.GetJob(ctx, jobID)
	if err != nil {
		return job, types.Round{}, err
	}
	if job.Status != types.JOB_STATUS_RUNNING {
		return job, types.Round{}, errorsmod.Wrapf(types.ErrWrongPhase, "job %d is %s", jobID, job.Status)
	}
	if msgRound != job.CurrentRound {
		return job, types.Round{}, errorsmod.Wrapf(types.ErrWrongRound, "job %d is in round %d, not %d", jobID, job.CurrentRound, msgRound)
	}
	r, err := m.GetRound(ctx, jobID, msgRound)
	return job, r, err
}

func wantPhase(r types.Round, phases ...types.RoundPhase) error {
	if slices.Contains(phases, r.Phase) {
		return nil
	}
	return errorsmod.Wrapf(types.ErrWrongPhase, "job %d round %d is %s; this needs %v", r.JobId, r.Round, r.Phase, phases)
}

// beforeDeadline refuses a message sent once the round's phase deadline has
// passed, even if the end blocker has not moved the round yet.
func beforeDeadline(ctx context.Context, r types.Round) error {
	if now := sdk.UnwrapSDKContext(ctx).BlockTime(); !now.Before(r.Deadline) {
		return errorsmod.Wrapf(types.ErrWrongPhase, "job %d round %d: the %s deadline %s has passed", r.JobId, r.Round, r.Phase, r.Deadline)
	}
	return nil
}

// JoinRound locks a participant's bond on a shard (or its own data) of the
// current round.
func (m msgServer) JoinRound(ctx context.Context, msg *types.MsgJoinRound) (*types.MsgJoinRoundResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerByte*uint64(msg.Size()), "federated: join bytes")
	p, pAddr, err := m.decodeAddress("participant", msg.Participant)
	if err != nil {
		return nil, err
	}
	job, r, err := m.current(ctx, msg.JobId, msg.Round)
	if err != nil {
		return nil, err
	}
	if err := wantPhase(r, types.ROUND_PHASE_TRAINING); err != nil {
		return nil, err
	}
	if !sdkCtx.BlockTime().Before(r.Deadline) {
		return nil, errorsmod.Wrapf(types.ErrWrongPhase, "job %d round %d closed for training at %s", job.Id, r.Round, r.Deadline)
	}
	if pAddr == job.Requester {
		return nil, errorsmod.Wrapf(types.ErrOwnJob, "job %d", job.Id)
	}
	if has, err := m.Updates.Has(ctx, collections.Join3(job.Id, r.Round, p)); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrAlreadyJoined, "job %d round %d participant %s", job.Id, r.Round, pAddr)
	}
	if r.Joined >= job.MaxParticipants {
		return nil, errorsmod.Wrapf(types.ErrRoundFull, "job %d round %d has %d participants", job.Id, r.Round, r.Joined)
	}
	u := types.Update{JobId: job.Id, Round: r.Round, Participant: pAddr, Status: types.UPDATE_STATUS_JOINED, Bond: job.Bond}
	if job.Shards > 0 {
		if msg.Shard >= job.Shards {
			return nil, errorsmod.Wrapf(types.ErrBadShard, "shard %d of %d", msg.Shard, job.Shards)
		}
		if len(msg.Dataset.Root) != 0 && (!bytes.Equal(msg.Dataset.Root, job.Dataset.Root) || msg.Dataset.Rows != job.Dataset.Rows || msg.Dataset.Schema != job.Dataset.Schema) {
			return nil, errorsmod.Wrapf(types.ErrDatasetMismatch, "job %d trains public shards of dataset %X; the join names %X", job.Id, job.Dataset.Root, msg.Dataset.Root)
		}
		us, err := m.roundUpdates(ctx, job.Id, r.Round)
		if err != nil {
			return nil, err
		}
		for _, o := range us {
			if o.Shard == msg.Shard {
				return nil, errorsmod.Wrapf(types.ErrBadShard, "shard %d is taken by %s this round", msg.Shard, o.Participant)
			}
		}
		lo, hi, err := federated.ShardRange(job.Dataset.Rows, job.Shards, msg.Shard)
		if err != nil {
			return nil, errorsmod.Wrap(types.ErrBadShard, err.Error())
		}
		u.Shard, u.Dataset, u.RowOffset, u.Examples = msg.Shard, job.Dataset, lo, hi-lo
	} else {
		if msg.Dataset.Schema != job.Dataset.Schema {
			return nil, errorsmod.Wrapf(types.ErrDatasetMismatch, "the data's schema %v is not the job's %v", msg.Dataset.Schema, job.Dataset.Schema)
		}
		tp, err := m.tasks.GetParams(ctx)
		if err != nil {
			return nil, err
		}
		es, err := job.Spec.EngineSpec()
		if err != nil {
			return nil, err
		}
		if msg.Dataset.AnnotationJob != 0 {
			return nil, errorsmod.Wrap(types.ErrDatasetMismatch, "annotation_job is not used by federated jobs")
		}
		if err := msg.Dataset.Validate(es, tp); err != nil {
			return nil, errorsmod.Wrap(types.ErrDatasetMismatch, err.Error())
		}
		if msg.Dataset.Rows > recompute.MaxDatasetRows {
			return nil, errorsmod.Wrapf(types.ErrDatasetMismatch, "%d rows, limit %d", msg.Dataset.Rows, recompute.MaxDatasetRows)
		}
		if err := m.verification.CheckRevealable(ctx, job.Spec, msg.Dataset); err != nil {
			return nil, errorsmod.Wrap(types.ErrDatasetMismatch, err.Error())
		}
		u.Dataset, u.Examples = msg.Dataset, msg.Dataset.Rows
	}
	if u.Examples > federated.MaxTotalWeight/uint64(job.MaxParticipants) {
		return nil, errorsmod.Wrapf(types.ErrDatasetMismatch, "%d examples; a participant may weigh at most %d", u.Examples, federated.MaxTotalWeight/uint64(job.MaxParticipants))
	}
	if err := m.rewards.LockStake(ctx, types.CustodyID(job.Id), p, job.Bond); err != nil {
		return nil, err
	}
	if err := m.setUpdate(ctx, u); err != nil {
		return nil, err
	}
	r.Joined++
	if err := m.setRound(ctx, r); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventJoined{JobId: job.Id, Round: r.Round, Participant: pAddr, Examples: u.Examples}); err != nil {
		return nil, err
	}
	return &types.MsgJoinRoundResponse{StartStateHash: r.StartStateHash, Examples: u.Examples}, nil
}

// participantUpdate loads the sender's update of the current round.
func (m msgServer) participantUpdate(ctx context.Context, sender string, jobID uint64, round uint32) (types.FederatedJob, types.Round, types.Update, error) {
	p, _, err := m.decodeAddress("participant", sender)
	if err != nil {
		return types.FederatedJob{}, types.Round{}, types.Update{}, err
	}
	job, r, err := m.current(ctx, jobID, round)
	if err != nil {
		return job, r, types.Update{}, err
	}
	u, err := m.Updates.Get(ctx, collections.Join3(jobID, round, p))
	if err != nil {
		return job, r, u, errorsmod.Wrapf(types.ErrNotParticipant, "job %d round %d: %s", jobID, round, sender)
	}
	return job, r, u, nil
}

// SealUpdate records a participant's sealed transcript.
func (m msgServer) SealUpdate(ctx context.Context, msg *types.MsgSealUpdate) (*types.MsgSealUpdateResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := m.chargeBytes(ctx, msg.Size(), "seal"); err != nil {
		return nil, err
	}
	job, r, u, err := m.participantUpdate(ctx, msg.Participant, msg.JobId, msg.Round)
	if err != nil {
		return nil, err
	}
	if err := wantPhase(r, types.ROUND_PHASE_TRAINING); err != nil {
		return nil, err
	}
	if err := beforeDeadline(ctx, r); err != nil {
		return nil, err
	}
	if u.Status != types.UPDATE_STATUS_JOINED {
		return nil, errorsmod.Wrapf(types.ErrWrongPhase, "the update is %s", u.Status)
	}
	if len(msg.Seal) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "seal must be %d bytes", types.HashLen)
	}
	u.Seal, u.Status = msg.Seal, types.UPDATE_STATUS_SEALED
	if err := m.setUpdate(ctx, u); err != nil {
		return nil, err
	}
	r.Sealed++
	if err := m.setRound(ctx, r); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventUpdateSealed{JobId: job.Id, Round: r.Round, Participant: u.Participant}); err != nil {
		return nil, err
	}
	return &types.MsgSealUpdateResponse{}, m.advance(ctx, job.Id)
}

// OpenUpdate checks an opened transcript against its seal, the round's start
// state and its final hashes, and draws its sampled segments.
func (m msgServer) OpenUpdate(ctx context.Context, msg *types.MsgOpenUpdate) (*types.MsgOpenUpdateResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerByte*uint64(msg.Size()), "federated: transcript bytes")
	job, r, u, err := m.participantUpdate(ctx, msg.Participant, msg.JobId, msg.Round)
	if err != nil {
		return nil, err
	}
	if err := wantPhase(r, types.ROUND_PHASE_OPENING); err != nil {
		return nil, err
	}
	if err := beforeDeadline(ctx, r); err != nil {
		return nil, err
	}
	if u.Status != types.UPDATE_STATUS_SEALED {
		return nil, errorsmod.Wrapf(types.ErrWrongPhase, "the update is %s", u.Status)
	}
	n := job.Spec.Segments()
	if uint64(len(msg.Checkpoints)) != n+1 {
		return nil, errorsmod.Wrapf(types.ErrBadTranscript, "%d checkpoints, a %d-segment run has %d", len(msg.Checkpoints), n, n+1)
	}
	for i, h := range msg.Checkpoints {
		if len(h) != types.HashLen {
			return nil, errorsmod.Wrapf(types.ErrBadTranscript, "checkpoint %d has %d bytes", i, len(h))
		}
	}
	if len(msg.Salt) != types.HashLen || len(msg.FinalModelHash) != types.HashLen || len(msg.FinalOptHash) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "salt and final hashes must be %d bytes", types.HashLen)
	}
	tp, err := m.tasks.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	if err := taskstypes.ValidateURI("uri", msg.Uri, tp.MaxUriLength); err != nil {
		return nil, errorsmod.Wrap(types.ErrBadTranscript, err.Error())
	}
	th := recompute.TranscriptHash(msg.Checkpoints)
	if seal := types.UpdateSeal(job.Id, r.Round, m.mustAddr(u.Participant), msg.Salt, th, msg.FinalModelHash, msg.FinalOptHash); !bytes.Equal(seal, u.Seal) {
		return nil, errorsmod.Wrapf(types.ErrBadSeal, "job %d round %d participant %s", job.Id, r.Round, u.Participant)
	}
	if !bytes.Equal(msg.Checkpoints[0], r.StartStateHash) {
		return nil, errorsmod.Wrapf(types.ErrWrongStartState, "h_0 is %X; round %d starts at %X (global model %X)", msg.Checkpoints[0], r.Round, r.StartStateHash, r.StartModelHash)
	}
	var fm, fo engine.Hash
	copy(fm[:], msg.FinalModelHash)
	copy(fo[:], msg.FinalOptHash)
	if last := engine.StateHashFrom(fm, fo, job.Spec.TotalSteps); !bytes.Equal(last[:], msg.Checkpoints[n]) {
		return nil, errorsmod.Wrapf(types.ErrBadTranscript, "h_%d %X is not the state of final model %X and optimiser %X at step %d", n, msg.Checkpoints[n], fm[:], fo[:], job.Spec.TotalSteps)
	}
	// The loss is reported, not verified: clamped to the int32 range so that
	// the round's weighted mean cannot overflow.
	loss := min(max(msg.ReportedLoss, math.MinInt32), math.MaxInt32)
	u.Checkpoints, u.FinalModelHash, u.FinalOptHash, u.Uri, u.ReportedLoss = msg.Checkpoints, msg.FinalModelHash, msg.FinalOptHash, msg.Uri, loss
	u.Status = types.UPDATE_STATUS_OPENED
	// The sample: from the hash of the block that includes this open, which
	// the participant cannot know when it signs.
	u.DrawSeed = types.DrawSeed("segments", sdkCtx.HeaderHash(), job.Id, r.Round, m.mustAddr(u.Participant), th)
	u.Sampled = recompute.DrawSegments(u.DrawSeed, n, job.SamplesPerUpdate)
	if err := m.setUpdate(ctx, u); err != nil {
		return nil, err
	}
	r.Opened++
	if err := m.setRound(ctx, r); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventUpdateOpened{JobId: job.Id, Round: r.Round, Participant: u.Participant, ReportedLoss: u.ReportedLoss}); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventSegmentsDrawn{JobId: job.Id, Round: r.Round, Participant: u.Participant, Segments: u.Sampled}); err != nil {
		return nil, err
	}
	return &types.MsgOpenUpdateResponse{}, m.advance(ctx, job.Id)
}

// RevealSegment recomputes one sampled segment of an update, exactly as a
// task's reveal is recomputed: a malformed reveal is an error that changes
// nothing; a segment that does not recompute to the committed hash rejects
// the update and slashes its bond.
func (m msgServer) RevealSegment(ctx context.Context, msg *types.MsgRevealSegment) (*types.MsgRevealSegmentResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	vp, err := m.verification.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(vp.GasPerRevealByte*uint64(msg.Size()), "federated: reveal bytes")
	job, r, u, err := m.participantUpdate(ctx, msg.Participant, msg.JobId, msg.Round)
	if err != nil {
		return nil, err
	}
	if err := wantPhase(r, types.ROUND_PHASE_OPENING, types.ROUND_PHASE_REVEALING); err != nil {
		return nil, err
	}
	if err := beforeDeadline(ctx, r); err != nil {
		return nil, err
	}
	if u.Status != types.UPDATE_STATUS_OPENED || !slices.Contains(u.Sampled, msg.Segment) || slices.Contains(u.Revealed, msg.Segment) {
		return nil, errorsmod.Wrapf(types.ErrNotSampled, "segment %d of %s's update (%s, sampled %v, revealed %v)", msg.Segment, u.Participant, u.Status, u.Sampled, u.Revealed)
	}
	w, err := m.updateWork(job, u)
	if err != nil {
		return nil, err
	}
	_, gas, err := recompute.WorkRevealGas(w, msg.Segment, len(msg.Rows), vp)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(gas, "federated: recompute segment")
	rc, err := recompute.PrepareSegment(w, u.Checkpoints, msg.Segment, msg.StartState, msg.Rows, msg.BaseModel, vp)
	if err != nil {
		return nil, err
	}
	match, _, meter, reason := rc.Run()
	r.RecomputedMacs += meter.MACs
	ev := &types.EventSegmentVerified{JobId: job.Id, Round: r.Round, Participant: u.Participant, Segment: msg.Segment, Passed: match, Macs: meter.MACs}
	resp := &types.MsgRevealSegmentResponse{Passed: match}
	if !match {
		ev.Reason = reason.Error()
		resp.Reason = ev.Reason
		if err := m.setRound(ctx, r); err != nil {
			return nil, err
		}
		if err := m.rejectUpdate(ctx, job, &u, types.UPDATE_STATUS_REJECTED, fmt.Sprintf("segment %d: %s", msg.Segment, reason)); err != nil {
			return nil, err
		}
	} else {
		u.Revealed = append(u.Revealed, msg.Segment)
		if len(u.Revealed) == len(u.Sampled) {
			es, err := job.Spec.EngineSpec()
			if err != nil {
				return nil, err
			}
			u.Status = types.UPDATE_STATUS_ACCEPTED
			r.Accepted++
			r.Examples += u.Examples
			r.TrainingMacs += engine.MACsPerStep(es) * job.Spec.TotalSteps
			if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventUpdateVerdict{JobId: job.Id, Round: r.Round, Participant: u.Participant, Status: u.Status}); err != nil {
				return nil, err
			}
		}
		if err := m.setUpdate(ctx, u); err != nil {
			return nil, err
		}
		if err := m.setRound(ctx, r); err != nil {
			return nil, err
		}
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(ev); err != nil {
		return nil, err
	}
	return resp, m.advance(ctx, job.Id)
}

// updateWork is the recomputation view of an update: its shard (or own
// data), its seed and its rows' offset.
func (k Keeper) updateWork(job types.FederatedJob, u types.Update) (recompute.Work, error) {
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return recompute.Work{}, err
	}
	p, err := k.authKeeper.AddressCodec().StringToBytes(u.Participant)
	if err != nil {
		return recompute.Work{}, errorsmod.Wrap(types.ErrInvalidAddress, err.Error())
	}
	return recompute.Work{
		What:      fmt.Sprintf("federated job %d round %d update of %s", job.Id, u.Round, u.Participant),
		Spec:      job.Spec,
		Dataset:   u.Dataset,
		Job:       engine.Job{Spec: es, Seed: federated.ParticipantSeed(job.Seed, u.Round, p), RowCount: u.Examples},
		RowOffset: u.RowOffset,
		BaseHash:  job.Spec.BaseModelHash,
	}, nil
}

// CommitAggregate records the next global model's root and draws the chunks
// to verify from the hash of the block that includes it.
func (m msgServer) CommitAggregate(ctx context.Context, msg *types.MsgCommitAggregate) (*types.MsgCommitAggregateResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := m.chargeBytes(ctx, msg.Size(), "aggregate commit"); err != nil {
		return nil, err
	}
	a, aAddr, err := m.decodeAddress("aggregator", msg.Aggregator)
	if err != nil {
		return nil, err
	}
	job, r, err := m.current(ctx, msg.JobId, msg.Round)
	if err != nil {
		return nil, err
	}
	if err := wantPhase(r, types.ROUND_PHASE_AGGREGATING); err != nil {
		return nil, err
	}
	if err := beforeDeadline(ctx, r); err != nil {
		return nil, err
	}
	u, err := m.Updates.Get(ctx, collections.Join3(job.Id, r.Round, a))
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrNotParticipant, "job %d round %d: %s", job.Id, r.Round, aAddr)
	}
	switch {
	case u.Status != types.UPDATE_STATUS_ACCEPTED:
		return nil, errorsmod.Wrapf(types.ErrNotAggregator, "%s's update is %s; only accepted participants aggregate", aAddr, u.Status)
	case slices.Contains(r.FailedAggregators, aAddr):
		return nil, errorsmod.Wrapf(types.ErrNotAggregator, "%s's aggregate already failed this round", aAddr)
	case r.Aggregator != "" && r.Aggregator != aAddr:
		return nil, errorsmod.Wrapf(types.ErrNotAggregator, "round %d's aggregator is %s until %s", r.Round, r.Aggregator, r.Deadline)
	}
	if len(msg.ModelHash) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "model_hash must be %d bytes", types.HashLen)
	}
	tp, err := m.tasks.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	if err := taskstypes.ValidateURI("uri", msg.Uri, tp.MaxUriLength); err != nil {
		return nil, errorsmod.Wrap(types.ErrBadChunk, err.Error())
	}
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return nil, err
	}
	var base, root engine.Hash
	copy(base[:], job.Spec.BaseModelHash)
	copy(root[:], msg.ModelHash)
	header, err := engine.ModelHeader(es, base)
	if err != nil {
		return nil, err
	}
	if len(msg.HeaderAunts) > 64 {
		return nil, errorsmod.Wrapf(types.ErrBadChunk, "%d header aunts", len(msg.HeaderAunts))
	}
	if err := engine.VerifyModelHeader(root, es.TrainableParams(), header, msg.HeaderAunts); err != nil {
		return nil, errorsmod.Wrap(types.ErrBadChunk, err.Error())
	}
	seed := types.DrawSeed("chunks", sdkCtx.HeaderHash(), job.Id, r.Round, msg.ModelHash)
	var drawn []uint64
	for _, c := range recompute.DrawSegments(seed, job.Chunks, job.ChunkSamples) {
		drawn = append(drawn, uint64(c))
	}
	r.Aggregate = types.Aggregate{Committer: aAddr, ModelHash: msg.ModelHash, Uri: msg.Uri, Height: sdkCtx.BlockHeight(), Drawn: drawn}
	r.Phase = types.ROUND_PHASE_CHUNKS
	if err := m.setDeadline(ctx, &r, sdkCtx.BlockTime().Add(job.RevealWindow)); err != nil {
		return nil, err
	}
	if err := m.setRound(ctx, r); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventAggregateCommitted{JobId: job.Id, Round: r.Round, Aggregator: aAddr, ModelHash: msg.ModelHash, Drawn: drawn}); err != nil {
		return nil, err
	}
	if err := m.phaseEvent(ctx, r, "aggregate committed"); err != nil {
		return nil, err
	}
	return &types.MsgCommitAggregateResponse{Drawn: drawn}, nil
}

// RevealChunk recomputes one chunk of the aggregate: the weighted mean of
// that chunk of every accepted update, each proven against the update's
// final model hash, must equal the aggregate's chunk, proven against the
// committed root. A malformed or unproven reveal is an error that changes
// nothing; a wrong mean fails the aggregator.
func (m msgServer) RevealChunk(ctx context.Context, msg *types.MsgRevealChunk) (*types.MsgRevealChunkResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerByte*uint64(msg.Size()), "federated: chunk bytes")
	_, aAddr, err := m.decodeAddress("aggregator", msg.Aggregator)
	if err != nil {
		return nil, err
	}
	job, r, err := m.current(ctx, msg.JobId, msg.Round)
	if err != nil {
		return nil, err
	}
	if err := wantPhase(r, types.ROUND_PHASE_CHUNKS, types.ROUND_PHASE_FRAUD_WINDOW); err != nil {
		return nil, err
	}
	if err := beforeDeadline(ctx, r); err != nil {
		return nil, err
	}
	if aAddr != r.Aggregate.Committer {
		return nil, errorsmod.Wrapf(types.ErrNotAggregator, "round %d's aggregate was committed by %s", r.Round, r.Aggregate.Committer)
	}
	challenged, err := m.Challenges.Has(ctx, collections.Join3(job.Id, r.Round, msg.Chunk))
	if err != nil {
		return nil, err
	}
	pendingDraw := r.Phase == types.ROUND_PHASE_CHUNKS && slices.Contains(r.Aggregate.Drawn, msg.Chunk)
	if slices.Contains(r.Aggregate.Verified, msg.Chunk) || (!pendingDraw && !challenged) {
		return nil, errorsmod.Wrapf(types.ErrChunkNotPending, "chunk %d of job %d round %d", msg.Chunk, job.Id, r.Round)
	}
	us, err := m.roundUpdates(ctx, job.Id, r.Round)
	if err != nil {
		return nil, err
	}
	acc := accepted(us)
	if len(msg.Updates) != len(acc) {
		return nil, errorsmod.Wrapf(types.ErrBadChunk, "%d update chunks; the round has %d accepted updates", len(msg.Updates), len(acc))
	}
	es, err := job.Spec.EngineSpec()
	if err != nil {
		return nil, err
	}
	nParams := es.TrainableParams()
	depth := uint64(len(msg.Aggregate.Aunts))
	// Every cost grows with the reveal: charged before any hash or sum.
	sdkCtx.GasMeter().ConsumeGas(params.ChunkRevealGas(uint64(len(acc)), engine.ChunkParams, depth), "federated: recompute chunk")
	check := func(root []byte, c types.ModelChunk, what string) error {
		var h engine.Hash
		copy(h[:], root)
		if err := engine.VerifyModelChunk(h, nParams, engine.ModelChunk{Index: msg.Chunk, Values: c.Values, Aunts: c.Aunts}); err != nil {
			return errorsmod.Wrapf(types.ErrBadChunk, "%s: %s", what, err)
		}
		return nil
	}
	if err := check(r.Aggregate.ModelHash, msg.Aggregate, "aggregate"); err != nil {
		return nil, err
	}
	weights := make([]uint64, len(acc))
	values := make([][]int32, len(acc))
	for i, u := range acc {
		if err := check(u.FinalModelHash, msg.Updates[i], "update of "+u.Participant); err != nil {
			return nil, err
		}
		weights[i], values[i] = u.Examples, msg.Updates[i].Values
	}
	mean, err := federated.Mean(weights, values)
	if err != nil {
		return nil, errorsmod.Wrap(types.ErrBadChunk, err.Error())
	}
	r.AggregationOps += uint64(len(acc)) * uint64(len(mean))
	passed := slices.Equal(mean, msg.Aggregate.Values)
	reason := ""
	if !passed {
		for j := range mean {
			if mean[j] != msg.Aggregate.Values[j] {
				reason = fmt.Sprintf("chunk %d parameter %d: the weighted mean is %d, the aggregate has %d", msg.Chunk, j, mean[j], msg.Aggregate.Values[j])
				break
			}
		}
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventChunkVerified{JobId: job.Id, Round: r.Round, Chunk: msg.Chunk, Passed: passed, Reason: reason}); err != nil {
		return nil, err
	}
	if !passed {
		if err := m.setRound(ctx, r); err != nil {
			return nil, err
		}
		var catcher sdk.AccAddress
		if challenged {
			ch, err := m.Challenges.Get(ctx, collections.Join3(job.Id, r.Round, msg.Chunk))
			if err != nil {
				return nil, err
			}
			catcher = m.mustAddr(ch.Challenger)
		}
		if err := m.failAggregate(ctx, job, catcher, reason); err != nil {
			return nil, err
		}
		return &types.MsgRevealChunkResponse{Passed: false, Reason: reason}, nil
	}
	r.Aggregate.Verified = append(r.Aggregate.Verified, msg.Chunk)
	if challenged {
		// The challenger was wrong: its bond pays the aggregator.
		ch, err := m.Challenges.Get(ctx, collections.Join3(job.Id, r.Round, msg.Chunk))
		if err != nil {
			return nil, err
		}
		if err := m.rewards.PayFromStake(ctx, types.CustodyID(job.Id), m.mustAddr(ch.Challenger), m.mustAddr(aAddr), ch.Bond); err != nil {
			return nil, err
		}
		if err := m.Challenges.Remove(ctx, collections.Join3(job.Id, r.Round, msg.Chunk)); err != nil {
			return nil, err
		}
	}
	if err := m.setRound(ctx, r); err != nil {
		return nil, err
	}
	return &types.MsgRevealChunkResponse{Passed: true}, m.advance(ctx, job.Id)
}

// ChallengeChunk bonds a challenge of a chunk of the aggregate that was not
// drawn; the aggregator must reveal it before the challenge's deadline.
func (m msgServer) ChallengeChunk(ctx context.Context, msg *types.MsgChallengeChunk) (*types.MsgChallengeChunkResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := m.chargeBytes(ctx, msg.Size(), "challenge"); err != nil {
		return nil, err
	}
	c, cAddr, err := m.decodeAddress("challenger", msg.Challenger)
	if err != nil {
		return nil, err
	}
	job, r, err := m.current(ctx, msg.JobId, msg.Round)
	if err != nil {
		return nil, err
	}
	if err := wantPhase(r, types.ROUND_PHASE_FRAUD_WINDOW); err != nil {
		return nil, err
	}
	if err := beforeDeadline(ctx, r); err != nil {
		return nil, err
	}
	if msg.Chunk >= job.Chunks {
		return nil, errorsmod.Wrapf(types.ErrBadChunk, "chunk %d of a %d-chunk model", msg.Chunk, job.Chunks)
	}
	if cAddr == r.Aggregate.Committer {
		return nil, errorsmod.Wrap(types.ErrNotParticipant, "the aggregator cannot challenge its own aggregate")
	}
	has, err := m.Challenges.Has(ctx, collections.Join3(job.Id, r.Round, msg.Chunk))
	if err != nil {
		return nil, err
	}
	if has || slices.Contains(r.Aggregate.Verified, msg.Chunk) {
		return nil, errorsmod.Wrapf(types.ErrAlreadyChallenged, "chunk %d", msg.Chunk)
	}
	if !msg.Bond.IsValid() || msg.Bond.Denom != job.ChallengeBond.Denom || msg.Bond.IsLT(job.ChallengeBond) {
		return nil, errorsmod.Wrapf(types.ErrChallengeBond, "bond %s; job %d needs at least %s", msg.Bond, job.Id, job.ChallengeBond)
	}
	if err := m.rewards.LockStake(ctx, types.CustodyID(job.Id), c, msg.Bond); err != nil {
		return nil, err
	}
	deadline := sdkCtx.BlockTime().Add(job.RevealWindow)
	if err := m.Challenges.Set(ctx, collections.Join3(job.Id, r.Round, msg.Chunk), types.ChunkChallenge{
		JobId: job.Id, Round: r.Round, Chunk: msg.Chunk, Challenger: cAddr, Bond: msg.Bond, Deadline: deadline,
	}); err != nil {
		return nil, err
	}
	if deadline.After(r.Deadline) {
		if err := m.setDeadline(ctx, &r, deadline); err != nil {
			return nil, err
		}
		if err := m.setRound(ctx, r); err != nil {
			return nil, err
		}
	}
	return &types.MsgChallengeChunkResponse{}, sdkCtx.EventManager().EmitTypedEvent(&types.EventChunkChallenged{JobId: job.Id, Round: r.Round, Chunk: msg.Chunk, Challenger: cAddr})
}

// UpdateParams replaces the params (governance).
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	if msg.Authority != m.authority {
		return nil, errorsmod.Wrapf(govtypes.ErrInvalidSigner, "expected %s, got %s", m.authority, msg.Authority)
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	return &types.MsgUpdateParamsResponse{}, m.Params.Set(ctx, msg.Params)
}

// chargeBytes charges gas_per_byte for a message's bytes.
func (m msgServer) chargeBytes(ctx context.Context, n int, what string) error {
	params, err := m.Params.Get(ctx)
	if err != nil {
		return err
	}
	sdk.UnwrapSDKContext(ctx).GasMeter().ConsumeGas(params.GasPerByte*uint64(n), "federated: "+what+" bytes")
	return nil
}
