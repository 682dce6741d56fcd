package keeper

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/x/tasks/types"
)

type querier struct{ Keeper }

// NewQuerier returns the x/tasks Query service.
func NewQuerier(k Keeper) types.QueryServer { return querier{k} }

var _ types.QueryServer = querier{}

// maxLineageDepth bounds the lineage walk (a model with more ancestors than
// this is reported up to that depth).
const maxLineageDepth = 64

func (q querier) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q querier) Task(ctx context.Context, req *types.QueryTaskRequest) (*types.QueryTaskResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	t, err := q.Keeper.Tasks.Get(ctx, req.Id)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "task %d not found", req.Id)
	} else if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryTaskResponse{Task: t}, nil
}

// Tasks pages through tasks, newest first by default. One filter selects the
// index to page through (poster, then worker, then status); the others are
// checked on each task.
func (q querier) Tasks(ctx context.Context, req *types.QueryTasksRequest) (*types.QueryTasksResponse, error) {
	if req == nil {
		req = &types.QueryTasksRequest{}
	}
	ac := q.authKeeper.AddressCodec()
	var poster, worker sdk.AccAddress
	if req.Poster != "" {
		bz, err := ac.StringToBytes(req.Poster)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "poster %q: %s", req.Poster, err)
		}
		poster = bz
	}
	if req.Worker != "" {
		bz, err := ac.StringToBytes(req.Worker)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "worker %q: %s", req.Worker, err)
		}
		worker = bz
	}
	page := req.Pagination
	if page == nil {
		page = &query.PageRequest{Reverse: true}
	}
	keep := func(t types.Task) (bool, error) {
		if req.Status != types.TASK_STATUS_UNSPECIFIED && t.Status != req.Status {
			return false, nil
		}
		if poster != nil {
			// Addresses are compared as bytes: an upper-case bech32 filter
			// finds the tasks of the lower-case poster and vice versa.
			if bz, err := ac.StringToBytes(t.Poster); err != nil || !bytes.Equal(bz, poster) {
				return false, err
			}
		}
		if worker != nil {
			return q.Keeper.Assignments.Has(ctx, collections.Join(t.Id, worker))
		}
		return true, nil
	}
	byID := func(id uint64) (types.Task, bool, error) {
		t, err := q.Keeper.Tasks.Get(ctx, id)
		if err != nil {
			return t, false, err
		}
		ok, err := keep(t)
		return t, ok, err
	}

	var (
		tasks   []types.Task
		pageRes *query.PageResponse
		err     error
	)
	switch {
	case poster != nil:
		tasks, pageRes, err = query.CollectionFilteredPaginate(ctx, q.Keeper.Tasks.Indexes.Poster, page,
			func(key collections.Pair[sdk.AccAddress, uint64], _ collections.NoValue) (bool, error) {
				_, ok, err := byID(key.K2())
				return ok, err
			},
			func(key collections.Pair[sdk.AccAddress, uint64], _ collections.NoValue) (types.Task, error) {
				return q.Keeper.Tasks.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, uint64](poster))
	case worker != nil:
		tasks, pageRes, err = query.CollectionFilteredPaginate(ctx, q.Keeper.Assignments.Indexes.Worker, page,
			func(key collections.Pair[sdk.AccAddress, collections.Pair[uint64, sdk.AccAddress]], _ collections.NoValue) (bool, error) {
				_, ok, err := byID(key.K2().K1())
				return ok, err
			},
			func(key collections.Pair[sdk.AccAddress, collections.Pair[uint64, sdk.AccAddress]], _ collections.NoValue) (types.Task, error) {
				return q.Keeper.Tasks.Get(ctx, key.K2().K1())
			},
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, collections.Pair[uint64, sdk.AccAddress]](worker))
	case req.Status != types.TASK_STATUS_UNSPECIFIED:
		tasks, pageRes, err = query.CollectionPaginate(ctx, q.Keeper.Tasks.Indexes.Status, page,
			func(key collections.Pair[int32, uint64], _ collections.NoValue) (types.Task, error) {
				return q.Keeper.Tasks.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[int32, uint64](int32(req.Status)))
	default:
		tasks, pageRes, err = query.CollectionPaginate(ctx, q.Keeper.Tasks, page,
			func(_ uint64, t types.Task) (types.Task, error) { return t, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryTasksResponse{Tasks: tasks, Pagination: pageRes}, nil
}

func (q querier) Assignments(ctx context.Context, req *types.QueryAssignmentsRequest) (*types.QueryAssignmentsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if has, err := q.Keeper.Tasks.Has(ctx, req.TaskId); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	} else if !has {
		return nil, status.Errorf(codes.NotFound, "task %d not found", req.TaskId)
	}
	res := &types.QueryAssignmentsResponse{}
	err := q.Keeper.Assignments.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](req.TaskId),
		func(_ collections.Pair[uint64, sdk.AccAddress], a types.Assignment) (bool, error) {
			res.Assignments = append(res.Assignments, a)
			return false, nil
		})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return res, nil
}

// Lineage walks from a model through its base models to the first one.
func (q querier) Lineage(ctx context.Context, req *types.QueryLineageRequest) (*types.QueryLineageResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	hash, err := hex.DecodeString(req.ModelHash)
	if err != nil || len(hash) != types.HashLen {
		return nil, status.Errorf(codes.InvalidArgument, "model_hash must be %d hex-encoded bytes", types.HashLen)
	}
	res := &types.QueryLineageResponse{}
	for len(hash) > 0 && len(res.Records) < maxLineageDepth {
		rec, err := q.Models.Get(ctx, hash)
		if errors.Is(err, collections.ErrNotFound) {
			break
		} else if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		res.Records = append(res.Records, rec)
		hash = rec.BaseModelHash
	}
	if len(res.Records) == 0 {
		return nil, status.Errorf(codes.NotFound, "model %s was not produced by a verified task", req.ModelHash)
	}
	return res, nil
}

// Model returns a verified model's record with the spec of the task that
// produced it and its architecture.
func (q querier) Model(ctx context.Context, req *types.QueryModelRequest) (*types.QueryModelResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	hash, err := hex.DecodeString(req.ModelHash)
	if err != nil || len(hash) != types.HashLen {
		return nil, status.Errorf(codes.InvalidArgument, "model_hash must be %d hex-encoded bytes", types.HashLen)
	}
	rec, err := q.Models.Get(ctx, hash)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "model %s was not produced by a verified task", req.ModelHash)
	} else if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	t, err := q.Keeper.Tasks.Get(ctx, rec.TaskId)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "task %d of model %s: %s", rec.TaskId, req.ModelHash, err)
	}
	res := &types.QueryModelResponse{Record: rec, Spec: t.Spec}
	if es, err := t.Spec.EngineSpec(); err == nil {
		res.Architecture = es.Arch().String()
		res.Parameters = es.Arch().ParamCount()
		res.TrainableParameters = es.TrainableParams()
		switch {
		case es.Objective == engine.ObjectiveDPO:
			res.Kind = fmt.Sprintf("aligned (DPO, LoRA rank %d)", es.LoRARank)
		case es.IsLoRA():
			res.Kind = fmt.Sprintf("fine-tuned (LoRA rank %d)", es.LoRARank)
		default:
			res.Kind = "trained from scratch"
		}
	}
	return res, nil
}
