// Package keeper implements x/rewards: custody of task escrows and bonds,
// settlement (payouts, protocol fee, slashing), reputation and per-epoch
// compute emissions.
package keeper

import (
	"context"
	"errors"
	"fmt"
	"math"

	"cosmossdk.io/collections"
	collcodec "cosmossdk.io/collections/codec"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/hinterland-ai/hinterland/x/internal/metrics"
	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// Keeper of x/rewards. The rewards module account holds exactly the sum of
// Escrows, WorkerBonds and ChallengeBonds (CheckCustody) after every operation.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	authKeeper   types.AccountKeeper
	bankKeeper   types.BankKeeper
	authority    string
	feeCollector string

	Schema      collections.Schema
	Params      collections.Item[types.Params]
	Escrows     collections.Map[uint64, types.Escrow]
	WorkerBonds collections.Map[collections.Pair[uint64, sdk.AccAddress], types.Bond]
	// ChallengeBonds are keyed by (task, challenged worker, segment): one open
	// fraud challenge per segment of a transcript.
	ChallengeBonds collections.Map[collections.Triple[uint64, sdk.AccAddress, uint32], types.Bond]
	// Reputations by address, indexed by verified MACs (the leaderboard).
	Reputations *collections.IndexedMap[sdk.AccAddress, types.Reputation, ReputationIndexes]
	// EpochWork is the MACs each worker got verified since the last epoch end.
	EpochWork collections.Map[sdk.AccAddress, uint64]
	// EpochWorkers counts the entries of EpochWork (at most
	// max_emission_recipients are added per epoch); reset by DistributeEmission.
	EpochWorkers collections.Item[uint64]
	// Funders maps an account to the first account that sent it coins (module
	// accounts and self-sends excepted), recorded by FunderSendRestriction.
	Funders collections.Map[sdk.AccAddress, sdk.AccAddress]
	// Annotation jobs' escrows by job id, and annotators' stakes by (job,
	// annotator): x/annotation's custody (jobs.go).
	JobEscrows collections.Map[uint64, types.Escrow]
	Stakes     collections.Map[collections.Pair[uint64, sdk.AccAddress], types.Bond]
}

// NewKeeper builds the keeper; it panics if the module accounts are not set up.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, ak types.AccountKeeper, bk types.BankKeeper, authority string) Keeper {
	for _, name := range []string{types.ModuleName, types.PoolAccount} {
		if ak.GetModuleAddress(name) == nil {
			panic(fmt.Sprintf("the %s module account has not been set", name))
		}
	}
	if _, err := ak.AddressCodec().StringToBytes(authority); err != nil {
		panic(fmt.Errorf("invalid rewards authority address: %w", err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:            cdc,
		storeService:   storeService,
		authKeeper:     ak,
		bankKeeper:     bk,
		authority:      authority,
		feeCollector:   authtypes.FeeCollectorName,
		Params:         collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Escrows:        collections.NewMap(sb, types.EscrowsKey, "escrows", collections.Uint64Key, codec.CollValue[types.Escrow](cdc)),
		WorkerBonds:    collections.NewMap(sb, types.WorkerBondsKey, "worker_bonds", collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey), codec.CollValue[types.Bond](cdc)),
		ChallengeBonds: collections.NewMap(sb, types.ChallengeBondsKey, "challenge_bonds", collections.TripleKeyCodec(collections.Uint64Key, sdk.AccAddressKey, collections.Uint32Key), codec.CollValue[types.Bond](cdc)),
		Reputations: collections.NewIndexedMap(sb, types.ReputationsKey, "reputations", sdk.AccAddressKey,
			codec.CollValue[types.Reputation](cdc), ReputationIndexes{
				ByMACs: indexes.NewMulti(sb, types.LeaderboardKey, "reputations_by_verified_macs", collections.Uint64Key, sdk.AccAddressKey,
					func(_ sdk.AccAddress, r types.Reputation) (uint64, error) { return r.VerifiedMacs, nil }),
			}),
		EpochWork:    collections.NewMap(sb, types.EpochWorkKey, "epoch_work", sdk.AccAddressKey, collections.Uint64Value),
		EpochWorkers: collections.NewItem(sb, types.EpochWorkersKey, "epoch_workers", collections.Uint64Value),
		Funders:      collections.NewMap(sb, types.FundersKey, "funders", sdk.AccAddressKey, collcodec.KeyToValueCodec(sdk.AccAddressKey)),
		JobEscrows:   collections.NewMap(sb, types.JobEscrowsKey, "job_escrows", collections.Uint64Key, codec.CollValue[types.Escrow](cdc)),
		Stakes: collections.NewMap(sb, types.StakesKey, "stakes", collections.PairKeyCodec(collections.Uint64Key, sdk.AccAddressKey),
			codec.CollValue[types.Bond](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority is the address allowed to update params.
func (k Keeper) Authority() string { return k.authority }

// ModuleAddress is the custody account.
func (k Keeper) ModuleAddress() sdk.AccAddress {
	return k.authKeeper.GetModuleAddress(types.ModuleName)
}

// Held is the sum of every escrow and bond in the store.
func (k Keeper) Held(ctx context.Context) (sdk.Coins, error) {
	held := sdk.NewCoins()
	err := k.Escrows.Walk(ctx, nil, func(_ uint64, e types.Escrow) (bool, error) {
		held = held.Add(e.Amount)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.WorkerBonds.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], b types.Bond) (bool, error) {
		held = held.Add(b.Amount)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.ChallengeBonds.Walk(ctx, nil, func(_ collections.Triple[uint64, sdk.AccAddress, uint32], b types.Bond) (bool, error) {
		held = held.Add(b.Amount)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.JobEscrows.Walk(ctx, nil, func(_ uint64, e types.Escrow) (bool, error) {
		held = held.Add(e.Amount)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Stakes.Walk(ctx, nil, func(_ collections.Pair[uint64, sdk.AccAddress], b types.Bond) (bool, error) {
		held = held.Add(b.Amount)
		return false, nil
	})
	return held, err
}

// CheckCustody verifies the invariant: module balance == escrows + bonds.
func (k Keeper) CheckCustody(ctx context.Context) error {
	held, err := k.Held(ctx)
	if err != nil {
		return err
	}
	balance := k.bankKeeper.GetAllBalances(ctx, k.ModuleAddress())
	if !balance.Equal(held) {
		return errorsmod.Wrapf(types.ErrAccounting, "rewards module account holds %s but escrows and bonds add up to %s", balance, held)
	}
	return nil
}

func (k Keeper) reputation(ctx context.Context, addr sdk.AccAddress) (types.Reputation, error) {
	rep, err := k.Reputations.Get(ctx, addr)
	if errors.Is(err, collections.ErrNotFound) {
		return types.Reputation{Address: addr.String()}, nil
	}
	return rep, err
}

// ReputationIndexes rank reputations by verified MACs: the leaderboard.
type ReputationIndexes struct {
	ByMACs *indexes.Multi[uint64, sdk.AccAddress, types.Reputation]
}

// IndexesList implements collections.Indexes.
func (i ReputationIndexes) IndexesList() []collections.Index[sdk.AccAddress, types.Reputation] {
	return []collections.Index[sdk.AccAddress, types.Reputation]{i.ByMACs}
}

// updateReputation applies fn to addr's reputation (the leaderboard index follows).
func (k Keeper) updateReputation(ctx context.Context, addr sdk.AccAddress, fn func(*types.Reputation)) error {
	rep, err := k.reputation(ctx, addr)
	if err != nil {
		return err
	}
	fn(&rep)
	rep.LastHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	return k.Reputations.Set(ctx, addr, rep)
}

// addSat returns a + b, saturating at math.MaxUint64 instead of wrapping.
func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// mulBps returns amount * bps / 10 000, truncated.
func mulBps(amount sdkmath.Int, bps uint32) sdkmath.Int {
	return amount.MulRaw(int64(bps)).QuoRaw(types.BasisPoints)
}

func coinStr(c sdk.Coin) string {
	if c.Amount.IsNil() {
		return ""
	}
	return c.String()
}

// EndBlocker sets hinterland_rewards_escrowed{denom}, the coins in custody
// (every escrow and bond; the custody invariant makes it the module
// account's balance), every metrics.RefreshBlocks blocks. It writes nothing.
func (k Keeper) EndBlocker(ctx context.Context) error {
	if !metrics.Due(sdk.UnwrapSDKContext(ctx).BlockHeight()) {
		return nil
	}
	for _, c := range k.bankKeeper.GetAllBalances(ctx, k.ModuleAddress()) {
		if c.Amount.IsUint64() {
			metrics.Gauge(types.ModuleName, "escrowed", c.Amount.Uint64(), "denom", c.Denom)
		}
	}
	return nil
}
