package engine

import "testing"

// TestNextByteLogProbs checks the per-position log-distributions of one
// forward pass against NextByteProbs on every prefix (exp of the log within
// 2 units of 2^-F), against the next-token loss of the training code
// (exactly), and against themselves on a shorter context (causality).
func TestNextByteLogProbs(t *testing.T) {
	spec := tinyLMSpec()
	job := Job{Spec: spec, Seed: [32]byte{1}, RowCount: 64}
	st, _ := NewInitialState(job)
	st, _, err := RunSegment(job, st, lmRows{text: lmText, T: 16}, 30)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := st.Model(nil)
	T, f := m.Arch.Context(), uint(m.Arch.FracBits)
	row := lmText[:T+1] // row 0 of lmRows
	lp, err := NextByteLogProbs(m, row[:T])
	if err != nil {
		t.Fatal(err)
	}
	if len(lp) != T*Vocab {
		t.Fatalf("%d values, want %d", len(lp), T*Vocab)
	}
	var loss int64
	for pos := 0; pos < T; pos++ {
		p, err := NextByteProbs(m, row[:pos+1])
		if err != nil {
			t.Fatal(err)
		}
		for v := 0; v < Vocab; v++ {
			q := lp[pos*Vocab+v]
			if q > 0 {
				t.Fatalf("position %d byte %d: log-probability %d > 0", pos, v, q)
			}
			if d := fromQ(expQ(q), f) - int64(p[v]); d < -2 || d > 2 {
				t.Fatalf("position %d byte %d: exp(log p) = %d, NextByteProbs %d (units of 2^-%d)", pos, v, fromQ(expQ(q), f), p[v], f)
			}
		}
		loss += fromQ(-lp[pos*Vocab+int(row[pos+1])], f)
	}
	res, err := EvaluateModel(spec, m, lmRows{text: lmText, T: T}, []uint64{0})
	if err != nil {
		t.Fatal(err)
	}
	if got := roundDiv(loss, int64(T)); got != res.Loss {
		t.Fatalf("mean -log p of the row %d, the training loss says %d", got, res.Loss)
	}
	short, err := NextByteLogProbs(m, row[:5])
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range short {
		if v != lp[i] {
			t.Fatalf("entry %d: %d on a 5-byte context, %d on the full one (later bytes leaked)", i, v, lp[i])
		}
	}
	for _, ctx := range [][]byte{nil, lmText[:T+1]} {
		if _, err := NextByteLogProbs(m, ctx); err == nil {
			t.Fatalf("context of %d bytes accepted", len(ctx))
		}
	}
}
