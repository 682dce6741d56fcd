package types

import "github.com/cosmos/gogoproto/proto"

// Event type names, as CometBFT indexes the typed events this module emits
// (<proto message name>.<field> in queries): derived from the proto types, so
// clients such as the worker never spell them by hand.
var (
	EventTypeEscrowed             = proto.MessageName(&EventEscrowed{})
	EventTypeBondLocked           = proto.MessageName(&EventBondLocked{})
	EventTypeRewardPaid           = proto.MessageName(&EventRewardPaid{})
	EventTypeBondSlashed          = proto.MessageName(&EventBondSlashed{})
	EventTypeRefunded             = proto.MessageName(&EventRefunded{})
	EventTypeEmissionDistributed  = proto.MessageName(&EventEmissionDistributed{})
	EventTypeEpochWorkNotCredited = proto.MessageName(&EventEpochWorkNotCredited{})
	EventTypeParamsUpdated        = proto.MessageName(&EventParamsUpdated{})
	EventTypeBondReleased         = proto.MessageName(&EventBondReleased{})
)
