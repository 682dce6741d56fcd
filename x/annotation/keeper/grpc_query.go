package keeper

import (
	"context"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

// Querier serves x/annotation queries.
type Querier struct{ Keeper }

// NewQuerier returns the query server.
func NewQuerier(k Keeper) types.QueryServer { return Querier{k} }

var _ types.QueryServer = Querier{}

// Params returns the params.
func (q Querier) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.Keeper.Params.Get(ctx)
	return &types.QueryParamsResponse{Params: p}, err
}

// Job returns one job.
func (q Querier) Job(ctx context.Context, req *types.QueryJobRequest) (*types.QueryJobResponse, error) {
	j, err := q.GetJob(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return &types.QueryJobResponse{Job: j}, nil
}

// Jobs lists jobs, newest first, optionally by status.
func (q Querier) Jobs(ctx context.Context, req *types.QueryJobsRequest) (*types.QueryJobsResponse, error) {
	if req.Status != types.JOB_STATUS_UNSPECIFIED {
		ids, page, err := query.CollectionPaginate(ctx, q.Keeper.Jobs.Indexes.Status, req.Pagination,
			func(key collections.Pair[int32, uint64], _ collections.NoValue) (uint64, error) { return key.K2(), nil },
			query.WithCollectionPaginationPairPrefix[int32, uint64](int32(req.Status)))
		if err != nil {
			return nil, err
		}
		out := make([]types.Job, 0, len(ids))
		for _, id := range ids {
			j, err := q.GetJob(ctx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, j)
		}
		return &types.QueryJobsResponse{Jobs: out, Pagination: page}, nil
	}
	if req.Pagination == nil {
		req.Pagination = &query.PageRequest{}
	}
	req.Pagination.Reverse = true
	jobs, page, err := query.CollectionPaginate(ctx, q.Keeper.Jobs, req.Pagination,
		func(_ uint64, j types.Job) (types.Job, error) { return j, nil })
	if err != nil {
		return nil, err
	}
	return &types.QueryJobsResponse{Jobs: jobs, Pagination: page}, nil
}

// Batches lists a job's batches.
func (q Querier) Batches(ctx context.Context, req *types.QueryBatchesRequest) (*types.QueryBatchesResponse, error) {
	// Offset/limit over the job's prefix (at most groups x redundancy).
	var offset, limit uint64 = 0, 1_000
	if p := req.Pagination; p != nil {
		offset = p.Offset
		if p.Limit > 0 && p.Limit < limit {
			limit = p.Limit
		}
	}
	var bs []types.Batch
	var i, total uint64
	err := q.Keeper.Batches.Walk(ctx, collections.NewPrefixedTripleRange[uint64, uint32, sdk.AccAddress](req.JobId),
		func(_ BatchKey, b types.Batch) (bool, error) {
			if i >= offset && uint64(len(bs)) < limit {
				bs = append(bs, b)
			}
			i++
			total++
			return false, nil
		})
	if err != nil {
		return nil, err
	}
	return &types.QueryBatchesResponse{Batches: bs, Pagination: &query.PageResponse{Total: total}}, nil
}

// Group lists the items of a group.
func (q Querier) Group(ctx context.Context, req *types.QueryGroupRequest) (*types.QueryGroupResponse, error) {
	j, err := q.GetJob(ctx, req.JobId)
	if err != nil {
		return nil, err
	}
	if req.Group >= j.Groups {
		return nil, errorsmod.Wrapf(types.ErrBatchNotFound, "group %d of a %d-group job", req.Group, j.Groups)
	}
	return &types.QueryGroupResponse{Items: types.GroupItems(j.Seed, j.Items.Rows, j.BatchSize, req.Group)}, nil
}

// Labels returns a window of a settled job's aggregated labels.
func (q Querier) Labels(ctx context.Context, req *types.QueryLabelsRequest) (*types.QueryLabelsResponse, error) {
	bz, err := q.Keeper.Labels.Get(ctx, req.JobId)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrWrongPhase, "job %d has no aggregated labels (yet)", req.JobId)
	}
	limit := req.Limit
	if limit == 0 || limit > 10_000 {
		limit = 1_000
	}
	out := []uint32{}
	for i := uint64(req.Offset); i < uint64(len(bz)) && uint32(len(out)) < limit; i++ {
		out = append(out, uint32(bz[i]))
	}
	return &types.QueryLabelsResponse{Labels: out, Total: uint32(len(bz))}, nil
}

// Gold returns a revealed gold set.
func (q Querier) Gold(ctx context.Context, req *types.QueryGoldRequest) (*types.QueryGoldResponse, error) {
	g, err := q.Keeper.Gold.Get(ctx, req.JobId)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrWrongPhase, "job %d: no gold set revealed", req.JobId)
	}
	return &types.QueryGoldResponse{Gold: g.Gold}, nil
}

// Annotator returns an annotator's record.
func (q Querier) Annotator(ctx context.Context, req *types.QueryAnnotatorRequest) (*types.QueryAnnotatorResponse, error) {
	addr, _, err := q.decodeAddress("address", req.Address)
	if err != nil {
		return nil, err
	}
	r, err := q.Annotators.Get(ctx, addr)
	if err != nil {
		r = types.AnnotatorRecord{Address: addr.String()}
	}
	return &types.QueryAnnotatorResponse{Record: r}, nil
}
