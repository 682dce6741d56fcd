package keeper

import (
	"bytes"
	"context"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/recompute"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/verification Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// CommitTranscript records a worker's N+1 checkpoint hashes. The chain checks
// h_0 against the seed-derived initial state and h_N against the final model
// and optimiser hashes; the sample is drawn at the next block.
func (m msgServer) CommitTranscript(ctx context.Context, msg *types.MsgCommitTranscript) (*types.MsgCommitTranscriptResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerRevealByte*uint64(msg.Size()), "verification: transcript bytes")

	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	task, err := m.tasks.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	if _, err := m.tasks.GetAssignment(ctx, msg.TaskId, worker); err != nil {
		return nil, err
	}
	if has, err := m.Transcripts.Has(ctx, collections.Join(msg.TaskId, sdk.AccAddress(worker))); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrTranscriptExists, "task %d worker %s", msg.TaskId, workerAddr)
	}
	n := task.Spec.Segments()
	if uint64(len(msg.Checkpoints)) != n+1 {
		return nil, errorsmod.Wrapf(types.ErrBadCheckpoints, "task %d has %d segments: want %d checkpoint hashes, got %d", task.Id, n, n+1, len(msg.Checkpoints))
	}
	for i, h := range msg.Checkpoints {
		if len(h) != types.HashLen {
			return nil, errorsmod.Wrapf(types.ErrBadCheckpoints, "checkpoints[%d] is %d bytes, want %d", i, len(h), types.HashLen)
		}
	}
	if len(msg.FinalModelHash) != types.HashLen || len(msg.FinalOptHash) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "final_model_hash and final_opt_hash must be %d bytes", types.HashLen)
	}
	tparams, err := m.tasks.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	if err := taskstypes.ValidateURI("uri", msg.Uri, tparams.MaxUriLength); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidURI, err.Error())
	}
	var mh, oh engine.Hash
	copy(mh[:], msg.FinalModelHash)
	copy(oh[:], msg.FinalOptHash)
	if final := engine.StateHashFrom(mh, oh, task.Spec.TotalSteps); !bytes.Equal(final[:], msg.Checkpoints[n]) {
		return nil, errorsmod.Wrapf(types.ErrFinalState, "hash of (model, optimiser, step %d) is %X, h_N is %X", task.Spec.TotalSteps, final[:], msg.Checkpoints[n])
	}
	job, err := taskstypes.EngineJob(task)
	if err != nil {
		return nil, err
	}
	// Building, encoding and hashing the initial state is work in proportion
	// to its encoding: charged before it is built.
	sdkCtx.GasMeter().ConsumeGas(params.GasPerStateByte*engine.EncodedStateSize(job.Spec), "verification: initial state")
	h0, err := engine.InitialStateHash(job, task.Spec.BaseModelHash)
	if err != nil {
		return nil, errorsmod.Wrap(types.ErrEngine, err.Error())
	}
	if !bytes.Equal(h0[:], msg.Checkpoints[0]) {
		return nil, errorsmod.Wrapf(types.ErrInitialState, "task %d: h_0 must be %X, got %X", task.Id, h0[:], msg.Checkpoints[0])
	}
	// MarkCommitted checks the claim is active and its deadline not passed.
	if err := m.tasks.MarkCommitted(ctx, task.Id, worker); err != nil {
		return nil, err
	}

	t := types.Transcript{
		TaskId:          task.Id,
		Worker:          workerAddr,
		Checkpoints:     msg.Checkpoints,
		Uri:             msg.Uri,
		FinalModelHash:  msg.FinalModelHash,
		FinalOptHash:    msg.FinalOptHash,
		Status:          types.TRANSCRIPT_STATUS_COMMITTED,
		CommittedHeight: sdkCtx.BlockHeight(),
		TranscriptHash:  recompute.TranscriptHash(msg.Checkpoints),
		MacsTotal:       engine.MACsPerStep(job.Spec) * task.Spec.TotalSteps,
	}
	if err := m.Transcripts.Set(ctx, collections.Join(task.Id, sdk.AccAddress(worker)), t); err != nil {
		return nil, err
	}
	if err := m.DrawQueue.Set(ctx, collections.Join3(t.CommittedHeight, task.Id, sdk.AccAddress(worker))); err != nil {
		return nil, err
	}
	if err := m.disputeReplicas(ctx, t, params); err != nil {
		return nil, err
	}
	err = sdkCtx.EventManager().EmitTypedEvent(&types.EventTranscriptCommitted{
		TaskId: task.Id, Worker: workerAddr, Segments: uint32(n), TranscriptHash: t.TranscriptHash, Uri: msg.Uri,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgCommitTranscriptResponse{TranscriptHash: t.TranscriptHash}, nil
}

// disputeReplicas compares a new transcript with the task's other live
// transcripts. Where two differ, h_0..h_(j-1) agree and h_j differs, so the
// segment j-1 decides: both workers must reveal it (one recomputation settles
// it, no bisection rounds).
func (m msgServer) disputeReplicas(ctx context.Context, t types.Transcript, params types.Params) error {
	deadline := sdk.UnwrapSDKContext(ctx).BlockTime().Add(params.RevealWindow)
	var others []types.Transcript
	err := m.Transcripts.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](t.TaskId),
		func(_ TranscriptKey, o types.Transcript) (bool, error) {
			if o.Worker != t.Worker && o.Status != types.TRANSCRIPT_STATUS_FAILED {
				others = append(others, o)
			}
			return false, nil
		})
	if err != nil {
		return err
	}
	for _, o := range others {
		j := firstDifference(t.Checkpoints, o.Checkpoints)
		if j < 0 {
			continue
		}
		seg := uint32(j - 1)
		parties := []types.Transcript{t}
		if o.Status != types.TRANSCRIPT_STATUS_FINAL {
			parties = append(parties, o)
		}
		for _, p := range parties {
			addr, err := m.authKeeper.AddressCodec().StringToBytes(p.Worker)
			if err != nil {
				return err
			}
			key := collections.Join3(p.TaskId, sdk.AccAddress(addr), seg)
			if has, err := m.Challenges.Has(ctx, key); err != nil {
				return err
			} else if has || containsSegment(p.Verified, seg) {
				continue
			}
			c := types.Challenge{TaskId: p.TaskId, Worker: p.Worker, Segment: seg, Kind: types.CHALLENGE_KIND_REPLICA, Deadline: deadline}
			if err := m.addChallenge(ctx, c, addr); err != nil {
				return err
			}
			if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventSegmentsChallenged{
				TaskId: p.TaskId, Worker: p.Worker, Segments: []uint32{seg}, Kind: c.Kind.String(), Deadline: deadline,
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// firstDifference is the first index where two checkpoint lists differ, or -1.
// h_0 is checked by the chain, so a difference is at index >= 1.
func firstDifference(a, b [][]byte) int {
	for i := range a {
		if i >= len(b) || !bytes.Equal(a[i], b[i]) {
			return i
		}
	}
	return -1
}

// RevealSegment answers a pending challenge. Malformed reveals (wrong start
// state, wrong rows, bad proofs, oversize, late, not challenged) are rejected
// with an error and change nothing, so an honest worker whose client sent a
// bad message can send a good one before the deadline. A well-formed reveal
// whose recomputation does not reproduce h_(i+1) exactly fails the worker.
func (m msgServer) RevealSegment(ctx context.Context, msg *types.MsgRevealSegment) (*types.MsgRevealSegmentResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	size := uint64(msg.Size())
	if size > params.MaxRevealBytes {
		return nil, errorsmod.Wrapf(types.ErrRevealTooLarge, "reveal is %d bytes, max_reveal_bytes is %d", size, params.MaxRevealBytes)
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerRevealByte*size, "verification: reveal bytes")

	worker, err := m.authKeeper.AddressCodec().StringToBytes(msg.Worker)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "worker %q: %s", msg.Worker, err)
	}
	t, err := m.GetTranscript(ctx, msg.TaskId, worker)
	if err != nil {
		return nil, err
	}
	ckey := collections.Join3(msg.TaskId, sdk.AccAddress(worker), msg.Segment)
	c, err := m.Challenges.Get(ctx, ckey)
	if err != nil || c.Status != types.CHALLENGE_STATUS_PENDING {
		return nil, errorsmod.Wrapf(types.ErrNotChallenged, "task %d worker %s segment %d", msg.TaskId, msg.Worker, msg.Segment)
	}
	if !sdkCtx.BlockTime().Before(c.Deadline) {
		return nil, errorsmod.Wrapf(types.ErrRevealLate, "deadline was %s", c.Deadline)
	}
	task, err := m.tasks.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	// Check the segment against the limits and charge the whole
	// recomputation (rows looked up, proofs, MACs, optimiser and state work)
	// before anything whose size grows with the task is built: a malformed
	// reveal still pays for the work it asked for.
	if uint64(msg.Segment) >= task.Spec.Segments() {
		return nil, errorsmod.Wrapf(types.ErrInvalidSegment, "segment %d of a %d-segment task", msg.Segment, task.Spec.Segments())
	}
	_, gas, err := recompute.RevealGas(task, msg.Segment, len(msg.Rows), params)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(gas, "verification: recomputation")
	rc, err := recompute.PrepareReveal(task, t.Checkpoints, msg.Segment, msg.StartState, msg.Rows, msg.BaseModel, params)
	if err != nil {
		return nil, err
	}
	match, _, meter, reason := rc.Run()

	if !match {
		if err := m.failTranscript(ctx, t, worker, msg.Segment, fmt.Sprintf("segment %d mismatch: %s", msg.Segment, reason)); err != nil {
			return nil, err
		}
		return &types.MsgRevealSegmentResponse{Match: false, Macs: meter.MACs}, nil
	}
	if err := m.upholdSegment(ctx, t, worker, c, meter.MACs, params); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventSegmentVerified{
		TaskId: msg.TaskId, Worker: msg.Worker, Segment: msg.Segment, Macs: meter.MACs, GasCharged: gas,
	}); err != nil {
		return nil, err
	}
	return &types.MsgRevealSegmentResponse{Match: true, Macs: meter.MACs}, nil
}

// ChallengeSegment lets anyone, with a bond, demand the reveal of a segment of
// a passed transcript that the sample did not cover.
func (m msgServer) ChallengeSegment(ctx context.Context, msg *types.MsgChallengeSegment) (*types.MsgChallengeSegmentResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	challenger, challengerAddr, err := m.decodeAddress("challenger", msg.Challenger)
	if err != nil {
		return nil, err
	}
	worker, workerAddr, err := m.decodeAddress("worker", msg.Worker)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(challenger, worker) {
		return nil, errorsmod.Wrapf(types.ErrSelfChallenge, "task %d", msg.TaskId)
	}
	t, err := m.GetTranscript(ctx, msg.TaskId, worker)
	if err != nil {
		return nil, err
	}
	if t.Status != types.TRANSCRIPT_STATUS_PASSED {
		return nil, errorsmod.Wrapf(types.ErrWrongStatus, "transcript is %s; fraud challenges are for passed transcripts", t.Status)
	}
	if !sdkCtx.BlockTime().Before(t.FraudWindowEnd) {
		return nil, errorsmod.Wrapf(types.ErrFraudWindowClosed, "closed at %s", t.FraudWindowEnd)
	}
	if uint64(msg.Segment)+1 >= uint64(len(t.Checkpoints)) {
		return nil, errorsmod.Wrapf(types.ErrInvalidSegment, "segment %d of a %d-segment transcript", msg.Segment, len(t.Checkpoints)-1)
	}
	if containsSegment(t.Verified, msg.Segment) {
		return nil, errorsmod.Wrapf(types.ErrSegmentVerified, "segment %d", msg.Segment)
	}
	key := collections.Join3(msg.TaskId, sdk.AccAddress(worker), msg.Segment)
	if has, err := m.Challenges.Has(ctx, key); err != nil {
		return nil, err
	} else if has {
		return nil, errorsmod.Wrapf(types.ErrChallengePending, "segment %d", msg.Segment)
	}
	task, err := m.tasks.GetTask(ctx, msg.TaskId)
	if err != nil {
		return nil, err
	}
	if err := msg.Bond.Validate(); err != nil || msg.Bond.Denom != task.Bond.Denom || msg.Bond.Amount.LT(params.MinChallengeBond) {
		return nil, errorsmod.Wrapf(types.ErrInvalidBond, "bond %s must be at least %s%s", msg.Bond, params.MinChallengeBond, task.Bond.Denom)
	}
	if err := m.rewards.LockChallengeBond(ctx, msg.TaskId, worker, msg.Segment, challenger, msg.Bond); err != nil {
		return nil, err
	}
	deadline := sdkCtx.BlockTime().Add(params.RevealWindow)
	c := types.Challenge{
		TaskId: msg.TaskId, Worker: workerAddr, Segment: msg.Segment, Kind: types.CHALLENGE_KIND_FRAUD,
		Challenger: challengerAddr, Bond: msg.Bond, Deadline: deadline,
	}
	if err := m.addChallenge(ctx, c, worker); err != nil {
		return nil, err
	}
	err = sdkCtx.EventManager().EmitTypedEvent(&types.EventSegmentsChallenged{
		TaskId: msg.TaskId, Worker: workerAddr, Segments: []uint32{msg.Segment}, Kind: c.Kind.String(),
		Deadline: deadline, Challenger: challengerAddr,
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgChallengeSegmentResponse{}, nil
}

// UpdateParams replaces the params; governance authority only.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, m.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := m.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params}); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
