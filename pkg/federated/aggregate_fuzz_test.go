package federated_test

import (
	"encoding/binary"
	"math"
	"math/big"
	"testing"

	"github.com/hinterland-ai/hinterland/pkg/federated"
)

// fuzzWeight turns 8 bytes and a mode into a weight: small, around 2^32,
// near the largest a round of k updates may have, or raw (zero included).
func fuzzWeight(b []byte, mode byte, k int) uint64 {
	var raw [8]byte
	copy(raw[:], b)
	w := binary.LittleEndian.Uint64(raw[:])
	switch mode % 4 {
	case 0:
		return 1 + w%1000
	case 1:
		return w % (1 << 33)
	case 2:
		return federated.MaxTotalWeight/uint64(max(k, 1)) + 1 - w%3
	}
	return w
}

// fuzzValue is value j of update i: from the bytes (cycled), or pushed to
// the int32 limits by the update's mode.
func fuzzValue(b []byte, mode byte, i, j, n int) int32 {
	var v int32
	if len(b) >= 4 {
		off := (4 * (i*n + j)) % (len(b) - len(b)%4)
		v = int32(binary.LittleEndian.Uint32(b[off:]))
	}
	switch mode / 4 % 4 {
	case 1:
		return math.MaxInt32 - v&7
	case 2:
		return math.MinInt32 + v&7
	case 3:
		if (i+j)%2 == 0 {
			return math.MaxInt32
		}
		return math.MinInt32
	}
	return v
}

// FuzzMean: FedAvg of up to 8 updates of up to 40 values, with weights and
// values at their limits, a weight more or fewer than updates, and ragged
// updates. Mean never panics; it errors exactly when a weight is zero, the
// weights sum above MaxTotalWeight, there are no updates, or the counts and
// lengths disagree; otherwise every value is round-half-up(sum w*v / sum w)
// computed with big integers (the engine's rule: nearest, ties toward
// +infinity).
func FuzzMean(f *testing.F) {
	f.Add(uint8(2), uint8(3), uint8(0), []byte{1, 0, 0, 0, 0, 0, 0, 0, 3}, []byte{0, 0}, []byte{1, 0, 0, 0, 255, 255, 255, 255})
	f.Add(uint8(3), uint8(5), uint8(0), []byte{}, []byte{1, 2, 3}, []byte{7, 1, 2, 3, 9, 9, 9, 128})
	f.Add(uint8(2), uint8(1), uint8(0), []byte{}, []byte{2, 2}, []byte{})
	f.Add(uint8(2), uint8(4), uint8(0), []byte{}, []byte{6, 10}, []byte{})
	f.Add(uint8(4), uint8(2), uint8(0), []byte{}, []byte{14, 14, 14, 14}, []byte{})
	f.Add(uint8(1), uint8(0), uint8(0), []byte{}, []byte{0}, []byte{})
	f.Add(uint8(0), uint8(3), uint8(0), []byte{}, []byte{}, []byte{})
	f.Add(uint8(2), uint8(3), uint8(1), []byte{}, []byte{0, 0}, []byte{5})
	f.Add(uint8(2), uint8(3), uint8(2), []byte{}, []byte{0, 0}, []byte{5})
	f.Add(uint8(2), uint8(3), uint8(3), []byte{}, []byte{0, 0}, []byte{5})
	f.Add(uint8(2), uint8(3), uint8(4), []byte{}, []byte{0, 0}, []byte{5})
	f.Add(uint8(3), uint8(2), uint8(0), make([]byte, 24), []byte{3, 3, 3}, []byte{})
	f.Fuzz(func(t *testing.T, updates, length, ragged uint8, ws, modes, vals []byte) {
		k, n := int(updates%9), int(length%41)
		mode := func(i int) byte {
			if len(modes) == 0 {
				return 0
			}
			return modes[i%len(modes)]
		}
		nw := k
		switch ragged % 5 {
		case 1:
			nw = k + 1
		case 2:
			nw = max(k-1, 0)
		}
		weights := make([]uint64, nw)
		for i := range weights {
			weights[i] = fuzzWeight(ws[min(8*i, len(ws)):], mode(i), k)
		}
		values := make([][]int32, k)
		for i := range values {
			l := n
			if (ragged%5 == 3 && i == k-1) || (ragged%5 == 4 && i == 0 && k > 1) {
				l = n + 1
			}
			values[i] = make([]int32, l)
			for j := range values[i] {
				values[i][j] = fuzzValue(vals, mode(i), i, j, n)
			}
		}

		bad := len(weights) == 0 || len(weights) != len(values)
		total := new(big.Int)
		for i, w := range weights {
			bad = bad || w == 0 || (i < len(values) && len(values[i]) != len(values[0]))
			total.Add(total, new(big.Int).SetUint64(w))
		}
		bad = bad || total.Cmp(new(big.Int).SetUint64(federated.MaxTotalWeight)) > 0
		got, err := federated.Mean(weights, values)
		if bad != (err != nil) {
			t.Fatalf("Mean(%v, %d updates of lengths %v): error %v, want an error: %v", weights, len(values), lengths(values), err, bad)
		}
		if err != nil {
			return
		}
		if len(got) != len(values[0]) {
			t.Fatalf("%d values out of %d in", len(got), len(values[0]))
		}
		half := new(big.Int).Rsh(total, 1)
		for j := range got {
			s := new(big.Int)
			for i, v := range values {
				s.Add(s, new(big.Int).Mul(new(big.Int).SetUint64(weights[i]), big.NewInt(int64(v[j]))))
			}
			// Div is Euclidean: floor division for a positive divisor.
			want := new(big.Int).Div(s.Add(s, half), total)
			if !want.IsInt64() || want.Int64() != int64(got[j]) {
				t.Fatalf("value %d: Mean gives %d, round-half-up(%s / %s) is %s", j, got[j], s.Sub(s, half), total, want)
			}
		}
	})
}

func lengths(values [][]int32) []int {
	out := make([]int, len(values))
	for i, v := range values {
		out[i] = len(v)
	}
	return out
}
