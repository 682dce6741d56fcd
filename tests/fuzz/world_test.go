package fuzz

import (
	"crypto/sha256"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	rewardskeeper "github.com/hinterland-ai/hinterland/x/rewards/keeper"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationkeeper "github.com/hinterland-ai/hinterland/x/verification/keeper"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

var (
	poster     = keepers.Addr(1)
	worker     = keepers.Addr(2)
	worker2    = keepers.Addr(3)
	challenger = keepers.Addr(4)
	stranger   = keepers.Addr(5) // never funded
	data       = fixtures.Synthetic(64)
)

// world is a keeper fixture holding one task in every stage a message can
// find it in:
//
//	Open       posted, unclaimed
//	Claimed    claimed by worker, not committed (ClaimedRun is its training)
//	Challenged committed by worker, sampled, Pending segments unanswered
//	Passed     committed by worker, every sample answered, in its fraud window
type world struct {
	f                                    *keepers.Fixture
	tasks                                taskstypes.MsgServer
	ver                                  verificationtypes.MsgServer
	rew                                  rewardstypes.MsgServer
	Open, Claimed, Challenged, Passed    uint64
	ClaimedRun, ChallengedRun, PassedRun *fixtures.Run
	Pending                              []uint32
	digest                               [32]byte
}

func newWorld(tb testing.TB) *world {
	f := keepers.New(tb)
	for _, a := range []sdk.AccAddress{poster, worker, worker2, challenger} {
		f.Fund(tb, a, 100_000_000)
	}
	w := &world{f: f, tasks: taskskeeper.NewMsgServerImpl(f.Tasks), ver: verificationkeeper.NewMsgServerImpl(f.Verification),
		rew: rewardskeeper.NewMsgServerImpl(f.Rewards)}
	post := func() uint64 {
		res, err := w.tasks.PostTask(f.Ctx, fixtures.PostMsg(poster, data))
		must(tb, err)
		return res.TaskId
	}
	claimTrain := func(id uint64) *fixtures.Run {
		_, err := w.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: id})
		must(tb, err)
		task, err := f.Tasks.GetTask(f.Ctx, id)
		must(tb, err)
		run, err := fixtures.Train(task, data)
		must(tb, err)
		return run
	}
	w.Open, w.Claimed, w.Challenged, w.Passed = post(), post(), post(), post()
	w.ClaimedRun = claimTrain(w.Claimed)
	w.ChallengedRun, w.PassedRun = claimTrain(w.Challenged), claimTrain(w.Passed)
	for _, run := range []*fixtures.Run{w.ChallengedRun, w.PassedRun} {
		_, err := w.ver.CommitTranscript(f.Ctx, run.Commit(worker))
		must(tb, err)
	}
	f.Advance(tb, 5*time.Second)
	tr, err := f.Verification.GetTranscript(f.Ctx, w.Challenged, worker)
	must(tb, err)
	w.Pending = tr.Sampled
	tr, err = f.Verification.GetTranscript(f.Ctx, w.Passed, worker)
	must(tb, err)
	for _, seg := range tr.Sampled {
		msg, err := w.PassedRun.Reveal(worker, seg)
		must(tb, err)
		_, err = w.ver.RevealSegment(f.Ctx, msg)
		must(tb, err)
	}
	w.digest = w.stateDigest(tb, f.Ctx)
	// Whatever the inputs did, the world the branches came from is as it was.
	tb.Cleanup(func() {
		if w.stateDigest(tb, w.f.Ctx) != w.digest {
			tb.Errorf("messages run on branches changed the world's state")
		}
	})
	return w
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// stateDigest hashes the three modules' exports and the module account's
// balance: what a message may change.
func (w *world) stateDigest(tb testing.TB, ctx sdk.Context) [32]byte {
	h := sha256.New()
	tg, err := w.f.Tasks.ExportGenesis(ctx)
	must(tb, err)
	vg, err := w.f.Verification.ExportGenesis(ctx)
	must(tb, err)
	rg, err := w.f.Rewards.ExportGenesis(ctx)
	must(tb, err)
	for _, m := range []interface{ Marshal() ([]byte, error) }{tg, vg, rg} {
		bz, err := m.Marshal()
		must(tb, err)
		h.Write(bz)
	}
	for _, a := range []sdk.AccAddress{poster, worker, worker2, challenger, w.f.Rewards.ModuleAddress()} {
		h.Write([]byte(w.f.Bank.GetAllBalances(ctx, a).String()))
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// deliver runs one message on a branch of the world's state, as runTx runs
// a transaction's message, and checks the outcome:
//   - a rejection carries a registered error (a codespace and a code other
//     than the SDK's "internal" 1); its branch is dropped, as runTx drops it.
//     (That a refused transaction changes nothing on the real app, fee and
//     sequence aside, tests/badinput checks against a twin chain; the world
//     is checked unchanged when the target's process ends, see check.)
//   - an acceptance leaves custody exact and every module's state a valid
//     genesis.
//
// Panics fail the fuzz target.
func (w *world) deliver(t *testing.T, run func(ctx sdk.Context) error) error {
	branch, _ := w.f.Ctx.CacheContext()
	err := run(branch)
	if err != nil {
		if space, code, _ := errorsmod.ABCIInfo(err, false); space == errorsmod.UndefinedCodespace || code <= 1 {
			t.Fatalf("unregistered error (codespace %q, code %d): %v", space, code, err)
		}
		return err
	}
	if err := w.f.Rewards.CheckCustody(branch); err != nil {
		t.Fatalf("custody broken by an accepted message: %v", err)
	}
	tg, err := w.f.Tasks.ExportGenesis(branch)
	must(t, err)
	vg, err := w.f.Verification.ExportGenesis(branch)
	must(t, err)
	rg, err := w.f.Rewards.ExportGenesis(branch)
	must(t, err)
	if err := tg.Validate(); err != nil {
		t.Fatalf("accepted message left an invalid x/tasks state: %v", err)
	}
	if err := vg.Validate(); err != nil {
		t.Fatalf("accepted message left an invalid x/verification state: %v", err)
	}
	if err := rg.Validate(); err != nil {
		t.Fatalf("accepted message left an invalid x/rewards state: %v", err)
	}
	return nil
}

// account picks an address: one of the world's accounts, or raw as given.
func account(sel uint8, raw string) string {
	switch sel % 8 {
	case 0:
		return poster.String()
	case 1:
		return worker.String()
	case 2:
		return worker2.String()
	case 3:
		return challenger.String()
	case 4:
		return stranger.String()
	case 5:
		return authority
	default:
		return raw
	}
}

// authority is the gov module address, the only one allowed to update params.
var authority = authtypes.NewModuleAddress(govtypes.ModuleName).String()
