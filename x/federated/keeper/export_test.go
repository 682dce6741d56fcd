package keeper_test

import "github.com/hinterland-ai/hinterland/pkg/recompute"

func drawSegments(seed []byte, n uint64, k uint32) []uint32 {
	return recompute.DrawSegments(seed, n, k)
}
