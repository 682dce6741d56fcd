package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/hinterland-ai/hinterland/testutil/fixtures"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// usdc is an ICS-20 voucher denom as it arrives over IBC.
const usdc = "ibc/498A0751C798A0D9A389AA3691123DADA57DAA4FE165D5C75894505B876BA6E4"

func usdcTerms() types.AcceptedDenom {
	return types.AcceptedDenom{
		Denom: usdc, MinReward: sdkmath.NewInt(500), MinBond: sdkmath.NewInt(50), AbandonFee: sdkmath.NewInt(7),
		ChallengeGasPrice: sdkmath.LegacyMustNewDecFromStr("0.0001"), MinChallengeBond: sdkmath.NewInt(10),
	}
}

// Rewards and bonds may be in any denom governance lists, each held to its
// own minimums; an unlisted denom, or one below its minimum, is refused with
// nothing moved; the abandon fee is the bond denom's.
func TestAcceptedDenoms(t *testing.T) {
	f, ms := setup(t)
	coins := sdk.NewCoins(sdk.NewInt64Coin(usdc, 1_000_000))
	for _, a := range []sdk.AccAddress{poster, worker} {
		require.NoError(t, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, coins))
		require.NoError(t, f.Bank.SendCoinsFromModuleToAccount(f.Ctx, minttypes.ModuleName, a, coins))
	}
	inUSDC := func(reward, bond int64) func(*types.MsgPostTask) {
		return func(m *types.MsgPostTask) {
			m.Reward = sdk.NewInt64Coin(usdc, reward)
			m.Bond = sdk.NewInt64Coin(usdc, bond)
		}
	}
	refused := func(mutate func(*types.MsgPostTask), want error, contains string) {
		t.Helper()
		before := f.Bank.GetAllBalances(f.Ctx, poster)
		msg := fixtures.PostMsg(poster, data)
		mutate(msg)
		_, err := ms.PostTask(f.Ctx, msg)
		require.ErrorIs(t, err, want)
		require.Contains(t, err.Error(), contains)
		require.Equal(t, before, f.Bank.GetAllBalances(f.Ctx, poster))
		f.RequireCustody(t)
	}

	// Not listed yet.
	refused(inUSDC(1_000, 100), types.ErrInvalidReward, "is not accepted; accepted: uhint")

	params, err := f.Tasks.GetParams(f.Ctx)
	require.NoError(t, err)
	params.AcceptedDenoms = []types.AcceptedDenom{usdcTerms()}
	_, err = ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Tasks.Authority(), Params: params})
	require.NoError(t, err)

	refused(inUSDC(499, 100), types.ErrInvalidReward, "below min_reward 500"+usdc)
	refused(inUSDC(1_000, 49), types.ErrInvalidBond, "below min_bond 50"+usdc)
	refused(func(m *types.MsgPostTask) { m.Reward = sdk.NewInt64Coin("ibc/FAKE", 1_000) }, types.ErrInvalidReward, "not accepted")

	// Listed: escrowed in USDC; the worker's bond is in USDC too.
	id := post(t, f, ms, inUSDC(1_000, 100))
	task, err := f.Tasks.GetTask(f.Ctx, id)
	require.NoError(t, err)
	require.Equal(t, usdc, task.Reward.Denom)
	_, err = ms.ClaimTask(f.Ctx, &types.MsgClaimTask{Worker: worker.String(), TaskId: id})
	require.NoError(t, err)
	f.RequireCustody(t)
	held, err := f.Rewards.Held(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, "100"+usdc, sdk.NewCoin(usdc, held.AmountOf(usdc).Sub(sdkmath.NewInt(1_000))).String())

	// Abandoning costs the USDC terms' abandon fee, paid to the requester.
	posterBefore := f.Bank.GetBalance(f.Ctx, poster, usdc).Amount
	workerBefore := f.Bank.GetBalance(f.Ctx, worker, usdc).Amount
	_, err = ms.AbandonClaim(f.Ctx, &types.MsgAbandonClaim{Worker: worker.String(), TaskId: id})
	require.NoError(t, err)
	require.Equal(t, int64(7), f.Bank.GetBalance(f.Ctx, poster, usdc).Amount.Sub(posterBefore).Int64())
	require.Equal(t, int64(93), f.Bank.GetBalance(f.Ctx, worker, usdc).Amount.Sub(workerBefore).Int64())
	f.RequireCustody(t)

	// Removing the denom stops new tasks in it, never the old one's refund.
	params.AcceptedDenoms = nil
	_, err = ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Tasks.Authority(), Params: params})
	require.NoError(t, err)
	refused(inUSDC(1_000, 100), types.ErrInvalidReward, "not accepted")
	_, err = ms.CancelTask(f.Ctx, &types.MsgCancelTask{Poster: poster.String(), TaskId: id})
	require.NoError(t, err)
	require.Equal(t, int64(1_000), f.Bank.GetBalance(f.Ctx, poster, usdc).Amount.Sub(posterBefore).Int64()-7)
	f.RequireCustody(t)
}

func TestAcceptedDenomsValidate(t *testing.T) {
	base := types.DefaultParams()
	base.AcceptedDenoms = []types.AcceptedDenom{usdcTerms()}
	require.NoError(t, base.Validate())
	cases := map[string]func(*types.AcceptedDenom){
		"invalid denom":       func(a *types.AcceptedDenom) { a.Denom = "1bad" },
		"native denom":        func(a *types.AcceptedDenom) { a.Denom = "uhint" },
		"zero min_reward":     func(a *types.AcceptedDenom) { a.MinReward = sdkmath.ZeroInt() },
		"nil min_bond":        func(a *types.AcceptedDenom) { a.MinBond = sdkmath.Int{} },
		"negative fee":        func(a *types.AcceptedDenom) { a.AbandonFee = sdkmath.NewInt(-1) },
		"zero gas price":      func(a *types.AcceptedDenom) { a.ChallengeGasPrice = sdkmath.LegacyZeroDec() },
		"zero challenge bond": func(a *types.AcceptedDenom) { a.MinChallengeBond = sdkmath.ZeroInt() },
	}
	for name, mutate := range cases {
		p := base
		a := usdcTerms()
		mutate(&a)
		p.AcceptedDenoms = []types.AcceptedDenom{a}
		require.Error(t, p.Validate(), name)
	}
	p := base
	p.AcceptedDenoms = []types.AcceptedDenom{usdcTerms(), usdcTerms()}
	require.ErrorContains(t, p.Validate(), "listed twice")
	p.AcceptedDenoms = make([]types.AcceptedDenom, types.MaxAcceptedDenoms+1)
	require.ErrorContains(t, p.Validate(), "at most")
	terms, ok := base.Terms(usdc)
	require.True(t, ok)
	require.Equal(t, int64(500), terms.MinReward.Int64())
	native, ok := base.Terms("uhint")
	require.True(t, ok)
	require.Equal(t, base.MinBond, native.MinBond)
	_, ok = base.Terms("ibc/OTHER")
	require.False(t, ok)
}
