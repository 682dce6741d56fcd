package keeper_test

import (
	"math"
	"math/big"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/hinterland-ai/hinterland/testutil/keepers"
	"github.com/hinterland-ai/hinterland/x/rewards/keeper"
	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// freshEvents gives the fixture's context an empty event manager.
func freshEvents(f *keepers.Fixture) { f.Ctx = f.Ctx.WithEventManager(sdk.NewEventManager()) }

func rewardPaidEvent(t *testing.T, f *keepers.Fixture) *types.EventRewardPaid {
	t.Helper()
	ev, ok := keepers.TypedEvents(t, f.Ctx)[types.EventTypeRewardPaid].(*types.EventRewardPaid)
	require.True(t, ok, "no %s event", types.EventTypeRewardPaid)
	return ev
}

func funderOf(t *testing.T, f *keepers.Fixture, a sdk.AccAddress) sdk.AccAddress {
	t.Helper()
	got, err := f.Rewards.Funder(f.Ctx, a)
	require.NoError(t, err)
	return got
}

func hasReputation(t *testing.T, f *keepers.Fixture, a sdk.AccAddress) bool {
	t.Helper()
	has, err := f.Rewards.Reputations.Has(f.Ctx, a)
	require.NoError(t, err)
	return has
}

func epochWork(t *testing.T, f *keepers.Fixture, a sdk.AccAddress) (uint64, bool) {
	t.Helper()
	has, err := f.Rewards.EpochWork.Has(f.Ctx, a)
	require.NoError(t, err)
	if !has {
		return 0, false
	}
	macs, err := f.Rewards.EpochWork.Get(f.Ctx, a)
	require.NoError(t, err)
	return macs, true
}

// payOn escrows a one-replica task of postedBy, has worker bond it and pays it.
func payOn(t *testing.T, f *keepers.Fixture, task uint64, postedBy, worker sdk.AccAddress, macs uint64) {
	t.Helper()
	require.NoError(t, f.Rewards.LockEscrow(f.Ctx, task, postedBy, uhint(10_000), 1))
	require.NoError(t, f.Rewards.LockBond(f.Ctx, task, worker, uhint(1_000)))
	freshEvents(f)
	require.NoError(t, f.Rewards.PayWorker(f.Ctx, task, worker, macs))
	f.RequireCustody(t)
}

// A poster funds a second account with a real bank send (the send restriction
// records the funder); that account's work on the poster's tasks is paid in
// full but earns no reputation, no bond discount and no epoch work, and the
// event says self_dealt. An unrelated worker is credited as before.
func TestSelfDealtWorkEarnsNothingFromThePool(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	sybil := keepers.Addr(40)
	require.NoError(t, f.Bank.SendCoins(f.Ctx, poster, sybil, sdk.NewCoins(uhint(1_000_000))))
	require.Equal(t, poster, funderOf(t, f, sybil))

	bond := uhint(100_000)
	for task := uint64(1); task <= 10; task++ {
		before := f.Balance(sybil)
		payOn(t, f, task, poster, sybil, 1_000)
		// share 10 000, fee 500: the worker is paid 9 500 and its bond back.
		require.Equal(t, before.AddRaw(9_500), f.Balance(sybil), "paid and bond returned")
		ev := rewardPaidEvent(t, f)
		require.True(t, ev.SelfDealt)
		require.Equal(t, sybil.String(), ev.Worker)
		require.Equal(t, uint64(1_000), ev.Macs)
		_, ok := keepers.TypedEvents(t, f.Ctx)[types.EventTypeEpochWorkNotCredited]
		require.False(t, ok, "self-dealt work is not a cap event")
	}
	require.False(t, hasReputation(t, f, sybil), "no reputation from self-dealt tasks")
	_, ok := epochWork(t, f, sybil)
	require.False(t, ok, "no epoch work from self-dealt tasks")
	got, err := k.RequiredBond(f.Ctx, sybil, bond)
	require.NoError(t, err)
	require.Equal(t, bond, got, "ten self-dealt tasks give no bond discount")

	// The other direction: the worker funded the poster.
	posterB := keepers.Addr(41)
	require.NoError(t, f.Bank.SendCoins(f.Ctx, w2, posterB, sdk.NewCoins(uhint(1_000_000))))
	payOn(t, f, 20, posterB, w2, 777)
	require.True(t, rewardPaidEvent(t, f).SelfDealt)
	require.False(t, hasReputation(t, f, w2))

	// The poster itself (x/tasks refuses such claims, the keeper is safe anyway).
	payOn(t, f, 21, poster, poster, 5)
	require.True(t, rewardPaidEvent(t, f).SelfDealt)
	require.False(t, hasReputation(t, f, poster))

	// An unrelated worker (funded by a module) is credited.
	before := f.Balance(w1)
	payOn(t, f, 30, poster, w1, 1_234)
	require.Equal(t, before.AddRaw(9_500), f.Balance(w1))
	ev := rewardPaidEvent(t, f)
	require.False(t, ev.SelfDealt)
	rep, err := k.Reputations.Get(f.Ctx, w1)
	require.NoError(t, err)
	require.Equal(t, uint64(1), rep.Verified)
	require.Equal(t, uint64(1_234), rep.VerifiedMacs)
	macs, ok := epochWork(t, f, w1)
	require.True(t, ok)
	require.Equal(t, uint64(1_234), macs)

	// A worker funded by someone other than the poster is credited too.
	third := keepers.Addr(42)
	require.NoError(t, f.Bank.SendCoins(f.Ctx, w3, third, sdk.NewCoins(uhint(1_000_000))))
	payOn(t, f, 31, poster, third, 10)
	require.False(t, rewardPaidEvent(t, f).SelfDealt)
	require.True(t, hasReputation(t, f, third))

	// Only the credited work is paid by the epoch.
	_, err = keeperMsgFundPool(f, uhint(1_000_000))
	require.NoError(t, err)
	sybilBefore := f.Balance(sybil)
	require.NoError(t, k.DistributeEmission(f.Ctx, 1))
	require.Equal(t, sybilBefore, f.Balance(sybil), "no emission for self-dealt work")
}

func keeperMsgFundPool(f *keepers.Fixture, amount sdk.Coin) (*types.MsgFundPoolResponse, error) {
	return keeper.NewMsgServerImpl(f.Rewards).FundPool(f.Ctx, &types.MsgFundPool{Sender: poster.String(), Amount: amount})
}

// The first non-module sender is the funder, for good: a second sender does
// not overwrite it; module sends (mint, the pool, custody), sends to module
// accounts and self-sends record nothing; multi-send outputs are recorded.
func TestFunderRecordedOnce(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	b, c, d, e := keepers.Addr(50), keepers.Addr(51), keepers.Addr(52), keepers.Addr(53)

	require.Nil(t, funderOf(t, f, poster), "funded by the mint module: no funder")
	require.NoError(t, f.Bank.SendCoins(f.Ctx, poster, poster, sdk.NewCoins(uhint(1))))
	require.Nil(t, funderOf(t, f, poster), "self-send")

	require.NoError(t, f.Bank.SendCoins(f.Ctx, poster, b, sdk.NewCoins(uhint(100))))
	require.NoError(t, f.Bank.SendCoins(f.Ctx, w1, b, sdk.NewCoins(uhint(100))))
	require.Equal(t, poster, funderOf(t, f, b), "the second sender does not overwrite")

	// A module send first does not take the slot.
	f.Fund(t, c, 1_000)
	require.Nil(t, funderOf(t, f, c))
	require.NoError(t, f.Bank.SendCoins(f.Ctx, w2, c, sdk.NewCoins(uhint(1))))
	require.Equal(t, w2, funderOf(t, f, c))

	// Sends to module accounts record nothing for them.
	_, err := keeperMsgFundPool(f, uhint(10))
	require.NoError(t, err)
	require.NoError(t, k.LockEscrow(f.Ctx, 1, poster, uhint(10), 1))
	for _, name := range []string{types.ModuleName, types.PoolAccount, minttypes.ModuleName} {
		require.Nil(t, funderOf(t, f, f.Auth.GetModuleAddress(name)), name)
	}

	// MsgMultiSend's InputOutputCoins runs the restriction per output.
	require.NoError(t, f.Bank.InputOutputCoins(f.Ctx,
		banktypes.NewInput(w3, sdk.NewCoins(uhint(30))),
		[]banktypes.Output{banktypes.NewOutput(d, sdk.NewCoins(uhint(10))), banktypes.NewOutput(e, sdk.NewCoins(uhint(20)))}))
	require.Equal(t, w3, funderOf(t, f, d))
	require.Equal(t, w3, funderOf(t, f, e))
}

// At most max_emission_recipients workers accrue epoch work per epoch: a
// worker already in keeps accruing, a new one beyond the cap is not credited
// (an event says so) though its reputation is, and the next epoch starts over.
func TestEmissionRecipientsCap(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	params, err := k.Params.Get(f.Ctx)
	require.NoError(t, err)
	params.MaxEmissionRecipients = 3
	require.NoError(t, k.Params.Set(f.Ctx, params))

	workers := make([]sdk.AccAddress, 5)
	for i := range workers {
		workers[i] = keepers.Addr(60 + i)
		f.Fund(t, workers[i], 1_000_000)
	}
	task := uint64(1)
	for i, w := range workers {
		payOn(t, f, task, poster, w, 100)
		task++
		ev, capped := keepers.TypedEvents(t, f.Ctx)[types.EventTypeEpochWorkNotCredited].(*types.EventEpochWorkNotCredited)
		require.Equal(t, i >= 3, capped, "worker %d", i)
		if capped {
			require.Equal(t, w.String(), ev.Worker)
			require.Equal(t, uint64(100), ev.Macs)
			require.Equal(t, uint32(3), ev.MaxEmissionRecipients)
		}
		rep, err := k.Reputations.Get(f.Ctx, w)
		require.NoError(t, err)
		require.Equal(t, uint64(100), rep.VerifiedMacs, "reputation is credited either way")
		_, ok := epochWork(t, f, w)
		require.Equal(t, i < 3, ok, "worker %d", i)
	}
	// A worker already in keeps accruing.
	payOn(t, f, task, poster, workers[0], 50)
	task++
	macs, _ := epochWork(t, f, workers[0])
	require.Equal(t, uint64(150), macs)
	n, err := k.EpochWorkers.Get(f.Ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(3), n)

	_, err = keeperMsgFundPool(f, uhint(1_000_000))
	require.NoError(t, err)
	before := make([]sdkmath.Int, len(workers))
	for i, w := range workers {
		before[i] = f.Balance(w)
	}
	freshEvents(f)
	require.NoError(t, k.DistributeEmission(f.Ctx, 1))
	ev, ok := keepers.TypedEvents(t, f.Ctx)[types.EventTypeEmissionDistributed].(*types.EventEmissionDistributed)
	require.True(t, ok)
	require.Equal(t, uint32(3), ev.Workers)
	require.Equal(t, uint64(350), ev.Macs)
	for i, w := range workers {
		require.Equal(t, i < 3, f.Balance(w).GT(before[i]), "worker %d paid iff credited", i)
	}

	// The next epoch starts over: a previously capped worker gets in.
	payOn(t, f, task, poster, workers[4], 10)
	_, capped := keepers.TypedEvents(t, f.Ctx)[types.EventTypeEpochWorkNotCredited]
	require.False(t, capped)
	macs, ok = epochWork(t, f, workers[4])
	require.True(t, ok)
	require.Equal(t, uint64(10), macs)
}

// MACs near 2^64 saturate instead of wrapping, and an epoch with several such
// workers and a budget far beyond 2^64 (where budget × macs exceeds 256 bits)
// neither panics nor pays more than the budget.
func TestEmissionNoOverflow(t *testing.T) {
	f := setup(t)
	k := f.Rewards
	const big64 = math.MaxUint64 - 1
	payOn(t, f, 1, poster, w1, big64)
	payOn(t, f, 2, poster, w1, big64)
	macs, _ := epochWork(t, f, w1)
	require.Equal(t, uint64(math.MaxUint64), macs, "epoch work saturates")
	rep, err := k.Reputations.Get(f.Ctx, w1)
	require.NoError(t, err)
	require.Equal(t, uint64(math.MaxUint64), rep.VerifiedMacs, "reputation saturates")

	workers := []sdk.AccAddress{w1, w2, w3, challenger, keepers.Addr(70)}
	for i, w := range workers[1:] {
		require.NoError(t, k.EpochWork.Set(f.Ctx, w, math.MaxUint64-uint64(i)))
	}
	// A budget of 2^200: budget × 2^64 would overflow sdkmath.Int's 256 bits.
	budget := sdkmath.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 200))
	huge := sdk.NewCoin(keepers.Denom, budget)
	require.NoError(t, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, sdk.NewCoins(huge)))
	require.NoError(t, f.Bank.SendCoinsFromModuleToModule(f.Ctx, minttypes.ModuleName, types.PoolAccount, sdk.NewCoins(huge)))
	params, err := k.Params.Get(f.Ctx)
	require.NoError(t, err)
	params.EpochEmission = huge
	require.NoError(t, k.Params.Set(f.Ctx, params))

	before := make([]sdkmath.Int, len(workers))
	for i, w := range workers {
		before[i] = f.Balance(w)
	}
	pool := f.ModuleBalance(types.PoolAccount)
	freshEvents(f)
	require.NotPanics(t, func() { require.NoError(t, k.DistributeEmission(f.Ctx, 1)) })
	ev, ok := keepers.TypedEvents(t, f.Ctx)[types.EventTypeEmissionDistributed].(*types.EventEmissionDistributed)
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), ev.Macs, "the event's total saturates")
	require.Equal(t, uint32(len(workers)), ev.Workers)

	paid := sdkmath.ZeroInt()
	for i, w := range workers {
		got := f.Balance(w).Sub(before[i])
		require.True(t, got.IsPositive(), "worker %d", i)
		paid = paid.Add(got)
	}
	require.True(t, paid.LTE(budget), "paid %s of a budget of %s", paid, budget)
	require.True(t, budget.Sub(paid).LT(sdkmath.NewInt(int64(len(workers)))), "only truncation remains")
	require.Equal(t, pool.Sub(paid), f.ModuleBalance(types.PoolAccount))
	require.Equal(t, sdk.NewCoin(keepers.Denom, paid).String(), ev.Total)
}

// Funders survive export and import; genesis with a duplicate, a self-funded
// or a malformed entry, or more epoch work than the hard limit, is refused;
// the epoch worker count is rebuilt from the imported work.
func TestFundersGenesisRoundTrip(t *testing.T) {
	f := setup(t)
	b, c := keepers.Addr(80), keepers.Addr(81)
	require.NoError(t, f.Bank.SendCoins(f.Ctx, poster, b, sdk.NewCoins(uhint(10))))
	require.NoError(t, f.Bank.SendCoins(f.Ctx, w1, c, sdk.NewCoins(uhint(10))))
	gs, err := f.Rewards.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	require.Len(t, gs.Funders, 2)
	require.NoError(t, gs.Validate())

	g := keepers.New(t)
	require.NoError(t, g.Rewards.InitGenesis(g.Ctx, gs))
	require.Equal(t, poster, funderOf(t, g, b))
	require.Equal(t, w1, funderOf(t, g, c))
	again, err := g.Rewards.ExportGenesis(g.Ctx)
	require.NoError(t, err)
	require.Equal(t, gs, again)

	bad := func(mut func(*types.GenesisState)) error {
		cp := *gs
		cp.Funders = append([]types.Funder(nil), gs.Funders...)
		mut(&cp)
		return cp.Validate()
	}
	require.ErrorContains(t, bad(func(s *types.GenesisState) { s.Funders = append(s.Funders, s.Funders[0]) }), "duplicate")
	require.ErrorContains(t, bad(func(s *types.GenesisState) { s.Funders[0].Funder = s.Funders[0].Address }), "own funder")
	require.Error(t, bad(func(s *types.GenesisState) { s.Funders[0].Funder = "nope" }))
	require.Error(t, bad(func(s *types.GenesisState) { s.Funders[0].Address = "" }))
	require.ErrorContains(t, bad(func(s *types.GenesisState) {
		for i := 0; i <= types.MaxEmissionRecipientsLimit; i++ {
			s.EpochWork = append(s.EpochWork, types.EpochWork{Worker: keepers.Addr(i).String(), Macs: 1})
		}
	}), "epoch_work")

	// The worker count follows the imported epoch work: with the cap reached,
	// a new worker is not credited.
	h := keepers.New(t)
	gh := types.DefaultGenesis()
	gh.Params.MaxEmissionRecipients = 2
	gh.EpochWork = []types.EpochWork{{Worker: w2.String(), Macs: 5}, {Worker: w3.String(), Macs: 6}}
	require.NoError(t, h.Rewards.InitGenesis(h.Ctx, gh))
	for _, a := range []sdk.AccAddress{poster, w1} {
		h.Fund(t, a, 1_000_000)
	}
	payOn(t, h, 1, poster, w1, 10)
	_, capped := keepers.TypedEvents(t, h.Ctx)[types.EventTypeEpochWorkNotCredited]
	require.True(t, capped)
}

func TestMaxEmissionRecipientsParam(t *testing.T) {
	p := types.DefaultParams()
	require.Equal(t, uint32(types.DefaultMaxEmissionRecipients), p.MaxEmissionRecipients)
	require.NoError(t, p.Validate())
	p.MaxEmissionRecipients = 0
	require.ErrorContains(t, p.Validate(), "max_emission_recipients")
	require.Equal(t, uint64(types.DefaultMaxEmissionRecipients), p.EmissionRecipientsCap(), "params stored before the field")
	p.MaxEmissionRecipients = types.MaxEmissionRecipientsLimit + 1
	require.ErrorContains(t, p.Validate(), "max_emission_recipients")
	p.MaxEmissionRecipients = types.MaxEmissionRecipientsLimit
	require.NoError(t, p.Validate())
}
