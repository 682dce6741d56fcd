package federated

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"

	"github.com/hinterland-ai/hinterland/x/federated/types"
)

// AutoCLIOptions builds `hinterlandd q federated ...` and `tx federated ...`.
// Posting a job takes a spec and a dataset file and has a hand-written
// command; the messages of a round's work are sent by the worker daemon.
func (am AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: types.Query_serviceDesc.ServiceName,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/federated params"},
				{RpcMethod: "Job", Use: "job [id]", Short: "Show a federated job",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}}},
				{RpcMethod: "Jobs", Use: "jobs", Short: "List federated jobs, newest first (--status running|completed|stopped to filter)"},
				{RpcMethod: "Rounds", Use: "rounds [job-id]", Short: "List a job's rounds with their phases and metrics",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}}},
				{RpcMethod: "Round", Use: "round [job-id] [round]", Short: "Show one round of a job",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}, {ProtoField: "round"}}},
				{RpcMethod: "Updates", Use: "updates [job-id] [round]", Short: "List a round's updates with their verdicts, by participant address",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}, {ProtoField: "round"}}},
				{RpcMethod: "Challenges", Use: "challenges [job-id] [round]", Short: "List a round's pending chunk challenges",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}, {ProtoField: "round"}}},
				{RpcMethod: "Lineage", Use: "lineage [model-hash]", Short: "Trace a global model (hex) back through every round of its job",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "model_hash"}}},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              types.Msg_serviceDesc.ServiceName,
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "JoinRound", Use: "join-round [job-id] [round]",
					Short:          "Join a job's current round and lock the bond: a public shard (--shard) or your own data (--dataset JSON)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}, {ProtoField: "round"}},
					FlagOptions: map[string]*autocliv1.FlagOptions{
						"shard":   {Usage: "public shard to train (jobs with shards > 0); each shard has one participant per round"},
						"dataset": {Usage: "bring-your-own-data jobs: your dataset's root, rows and schema (JSON); the schema must be the job's"},
					}},
				{RpcMethod: "ChallengeChunk", Use: "challenge-chunk [job-id] [round] [chunk] [bond]",
					Short:          "Challenge an undrawn chunk of a round's aggregate in its fraud window (bond at least the job's challenge_bond)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "job_id"}, {ProtoField: "round"}, {ProtoField: "chunk"}, {ProtoField: "bond"}}},
				// `hinterlandd tx federated post` (cmd/hinterlandd/cmd/federated.go) builds the job from a spec and a dataset file.
				{RpcMethod: "PostJob", Skip: true},
				// Sent by `hinterlandd worker start --federated`, which keeps the salts, transcripts and models they prove.
				{RpcMethod: "SealUpdate", Skip: true},
				{RpcMethod: "OpenUpdate", Skip: true},
				{RpcMethod: "RevealSegment", Skip: true},
				{RpcMethod: "CommitAggregate", Skip: true},
				{RpcMethod: "RevealChunk", Skip: true},
				{RpcMethod: "UpdateParams", GovProposal: true, Use: "update-params-proposal [params]",
					Short:          "Submit a governance proposal to replace the module parameters (JSON)",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "params"}}},
			},
		},
	}
}
