package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/federated/keeper"
	"github.com/hinterland-ai/hinterland/x/federated/types"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
)

// A federated job may be paid, bonded and challenged in a denom on x/tasks'
// accepted_denoms (an IBC voucher): all its coins in that one denom, its
// chunk challenge bond priced at that denom's terms. An unlisted denom, or
// mixed denoms, are refused with nothing moved.
func TestJobInAcceptedDenom(t *testing.T) {
	const voucher = "ibc/498A0751C798A0D9A389AA3691123DADA57DAA4FE165D5C75894505B876BA6E4"
	f := keepers.New(t)
	for _, a := range append([]sdk.AccAddress{requester}, participants...) {
		f.Fund(t, a, 10_000_000)
		coins := sdk.NewCoins(sdk.NewInt64Coin(voucher, 10_000_000))
		require.NoError(t, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, coins))
		require.NoError(t, f.Bank.SendCoinsFromModuleToAccount(f.Ctx, minttypes.ModuleName, a, coins))
	}
	data := fixtures.SyntheticShape(96, 16, 4)
	in := func(denom string, mutate func(*types.MsgPostJob)) *types.MsgPostJob {
		msg := fixtures.FederatedPostMsg(requester, data, 3, 1, 3)
		for _, c := range []*sdk.Coin{&msg.PayPerUpdate, &msg.PayPerAggregation, &msg.Bond, &msg.Budget} {
			c.Denom = denom
		}
		if mutate != nil {
			mutate(msg)
		}
		return msg
	}
	ms := keeper.NewMsgServerImpl(f.Federated)
	refused := func(msg *types.MsgPostJob, contains string) {
		t.Helper()
		before := f.Bank.GetAllBalances(f.Ctx, requester)
		_, err := ms.PostJob(f.Ctx, msg)
		require.ErrorIs(t, err, types.ErrInvalidJob)
		require.ErrorContains(t, err, contains)
		require.Equal(t, before, f.Bank.GetAllBalances(f.Ctx, requester))
		f.RequireCustody(t)
	}
	refused(in(voucher, nil), "is not accepted; accepted: uhint")

	tp, err := f.Tasks.GetParams(f.Ctx)
	require.NoError(t, err)
	tp.AcceptedDenoms = []taskstypes.AcceptedDenom{{
		Denom: voucher, MinReward: sdkmath.NewInt(1), MinBond: sdkmath.NewInt(1), AbandonFee: sdkmath.ZeroInt(),
		ChallengeGasPrice: sdkmath.LegacyMustNewDecFromStr("0.000001"), MinChallengeBond: sdkmath.NewInt(1_000),
	}}
	require.NoError(t, f.Tasks.Params.Set(f.Ctx, tp))
	refused(in(voucher, func(m *types.MsgPostJob) { m.Bond.Denom = "uhint" }), "must be a positive amount of "+voucher)

	res, err := ms.PostJob(f.Ctx, in(voucher, nil))
	require.NoError(t, err)
	job, err := f.Federated.GetJob(f.Ctx, res.JobId)
	require.NoError(t, err)
	require.Equal(t, voucher, job.Budget.Denom)
	// At a millionth of the native price the gas term is tiny: the denom's
	// min_challenge_bond is the bond.
	require.Equal(t, sdk.NewInt64Coin(voucher, 1_000), job.ChallengeBond)
	native, err := ms.PostJob(f.Ctx, in("uhint", nil))
	require.NoError(t, err)
	nativeJob, err := f.Federated.GetJob(f.Ctx, native.JobId)
	require.NoError(t, err)
	require.Equal(t, "uhint", nativeJob.ChallengeBond.Denom)
	require.True(t, nativeJob.ChallengeBond.Amount.GT(sdkmath.NewInt(1_000)), "the native price: %s", nativeJob.ChallengeBond)

	// A participant joins and bonds in the voucher; custody holds both denoms.
	before := f.Bank.GetBalance(f.Ctx, participants[0], voucher).Amount
	_, err = ms.JoinRound(f.Ctx, &types.MsgJoinRound{Participant: participants[0].String(), JobId: job.Id, Round: 0, Shard: 0})
	require.NoError(t, err)
	require.Equal(t, job.Bond.Amount, before.Sub(f.Bank.GetBalance(f.Ctx, participants[0], voucher).Amount))
	held, err := f.Rewards.Held(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, job.Budget.Amount.Add(job.Bond.Amount), held.AmountOf(voucher))
	require.Equal(t, nativeJob.Budget.Amount, held.AmountOf("uhint"))
	f.RequireCustody(t)
}
