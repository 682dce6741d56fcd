package crowd

import (
	"slices"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/annotation"
)

func TestCrowd(t *testing.T) {
	mix := Mix{Good: 4, Noisy: 3, RandomSpammers: 2, ConstantSpammers: 2, Flippers: 2, Copiers: 3}
	c, err := New(1, 5, mix)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Annotators) != int(mix.Total()) {
		t.Fatalf("%d annotators", len(c.Annotators))
	}
	for a, an := range c.Annotators {
		if an.Kind == Copier {
			if an.Confusion != nil || c.Annotators[an.CopyOf].Kind == Copier {
				t.Fatalf("copier %d: %+v", a, an)
			}
			continue
		}
		for r, row := range an.Confusion {
			var s uint32
			for _, p := range row {
				s += p
			}
			if s != One {
				t.Fatalf("annotator %d (%v) row %d sums to %d", a, an.Kind, r, s)
			}
		}
	}
	truth := Truth(2, 1000, 5)
	labels, err := c.Label(3, truth, 4, 10)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Label(3, truth, 4, 10)
	if !slices.Equal(labels, again) {
		t.Fatal("same seed, different labels")
	}
	if len(labels) != 4000 {
		t.Fatalf("%d labels, want 4000", len(labels))
	}
	// Items of one group share the same 4 distinct annotators.
	for i := 0; i < len(labels); i += 4 {
		var anns []uint32
		for _, l := range labels[i : i+4] {
			anns = append(anns, l.Annotator)
		}
		slices.Sort(anns)
		if len(slices.Compact(anns)) != 4 {
			t.Fatalf("item %d: annotators %v", i/4, anns)
		}
		if g := i / 4 / 10 * 40; labels[g].Annotator != labels[i].Annotator {
			t.Fatalf("item %d: annotator %d, its group starts with %d", i/4, labels[i].Annotator, labels[g].Annotator)
		}
	}
	// A copier always agrees with its target on shared items; a constant
	// spammer always gives the same class; good annotators mostly agree with truth.
	byItem := make(map[[2]uint32]uint32) // (item, annotator) -> value; looked up only
	for _, l := range labels {
		byItem[[2]uint32{l.Item, l.Annotator}] = l.Value
	}
	var good, goodOK int
	constant := map[uint32]uint32{}
	for _, l := range labels {
		an := c.Annotators[l.Annotator]
		switch an.Kind {
		case Copier:
			if v, ok := byItem[[2]uint32{l.Item, an.CopyOf}]; ok && v != l.Value {
				t.Fatalf("copier %d says %d, its target %d said %d", l.Annotator, l.Value, an.CopyOf, v)
			}
		case ConstantSpammer:
			if v, ok := constant[l.Annotator]; ok && v != l.Value {
				t.Fatalf("constant spammer %d says %d and %d", l.Annotator, v, l.Value)
			}
			constant[l.Annotator] = l.Value
		case Good:
			good++
			if l.Value == truth[l.Item] {
				goodOK++
			}
		}
	}
	if acc := float64(goodOK) / float64(good); acc < 0.8 || acc > 0.99 {
		t.Fatalf("good annotators' accuracy %.3f", acc)
	}
	gold := Gold(4, truth, 200)
	if len(gold) != 20 || !slices.IsSortedFunc(gold, func(a, b annotation.Gold) int { return int(a.Item) - int(b.Item) }) {
		t.Fatalf("gold %v", gold)
	}
	for _, g := range gold {
		if g.Value != truth[g.Item] {
			t.Fatalf("gold %v: truth %d", g, truth[g.Item])
		}
	}
	if _, err := New(1, 1, mix); err == nil {
		t.Fatal("K = 1 accepted")
	}
	if _, err := c.Label(3, truth, uint32(len(c.Annotators)+1), 10); err == nil {
		t.Fatal("r > A accepted")
	}
}
