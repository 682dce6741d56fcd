// Package crowd simulates annotators for tests, benchmarks, the CLI and the
// demo: good and noisy annotators with confusion matrices, random and
// constant-label spammers, adversarial flippers and copiers. Everything
// follows from a seed through a SplitMix64 stream and integer arithmetic, so a
// crowd labels identically on every machine (the golden test of
// pkg/annotation depends on it).
package crowd

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
)

// One is probability 1 in the units of a confusion matrix (2^-16).
const One = 1 << 16

// Kind is an annotator's behaviour.
type Kind uint8

const (
	Good            Kind = iota // accuracy 0.85..0.95; errors lean towards one confusable class
	Noisy                       // accuracy 0.60..0.80, the same shape
	RandomSpammer               // uniform over the K classes
	ConstantSpammer             // always the same class
	Flipper                     // maps class c to pi(c) != c (90%), else uniform
	Copier                      // copies CopyOf's label on a shared item, else uniform
	numKinds
)

var kindNames = [numKinds]string{"good", "noisy", "random-spammer", "constant-spammer", "flipper", "copier"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Annotator is one simulated annotator.
type Annotator struct {
	Kind Kind
	// Confusion[c][v] is the probability (units of 2^-16, each row sums to
	// One) of answering v when the true class is c; nil for copiers.
	Confusion [][]uint32
	CopyOf    uint32 // copiers: the annotator copied
}

// Mix counts the annotators of each kind.
type Mix struct {
	Good, Noisy, RandomSpammers, ConstantSpammers, Flippers, Copiers uint32
}

// Total is the number of annotators.
func (m Mix) Total() uint32 {
	return m.Good + m.Noisy + m.RandomSpammers + m.ConstantSpammers + m.Flippers + m.Copiers
}

// Crowd is a set of annotators over K classes; annotator i is Annotators[i]
// (kinds in the order of Mix's fields).
type Crowd struct {
	K          uint32
	Annotators []Annotator
}

// rng is SplitMix64.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// between returns a value in [lo, hi) (hi > lo).
func (r *rng) between(lo, hi uint64) uint64 {
	h, _ := bits.Mul64(r.next(), hi-lo)
	return lo + h
}

func (r *rng) below(n uint32) uint32 { return uint32(r.between(0, uint64(n))) }

// New draws a crowd from the seed. Good and noisy annotators share one
// confusable class per true class (as MNIST's 4 and 9), so that their errors
// are systematic, which Dawid–Skene can learn and a vote cannot.
func New(seed uint64, k uint32, mix Mix) (*Crowd, error) {
	if k < 2 || k > annotation.MaxClasses {
		return nil, fmt.Errorf("crowd: %d classes, want 2..%d", k, annotation.MaxClasses)
	}
	total := mix.Total()
	if total == 0 || total > annotation.MaxAnnotators {
		return nil, fmt.Errorf("crowd: %d annotators, want 1..%d", total, annotation.MaxAnnotators)
	}
	if mix.Copiers > 0 && mix.Copiers == total {
		return nil, errors.New("crowd: copiers need someone to copy")
	}
	r := &rng{s: seed}
	partner := make([]uint32, k)
	for c := range partner {
		partner[c] = (uint32(c) + 1 + r.below(k-1)) % k
	}
	c := &Crowd{K: k}
	add := func(kind Kind, m uint32, conf func() [][]uint32) {
		for range m {
			c.Annotators = append(c.Annotators, Annotator{Kind: kind, Confusion: conf()})
		}
	}
	add(Good, mix.Good, func() [][]uint32 { return confusable(k, uint32(r.between(55706, 62260)), partner) })
	add(Noisy, mix.Noisy, func() [][]uint32 { return confusable(k, uint32(r.between(39322, 52429)), partner) })
	add(RandomSpammer, mix.RandomSpammers, func() [][]uint32 { return rows(k, func(c, v uint32) uint32 { return 0 }) })
	add(ConstantSpammer, mix.ConstantSpammers, func() [][]uint32 {
		v0 := r.below(k)
		return rows(k, func(c, v uint32) uint32 { return b2u(v == v0) * One })
	})
	add(Flipper, mix.Flippers, func() [][]uint32 {
		s := 1 + r.below(k-1)
		return rows(k, func(c, v uint32) uint32 { return b2u(v == (c+s)%k) * (One - One/10) })
	})
	honest := uint32(len(c.Annotators))
	add(Copier, mix.Copiers, func() [][]uint32 { return nil })
	for i := honest; i < total; i++ {
		c.Annotators[i].CopyOf = r.below(honest)
	}
	return c, nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// rows builds a confusion matrix from the mass of each cell; whatever a row
// leaves over is spread evenly over its K cells, the remainder of that
// division going to the lowest classes.
func rows(k uint32, mass func(c, v uint32) uint32) [][]uint32 {
	m := make([][]uint32, k)
	for c := range m {
		m[c] = make([]uint32, k)
		var sum uint32
		for v := range m[c] {
			m[c][v] = mass(uint32(c), uint32(v))
			sum += m[c][v]
		}
		rest := One - sum
		for v := range m[c] {
			m[c][v] += rest / k
			if uint32(v) < rest%k {
				m[c][v]++
			}
		}
	}
	return m
}

// confusable is accuracy acc (units 2^-16) with half of the error on the
// partner class and half spread over the other K-1 classes.
func confusable(k, acc uint32, partner []uint32) [][]uint32 {
	return rows(k, func(c, v uint32) uint32 {
		errMass := One - acc
		spread := errMass / 2 / (k - 1) * (k - 1)
		switch v {
		case c:
			return acc + (errMass - errMass/2 - spread) // rounding left-overs stay on the diagonal
		case partner[c]:
			return errMass/2 + spread/(k-1)
		}
		return spread / (k - 1)
	})
}

// draw samples a class from a confusion row.
func draw(r *rng, row []uint32) uint32 {
	u := uint32(r.between(0, One))
	for v, p := range row {
		if u < p {
			return uint32(v)
		}
		u -= p
	}
	return uint32(len(row) - 1)
}

// Label has the crowd label truth (one class per item). Items are split into
// consecutive groups of `batch`; each group goes to r distinct annotators
// drawn from the seed, who label every item of it. Within an item, honest
// annotators answer first, then copiers (who copy CopyOf when it labels the
// same group, else answer uniformly at random). Labels come out by item.
func (c *Crowd) Label(seed uint64, truth []uint32, r, batch uint32) ([]annotation.Label, error) {
	a := uint32(len(c.Annotators))
	if r == 0 || r > a || batch == 0 {
		return nil, fmt.Errorf("crowd: r = %d of %d annotators, batch %d", r, a, batch)
	}
	for i, t := range truth {
		if t >= c.K {
			return nil, fmt.Errorf("crowd: true class %d of item %d, want < %d", t, i, c.K)
		}
	}
	g := &rng{s: seed ^ 0x6c6162656c73} // "labels"
	perm := make([]uint32, a)
	for i := range perm {
		perm[i] = uint32(i)
	}
	out := make([]annotation.Label, 0, len(truth)*int(r))
	chosen := make([]uint32, r)
	answer := make([]uint32, a) // answer of a chosen annotator on the current item
	in := make([]uint32, a)     // group+1 when the annotator labels the current group
	for start, grp := 0, uint32(1); start < len(truth); start, grp = start+int(batch), grp+1 {
		for j := range r {
			x := j + g.below(a-j)
			perm[j], perm[x] = perm[x], perm[j]
			chosen[j] = perm[j]
			in[perm[j]] = grp
		}
		slices.Sort(chosen)
		for i := start; i < min(start+int(batch), len(truth)); i++ {
			for _, copiers := range []bool{false, true} {
				for _, an := range chosen {
					ann := c.Annotators[an]
					if (ann.Kind == Copier) != copiers {
						continue
					}
					switch {
					case !copiers:
						answer[an] = draw(g, ann.Confusion[truth[i]])
					case in[ann.CopyOf] == grp:
						answer[an] = answer[ann.CopyOf]
					default:
						answer[an] = g.below(c.K)
					}
				}
			}
			for _, an := range chosen {
				out = append(out, annotation.Label{Item: uint32(i), Annotator: an, Value: answer[an]})
			}
		}
	}
	return out, nil
}

// Gold picks round(len(truth) * fractionBps / 10000) distinct gold items
// from the seed, ascending, with their true classes.
func Gold(seed uint64, truth []uint32, fractionBps uint32) []annotation.Gold {
	n := uint32(len(truth))
	m := uint32((uint64(n)*uint64(fractionBps) + 5000) / 10000)
	m = min(m, n)
	g := &rng{s: seed ^ 0x676f6c64} // "gold"
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	for j := range m {
		x := j + g.below(n-j)
		perm[j], perm[x] = perm[x], perm[j]
	}
	items := slices.Clone(perm[:m])
	slices.Sort(items)
	out := make([]annotation.Gold, m)
	for i, it := range items {
		out[i] = annotation.Gold{Item: it, Value: truth[it]}
	}
	return out
}

// Bad reports whether annotator a is a spammer, a flipper or a copier (the
// annotators a gold check should catch: a copier answers at random whenever
// it cannot copy).
func (c *Crowd) Bad(a uint32) bool {
	switch c.Annotators[a].Kind {
	case RandomSpammer, ConstantSpammer, Flipper, Copier:
		return true
	}
	return false
}

// Truth draws n true classes, uniform over K, from the seed (a synthetic
// stand-in when real labels are not at hand).
func Truth(seed uint64, n, k uint32) []uint32 {
	g := &rng{s: seed ^ 0x7472757468} // "truth"
	t := make([]uint32, n)
	for i := range t {
		t[i] = g.below(k)
	}
	return t
}
