package types

import "github.com/cosmos/gogoproto/proto"

// Event type names, as CometBFT indexes the typed events this module emits
// (<proto message name>.<field> in queries): derived from the proto types, so
// clients such as the worker never spell them by hand.
var (
	EventTypeTaskPosted       = proto.MessageName(&EventTaskPosted{})
	EventTypeTaskClaimed      = proto.MessageName(&EventTaskClaimed{})
	EventTypeTaskCancelled    = proto.MessageName(&EventTaskCancelled{})
	EventTypeTaskExpired      = proto.MessageName(&EventTaskExpired{})
	EventTypeTaskReopened     = proto.MessageName(&EventTaskReopened{})
	EventTypeAssignmentFailed = proto.MessageName(&EventAssignmentFailed{})
	EventTypeTaskCompleted    = proto.MessageName(&EventTaskCompleted{})
	EventTypeModelRecorded    = proto.MessageName(&EventModelRecorded{})
	EventTypeParamsUpdated    = proto.MessageName(&EventParamsUpdated{})
	EventTypeClaimsClosed     = proto.MessageName(&EventClaimsClosed{})
	EventTypeSecretRevealed   = proto.MessageName(&EventSecretRevealed{})
	EventTypeClaimAbandoned   = proto.MessageName(&EventClaimAbandoned{})
	EventTypeTaskUntrainable  = proto.MessageName(&EventTaskUntrainable{})
)
