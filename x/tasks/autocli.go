package tasks

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

// AutoCLIOptions builds `hinterlandd tx tasks ...` and `hinterlandd query tasks ...`.
// Posting takes a spec file and has a hand-written command (client/cli).
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/tasks params"},
				{RpcMethod: "Task", Use: "task [id]", Short: "Show a task",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}}},
				{RpcMethod: "Tasks", Use: "tasks", Short: "List tasks, newest first (filter with --status, --poster, --worker)"},
				{RpcMethod: "Assignments", Use: "assignments [task-id]", Short: "List the workers' claims on a task",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "Lineage", Use: "lineage [model-hash]", Short: "Walk a verified model back through its base models",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "model_hash"}}},
				{RpcMethod: "Model", Use: "model [model-hash]", Short: "A verified model: its record, the spec of its task and its architecture",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "model_hash"}}},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "ClaimTask", Use: "claim [task-id]", Short: "Claim a replica slot of an open task and lock the bond",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "CancelTask", Use: "cancel [task-id]", Short: "Cancel a task nobody holds a claim on; the reward is refunded",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "AbandonClaim", Use: "abandon-claim [task-id]",
					Short:          "Give up an unsealed claim: pay the abandon fee to the requester, get the rest of the bond back",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "RevealSecret", Skip: true}, // `tx tasks reveal-secret` (cmd/hinterlandd) reads the stored secret
				{RpcMethod: "PostTask", Skip: true},     // `tx tasks post --spec FILE` (client/cli)
				{RpcMethod: "UpdateParams", GovProposal: true, Use: "update-params-proposal [params]",
					Short:          "Submit a governance proposal to replace the module parameters (JSON)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}}},
			},
		},
	}
}
