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
	legacy.RegisterAminoMsg(cdc, &MsgSealTranscript{}, "hl/verification/MsgSealTranscript")
	legacy.RegisterAminoMsg(cdc, &MsgOpenTranscript{}, "hl/verification/MsgOpenTranscript")
	legacy.RegisterAminoMsg(cdc, &MsgSealChallenge{}, "hl/verification/MsgSealChallenge")
	legacy.RegisterAminoMsg(cdc, &MsgRevealSegment{}, "hl/verification/MsgRevealSegment")
	legacy.RegisterAminoMsg(cdc, &MsgChallengeSegment{}, "hl/verification/MsgChallengeSegment")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "hl/verification/MsgUpdateParams")
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil), &MsgSealTranscript{}, &MsgOpenTranscript{}, &MsgRevealSegment{},
		&MsgSealChallenge{}, &MsgChallengeSegment{}, &MsgUpdateParams{})
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
