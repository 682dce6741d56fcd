package keeper_test

import (
	"crypto/sha256"
	"testing"

	"cosmossdk.io/collections"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/recompute"
	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

func collectionsJoin3(task uint64, w sdk.AccAddress, seg uint32) collections.Triple[uint64, sdk.AccAddress, uint32] {
	return collections.Join3(task, w, seg)
}

// sealMsg is the MsgSealTranscript that seals open (which may have been
// altered from a run's honest open).
func sealMsg(w sdk.AccAddress, open *types.MsgOpenTranscript) *types.MsgSealTranscript {
	return &types.MsgSealTranscript{Worker: w.String(), TaskId: open.TaskId, Seal: fixtures.SealOf(w, open)}
}

// sealOpen seals open's transcript for w, then opens it. The seal must close
// the task's claims (w holds the task's only unsealed claim); for several
// replicas, seal every one first (sealMsg) and open them after.
func sealOpen(tb testing.TB, ctx sdk.Context, ms types.MsgServer, w sdk.AccAddress, open *types.MsgOpenTranscript) {
	tb.Helper()
	_, err := ms.SealTranscript(ctx, sealMsg(w, open))
	require.NoError(tb, err)
	_, err = ms.OpenTranscript(ctx, open)
	require.NoError(tb, err)
}

// challengeSalt is the salt test challenger c seals its challenges with
// (n tells several seals of one challenger apart).
func challengeSalt(c sdk.AccAddress, n byte) []byte {
	h := sha256.Sum256(append([]byte{n}, c...))
	return h[:]
}

// sealChallengeMsg is c's MsgSealChallenge of segment seg of w's transcript.
func sealChallengeMsg(task uint64, w, c sdk.AccAddress, seg uint32, salt []byte, bond sdk.Coin) *types.MsgSealChallenge {
	return &types.MsgSealChallenge{Challenger: c.String(), TaskId: task, Worker: w.String(),
		Commitment: recompute.ChallengeCommitment(task, w, c, seg, salt), Bond: bond}
}

// openChallengeMsg is the MsgChallengeSegment that opens sealChallengeMsg.
func openChallengeMsg(task uint64, w, c sdk.AccAddress, seg uint32, salt []byte) *types.MsgChallengeSegment {
	return &types.MsgChallengeSegment{Challenger: c.String(), TaskId: task, Worker: w.String(), Segment: seg, Salt: salt}
}
