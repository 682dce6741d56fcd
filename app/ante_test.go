package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// A simulation runs on a meter bounded by the limit (it starts with the gas
// the ante decorators used); a real transaction keeps the SDK's meter.
func TestSimulationGasCap(t *testing.T) {
	sdkAnte := func(ctx sdk.Context, _ sdk.Tx, simulate bool) (sdk.Context, error) {
		meter := storetypes.NewGasMeter(1 << 40)
		if simulate {
			meter = storetypes.NewInfiniteGasMeter()
		}
		meter.ConsumeGas(300, "signatures")
		return ctx.WithGasMeter(meter), nil
	}
	capped := simulationGasCap(sdkAnte, 1_000)

	ctx, err := capped(sdk.Context{}, nil, true)
	require.NoError(t, err)
	require.Equal(t, storetypes.Gas(1_000), ctx.GasMeter().Limit())
	require.Equal(t, storetypes.Gas(300), ctx.GasMeter().GasConsumed())
	ctx.GasMeter().ConsumeGas(700, "work")
	require.PanicsWithValue(t, storetypes.ErrorOutOfGas{Descriptor: "recomputation"}, func() {
		ctx.GasMeter().ConsumeGas(1, "recomputation")
	})

	ctx, err = capped(sdk.Context{}, nil, false)
	require.NoError(t, err)
	require.Equal(t, storetypes.Gas(1<<40), ctx.GasMeter().Limit(), "a real transaction keeps its own limit")
}
