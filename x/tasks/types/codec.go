package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the messages for amino JSON signing.
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgPostTask{}, "hinterland/x/tasks/MsgPostTask")
	legacy.RegisterAminoMsg(cdc, &MsgClaimTask{}, "hinterland/x/tasks/MsgClaimTask")
	legacy.RegisterAminoMsg(cdc, &MsgCancelTask{}, "hinterland/x/tasks/MsgCancelTask")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "hinterland/x/tasks/MsgUpdateParams")
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil), &MsgPostTask{}, &MsgClaimTask{}, &MsgCancelTask{}, &MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
