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
	legacy.RegisterAminoMsg(cdc, &MsgPostJob{}, "hinterland/x/annotation/MsgPostJob")
	legacy.RegisterAminoMsg(cdc, &MsgClaimBatch{}, "hinterland/x/annotation/MsgClaimBatch")
	legacy.RegisterAminoMsg(cdc, &MsgSealLabels{}, "hinterland/x/annotation/MsgSealLabels")
	legacy.RegisterAminoMsg(cdc, &MsgOpenLabels{}, "hinterland/x/annotation/MsgOpenLabels")
	legacy.RegisterAminoMsg(cdc, &MsgRevealGold{}, "hinterland/x/annotation/MsgRevealGold")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "hinterland/x/annotation/MsgUpdateParams")
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil), &MsgPostJob{}, &MsgClaimBatch{}, &MsgSealLabels{},
		&MsgOpenLabels{}, &MsgRevealGold{}, &MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
