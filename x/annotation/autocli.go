package annotation

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// AutoCLIOptions builds `hinterlandd q annotation ...` and `tx annotation ...`.
func (am AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/annotation params"},
				{RpcMethod: "Job", Use: "job [id]", Short: "Show an annotation job",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}}},
				{RpcMethod: "Jobs", Use: "jobs", Short: "List annotation jobs, newest first (--status to filter)"},
				{RpcMethod: "Batches", Use: "batches [job-id]", Short: "List a job's batches",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}}},
				{RpcMethod: "Group", Use: "group [job-id] [group]", Short: "List the items of one group of a job, in label order",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}, {ProtoField: "group"}}},
				{RpcMethod: "Labels", Use: "labels [job-id]", Short: "Show a settled job's aggregated labels (--offset, --limit)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}}},
				{RpcMethod: "Gold", Use: "gold [job-id]", Short: "Show a job's gold set, once revealed",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}}},
				{RpcMethod: "Annotator", Use: "annotator [address]", Short: "Show an annotator's record",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "address"}}},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "ClaimBatch", Use: "claim-batch [job-id]", Short: "Claim a batch of a job (the chain picks its items) and lock the stake",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}}},
				// Built by `hinterlandd annotate` (salts kept on disk).
				{RpcMethod: "PostJob", Skip: true},
				{RpcMethod: "SealLabels", Skip: true},
				{RpcMethod: "OpenLabels", Skip: true},
				{RpcMethod: "RevealGold", Skip: true},
				{RpcMethod: "UpdateParams", GovProposal: true, Use: "update-params-proposal [params]",
					Short:          "Submit a governance proposal to replace the module parameters (JSON)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}}},
			},
		},
	}
}
