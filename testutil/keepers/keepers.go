// Package keepers builds the Hinterland keepers on real stores (auth, bank,
// rewards, tasks, verification), wired as in app/app.go, for keeper tests
// that need exact balances without linking the whole app.
package keepers

import (
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	gogoproto "github.com/cosmos/gogoproto/proto"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/cosmos/cosmos-sdk/codec"
	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"
	"github.com/cosmos/cosmos-sdk/x/auth"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"

	"github.com/hinterland-ai/hinterland/x/annotation"
	annotationkeeper "github.com/hinterland-ai/hinterland/x/annotation/keeper"
	annotationtypes "github.com/hinterland-ai/hinterland/x/annotation/types"
	"github.com/hinterland-ai/hinterland/x/federated"
	federatedkeeper "github.com/hinterland-ai/hinterland/x/federated/keeper"
	federatedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
	"github.com/hinterland-ai/hinterland/x/rewards"
	rewardskeeper "github.com/hinterland-ai/hinterland/x/rewards/keeper"
	rewardstypes "github.com/hinterland-ai/hinterland/x/rewards/types"
	"github.com/hinterland-ai/hinterland/x/tasks"
	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	taskstypes "github.com/hinterland-ai/hinterland/x/tasks/types"
	"github.com/hinterland-ai/hinterland/x/verification"
	verificationkeeper "github.com/hinterland-ai/hinterland/x/verification/keeper"
	verificationtypes "github.com/hinterland-ai/hinterland/x/verification/types"
)

// Denom is the denom the fixture funds accounts with.
const Denom = "uhint"

// Fixture holds a context and the keepers.
type Fixture struct {
	Ctx          sdk.Context
	Codec        codec.Codec
	Auth         authkeeper.AccountKeeper
	Bank         bankkeeper.BaseKeeper
	Rewards      rewardskeeper.Keeper
	Tasks        taskskeeper.Keeper
	Verification verificationkeeper.Keeper
	Annotation   annotationkeeper.Keeper
	Federated    federatedkeeper.Keeper
	Authority    string
}

// Start is the fixture's first block time.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// New builds the keepers with default genesis for the Hinterland modules.
func New(t testing.TB) *Fixture {
	t.Helper()
	enc := moduletestutil.MakeTestEncodingConfig(auth.AppModule{}, bank.AppModule{},
		tasks.AppModule{}, verification.AppModule{}, rewards.AppModule{}, annotation.AppModule{}, federated.AppModule{})
	keys := storetypes.NewKVStoreKeys(authtypes.StoreKey, banktypes.StoreKey,
		rewardstypes.StoreKey, taskstypes.StoreKey, verificationtypes.StoreKey, annotationtypes.StoreKey, federatedtypes.StoreKey)
	ctx := testutil.DefaultContextWithKeys(keys, nil, nil).
		WithBlockTime(Start).WithBlockHeight(1).WithHeaderHash(make([]byte, 32))

	authority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	prefix := sdk.GetConfig().GetBech32AccountAddrPrefix()
	perms := map[string][]string{
		authtypes.FeeCollectorName: nil,
		minttypes.ModuleName:       {authtypes.Minter},
		rewardstypes.ModuleName:    {authtypes.Burner},
		rewardstypes.PoolAccount:   nil,
	}
	ak := authkeeper.NewAccountKeeper(enc.Codec, runtime.NewKVStoreService(keys[authtypes.StoreKey]),
		authtypes.ProtoBaseAccount, perms, addresscodec.NewBech32Codec(prefix), prefix, authority)
	blocked := map[string]bool{}
	for name := range perms {
		blocked[authtypes.NewModuleAddress(name).String()] = true
	}
	bk := bankkeeper.NewBaseKeeper(enc.Codec, runtime.NewKVStoreService(keys[banktypes.StoreKey]), ak, blocked, authority, ctx.Logger())
	rk := rewardskeeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(keys[rewardstypes.StoreKey]), ak, bk, authority)
	bk.AppendSendRestriction(rk.FunderSendRestriction(blocked)) // as app/app.go
	tk := taskskeeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(keys[taskstypes.StoreKey]), ak, rk, authority)
	vk := verificationkeeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(keys[verificationtypes.StoreKey]), ak, tk, rk, authority)
	tk.SetVerificationKeeper(vk)
	nk := annotationkeeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(keys[annotationtypes.StoreKey]), ak, rk, authority)
	tk.SetAnnotationKeeper(nk)
	fk := federatedkeeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(keys[federatedtypes.StoreKey]), ak, rk, vk, tk, authority)

	require.NoError(t, rk.InitGenesis(ctx, rewardstypes.DefaultGenesis()))
	require.NoError(t, tk.InitGenesis(ctx, taskstypes.DefaultGenesis()))
	require.NoError(t, vk.InitGenesis(ctx, verificationtypes.DefaultGenesis()))
	require.NoError(t, nk.InitGenesis(ctx, annotationtypes.DefaultGenesis()))
	require.NoError(t, fk.InitGenesis(ctx, federatedtypes.DefaultGenesis()))
	return &Fixture{Ctx: ctx, Codec: enc.Codec, Auth: ak, Bank: bk, Rewards: rk, Tasks: tk, Verification: vk,
		Annotation: nk, Federated: fk, Authority: authority}
}

// Addr returns a deterministic test address.
func Addr(i int) sdk.AccAddress {
	b := make([]byte, 20)
	b[0], b[19] = 0xAB, byte(i)
	b[18] = byte(i >> 8)
	return b
}

// Fund mints amount uhint to addr.
func (f *Fixture) Fund(t testing.TB, addr sdk.AccAddress, amount int64) {
	t.Helper()
	coins := sdk.NewCoins(sdk.NewInt64Coin(Denom, amount))
	require.NoError(t, f.Bank.MintCoins(f.Ctx, minttypes.ModuleName, coins))
	require.NoError(t, f.Bank.SendCoinsFromModuleToAccount(f.Ctx, minttypes.ModuleName, addr, coins))
}

// Balance is addr's uhint balance.
func (f *Fixture) Balance(addr sdk.AccAddress) sdkmath.Int {
	return f.Bank.GetBalance(f.Ctx, addr, Denom).Amount
}

// ModuleBalance is a module account's uhint balance.
func (f *Fixture) ModuleBalance(name string) sdkmath.Int {
	return f.Balance(authtypes.NewModuleAddress(name))
}

// Supply is the total uhint supply.
func (f *Fixture) Supply() sdkmath.Int { return f.Bank.GetSupply(f.Ctx, Denom).Amount }

// RequireCustody asserts the invariant: rewards module balance == escrows + bonds.
func (f *Fixture) RequireCustody(t testing.TB) {
	t.Helper()
	require.NoError(t, f.Rewards.CheckCustody(f.Ctx))
}

// Advance moves to the next block, d later, with a new header hash, and runs
// the verification begin blocker and the verification and tasks end blockers
// as the app does.
func (f *Fixture) Advance(t testing.TB, d time.Duration) {
	t.Helper()
	require.NoError(t, f.Verification.EndBlocker(f.Ctx))
	require.NoError(t, f.Tasks.EndBlocker(f.Ctx))
	require.NoError(t, f.Annotation.EndBlocker(f.Ctx))
	require.NoError(t, f.Federated.EndBlocker(f.Ctx))
	h := f.Ctx.BlockHeight() + 1
	hash := make([]byte, 32)
	hash[0], hash[1] = byte(h), byte(h>>8)
	f.Ctx = f.Ctx.WithBlockHeight(h).WithBlockTime(f.Ctx.BlockTime().Add(d)).WithHeaderHash(hash).
		WithEventManager(sdk.NewEventManager())
	require.NoError(t, f.Verification.BeginBlocker(f.Ctx))
}

// Snapshot is everything a rejected message must leave untouched: the three
// modules' exported state and the balances of the given addresses and of the
// rewards module account.
type Snapshot struct {
	Tasks        *taskstypes.GenesisState
	Verification *verificationtypes.GenesisState
	Rewards      *rewardstypes.GenesisState
	Annotation   *annotationtypes.GenesisState
	Federated    *federatedtypes.GenesisState
	Balances     []string
}

// Snapshot captures the state.
func (f *Fixture) Snapshot(t testing.TB, addrs ...sdk.AccAddress) Snapshot {
	t.Helper()
	tg, err := f.Tasks.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	vg, err := f.Verification.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	rg, err := f.Rewards.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	ag, err := f.Annotation.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	fg, err := f.Federated.ExportGenesis(f.Ctx)
	require.NoError(t, err)
	s := Snapshot{Tasks: tg, Verification: vg, Rewards: rg, Annotation: ag, Federated: fg}
	addrs = append(addrs, authtypes.NewModuleAddress(rewardstypes.ModuleName))
	for _, a := range addrs {
		s.Balances = append(s.Balances, f.Bank.GetAllBalances(f.Ctx, a).String())
	}
	return s
}

// CacheCtx runs fn on a branch of the context and commits it only if fn
// succeeds, as the SDK does with a message: a rejected message leaves nothing.
func (f *Fixture) CacheCtx(fn func(ctx sdk.Context) error) error {
	cache, write := f.Ctx.CacheContext()
	if err := fn(cache); err != nil {
		return err
	}
	write()
	return nil
}

// TypedEvents parses the typed events ctx's event manager holds, keyed by
// proto message name (the last event of each type wins). Keeper tests assert
// the events a worker or dApp relies on with it.
func TypedEvents(t testing.TB, ctx sdk.Context) map[string]gogoproto.Message {
	t.Helper()
	out := map[string]gogoproto.Message{}
	for _, e := range ctx.EventManager().Events() {
		msg, err := sdk.ParseTypedEvent(abci.Event(e))
		if err != nil {
			continue // an untyped event (the SDK's bank and message events)
		}
		out[gogoproto.MessageName(msg)] = msg
	}
	return out
}
