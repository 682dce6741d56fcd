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
	legacy.RegisterAminoMsg(cdc, &MsgPostJob{}, "hinterland/federated/MsgPostJob")
	legacy.RegisterAminoMsg(cdc, &MsgJoinRound{}, "hinterland/federated/MsgJoinRound")
	legacy.RegisterAminoMsg(cdc, &MsgSealUpdate{}, "hinterland/federated/MsgSealUpdate")
	legacy.RegisterAminoMsg(cdc, &MsgOpenUpdate{}, "hinterland/federated/MsgOpenUpdate")
	legacy.RegisterAminoMsg(cdc, &MsgRevealSegment{}, "hinterland/federated/MsgRevealSegment")
	legacy.RegisterAminoMsg(cdc, &MsgCommitAggregate{}, "hinterland/federated/MsgCommitAggregate")
	legacy.RegisterAminoMsg(cdc, &MsgRevealChunk{}, "hinterland/federated/MsgRevealChunk")
	legacy.RegisterAminoMsg(cdc, &MsgChallengeChunk{}, "hinterland/federated/MsgChallengeChunk")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "hinterland/federated/MsgUpdateParams")
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil), &MsgPostJob{}, &MsgJoinRound{}, &MsgSealUpdate{},
		&MsgOpenUpdate{}, &MsgRevealSegment{}, &MsgCommitAggregate{}, &MsgRevealChunk{}, &MsgChallengeChunk{},
		&MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
