package keeper

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/dataset"
	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/x/internal/addresses"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// validPost is what validatePostTask establishes about a MsgPostTask.
type validPost struct {
	poster     sdk.AccAddress
	posterAddr string // the poster in canonical (lower-case bech32) form
	spec       engine.Spec
	replicas   uint32
	samples    uint32
}

// validatePostTask checks every field of a MsgPostTask against the engine and
// the params, before any state is touched; each failure is a registered error
// naming the field and the limit.
func (k Keeper) validatePostTask(ctx context.Context, msg *types.MsgPostTask, params types.Params) (validPost, error) {
	var v validPost
	var err error
	if v.poster, v.posterAddr, err = k.decodeAddress("poster", msg.Poster); err != nil {
		return v, err
	}
	es, err := msg.Spec.EngineSpec()
	if err != nil {
		return v, err
	}
	if n := es.Arch().ParamCount(); n > params.MaxParams {
		return v, errorsmod.Wrapf(types.ErrInvalidSpec, "model has %d parameters, more than max_params %d", n, params.MaxParams)
	}
	if err := msg.Spec.ValidateSchedule(params); err != nil {
		return v, err
	}
	if err := msg.Dataset.Validate(es, params); err != nil {
		return v, err
	}
	if err := k.validateBase(ctx, msg.Spec, es); err != nil {
		return v, err
	}
	if job := msg.Dataset.AnnotationJob; job != 0 {
		if *k.annotation == nil {
			return v, errorsmod.Wrap(types.ErrInvalidDataset, "annotation jobs are not wired (SetAnnotationKeeper)")
		}
		items, err := (*k.annotation).SettledItems(ctx, job)
		if err != nil {
			return v, errorsmod.Wrapf(types.ErrInvalidDataset, "annotation job %d: %s", job, err)
		}
		if items.Rows != msg.Dataset.Rows || items.Schema != msg.Dataset.Schema {
			return v, errorsmod.Wrapf(types.ErrInvalidDataset, "annotation job %d labels %d rows of schema %v; the dataset says %d rows of %v",
				job, items.Rows, items.Schema, msg.Dataset.Rows, msg.Dataset.Schema)
		}
	}
	// A spec the engine provably cannot train for total_steps (an Adam
	// schedule whose bias-corrected rate crosses the engine's cap at some
	// step, rows whose values overflow the spec's fixed point) would cost
	// every honest worker its bond: refused, in closed form.
	ds, err := msg.Dataset.Schema.DatasetSchema()
	if err != nil {
		return v, err
	}
	rows := engine.RowFormat{FixedPoint: ds.Feature == dataset.FeatureFixed32 || ds.Kind == dataset.KindRegression, FracBits: ds.FracBits}
	if err := engine.CheckTrainable(es, msg.Spec.TotalSteps, rows); err != nil {
		return v, errorsmod.Wrapf(types.ErrInvalidSpec, "the engine cannot train this job: %s", err)
	}
	// Every segment must be revealable within x/verification's limits, or an
	// honest worker could never pass and a reveal could ask validators for
	// unbounded work.
	if *k.verification == nil {
		return v, errorsmod.Wrap(types.ErrInvalidSpec, "x/verification is not wired (SetVerificationKeeper)")
	}
	if err := (*k.verification).CheckRevealable(ctx, msg.Spec, msg.Dataset); err != nil {
		return v, errorsmod.Wrap(types.ErrInvalidSpec, err.Error())
	}
	if err := validateCoin("reward", msg.Reward, params, types.ErrInvalidReward); err != nil {
		return v, err
	}
	if err := validateCoin("bond", msg.Bond, params, types.ErrInvalidBond); err != nil {
		return v, err
	}
	rewardTerms, _ := params.Terms(msg.Reward.Denom)
	bondTerms, _ := params.Terms(msg.Bond.Denom)
	if msg.Reward.Amount.LT(rewardTerms.MinReward) {
		return v, errorsmod.Wrapf(types.ErrInvalidReward, "reward %s is below min_reward %s%s", msg.Reward, rewardTerms.MinReward, msg.Reward.Denom)
	}
	if msg.Bond.Amount.LT(bondTerms.MinBond) {
		return v, errorsmod.Wrapf(types.ErrInvalidBond, "bond %s is below min_bond %s%s", msg.Bond, bondTerms.MinBond, msg.Bond.Denom)
	}
	replicas := msg.Replicas
	if replicas == 0 {
		replicas = 1
	}
	if replicas > params.MaxReplicas {
		return v, errorsmod.Wrapf(types.ErrInvalidReplicas, "replicas %d exceeds max_replicas %d", replicas, params.MaxReplicas)
	}
	if msg.Reward.Amount.QuoRaw(int64(replicas)).IsZero() {
		return v, errorsmod.Wrapf(types.ErrInvalidReward, "reward %s cannot pay %d replicas", msg.Reward, replicas)
	}
	v.spec, v.replicas = es, replicas
	samples, err := chooseSamples(msg, params)
	if err != nil {
		return v, err
	}
	if n := msg.Spec.Segments(); uint64(samples) > n {
		return v, errorsmod.Wrapf(types.ErrInvalidSamples, "samples %d exceeds the %d segments of the job", samples, n)
	}
	if msg.ClaimWindow < params.MinClaimWindow || msg.ClaimWindow > params.MaxClaimWindow {
		return v, errorsmod.Wrapf(types.ErrInvalidWindow, "claim_window %s must be within [%s, %s]", msg.ClaimWindow, params.MinClaimWindow, params.MaxClaimWindow)
	}
	if msg.CommitWindow < params.MinCommitWindow || msg.CommitWindow > params.MaxCommitWindow {
		return v, errorsmod.Wrapf(types.ErrInvalidWindow, "commit_window %s must be within [%s, %s]", msg.CommitWindow, params.MinCommitWindow, params.MaxCommitWindow)
	}
	if n := len(msg.SecretHash); n != 0 && n != types.HashLen {
		return v, errorsmod.Wrapf(types.ErrInvalidHash, "secret_hash is %d bytes, want %d (or none)", n, types.HashLen)
	}
	v.samples = samples
	return v, nil
}

// decodeAddress decodes a message's address field and returns it with its
// canonical (lower-case bech32) spelling, which is what state stores.
func (k Keeper) decodeAddress(field, addr string) (sdk.AccAddress, string, error) {
	return addresses.Decode(k.authKeeper.AddressCodec(), field, addr, types.ErrInvalidAddress)
}

// isPoster tells whether addr is the task's poster, comparing address bytes
// (bech32 accepts an all-upper-case spelling of the same address).
func (k Keeper) isPoster(t types.Task, addr []byte) (bool, error) {
	poster, err := k.authKeeper.AddressCodec().StringToBytes(t.Poster)
	if err != nil {
		return false, err
	}
	return bytes.Equal(poster, addr), nil
}

// chooseSamples returns k: given directly, or derived from detection_bps.
func chooseSamples(msg *types.MsgPostTask, p types.Params) (uint32, error) {
	switch {
	case msg.Samples > 0 && msg.DetectionBps > 0:
		return 0, errorsmod.Wrap(types.ErrInvalidSamples, "give samples or detection_bps, not both")
	case msg.Samples > 0:
		if msg.Samples > p.MaxSamples {
			return 0, errorsmod.Wrapf(types.ErrInvalidSamples, "samples %d exceeds max_samples %d", msg.Samples, p.MaxSamples)
		}
		return msg.Samples, nil
	case msg.DetectionBps > 0:
		k, err := types.DeriveSamples(msg.DetectionBps, p.AssumedForgedBps)
		if err != nil {
			return 0, errorsmod.Wrap(types.ErrInvalidSamples, err.Error())
		}
		if k > p.MaxSamples {
			return 0, errorsmod.Wrapf(types.ErrInvalidSamples, "detection_bps %d needs %d samples, more than max_samples %d", msg.DetectionBps, k, p.MaxSamples)
		}
		return k, nil
	default:
		return 0, errorsmod.Wrap(types.ErrInvalidSamples, "give samples (k >= 1) or detection_bps")
	}
}

// validateCoin checks a coin's form and that its denom is on the allow-list
// (the native denom or params.accepted_denoms); the minimums are checked by
// the caller.
func validateCoin(field string, c sdk.Coin, params types.Params, errType *errorsmod.Error) error {
	if c.Amount.IsNil() {
		return errorsmod.Wrapf(errType, "%s is missing", field)
	}
	if err := c.Validate(); err != nil {
		return errorsmod.Wrapf(errType, "%s %s: %s", field, c, err)
	}
	if _, ok := params.Terms(c.Denom); !ok {
		return errorsmod.Wrapf(errType, "%s denom %q is not accepted; accepted: %s", field, c.Denom, strings.Join(params.AcceptedDenomNames(), ", "))
	}
	return nil
}

// validateBase checks a LoRA task's base against the model registry. A base
// that is a LoRA result recorded on chain is a stacked base: the spec must
// say so (base_lora_rank = that task's rank, which sizes the reveal and the
// merge validators do), the result must sit on a dense base (one level) and
// share the architecture. A dense base need not be registered (any model
// published off chain may be fine-tuned), but a registered LoRA result
// cannot be passed off as dense: its reveal would not decode.
func (k Keeper) validateBase(ctx context.Context, s types.TrainingSpec, es engine.Spec) error {
	if s.LoraRank == 0 {
		return nil
	}
	rec, err := k.Models.Get(ctx, s.BaseModelHash)
	if errors.Is(err, collections.ErrNotFound) {
		if s.BaseLoraRank > 0 {
			return errorsmod.Wrapf(types.ErrInvalidSpec, "base_lora_rank %d: base model %X is not a LoRA result recorded on chain", s.BaseLoraRank, s.BaseModelHash)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if len(rec.BaseModelHash) == 0 {
		if s.BaseLoraRank > 0 {
			return errorsmod.Wrapf(types.ErrInvalidSpec, "base_lora_rank %d: base model %X is dense (trained from scratch by task %d); set base_lora_rank 0", s.BaseLoraRank, s.BaseModelHash, rec.TaskId)
		}
		return nil
	}
	src, err := k.Tasks.Get(ctx, rec.TaskId)
	if err != nil {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "base model %X: its task %d: %s", s.BaseModelHash, rec.TaskId, err)
	}
	if src.Spec.BaseLoraRank != 0 {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "base model %X is itself fine-tuned on a stacked base: bases stack one level only", s.BaseModelHash)
	}
	if s.BaseLoraRank != src.Spec.LoraRank {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "base model %X is a rank-%d LoRA result of task %d: base_lora_rank must be %d, got %d",
			s.BaseModelHash, src.Spec.LoraRank, rec.TaskId, src.Spec.LoraRank, s.BaseLoraRank)
	}
	srcSpec, err := src.Spec.EngineSpec()
	if err != nil {
		return err
	}
	if !srcSpec.Arch().Equal(es.Arch()) {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "base model %X has another architecture than the spec", s.BaseModelHash)
	}
	return nil
}
