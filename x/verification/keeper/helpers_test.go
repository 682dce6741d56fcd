package keeper_test

import (
	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

func collectionsJoin3(task uint64, w sdk.AccAddress, seg uint32) collections.Triple[uint64, sdk.AccAddress, uint32] {
	return collections.Join3(task, w, seg)
}
