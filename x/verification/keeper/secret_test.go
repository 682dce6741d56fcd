package keeper_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

func testSecret(n byte) []byte { h := sha256.Sum256([]byte{'s', n}); return h[:] }

func hashOf(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

// newSecretEnv posts the env's task with the requester secret testSecret(0).
func newSecretEnv(t *testing.T, samples, replicas uint32) *env {
	t.Helper()
	f := keepers.New(t)
	for _, a := range []sdk.AccAddress{poster, worker, worker2, challenger, stranger} {
		f.Fund(t, a, 10_000_000)
	}
	e := &env{f: f, tasks: taskskeeper.NewMsgServerImpl(f.Tasks), ms: keeper.NewMsgServerImpl(f.Verification)}
	msg := fixtures.PostMsg(poster, data)
	msg.Samples, msg.Replicas, msg.SecretHash = samples, replicas, hashOf(testSecret(0))
	res, err := e.tasks.PostTask(f.Ctx, msg)
	require.NoError(t, err)
	e.id = res.TaskId
	return e
}

// When every in-flight claim of a closed task fails and none was verified,
// the task reopens for claims, with the requester's next secret in place of
// the spent one.
func TestTaskReopensWithTheNextSecret(t *testing.T) {
	e := newSecretEnv(t, 4, 1) // sample every segment
	f := e.f
	run := e.claimCommit(t, worker, 1)
	_, err := e.tasks.ClaimTask(f.Ctx, &taskstypes.MsgClaimTask{Worker: worker2.String(), TaskId: e.id})
	require.ErrorIs(t, err, taskstypes.ErrClaimsClosed)
	_, err = e.tasks.RevealSecret(f.Ctx, &taskstypes.MsgRevealSecret{Poster: poster.String(), TaskId: e.id, Secret: testSecret(0),
		NextSecretHash: hashOf(testSecret(1))})
	require.NoError(t, err)
	f.Advance(t, 5*time.Second)
	msg, err := run.Reveal(worker, 1)
	require.NoError(t, err)
	res, err := e.ms.RevealSegment(f.Ctx, msg)
	require.NoError(t, err)
	require.False(t, res.Match)
	require.Equal(t, types.TRANSCRIPT_STATUS_FAILED, e.transcript(t, worker).Status)

	task := e.task(t)
	require.False(t, task.ClaimsClosed)
	require.Equal(t, taskstypes.TASK_STATUS_OPEN, task.Status)
	require.Equal(t, hashOf(testSecret(1)), task.SecretHash)
	require.Empty(t, task.Secret)
	f.RequireCustody(t)

	// A new claim is taken and runs with the next secret.
	run2 := e.claimCommit(t, worker2)
	_, err = e.tasks.RevealSecret(f.Ctx, &taskstypes.MsgRevealSecret{Poster: poster.String(), TaskId: e.id, Secret: testSecret(0)})
	require.ErrorIs(t, err, taskstypes.ErrBadSecret, "the spent secret")
	_, err = e.tasks.RevealSecret(f.Ctx, &taskstypes.MsgRevealSecret{Poster: poster.String(), TaskId: e.id, Secret: testSecret(1)})
	require.NoError(t, err)
	f.Advance(t, 5*time.Second)
	for _, res := range e.revealAll(t, run2, worker2) {
		require.True(t, res.Match)
	}
	require.Equal(t, types.TRANSCRIPT_STATUS_PASSED, e.transcript(t, worker2).Status)
	f.RequireCustody(t)
}
