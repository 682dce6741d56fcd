package engine

// Exported views of the Q30 approximations and of the rounding rule, for
// other consensus packages (pkg/annotation's Dawid–Skene aggregation) that
// must compute exactly what the engine computes. They are thin wrappers: the
// formats, error bounds (approx.go) and the rounding rule (fixed.go) are the
// engine's and are documented there once.

// QBits is the number of fractional bits of the Q30 format: an int64 v stands
// for v / 2^QBits.
const QBits = qBits

// QOne is 1.0 in Q30.
const QOne = qOne

// ExpQ returns exp(x) in Q30 for x <= 0 in Q30 (x > 0 is treated as 0);
// |error| <= 3 units of 2^-30 for x in [-70, 0].
func ExpQ(x int64) int64 { return expQ(x) }

// LogQ returns ln(v / 2^30) in Q30 for v > 0 (v <= 0 returns the value for
// v = 1); |error| <= 8 units of 2^-30 for v in (0, 2^32), plus at most half a
// unit per doubling beyond 2^32 (the exponent times the rounded ln 2).
func LogQ(v int64) int64 { return logQ(v) }

// RoundShift returns round(x / 2^s) for 0 <= s <= 62 with the engine's one
// rounding rule (to nearest, ties toward +infinity).
func RoundShift(x int64, s uint) int64 { return roundShift(x, s) }

// RoundDiv returns round(n / d) for d > 0 with the engine's one rounding rule
// (to nearest, ties toward +infinity).
func RoundDiv(n, d int64) int64 { return roundDiv(n, d) }
