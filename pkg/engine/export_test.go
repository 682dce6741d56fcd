package engine

import "testing"

// Hooks for the external test package (engine_test), which may import the
// dataset package without an import cycle.
var (
	UpdateGolden = update
	ReadGolden   = readGolden
	WriteGolden  = writeGolden
)

// KernelModes runs f under every kernel implementation and thread count.
func KernelModes(t *testing.T, f func(t *testing.T)) { kernelModes(t, f) }

// SIMDOn reports whether the SIMD kernel is selected.
func SIMDOn() bool { return useSIMD.Load() }
