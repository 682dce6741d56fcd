package badinput

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/apptest"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

var data = fixtures.Synthetic(64)

// Roles: accounts of the apptest chain.
const (
	posterI = iota
	workerI
	worker2I
	challengerI
	bystanderI
)

// pair is the chain under test (A) and its twin (B): built alike, fed the
// same blocks except that where A gets a bad transaction B gets nothing (a
// transaction refused before its messages run changes nothing) or a
// reference transaction from the same signer with the same fee that fails in
// its message handler (a message refused by its handler costs the fee and
// the sequence, nothing else). Their app hashes must stay equal.
type pair struct {
	t    testing.TB
	A, B *apptest.Chain
	// Task ids in every stage, and the workers' runs. Shared has two
	// replicas, one claimed by the worker. Sealed's only claim is sealed
	// (claims closed, not opened). Half has two replicas claimed by the
	// worker (sealed) and worker2 (not sealed), and a requester secret.
	// Secret has a requester secret, not revealed, and an opened transcript.
	Open, Claimed, Challenged, Passed, Shared uint64
	Sealed, Half, Secret                      uint64
	ClaimedRun, ChallengedRun                 *fixtures.Run
	PassedRun, SealedRun, HalfRun             *fixtures.Run
	Pending                                   []uint32 // pending segments of Challenged
	Unverified                                uint32   // a segment of Passed that the sample did not cover
	// Fraud challenges the challenger sealed on Passed, in a block before
	// the cases, by segment: the sampled (verified) one and one out of range.
	SealedChallenges map[uint32][]byte // segment -> salt
	// Ann are the annotation jobs (built first, so that their blocks do not
	// eat into the tasks' windows), Fed the federated jobs (built next).
	Ann annotationJobs
	Fed federatedJobs
}

// secret is the requester secret of the Half and Secret tasks.
var secret = func() []byte { h := sha256.Sum256([]byte("badinput-secret")); return h[:] }()

func secretHash() []byte { h := sha256.Sum256(secret); return h[:] }

// challengeSalt is the challenger's salt for its n-th sealed challenge.
func challengeSalt(n byte) []byte { h := sha256.Sum256([]byte{'s', n}); return h[:] }

// sealChallenge is the challenger's MsgSealChallenge of a segment of the
// worker's transcript of Passed, with the required bond.
func (p *pair) sealChallenge(from int, seg uint32, salt []byte) *verificationtypes.MsgSealChallenge {
	return &verificationtypes.MsgSealChallenge{Challenger: p.addr(from), TaskId: p.Passed, Worker: p.addr(workerI),
		Commitment: recompute.ChallengeCommitment(p.Passed, p.acc(workerI).Addr, p.acc(from).Addr, seg, salt),
		Bond:       p.challengeBond()}
}

// challengeBond is the smallest bond of a fraud challenge of Passed.
func (p *pair) challengeBond() sdk.Coin {
	params, err := p.A.App.VerificationKeeper.Params.Get(p.A.Ctx())
	require.NoError(p.t, err)
	return recompute.ChallengeBond(p.task(p.Passed), params)
}

func (p *pair) acc(i int) *apptest.Account { return p.A.Accounts[i] }
func (p *pair) addr(i int) string          { return p.A.Accounts[i].Addr.String() }

// both delivers msgs from account i to A and B in one block each and
// requires success.
func (p *pair) both(i int, msgs ...sdk.Msg) {
	p.t.Helper()
	p.A.Deliver(p.A.Tx(p.A.Accounts[i], apptest.TxOptions{}, msgs...))
	p.B.Deliver(p.B.Tx(p.B.Accounts[i], apptest.TxOptions{}, msgs...))
}

func (p *pair) emptyBlock() {
	p.A.NextBlock()
	p.B.NextBlock()
}

func (p *pair) task(id uint64) taskstypes.Task {
	t, err := p.A.App.TasksKeeper.GetTask(p.A.Ctx(), id)
	require.NoError(p.t, err)
	return t
}

func (p *pair) transcript(id uint64, i int) verificationtypes.Transcript {
	tr, err := p.A.App.VerificationKeeper.GetTranscript(p.A.Ctx(), id, p.acc(i).Addr)
	require.NoError(p.t, err)
	return tr
}

func (p *pair) train(id uint64) *fixtures.Run {
	run, err := fixtures.Train(p.task(id), data)
	require.NoError(p.t, err)
	return run
}

// newPair builds the twins with a task in every stage.
func newPair(t testing.TB) *pair {
	opts := apptest.Options{Genesis: annotationGenesis}
	p := &pair{t: t, A: apptest.New(t, opts), B: apptest.New(t, opts)}
	p.setupAnnotation()
	p.setupFederated()
	for range 4 {
		p.both(posterI, fixtures.PostMsg(p.acc(posterI).Addr, data))
	}
	shared := fixtures.PostMsg(p.acc(posterI).Addr, data)
	shared.Replicas = 2
	p.both(posterI, shared)
	p.both(posterI, fixtures.PostMsg(p.acc(posterI).Addr, data))
	half := fixtures.PostMsg(p.acc(posterI).Addr, data)
	half.Replicas, half.SecretHash = 2, secretHash()
	p.both(posterI, half)
	withSecret := fixtures.PostMsg(p.acc(posterI).Addr, data)
	withSecret.SecretHash = secretHash()
	p.both(posterI, withSecret)
	p.Open, p.Claimed, p.Challenged, p.Passed, p.Shared = 1, 2, 3, 4, 5
	p.Sealed, p.Half, p.Secret = 6, 7, 8
	for _, id := range []uint64{p.Claimed, p.Challenged, p.Passed, p.Shared, p.Sealed, p.Half, p.Secret} {
		p.both(workerI, &taskstypes.MsgClaimTask{Worker: p.addr(workerI), TaskId: id})
	}
	p.both(worker2I, &taskstypes.MsgClaimTask{Worker: p.addr(worker2I), TaskId: p.Half})
	p.ClaimedRun, p.ChallengedRun, p.PassedRun = p.train(p.Claimed), p.train(p.Challenged), p.train(p.Passed)
	p.SealedRun, p.HalfRun = p.train(p.Sealed), p.train(p.Half)
	secretRun := p.train(p.Secret)
	w := p.acc(workerI).Addr
	p.both(workerI, p.ChallengedRun.Seal(w), p.PassedRun.Seal(w), p.SealedRun.Seal(w), p.HalfRun.Seal(w), secretRun.Seal(w))
	p.both(workerI, p.ChallengedRun.Open(w), p.PassedRun.Open(w), secretRun.Open(w))
	p.emptyBlock() // draws the samples (not Secret's: its requester's secret is due)
	require.True(t, p.task(p.Sealed).ClaimsClosed)
	require.False(t, p.task(p.Half).ClaimsClosed)
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_SEALED, p.transcript(p.Sealed, workerI).Status)
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_COMMITTED, p.transcript(p.Secret, workerI).Status)
	p.Pending = p.transcript(p.Challenged, workerI).Sampled
	var reveals []sdk.Msg
	sampled := p.transcript(p.Passed, workerI).Sampled
	for _, seg := range sampled {
		msg, err := p.PassedRun.Reveal(p.acc(workerI).Addr, seg)
		require.NoError(t, err)
		reveals = append(reveals, msg)
	}
	p.both(workerI, reveals...)
	require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_PASSED, p.transcript(p.Passed, workerI).Status)
	for s := uint32(0); ; s++ {
		if !containsSeg(sampled, s) {
			p.Unverified = s
			break
		}
	}
	p.SealedChallenges = map[uint32][]byte{sampled[0]: challengeSalt(0), 1 << 31: challengeSalt(1)}
	p.both(challengerI, p.sealChallenge(challengerI, sampled[0], challengeSalt(0)), p.sealChallenge(challengerI, 1<<31, challengeSalt(1)))
	require.Equal(t, p.A.AppHash(), p.B.AppHash())
	return p
}

func containsSeg(list []uint32, s uint32) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// messages are one valid message of every kind the load sends, on the
// pair's state (seeds for fuzzing).
func (p *pair) messages() []sdk.Msg {
	reveal, err := p.ChallengedRun.Reveal(p.acc(workerI).Addr, p.Pending[0])
	require.NoError(p.t, err)
	w := p.acc(workerI).Addr
	return []sdk.Msg{
		fixtures.PostMsg(p.acc(posterI).Addr, data),
		&taskstypes.MsgClaimTask{Worker: p.addr(worker2I), TaskId: p.Open},
		&taskstypes.MsgCancelTask{Poster: p.addr(posterI), TaskId: p.Open},
		p.ClaimedRun.Seal(w),
		p.SealedRun.Open(w),
		reveal,
		p.sealChallenge(challengerI, p.Unverified, challengeSalt(2)),
		&verificationtypes.MsgChallengeSegment{Challenger: p.addr(challengerI), TaskId: p.Passed, Worker: p.addr(workerI),
			Segment: p.Unverified, Salt: challengeSalt(2)},
		&taskstypes.MsgRevealSecret{Poster: p.addr(posterI), TaskId: p.Secret, Secret: secret},
		&taskstypes.MsgAbandonClaim{Worker: p.addr(workerI), TaskId: p.Claimed},
		&rewardstypes.MsgFundPool{Sender: p.addr(bystanderI), Amount: sdk.NewInt64Coin("uhint", 1_000)},
		p.postJob(2, 16, time.Hour),
		&annotationtypes.MsgClaimBatch{Annotator: p.addr(bystanderI), JobId: p.Ann.Labelling},
		p.seal(p.Ann.Labelling, p.Ann.Claimed, workerI),
		p.open(p.Ann.Opening, p.Ann.Opened, workerI),
		&annotationtypes.MsgRevealGold{Requester: p.addr(posterI), JobId: p.Ann.Opening, Gold: goldSet(p.t), Salt: goldSalt},
	}
}

// code is a registered error: codespace and code.
type code struct {
	space string
	code  uint32
}

func (c code) String() string { return fmt.Sprintf("%s/%d", c.space, c.code) }

var ok = code{}

func codeOf(r interface {
	GetCode() uint32
	GetCodespace() string
},
) code {
	if r.GetCode() == 0 {
		return ok
	}
	return code{r.GetCodespace(), r.GetCode()}
}

// syncSequences sets every account's next sequence from each chain's state.
func (p *pair) syncSequences() {
	for _, c := range []*apptest.Chain{p.A, p.B} {
		for _, a := range c.Accounts {
			a.Seq = c.App.AccountKeeper.GetAccount(c.Ctx(), a.Addr).GetSequence()
		}
	}
}

// reference is B's transaction for a message refused by its handler: a claim
// of a task that does not exist, from the same signer, with the same fee and
// gas, at the same sequence.
func (p *pair) reference(i int, opts apptest.TxOptions) []byte {
	opts.Sequence = &p.B.Accounts[i].Seq
	return p.B.Tx(p.B.Accounts[i], opts, &taskstypes.MsgClaimTask{Worker: p.addr(i), TaskId: 1 << 40})
}

// exports are the Hinterland modules' states on A, to show what a refused
// transaction left as it was.
func (p *pair) exports() []byte {
	ctx := p.A.Ctx()
	var out bytes.Buffer
	tg, err := p.A.App.TasksKeeper.ExportGenesis(ctx)
	require.NoError(p.t, err)
	vg, err := p.A.App.VerificationKeeper.ExportGenesis(ctx)
	require.NoError(p.t, err)
	rg, err := p.A.App.RewardsKeeper.ExportGenesis(ctx)
	require.NoError(p.t, err)
	ag, err := p.A.App.AnnotationKeeper.ExportGenesis(ctx)
	require.NoError(p.t, err)
	for _, m := range []interface{ Marshal() ([]byte, error) }{tg, vg, rg, ag} {
		bz, err := m.Marshal()
		require.NoError(p.t, err)
		out.Write(bz)
	}
	return out.Bytes()
}
