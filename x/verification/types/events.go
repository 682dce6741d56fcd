package types

import "github.com/cosmos/gogoproto/proto"

// Event type names, as CometBFT indexes the typed events this module emits
// (<proto message name>.<field> in queries): derived from the proto types, so
// clients such as the worker never spell them by hand.
var (
	EventTypeTranscriptCommitted = proto.MessageName(&EventTranscriptCommitted{})
	EventTypeSegmentsChallenged  = proto.MessageName(&EventSegmentsChallenged{})
	EventTypeSegmentVerified     = proto.MessageName(&EventSegmentVerified{})
	EventTypeTranscriptPassed    = proto.MessageName(&EventTranscriptPassed{})
	EventTypeTranscriptFailed    = proto.MessageName(&EventTranscriptFailed{})
	EventTypeTranscriptFinal     = proto.MessageName(&EventTranscriptFinal{})
	EventTypeChallengeResolved   = proto.MessageName(&EventChallengeResolved{})
	EventTypeParamsUpdated       = proto.MessageName(&EventParamsUpdated{})
	EventTypeTranscriptSealed    = proto.MessageName(&EventTranscriptSealed{})
	EventTypeChallengeSealed     = proto.MessageName(&EventChallengeSealed{})
)
