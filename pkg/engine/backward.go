package engine

// linearGrad is the backward pass of one linear layer, shared by the MLP and
// the transformer: y = x W^T + b, and for LoRA y += scale * (x A^T) B^T with
// W and b frozen.
type linearGrad struct {
	what    string // prefixes the names of its products in bound errors ("" for none)
	W       []int32
	out, in int
	ad      *Adapter // the layer's LoRA adapters; nil for dense training
	rank    int
	scale   int64   // LoRA alpha / r, F fractional bits
	g0, g1  []int32 // dense: the W and b gradients; LoRA: the A and B gradients
}

// backScratch holds the buffers of linear backward passes.
type backScratch struct{ ta, tb, du, dh, dx2 []int32 }

// back computes the layer's gradients from the output gradient dy (R x out)
// and the layer's input x (R x in) (h = x A^T, R x rank, for LoRA), each
// divided by N with the package rule, and, when dx != nil (R x in), the input
// gradient dx = dy W (+ scale (dy B) A for LoRA).
func (l linearGrad) back(bs *backScratch, mt *Meter, sc *gemmScratch, f uint, x, h, dy []int32, R int, N int64, dx []int32) error {
	name := func(s string) string {
		if l.what == "" {
			return s
		}
		return l.what + " " + s
	}
	out, in := l.out, l.in
	sh := epilogue{shift: f, f: f}
	div := divEpilogue(f, N)
	var extra []int32
	if l.ad == nil {
		// grad W = dy^T x / N, grad b = column sums of dy / N.
		bs.ta = grow(bs.ta, out*R)
		bs.tb = grow(bs.tb, in*R)
		transpose(bs.ta, dy, R, out)
		transpose(bs.tb, x, R, in)
		if err := gemm(name("weight gradient"), l.g0, bs.ta, bs.tb, out, in, R, div, mt, sc); err != nil {
			return err
		}
		for j := 0; j < out; j++ {
			var s int64
			for _, v := range bs.ta[j*R : (j+1)*R] {
				s += int64(v)
			}
			l.g1[j] = mt.sat(roundDiv(s, N))
		}
	} else {
		rk := l.rank
		// dU = scale * dy
		bs.du = grow(bs.du, R*out)
		du := bs.du
		for i, v := range dy[:R*out] {
			du[i] = mt.sat(roundShift(l.scale*int64(v), f))
		}
		// grad B = dU^T H / N  (out x rank)
		bs.ta = grow(bs.ta, out*R)
		bs.tb = grow(bs.tb, rk*R)
		transpose(bs.ta, du, R, out)
		transpose(bs.tb, h, R, rk)
		if err := gemm(name("lora B gradient"), l.g1, bs.ta, bs.tb, out, rk, R, div, mt, sc); err != nil {
			return err
		}
		// dH = dU B  (R x rank)
		bs.tb = grow(bs.tb, rk*out)
		transpose(bs.tb, l.ad.B, out, rk)
		bs.dh = grow(bs.dh, R*rk)
		dh := bs.dh
		if err := gemm(name("lora hidden gradient"), dh, du, bs.tb, R, rk, out, sh, mt, sc); err != nil {
			return err
		}
		// grad A = dH^T X / N  (rank x in)
		bs.ta = grow(bs.ta, rk*R)
		bs.tb = grow(bs.tb, in*R)
		transpose(bs.ta, dh, R, rk)
		transpose(bs.tb, x, R, in)
		if err := gemm(name("lora A gradient"), l.g0, bs.ta, bs.tb, rk, in, R, div, mt, sc); err != nil {
			return err
		}
		if dx != nil {
			// the second input-gradient term dH A  (R x in)
			bs.tb = grow(bs.tb, in*rk)
			transpose(bs.tb, l.ad.A, rk, in)
			bs.dx2 = grow(bs.dx2, R*in)
			extra = bs.dx2
			if err := gemm(name("lora input gradient"), extra, dh, bs.tb, R, in, rk, sh, mt, sc); err != nil {
				return err
			}
		}
	}
	if dx == nil {
		return nil
	}
	// dX = dy W (+ dH A)
	bs.ta = grow(bs.ta, in*out)
	transpose(bs.ta, l.W, out, in)
	if err := gemm(name("input gradient"), dx, dy, bs.ta, R, in, out, sh, mt, sc); err != nil {
		return err
	}
	for i, v := range extra {
		dx[i] = mt.sat(int64(dx[i]) + int64(v))
	}
	return nil
}
