package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

type querier struct{ Keeper }

// NewQuerier returns the x/rewards Query service.
func NewQuerier(k Keeper) types.QueryServer { return querier{k} }

var _ types.QueryServer = querier{}

func (q querier) Params(ctx context.Context, _ *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	p, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: p}, nil
}

func (q querier) Reputation(ctx context.Context, req *types.QueryReputationRequest) (*types.QueryReputationResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	addr, err := q.authKeeper.AddressCodec().StringToBytes(req.Address)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "address %q: %s", req.Address, err)
	}
	rep, err := q.reputation(ctx, addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryReputationResponse{Reputation: rep}, nil
}

// Leaderboard pages through workers by verified MACs, highest first; only
// workers with verified work are ranked.
func (q querier) Leaderboard(ctx context.Context, req *types.QueryLeaderboardRequest) (*types.QueryLeaderboardResponse, error) {
	if req == nil {
		req = &types.QueryLeaderboardRequest{}
	}
	page := req.Pagination
	if page == nil {
		page = &query.PageRequest{}
	}
	page.Reverse = true
	entries, pageRes, err := query.CollectionFilteredPaginate(ctx, q.Keeper.Reputations.Indexes.ByMACs, page,
		func(key collections.Pair[uint64, sdk.AccAddress], _ collections.NoValue) (bool, error) {
			r, err := q.Keeper.Reputations.Get(ctx, key.K2())
			return err == nil && r.Verified > 0, err
		},
		func(key collections.Pair[uint64, sdk.AccAddress], _ collections.NoValue) (types.Reputation, error) {
			return q.reputation(ctx, key.K2())
		})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryLeaderboardResponse{Entries: entries, Pagination: pageRes}, nil
}

func (q querier) Escrow(ctx context.Context, req *types.QueryEscrowRequest) (*types.QueryEscrowResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	e, err := q.Escrows.Get(ctx, req.TaskId)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no escrow for task %d (never posted, or already settled)", req.TaskId)
	} else if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryEscrowResponse{Escrow: e}, nil
}

// Bonds lists the worker bonds, then the challenger bonds, held for a task.
func (q querier) Bonds(ctx context.Context, req *types.QueryBondsRequest) (*types.QueryBondsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	var bonds []types.Bond
	err := q.WorkerBonds.Walk(ctx, collections.NewPrefixedPairRange[uint64, sdk.AccAddress](req.TaskId),
		func(_ collections.Pair[uint64, sdk.AccAddress], b types.Bond) (bool, error) {
			bonds = append(bonds, b)
			return false, nil
		})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	err = q.ChallengeBonds.Walk(ctx, collections.NewPrefixedTripleRange[uint64, sdk.AccAddress, uint32](req.TaskId),
		func(_ collections.Triple[uint64, sdk.AccAddress, uint32], b types.Bond) (bool, error) {
			bonds = append(bonds, b)
			return false, nil
		})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryBondsResponse{Bonds: bonds}, nil
}

func (q querier) Pool(ctx context.Context, _ *types.QueryPoolRequest) (*types.QueryPoolResponse, error) {
	res := &types.QueryPoolResponse{Balance: q.bankKeeper.GetAllBalances(ctx, q.authKeeper.GetModuleAddress(types.PoolAccount))}
	err := q.EpochWork.Walk(ctx, nil, func(w sdk.AccAddress, macs uint64) (bool, error) {
		res.EpochWork = append(res.EpochWork, types.EpochWork{Worker: w.String(), Macs: macs})
		return false, nil
	})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return res, nil
}
