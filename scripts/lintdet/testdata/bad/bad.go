package bad

import (
	"math"
	"math/bits"
	"time"
)

type scale float32

func f(m map[string]int, s []int) (int, scale) {
	n := 0
	for k := range m {
		n += len(k)
	}
	for _, v := range s {
		n += v
	}
	x := 1.5
	_ = x
	_ = time.Now()
	return n + bits.Len(uint(n)) + int(math.Sqrt(4)), 0
}
