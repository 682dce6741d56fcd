package app

import (
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// simulationGasCap bounds the gas a simulated transaction may use. The SDK's
// ante handler gives a simulation an infinite gas meter, and a simulation is
// free to the caller: without a cap, anyone could ask a public node to
// recompute an arbitrarily large segment through /cosmos.tx.v1beta1.Service/
// Simulate. With it a simulation stops, out of gas, where no block could hold
// the transaction anyway. It wraps the ante handler: the SDK's decorators set
// the infinite meter, then this one swaps in a bounded meter carrying the gas
// already used.
func simulationGasCap(next sdk.AnteHandler, limit uint64) sdk.AnteHandler {
	return func(ctx sdk.Context, tx sdk.Tx, simulate bool) (sdk.Context, error) {
		newCtx, err := next(ctx, tx, simulate)
		if err != nil || !simulate {
			return newCtx, err
		}
		meter := storetypes.NewGasMeter(limit)
		meter.ConsumeGas(min(newCtx.GasMeter().GasConsumed(), limit), "ante (simulation)")
		return newCtx.WithGasMeter(meter), nil
	}
}
