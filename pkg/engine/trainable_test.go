package engine

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// tinySpec is the smallest model: one input, one output, MSE, batch 1. Its
// kernels sum a single product, so no accumulator bound (class c) can fire
// and every run failure is the optimiser schedule's.
func tinySpec(f uint32) Spec {
	return Spec{Model: ModelLinear, Inputs: 1, Outputs: 1, Objective: ObjectiveMSE,
		Optimizer: OptimizerSGD, LearningRate: 1, BatchSize: 1, FracBits: f}
}

// attackSpec is issue 13's Adam task: lr 8.0, beta1 0, beta2 64911/65536.
func attackSpec(s Spec) Spec {
	s.Optimizer, s.Momentum = OptimizerAdam, 0
	s.LearningRate, s.Beta1, s.Beta2, s.Epsilon = 8<<16, 0, 64911, 1
	return s
}

func runTiny(t *testing.T, s Spec, steps uint64) error {
	t.Helper()
	job := Job{Spec: s, Seed: sha256.Sum256(s.Encode()), RowCount: 17}
	st, err := NewInitialState(job)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = RunSegment(job, st, synthRows{spec: s, n: 17}, steps)
	return err
}

// stepOf returns the step named by a *StepError inside err.
func stepOf(t *testing.T, err error) uint64 {
	t.Helper()
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v carries no *StepError", err)
	}
	return se.Step
}

func TestAttackSpecFailsAtRuntimeAndIsRefused(t *testing.T) {
	const failStep = 30 // t = 31: sqrt(1 - beta2^31) crosses 1/2, lr_t crosses 4.0
	for _, s := range []Spec{attackSpec(tinySpec(16)), attackSpec(DefaultSpecMNISTSoftmax())} {
		// Refused for the chain's usual step counts, naming the step.
		for _, T := range []uint64{failStep + 1, 1000, 1_000_000, ^uint64(0)} {
			err := CheckTrainable(s, T, RowFormat{})
			if !errors.Is(err, ErrUntrainable) || !errors.Is(err, ErrAdamRate) || !errors.Is(err, ErrTrainingFailed) {
				t.Fatalf("T=%d: err = %v, want ErrUntrainable + ErrAdamRate", T, err)
			}
			if got := stepOf(t, err); got != failStep {
				t.Fatalf("T=%d: refused at step %d, want %d", T, got, failStep)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("step %d:", failStep)) {
				t.Fatalf("message does not name the step: %v", err)
			}
		}
		// Accepted when training ends before the failing step.
		for _, T := range []uint64{1, 4, failStep} {
			if err := CheckTrainable(s, T, RowFormat{}); err != nil {
				t.Fatalf("T=%d: %v", T, err)
			}
		}
	}
	// At runtime the 4-step probe passes, step 30 fails on every machine.
	s := attackSpec(tinySpec(16))
	if err := runTiny(t, s, 4); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if err := runTiny(t, s, failStep); err != nil {
		t.Fatalf("%d steps: %v", failStep, err)
	}
	err := runTiny(t, s, 100)
	if !errors.Is(err, ErrTrainingFailed) || !errors.Is(err, ErrAdamRate) {
		t.Fatalf("run: err = %v, want a StepError with ErrAdamRate", err)
	}
	if got := stepOf(t, err); got != failStep {
		t.Fatalf("run failed at step %d, want %d", got, failStep)
	}
}

func TestCheckTrainableDefaults(t *testing.T) {
	for name, s := range map[string]Spec{
		"softmax": DefaultSpecMNISTSoftmax(), "softmax-adam": DefaultSpecMNISTSoftmaxAdam(),
		"mlp": DefaultSpecMNISTMLP(), "lora": DefaultSpecMNISTLoRA(),
	} {
		for _, rf := range []RowFormat{{}, {FixedPoint: true, FracBits: 16}, {FixedPoint: true, FracBits: 24}} {
			for _, T := range []uint64{1, 1_000_000, ^uint64(0)} {
				if err := CheckTrainable(s, T, rf); err != nil {
					t.Errorf("%s %+v T=%d: %v", name, rf, T, err)
				}
			}
		}
	}
	// An invalid spec gets its validation error, not ErrUntrainable.
	bad := DefaultSpecMNISTSoftmax()
	bad.LearningRate = 0
	if err := CheckTrainable(bad, 10, RowFormat{}); err == nil || errors.Is(err, ErrUntrainable) {
		t.Errorf("invalid spec: %v", err)
	}
}

func TestCheckTrainableRowFormat(t *testing.T) {
	s := DefaultSpecMNISTSoftmax() // F = 16
	for _, c := range []struct {
		rf RowFormat
		ok bool
	}{
		{RowFormat{}, true},
		{RowFormat{FixedPoint: true, FracBits: 16}, true},
		{RowFormat{FixedPoint: true, FracBits: 17}, true}, // rescaling down rounds, never overflows
		{RowFormat{FixedPoint: true, FracBits: 24}, true},
		{RowFormat{FixedPoint: true, FracBits: 15}, false}, // 2^31-1 << 1 does not fit
		{RowFormat{FixedPoint: true, FracBits: 8}, false},
		{RowFormat{FixedPoint: true, FracBits: 30}, false}, // not a valid frac bits value
	} {
		err := CheckTrainable(s, 1000, c.rf)
		if c.ok != (err == nil) {
			t.Errorf("%+v: err = %v, want ok=%v", c.rf, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrUntrainable) {
			t.Errorf("%+v: %v does not wrap ErrUntrainable", c.rf, err)
		}
		// The check agrees with the conversion the dataset package runs.
		if c.rf.FixedPoint && CheckFracBits(c.rf.FracBits) == nil {
			_, satHi := RescaleFixed(maxInt32, c.rf.FracBits, s.FracBits)
			_, satLo := RescaleFixed(minInt32, c.rf.FracBits, s.FracBits)
			if (satHi || satLo) == c.ok {
				t.Errorf("%+v: RescaleFixed saturation %v/%v disagrees", c.rf, satHi, satLo)
			}
		}
	}
	// The same schema is fine for a spec with fewer fractional bits.
	low := s
	low.FracBits, low.LearningRate, low.Momentum = 8, 5, 230
	if err := CheckTrainable(low, 1000, RowFormat{FixedPoint: true, FracBits: 8}); err != nil {
		t.Errorf("F=8 rows at F=8: %v", err)
	}
}

// TestPowQMonotone checks the fact CheckTrainable rests on: powQ(b, t) never
// increases with t.
func TestPowQMonotone(t *testing.T) {
	r := splitMix64{s: 5}
	for i := 0; i < 300; i++ {
		b := int64(r.uniformBelow(uint64(qOne) + 1))
		if i%3 == 0 {
			b = qOne - int64(r.uniformBelow(1<<12)) - 64
		}
		prev := powQ(b, 0)
		for tt := uint64(1); tt < 3000; tt++ {
			p := powQ(b, tt)
			if p > prev {
				t.Fatalf("powQ(%d, %d) = %d > powQ(.., %d) = %d", b, tt, p, tt-1, prev)
			}
			prev = p
		}
		for j := 0; j < 200; j++ {
			tt := r.next() >> r.uniformBelow(64)
			if tt == ^uint64(0) {
				continue
			}
			if powQ(b, tt+1) > powQ(b, tt) {
				t.Fatalf("powQ(%d, %d+1) > powQ(.., %d)", b, tt, tt)
			}
		}
	}
}

// randomAdam draws Adam hyper-parameters biased toward the interesting
// region: lr near and above 4.0, betas at 0, near 1 or anywhere.
func randomAdam(r *splitMix64, s Spec) Spec {
	f := uint32(MinFracBits + r.uniformBelow(MaxFracBits-MinFracBits+1))
	s.FracBits = f
	one := uint64(1) << f
	beta := func() uint32 {
		switch r.uniformBelow(4) {
		case 0:
			return 0
		case 1:
			return uint32(one - 1 - r.uniformBelow(min(one, 1+one>>4)))
		default:
			return uint32(r.uniformBelow(one))
		}
	}
	s.Optimizer, s.Momentum = OptimizerAdam, 0
	s.Beta1, s.Beta2, s.Epsilon = beta(), beta(), uint32(1+r.uniformBelow(one))
	switch r.uniformBelow(3) {
	case 0:
		s.LearningRate = uint32(4*one - 4 + r.uniformBelow(8))
	case 1:
		s.LearningRate = uint32(1 + r.uniformBelow(16*one))
	default:
		s.LearningRate = uint32(2*one + r.uniformBelow(14*one+1))
	}
	return s
}

// TestCheckTrainableMatchesSchedule compares CheckTrainable with the
// engine's own Adam schedule evaluated at every step.
func TestCheckTrainableMatchesSchedule(t *testing.T) {
	const horizon = 4000
	r := splitMix64{s: 13}
	refused, maxUsed, clean, late := 0, 0, 0, 0
	for i := 0; i < 1500; i++ {
		s := randomAdam(&r, tinySpec(16))
		o := newOptimizer(s)
		first := uint64(horizon + 1) // first failing step index, > horizon if none
		for step := uint64(0); step < horizon; step++ {
			if _, err := o.adamRate(step); err != nil {
				if !errors.Is(err, ErrAdamRate) {
					t.Fatal(err)
				}
				first = step
				break
			}
		}
		Ts := []uint64{1, 2, 1 + r.uniformBelow(horizon), horizon}
		if first >= horizon {
			clean++
		} else if first > 0 {
			late++
		}
		if first < horizon {
			Ts = append(Ts, first, first+1)
		}
		for _, T := range Ts {
			err := CheckTrainable(s, T, RowFormat{})
			fails := first < T
			if !fails && err != nil {
				t.Fatalf("%+v T=%d: refused (%v) but steps 0..%d run", s, T, err, T-1)
			}
			if fails {
				refused++
				if !errors.Is(err, ErrAdamRate) {
					t.Fatalf("%+v T=%d: err = %v, but step %d fails", s, T, err, first)
				}
				if got := stepOf(t, err); got != first {
					t.Fatalf("%+v T=%d: refused at step %d, engine fails at %d", s, T, got, first)
				}
			}
		}
		// Far horizons stay cheap and never find an earlier failure.
		for _, T := range []uint64{1_000_000, 1 << 40, ^uint64(0)} {
			tf, proven, used := firstAdamFailure(s, T, adamSearchBudget)
			maxUsed = max(maxUsed, used)
			if !proven {
				t.Fatalf("%+v T=%d: search budget exhausted", s, T)
			}
			if first < horizon && tf != first+1 {
				t.Fatalf("%+v T=%d: first failure t=%d, engine fails at step %d", s, T, tf, first)
			}
			if tf != 0 {
				if _, err := o.adamRate(tf - 1); err == nil {
					t.Fatalf("%+v: step %d reported failing but computes", s, tf-1)
				}
				if tf > 1 {
					if _, err := o.adamRate(tf - 2); err != nil {
						t.Fatalf("%+v: step %d fails before the reported %d", s, tf-2, tf-1)
					}
				}
			}
		}
	}
	if clean < 50 || late < 50 {
		t.Fatalf("only %d specs train %d steps and %d fail after step 0: the draw exercises too little", clean, horizon, late)
	}
	t.Logf("%d specs clean for %d steps, %d fail after step 0, %d refusals; at most %d intervals searched",
		clean, horizon, late, refused, maxUsed)

	// SGD and momentum have no schedule failure.
	for i := 0; i < 200; i++ {
		s := tinySpec(uint32(MinFracBits + r.uniformBelow(MaxFracBits-MinFracBits+1)))
		one := uint64(1) << s.FracBits
		s.LearningRate = uint32(1 + r.uniformBelow(16*one))
		if i%2 == 0 {
			s.Momentum = uint32(r.uniformBelow(one))
		}
		if err := CheckTrainable(s, ^uint64(0), RowFormat{}); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
	}
}

// TestCheckTrainableMatchesRuns trains the smallest model with random
// hyper-parameters: a run fails with ErrAdamRate at step s < T exactly when
// CheckTrainable refuses T naming s.
func TestCheckTrainableMatchesRuns(t *testing.T) {
	const T = 48
	r := splitMix64{s: 21}
	refused, late, clean := 0, 0, 0
	for i := 0; i < 300; i++ {
		s := tinySpec(16)
		switch i % 4 {
		case 0:
			one := uint64(1) << 16
			s.LearningRate = uint32(1 + r.uniformBelow(16*one))
			s.Momentum = uint32(r.uniformBelow(one))
		default:
			s = randomAdam(&r, s)
		}
		check := CheckTrainable(s, T, RowFormat{})
		run := runTiny(t, s, T)
		if run != nil && !errors.Is(run, ErrTrainingFailed) {
			t.Fatalf("%+v: run: %v", s, run)
		}
		if check == nil {
			if errors.Is(run, ErrAdamRate) {
				t.Fatalf("%+v: accepted, but the run fails: %v", s, run)
			}
			clean++
			continue
		}
		refused++
		if stepOf(t, check) > 0 {
			late++
		}
		if !errors.Is(check, ErrAdamRate) || !errors.Is(run, ErrAdamRate) {
			t.Fatalf("%+v: check %v, run %v", s, check, run)
		}
		if a, b := stepOf(t, check), stepOf(t, run); a != b {
			t.Fatalf("%+v: check names step %d, run fails at %d", s, a, b)
		}
		if run.Error() != stepErrorFromCheck(t, check).Error() {
			t.Fatalf("messages differ: %q vs %q", run, check)
		}
	}
	if refused < 20 || late < 20 || clean < 20 {
		t.Fatalf("%d refused (%d after step 0), %d clean: the draw exercises too little", refused, late, clean)
	}
	t.Logf("%d refused (%d after step 0), %d clean", refused, late, clean)
}

func stepErrorFromCheck(t *testing.T, err error) *StepError {
	t.Helper()
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("%v carries no *StepError", err)
	}
	return se
}

func TestFirstAdamFailureBudget(t *testing.T) {
	// A spec whose proof needs several intervals is refused as unproven,
	// never accepted, when the budget runs out.
	s := tinySpec(8)
	s.Optimizer, s.Momentum, s.LearningRate, s.Beta1, s.Beta2, s.Epsilon = OptimizerAdam, 0, 1022, 231, 254, 1
	tf, proven, used := firstAdamFailure(s, 1<<62, adamSearchBudget)
	if !proven || used < 3 {
		t.Fatalf("t=%d proven=%v used=%d", tf, proven, used)
	}
	if _, proven, used := firstAdamFailure(s, 1<<62, 2); proven || used != 2 {
		t.Fatalf("budget 2: proven=%v used=%d", proven, used)
	}
}

// TestStepErrorKinds checks which RunSegment errors are engine refusals.
func TestStepErrorKinds(t *testing.T) {
	job, rows := smallJob(t, "ce", "momentum", 0)
	st, _ := NewInitialState(job)
	// Diverged weights: the accumulator bound is an engine refusal at step 0,
	// with the message it always had.
	huge := st.Clone()
	for i := range huge.Layers[0].W {
		huge.Layers[0].W[i] = 1<<31 - 1
	}
	bigRows := badRows{RowSource: rows, mod: func(e *Example) {
		for i := range e.X {
			e.X[i] = -1 << 31
		}
	}}
	_, _, err := RunSegment(job, huge, bigRows, 1)
	if !errors.Is(err, ErrTrainingFailed) || !errors.Is(err, ErrAccumulatorBound) || stepOf(t, err) != 0 {
		t.Fatalf("accumulator bound: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "step 0: layer 0: engine: int64 accumulator bound exceeded") {
		t.Fatalf("message changed: %q", err)
	}
	// Malformed input and row source errors are not.
	for name, src := range map[string]RowSource{
		"features": badRows{RowSource: rows, mod: func(e *Example) { e.X = e.X[:3] }},
		"source":   badRows{err: errors.New("boom")},
		"nil":      nil,
	} {
		if _, _, err := RunSegment(job, st, src, 2); err == nil || errors.Is(err, ErrTrainingFailed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := RunSegment(job, &State{}, rows, 1); err == nil || errors.Is(err, ErrTrainingFailed) {
		t.Errorf("bad state: %v", err)
	}
}
