package keeper

import (
	"context"
	"encoding/hex"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/hinterland-ai/hinterland/x/federated/types"
)

// queryServer serves x/federated queries. Its methods shadow the keeper's
// collections of the same names (Params, Jobs, Rounds, Updates,
// Challenges): those are reached as q.Keeper.X.
type queryServer struct{ Keeper }

// NewQueryServerImpl returns the Query service.
func NewQueryServerImpl(k Keeper) types.QueryServer { return queryServer{k} }

var _ types.QueryServer = queryServer{}

// maxPageLimit bounds one page of a list: a larger limit is served as this
// many entries and a next_key.
const maxPageLimit = 1_000

// pageRequest copies a request's page, capping its limit; newest-first lists
// always page in reverse key order.
func pageRequest(p *query.PageRequest, newestFirst bool) *query.PageRequest {
	var out query.PageRequest
	if p != nil {
		out = *p
	}
	out.Limit = min(out.Limit, maxPageLimit)
	if newestFirst {
		out.Reverse = true
	}
	return &out
}

// paginateErr reports a pagination failure; the usual cause is the request
// (both offset and key set, or a key from another list).
func paginateErr(err error) error {
	return status.Errorf(codes.InvalidArgument, "paginate: %s", err)
}

var errEmptyRequest = status.Error(codes.InvalidArgument, "empty request")

// Params returns the module's params.
func (q queryServer) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

// Job returns one job.
func (q queryServer) Job(ctx context.Context, req *types.QueryJobRequest) (*types.QueryJobResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	j, err := q.GetJob(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryJobResponse{Job: j}, nil
}

// Jobs lists jobs, newest first; with a status, it pages through the status
// index instead of filtering every job.
func (q queryServer) Jobs(ctx context.Context, req *types.QueryJobsRequest) (*types.QueryJobsResponse, error) {
	if req == nil {
		req = &types.QueryJobsRequest{}
	}
	if _, ok := types.JobStatus_name[int32(req.Status)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "status %d is not a job status (%s, %s or %s)",
			req.Status, types.JOB_STATUS_RUNNING, types.JOB_STATUS_COMPLETED, types.JOB_STATUS_STOPPED)
	}
	page := pageRequest(req.Pagination, true)
	if req.Status == types.JOB_STATUS_UNSPECIFIED {
		jobs, res, err := query.CollectionPaginate(ctx, q.Keeper.Jobs, page,
			func(_ uint64, j types.FederatedJob) (types.FederatedJob, error) { return j, nil })
		if err != nil {
			return nil, paginateErr(err)
		}
		return &types.QueryJobsResponse{Jobs: jobs, Pagination: res}, nil
	}
	jobs, res, err := query.CollectionPaginate(ctx, q.Keeper.Jobs.Indexes.Status, page,
		func(key collections.Pair[int32, uint64], _ collections.NoValue) (types.FederatedJob, error) {
			return q.GetJob(ctx, key.K2())
		},
		query.WithCollectionPaginationPairPrefix[int32, uint64](int32(req.Status)))
	if err != nil {
		return nil, paginateErr(err)
	}
	return &types.QueryJobsResponse{Jobs: jobs, Pagination: res}, nil
}

// Rounds lists a job's rounds, round 0 first (at most job.rounds).
func (q queryServer) Rounds(ctx context.Context, req *types.QueryRoundsRequest) (*types.QueryRoundsResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.GetJob(ctx, req.JobId); err != nil {
		return nil, err
	}
	rounds, res, err := query.CollectionPaginate(ctx, q.Keeper.Rounds, pageRequest(req.Pagination, false),
		func(_ RoundKey, r types.Round) (types.Round, error) { return r, nil },
		query.WithCollectionPaginationPairPrefix[uint64, uint32](req.JobId))
	if err != nil {
		return nil, paginateErr(err)
	}
	return &types.QueryRoundsResponse{Rounds: rounds, Pagination: res}, nil
}

// Round returns one round of a job.
func (q queryServer) Round(ctx context.Context, req *types.QueryRoundRequest) (*types.QueryRoundResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.GetJob(ctx, req.JobId); err != nil {
		return nil, err
	}
	r, err := q.GetRound(ctx, req.JobId, req.Round)
	if err != nil {
		return nil, err
	}
	return &types.QueryRoundResponse{Round: r}, nil
}

// Updates lists a round's updates in store order (by participant address
// bytes, the order a chunk reveal lists its update chunks in); a round has
// at most max_participants.
func (q queryServer) Updates(ctx context.Context, req *types.QueryUpdatesRequest) (*types.QueryUpdatesResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.GetJob(ctx, req.JobId); err != nil {
		return nil, err
	}
	if _, err := q.GetRound(ctx, req.JobId, req.Round); err != nil {
		return nil, err
	}
	updates, res, err := query.CollectionPaginate(ctx, q.Keeper.Updates, pageRequest(req.Pagination, false),
		func(_ UpdateKey, u types.Update) (types.Update, error) { return u, nil },
		func(o *query.CollectionsPaginateOptions[UpdateKey]) {
			prefix := collections.TripleSuperPrefix[uint64, uint32, sdk.AccAddress](req.JobId, req.Round)
			o.Prefix = &prefix
		})
	if err != nil {
		return nil, paginateErr(err)
	}
	return &types.QueryUpdatesResponse{Updates: updates, Pagination: res}, nil
}

// Challenges lists a round's pending chunk challenges, by chunk (at most the
// model's chunks, each held by a bond).
func (q queryServer) Challenges(ctx context.Context, req *types.QueryChallengesRequest) (*types.QueryChallengesResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	if _, err := q.GetJob(ctx, req.JobId); err != nil {
		return nil, err
	}
	if _, err := q.GetRound(ctx, req.JobId, req.Round); err != nil {
		return nil, err
	}
	chs, err := q.roundChallenges(ctx, req.JobId, req.Round)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryChallengesResponse{Challenges: chs}, nil
}

// roundChallenges returns a round's pending challenges, by chunk.
func (k Keeper) roundChallenges(ctx context.Context, job uint64, round uint32) ([]types.ChunkChallenge, error) {
	out := []types.ChunkChallenge{}
	err := k.Challenges.Walk(ctx, collections.NewSuperPrefixedTripleRange[uint64, uint32, uint64](job, round),
		func(_ ChallengeKey, c types.ChunkChallenge) (bool, error) {
			out = append(out, c)
			return false, nil
		})
	return out, err
}

// Lineage traces a global model to its job: the Models index gives the job
// and the round the model starts (a job's final model starts round
// `rounds`), and every round before it is finished. The walk reads at most
// job.rounds rounds and their updates (each at most max_participants).
func (q queryServer) Lineage(ctx context.Context, req *types.QueryLineageRequest) (*types.QueryLineageResponse, error) {
	if req == nil {
		return nil, errEmptyRequest
	}
	hash, err := hex.DecodeString(req.ModelHash)
	if err != nil || len(hash) != types.HashLen {
		return nil, status.Errorf(codes.InvalidArgument, "model_hash %q must be %d hex-encoded bytes", req.ModelHash, types.HashLen)
	}
	at, err := q.Keeper.Models.Get(ctx, hash)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "model %s is no global model of a federated job", req.ModelHash)
	} else if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	job, err := q.GetJob(ctx, at.K1())
	if err != nil {
		return nil, err
	}
	starts := at.K2()
	if starts > job.Rounds {
		return nil, status.Errorf(codes.Internal, "model %s indexed at round %d of job %d, which has %d rounds", req.ModelHash, starts, job.Id, job.Rounds)
	}
	r0, err := q.GetRound(ctx, job.Id, 0)
	if err != nil {
		return nil, err
	}
	res := &types.QueryLineageResponse{
		JobId: job.Id, ModelHash: hash, OriginModelHash: r0.StartModelHash, Dataset: job.Dataset,
		Rounds: make([]types.LineageStep, 0, starts),
	}
	for i := range starts {
		r := r0
		if i > 0 {
			if r, err = q.GetRound(ctx, job.Id, i); err != nil {
				return nil, err
			}
		}
		if r.Phase != types.ROUND_PHASE_FINAL {
			return nil, status.Errorf(codes.Internal, "job %d round %d is %s, yet model %s starts round %d", job.Id, i, r.Phase, req.ModelHash, starts)
		}
		us, err := q.roundUpdates(ctx, job.Id, i)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		acc := accepted(us)
		participants := make([]string, len(acc))
		for j, u := range acc {
			participants[j] = u.Participant
		}
		res.Rounds = append(res.Rounds, types.LineageStep{
			Round: i, StartModelHash: r.StartModelHash, AggregateHash: r.Aggregate.ModelHash,
			Aggregator: r.Aggregate.Committer, Participants: participants, Examples: r.Examples, MeanLoss: r.MeanLoss,
		})
	}
	return res, nil
}
