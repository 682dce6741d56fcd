package keeper

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/x/internal/metrics"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/verification Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// disputeReplicas compares a new transcript with the task's other live
// transcripts. Where two differ, h_0..h_(j-1) agree and h_j differs, so the
// segment j-1 decides: both workers must reveal it (one recomputation settles
// it, no bisection rounds).
//
// An engine-failure transcript h_0..h_s that agrees with a full one up to h_s
// disputes segment s: one says it computes to h_(s+1), the other that the
// engine cannot compute it; recomputing it settles which.
func (m msgServer) disputeReplicas(ctx context.Context, t types.Transcript, params types.Params) error {
	task, err := m.tasks.GetTask(ctx, t.TaskId)
	if err != nil {
		return err
	}
	var others []types.Transcript
	err = m.Transcripts.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](t.TaskId),
		func(_ TranscriptKey, o types.Transcript) (bool, error) {
			if o.Worker != t.Worker && o.Status != types.TRANSCRIPT_STATUS_FAILED && o.Status != types.TRANSCRIPT_STATUS_SEALED {
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
			if len(t.Checkpoints) == len(o.Checkpoints) {
				continue
			}
			j = min(len(t.Checkpoints), len(o.Checkpoints)) // one is a prefix of the other
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
			gas := answerGas(task, seg, params)
			deadline, err := m.reserveRevealGas(ctx, params, gas)
			if err != nil {
				return err
			}
			c := types.Challenge{TaskId: p.TaskId, Worker: p.Worker, Segment: seg, Kind: types.CHALLENGE_KIND_REPLICA, Deadline: deadline, Gas: gas}
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

// firstDifference is the first index where two checkpoint lists differ, or -1
// when one is a prefix of the other. h_0 is checked by the chain, so a
// difference is at index >= 1.
func firstDifference(a, b [][]byte) int {
	for i := range min(len(a), len(b)) {
		if !bytes.Equal(a[i], b[i]) {
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
	defer metrics.Timer(types.ModuleName, "reveal_ms")()
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
	metrics.Count(types.ModuleName, "reveals", "match", strconv.FormatBool(match))
	metrics.Add(types.ModuleName, "recomputed_macs", meter.MACs)

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
