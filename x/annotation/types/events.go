package types

import "github.com/cosmos/gogoproto/proto"

// Event type names (<proto message name>.<field> in CometBFT queries).
var (
	EventTypeJobPosted          = proto.MessageName(&EventJobPosted{})
	EventTypeBatchClaimed       = proto.MessageName(&EventBatchClaimed{})
	EventTypeLabelsSealed       = proto.MessageName(&EventLabelsSealed{})
	EventTypeLabelsOpened       = proto.MessageName(&EventLabelsOpened{})
	EventTypeGoldRevealed       = proto.MessageName(&EventGoldRevealed{})
	EventTypeBatchForfeited     = proto.MessageName(&EventBatchForfeited{})
	EventTypeAnnotatorSlashed   = proto.MessageName(&EventAnnotatorSlashed{})
	EventTypeAggregationStarted = proto.MessageName(&EventAggregationStarted{})
	EventTypeJobSettled         = proto.MessageName(&EventJobSettled{})
	EventTypeParamsUpdated      = proto.MessageName(&EventParamsUpdated{})
)
