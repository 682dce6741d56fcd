package fuzz

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
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
// find it in (and annotation jobs, see annWorld):
//
//	Open       posted, unclaimed
//	Claimed    claimed by worker, not sealed (ClaimedRun is its training)
//	Challenged sealed and opened by worker, sampled, Pending segments unanswered
//	Passed     sealed and opened by worker, every sample answered, in its fraud
//	           window; the challenger sealed a fraud challenge of its
//	           segment Unverified (with ChallengeSalt) in an earlier block
//	Sealed     sealed by worker (claims closed), not opened (SealedRun)
//	Secret     posted with a requester secret (Secret), sealed and opened by
//	           worker, waiting for the secret
type world struct {
	f                                    *keepers.Fixture
	tasks                                taskstypes.MsgServer
	ver                                  verificationtypes.MsgServer
	rew                                  rewardstypes.MsgServer
	Open, Claimed, Challenged, Passed    uint64
	Sealed, Secret                       uint64
	ClaimedRun, ChallengedRun, PassedRun *fixtures.Run
	SealedRun                            *fixtures.Run
	Pending                              []uint32
	Unverified                           uint32
	Ann                                  annWorld
	digest                               [32]byte
}

// secret is the requester secret of the world's Secret task.
var secret = func() []byte { h := sha256.Sum256([]byte("fuzz-secret")); return h[:] }()

// challengeSalt is the salt of the challenger's sealed challenge of Passed.
var challengeSalt = func() []byte { h := sha256.Sum256([]byte("fuzz-challenge-salt")); return h[:] }()

func newWorld(tb testing.TB) *world {
	f := keepers.New(tb)
	for _, a := range []sdk.AccAddress{poster, worker, worker2, challenger} {
		f.Fund(tb, a, 100_000_000)
	}
	w := &world{f: f, tasks: taskskeeper.NewMsgServerImpl(f.Tasks), ver: verificationkeeper.NewMsgServerImpl(f.Verification),
		rew: rewardskeeper.NewMsgServerImpl(f.Rewards)}
	w.setupAnnotation(tb)
	post := func(secretHash ...byte) uint64 {
		msg := fixtures.PostMsg(poster, data)
		msg.SecretHash = secretHash
		res, err := w.tasks.PostTask(f.Ctx, msg)
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
	secretHash := sha256.Sum256(secret)
	w.Open, w.Claimed, w.Challenged, w.Passed = post(), post(), post(), post()
	w.Sealed, w.Secret = post(), post(secretHash[:]...)
	w.ClaimedRun = claimTrain(w.Claimed)
	w.ChallengedRun, w.PassedRun = claimTrain(w.Challenged), claimTrain(w.Passed)
	w.SealedRun = claimTrain(w.Sealed)
	secretRun := claimTrain(w.Secret)
	for _, run := range []*fixtures.Run{w.ChallengedRun, w.PassedRun, w.SealedRun, secretRun} {
		_, err := w.ver.SealTranscript(f.Ctx, run.Seal(worker))
		must(tb, err)
	}
	for _, run := range []*fixtures.Run{w.ChallengedRun, w.PassedRun, secretRun} {
		_, err := w.ver.OpenTranscript(f.Ctx, run.Open(worker))
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
	for slices.Contains(tr.Sampled, w.Unverified) {
		w.Unverified++
	}
	_, err = w.ver.SealChallenge(f.Ctx, w.sealChallenge(challenger, w.Unverified, challengeSalt))
	must(tb, err)
	f.Advance(tb, 5*time.Second) // the seal opens in a later block
	w.digest = w.stateDigest(tb, f.Ctx)
	// Whatever the inputs did, the world the branches came from is as it was.
	tb.Cleanup(func() {
		if w.stateDigest(tb, w.f.Ctx) != w.digest {
			tb.Errorf("messages run on branches changed the world's state")
		}
	})
	return w
}

// sealChallenge is c's MsgSealChallenge of segment seg of the worker's
// transcript of Passed, with the required bond.
func (w *world) sealChallenge(c sdk.AccAddress, seg uint32, salt []byte) *verificationtypes.MsgSealChallenge {
	task, err := w.f.Tasks.GetTask(w.f.Ctx, w.Passed)
	if err != nil {
		panic(err)
	}
	params, err := w.f.Verification.Params.Get(w.f.Ctx)
	if err != nil {
		panic(err)
	}
	return &verificationtypes.MsgSealChallenge{Challenger: c.String(), TaskId: w.Passed, Worker: worker.String(),
		Commitment: recompute.ChallengeCommitment(w.Passed, worker, c, seg, salt), Bond: recompute.ChallengeBond(task, params)}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// stateDigest hashes the four modules' exports and the module account's
// balance: what a message may change.
func (w *world) stateDigest(tb testing.TB, ctx sdk.Context) [32]byte {
	h := sha256.New()
	tg, err := w.f.Tasks.ExportGenesis(ctx)
	must(tb, err)
	vg, err := w.f.Verification.ExportGenesis(ctx)
	must(tb, err)
	rg, err := w.f.Rewards.ExportGenesis(ctx)
	must(tb, err)
	ag, err := w.f.Annotation.ExportGenesis(ctx)
	must(tb, err)
	for _, m := range []interface{ Marshal() ([]byte, error) }{tg, vg, rg, ag} {
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
	ag, err := w.f.Annotation.ExportGenesis(branch)
	must(t, err)
	if err := ag.Validate(); err != nil {
		t.Fatalf("accepted message left an invalid x/annotation state: %v", err)
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
