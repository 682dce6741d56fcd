package annotation_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
)

func L(item, ann, val uint32) annotation.Label {
	return annotation.Label{Item: item, Annotator: ann, Value: val}
}

func TestGoldAccuracy(t *testing.T) {
	labels := []annotation.Label{L(0, 0, 1), L(1, 0, 0), L(0, 1, 1), L(5, 2, 0), L(1, 2, 1), L(4, 1, 3)}
	gold := []annotation.Gold{{Item: 1, Value: 1}, {Item: 0, Value: 1}}
	got, err := annotation.GoldAccuracy(labels, gold, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []annotation.GoldScore{{2, 1, 5000}, {1, 1, 10000}, {1, 1, 10000}, {0, 0, 0}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := annotation.GoldAccuracy(labels, append(gold, annotation.Gold{Item: 0, Value: 0}), 4); !errors.Is(err, annotation.ErrGold) {
		t.Fatalf("duplicate gold item: %v", err)
	}
	if _, err := annotation.GoldAccuracy(labels, gold, 2); !errors.Is(err, annotation.ErrLabel) {
		t.Fatalf("annotator out of range: %v", err)
	}
	if s, _ := annotation.GoldAccuracy([]annotation.Label{L(0, 0, 1), L(1, 0, 1), L(2, 0, 0)},
		[]annotation.Gold{{0, 1}, {1, 1}, {2, 1}}, 1); s[0].AccuracyBps != 6667 {
		t.Fatalf("2 of 3: %d bps, want 6667 (rounded)", s[0].AccuracyBps)
	}
}

func TestDroppedThreshold(t *testing.T) {
	scores := []annotation.GoldScore{
		{Seen: 3, Correct: 2}, // 0.6666.. : below 6667, above 6666
		{Seen: 2, Correct: 0}, // too few to judge with minSeen 3
		{Seen: 0, Correct: 0}, // never judged
		{Seen: 10, Correct: 10},
	}
	if got := annotation.Dropped(scores, 3, 6667); !slices.Equal(got, []bool{true, false, false, false}) {
		t.Fatalf("6667: %v", got)
	}
	if got := annotation.Dropped(scores, 3, 6666); !slices.Equal(got, []bool{false, false, false, false}) {
		t.Fatalf("6666: %v", got)
	}
	// minSeen 0 counts as 1: the annotator without gold is still not judged.
	if got := annotation.Dropped(scores, 0, 5000); !slices.Equal(got, []bool{false, true, false, false}) {
		t.Fatalf("minSeen 0: %v", got)
	}
	w := annotation.VoteWeights(scores, []bool{false, true, false, false})
	if !slices.Equal(w, []uint32{6000, 0, 5000, 9167}) {
		t.Fatalf("weights %v", w)
	}
}

func TestMajorityVote(t *testing.T) {
	labels := []annotation.Label{
		L(0, 0, 2), L(0, 1, 1), // tie: lowest value wins
		L(1, 0, 2), L(1, 1, 1), L(1, 2, 1), // 2 votes for 1
		L(2, 2, 0), // one vote
		// item 3: no votes
	}
	r, err := annotation.MajorityVote(4, 3, 3, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Labels, []uint8{1, 1, 0, 0}) || !slices.Equal(r.ConfidenceBps, []uint16{5000, 6667, 10000, 3333}) {
		t.Fatalf("unweighted: %v %v", r.Labels, r.ConfidenceBps)
	}
	// Annotator 0 counts 3 times as much as 1 and 2; annotator 2 is ignored.
	r, err = annotation.MajorityVote(4, 3, 3, labels, []uint32{9000, 3000, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Labels, []uint8{2, 2, 0, 0}) || !slices.Equal(r.ConfidenceBps, []uint16{7500, 7500, 3333, 3333}) {
		t.Fatalf("weighted: %v %v", r.Labels, r.ConfidenceBps)
	}
	if _, err := annotation.MajorityVote(4, 3, 3, labels, []uint32{1, 2}); !errors.Is(err, annotation.ErrParams) {
		t.Fatalf("short weights: %v", err)
	}
}

// TestDawidSkeneByHand checks one EM round on a two-item, two-annotator job
// against the formulas of the package comment worked out in float64.
func TestDawidSkeneByHand(t *testing.T) {
	// item 0: both say 0; item 1: annotator 0 says 1, annotator 1 says 0.
	labels := []annotation.Label{L(0, 0, 0), L(0, 1, 0), L(1, 0, 1), L(1, 1, 0)}
	p := annotation.Params{Iterations: 1, MinGoldSeen: 1, SmoothingBps: 10000}
	g, err := annotation.NewAggregation(2, 2, 2, labels, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	// The vote (both weights 5000): item 0 is [1, 0], item 1 is [1/2, 1/2].
	g.Step(4*annotation.UnitsPerLabel + 2*annotation.UnitsPerItem)
	if !slices.Equal(g.Posterior(0), []uint32{1 << 30, 0}) || !slices.Equal(g.Posterior(1), []uint32{1 << 29, 1 << 29}) {
		t.Fatalf("vote posteriors %v %v", g.Posterior(0), g.Posterior(1))
	}
	g.Step(^uint64(0))
	// M: prior sums [1.5, 0.5] of 2, alpha 1: prior = [2.5/4, 1.5/4].
	// Annotator 0: counts (true j, answer v) = v0: [1, 0], v1: [.5, .5]; rows [1.5, .5]
	// so theta_0[j][v] = (n + 1) / (row_j + 2). Annotator 1: v0: [1.5, .5].
	th0 := [2][2]float64{{2 / 3.5, 1.5 / 3.5}, {1 / 2.5, 1.5 / 2.5}}
	th1 := [2]float64{2.5 / 3.5, 1.5 / 2.5} // answer 0 given j
	prior := [2]float64{2.5 / 4, 1.5 / 4}
	want := func(v0 int) float64 { // posterior of class 0 given annotator 0's answer, annotator 1 said 0
		a := prior[0] * th0[0][v0] * th1[0]
		b := prior[1] * th0[1][v0] * th1[1]
		return a / (a + b)
	}
	r, _ := g.Result()
	for i, w := range []float64{want(0), want(1)} {
		got := float64(g.Posterior(uint32(i))[0]) / (1 << 30)
		if math.Abs(got-w) > 1e-8 {
			t.Errorf("item %d: posterior %.10f, want %.10f", i, got, w)
		}
		if r.Labels[i] != 0 || int(r.ConfidenceBps[i]) != int(math.Round(w*10000)) {
			t.Errorf("item %d: label %d confidence %d, want 0 and %.0f", i, r.Labels[i], r.ConfidenceBps[i], w*10000)
		}
	}
}

// TestTies: symmetric inputs tie exactly in fixed point and go to the lowest class.
func TestTies(t *testing.T) {
	labels := []annotation.Label{L(0, 0, 1), L(0, 1, 2), L(1, 0, 2), L(1, 1, 1)}
	g, err := annotation.NewAggregation(2, 3, 2, labels, nil, annotation.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	g.Step(^uint64(0))
	r, _ := g.Result()
	if !slices.Equal(r.Labels, []uint8{1, 1}) {
		t.Fatalf("labels %v, want the lowest of the tied classes", r.Labels)
	}
	p := g.Posterior(0)
	if p[1] != p[2] {
		t.Fatalf("posterior %v not symmetric", p)
	}
}

func TestAllSpammers(t *testing.T) {
	truth := crowd.Truth(1, 2000, 4)
	t.Run("random", func(t *testing.T) {
		j := newJob(t, 3, truth, 4, crowd.Mix{RandomSpammers: 12}, 5, 20, 0)
		r, _ := j.run(t, annotation.DefaultParams()).Result()
		if acc := accuracy(r.Labels, truth); acc > 0.4 {
			t.Fatalf("accuracy %.3f from random spammers", acc)
		}
		r2, _ := j.run(t, annotation.DefaultParams()).Result()
		if !bytes.Equal(r.Labels, r2.Labels) {
			t.Fatal("not deterministic")
		}
	})
	t.Run("constant", func(t *testing.T) {
		var labels []annotation.Label
		for i := range uint32(100) {
			for a := range uint32(3) {
				labels = append(labels, L(i, (i+a)%7, 3))
			}
		}
		g, err := annotation.NewAggregation(100, 4, 7, labels, nil, annotation.DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		g.Step(^uint64(0))
		r, _ := g.Result()
		for i, l := range r.Labels {
			if l != 3 {
				t.Fatalf("item %d: label %d, every annotator said 3", i, l)
			}
		}
	})
	t.Run("all-dropped", func(t *testing.T) {
		j := newJob(t, 4, truth, 4, crowd.Mix{ConstantSpammers: 6, Flippers: 6}, 5, 20, 1000)
		g := j.run(t, annotation.DefaultParams())
		if d := g.Dropped(); slices.Contains(d, false) {
			t.Fatalf("dropped %v, want everyone", d)
		}
		r, _ := g.Result()
		isGold := make([]bool, j.n)
		for _, gd := range j.gold {
			isGold[gd.Item] = true
			if uint32(r.Labels[gd.Item]) != gd.Value || r.ConfidenceBps[gd.Item] != 10000 {
				t.Fatalf("gold item %d: %d (%d bps), want %d", gd.Item, r.Labels[gd.Item], r.ConfidenceBps[gd.Item], gd.Value)
			}
		}
		// Without labels every other item gets the prior's argmax.
		var first uint8 = 255
		for i, l := range r.Labels {
			if isGold[i] {
				continue
			}
			if first == 255 {
				first = l
			}
			if l != first {
				t.Fatalf("items without labels differ: %d and %d", first, l)
			}
		}
	})
}

// TestGoldThreshold: with 5% gold, every spammer and flipper and no honest
// annotator is dropped; an annotator with too few gold items is not judged.
func TestGoldThreshold(t *testing.T) {
	truth := crowd.Truth(2, 4000, 10)
	j := newJob(t, 5, truth, 10, crowd.Mix{Good: 10, Noisy: 5, RandomSpammers: 3, ConstantSpammers: 3, Flippers: 3}, 5, 40, 500)
	p := annotation.DefaultParams()
	g := j.run(t, p)
	for a, d := range g.Dropped() {
		if d != j.crowd.Bad(uint32(a)) {
			t.Errorf("annotator %d (%v, gold %+v): dropped %v", a, j.crowd.Annotators[a].Kind, g.Scores()[a], d)
		}
	}
	p.MinGoldSeen = 1 << 20
	if d := j.run(t, p).Dropped(); slices.Contains(d, true) {
		t.Fatalf("nobody has seen 2^20 gold items, yet dropped %v", d)
	}
}

// TestPreference: pairwise preferences are K = 2.
func TestPreference(t *testing.T) {
	truth := crowd.Truth(9, 3000, 2)
	j := newJob(t, 6, truth, 2, crowd.Mix{Good: 10, Noisy: 4, RandomSpammers: 3, ConstantSpammers: 3}, 5, 30, 300)
	p := annotation.DefaultParams()
	p.MinGoldAccuracyBps = 6500
	r, _ := j.run(t, p).Result()
	mv, err := annotation.MajorityVote(j.n, 2, j.a, j.labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, v := accuracy(r.Labels, truth), accuracy(mv.Labels, truth)
	t.Logf("preference accuracy: Dawid–Skene %.4f (float64 %.4f), majority vote %.4f", ds, accuracy(j.float(t, p).Labels(), truth), v)
	if ds < 0.9 || ds < v+0.03 {
		t.Fatalf("Dawid–Skene %.4f, majority vote %.4f", ds, v)
	}
}

func TestBadInput(t *testing.T) {
	ok := []annotation.Label{L(0, 0, 0), L(1, 1, 1)}
	p := annotation.DefaultParams()
	for _, c := range []struct {
		name    string
		n, k, a uint32
		labels  []annotation.Label
		gold    []annotation.Gold
		p       annotation.Params
		want    error
	}{
		{"no items", 0, 2, 2, nil, nil, p, annotation.ErrLimit},
		{"too many items", annotation.MaxItems + 1, 2, 2, nil, nil, p, annotation.ErrLimit},
		{"one class", 2, 1, 2, ok, nil, p, annotation.ErrLimit},
		{"too many classes", 2, annotation.MaxClasses + 1, 2, ok, nil, p, annotation.ErrLimit},
		{"no annotators", 2, 2, 0, ok, nil, p, annotation.ErrLimit},
		{"too many annotators", 2, 2, annotation.MaxAnnotators + 1, ok, nil, p, annotation.ErrLimit},
		{"too many cells", annotation.MaxCells / 256, 256, 2, ok, nil, p, annotation.ErrLimit},
		{"item out of range", 1, 2, 2, ok, nil, p, annotation.ErrLabel},
		{"value out of range", 2, 2, 2, []annotation.Label{L(0, 0, 2)}, nil, p, annotation.ErrLabel},
		{"annotator out of range", 2, 2, 1, ok, nil, p, annotation.ErrLabel},
		{"labelled twice", 2, 2, 2, []annotation.Label{L(0, 0, 0), L(1, 1, 1), L(0, 0, 1)}, nil, p, annotation.ErrLabel},
		{"gold item out of range", 2, 2, 2, ok, []annotation.Gold{{2, 0}}, p, annotation.ErrGold},
		{"gold value out of range", 2, 2, 2, ok, []annotation.Gold{{1, 2}}, p, annotation.ErrGold},
		{"gold twice", 2, 2, 2, ok, []annotation.Gold{{1, 0}, {1, 0}}, p, annotation.ErrGold},
		{"too many iterations", 2, 2, 2, ok, nil, annotation.Params{Iterations: annotation.MaxIterations + 1, SmoothingBps: 1}, annotation.ErrParams},
		{"no smoothing", 2, 2, 2, ok, nil, annotation.Params{SmoothingBps: 0}, annotation.ErrParams},
		{"accuracy above 1", 2, 2, 2, ok, nil, annotation.Params{SmoothingBps: 1, MinGoldAccuracyBps: 10001}, annotation.ErrParams},
	} {
		if _, err := annotation.NewAggregation(c.n, c.k, c.a, c.labels, c.gold, c.p); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := annotation.NewAggregation(2, 2, 2, ok, nil, p); err != nil {
		t.Fatal(err)
	}
}

// TestOrderIndependence: shuffling the labels and the gold items changes no bit.
func TestOrderIndependence(t *testing.T) {
	j := newJob(t, 8, crowd.Truth(8, 1500, 5), 5, crowd.Mix{Good: 6, Noisy: 4, RandomSpammers: 2, Copiers: 2}, 4, 25, 300)
	want := j.run(t, annotation.DefaultParams()).Encode()
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(j.labels), func(a, b int) { j.labels[a], j.labels[b] = j.labels[b], j.labels[a] })
	rng.Shuffle(len(j.gold), func(a, b int) { j.gold[a], j.gold[b] = j.gold[b], j.gold[a] })
	if !bytes.Equal(j.run(t, annotation.DefaultParams()).Encode(), want) {
		t.Fatal("shuffled input gives a different aggregation")
	}
}

// TestChunking: random budgets, with the state encoded and decoded between
// chunks, reproduce the one-shot run bit for bit; the units add up to
// TotalUnits, which Cost bounds.
func TestChunking(t *testing.T) {
	j := newJob(t, 10, crowd.Truth(10, 240, 6), 6, crowd.Mix{Good: 5, Noisy: 3, RandomSpammers: 2, ConstantSpammers: 1, Flippers: 1, Copiers: 1}, 4, 16, 400)
	p := annotation.DefaultParams()
	p.Iterations = 4
	whole := j.run(t, p)
	want := whole.Encode()
	if whole.Used() != whole.TotalUnits() {
		t.Fatalf("one shot used %d units, TotalUnits says %d", whole.Used(), whole.TotalUnits())
	}
	if c := annotation.Cost(j.n, j.k, j.a, uint64(len(j.labels)), p.Iterations); whole.Used() > c {
		t.Fatalf("used %d > Cost %d", whole.Used(), c)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 12 {
		g, err := annotation.NewAggregation(j.n, j.k, j.a, j.labels, j.gold, p)
		if err != nil {
			t.Fatal(err)
		}
		maxChunk := []uint64{2 * annotation.MinBudget, 200, 2000, 20000}[trial%4]
		steps := 0
		for done := false; !done; steps++ {
			budget := rng.Uint64N(maxChunk + 1) // including budgets too small to move
			var used uint64
			before := g.Used()
			done, used = g.Step(budget)
			if used > budget || g.Used() != before+used {
				t.Fatalf("used %d of budget %d, Used %d -> %d", used, budget, before, g.Used())
			}
			if budget >= annotation.MinBudget && used == 0 && !done {
				t.Fatalf("no progress with budget %d", budget)
			}
			if _, err := g.Result(); !done && !errors.Is(err, annotation.ErrNotDone) {
				t.Fatalf("Result before done: %v", err)
			}
			b := g.Encode()
			if g, err = annotation.DecodeAggregation(b); err != nil {
				t.Fatalf("trial %d step %d: %v", trial, steps, err)
			}
			if !bytes.Equal(g.Encode(), b) {
				t.Fatalf("encoding does not round-trip at step %d", steps)
			}
		}
		if got := g.Encode(); !bytes.Equal(got, want) {
			t.Fatalf("trial %d: %d chunks of at most %d units differ from one shot", trial, steps, maxChunk)
		}
	}
}

// TestCostBound: Cost bounds the exact units of every shape of job.
func TestCostBound(t *testing.T) {
	for _, k := range []uint32{2, 10, 256} {
		for _, s := range shapes(t, k, annotation.MaxCells/32) {
			if (uint64(s.n)+uint64(len(s.labels)))*uint64(k) > annotation.MaxCells {
				continue // the typical job at K = 256
			}
			g, err := annotation.NewAggregation(s.n, s.k, s.a, s.labels, nil, annotation.Params{Iterations: 2, SmoothingBps: 1})
			if err != nil {
				t.Fatal(err)
			}
			if tot, c := g.TotalUnits(), annotation.Cost(s.n, s.k, s.a, uint64(len(s.labels)), 2); tot > c {
				t.Errorf("K=%d %s: %d units > Cost %d", k, s.name, tot, c)
			}
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	j := newJob(t, 12, crowd.Truth(12, 200, 3), 3, crowd.Mix{Good: 4, RandomSpammers: 2}, 3, 10, 500)
	g, err := annotation.NewAggregation(j.n, j.k, j.a, j.labels, j.gold, annotation.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	g.Step(5000)
	b := g.Encode()
	if _, err := annotation.DecodeAggregation(b); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 4, 10, len(b) / 2, len(b) - 1} {
		if _, err := annotation.DecodeAggregation(b[:cut]); !errors.Is(err, annotation.ErrEncoding) {
			t.Errorf("truncated to %d: %v", cut, err)
		}
	}
	if _, err := annotation.DecodeAggregation(append(slices.Clone(b), 0)); !errors.Is(err, annotation.ErrEncoding) {
		t.Errorf("trailing byte: %v", err)
	}
	// Every single-byte change is rejected or decodes to a state that steps to the end.
	for i := range b {
		c := slices.Clone(b)
		c[i] ^= 0x5a
		if g, err := annotation.DecodeAggregation(c); err == nil {
			g.Step(^uint64(0))
		}
	}
}

// FuzzDecodeAggregation: the decoder never panics, accepts only canonical
// encodings, and what it accepts steps to the end without panicking.
func FuzzDecodeAggregation(f *testing.F) {
	j := newJob(f, 13, crowd.Truth(13, 30, 3), 3, crowd.Mix{Good: 3, ConstantSpammers: 1}, 2, 5, 1000)
	g, err := annotation.NewAggregation(j.n, j.k, j.a, j.labels, j.gold, annotation.Params{Iterations: 2, SmoothingBps: 10000, MinGoldSeen: 1, MinGoldAccuracyBps: 5000})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(g.Encode())
	for _, u := range []uint64{1, 40, 100, 300, 1000} {
		g.Step(u)
		f.Add(g.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := annotation.DecodeAggregation(b)
		if err != nil {
			return
		}
		if !bytes.Equal(g.Encode(), b) {
			t.Fatal("accepted a non-canonical encoding")
		}
		g.Step(^uint64(0))
	})
}
