package annotation

import (
	"encoding/binary"
	"fmt"

	"github.com/hinterland-ai/hinterland/pkg/engine"
)

// Encoding of an Aggregation (little endian, canonical: DecodeAggregation
// accepts exactly the bytes Encode produces for some reachable state, and
// Encode(DecodeAggregation(b)) == b):
//
//	magic "HLAG", version u8 = 1
//	N, K, A u32; Params: Iterations, MinGoldSeen, MinGoldAccuracyBps, SmoothingBps u32, KeepDroppedLabels u8 (0/1)
//	L (kept labels), P (pairs), M (annotators with labels) u32
//	phase u8, stage u8, iter, cur, sub, pc u32, setup, used u64
//	scores: A x (Seen, Correct u32)
//	gold: N x u16 (0xFFFF: not gold)
//	itemStart: N+1 x u32; itemPair: L x u32
//	active: M x u32; pairAct: P x u32; pairVal: P x u8
//	post: N*K x u32; theta: P*K x i64; logPrior, priorAcc, acc: K x i64
//	label: N x u8; conf: N x u16
//
// Vote weights, the pair-major layout and alpha are derived on decoding.
const (
	codecMagic   = "HLAG"
	codecVersion = 1
	headerSize   = 4 + 1 + 4*10 + 1 + 2 + 4*4 + 2*8
)

// encodedSize is the length of the encoding of a state of these dimensions;
// all factors are bounded by the limits, so nothing overflows.
func encodedSize(n, k, a, l, p, m uint64) uint64 {
	return headerSize + 8*a + 2*n + 4*(n+1) + 4*l + 4*m + 5*p + 4*n*k + 8*p*k + 24*k + 3*n
}

// Encode returns the canonical encoding of the state.
func (g *Aggregation) Encode() []byte {
	n, k := uint64(g.n), uint64(g.k)
	b := make([]byte, 0, encodedSize(n, k, uint64(g.a), uint64(len(g.itemPair)), uint64(len(g.pairAct)), uint64(len(g.active))))
	u32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	b = append(b, codecMagic...)
	b = append(b, codecVersion)
	for _, v := range []uint32{g.n, g.k, g.a, g.params.Iterations, g.params.MinGoldSeen, g.params.MinGoldAccuracyBps,
		g.params.SmoothingBps, uint32(len(g.itemPair)), uint32(len(g.pairAct)), uint32(len(g.active))} {
		u32(v)
	}
	b = append(b, b2u8(g.params.KeepDroppedLabels), g.phase, g.stage)
	for _, v := range []uint32{g.iter, g.cur, g.sub, g.pc} {
		u32(v)
	}
	b = binary.LittleEndian.AppendUint64(b, g.setup)
	b = binary.LittleEndian.AppendUint64(b, g.used)
	for _, s := range g.scores {
		u32(s.Seen)
		u32(s.Correct)
	}
	for _, v := range g.gold {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	for _, s := range [][]uint32{g.itemStart, g.itemPair, g.active, g.pairAct} {
		for _, v := range s {
			u32(v)
		}
	}
	b = append(b, g.pairVal...)
	for _, v := range g.post {
		u32(v)
	}
	for _, s := range [][]int64{g.theta, g.logPrior, g.priorAcc, g.acc} {
		for _, v := range s {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	b = append(b, g.label...)
	for _, v := range g.conf {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// reader reads little-endian fields from a buffer whose length was checked.
type reader struct {
	b   []byte
	off int
}

func (r *reader) u8() uint8 { r.off++; return r.b[r.off-1] }
func (r *reader) u16() uint16 {
	r.off += 2
	return binary.LittleEndian.Uint16(r.b[r.off-2:])
}
func (r *reader) u32() uint32 {
	r.off += 4
	return binary.LittleEndian.Uint32(r.b[r.off-4:])
}
func (r *reader) u64() uint64 {
	r.off += 8
	return binary.LittleEndian.Uint64(r.b[r.off-8:])
}
func (r *reader) u32s(n uint32) []uint32 {
	v := make([]uint32, n)
	for i := range v {
		v[i] = r.u32()
	}
	return v
}
func (r *reader) i64s(n uint32) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(r.u64())
	}
	return v
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrEncoding}, args...)...)
}

// DecodeAggregation decodes and fully validates an encoded Aggregation; its
// allocations are bounded by len(b). A state it accepts can be stepped
// without panics.
func DecodeAggregation(b []byte) (*Aggregation, error) {
	if len(b) < headerSize || string(b[:4]) != codecMagic || b[4] != codecVersion {
		return nil, bad("missing %q version %d header", codecMagic, codecVersion)
	}
	r := &reader{b: b, off: 5}
	g := &Aggregation{n: r.u32(), k: r.u32(), a: r.u32()}
	g.params = Params{Iterations: r.u32(), MinGoldSeen: r.u32(), MinGoldAccuracyBps: r.u32(), SmoothingBps: r.u32()}
	l, p, m := r.u32(), r.u32(), r.u32()
	keep := r.u8()
	g.params.KeepDroppedLabels = keep == 1
	g.phase, g.stage = r.u8(), r.u8()
	g.iter, g.cur, g.sub, g.pc = r.u32(), r.u32(), r.u32(), r.u32()
	g.setup, g.used = r.u64(), r.u64()
	if err := g.params.Validate(); err != nil || keep > 1 {
		return nil, bad("parameters %+v (keep flag %d): %v", g.params, keep, err)
	}
	if err := checkShape(g.n, g.k, g.a, uint64(l)); err != nil {
		return nil, bad("%v", err)
	}
	if p > l || m > p || m > g.a {
		return nil, bad("%d pairs and %d annotators for %d labels", p, m, l)
	}
	n, k := g.n, g.k
	if want := encodedSize(uint64(n), uint64(k), uint64(g.a), uint64(l), uint64(p), uint64(m)); uint64(len(b)) != want {
		return nil, bad("%d bytes, the header implies %d", len(b), want)
	}
	g.scores = make([]GoldScore, g.a)
	for i := range g.scores {
		s := GoldScore{Seen: r.u32(), Correct: r.u32()}
		if s.Correct > s.Seen {
			return nil, bad("annotator %d: %d correct of %d gold items", i, s.Correct, s.Seen)
		}
		s.AccuracyBps = accuracyBps(s)
		g.scores[i] = s
	}
	g.gold = make([]uint16, n)
	for i := range g.gold {
		if g.gold[i] = r.u16(); g.gold[i] != noGold && uint32(g.gold[i]) >= k {
			return nil, bad("gold value %d of item %d", g.gold[i], i)
		}
	}
	g.itemStart, g.itemPair = r.u32s(n+1), r.u32s(l)
	g.active, g.pairAct = r.u32s(m), r.u32s(p)
	g.pairVal = append([]uint8(nil), r.b[r.off:r.off+int(p)]...)
	r.off += int(p)
	g.post = r.u32s(n * k)
	g.theta = r.i64s(p * k)
	g.logPrior, g.priorAcc, g.acc = r.i64s(k), r.i64s(k), r.i64s(k)
	g.label = append([]uint8(nil), r.b[r.off:r.off+int(n)]...)
	r.off += int(n)
	g.conf = make([]uint16, n)
	for i := range g.conf {
		g.conf[i] = r.u16()
	}
	if err := g.checkLayout(); err != nil {
		return nil, err
	}
	g.derive()
	if err := g.checkState(); err != nil {
		return nil, err
	}
	return g, nil
}

// checkLayout validates the label layout that buildIndex produces.
func (g *Aggregation) checkLayout() error {
	l, p, m := uint32(len(g.itemPair)), uint32(len(g.pairAct)), uint32(len(g.active))
	if g.itemStart[0] != 0 || g.itemStart[g.n] != l {
		return bad("item starts %d..%d for %d labels", g.itemStart[0], g.itemStart[g.n], l)
	}
	for i := uint32(0); i < g.n; i++ {
		if g.itemStart[i] > g.itemStart[i+1] {
			return bad("item starts decrease at item %d", i)
		}
	}
	dropped := g.Dropped()
	for i, an := range g.active {
		if an >= g.a || (i > 0 && an <= g.active[i-1]) || (dropped[an] && !g.params.KeepDroppedLabels) {
			return bad("annotator %d at %d: not ascending, out of range or dropped", an, i)
		}
	}
	for q := uint32(0); q < p; q++ {
		act, val := g.pairAct[q], g.pairVal[q]
		switch {
		case uint32(val) >= g.k || act >= m:
			return bad("pair %d {annotator %d, value %d} out of range", q, act, val)
		case q == 0 && act != 0:
			return bad("pair 0 has annotator %d", act)
		case q > 0 && !(act == g.pairAct[q-1] && val > g.pairVal[q-1]) && act != g.pairAct[q-1]+1:
			return bad("pair %d {annotator %d, value %d} out of order", q, act, val)
		}
	}
	if p > 0 && g.pairAct[p-1] != m-1 {
		return bad("annotators without pairs")
	}
	uses := make([]uint32, p)
	stamp := make([]uint32, m)
	for i := uint32(0); i < g.n; i++ {
		prev := int64(-1)
		for _, q := range g.itemPair[g.itemStart[i]:g.itemStart[i+1]] {
			if q >= p {
				return bad("label of item %d has pair %d of %d", i, q, p)
			}
			act := g.pairAct[q]
			if int64(act) <= prev || stamp[act] == i+1 {
				return bad("labels of item %d not in ascending annotator order", i)
			}
			prev, stamp[act] = int64(act), i+1
			uses[q]++
		}
	}
	for q, u := range uses {
		if u == 0 {
			return bad("pair %d has no labels", q)
		}
	}
	return nil
}

// checkState validates the cursor and the value ranges against the layout.
func (g *Aggregation) checkState() error {
	m := uint32(len(g.active))
	for i, v := range g.post {
		if v > uint32(engine.QOne) {
			return bad("posterior %d = %d above 2^30", i, v)
		}
	}
	for i := range g.label {
		if uint32(g.label[i]) >= g.k || g.conf[i] > bps {
			return bad("item %d: label %d, confidence %d", i, g.label[i], g.conf[i])
		}
	}
	t := g.params.Iterations
	ok := false
	switch g.phase {
	case phaseVote, phaseE:
		ok = g.stage == 0 && g.pc == 0 && g.cur < g.n && g.itemStart[g.cur] <= g.sub && g.sub <= g.itemStart[g.cur+1] &&
			((g.phase == phaseVote && g.iter == 0) || (g.phase == phaseE && g.iter < t))
	case phaseM:
		ok = g.iter < t && g.stage < numStages
		if ok && g.stage == stagePrior {
			ok = g.cur == 0 && g.sub == 0 && g.pc == 0
		} else if ok {
			ok = g.cur < m
			if ok {
				first, last := g.annPairStart[g.cur], g.annPairStart[g.cur+1]
				switch g.stage {
				case stageLabels:
					ok = first <= g.pc && g.pc < last && g.pairStart[g.pc] <= g.sub && g.sub < g.pairStart[g.pc+1]
				case stageRow:
					ok = g.pc == last && g.sub == g.pairStart[last]
				case stagePairs:
					ok = first <= g.pc && g.pc < last && g.sub == g.pairStart[last]
				}
			}
		}
	case phaseDone:
		ok = g.iter == t && g.stage == 0 && g.cur == 0 && g.sub == 0 && g.pc == 0
	}
	ok = ok && g.setup <= g.used && g.used <= g.TotalUnits()
	if !ok {
		return bad("cursor phase %d stage %d iteration %d item/annotator %d label %d pair %d (units %d of %d) is not reachable",
			g.phase, g.stage, g.iter, g.cur, g.sub, g.pc, g.used, g.TotalUnits())
	}
	return nil
}
