package rewards

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

// AutoCLIOptions builds `hinterlandd tx rewards ...` and `hinterlandd query rewards ...`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/rewards params"},
				{RpcMethod: "Reputation", Use: "reputation [address]", Short: "Show an address's verified and failed work",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}}},
				{RpcMethod: "Leaderboard", Use: "leaderboard", Short: "List workers by verified MACs, highest first"},
				{RpcMethod: "Escrow", Use: "escrow [task-id]", Short: "Show what is still escrowed for a task",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "Bonds", Use: "bonds [task-id]", Short: "List the worker and challenger bonds held for a task",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "Pool", Use: "pool", Short: "Show the compute-emission pool and this epoch's verified work"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: types.Msg_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "FundPool", Use: "fund-pool [amount]", Short: "Add coins to the compute-emission pool",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "amount"}}},
				{RpcMethod: "UpdateParams", GovProposal: true, Use: "update-params-proposal [params]",
					Short:          "Submit a governance proposal to replace the module parameters (JSON)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}}},
			},
		},
	}
}
