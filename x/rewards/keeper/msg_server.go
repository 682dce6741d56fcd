package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/x/rewards/types"
)

type msgServer struct{ Keeper }

// NewMsgServerImpl returns the x/rewards Msg service.
func NewMsgServerImpl(k Keeper) types.MsgServer { return msgServer{k} }

var _ types.MsgServer = msgServer{}

// FundPool adds coins to the compute-emission pool.
func (m msgServer) FundPool(ctx context.Context, msg *types.MsgFundPool) (*types.MsgFundPoolResponse, error) {
	sender, err := m.authKeeper.AddressCodec().StringToBytes(msg.Sender)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "sender %q: %s", msg.Sender, err)
	}
	if !msg.Amount.IsValid() || !msg.Amount.IsPositive() {
		return nil, errorsmod.Wrapf(types.ErrInvalidAmount, "amount %s must be a positive coin", msg.Amount)
	}
	// The pool pays emissions in one denom only: coins of another would be
	// stuck in it for ever.
	params, err := m.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if msg.Amount.Denom != params.EpochEmission.Denom {
		return nil, errorsmod.Wrapf(types.ErrInvalidAmount, "the pool pays emissions in %s; %s would be stuck in it", params.EpochEmission.Denom, msg.Amount)
	}
	if err := m.bankKeeper.SendCoinsFromAccountToModule(ctx, sender, types.PoolAccount, sdk.NewCoins(msg.Amount)); err != nil {
		return nil, errorsmod.Wrapf(types.ErrInsufficientFunds, "funding the pool with %s: %s", msg.Amount, err)
	}
	return &types.MsgFundPoolResponse{}, nil
}

// UpdateParams replaces the params; governance authority only.
func (m msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, m.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := m.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventParamsUpdated{Authority: msg.Authority, Params: msg.Params}); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
