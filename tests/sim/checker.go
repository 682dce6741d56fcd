package sim

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	abci "github.com/cometbft/cometbft/abci/types"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
)

// Checker asserts the chain's accounting after every block:
//
//   - custody: the rewards module account holds exactly the open escrows
//     and bonds (x/rewards CheckCustody);
//   - supply: the total supply changed by exactly what x/mint minted minus
//     what was burned. Mints and burns are read from the bank's coinbase and
//     burn events of the whole block: begin and end block (through an ABCI
//     listener) and every simulated transaction (passed in by the delivery,
//     see operations). Only x/mint may mint.
//
// It also records the app hash of every committed height.
type Checker struct {
	app *SimApp
	tb  testing.TB

	supply         map[string]sdkmath.Int
	minted, burned map[string]sdkmath.Int
	// Blocks is the number of blocks checked; Hashes their app hashes.
	Blocks int
	Hashes [][]byte
	// Minted and Burned are the totals over the run, for the report.
	Minted, Burned sdk.Coins
	// LastBlockTime is the time of the last checked block.
	LastBlockTime time.Time
}

func newChecker(a *SimApp) *Checker {
	c := &Checker{app: a, minted: map[string]sdkmath.Int{}, burned: map[string]sdkmath.Int{}}
	a.SetInitChainer(c.initChainer)
	a.SetPrecommiter(c.precommit)
	a.SetStreamingManager(storetypes.StreamingManager{ABCIListeners: []storetypes.ABCIListener{c}})
	return c
}

// Attach makes c report failures to tb.
func (c *Checker) Attach(tb testing.TB) { c.tb = tb }

func (c *Checker) fail(format string, args ...any) {
	if c.tb == nil {
		panic(fmt.Sprintf(format, args...))
	}
	c.tb.Helper()
	c.tb.Fatalf(format, args...)
}

// initChainer runs the app's and takes the genesis supply as the baseline.
func (c *Checker) initChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	res, err := c.app.InitChainer(ctx, req)
	if err != nil {
		return nil, err
	}
	c.supply = c.totalSupply(ctx)
	if err := c.app.RewardsKeeper.CheckCustody(ctx); err != nil {
		c.fail("custody at genesis: %v", err)
	}
	return res, nil
}

func (c *Checker) totalSupply(ctx sdk.Context) map[string]sdkmath.Int {
	out := map[string]sdkmath.Int{}
	c.app.BankKeeper.IterateTotalSupply(ctx, func(coin sdk.Coin) bool {
		out[coin.Denom] = coin.Amount
		return false
	})
	return out
}

// ListenFinalizeBlock takes the begin- and end-block events (and those of
// any transaction in the block itself).
func (c *Checker) ListenFinalizeBlock(_ context.Context, _ abci.RequestFinalizeBlock, res abci.ResponseFinalizeBlock) error {
	c.TxEvents(res.Events)
	for _, tx := range res.TxResults {
		if tx.Code == 0 {
			c.TxEvents(tx.Events)
		}
	}
	return nil
}

// ListenCommit records the committed app hash.
func (c *Checker) ListenCommit(context.Context, abci.ResponseCommit, []*storetypes.StoreKVPair) error {
	c.Hashes = append(c.Hashes, c.app.LastCommitID().Hash)
	return nil
}

// TxEvents adds the mints and burns among events to the block's totals.
func (c *Checker) TxEvents(events []abci.Event) {
	mintModule := authtypes.NewModuleAddress(minttypes.ModuleName).String()
	for _, ev := range events {
		var into map[string]sdkmath.Int
		var who, amount string
		for _, a := range ev.Attributes {
			switch a.Key {
			case banktypes.AttributeKeyMinter, banktypes.AttributeKeyBurner:
				who = a.Value
			case sdk.AttributeKeyAmount:
				amount = a.Value
			}
		}
		switch ev.Type {
		case banktypes.EventTypeCoinMint:
			if who != mintModule {
				c.fail("%s minted %s: only x/mint may mint", who, amount)
			}
			into = c.minted
		case banktypes.EventTypeCoinBurn:
			into = c.burned
		default:
			continue
		}
		coins, err := sdk.ParseCoinsNormalized(amount)
		if err != nil {
			c.fail("%s event amount %q: %v", ev.Type, amount, err)
		}
		for _, coin := range coins {
			prev, ok := into[coin.Denom]
			if !ok {
				prev = sdkmath.ZeroInt()
			}
			into[coin.Denom] = prev.Add(coin.Amount)
		}
	}
}

// precommit checks custody and supply on the block's final state.
func (c *Checker) precommit(ctx sdk.Context) {
	if err := c.app.RewardsKeeper.CheckCustody(ctx); err != nil {
		c.fail("height %d: %v", ctx.BlockHeight(), err)
	}
	now := c.totalSupply(ctx)
	denoms := map[string]bool{}
	for _, m := range []map[string]sdkmath.Int{now, c.supply, c.minted, c.burned} {
		for d := range m {
			denoms[d] = true
		}
	}
	var bad []string
	for d := range denoms {
		want := get(c.supply, d).Add(get(c.minted, d)).Sub(get(c.burned, d))
		if !want.Equal(get(now, d)) {
			bad = append(bad, fmt.Sprintf("%s: supply %s, expected %s (before %s + minted %s - burned %s)",
				d, get(now, d), want, get(c.supply, d), get(c.minted, d), get(c.burned, d)))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		c.fail("height %d: supply change is not minted - burned:\n%s", ctx.BlockHeight(), strings.Join(bad, "\n"))
	}
	for d, v := range c.minted {
		c.Minted = c.Minted.Add(sdk.NewCoin(d, v))
	}
	for d, v := range c.burned {
		c.Burned = c.Burned.Add(sdk.NewCoin(d, v))
	}
	c.supply = now
	c.minted, c.burned = map[string]sdkmath.Int{}, map[string]sdkmath.Int{}
	c.Blocks++
	c.LastBlockTime = ctx.BlockTime()
}

func get(m map[string]sdkmath.Int, denom string) sdkmath.Int {
	if v, ok := m[denom]; ok {
		return v
	}
	return sdkmath.ZeroInt()
}
