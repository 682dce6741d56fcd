package sim

import (
	"fmt"
	"sort"
	"strings"

	"cosmossdk.io/collections"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	annotationkeeper "github.com/hinterland-ai/hinterland/x/annotation/keeper"
	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	federatedkeeper "github.com/hinterland-ai/hinterland/x/federated/keeper"
	federatedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskssim "github.com/hinterland-ai/hinterland/x/tasks/simulation"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// Outcomes counts what the Hinterland modules hold at the end of a run:
// tasks, claims and transcripts by status, challenges by kind and status,
// verdicts by outcome; annotation jobs and batches by status, the gold sets
// revealed, the labels accepted and the annotators slashed; federated jobs,
// rounds and updates by status. It shows which
// paths a run exercised.
func Outcomes(a *SimApp) string {
	ctx := a.NewContextLegacy(true, cmtproto.Header{Height: a.LastBlockHeight()})
	counts := map[string]int{}
	must := func(err error) {
		if err != nil {
			counts["error: "+err.Error()]++
		}
	}
	must(a.TasksKeeper.Tasks.Walk(ctx, nil, func(_ uint64, t taskstypes.Task) (bool, error) {
		counts["task "+t.Status.String()]++
		if t.Reward.Denom != t.Bond.Denom {
			counts["task paid and bonded in two denoms"]++
		} else if t.Reward.Denom == taskssim.Voucher {
			counts["task in the voucher "+t.Status.String()]++
		}
		return false, nil
	}))
	must(a.TasksKeeper.Assignments.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], x taskstypes.Assignment) (bool, error) {
		counts["claim "+x.Status.String()]++
		return false, nil
	}))
	r := a.RewardsKeeper
	must(r.Escrows.Walk(ctx, nil, func(uint64, rewardstypes.Escrow) (bool, error) {
		counts["escrow held"]++
		return false, nil
	}))
	must(r.WorkerBonds.Walk(ctx, nil, func(collections.Pair[uint64, sdk.AccAddress], rewardstypes.Bond) (bool, error) {
		counts["worker bond held"]++
		return false, nil
	}))
	must(r.ChallengeBonds.Walk(ctx, nil, func(collections.Triple[uint64, sdk.AccAddress, uint32], rewardstypes.Bond) (bool, error) {
		counts["challenge bond held"]++
		return false, nil
	}))
	v := a.VerificationKeeper
	fk := a.FederatedKeeper
	must(fk.Jobs.Walk(ctx, nil, func(_ uint64, j federatedtypes.FederatedJob) (bool, error) {
		counts["federated job "+j.Status.String()]++
		return false, nil
	}))
	must(fk.Rounds.Walk(ctx, nil, func(_ federatedkeeper.RoundKey, r federatedtypes.Round) (bool, error) {
		counts["federated round "+r.Phase.String()]++
		counts["federated failed aggregates"] += len(r.FailedAggregators)
		return false, nil
	}))
	must(fk.Updates.Walk(ctx, nil, func(_ federatedkeeper.UpdateKey, u federatedtypes.Update) (bool, error) {
		counts["federated update "+u.Status.String()]++
		return false, nil
	}))
	must(v.Transcripts.Walk(ctx, nil, func(_ keeper.TranscriptKey, t verificationtypes.Transcript) (bool, error) {
		counts["transcript "+t.Status.String()]++
		if t.DrawSource != verificationtypes.DRAW_SOURCE_UNSPECIFIED {
			counts["transcript drawn from "+t.DrawSource.String()]++
		}
		return false, nil
	}))
	must(v.Challenges.Walk(ctx, nil, func(_ keeper.ChallengeKey, c verificationtypes.Challenge) (bool, error) {
		counts["challenge "+c.Kind.String()+" "+c.Status.String()]++
		return false, nil
	}))
	must(v.ChallengeSeals.Walk(ctx, nil, func(_ keeper.SealKey, _ verificationtypes.ChallengeSeal) (bool, error) {
		counts["challenge seal held"]++
		return false, nil
	}))
	must(v.Verdicts.Walk(ctx, nil, func(_ uint64, d verificationtypes.Verdict) (bool, error) {
		counts["verdict "+d.Outcome.String()]++
		return false, nil
	}))
	must(r.JobEscrows.Walk(ctx, nil, func(uint64, rewardstypes.Escrow) (bool, error) {
		counts["annotation escrow held"]++
		return false, nil
	}))
	must(r.Stakes.Walk(ctx, nil, func(collections.Pair[uint64, sdk.AccAddress], rewardstypes.Bond) (bool, error) {
		counts["annotation stake held"]++
		return false, nil
	}))
	n := a.AnnotationKeeper
	now := a.Checker.LastBlockTime
	must(n.Jobs.Walk(ctx, nil, func(id uint64, j annotationtypes.Job) (bool, error) {
		counts["job "+j.Status.String()]++
		// A job that will not settle: its phase change or its aggregation
		// failed and was dropped (see the x/annotation keeper bugs in
		// docs/RELIABILITY.md).
		if j.Status == annotationtypes.JOB_STATUS_OPENING && !now.Before(j.GoldDeadline) {
			counts["job stuck opening past its gold deadline"]++
		}
		if j.Status == annotationtypes.JOB_STATUS_AGGREGATING {
			if queued, err := n.AggregateQueue.Has(ctx, id); err == nil && !queued {
				counts["job stuck aggregating, out of the queue"]++
			}
		}
		if j.GoldRevealed {
			counts["job gold revealed"]++
		}
		counts["job labels accepted"] += int(j.LabelsAccepted)
		counts["job annotators slashed"] += int(j.AnnotatorsSlashed)
		return false, nil
	}))
	must(n.Batches.Walk(ctx, nil, func(_ annotationkeeper.BatchKey, b annotationtypes.Batch) (bool, error) {
		counts["batch "+b.Status.String()]++
		return false, nil
	}))
	must(n.Aggregations.Walk(ctx, nil, func(uint64, []byte) (bool, error) {
		counts["aggregation in flight"]++
		return false, nil
	}))
	lines := make([]string, 0, len(counts))
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(lines)
	return strings.Join(lines, ", ")
}
