package fuzz

import (
	"testing"

	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/hinterland-ai/hinterland/testutil/keepers"

	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// The genesis targets start from the world's export (every kind of entry
// present) and fuzz the fields Validate checks and InitGenesis relies on: a
// genesis that Validate accepts (what `genesis validate` runs) must load on
// a fresh chain.
// Entries are changed in place, so the structure stays close to a real
// export and the fuzzer spends its time on values.

func pick[T any](list []T, i uint8) *T {
	if len(list) == 0 {
		return nil
	}
	return &list[int(i)%len(list)]
}

// FuzzTasksGenesis: next task id, a task's id, poster, status, counters,
// seed and spec size, and an assignment's task, worker and status.
func FuzzTasksGenesis(f *testing.F) {
	w := newWorld(f)
	f.Add(uint64(5), uint8(0), uint64(1), uint8(0), "", int32(1), uint32(1), uint32(0), uint32(0), []byte{}, uint32(16),
		uint8(0), uint64(2), uint8(1), "", int32(1), false)
	f.Add(uint64(1), uint8(2), uint64(0), uint8(6), "x", int32(0), uint32(0), uint32(3), uint32(9), []byte{1}, uint32(0),
		uint8(1), uint64(77), uint8(6), "y", int32(9), true)
	f.Fuzz(func(t *testing.T, next uint64, ti uint8, id uint64, posterSel uint8, posterRaw string, status int32, replicas,
		active, verified uint32, seed []byte, inputs uint32, ai uint8, aTask uint64, workerSel uint8, workerRaw string,
		aStatus int32, dupAssignment bool,
	) {
		gs, err := w.f.Tasks.ExportGenesis(w.f.Ctx)
		must(t, err)
		gs.NextTaskId = next
		if task := pick(gs.Tasks, ti); task != nil {
			task.Id, task.Poster, task.Status = id, account(posterSel, posterRaw), taskstypes.TaskStatus(status)
			task.Replicas, task.Active, task.Verified, task.Spec.Inputs = replicas, active, verified, inputs
			if len(seed) > 0 {
				task.Seed = seed
			}
		}
		if a := pick(gs.Assignments, ai); a != nil {
			a.TaskId, a.Worker, a.Status = aTask, account(workerSel, workerRaw), taskstypes.AssignmentStatus(aStatus)
			if dupAssignment {
				gs.Assignments = append(gs.Assignments, *a)
			}
		}
		if gs.Validate() != nil {
			return
		}
		fresh := keepers.New(t)
		if err := fresh.Tasks.InitGenesis(fresh.Ctx, gs); err != nil {
			t.Fatalf("x/tasks genesis passes Validate but does not load: %v", err)
		}
	})
}

// FuzzVerificationGenesis: a transcript's worker, status, checkpoints and
// heights, a challenge's transcript, segment, kind, status and challenger,
// a verdict's id, a challenge seal's worker, challenger, commitment and slot.
func FuzzVerificationGenesis(f *testing.F) {
	w := newWorld(f)
	f.Add(uint64(9), uint8(0), uint8(1), "", int32(3), uint16(0), []byte{}, int64(1), uint8(0), uint64(3), uint8(1), "",
		uint32(1), int32(1), int32(1), uint8(3), "", uint8(0), uint64(1), uint8(1), "", uint8(3), "", []byte{}, uint32(1<<31))
	f.Add(uint64(0), uint8(1), uint8(6), "z", int32(0), uint16(3), []byte{1, 2}, int64(-1), uint8(1), uint64(0), uint8(7), "",
		uint32(1<<31), int32(7), int32(9), uint8(7), "q", uint8(2), uint64(99), uint8(7), "w", uint8(1), "", []byte{1}, uint32(0))
	f.Fuzz(func(t *testing.T, nextVerdict uint64, ti uint8, workerSel uint8, workerRaw string, status int32, keepCk uint16,
		ck []byte, height int64, ci uint8, cTask uint64, cWorkerSel uint8, cWorkerRaw string, segment uint32, kind, cStatus int32,
		challengerSel uint8, challengerRaw string, vi uint8, vid uint64, sWorkerSel uint8, sWorkerRaw string,
		sChallengerSel uint8, sChallengerRaw string, commitment []byte, slot uint32,
	) {
		gs, err := w.f.Verification.ExportGenesis(w.f.Ctx)
		must(t, err)
		gs.NextVerdictId = nextVerdict
		if tr := pick(gs.Transcripts, ti); tr != nil {
			tr.Worker, tr.Status, tr.CommittedHeight = account(workerSel, workerRaw), verificationtypes.TranscriptStatus(status), height
			tr.Checkpoints = tr.Checkpoints[:min(int(keepCk), len(tr.Checkpoints))]
			if len(ck) > 0 {
				tr.Checkpoints = append(tr.Checkpoints, ck)
			}
		}
		if c := pick(gs.Challenges, ci); c != nil {
			c.TaskId, c.Worker, c.Segment = cTask, account(cWorkerSel, cWorkerRaw), segment
			c.Kind, c.Status = verificationtypes.ChallengeKind(kind), verificationtypes.ChallengeStatus(cStatus)
			c.Challenger = account(challengerSel, challengerRaw)
		}
		if v := pick(gs.Verdicts, vi); v != nil {
			v.Id = vid
		}
		if s := pick(gs.ChallengeSeals, 0); s != nil {
			s.Worker, s.Challenger, s.Slot = account(sWorkerSel, sWorkerRaw), account(sChallengerSel, sChallengerRaw), slot
			if len(commitment) > 0 {
				s.Commitment = commitment
			}
		}
		if gs.Validate() != nil {
			return
		}
		fresh := keepers.New(t)
		if err := fresh.Verification.InitGenesis(fresh.Ctx, gs); err != nil {
			t.Fatalf("x/verification genesis passes Validate but does not load: %v", err)
		}
	})
}

// FuzzRewardsGenesis: an escrow's task, poster and amounts, a bond's task,
// owner, challenged worker and amount, a reputation's address, epoch work;
// custody is funded with what the genesis holds, as a bank genesis would.
func FuzzRewardsGenesis(f *testing.F) {
	w := newWorld(f)
	f.Add(uint8(0), uint64(1), uint8(0), "", "uhint", int64(1_000_000), int64(1_000_000), uint8(0), uint64(2), uint8(1), "",
		uint8(7), "", int64(200_000), uint8(2), "", uint8(1), "")
	f.Add(uint8(1), uint64(0), uint8(7), "bad", "", int64(-1), int64(0), uint8(1), uint64(99), uint8(6), "", uint8(2), "",
		int64(0), uint8(7), "", uint8(7), "x")
	f.Fuzz(func(t *testing.T, ei uint8, eTask uint64, posterSel uint8, posterRaw, denom string, amount, share int64,
		bi uint8, bTask uint64, ownerSel uint8, ownerRaw string, againstSel uint8, againstRaw string, bondAmount int64,
		repSel uint8, repRaw string, workSel uint8, workRaw string,
	) {
		gs, err := w.f.Rewards.ExportGenesis(w.f.Ctx)
		must(t, err)
		if e := pick(gs.Escrows, ei); e != nil {
			e.TaskId, e.Poster = eTask, account(posterSel, posterRaw)
			e.Amount, e.Share = coin(denom, amount), coin(denom, share)
		}
		if b := pick(gs.Bonds, bi); b != nil {
			b.TaskId, b.Owner, b.Amount = bTask, account(ownerSel, ownerRaw), coin(denom, bondAmount)
			if againstSel%2 == 1 {
				b.Against = account(againstSel/2, againstRaw)
			}
		}
		gs.Reputations = append(gs.Reputations, rewardstypes.Reputation{Address: account(repSel, repRaw), Verified: 1, VerifiedMacs: 7})
		gs.EpochWork = append(gs.EpochWork, rewardstypes.EpochWork{Worker: account(workSel, workRaw), Macs: 5})
		if gs.Validate() != nil {
			return
		}
		// A fresh chain whose bank genesis funds custody with what the
		// genesis holds.
		fresh := keepers.New(t)
		if held := gs.Held(); !held.IsZero() {
			if err := fresh.Bank.MintCoins(fresh.Ctx, minttypes.ModuleName, held); err != nil {
				return // a denom the bank cannot mint
			}
			must(t, fresh.Bank.SendCoinsFromModuleToModule(fresh.Ctx, minttypes.ModuleName, rewardstypes.ModuleName, held))
		}
		if err := fresh.Rewards.InitGenesis(fresh.Ctx, gs); err != nil {
			t.Fatalf("x/rewards genesis passes Validate but does not load: %v", err)
		}
	})
}
