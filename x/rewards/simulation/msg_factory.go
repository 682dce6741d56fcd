package simulation

import (
	"context"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/rewards/keeper"
	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// MsgFundPoolFactory adds up to 1 HINT of the bond denom to the compute
// emission pool.
func MsgFundPoolFactory() simsx.SimMsgFactoryFn[*types.MsgFundPool] {
	return func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgFundPool) {
		amount := sdk.NewCoin(sdk.DefaultBondDenom, sdkmath.NewInt(1+testData.Rand().Int63n(1_000_000)))
		sender := testData.AnyAccountN(10, reporter, simsx.WithLiquidBalanceGTE(amount.AddAmount(sdkmath.NewInt(1))))
		if reporter.IsSkipped() {
			return nil, nil
		}
		sender.LiquidBalance().BlockAmount(amount)
		return []simsx.SimAccount{sender}, &types.MsgFundPool{Sender: sender.AddressBech32, Amount: amount}
	}
}

// MsgUpdateParamsFactory is a governance proposal that sets random valid
// params, keeping the emission epoch (it must name an x/epochs epoch).
func MsgUpdateParamsFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgUpdateParams] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams) {
		current, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skipf("params: %s", err)
			return nil, nil
		}
		return nil, &types.MsgUpdateParams{
			Authority: testData.ModuleAccountAddress(reporter, "gov"),
			Params:    GenParams(testData.Rand().Rand, sdk.DefaultBondDenom, current.EpochIdentifier),
		}
	}
}
