package engine

import (
	"errors"
	"math/bits"
)

// optimizer applies one update to the trained tensors of a state. The rules
// are documented on Optimizer; every product of two fixed-point values is
// rounded once with the package rule and saturated to int32.
type optimizer struct {
	spec Spec
	f    uint
	one  int64
}

func newOptimizer(s Spec) *optimizer {
	return &optimizer{spec: s, f: uint(s.FracBits), one: int64(1) << s.FracBits}
}

// ErrAdamRate is returned (inside a *StepError) when Adam's bias-corrected
// learning rate reaches the engine's cap at some step. It depends on the
// spec and the step number only; CheckTrainable predicts it.
var ErrAdamRate = errors.New("adam: bias-corrected learning rate lr*sqrt(1-beta2^t)/(1-beta1^t) >= 4.0")

// adamRate returns lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t) in Q30 for
// t = step+1, or ErrAdamRate if it is 4.0 or more (the per-element product
// lr_t * m must fit in an int64).
func (o *optimizer) adamRate(step uint64) (int64, error) {
	t := step + 1
	rate, ok := adamRateFrom(o.spec, adamC1(o.spec, t), adamC2(o.spec, t))
	if !ok {
		return 0, ErrAdamRate
	}
	return rate, nil
}

// adamC1 returns 1 - beta1^t in Q30 (in [1, 2^30] for t >= 1), adamC2
// 1 - beta2^t in Q30 (in [0, 2^30]). Both are non-decreasing in t
// (powQ is non-increasing, see trainable.go).
func adamC1(s Spec, t uint64) int64 { return qOne - powQ(int64(s.Beta1)<<(qBits-s.FracBits), t) }
func adamC2(s Spec, t uint64) int64 { return qOne - powQ(int64(s.Beta2)<<(qBits-s.FracBits), t) }

// adamRateFrom returns round(lr * sqrtRound(c2 * 2^30) / c1) in Q30 and
// true, or false if that is 4.0 (2^32) or more or does not fit in 63 bits.
// Failure is monotone: non-decreasing in c2, non-increasing in c1.
func adamRateFrom(s Spec, c1, c2 int64) (int64, bool) {
	sq := sqrtRound(uint64(c2) << qBits) // sqrt(c2) in Q30
	rate, ok := mulDivRound(uint64(s.LearningRate)<<(qBits-s.FracBits), sq, uint64(c1))
	if !ok || rate >= 1<<32 {
		return 0, false
	}
	return int64(rate), true
}

// apply updates st (its trained tensors and optimiser state) with the
// gradients g (canonical tensor order) and returns the number of saturations.
func (o *optimizer) apply(st *State, g [][]int32) (uint64, error) {
	s, f, one := o.spec, o.f, o.one
	lr := int64(s.LearningRate)
	var sat uint64
	clamp := func(x int64) int32 {
		if x > maxInt32 || x < minInt32 {
			sat++
			v, _ := sat32(x)
			return v
		}
		return int32(x)
	}
	params := st.tensors()
	switch st.Opt.Kind {
	case OptNone:
		for t, w := range params {
			gt := g[t][:len(w)]
			for i := range w {
				w[i] = clamp(int64(w[i]) - roundShift(lr*int64(gt[i]), f))
			}
		}
	case OptMomentum:
		mu := int64(s.Momentum)
		for t, w := range params {
			gt, vt := g[t][:len(w)], st.Opt.Velocity[t][:len(w)]
			for i := range w {
				v := clamp(roundShift(mu*int64(vt[i])+int64(gt[i])<<f, f))
				vt[i] = v
				w[i] = clamp(int64(w[i]) - roundShift(lr*int64(v), f))
			}
		}
	case OptAdam:
		rate, err := o.adamRate(st.Step)
		if err != nil {
			return sat, err
		}
		b1, b2 := int64(s.Beta1), uint64(s.Beta2)
		nb1, nb2 := one-b1, uint64(one)-b2
		eps := uint64(s.Epsilon)
		up := qBits - f
		for t, w := range params {
			gt, mt, vt := g[t][:len(w)], st.Opt.M[t][:len(w)], st.Opt.V[t][:len(w)]
			for i := range w {
				gi := int64(gt[i])
				m := clamp(roundShift(b1*int64(mt[i])+nb1*gi, f))
				mt[i] = m
				// v = round((b2*v + (1-b2)*g^2) / 2^F) with a 128-bit sum; the
				// weights add up to 2^F, so the result is <= max(v, g^2) < 2^63.
				h1, l1 := bits.Mul64(b2, uint64(vt[i]))
				h2, l2 := bits.Mul64(nb2, uint64(gi*gi))
				lo, c := bits.Add64(l1, l2, 0)
				hi := h1 + h2 + c
				lo, c = bits.Add64(lo, uint64(1)<<(f-1), 0)
				hi += c
				v := hi<<(64-f) | lo>>f
				if v > maxInt64 {
					v = maxInt64
					sat++
				}
				vt[i] = int64(v)
				den := int64(sqrtRound(v)+eps) << up // (sqrt(v) + eps) in Q30
				w[i] = clamp(int64(w[i]) - roundDiv(rate*int64(m), den))
			}
		}
	}
	return sat, nil
}
