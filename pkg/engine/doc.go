// Package engine is Hinterland's deterministic fixed-point training engine.
//
// Validators re-execute sampled training segments inside the state machine and
// must obtain the same bits on every CPU architecture, so this package uses
// integers only: no float32/float64, no math, math/rand, time or unsafe, no
// map iteration, and goroutines only where every output element is reduced in
// a fixed order by one goroutine. scripts/lint-determinism.sh enforces the
// import and type rules.
//
// # Number format
//
// Every tensor element is an int32 holding a real number times 2^F, where F is
// Spec.FracBits (MinFracBits..MaxFracBits, default 16). Products of two
// elements are exact int64 values with 2F fractional bits; dot products are
// summed exactly in int64 (integer addition is associative, so the order of a
// reduction cannot change its value as long as nothing overflows, and the
// engine proves that nothing overflows before every kernel, see below).
// Internally the transcendental approximations work at Q30 (30 fractional
// bits in an int64) and round once to F at the end.
//
// # The rounding rule
//
// There is exactly one rounding rule, implemented in fixed.go by roundShift
// and roundDiv and used everywhere (kernels, optimisers, approximations,
// dataset conversions through the exported helpers):
//
//	round(n / d) = floor((n + floor(d/2)) / d)      for d > 0
//
// i.e. round to nearest, ties toward +infinity; for d = 2^s this is
// (n + 2^(s-1)) >> s with an arithmetic shift. Every other operation is exact.
//
// # Saturation
//
// A rounded result that does not fit in int32 is clamped to
// [math.MinInt32, math.MaxInt32] (written -2^31 .. 2^31-1 here). Clamping is
// deterministic, never an error, and counted in Meter.Saturations so that a
// diverging task is visible.
//
// # Accumulator bounds
//
// Before a kernel sums K products of int32 values it checks that
// max|a| * max|b| * K (+ the bias term) stays below 2^63, using the actual
// maxima of its operands; if not it returns an error wrapping
// ErrAccumulatorBound. The engine never panics on user input and never
// relies on wrap-around.
//
// # Randomness
//
// All randomness derives from the task seed: initial weights come from a
// SplitMix64 stream seeded with SHA-256("hinterland/init/v1" || seed); batch
// selection uses a keyed Feistel permutation per epoch (see rng.go), so the
// rows of any step can be computed directly without running earlier steps.
//
// # Parallelism
//
// Kernels split their output columns between at most Parallelism()
// goroutines (default runtime.GOMAXPROCS). Each output element is computed by
// a single goroutine in a fixed order, so results do not depend on GOMAXPROCS
// or on scheduling; SetParallelism(1) forces single-threaded execution.
//
// # Kernels
//
// The matrix kernel computes a*b^T with both operands row-major, blocked 2x2
// (four int64 accumulators). On amd64 CPUs with AVX2 it runs an assembly
// inner loop (simd_amd64.s: VPMULDQ signed 32x32->64 multiplies and VPADDQ
// adds, exact integer arithmetic); everywhere else, and with -tags purego, a
// portable Go loop. Both return identical bits: the tests and the golden
// transcripts run under both, and scripts/test-cross-arch.sh runs the
// portable one on arm64, ppc64le, s390x and riscv64 under qemu.
package engine
