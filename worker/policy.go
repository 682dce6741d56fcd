package worker

import (
	"fmt"
	"slices"
	"strings"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// Policy decides which open tasks a worker claims.
type Policy struct {
	// MaxConcurrent is the number of tasks trained at the same time.
	MaxConcurrent int
	// MinRewardPerMAC is the least reward per multiply-accumulate of
	// training, for this worker's replica share, in each reward denom's base
	// unit. A task paid in a denom the map does not price is declined: the
	// worker has said nothing of what that token is worth to it. A nil map
	// accepts any pay (library use; the CLI always sets it).
	MinRewardPerMAC map[string]sdkmath.LegacyDec
	// Models and Objectives accepted; empty accepts any.
	Models     []taskstypes.ModelKind
	Objectives []taskstypes.Objective
}

// TrainingMACs is the work of the whole job: MACs per step times steps.
func TrainingMACs(t taskstypes.Task) (uint64, error) {
	es, err := t.Spec.EngineSpec()
	if err != nil {
		return 0, err
	}
	return engine.MACsPerStep(es) * t.Spec.TotalSteps, nil
}

// RewardPerMAC is one replica's reward divided by the job's MACs.
func RewardPerMAC(t taskstypes.Task) (sdkmath.LegacyDec, error) {
	macs, err := TrainingMACs(t)
	if err != nil {
		return sdkmath.LegacyDec{}, err
	}
	if macs == 0 {
		return sdkmath.LegacyDec{}, fmt.Errorf("task %d: job has no work", t.Id)
	}
	replicas := max(t.Replicas, 1)
	share := t.Reward.Amount.QuoRaw(int64(replicas))
	return sdkmath.LegacyNewDecFromInt(share).QuoInt64(int64(macs)), nil
}

// Check returns nil if the policy accepts the task, or why not.
func (p Policy) Check(t taskstypes.Task) error {
	if err := p.checkSpec(t.Spec); err != nil {
		return err
	}
	rpm, err := RewardPerMAC(t)
	if err != nil {
		return err
	}
	return p.checkPrice("reward", rpm, t.Reward.Denom)
}

// checkPrice compares a reward per MAC with the worker's price for its denom.
func (p Policy) checkPrice(what string, rpm sdkmath.LegacyDec, denom string) error {
	if p.MinRewardPerMAC == nil {
		return nil
	}
	least, ok := p.MinRewardPerMAC[denom]
	if !ok {
		return fmt.Errorf("%s is paid in %s, which --min-reward-per-mac does not price", what, denom)
	}
	if rpm.LT(least) {
		return fmt.Errorf("%s per MAC %s%s is below --min-reward-per-mac %s%s", what, rpm, denom, least, denom)
	}
	return nil
}

// ParsePrices reads --min-reward-per-mac: a bare non-negative decimal is the
// price in the native denom; a comma-separated list of decimal coins
// (0.00001uhint,0.0000002ibc/27394FB0...) prices each denom listed.
func ParsePrices(s, native string) (map[string]sdkmath.LegacyDec, error) {
	s = strings.TrimSpace(s)
	if d, err := sdkmath.LegacyNewDecFromStr(s); err == nil {
		if d.IsNegative() {
			return nil, fmt.Errorf("%q is negative", s)
		}
		return map[string]sdkmath.LegacyDec{native: d}, nil
	}
	out := make(map[string]sdkmath.LegacyDec)
	for _, item := range splitList(s) {
		c, err := sdk.ParseDecCoin(item)
		if err != nil {
			return nil, fmt.Errorf("%q: want a decimal or decimal coins such as 0.00001%s: %w", item, native, err)
		}
		if _, dup := out[c.Denom]; dup {
			return nil, fmt.Errorf("%s is priced twice", c.Denom)
		}
		out[c.Denom] = c.Amount
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no price given")
	}
	return out, nil
}

// checkSpec applies --models and --objectives.
func (p Policy) checkSpec(s taskstypes.TrainingSpec) error {
	if len(p.Models) > 0 && !slices.Contains(p.Models, s.Model) {
		return fmt.Errorf("model %s is not in --models", s.Model)
	}
	if len(p.Objectives) > 0 && !slices.Contains(p.Objectives, s.Objective) {
		return fmt.Errorf("objective %s is not in --objectives", s.Objective)
	}
	return nil
}

// CheckFederated returns nil if the policy accepts a federated job, or why
// not: its model and objective, and its pay per accepted update over the
// MACs of one round's local training against --min-reward-per-mac.
func (p Policy) CheckFederated(j fedtypes.FederatedJob) error {
	if err := p.checkSpec(j.Spec); err != nil {
		return err
	}
	es, err := j.Spec.EngineSpec()
	if err != nil {
		return err
	}
	macs := engine.MACsPerStep(es) * j.Spec.TotalSteps
	if macs == 0 {
		return fmt.Errorf("federated job %d: local training has no work", j.Id)
	}
	pay := j.PayPerUpdate.Amount
	if pay.IsNil() {
		pay = sdkmath.ZeroInt()
	}
	rpm := sdkmath.LegacyNewDecFromInt(pay).QuoInt64(int64(macs))
	return p.checkPrice("pay", rpm, j.PayPerUpdate.Denom)
}

// ParseModels reads a comma-separated list of linear, mlp, transformer.
func ParseModels(s string) ([]taskstypes.ModelKind, error) {
	var out []taskstypes.ModelKind
	for _, name := range splitList(s) {
		switch name {
		case "linear":
			out = append(out, taskstypes.MODEL_KIND_LINEAR)
		case "mlp":
			out = append(out, taskstypes.MODEL_KIND_MLP)
		case "transformer":
			out = append(out, taskstypes.MODEL_KIND_TRANSFORMER)
		default:
			return nil, fmt.Errorf("model %q: want linear, mlp or transformer", name)
		}
	}
	return out, nil
}

// ParseObjectives reads a comma-separated list of mse, softmax-ce, bradley-terry,
// next-token, dpo.
func ParseObjectives(s string) ([]taskstypes.Objective, error) {
	var out []taskstypes.Objective
	for _, name := range splitList(s) {
		switch name {
		case "mse":
			out = append(out, taskstypes.OBJECTIVE_MSE)
		case "softmax-ce":
			out = append(out, taskstypes.OBJECTIVE_SOFTMAX_CE)
		case "bradley-terry":
			out = append(out, taskstypes.OBJECTIVE_BRADLEY_TERRY)
		case "next-token":
			out = append(out, taskstypes.OBJECTIVE_NEXT_TOKEN)
		case "dpo":
			out = append(out, taskstypes.OBJECTIVE_DPO)
		default:
			return nil, fmt.Errorf("objective %q: want mse, softmax-ce, bradley-terry, next-token or dpo", name)
		}
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
