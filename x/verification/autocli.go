package verification

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/hinterland-ai/hinterland/x/verification/types"
)

// AutoCLIOptions builds `hinterlandd tx verification ...` and `hinterlandd query verification ...`.
// Commits and reveals are built from the worker's files by hand-written
// commands and by `hinterlandd worker`.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/verification params"},
				{RpcMethod: "Transcript", Use: "transcript [task-id] [worker]", Short: "Show a worker's transcript of a task",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}, {ProtoField: "worker"}}},
				{RpcMethod: "Transcripts", Use: "transcripts [task-id]", Short: "List every transcript of a task",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "Challenges", Use: "challenges [task-id]", Short: "List the challenges of a task",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "task_id"}}},
				{RpcMethod: "Verdicts", Use: "verdicts", Short: "List verdicts, oldest first (--task-id to filter)"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// `tx verification challenge` (cmd/hinterlandd) seals and opens.
				{RpcMethod: "SealChallenge", Skip: true},
				{RpcMethod: "ChallengeSegment", Skip: true},
				{RpcMethod: "SealTranscript", Skip: true}, // built by `hinterlandd worker`
				{RpcMethod: "OpenTranscript", Skip: true}, // built by `hinterlandd worker`
				{RpcMethod: "RevealSegment", Skip: true},  // built by `hinterlandd worker`
				{RpcMethod: "UpdateParams", GovProposal: true, Use: "update-params-proposal [params]",
					Short:          "Submit a governance proposal to replace the module parameters (JSON)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}}},
			},
		},
	}
}
