package worker

import (
	"fmt"
	"slices"
	"strings"

	sdkmath "cosmossdk.io/math"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// Policy decides which open tasks a worker claims.
type Policy struct {
	// MaxConcurrent is the number of tasks trained at the same time.
	MaxConcurrent int
	// MinRewardPerMAC is the least reward (in the reward denom's base unit,
	// for this worker's replica share) per multiply-accumulate of training.
	MinRewardPerMAC sdkmath.LegacyDec
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
	if !p.MinRewardPerMAC.IsNil() && rpm.LT(p.MinRewardPerMAC) {
		return fmt.Errorf("reward per MAC %s%s is below --min-reward-per-mac %s", rpm, t.Reward.Denom, p.MinRewardPerMAC)
	}
	return nil
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
	if !p.MinRewardPerMAC.IsNil() && rpm.LT(p.MinRewardPerMAC) {
		return fmt.Errorf("pay per MAC %s%s is below --min-reward-per-mac %s", rpm, j.PayPerUpdate.Denom, p.MinRewardPerMAC)
	}
	return nil
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
