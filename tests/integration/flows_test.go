package integration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

var data = fixtures.Synthetic(64)

func (c *chain) task(id uint64) taskstypes.Task {
	var res taskstypes.QueryTaskResponse
	require.NoError(c.t, c.query(c.node0(), "/hinterland.tasks.v1.Query/Task", &taskstypes.QueryTaskRequest{Id: id}, &res))
	return res.Task
}

func (c *chain) transcript(id uint64, w sdk.AccAddress) verificationtypes.Transcript {
	var res verificationtypes.QueryTranscriptResponse
	require.NoError(c.t, c.query(c.node0(), "/hinterland.verification.v1.Query/Transcript",
		&verificationtypes.QueryTranscriptRequest{TaskId: id, Worker: w.String()}, &res))
	return res.Transcript
}

func (c *chain) pending(id uint64, w sdk.AccAddress) []uint32 {
	var res verificationtypes.QueryChallengesResponse
	require.NoError(c.t, c.query(c.node0(), "/hinterland.verification.v1.Query/Challenges",
		&verificationtypes.QueryChallengesRequest{TaskId: id}, &res))
	var out []uint32
	for _, ch := range res.Challenges {
		if ch.Worker == w.String() && ch.Status == verificationtypes.CHALLENGE_STATUS_PENDING {
			out = append(out, ch.Segment)
		}
	}
	return out
}

// until polls cond once per block for up to n blocks.
func (c *chain) until(n int, what string, cond func() bool) {
	c.t.Helper()
	for i := 0; i < n; i++ {
		if cond() {
			return
		}
		require.NoError(c.t, c.net.WaitForNextBlock())
	}
	c.t.Fatalf("timed out waiting for %s", what)
}

// custody asserts the invariant on every node.
func (c *chain) custody() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for moniker, a := range c.apps {
		ctx, err := a.CreateQueryContext(0, false)
		require.NoError(c.t, err)
		require.NoError(c.t, a.RewardsKeeper.CheckCustody(ctx), "node %s", moniker)
	}
}

func (c *chain) post(from int, mutate func(*taskstypes.MsgPostTask)) uint64 {
	msg := fixtures.PostMsg(c.net.Validators[from].Address, data)
	if mutate != nil {
		mutate(msg)
	}
	res := c.send(from, msg)
	require.Zero(c.t, res.Code, res.RawLog)
	var out taskstypes.MsgPostTaskResponse
	require.NoError(c.t, unpackResponse(c.cdc, res, &out))
	return out.TaskId
}

// The cross-module flows on one network (0.5 s blocks, short windows):
// post -> claim -> commit deadline missed (slash, reopen) -> expiry refund;
// post -> claim -> seal -> open -> draw -> reveal -> pass -> fraud window -> paid;
// a forged transcript slashed.
func TestTaskFlows(t *testing.T) {
	c := startChain(t, 2, fastParams)
	poster, worker := c.net.Validators[0].Address, c.net.Validators[1].Address

	t.Run("missed commit reopens, then expiry refunds", func(t *testing.T) {
		c.t = t
		p0, w0 := c.balance(c.node0(), poster), c.balance(c.node0(), worker)
		id := c.post(0, func(m *taskstypes.MsgPostTask) { m.ClaimWindow = 12 * time.Second; m.CommitWindow = 3 * time.Second })
		require.Zero(t, c.send(1, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: id}).Code)
		c.custody()
		c.until(20, "the commit deadline to fail the worker", func() bool {
			return c.task(id).Active == 0
		})
		task := c.task(id)
		require.Equal(t, taskstypes.TASK_STATUS_OPEN, task.Status, "the slot reopened")
		c.custody()
		c.until(40, "expiry", func() bool { return c.task(id).Status == taskstypes.TASK_STATUS_EXPIRED })
		c.custody()
		// Poster: -fee(post) - reward + reward refund + 80% of the bond; worker: -fee(claim) - bond.
		require.Equal(t, p0.SubRaw(20_000).AddRaw(160_000), c.balance(c.node0(), poster))
		require.Equal(t, w0.SubRaw(20_000).SubRaw(200_000), c.balance(c.node0(), worker))
	})

	t.Run("honest worker is verified and paid", func(t *testing.T) {
		c.t = t
		id := c.post(0, nil)
		require.Zero(t, c.send(1, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: id}).Code)
		run, err := fixtures.Train(c.task(id), data)
		require.NoError(t, err)
		w0 := c.balance(c.node0(), worker)
		res := c.send(1, run.Seal(worker))
		require.Zero(t, res.Code, res.RawLog)
		require.True(t, c.task(id).ClaimsClosed, "the task's only claim is sealed")
		res = c.send(1, run.Open(worker))
		require.Zero(t, res.Code, res.RawLog)
		c.until(10, "the sample", func() bool { return len(c.pending(id, worker)) == 2 })
		for _, seg := range c.pending(id, worker) {
			msg, err := run.Reveal(worker, seg)
			require.NoError(t, err)
			res := c.send(1, msg)
			require.Zero(t, res.Code, res.RawLog)
		}
		require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_PASSED, c.transcript(id, worker).Status)
		c.until(20, "finality", func() bool {
			return c.transcript(id, worker).Status == verificationtypes.TRANSCRIPT_STATUS_FINAL
		})
		c.custody()
		// Worker: 4 txs of fees (seal, open, 2 reveals), + 950 000 payout; bond was locked before w0 and returned.
		require.Equal(t, w0.SubRaw(4*20_000).AddRaw(950_000+200_000), c.balance(c.node0(), worker))
		require.Equal(t, taskstypes.TASK_STATUS_COMPLETED, c.task(id).Status)
	})

	t.Run("forged transcript is slashed", func(t *testing.T) {
		c.t = t
		id := c.post(0, func(m *taskstypes.MsgPostTask) { m.Samples = 4 })
		require.Zero(t, c.send(1, &taskstypes.MsgClaimTask{Worker: worker.String(), TaskId: id}).Code)
		run, err := fixtures.Train(c.task(id), data, 0)
		require.NoError(t, err)
		require.Zero(t, c.send(1, run.Seal(worker)).Code)
		require.Zero(t, c.send(1, run.Open(worker)).Code)
		c.until(10, "the sample", func() bool { return len(c.pending(id, worker)) == 4 })
		msg, err := run.Reveal(worker, 0)
		require.NoError(t, err)
		require.Zero(t, c.send(1, msg).Code)
		tr := c.transcript(id, worker)
		require.Equal(t, verificationtypes.TRANSCRIPT_STATUS_FAILED, tr.Status)
		require.Contains(t, tr.Failure, "mismatch")
		require.Equal(t, taskstypes.TASK_STATUS_OPEN, c.task(id).Status)
		c.custody()
	})
}
