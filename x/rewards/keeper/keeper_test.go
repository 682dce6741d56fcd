package keeper_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/rewards/keeper"
	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

var (
	poster     = keepers.Addr(1)
	w1         = keepers.Addr(2)
	w2         = keepers.Addr(3)
	w3         = keepers.Addr(4)
	challenger = keepers.Addr(5)
	fees       = authtypes.NewModuleAddress(authtypes.FeeCollectorName)
	uhint      = func(n int64) sdk.Coin { return sdk.NewInt64Coin(keepers.Denom, n) }
)

func setup(t *testing.T) *keepers.Fixture {
	f := keepers.New(t)
	for _, a := range []sdk.AccAddress{poster, w1, w2, w3, challenger} {
		f.Fund(t, a, 10_000_000)
	}
	return f
}

// outcome is one way a replica ends.
type outcome int

const (
	paid outcome = iota
	slashed
	slashedWithChallenger
	challengeLost // the worker was right: paid, and the challenger's bond goes to it
)

// Every settlement path, with exact balances: each coin that leaves an account
// arrives somewhere or is burned (supply drops by exactly the burn).
func TestSettlementTable(t *testing.T) {
	const reward, bond, chBond = 1_000_003, 100_001, 7_777
	cases := []struct {
		name     string
		replicas uint32
		outcomes []outcome
		// want: balance deltas relative to the start, per account
		poster, fees, challenger int64
		workers                  []int64
		burned                   int64
	}{
		{name: "honest, one replica", replicas: 1, outcomes: []outcome{paid},
			// share 1 000 003, fee 5% = 50 000 (truncated), paid 950 003
			poster: -1_000_003, fees: 50_000, workers: []int64{950_003}},
		{name: "three replicas, odd reward", replicas: 3, outcomes: []outcome{paid, paid, paid},
			// share 333 334 each (truncated from 333 334.33), fee 16 666, paid 316 668; remainder 1 back to the poster
			poster: -1_000_002, fees: 3 * 16_666, workers: []int64{316_668, 316_668, 316_668}},
		{name: "slashed without challenger", replicas: 1, outcomes: []outcome{slashed},
			// bond 100 001: requester 80% = 80 000 (50 000 + 30 000), burned the rest 20 001
			poster: 80_000, workers: []int64{-100_001}, burned: 20_001},
		{name: "slashed by a challenger", replicas: 1, outcomes: []outcome{slashedWithChallenger},
			// requester 50 000, challenger 30 000 (and its bond back), burned 20 001
			poster: 50_000, challenger: 30_000, workers: []int64{-100_001}, burned: 20_001},
		{name: "challenger wrong", replicas: 1, outcomes: []outcome{challengeLost},
			poster: -1_000_003, fees: 50_000, challenger: -chBond, workers: []int64{950_003 + chBond}},
		{name: "mixed replicas", replicas: 3, outcomes: []outcome{paid, slashed, slashedWithChallenger},
			// one share paid (316 668 + 16 666 fee), two shares and the remainder refunded; two bonds slashed
			poster: -333_334 + 80_000 + 50_000, fees: 16_666, challenger: 30_000,
			workers: []int64{316_668, -100_001, -100_001}, burned: 2 * 20_001},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := setup(t)
			k := f.Rewards
			workers := []sdk.AccAddress{w1, w2, w3}[:len(c.outcomes)]
			start := map[string]sdkmath.Int{}
			for _, a := range append([]sdk.AccAddress{poster, fees, challenger}, workers...) {
				start[a.String()] = f.Balance(a)
			}
			supply := f.Supply()

			require.NoError(t, k.LockEscrow(f.Ctx, 1, poster, uhint(reward), c.replicas))
			f.RequireCustody(t)
			for i, w := range workers {
				require.NoError(t, k.LockBond(f.Ctx, 1, w, uhint(bond)))
				f.RequireCustody(t)
				switch c.outcomes[i] {
				case paid:
					require.NoError(t, k.PayWorker(f.Ctx, 1, w, 1000))
				case slashed:
					require.NoError(t, k.SlashWorker(f.Ctx, 1, w, nil, "mismatch"))
				case slashedWithChallenger:
					require.NoError(t, k.LockChallengeBond(f.Ctx, 1, w, 2, challenger, uhint(chBond)))
					f.RequireCustody(t)
					require.NoError(t, k.SettleChallenge(f.Ctx, 1, w, 2, false))
					require.NoError(t, k.SlashWorker(f.Ctx, 1, w, challenger, "fraud"))
				case challengeLost:
					require.NoError(t, k.LockChallengeBond(f.Ctx, 1, w, 2, challenger, uhint(chBond)))
					require.NoError(t, k.SettleChallenge(f.Ctx, 1, w, 2, true))
					require.NoError(t, k.PayWorker(f.Ctx, 1, w, 1000))
				}
				f.RequireCustody(t)
			}
			_, err := k.CloseEscrow(f.Ctx, 1)
			require.NoError(t, err)
			f.RequireCustody(t)
			require.True(t, f.ModuleBalance(types.ModuleName).IsZero())

			delta := func(a sdk.AccAddress) int64 { return f.Balance(a).Sub(start[a.String()]).Int64() }
			require.Equal(t, c.poster, delta(poster), "poster")
			require.Equal(t, c.fees, delta(fees), "fee collector")
			require.Equal(t, c.challenger, delta(challenger), "challenger")
			for i, w := range workers {
				require.Equal(t, c.workers[i], delta(w), "worker %d", i)
			}
			require.Equal(t, c.burned, supply.Sub(f.Supply()).Int64(), "supply change == -burned")
			// Nothing created or lost: the deltas and the burn add up to zero.
			sum := c.poster + c.fees + c.challenger + c.burned
			for _, d := range c.workers {
				sum += d
			}
			require.Zero(t, sum)
		})
	}
}

func TestCustodyRejections(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	require.ErrorIs(t, k.LockEscrow(f.Ctx, 1, poster, uhint(0), 1), types.ErrInvalidAmount)
	require.ErrorIs(t, k.LockEscrow(f.Ctx, 1, poster, uhint(10), 0), types.ErrInvalidAmount)
	require.ErrorIs(t, k.LockEscrow(f.Ctx, 1, poster, uhint(100_000_000), 1), types.ErrInsufficientFunds)
	require.ErrorIs(t, k.LockBond(f.Ctx, 1, w1, uhint(10)), types.ErrEscrowNotFound)
	require.NoError(t, k.LockEscrow(f.Ctx, 1, poster, uhint(1000), 1))
	require.ErrorIs(t, k.LockEscrow(f.Ctx, 1, poster, uhint(1000), 1), types.ErrEscrowExists)
	require.NoError(t, k.LockBond(f.Ctx, 1, w1, uhint(10)))
	require.ErrorIs(t, k.LockBond(f.Ctx, 1, w1, uhint(10)), types.ErrBondExists)
	require.ErrorIs(t, k.PayWorker(f.Ctx, 1, w2, 1), types.ErrBondNotFound)
	require.ErrorIs(t, k.SlashWorker(f.Ctx, 2, w1, nil, ""), types.ErrEscrowNotFound)
	_, err := k.CloseEscrow(f.Ctx, 1)
	require.ErrorIs(t, err, types.ErrAccounting, "bonds still held")
	require.ErrorIs(t, k.SettleChallenge(f.Ctx, 1, w1, 0, true), types.ErrBondNotFound)
	f.RequireCustody(t)
}

// Reputation tiers lower the bond; the leaderboard orders by verified MACs.
func TestReputationDiscountAndLeaderboard(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	bond := uhint(100_000)
	got, err := k.RequiredBond(f.Ctx, w1, bond)
	require.NoError(t, err)
	require.Equal(t, bond, got)

	for task := uint64(1); task <= 10; task++ {
		require.NoError(t, k.LockEscrow(f.Ctx, task, poster, uhint(10_000), 1))
		require.NoError(t, k.LockBond(f.Ctx, task, w1, uhint(1_000)))
		require.NoError(t, k.PayWorker(f.Ctx, task, w1, 500))
	}
	require.NoError(t, k.LockEscrow(f.Ctx, 11, poster, uhint(10_000), 1))
	require.NoError(t, k.LockBond(f.Ctx, 11, w2, uhint(1_000)))
	require.NoError(t, k.PayWorker(f.Ctx, 11, w2, 9_000))
	require.NoError(t, k.LockEscrow(f.Ctx, 12, poster, uhint(10_000), 1))
	require.NoError(t, k.LockBond(f.Ctx, 12, w3, uhint(1_000)))
	require.NoError(t, k.SlashWorker(f.Ctx, 12, w3, nil, "missed"))

	got, err = k.RequiredBond(f.Ctx, w1, bond)
	require.NoError(t, err)
	require.Equal(t, uhint(90_000), got, "10 verified tasks: 10% off")

	q := keeper.NewQuerier(k)
	lb, err := q.Leaderboard(f.Ctx, &types.QueryLeaderboardRequest{})
	require.NoError(t, err)
	require.Len(t, lb.Entries, 2, "only workers with verified work are ranked")
	require.Equal(t, w2.String(), lb.Entries[0].Address)
	require.Equal(t, uint64(9_000), lb.Entries[0].VerifiedMacs)
	require.Equal(t, w1.String(), lb.Entries[1].Address)
	require.Equal(t, uint64(5_000), lb.Entries[1].VerifiedMacs)

	page, err := q.Leaderboard(f.Ctx, &types.QueryLeaderboardRequest{Pagination: &query.PageRequest{Limit: 1}})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	require.Equal(t, w2.String(), page.Entries[0].Address)

	rep, err := q.Reputation(f.Ctx, &types.QueryReputationRequest{Address: w3.String()})
	require.NoError(t, err)
	require.Equal(t, uint64(1), rep.Reputation.Failed)
}

// An epoch pays min(emission, pool) pro rata to verified MACs; the truncation
// remainder stays in the pool; an unfunded pool pays nothing and clears the work.
func TestEmissionEpoch(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	ms := keeper.NewMsgServerImpl(k)
	_, err := ms.FundPool(f.Ctx, &types.MsgFundPool{Sender: poster.String(), Amount: uhint(1_500_000)})
	require.NoError(t, err)
	for i, w := range []sdk.AccAddress{w1, w2, w3} {
		require.NoError(t, k.EpochWork.Set(f.Ctx, w, uint64(i+1)*1000)) // 1000, 2000, 3000 MACs
	}
	before := []sdkmath.Int{f.Balance(w1), f.Balance(w2), f.Balance(w3)}
	require.NoError(t, k.Hooks().AfterEpochEnd(f.Ctx, "week", 1), "other identifiers are ignored")
	require.Equal(t, before[0], f.Balance(w1))

	require.NoError(t, k.Hooks().AfterEpochEnd(f.Ctx, types.DefaultEpochIdentifier, 1))
	// Emission 1 000 000 over 6000 MACs: 166 666, 333 333, 500 000 (1 unit remainder stays).
	require.Equal(t, before[0].AddRaw(166_666), f.Balance(w1))
	require.Equal(t, before[1].AddRaw(333_333), f.Balance(w2))
	require.Equal(t, before[2].AddRaw(500_000), f.Balance(w3))
	require.Equal(t, sdkmath.NewInt(500_001), f.ModuleBalance(types.PoolAccount))
	pool, err := keeper.NewQuerier(k).Pool(f.Ctx, &types.QueryPoolRequest{})
	require.NoError(t, err)
	require.Empty(t, pool.EpochWork, "work cleared")

	// Next epoch: the pool (500 001) is below the emission, so it pays what it has.
	require.NoError(t, k.EpochWork.Set(f.Ctx, w1, 10))
	require.NoError(t, k.Hooks().AfterEpochEnd(f.Ctx, types.DefaultEpochIdentifier, 2))
	require.Equal(t, before[0].AddRaw(166_666+500_001), f.Balance(w1))
	require.True(t, f.ModuleBalance(types.PoolAccount).IsZero())

	// Empty pool: nothing paid, work cleared.
	require.NoError(t, k.EpochWork.Set(f.Ctx, w2, 10))
	require.NoError(t, k.Hooks().AfterEpochEnd(f.Ctx, types.DefaultEpochIdentifier, 3))
	has, err := k.EpochWork.Has(f.Ctx, w2)
	require.NoError(t, err)
	require.False(t, has)
}

func TestFundPoolRejections(t *testing.T) {
	f := setup(t)
	ms := keeper.NewMsgServerImpl(f.Rewards)
	_, err := ms.FundPool(f.Ctx, &types.MsgFundPool{Sender: "bad", Amount: uhint(1)})
	require.ErrorIs(t, err, types.ErrInvalidAddress)
	_, err = ms.FundPool(f.Ctx, &types.MsgFundPool{Sender: poster.String(), Amount: uhint(0)})
	require.ErrorIs(t, err, types.ErrInvalidAmount)
	_, err = ms.FundPool(f.Ctx, &types.MsgFundPool{Sender: poster.String(), Amount: uhint(1 << 40)})
	require.ErrorIs(t, err, types.ErrInsufficientFunds)
	// A denom the pool does not pay emissions in would be stuck there.
	other := sdk.NewCoin("uother", sdkmath.NewInt(5))
	require.NoError(t, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, sdk.NewCoins(other)))
	require.NoError(t, f.Bank.SendCoinsFromModuleToAccount(f.Ctx, minttypes.ModuleName, poster, sdk.NewCoins(other)))
	before := f.Bank.GetAllBalances(f.Ctx, poster)
	_, err = ms.FundPool(f.Ctx, &types.MsgFundPool{Sender: poster.String(), Amount: other})
	require.ErrorIs(t, err, types.ErrInvalidAmount)
	require.ErrorContains(t, err, "stuck")
	require.Equal(t, before, f.Bank.GetAllBalances(f.Ctx, poster))
}

func TestUpdateParams(t *testing.T) {
	f := setup(t)
	ms := keeper.NewMsgServerImpl(f.Rewards)
	p := types.DefaultParams()
	p.ProtocolFeeBps = 700
	_, err := ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: poster.String(), Params: p})
	require.Error(t, err, "only the authority")
	bad := p
	bad.SlashBurnBps = 1
	_, err = ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: bad})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	_, err = ms.UpdateParams(f.Ctx, &types.MsgUpdateParams{Authority: f.Authority, Params: p})
	require.NoError(t, err)
	got, _ := f.Rewards.Params.Get(f.Ctx)
	require.Equal(t, uint32(700), got.ProtocolFeeBps)
	ev, ok := keepers.TypedEvents(t, f.Ctx)[types.EventTypeParamsUpdated].(*types.EventParamsUpdated)
	require.True(t, ok, "no %s event", types.EventTypeParamsUpdated)
	require.Equal(t, p, ev.Params)
}

// Export -> import gives the same state; genesis whose custody does not match
// the module balance is refused.
func TestGenesisRoundTripAndCustodyCheck(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	require.NoError(t, k.LockEscrow(f.Ctx, 1, poster, uhint(5000), 2))
	require.NoError(t, k.LockBond(f.Ctx, 1, w1, uhint(700)))
	require.NoError(t, k.LockChallengeBond(f.Ctx, 1, w1, 3, challenger, uhint(300)))
	require.NoError(t, k.EpochWork.Set(f.Ctx, w2, 42))
	require.NoError(t, k.LockEscrow(f.Ctx, 2, poster, uhint(1000), 1))
	require.NoError(t, k.LockBond(f.Ctx, 2, w2, uhint(700)))
	require.NoError(t, k.PayWorker(f.Ctx, 2, w2, 99))
	gs, err := k.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.NoError(t, gs.Validate())
	require.Equal(t, uhint(6000), sdk.NewCoin(keepers.Denom, gs.Held().AmountOf(keepers.Denom)))

	require.NoError(t, k.InitGenesis(f.Ctx, gs)) // same balances: accepted
	again, err := k.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)

	gs.Escrows[0].Amount = uhint(4999)
	require.ErrorIs(t, k.InitGenesis(f.Ctx, gs), types.ErrAccounting)
}
