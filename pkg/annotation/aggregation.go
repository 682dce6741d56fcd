package annotation

import (
	"errors"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Limits on the inputs; each bounds an allocation or an accumulator.
const (
	MaxItems        = 1 << 20 // N
	MaxClasses      = 256     // K: a label value fits in one byte
	MaxAnnotators   = 1 << 16 // A: bounds the votes and log scores summed per item
	MaxLabels       = 1 << 22 // labels: keeps every Q30 count below 2^52
	MaxCells        = 1 << 23 // (N + labels) * K: posteriors and confusion columns
	MaxIterations   = 100
	MaxSmoothingBps = 1_000_000 // alpha <= 100 pseudo-labels
)

// Cost units (see the package comment); BenchmarkUnits calibrates them.
const (
	UnitsPerLabel  = 1
	UnitsPerItem   = 16
	UnitsPerLogRow = 32
	// MinBudget is the largest single unit of work: a Step with a smaller
	// budget may do nothing.
	MinBudget = max(UnitsPerLabel, UnitsPerItem, UnitsPerLogRow)
)

var (
	ErrLimit    = errors.New("annotation: input over a limit")
	ErrLabel    = errors.New("annotation: invalid label")
	ErrGold     = errors.New("annotation: invalid gold item")
	ErrParams   = errors.New("annotation: invalid parameters")
	ErrEncoding = errors.New("annotation: invalid aggregation encoding")
	ErrNotDone  = errors.New("annotation: aggregation not finished")
)

// Params configure an aggregation.
type Params struct {
	Iterations         uint32 // Dawid–Skene EM rounds after the vote, 0..MaxIterations (0: weighted vote only)
	MinGoldSeen        uint32 // gold items an annotator must have labelled to be judged (0 counts as 1)
	MinGoldAccuracyBps uint32 // judged annotators below this gold accuracy are dropped, 0..10000
	SmoothingBps       uint32 // Laplace pseudo-count alpha in basis points of one label, 1..MaxSmoothingBps
	// KeepDroppedLabels keeps the labels of dropped annotators in the EM
	// rounds (not in the vote): they still fail the gold check, but
	// Dawid–Skene learns a flipper's permutation and a spammer's flat rows,
	// which is more accurate than dropping them (docs/ANNOTATION.md).
	KeepDroppedLabels bool
}

// DefaultParams: 20 EM rounds, annotators judged after 5 gold items and
// dropped below 50% gold accuracy, a pseudo-count of 0.01 label per
// confusion cell. MinGoldAccuracyBps should be set per job above the chance
// level 10000/K. Add-one smoothing (10000) is too strong when K is large
// next to the labels per annotator: with K = 37 and ~270 labels each, the
// 37 pseudo-labels per row flatten the confusion matrices and EM drifts from
// 91% to 44% accuracy in 50 rounds, where 0.01 holds 91% (measured on the
// crowd of TestGolden's k37 case, float64 and fixed point alike).
func DefaultParams() Params {
	return Params{Iterations: 20, MinGoldSeen: 5, MinGoldAccuracyBps: 5000, SmoothingBps: 100}
}

// Validate checks the parameter ranges.
func (p Params) Validate() error {
	switch {
	case p.Iterations > MaxIterations:
		return fmt.Errorf("%w: %d iterations, at most %d", ErrParams, p.Iterations, MaxIterations)
	case p.MinGoldAccuracyBps > bps:
		return fmt.Errorf("%w: minimum gold accuracy %d bps, at most %d", ErrParams, p.MinGoldAccuracyBps, bps)
	case p.SmoothingBps == 0 || p.SmoothingBps > MaxSmoothingBps:
		return fmt.Errorf("%w: smoothing %d bps, want 1..%d", ErrParams, p.SmoothingBps, MaxSmoothingBps)
	}
	return nil
}

// checkShape enforces the size limits.
func checkShape(n, k, a uint32, labels uint64) error {
	switch {
	case n == 0 || n > MaxItems:
		return fmt.Errorf("%w: %d items, want 1..%d", ErrLimit, n, MaxItems)
	case k < 2 || k > MaxClasses:
		return fmt.Errorf("%w: %d classes, want 2..%d", ErrLimit, k, MaxClasses)
	case a == 0 || a > MaxAnnotators:
		return fmt.Errorf("%w: %d annotators, want 1..%d", ErrLimit, a, MaxAnnotators)
	case labels > MaxLabels:
		return fmt.Errorf("%w: %d labels, at most %d", ErrLimit, labels, MaxLabels)
	case (uint64(n)+labels)*uint64(k) > MaxCells:
		return fmt.Errorf("%w: (%d items + %d labels) * %d classes > %d", ErrLimit, n, labels, k, MaxCells)
	}
	return nil
}

// checkLabels rejects a label outside [0,N) x [0,A) x [0,K) and a second
// label of the same annotator on the same item. O(L + N + A).
func checkLabels(n, k, a uint32, labels []Label) error {
	for i, l := range labels {
		if l.Item >= n || l.Annotator >= a || l.Value >= k {
			return fmt.Errorf("%w: label %d {item %d, annotator %d, value %d} outside %d items, %d annotators, %d classes",
				ErrLabel, i, l.Item, l.Annotator, l.Value, n, a, k)
		}
	}
	start := countingStarts(n, len(labels), func(i int) uint32 { return labels[i].Item })
	ann := make([]uint32, len(labels))
	next := append([]uint32(nil), start[:n]...)
	for _, l := range labels {
		ann[next[l.Item]] = l.Annotator
		next[l.Item]++
	}
	stamp := make([]uint32, a) // item+1 of the annotator's latest label
	for i := uint32(0); i < n; i++ {
		for _, an := range ann[start[i]:start[i+1]] {
			if stamp[an] == i+1 {
				return fmt.Errorf("%w: annotator %d labelled item %d twice", ErrLabel, an, i)
			}
			stamp[an] = i + 1
		}
	}
	return nil
}

// countingStarts returns the bucket starts (length buckets+1) of m keys.
func countingStarts(buckets uint32, m int, key func(int) uint32) []uint32 {
	start := make([]uint32, buckets+1)
	for i := 0; i < m; i++ {
		start[key(i)+1]++
	}
	for i := uint32(1); i <= buckets; i++ {
		start[i] += start[i-1]
	}
	return start
}

// countingSort returns the indices 0..m-1 (or src's entries, if src != nil)
// stably ordered by key.
func countingSort(buckets uint32, src []uint32, m int, key func(int) uint32) []uint32 {
	start := countingStarts(buckets, m, key)
	out := make([]uint32, m)
	for i := 0; i < m; i++ {
		b := key(i)
		if src != nil {
			out[start[b]] = src[i]
		} else {
			out[start[b]] = uint32(i)
		}
		start[b]++
	}
	return out
}

// index is the canonical layout of the kept labels. A pair is one (annotator,
// value) combination that occurs; pairs are numbered by annotator, then value.
type index struct {
	itemStart []uint32 // N+1: the labels of item i are itemPair[itemStart[i]:itemStart[i+1]]
	itemPair  []uint32 // L: pair of each label, ascending annotator within an item
	active    []uint32 // M: annotators with kept labels, ascending
	pairAct   []uint32 // P: index into active of each pair (non-decreasing)
	pairVal   []uint8  // P: value of each pair (ascending within an annotator)
}

// buildIndex lays out the (validated) labels of the annotators in use. The
// layout depends only on the set of labels, not on their order.
// O(L + N + A + K).
func buildIndex(n, k, a uint32, labels []Label, use []bool) index {
	var kept []uint32
	for i, l := range labels {
		if use[l.Annotator] {
			kept = append(kept, uint32(i))
		}
	}
	m := len(kept)
	byVal := countingSort(k, kept, m, func(i int) uint32 { return labels[kept[i]].Value })
	order := countingSort(a, byVal, m, func(i int) uint32 { return labels[byVal[i]].Annotator })
	var ix index
	pairOf := make([]uint32, m)
	for pos, li := range order {
		l := labels[li]
		newAnn := pos == 0 || l.Annotator != labels[order[pos-1]].Annotator
		if newAnn {
			ix.active = append(ix.active, l.Annotator)
		}
		if newAnn || l.Value != labels[order[pos-1]].Value {
			ix.pairAct = append(ix.pairAct, uint32(len(ix.active)-1))
			ix.pairVal = append(ix.pairVal, uint8(l.Value))
		}
		pairOf[pos] = uint32(len(ix.pairAct) - 1)
	}
	item := func(i int) uint32 { return labels[order[i]].Item }
	ix.itemStart = countingStarts(n, m, item)
	ix.itemPair = countingSort(n, pairOf, m, item)
	return ix
}

// pairMajor transposes the item-major layout: the items of pair p are
// pairItem[pairStart[p]:pairStart[p+1]], ascending.
func pairMajor(itemStart, itemPair []uint32, pairs uint32) (pairStart, pairItem []uint32) {
	n := len(itemStart) - 1
	items := make([]uint32, len(itemPair))
	for i := 0; i < n; i++ {
		for j := itemStart[i]; j < itemStart[i+1]; j++ {
			items[j] = uint32(i)
		}
	}
	pairStart = countingStarts(pairs, len(itemPair), func(i int) uint32 { return itemPair[i] })
	pairItem = countingSort(pairs, items, len(itemPair), func(i int) uint32 { return itemPair[i] })
	return pairStart, pairItem
}

// annStarts returns, for M annotators, where each one's pairs start in pairAct.
func annStarts(pairAct []uint32, m uint32) []uint32 {
	return countingStarts(m, len(pairAct), func(i int) uint32 { return pairAct[i] })
}

// Phases and M-step stages of the state machine.
const (
	phaseVote uint8 = iota
	phaseM
	phaseE
	phaseDone
)

const (
	stagePrior  uint8 = iota // compute the log prior from priorAcc
	stageLabels              // accumulate annotator cur's confusion counts
	stageRow                 // log of annotator cur's row sums
	stagePairs               // log theta of annotator cur's pairs
	numStages
)

const noGold = 0xFFFF

// Aggregation is a resumable Dawid–Skene aggregation (see the package comment).
type Aggregation struct {
	n, k, a uint32
	params  Params
	scores  []GoldScore // per annotator, over all labels
	gold    []uint16    // per item: gold value or noGold
	index

	post     []uint32 // N*K posteriors, Q30
	theta    []int64  // P*K: Q30 counts during the M labels stage, then log theta (Q30)
	logPrior []int64  // K, Q30
	priorAcc []int64  // K: sum of the posteriors finished in this pass, Q30
	acc      []int64  // K scratch: votes, row sums (then their logs) or log scores of the current item
	label    []uint8  // N
	conf     []uint16 // N, basis points

	phase, stage       uint8
	iter, cur, sub, pc uint32 // iterations done; item or annotator; label position; pair
	setup, used        uint64 // units charged by NewAggregation; so far, setup included

	// derived from the above, not encoded
	weight         []int64 // M: vote weight of each active annotator
	pairStart      []uint32
	pairItem       []uint32
	annPairStart   []uint32
	alphaQ, kAlpha int64
}

// NewAggregation validates the job and prepares its aggregation: gold
// accuracy, dropped annotators, the label layout. It does SetupUnits(n, k, len(labels))
// units of work, already counted in Used; Step does the rest.
func NewAggregation(n, k, a uint32, labels []Label, gold []Gold, p Params) (*Aggregation, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := checkShape(n, k, a, uint64(len(labels))); err != nil {
		return nil, err
	}
	if err := checkLabels(n, k, a, labels); err != nil {
		return nil, err
	}
	goldOf := make([]uint16, n)
	for i := range goldOf {
		goldOf[i] = noGold
	}
	for _, g := range gold {
		if g.Item >= n || g.Value >= k {
			return nil, fmt.Errorf("%w: {item %d, value %d} outside %d items, %d classes", ErrGold, g.Item, g.Value, n, k)
		}
		if goldOf[g.Item] != noGold {
			return nil, fmt.Errorf("%w: item %d is given twice", ErrGold, g.Item)
		}
		goldOf[g.Item] = uint16(g.Value)
	}
	scores, err := GoldAccuracy(labels, gold, a)
	if err != nil {
		return nil, err
	}
	use := Dropped(scores, p.MinGoldSeen, p.MinGoldAccuracyBps)
	for i, d := range use {
		use[i] = !d || p.KeepDroppedLabels
	}
	g := newAggregation(n, k, a, p, scores, goldOf, buildIndex(n, k, a, labels, use))
	g.setup = SetupUnits(n, k, uint64(len(labels)))
	g.used = g.setup
	return g, nil
}

// newAggregation allocates the state for a validated layout.
func newAggregation(n, k, a uint32, p Params, scores []GoldScore, goldOf []uint16, ix index) *Aggregation {
	g := &Aggregation{n: n, k: k, a: a, params: p, scores: scores, gold: goldOf, index: ix}
	g.post = make([]uint32, int(n)*int(k))
	g.theta = make([]int64, len(ix.pairAct)*int(k))
	g.logPrior = make([]int64, k)
	g.priorAcc = make([]int64, k)
	g.acc = make([]int64, k)
	g.label = make([]uint8, n)
	g.conf = make([]uint16, n)
	g.derive()
	return g
}

// derive computes the fields that are not encoded.
func (g *Aggregation) derive() {
	w := VoteWeights(g.scores, Dropped(g.scores, g.params.MinGoldSeen, g.params.MinGoldAccuracyBps))
	g.weight = make([]int64, len(g.active))
	for i, an := range g.active {
		g.weight[i] = int64(w[an])
	}
	g.pairStart, g.pairItem = pairMajor(g.itemStart, g.itemPair, uint32(len(g.pairAct)))
	g.annPairStart = annStarts(g.pairAct, uint32(len(g.active)))
	g.alphaQ = roundDiv(int64(g.params.SmoothingBps)<<engine.QBits, bps)
	g.kAlpha = int64(g.k) * g.alphaQ
}

// SetupUnits is the charge for NewAggregation's validation and layout
// (counting sorts, gold look-ups, allocation). Its work per label does not
// grow with K while a unit's does, hence the 64/K.
func SetupUnits(n, k uint32, labels uint64) uint64 {
	return 4*uint64(n) + labels*(2+(64+uint64(k)-1)/uint64(k))
}

// Cost returns an upper bound, in units, of the whole aggregation of a job
// with n items, k classes, at most a annotators and at most `labels` labels:
// SetupUnits plus every Step. Aggregation.TotalUnits is the exact figure.
func Cost(n, k, a uint32, labels uint64, iterations uint32) uint64 {
	pairs := min(labels, uint64(a)*uint64(k))
	annotators := min(labels, uint64(a))
	return passUnits(uint64(n), labels, pairs, annotators, uint64(iterations)) + SetupUnits(n, k, labels)
}

// passUnits is the Step work of the vote and `iterations` EM rounds.
func passUnits(n, labels, pairs, annotators, iterations uint64) uint64 {
	vote := labels*UnitsPerLabel + n*UnitsPerItem
	round := 2*labels*UnitsPerLabel + n*UnitsPerItem + (1+annotators+pairs)*UnitsPerLogRow
	return vote + iterations*round
}

// TotalUnits is the exact number of units the whole aggregation takes,
// setup included (Used reaches it when Step reports done).
func (g *Aggregation) TotalUnits() uint64 {
	return g.setup + passUnits(uint64(g.n), uint64(len(g.itemPair)), uint64(len(g.pairAct)),
		uint64(len(g.active)), uint64(g.params.Iterations))
}

// Used returns the units charged so far, SetupUnits included.
func (g *Aggregation) Used() uint64 { return g.used }

// Done reports whether every pass has run.
func (g *Aggregation) Done() bool { return g.phase == phaseDone }

// Scores returns the gold record of every annotator.
func (g *Aggregation) Scores() []GoldScore { return append([]GoldScore(nil), g.scores...) }

// Dropped reports which annotators failed the gold threshold.
func (g *Aggregation) Dropped() []bool {
	return Dropped(g.scores, g.params.MinGoldSeen, g.params.MinGoldAccuracyBps)
}

// Result is the aggregate of every item.
type Result struct {
	Labels        []uint8  // per item, 0..K-1
	ConfidenceBps []uint16 // per item: the label's posterior in basis points
}

// Result returns the aggregate once Done.
func (g *Aggregation) Result() (Result, error) {
	if !g.Done() {
		return Result{}, ErrNotDone
	}
	return Result{Labels: append([]uint8(nil), g.label...), ConfidenceBps: append([]uint16(nil), g.conf...)}, nil
}

// Posterior returns item i's posterior (Q30, sums to 2^30 within K/2) after
// the passes run so far, or nil if i >= N.
func (g *Aggregation) Posterior(i uint32) []uint32 {
	if i >= g.n {
		return nil
	}
	return append([]uint32(nil), g.post[i*g.k:(i+1)*g.k]...)
}

// Step runs at most budget units of work and reports whether the aggregation
// is finished and how many units it used. Any sequence of budgets gives the
// same final state bit for bit; a budget below MinBudget may do nothing.
func (g *Aggregation) Step(budget uint64) (done bool, used uint64) {
	left := budget
	for g.phase != phaseDone {
		var ok bool
		switch g.phase {
		case phaseVote, phaseE:
			ok = g.itemPass(&left)
		case phaseM:
			ok = g.mPass(&left)
		}
		if !ok {
			break
		}
	}
	used = budget - left
	g.used += used
	return g.phase == phaseDone, used
}

// itemPass runs the vote or an E-step over items g.cur.. and returns false
// when the budget ran out first.
func (g *Aggregation) itemPass(left *uint64) bool {
	k := int(g.k)
	for g.cur < g.n {
		end := g.itemStart[g.cur+1]
		todo := uint64(end - g.sub)
		if *left < todo*UnitsPerLabel {
			todo = *left / UnitsPerLabel
		}
		*left -= todo * UnitsPerLabel
		stop := g.sub + uint32(todo)
		if g.phase == phaseVote {
			for ; g.sub < stop; g.sub++ {
				p := g.itemPair[g.sub]
				g.acc[g.pairVal[p]] += g.weight[g.pairAct[p]]
			}
		} else {
			for ; g.sub < stop; g.sub++ {
				th := g.theta[int(g.itemPair[g.sub])*k:][:k]
				for j, v := range th {
					g.acc[j] += v
				}
			}
		}
		if g.sub < end || *left < UnitsPerItem {
			return false
		}
		*left -= UnitsPerItem
		g.finishItem()
		g.cur++
	}
	g.cur, g.sub = 0, 0
	if g.phase == phaseE {
		g.iter++
	}
	if g.iter == g.params.Iterations {
		g.phase = phaseDone
	} else {
		g.phase, g.stage = phaseM, stagePrior
	}
	return true
}

// finishItem turns the accumulated votes or log scores of item g.cur into its
// posterior, label and confidence, and adds the posterior to priorAcc.
func (g *Aggregation) finishItem() {
	k := g.k
	post := g.post[g.cur*k:][:k]
	acc := g.acc
	best := uint32(0)
	switch {
	case g.gold[g.cur] != noGold:
		best = uint32(g.gold[g.cur])
		for j := range post {
			post[j] = 0
		}
		post[best] = uint32(engine.QOne)
	case g.phase == phaseVote:
		var total int64 // <= MaxAnnotators * 10000 < 2^30
		for j, v := range acc {
			total += v
			if v > acc[best] {
				best = uint32(j)
			}
		}
		for j, v := range acc {
			if total == 0 {
				post[j] = uint32(roundDiv(engine.QOne, int64(k)))
			} else {
				post[j] = uint32(roundDiv(v<<engine.QBits, total))
			}
		}
	default:
		for j := range acc {
			acc[j] += g.logPrior[j]
			if acc[j] > acc[best] {
				best = uint32(j)
			}
		}
		var sum int64 // <= K * 2^30
		for j, s := range acc {
			e := engine.ExpQ(s - acc[best])
			post[j] = uint32(e)
			sum += e
		}
		for j, e := range post {
			post[j] = uint32(roundDiv(int64(e)<<engine.QBits, sum))
		}
	}
	g.label[g.cur] = uint8(best)
	g.conf[g.cur] = uint16(roundDiv(int64(post[best])*bps, engine.QOne))
	for j, v := range post {
		g.priorAcc[j] += int64(v)
		acc[j] = 0
	}
}

// mPass runs an M-step from its current stage and returns false when the
// budget ran out first. Annotators are visited in order; for each, the counts
// of its pairs are accumulated label by label (the row sums in acc), then the
// log of its row sums, then log theta of each pair.
func (g *Aggregation) mPass(left *uint64) bool {
	k := int(g.k)
	if g.stage == stagePrior {
		if *left < UnitsPerLogRow {
			return false
		}
		*left -= UnitsPerLogRow
		var total int64
		for _, v := range g.priorAcc {
			total += v
		}
		den := engine.LogQ(total + g.kAlpha)
		for j, v := range g.priorAcc {
			g.logPrior[j] = engine.LogQ(v+g.alphaQ) - den
			g.priorAcc[j] = 0
		}
		g.stage = stageLabels
	}
	for g.cur < uint32(len(g.active)) {
		last := g.annPairStart[g.cur+1]
		if g.stage == stageLabels {
			for ; g.pc < last; g.pc++ {
				first, end := g.pairStart[g.pc], g.pairStart[g.pc+1]
				th := g.theta[int(g.pc)*k:][:k]
				for ; g.sub < end; g.sub++ {
					if *left < UnitsPerLabel {
						return false
					}
					*left -= UnitsPerLabel
					p := g.post[int(g.pairItem[g.sub])*k:][:k]
					if g.sub == first {
						for j, v := range p {
							th[j] = int64(v)
						}
					} else {
						for j, v := range p {
							th[j] += int64(v)
						}
					}
					for j, v := range p {
						g.acc[j] += int64(v)
					}
				}
			}
			g.stage = stageRow
		}
		if g.stage == stageRow {
			if *left < UnitsPerLogRow {
				return false
			}
			*left -= UnitsPerLogRow
			for j, v := range g.acc {
				g.acc[j] = engine.LogQ(v + g.kAlpha)
			}
			g.stage, g.pc = stagePairs, g.annPairStart[g.cur]
		}
		for ; g.pc < last; g.pc++ {
			if *left < UnitsPerLogRow {
				return false
			}
			*left -= UnitsPerLogRow
			th := g.theta[int(g.pc)*k:][:k]
			for j, v := range th {
				th[j] = engine.LogQ(v+g.alphaQ) - g.acc[j]
			}
		}
		for j := range g.acc {
			g.acc[j] = 0
		}
		g.cur++
		g.stage = stageLabels
	}
	g.phase, g.stage, g.cur, g.sub, g.pc = phaseE, 0, 0, 0, 0
	return true
}

func roundDiv(n, d int64) int64 { return engine.RoundDiv(n, d) }
