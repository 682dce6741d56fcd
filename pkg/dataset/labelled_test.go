package dataset

import (
	"bytes"
	"testing"
)

func TestWithLabels(t *testing.T) {
	var rows [][]byte
	for i := range 5 {
		b, err := EncodeRow(clsSchema, Row{Features: []int32{int32(i), 1, 2, 3}, Label: 0})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, b)
	}
	items, err := NewFile(clsSchema, rows)
	if err != nil {
		t.Fatal(err)
	}
	labels := []byte{2, 1, 0, 2, 1}
	a, err := WithLabels(items, labels)
	if err != nil {
		t.Fatal(err)
	}
	b, err := WithLabels(items, labels)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Root(), b.Root()) || bytes.Equal(a.Root(), items.Root()) {
		t.Fatal("the labelled root must be a function of items and labels, and differ from the items'")
	}
	for i, l := range labels {
		r, err := a.Row(uint64(i))
		if err != nil || r.Label != uint32(l) || r.Features[0] != int32(i) {
			t.Fatalf("row %d: %+v %v", i, r, err)
		}
	}
	if _, err := WithLabels(items, []byte{0, 0, 0, 0, 3}); err == nil {
		t.Fatal("label outside the classes accepted")
	}
	if _, err := WithLabels(items, labels[:4]); err == nil {
		t.Fatal("wrong label count accepted")
	}

	pref, err := EncodeRow(prefSchema, Row{Features: []int32{1, 2, 3}, Rejected: []int32{4, 5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	pitems, err := NewFile(prefSchema, [][]byte{pref, pref})
	if err != nil {
		t.Fatal(err)
	}
	p, err := WithLabels(pitems, []byte{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := p.Row(0)
	swapped, _ := p.Row(1)
	if kept.Features[0] != 1 || swapped.Features[0] != 4 || swapped.Rejected[0] != 1 {
		t.Fatalf("preference rows: kept %+v swapped %+v", kept, swapped)
	}
	if _, err := WithLabels(pitems, []byte{0, 2}); err == nil {
		t.Fatal("preference label 2 accepted")
	}
}
