package keeper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/annotation Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// PostJob validates a job, escrows items x redundancy x pay, the aggregation
// fee and the gold deposit, and opens its groups for claims.
func (m msgServer) PostJob(ctx context.Context, msg *types.MsgPostJob) (*types.MsgPostJobResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerByte*uint64(msg.Size()), "annotation: job bytes")
	requester, requesterAddr, err := m.decodeAddress("requester", msg.Requester)
	if err != nil {
		return nil, err
	}
	if err := validateJob(msg, params); err != nil {
		return nil, err
	}
	labels := msg.Items.Rows * uint64(msg.Redundancy)
	batches := uint64(types.Groups(msg.Items.Rows, msg.BatchSize)) * uint64(msg.Redundancy)
	units := aggregationUnits(msg.Items.Rows, msg.Classes, batches, labels, params.EmIterations)
	// Priced per unit and class: a unit's time grows with K.
	fee := params.AggregationGasPrice.MulInt(sdkmath.NewIntFromUint64(units)).
		MulInt(sdkmath.NewIntFromUint64(params.GasPerUnit * uint64(msg.Classes))).Ceil().TruncateInt()
	pay := msg.PayPerLabel.Amount.Mul(sdkmath.NewIntFromUint64(labels))
	escrow := sdk.NewCoin(params.Denom, pay.Add(fee).Add(msg.GoldDeposit.Amount))

	id, err := m.NextJob.Peek(ctx)
	if err != nil {
		return nil, err
	}
	id = max(id, 1) // ids start at 1
	if err := m.rewards.LockJobEscrow(ctx, id, requester, escrow); err != nil {
		return nil, errorsmod.Wrapf(types.ErrEscrow, "%s", err)
	}
	if err := m.NextJob.Set(ctx, id+1); err != nil {
		return nil, err
	}
	now := sdkCtx.BlockTime()
	job := types.Job{
		Id: id, Requester: requesterAddr, Items: msg.Items, Kind: msg.Kind, Classes: msg.Classes,
		Redundancy: msg.Redundancy, BatchSize: msg.BatchSize, PayPerLabel: msg.PayPerLabel, Stake: msg.Stake,
		GoldDeposit: msg.GoldDeposit, MinGoldAccuracyBps: msg.MinGoldAccuracyBps, GoldCommitment: msg.GoldCommitment,
		LabelDeadline: now.Add(msg.LabelWindow),
		Seed:          types.JobSeed(id, sdkCtx.HeaderHash()),
		Status:        types.JOB_STATUS_LABELLING, PostedHeight: sdkCtx.BlockHeight(),
		Groups:            types.Groups(msg.Items.Rows, msg.BatchSize),
		AggregationBudget: units, EmIterations: params.EmIterations,
		AggregationFee: sdk.NewCoin(params.Denom, fee),
	}
	job.OpenDeadline = job.LabelDeadline.Add(params.OpenWindow)
	job.GoldDeadline = job.OpenDeadline.Add(params.GoldWindow)
	// Opening the groups is work in proportion to their number: charged.
	sdkCtx.GasMeter().ConsumeGas(uint64(job.Groups)*2_000, "annotation: open groups")
	for g := uint32(0); g < job.Groups; g++ {
		if err := m.OpenGroups.Set(ctx, collections.Join(id, g), g); err != nil {
			return nil, err
		}
	}
	if err := m.OpenCount.Set(ctx, id, job.Groups); err != nil {
		return nil, err
	}
	if err := m.Jobs.Set(ctx, id, job); err != nil {
		return nil, err
	}
	if err := m.DeadlineQueue.Set(ctx, collections.Join(job.LabelDeadline, id)); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventJobPosted{
		JobId: id, Requester: requesterAddr, Items: msg.Items.Rows, Groups: job.Groups, Redundancy: msg.Redundancy,
		Escrow: escrow.String(), LabelDeadline: job.LabelDeadline,
	}); err != nil {
		return nil, err
	}
	return &types.MsgPostJobResponse{JobId: id, Groups: job.Groups, Escrow: escrow}, nil
}

// aggregationUnits is the work the aggregation of a job may do: scoring
// every label against the gold set once, then the EM iterations.
// At most one annotator per batch: the annotator bound.
func aggregationUnits(items uint64, classes uint32, batches, labels uint64, iterations uint32) uint64 {
	return labels + annotation.Cost(uint32(items), classes, uint32(min(batches, 1<<31)), labels, iterations)
}

func validateJob(msg *types.MsgPostJob, p types.Params) error {
	fail := func(format string, args ...any) error { return errorsmod.Wrapf(types.ErrInvalidJob, format, args...) }
	d := msg.Items
	if len(d.Root) != types.HashLen {
		return fail("items root must be %d bytes", types.HashLen)
	}
	if d.Rows == 0 || d.Rows > p.MaxItems {
		return fail("items %d must be in 1..max_items %d", d.Rows, p.MaxItems)
	}
	if err := taskstypes.ValidateURI("items.uri", d.Uri, 512); err != nil {
		return fail("%s", err)
	}
	switch msg.Kind {
	case types.LABEL_KIND_CLASS:
		if d.Schema.Kind != taskstypes.ROW_KIND_CLASSIFICATION || d.Schema.Classes != msg.Classes {
			return errorsmod.Wrapf(types.ErrSchemaMismatch, "a %d-class labelling job needs classification rows with %d classes, got %s with %d",
				msg.Classes, msg.Classes, d.Schema.Kind, d.Schema.Classes)
		}
	case types.LABEL_KIND_PREFERENCE:
		if !types.PreferenceRows(d.Schema.Kind) || msg.Classes != 2 {
			return errorsmod.Wrapf(types.ErrSchemaMismatch, "a preference job needs preference or token preference rows and classes 2, got %s and %d", d.Schema.Kind, msg.Classes)
		}
	default:
		return fail("kind %s", msg.Kind)
	}
	if _, err := d.Schema.DatasetSchema(); err != nil {
		return errorsmod.Wrapf(types.ErrSchemaMismatch, "%s", err)
	}
	if msg.Classes < 2 || msg.Classes > p.MaxClasses {
		return fail("classes %d must be in 2..max_classes %d", msg.Classes, p.MaxClasses)
	}
	if msg.Redundancy == 0 || msg.Redundancy > p.MaxRedundancy {
		return fail("redundancy %d must be in 1..max_redundancy %d", msg.Redundancy, p.MaxRedundancy)
	}
	if msg.BatchSize == 0 || msg.BatchSize > p.MaxBatchSize {
		return fail("batch_size %d must be in 1..max_batch_size %d", msg.BatchSize, p.MaxBatchSize)
	}
	if b := uint64(types.Groups(d.Rows, msg.BatchSize)) * uint64(msg.Redundancy); b > p.MaxBatchesPerJob {
		return fail("%d groups x redundancy %d = %d batches, more than max_batches_per_job %d: use larger batches",
			types.Groups(d.Rows, msg.BatchSize), msg.Redundancy, b, p.MaxBatchesPerJob)
	}
	for _, c := range []struct {
		name     string
		coin     sdk.Coin
		positive bool
	}{{"pay_per_label", msg.PayPerLabel, true}, {"stake", msg.Stake, false}, {"gold_deposit", msg.GoldDeposit, false}} {
		if err := c.coin.Validate(); err != nil || c.coin.Denom != p.Denom || (c.positive && !c.coin.IsPositive()) {
			return errorsmod.Wrapf(types.ErrEscrow, "%s %s must be a %scoin of %s", c.name, c.coin, map[bool]string{true: "positive ", false: ""}[c.positive], p.Denom)
		}
	}
	if msg.GoldDeposit.Amount.LT(p.MinGoldDeposit) {
		return errorsmod.Wrapf(types.ErrEscrow, "gold_deposit %s is below min_gold_deposit %s", msg.GoldDeposit, p.MinGoldDeposit)
	}
	if msg.MinGoldAccuracyBps > 10_000 {
		return fail("min_gold_accuracy_bps %d must be at most 10000", msg.MinGoldAccuracyBps)
	}
	if len(msg.GoldCommitment) != types.HashLen {
		return errorsmod.Wrapf(types.ErrInvalidHash, "gold_commitment must be %d bytes", types.HashLen)
	}
	if msg.LabelWindow < p.MinLabelWindow || msg.LabelWindow > p.MaxLabelWindow {
		return fail("label_window %s must be within [%s, %s]", msg.LabelWindow, p.MinLabelWindow, p.MaxLabelWindow)
	}
	return nil
}

// maxProbes bounds a claim's walk over open groups; probeGas is about what
// one probe's two store reads cost, swapGas the full group's swap-remove.
const (
	maxProbes = 64
	probeGas  = 2_500
	swapGas   = 10_000
)

// ClaimBatch gives the annotator a group the chain draws among those that
// still take a batch and that it has not labelled: never one it chooses.
func (m msgServer) ClaimBatch(ctx context.Context, msg *types.MsgClaimBatch) (*types.MsgClaimBatchResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	annotator, annotatorAddr, err := m.decodeAddress("annotator", msg.Annotator)
	if err != nil {
		return nil, err
	}
	job, err := m.GetJob(ctx, msg.JobId)
	if err != nil {
		return nil, err
	}
	if job.Status != types.JOB_STATUS_LABELLING || !sdkCtx.BlockTime().Before(job.LabelDeadline) {
		return nil, errorsmod.Wrapf(types.ErrWrongPhase, "job %d is %s (label deadline %s)", job.Id, job.Status, job.LabelDeadline)
	}
	if requester, err := m.authKeeper.AddressCodec().StringToBytes(job.Requester); err != nil {
		return nil, err
	} else if bytes.Equal(requester, annotator) {
		return nil, errorsmod.Wrapf(types.ErrOwnJob, "job %d", job.Id)
	}
	n, err := m.OpenCount.Get(ctx, job.Id)
	if err != nil || n == 0 {
		return nil, errorsmod.Wrapf(types.ErrNoBatchLeft, "job %d: every group has its %d batches", job.Id, job.Redundancy)
	}
	// Draw from the block, the job, the annotator and the claim count; walk
	// from there to the first group this annotator has not labelled (at
	// most min(n, 64) probes).
	h := sha256.New()
	h.Write(job.Seed)
	h.Write(sdkCtx.HeaderHash())
	h.Write(annotator)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], job.Claimed)
	h.Write(b[:])
	start := uint32(binary.BigEndian.Uint64(h.Sum(nil)[:8]) % uint64(n))
	slot, group, found := uint32(0), uint32(0), false
	probes := uint32(0)
	for i := uint32(0); i < min(n, maxProbes); i++ {
		probes++
		s := (start + i) % n
		g, err := m.OpenGroups.Get(ctx, collections.Join(job.Id, s))
		if err != nil {
			return nil, err
		}
		if has, err := m.Batches.Has(ctx, collections.Join3(job.Id, g, annotator)); err != nil {
			return nil, err
		} else if !has {
			slot, group, found = s, g, true
			break
		}
	}
	if !found {
		return nil, errorsmod.Wrapf(types.ErrNoBatchLeft, "job %d: %s already labels every group still open", job.Id, annotatorAddr)
	}
	// Every claim pays for the longest walk, so its gas does not depend on
	// what other claims of the same block did to the open groups (a
	// simulated claim then never underestimates the real one).
	sdkCtx.GasMeter().ConsumeGas(uint64(maxProbes-probes)*probeGas+swapGas, "annotation: claim walk reserve")
	if err := m.rewards.LockStake(ctx, job.Id, annotator, job.Stake); err != nil {
		return nil, err
	}
	fill, err := m.GroupFill.Get(ctx, collections.Join(job.Id, group))
	if err != nil {
		fill = 0
	}
	fill++
	if err := m.GroupFill.Set(ctx, collections.Join(job.Id, group), fill); err != nil {
		return nil, err
	}
	if fill >= job.Redundancy { // full: swap-remove its slot
		last, err := m.OpenGroups.Get(ctx, collections.Join(job.Id, n-1))
		if err != nil {
			return nil, err
		}
		if err := m.OpenGroups.Set(ctx, collections.Join(job.Id, slot), last); err != nil {
			return nil, err
		}
		if err := m.OpenGroups.Remove(ctx, collections.Join(job.Id, n-1)); err != nil {
			return nil, err
		}
		// No entry at zero: an import derives the counts from the slots.
		if n == 1 {
			err = m.OpenCount.Remove(ctx, job.Id)
		} else {
			err = m.OpenCount.Set(ctx, job.Id, n-1)
		}
		if err != nil {
			return nil, err
		}
	}
	batch := types.Batch{JobId: job.Id, Group: group, Annotator: annotatorAddr, Status: types.BATCH_STATUS_CLAIMED,
		Stake: job.Stake, ClaimedAt: sdkCtx.BlockTime(), Paid: sdk.NewCoin(job.PayPerLabel.Denom, sdkmath.ZeroInt())}
	if err := m.Batches.Set(ctx, collections.Join3(job.Id, group, annotator), batch); err != nil {
		return nil, err
	}
	job.Claimed++
	if err := m.Jobs.Set(ctx, job.Id, job); err != nil {
		return nil, err
	}
	if err := m.record(ctx, annotator, func(r *types.AnnotatorRecord) { r.Batches++ }); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventBatchClaimed{JobId: job.Id, Group: group, Annotator: annotatorAddr}); err != nil {
		return nil, err
	}
	return &types.MsgClaimBatchResponse{Group: group, Items: types.GroupItems(job.Seed, job.Items.Rows, job.BatchSize, group)}, nil
}

// SealLabels records a batch's seal before the label deadline.
func (m msgServer) SealLabels(ctx context.Context, msg *types.MsgSealLabels) (*types.MsgSealLabelsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	annotator, annotatorAddr, err := m.decodeAddress("annotator", msg.Annotator)
	if err != nil {
		return nil, err
	}
	if len(msg.Seal) != types.HashLen {
		return nil, errorsmod.Wrapf(types.ErrInvalidHash, "seal must be %d bytes", types.HashLen)
	}
	job, err := m.GetJob(ctx, msg.JobId)
	if err != nil {
		return nil, err
	}
	key := collections.Join3(msg.JobId, msg.Group, annotator)
	b, err := m.Batches.Get(ctx, key)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrBatchNotFound, "job %d group %d annotator %s", msg.JobId, msg.Group, annotatorAddr)
	}
	if b.Status == types.BATCH_STATUS_FORFEITED {
		return nil, errorsmod.Wrapf(types.ErrLate, "the batch was forfeited at the label deadline %s", job.LabelDeadline)
	}
	if b.Status != types.BATCH_STATUS_CLAIMED {
		return nil, errorsmod.Wrapf(types.ErrAlreadySealed, "batch is %s", b.Status)
	}
	if !sdkCtx.BlockTime().Before(job.LabelDeadline) {
		return nil, errorsmod.Wrapf(types.ErrLate, "label deadline was %s", job.LabelDeadline)
	}
	b.Seal = msg.Seal
	b.Status = types.BATCH_STATUS_SEALED
	if err := m.Batches.Set(ctx, key, b); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventLabelsSealed{JobId: msg.JobId, Group: msg.Group, Annotator: annotatorAddr}); err != nil {
		return nil, err
	}
	return &types.MsgSealLabelsResponse{}, nil
}

// OpenLabels shows a sealed batch's labels, after the label deadline (when
// every batch of the job is sealed or forfeited: nobody can copy them) and
// before the open deadline.
func (m msgServer) OpenLabels(ctx context.Context, msg *types.MsgOpenLabels) (*types.MsgOpenLabelsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerByte*uint64(msg.Size()), "annotation: label bytes")
	annotator, annotatorAddr, err := m.decodeAddress("annotator", msg.Annotator)
	if err != nil {
		return nil, err
	}
	job, err := m.GetJob(ctx, msg.JobId)
	if err != nil {
		return nil, err
	}
	now := sdkCtx.BlockTime()
	if now.Before(job.LabelDeadline) {
		return nil, errorsmod.Wrapf(types.ErrEarly, "labels open after the label deadline %s", job.LabelDeadline)
	}
	if !now.Before(job.OpenDeadline) {
		return nil, errorsmod.Wrapf(types.ErrLate, "open deadline was %s", job.OpenDeadline)
	}
	key := collections.Join3(msg.JobId, msg.Group, annotator)
	b, err := m.Batches.Get(ctx, key)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrBatchNotFound, "job %d group %d annotator %s", msg.JobId, msg.Group, annotatorAddr)
	}
	if b.Status != types.BATCH_STATUS_SEALED {
		return nil, errorsmod.Wrapf(types.ErrWrongPhase, "batch is %s; only a sealed batch opens", b.Status)
	}
	size := uint64(len(types.GroupItems(job.Seed, job.Items.Rows, job.BatchSize, msg.Group)))
	if uint64(len(msg.Labels)) != size {
		return nil, errorsmod.Wrapf(types.ErrBadLabels, "group %d has %d items, got %d labels", msg.Group, size, len(msg.Labels))
	}
	for i, l := range msg.Labels {
		if uint32(l) >= job.Classes {
			return nil, errorsmod.Wrapf(types.ErrBadLabels, "label %d of item %d is outside 0..%d", l, i, job.Classes-1)
		}
	}
	if seal := types.LabelsSeal(job.Id, msg.Group, annotator, msg.Salt, msg.Labels); !bytes.Equal(seal, b.Seal) {
		return nil, errorsmod.Wrapf(types.ErrBadSeal, "the labels and salt seal to %X, the batch's seal is %X", seal, b.Seal)
	}
	b.Labels = msg.Labels
	b.Status = types.BATCH_STATUS_OPENED
	if err := m.Batches.Set(ctx, key, b); err != nil {
		return nil, err
	}
	if err := m.record(ctx, annotator, func(r *types.AnnotatorRecord) { r.LabelsOpened += size }); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventLabelsOpened{JobId: msg.JobId, Group: msg.Group, Annotator: annotatorAddr}); err != nil {
		return nil, err
	}
	return &types.MsgOpenLabelsResponse{}, nil
}

// RevealGold opens the requester's gold set, after the label deadline and
// before the gold deadline; it must match the commitment made at posting.
func (m msgServer) RevealGold(ctx context.Context, msg *types.MsgRevealGold) (*types.MsgRevealGoldResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.GasPerByte*uint64(msg.Size()), "annotation: gold bytes")
	requester, _, err := m.decodeAddress("requester", msg.Requester)
	if err != nil {
		return nil, err
	}
	job, err := m.GetJob(ctx, msg.JobId)
	if err != nil {
		return nil, err
	}
	if owner, err := m.authKeeper.AddressCodec().StringToBytes(job.Requester); err != nil {
		return nil, err
	} else if !bytes.Equal(owner, requester) {
		return nil, errorsmod.Wrapf(types.ErrNotRequester, "job %d was posted by %s", job.Id, job.Requester)
	}
	now := sdkCtx.BlockTime()
	if now.Before(job.LabelDeadline) {
		return nil, errorsmod.Wrapf(types.ErrEarly, "the gold set opens after the label deadline %s", job.LabelDeadline)
	}
	// Past the label deadline the job is opening even before the end
	// blocker has moved it (no label can be sealed any more).
	opening := job.Status == types.JOB_STATUS_OPENING || job.Status == types.JOB_STATUS_LABELLING
	if job.GoldRevealed || !opening || !now.Before(job.GoldDeadline) {
		return nil, errorsmod.Wrapf(types.ErrLate, "job %d is %s (gold deadline %s)", job.Id, job.Status, job.GoldDeadline)
	}
	if err := types.ValidateGold(msg.Gold, job.Items.Rows, job.Classes); err != nil {
		return nil, errorsmod.Wrap(types.ErrBadGold, err.Error())
	}
	if uint32(len(msg.Gold)) < params.MinGoldItems {
		return nil, errorsmod.Wrapf(types.ErrBadGold, "%d gold items, min_gold_items is %d", len(msg.Gold), params.MinGoldItems)
	}
	if c := types.GoldCommitment(msg.Salt, msg.Gold); !bytes.Equal(c, job.GoldCommitment) {
		return nil, errorsmod.Wrapf(types.ErrBadGold, "the gold set and salt commit to %X, the job to %X", c, job.GoldCommitment)
	}
	if err := m.Gold.Set(ctx, job.Id, types.JobGold{JobId: job.Id, Gold: msg.Gold}); err != nil {
		return nil, err
	}
	job.GoldRevealed = true
	if err := m.Jobs.Set(ctx, job.Id, job); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventGoldRevealed{JobId: job.Id, Items: uint32(len(msg.Gold))}); err != nil {
		return nil, err
	}
	return &types.MsgRevealGoldResponse{}, nil
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
