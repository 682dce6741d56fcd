package engine

import (
	"errors"
	"fmt"
)

// Runtime failures of a training run, by what determines them.
//
//	(a) spec and step number alone: Adam's bias-corrected learning rate
//	    lr*sqrt(1-beta2^t)/(1-beta1^t) reaching 4.0 (ErrAdamRate, optim.go).
//	    CheckTrainable decides it exactly for every step of a task.
//	(b) the row schema: a FIXED32 feature or regression target that does not
//	    fit in int32 once rescaled to the spec's FracBits (RescaleFixed,
//	    reported by the dataset package's row source, at a step that depends
//	    on the seed). CheckTrainable refuses every schema/spec pair for which
//	    some representable stored value would not fit.
//	(c) the trajectory and the data: an int64 accumulator bound
//	    (ErrAccumulatorBound) in a forward or backward kernel once weights or
//	    inputs are large enough. It cannot be decided without training.
//
// Failures of (a) and (c) are reported by RunSegment as a *StepError matching
// ErrTrainingFailed: the engine cannot compute that step, on any machine.
// (b) happens in the row source before the engine sees the row, so RunSegment
// reports it like every other row source error, as a plain error ("step s:
// row i: ..."), as it does invalid job, spec or state and malformed rows.

// ErrTrainingFailed is matched (errors.Is) by every *StepError: the engine
// refused to compute a training step (classes a and c above), as opposed to
// malformed input.
var ErrTrainingFailed = errors.New("engine: training step cannot be computed")

// ErrUntrainable is wrapped by every CheckTrainable error that refuses a
// valid spec.
var ErrUntrainable = errors.New("engine: task cannot be trained")

// StepError reports that the engine cannot compute optimiser step Step
// (0-based, the State.Step the step starts from; the Adam step number t is
// Step+1). Err is the cause: ErrAdamRate, or an error wrapping
// ErrAccumulatorBound. The message is "step <Step>: <Err>".
type StepError struct {
	Step uint64
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("step %d: %v", e.Step, e.Err) }

// Unwrap returns the cause, so errors.Is(err, ErrAdamRate) and
// errors.Is(err, ErrAccumulatorBound) work through a StepError.
func (e *StepError) Unwrap() error { return e.Err }

// Is reports whether target is ErrTrainingFailed.
func (e *StepError) Is(target error) bool { return target == ErrTrainingFailed }

// RowFormat is what CheckTrainable needs to know about a dataset's rows:
// whether any value reaching the engine is stored as int32 fixed point
// (FIXED32 features, regression targets) and with how many fractional bits.
// The zero value describes rows that carry no fixed-point value (byte
// features with class labels or preference pairs), which always convert
// exactly. For the dataset package's Schema:
//
//	RowFormat{FixedPoint: s.Feature == FeatureFixed32 || s.Kind == KindRegression, FracBits: s.FracBits}
type RowFormat struct {
	FixedPoint bool
	FracBits   uint32 // of the stored values; MinFracBits..MaxFracBits when FixedPoint
}

// adamSearchBudget bounds the intervals the Adam schedule search examines
// (each costs four powQ, O(log T) multiplications). Every spec tried in the
// tests needs far fewer; a spec that exhausts it is refused as unproven
// rather than accepted.
const adamSearchBudget = 1 << 14

// CheckTrainable reports whether a valid spec can run totalSteps optimiser
// steps (steps 0..totalSteps-1) on rows of the given format without a
// failure of class (a) or (b) (see StepError). It returns s.Validate()'s
// error for an invalid spec, nil when the task is trainable, and otherwise an
// error wrapping ErrUntrainable; for a class (a) failure it also wraps a
// *StepError naming the first step that fails, exactly the step at which
// RunSegment would fail (the check calls the engine's own functions).
// Class (c) failures (diverging weights) cannot be predicted and are not
// checked.
//
// The cost is O(log^2 totalSteps) for almost every spec and bounded by
// adamSearchBudget*O(log totalSteps) for all.
func CheckTrainable(s Spec, totalSteps uint64, rows RowFormat) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := checkRowFormat(s, rows); err != nil {
		return fmt.Errorf("%w: %w", ErrUntrainable, err)
	}
	if s.Optimizer != OptimizerAdam || totalSteps == 0 {
		return nil
	}
	t, proven, _ := firstAdamFailure(s, totalSteps, adamSearchBudget)
	if !proven {
		return fmt.Errorf("%w: adam: cannot prove within %d evaluations that the bias-corrected learning rate stays below 4.0 from step %d to %d",
			ErrUntrainable, adamSearchBudget, t-1, totalSteps-1)
	}
	if t != 0 {
		return fmt.Errorf("%w: total_steps %d: %w", ErrUntrainable, totalSteps,
			&StepError{Step: t - 1, Err: ErrAdamRate})
	}
	return nil
}

// checkRowFormat refuses a fixed-point row format whose extreme stored values
// (RescaleFixed is monotone, so they are the worst case) do not fit in int32
// at the spec's FracBits: the dataset package would refuse such a row at
// whatever step first draws it.
func checkRowFormat(s Spec, rows RowFormat) error {
	if !rows.FixedPoint {
		return nil
	}
	if err := CheckFracBits(rows.FracBits); err != nil {
		return fmt.Errorf("rows: %w", err)
	}
	for _, x := range []int32{maxInt32, minInt32} {
		if _, sat := RescaleFixed(x, rows.FracBits, s.FracBits); sat {
			return fmt.Errorf("rows: stored fixed-point value %d (%d fractional bits) does not fit in int32 at the spec's %d fractional bits: "+
				"a row holding it fails at the step that draws it (use a schema with >= %d fractional bits)",
				x, rows.FracBits, s.FracBits, s.FracBits)
		}
	}
	return nil
}

// adamFails reports whether the engine refuses Adam step t (1-based) given
// c1 = adamC1(s, t) and c2 = adamC2(s, t).
func adamFails(s Spec, c1, c2 int64) bool {
	_, ok := adamRateFrom(s, c1, c2)
	return !ok
}

// firstAdamFailure returns the smallest t in [1, T] at which the engine
// refuses Adam step t (so step t-1 fails), or 0 if there is none; proven is
// false (and t the first step number not proven safe) if the budget ran out.
// used is the number of intervals examined.
//
// It rests on two monotonicity facts, both exact for the integer code:
//
//  1. powQ(b, t) is non-increasing in t for 0 <= b <= 2^30. Write b_0 = b,
//     b_{k+1} = round(b_k^2); powQ multiplies 1 by b_k for every set bit k
//     of t, lowest first, rounding each product. From t to t+1 the trailing
//     ones j-1..0 become zeros and bit j becomes one; the partial product
//     over b_0..b_{j-1} is >= b_j (induction: b_0 >= round(b_0^2) = b_1 and
//     round(A*b_i) >= round(b_i*b_i)), and the higher bits multiply both by
//     the same factors with the same monotone rounding. So c1(t) and c2(t)
//     are non-decreasing in t.
//  2. adamRateFrom fails iff round(lr*sqrtRound(c2*2^30)/c1) >= 2^32, which
//     is non-decreasing in c2 and non-increasing in c1 (sqrtRound and
//     round-half-up division are monotone).
//
// Hence on an interval [a, b] every step satisfies fail(t) <= fail(c1(a),
// c2(b)); if c1 is constant on it, fail is non-decreasing in t (binary
// search); if c2 is constant, non-increasing. The search visits intervals
// left to right, so the first failure it finds is the smallest.
func firstAdamFailure(s Spec, T uint64, budget int) (t uint64, proven bool, used int) {
	type span struct{ a, b uint64 }
	stack := []span{{1, T}}
	for len(stack) > 0 {
		sp := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if used == budget {
			return sp.a, false, used
		}
		used++
		a, b := sp.a, sp.b
		c1a, c2a := adamC1(s, a), adamC2(s, a)
		if adamFails(s, c1a, c2a) {
			return a, true, used
		}
		if a == b {
			continue
		}
		c1b, c2b := adamC1(s, b), adamC2(s, b)
		if !adamFails(s, c1a, c2b) || c2a == c2b {
			continue // no failure anywhere in [a, b]
		}
		if c1a == c1b {
			// fail(t) = adamFails(c1a, c2(t)) is non-decreasing and true at b.
			lo, hi := a, b // fail(lo) false, fail(hi) true
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if adamFails(s, c1a, adamC2(s, mid)) {
					hi = mid
				} else {
					lo = mid
				}
			}
			return hi, true, used
		}
		mid := a + (b-a)/2
		stack = append(stack, span{mid + 1, b}, span{a, mid})
	}
	return 0, true, used
}
