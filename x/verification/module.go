// Package verification is the x/verification module: proof of training by
// deterministic recomputation of sampled segments inside the state machine.
package verification

import (
	"context"
	"encoding/json"
	"fmt"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/runtime"

	"cosmossdk.io/core/appmodule"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"

	taskskeeper "github.com/hinterland-ai/hinterland/x/tasks/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/keeper"
	"github.com/hinterland-ai/hinterland/x/verification/simulation"
	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// ConsensusVersion is the state-machine version of x/verification.
const ConsensusVersion = 1

var (
	_ module.HasGenesis  = AppModule{}
	_ module.HasServices = AppModule{}
	_ module.AppModule   = AppModule{} //nolint:staticcheck // the SDK's module manager still uses it

	_ appmodule.AppModule       = AppModule{}
	_ appmodule.HasBeginBlocker = AppModule{}
	_ appmodule.HasEndBlocker   = AppModule{}

	_ module.AppModuleSimulation = AppModule{}
)

// AppModule wires x/verification into the app.
type AppModule struct {
	keeper keeper.Keeper
	// tasks is read by the simulation's factories only (WithTasks): the
	// module itself reaches x/tasks through its keeper's interface.
	tasks *taskskeeper.Keeper
}

// NewAppModule returns the x/verification app module.
func NewAppModule(k keeper.Keeper) AppModule { return AppModule{keeper: k} }

func (AppModule) IsAppModule()                                      {}
func (AppModule) IsOnePerModuleType()                               {}
func (AppModule) Name() string                                      { return types.ModuleName }
func (AppModule) ConsensusVersion() uint64                          { return ConsensusVersion }
func (AppModule) RegisterInterfaces(r codectypes.InterfaceRegistry) { types.RegisterInterfaces(r) }
func (AppModule) RegisterLegacyAminoCodec(c *codec.LegacyAmino)     { types.RegisterLegacyAminoCodec(c) }

// RegisterGRPCGatewayRoutes serves the queries over REST.
func (AppModule) RegisterGRPCGatewayRoutes(clientCtx client.Context, mux *gwruntime.ServeMux) {
	if err := types.RegisterQueryHandlerClient(context.Background(), mux, types.NewQueryClient(clientCtx)); err != nil {
		panic(err)
	}
}

// RegisterServices registers the Msg and Query services.
func (am AppModule) RegisterServices(cfg module.Configurator) {
	types.RegisterMsgServer(cfg.MsgServer(), keeper.NewMsgServerImpl(am.keeper))
	types.RegisterQueryServer(cfg.QueryServer(), keeper.NewQuerier(am.keeper))
}

// DefaultGenesis is the default genesis state.
func (AppModule) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	return cdc.MustMarshalJSON(types.DefaultGenesis())
}

// ValidateGenesis checks a genesis state.
func (AppModule) ValidateGenesis(cdc codec.JSONCodec, _ client.TxEncodingConfig, bz json.RawMessage) error {
	var gs types.GenesisState
	if err := cdc.UnmarshalJSON(bz, &gs); err != nil {
		return fmt.Errorf("failed to unmarshal %s genesis state: %w", types.ModuleName, err)
	}
	if err := gs.Validate(); err != nil {
		return fmt.Errorf("%s genesis: %w", types.ModuleName, err)
	}
	return nil
}

// InitGenesis loads the genesis state.
func (am AppModule) InitGenesis(ctx sdk.Context, cdc codec.JSONCodec, bz json.RawMessage) {
	var gs types.GenesisState
	cdc.MustUnmarshalJSON(bz, &gs)
	if err := am.keeper.InitGenesis(ctx, &gs); err != nil {
		panic(fmt.Errorf("%s genesis: %w", types.ModuleName, err))
	}
}

// ExportGenesis exports the state.
func (am AppModule) ExportGenesis(ctx sdk.Context, cdc codec.JSONCodec) json.RawMessage {
	gs, err := am.keeper.ExportGenesis(ctx)
	if err != nil {
		panic(fmt.Errorf("%s export: %w", types.ModuleName, err))
	}
	return cdc.MustMarshalJSON(gs)
}

// BeginBlock draws the samples of last block's commits.
func (am AppModule) BeginBlock(ctx context.Context) error { return am.keeper.BeginBlocker(ctx) }

// EndBlock handles reveal deadlines and fraud windows.
func (am AppModule) EndBlock(ctx context.Context) error { return am.keeper.EndBlocker(ctx) }

// WithTasks returns the module with the x/tasks keeper its simulation
// factories read tasks and claims from. A simulation manager needs it
// (tests/sim builds its manager with it); the running chain does not.
func (am AppModule) WithTasks(tk taskskeeper.Keeper) AppModule {
	am.tasks = &tk
	return am
}

// GenerateGenesisState draws a random x/verification genesis for a simulation.
func (AppModule) GenerateGenesisState(simState *module.SimulationState) {
	simulation.RandomizedGenState(simState)
}

// RegisterStoreDecoder lets a simulation print x/verification store entries.
func (am AppModule) RegisterStoreDecoder(sdr simtypes.StoreDecoderRegistry) {
	sdr[types.StoreKey] = simtypes.NewStoreDecoderFuncFromCollectionsSchema(am.keeper.Schema)
}

// WeightedOperations is the pre-simsx interface; the simulation uses
// WeightedOperationsX.
func (AppModule) WeightedOperations(module.SimulationState) []simtypes.WeightedOperation { return nil }

// ProposalMsgsX registers the governance proposals of x/verification.
func (AppModule) ProposalMsgsX(weights simsx.WeightSource, reg simsx.Registry) {
	reg.Add(weights.Get("msg_update_verification_params", 50), simulation.MsgUpdateParamsFactory())
}

// WeightedOperationsX registers the x/verification message factories. They
// read tasks and claims, so the module must have been given the x/tasks
// keeper with WithTasks.
func (am AppModule) WeightedOperationsX(weights simsx.WeightSource, reg simsx.Registry) {
	if am.tasks == nil {
		panic("x/verification simulation: the module has no x/tasks keeper; build it with WithTasks")
	}
	reg.Add(weights.Get("msg_seal_transcript", 150), simulation.MsgSealTranscriptFactory(*am.tasks))
	reg.Add(weights.Get("msg_open_transcript", 150), simulation.MsgOpenTranscriptFactory(am.keeper, *am.tasks))
	reg.Add(weights.Get("msg_reveal_segment", 250), simulation.MsgRevealSegmentFactory(am.keeper, *am.tasks))
	reg.Add(weights.Get("msg_seal_challenge", 50), simulation.MsgSealChallengeFactory(am.keeper, *am.tasks))
	reg.Add(weights.Get("msg_challenge_segment", 50), simulation.MsgChallengeSegmentFactory(am.keeper))
}
