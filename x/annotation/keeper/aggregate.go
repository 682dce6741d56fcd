package keeper

import (
	"bytes"
	"crypto/sha256"
	"sort"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// The aggregation of a job, in consensus and integer only:
//  1. gold scoring (at the start, one unit per label): each annotator's
//     accuracy on the gold items it labelled; an annotator that saw at least
//     min_gold_seen gold items and is under min_gold_accuracy_bps is slashed
//     (every batch of it in the job) and its labels dropped;
//  2. Dawid-Skene EM (pkg/annotation) over the remaining labels, started
//     from gold-weighted majority vote, in chunks of at most the block's unit
//     budget, its state kept in the store between blocks;
//  3. settlement: gold items take their gold label, every other item its
//     aggregate; each opened label that agrees is paid; stakes of forfeited
//     and slashed batches go to the requester; the work done is paid to the
//     fee collector (its share of the fee prepaid at posting); the rest is
//     refunded.

// opened is the job's batches by status, in store order (group, annotator).
func (k Keeper) batches(ctx sdk.Context, jobID uint64) ([]types.Batch, error) {
	var out []types.Batch
	err := k.Batches.Walk(ctx, collections.NewPrefixedTripleRange[uint64, uint32, sdk.AccAddress](jobID),
		func(_ BatchKey, b types.Batch) (bool, error) {
			out = append(out, b)
			return false, nil
		})
	return out, err
}

// annotatorIndex gives the job's annotators dense indices in the order of
// their address bytes.
func (k Keeper) annotatorIndex(bs []types.Batch) ([]sdk.AccAddress, func(sdk.AccAddress) uint32, error) {
	var addrs []sdk.AccAddress
	for _, b := range bs {
		a, err := k.authKeeper.AddressCodec().StringToBytes(b.Annotator)
		if err != nil {
			return nil, nil, err
		}
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return bytes.Compare(addrs[i], addrs[j]) < 0 })
	uniq := addrs[:0]
	for i, a := range addrs {
		if i == 0 || !bytes.Equal(a, addrs[i-1]) {
			uniq = append(uniq, a)
		}
	}
	index := func(a sdk.AccAddress) uint32 {
		return uint32(sort.Search(len(uniq), func(i int) bool { return bytes.Compare(uniq[i], a) >= 0 }))
	}
	return uniq, index, nil
}

// goldLabel looks an item up in a sorted gold set.
func goldLabel(gold []types.GoldItem, item uint32) (uint32, bool) {
	i := sort.Search(len(gold), func(i int) bool { return gold[i].Item >= item })
	if i < len(gold) && gold[i].Item == item {
		return gold[i].Label, true
	}
	return 0, false
}

func (k Keeper) startAggregation(ctx sdk.Context, job types.Job) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	var gold []types.GoldItem
	if job.GoldRevealed {
		g, err := k.Gold.Get(ctx, job.Id)
		if err != nil {
			return err
		}
		gold = g.Gold
	} else if job.GoldDeposit.IsPositive() {
		// The requester never revealed its gold set: its deposit is lost and
		// annotators are paid on agreement alone.
		if err := k.rewards.BurnFromJob(ctx, job.Id, job.GoldDeposit); err != nil {
			return err
		}
	}
	bs, err := k.batches(ctx, job.Id)
	if err != nil {
		return err
	}
	addrs, index, err := k.annotatorIndex(bs)
	if err != nil {
		return err
	}
	seen := make([]uint32, len(addrs))
	correct := make([]uint32, len(addrs))
	items := make([][]uint32, len(bs))
	var units uint64
	for i, b := range bs {
		if b.Status != types.BATCH_STATUS_OPENED {
			continue
		}
		a, err := k.authKeeper.AddressCodec().StringToBytes(b.Annotator)
		if err != nil {
			return err
		}
		items[i] = types.GroupItems(job.Seed, job.Items.Rows, job.BatchSize, b.Group)
		for j, it := range items[i] {
			units++
			if g, ok := goldLabel(gold, it); ok {
				seen[index(a)]++
				if uint32(b.Labels[j]) == g {
					correct[index(a)]++
				}
			}
		}
	}
	slashed := make([]bool, len(addrs))
	for i := range addrs {
		if seen[i] >= params.MinGoldSeen && uint64(correct[i])*10_000 < uint64(job.MinGoldAccuracyBps)*uint64(seen[i]) {
			slashed[i] = true
			job.AnnotatorsSlashed++
			if err := k.record(ctx, addrs[i], func(r *types.AnnotatorRecord) {
				r.GoldSeen += uint64(seen[i])
				r.GoldCorrect += uint64(correct[i])
			}); err != nil {
				return err
			}
			var lost sdk.Coin = sdk.NewCoin(job.Stake.Denom, sdkmath.ZeroInt())
			for _, b := range bs {
				if b.Status == types.BATCH_STATUS_OPENED && b.Annotator == addrs[i].String() {
					lost = lost.Add(b.Stake)
				}
			}
			if err := ctx.EventManager().EmitTypedEvent(&types.EventAnnotatorSlashed{JobId: job.Id, Annotator: addrs[i].String(),
				GoldSeen: seen[i], GoldCorrect: correct[i], Slashed: lost.String()}); err != nil {
				return err
			}
		}
	}
	var labels []annotation.Label
	var nLabels uint64
	for i, b := range bs {
		if b.Status != types.BATCH_STATUS_OPENED {
			continue
		}
		a, _ := k.authKeeper.AddressCodec().StringToBytes(b.Annotator)
		ai := index(a)
		b.GoldSeen, b.GoldCorrect = 0, 0
		for j, it := range items[i] {
			if g, ok := goldLabel(gold, it); ok {
				b.GoldSeen++
				if uint32(b.Labels[j]) == g {
					b.GoldCorrect++
				}
			}
		}
		if slashed[ai] {
			b.Status = types.BATCH_STATUS_SLASHED
		} else {
			for j, it := range items[i] {
				labels = append(labels, annotation.Label{Item: it, Annotator: ai, Value: uint32(b.Labels[j])})
				nLabels++
			}
		}
		if err := k.Batches.Set(ctx, collections.Join3(b.JobId, b.Group, sdk.AccAddress(a)), b); err != nil {
			return err
		}
	}
	if len(labels) == 0 {
		// Nothing to aggregate (nobody claimed, sealed or opened, or every
		// annotator was slashed): settle at once, recording no labels.
		job.AggregationUsed = units
		if err := k.Jobs.Set(ctx, job.Id, job); err != nil {
			return err
		}
		return k.settle(ctx, job, nil, params)
	}
	agold := make([]annotation.Gold, len(gold))
	for i, g := range gold {
		agold[i] = annotation.Gold{Item: g.Item, Value: g.Label}
	}
	// Annotators under the gold threshold were slashed and their labels
	// dropped above; the library only aggregates.
	p := annotation.DefaultParams()
	p.Iterations, p.MinGoldSeen, p.MinGoldAccuracyBps = job.EmIterations, 1, 0
	agg, err := annotation.NewAggregation(uint32(job.Items.Rows), job.Classes, uint32(len(addrs)), labels, agold, p)
	if err != nil {
		return err
	}
	job.Status = types.JOB_STATUS_AGGREGATING
	job.AggregationUsed = units + agg.Used()
	if err := k.Jobs.Set(ctx, job.Id, job); err != nil {
		return err
	}
	if err := k.Aggregations.Set(ctx, job.Id, agg.Encode()); err != nil {
		return err
	}
	if err := k.AggregateQueue.Set(ctx, job.Id); err != nil {
		return err
	}
	return ctx.EventManager().EmitTypedEvent(&types.EventAggregationStarted{JobId: job.Id, Annotators: uint32(len(addrs)),
		Labels: nLabels, Gold: job.GoldRevealed})
}

// aggregateChunk runs a job's aggregation within a block budget of weighted
// units (work units x K: a unit's time grows with the class count, about
// 0.6-1.1 x K ns on the calibration box) and settles the job when it is
// done; it returns the weighted units used.
func (k Keeper) aggregateChunk(ctx sdk.Context, id uint64, weighted uint64, params types.Params) (uint64, error) {
	job, err := k.GetJob(ctx, id)
	if err != nil {
		return 0, err
	}
	budget := weighted / uint64(max(job.Classes, 1))
	bz, err := k.Aggregations.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	agg, err := annotation.DecodeAggregation(bz)
	if err != nil {
		return 0, err
	}
	if budget < annotation.MinBudget {
		return 0, nil // too little left in this block: next block
	}
	done, used := agg.Step(budget)
	job.AggregationUsed += used
	used *= uint64(job.Classes)
	if !done {
		if err := k.Jobs.Set(ctx, id, job); err != nil {
			return used, err
		}
		return used, k.Aggregations.Set(ctx, id, agg.Encode())
	}
	res, err := agg.Result()
	if err != nil {
		return used, err
	}
	return used, k.settle(ctx, job, res.Labels, params)
}

// settle records the labels and pays, slashes and refunds.
func (k Keeper) settle(ctx sdk.Context, job types.Job, result []uint8, params types.Params) error {
	var gold []types.GoldItem
	if job.GoldRevealed {
		g, err := k.Gold.Get(ctx, job.Id)
		if err != nil {
			return err
		}
		gold = g.Gold
	}
	// With no aggregate (no labels), nothing is recorded and nothing paid.
	var final []byte
	if result != nil {
		final = make([]byte, job.Items.Rows)
		copy(final, result)
		for _, g := range gold {
			final[g.Item] = byte(g.Label)
		}
	}
	bs, err := k.batches(ctx, job.Id)
	if err != nil {
		return err
	}
	type owed struct {
		addr sdk.AccAddress
		lost sdkmath.Int
	}
	var stakes []owed
	at := func(a sdk.AccAddress) *owed {
		for i := range stakes {
			if bytes.Equal(stakes[i].addr, a) {
				return &stakes[i]
			}
		}
		stakes = append(stakes, owed{addr: a, lost: sdkmath.ZeroInt()})
		return &stakes[len(stakes)-1]
	}
	paid := sdk.NewCoin(job.PayPerLabel.Denom, sdkmath.ZeroInt())
	for _, b := range bs {
		a, err := k.authKeeper.AddressCodec().StringToBytes(b.Annotator)
		if err != nil {
			return err
		}
		o := at(a)
		switch b.Status {
		case types.BATCH_STATUS_OPENED:
			for j, it := range types.GroupItems(job.Seed, job.Items.Rows, job.BatchSize, b.Group) {
				if final != nil && b.Labels[j] == final[it] {
					b.Accepted++
				}
			}
			pay := sdk.NewCoin(job.PayPerLabel.Denom, job.PayPerLabel.Amount.MulRaw(int64(b.Accepted)))
			if err := k.rewards.PayFromJob(ctx, job.Id, a, pay); err != nil {
				return err
			}
			b.Paid, b.Status = pay, types.BATCH_STATUS_PAID
			paid = paid.Add(pay)
			job.LabelsAccepted += uint64(b.Accepted)
			if err := k.record(ctx, a, func(r *types.AnnotatorRecord) {
				r.LabelsAccepted += uint64(b.Accepted)
				r.GoldSeen += uint64(b.GoldSeen)
				r.GoldCorrect += uint64(b.GoldCorrect)
			}); err != nil {
				return err
			}
		case types.BATCH_STATUS_SLASHED:
			o.lost = o.lost.Add(b.Stake.Amount)
			if err := k.record(ctx, a, func(r *types.AnnotatorRecord) { r.BatchesSlashed++ }); err != nil {
				return err
			}
		case types.BATCH_STATUS_FORFEITED:
			o.lost = o.lost.Add(b.Stake.Amount)
		}
		if err := k.Batches.Set(ctx, collections.Join3(b.JobId, b.Group, sdk.AccAddress(a)), b); err != nil {
			return err
		}
	}
	for _, o := range stakes {
		if err := k.rewards.SettleStake(ctx, job.Id, o.addr, o.lost); err != nil {
			return err
		}
	}
	// The share of the prepaid fee that the work used goes to the fee
	// collector: fixed at posting, whatever governance set since.
	fee := sdk.NewCoin(job.PayPerLabel.Denom, sdkmath.ZeroInt())
	if job.AggregationBudget > 0 && job.AggregationFee.IsPositive() {
		fee.Amount = job.AggregationFee.Amount.Mul(sdkmath.NewIntFromUint64(min(job.AggregationUsed, job.AggregationBudget))).
			Quo(sdkmath.NewIntFromUint64(job.AggregationBudget))
	}
	if err := k.rewards.PayFromJob(ctx, job.Id, nil, fee); err != nil {
		return err
	}
	refund, err := k.rewards.CloseJobEscrow(ctx, job.Id)
	if err != nil {
		return err
	}
	job.Status = types.JOB_STATUS_SETTLED
	if final != nil {
		h := sha256.Sum256(final)
		job.LabelsHash = h[:]
		if err := k.Labels.Set(ctx, job.Id, final); err != nil {
			return err
		}
	}
	if err := k.Aggregations.Remove(ctx, job.Id); err != nil {
		return err
	}
	if err := k.AggregateQueue.Remove(ctx, job.Id); err != nil {
		return err
	}
	if err := k.Jobs.Set(ctx, job.Id, job); err != nil {
		return err
	}
	return ctx.EventManager().EmitTypedEvent(&types.EventJobSettled{JobId: job.Id, LabelsHash: job.LabelsHash,
		LabelsAccepted: job.LabelsAccepted, Paid: paid.String(), AggregationFee: fee.String(), Refund: refund.String(),
		AnnotatorsSlashed: job.AnnotatorsSlashed})
}
