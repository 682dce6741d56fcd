package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/annotation/crowd"
	"github.com/hinterland-ai/hinterland/x/annotation/types"
)

func TestParseGold(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []types.GoldItem
		err      string
	}{
		{name: "sorted on read", in: `[{"item": 7, "label": 2}, {"item": 3, "label": 9}]`,
			want: []types.GoldItem{{Item: 3, Label: 9}, {Item: 7, Label: 2}}},
		{name: "empty array", in: `[]`, want: []types.GoldItem{}},
		{name: "duplicate item", in: `[{"item": 3, "label": 1}, {"item": 3, "label": 1}]`, err: "item 3 is given twice"},
		{name: "item out of range", in: `[{"item": 100, "label": 1}]`, err: "item 100 of a 100-item job"},
		{name: "label out of range", in: `[{"item": 1, "label": 10}]`, err: "label 10 outside 0..9"},
		{name: "unknown field", in: `[{"item": 1, "lable": 1}]`, err: "unknown field"},
		{name: "negative", in: `[{"item": -1, "label": 1}]`, err: "JSON array"},
		{name: "not an array", in: `{"item": 1, "label": 1}`, err: "JSON array"},
		{name: "trailing data", in: `[] []`, err: "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseGold([]byte(tc.in), 100, 10)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestGoldFromLabels(t *testing.T) {
	truth := crowd.Truth(11, 1000, 10)
	root := bytes.Repeat([]byte{0xab}, 32)
	a, err := goldFromLabels(root, truth, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := goldFromLabels(root, truth, 0.05)
	if len(a) != 50 {
		t.Fatalf("%d gold items of 1000 at 5%%, want 50", len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("two draws from the same root differ at %d: %v vs %v", i, a[i], b[i])
		}
		if a[i].Label != truth[a[i].Item] {
			t.Fatalf("gold item %d has label %d, its own label is %d", a[i].Item, a[i].Label, truth[a[i].Item])
		}
	}
	if err := types.ValidateGold(a, 1000, 10); err != nil {
		t.Fatalf("the chain would refuse the gold set: %v", err)
	}
	other, _ := goldFromLabels(bytes.Repeat([]byte{0xcd}, 32), truth, 0.05)
	same := 0
	for i := range other {
		if other[i] == a[i] {
			same++
		}
	}
	if same == len(a) {
		t.Fatal("another items root picks the same gold set")
	}
	for _, f := range []float64{0, -0.1, 1.5, 0.0001} {
		if _, err := goldFromLabels(root, truth, f); err == nil {
			t.Errorf("--gold-from-labels %v accepted", f)
		}
	}
}

func TestStoredGoldRoundTrip(t *testing.T) {
	home := t.TempDir()
	gold := []types.GoldItem{{Item: 1, Label: 4}, {Item: 9, Label: 0}}
	salt := bytes.Repeat([]byte{7}, 32)
	path, err := storeGold(home, []byte{1, 2}, salt, gold)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stored gold %s: mode %v, err %v; want 0600", path, st.Mode().Perm(), err)
	}
	commitment := types.GoldCommitment(salt, gold)
	got, gotSalt, err := loadGold(home, commitment)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotSalt, salt) || len(got) != 2 || got[0] != gold[0] || got[1] != gold[1] {
		t.Fatalf("loaded %v / %x", got, gotSalt)
	}
	// A file edited after posting no longer opens the commitment.
	bz, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(bz, []byte(`"label":4`), []byte(`"label":5`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadGold(home, commitment); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("edited gold file: %v", err)
	}
	if _, _, err := loadGold(filepath.Join(home, "elsewhere"), commitment); err == nil || !strings.Contains(err.Error(), "not stored here") {
		t.Fatalf("missing gold file: %v", err)
	}
}

func TestParseCrowd(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want crowd.Mix
		err  string
	}{
		{spec: "good:4,noisy:1,random:1,constant:1", want: crowd.Mix{Good: 4, Noisy: 1, RandomSpammers: 1, ConstantSpammers: 1}},
		{spec: " constant-spammer:2 , Good , random-spammer:3,flipper:1,copier:2 ",
			want: crowd.Mix{Good: 1, RandomSpammers: 3, ConstantSpammers: 2, Flippers: 1, Copiers: 2}},
		{spec: "good:5,", want: crowd.Mix{Good: 5}},
		{spec: "", err: "no annotators"},
		{spec: "good:0", err: "positive integer"},
		{spec: "good:x", err: "positive integer"},
		{spec: "good:1,good:2", err: "given twice"},
		{spec: "random:1,random-spammer:1", err: "given twice"},
		{spec: "lazy:2", err: "unknown kind"},
		{spec: "copier:3", err: "need someone to copy"},
	} {
		got, err := parseCrowd(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}
