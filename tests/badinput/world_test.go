package badinput

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/apptest"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
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
	// replicas, one claimed by the worker.
	Open, Claimed, Challenged, Passed, Shared uint64
	ClaimedRun, ChallengedRun                 *fixtures.Run
	PassedRun                                 *fixtures.Run
	Pending                                   []uint32 // pending segments of Challenged
	Unverified                                uint32   // a segment of Passed that the sample did not cover
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
	p := &pair{t: t, A: apptest.New(t, apptest.Options{}), B: apptest.New(t, apptest.Options{})}
	for range 4 {
		p.both(posterI, fixtures.PostMsg(p.acc(posterI).Addr, data))
	}
	shared := fixtures.PostMsg(p.acc(posterI).Addr, data)
	shared.Replicas = 2
	p.both(posterI, shared)
	p.Open, p.Claimed, p.Challenged, p.Passed, p.Shared = 1, 2, 3, 4, 5
	for _, id := range []uint64{p.Claimed, p.Challenged, p.Passed, p.Shared} {
		p.both(workerI, &taskstypes.MsgClaimTask{Worker: p.addr(workerI), TaskId: id})
	}
	p.ClaimedRun, p.ChallengedRun, p.PassedRun = p.train(p.Claimed), p.train(p.Challenged), p.train(p.Passed)
	p.both(workerI, p.ChallengedRun.Commit(p.acc(workerI).Addr), p.PassedRun.Commit(p.acc(workerI).Addr))
	p.emptyBlock() // draws the samples
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
	return []sdk.Msg{
		fixtures.PostMsg(p.acc(posterI).Addr, data),
		&taskstypes.MsgClaimTask{Worker: p.addr(worker2I), TaskId: p.Open},
		&taskstypes.MsgCancelTask{Poster: p.addr(posterI), TaskId: p.Open},
		p.ClaimedRun.Commit(p.acc(workerI).Addr),
		reveal,
		&verificationtypes.MsgChallengeSegment{Challenger: p.addr(challengerI), TaskId: p.Passed, Worker: p.addr(workerI),
			Segment: p.Unverified, Bond: sdk.NewInt64Coin("uhint", 5_000)},
		&rewardstypes.MsgFundPool{Sender: p.addr(bystanderI), Amount: sdk.NewInt64Coin("uhint", 1_000)},
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
	for _, m := range []interface{ Marshal() ([]byte, error) }{tg, vg, rg} {
		bz, err := m.Marshal()
		require.NoError(p.t, err)
		out.Write(bz)
	}
	return out.Bytes()
}
