package keeper

import (
	"context"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/hinterland-ai/hinterland/x/verification/types"
)

type querier struct{ Keeper }

// NewQuerier returns the x/verification Query service.
func NewQuerier(k Keeper) types.QueryServer { return querier{k} }

var _ types.QueryServer = querier{}

func (q querier) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q querier) Transcript(ctx context.Context, req *types.QueryTranscriptRequest) (*types.QueryTranscriptResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	worker, err := q.authKeeper.AddressCodec().StringToBytes(req.Worker)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "worker %q: %s", req.Worker, err)
	}
	t, err := q.GetTranscript(ctx, req.TaskId, worker)
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return &types.QueryTranscriptResponse{Transcript: t}, nil
}

func (q querier) Transcripts(ctx context.Context, req *types.QueryTranscriptsRequest) (*types.QueryTranscriptsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	res := &types.QueryTranscriptsResponse{}
	err := q.Keeper.Transcripts.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](req.TaskId),
		func(_ TranscriptKey, t types.Transcript) (bool, error) {
			res.Transcripts = append(res.Transcripts, t)
			return false, nil
		})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return res, nil
}

func (q querier) Challenges(ctx context.Context, req *types.QueryChallengesRequest) (*types.QueryChallengesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	res := &types.QueryChallengesResponse{}
	err := q.Keeper.Challenges.Walk(ctx, collections.NewPrefixedTripleRange[uint64, sdk.AccAddress, uint32](req.TaskId),
		func(_ ChallengeKey, c types.Challenge) (bool, error) {
			res.Challenges = append(res.Challenges, c)
			return false, nil
		})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return res, nil
}

// Verdicts pages through verdicts, oldest first, of one task or of all.
func (q querier) Verdicts(ctx context.Context, req *types.QueryVerdictsRequest) (*types.QueryVerdictsResponse, error) {
	if req == nil {
		req = &types.QueryVerdictsRequest{}
	}
	var (
		verdicts []types.Verdict
		pageRes  *query.PageResponse
		err      error
	)
	if req.TaskId != 0 {
		verdicts, pageRes, err = query.CollectionPaginate(ctx, q.Keeper.Verdicts.Indexes.Task, req.Pagination,
			func(key collections.Pair[uint64, uint64], _ collections.NoValue) (types.Verdict, error) {
				return q.Keeper.Verdicts.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[uint64, uint64](req.TaskId))
	} else {
		verdicts, pageRes, err = query.CollectionPaginate(ctx, q.Keeper.Verdicts, req.Pagination,
			func(_ uint64, v types.Verdict) (types.Verdict, error) { return v, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryVerdictsResponse{Verdicts: verdicts, Pagination: pageRes}, nil
}
