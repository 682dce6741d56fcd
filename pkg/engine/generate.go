package engine

import (
	"crypto/sha256"
	"errors"
	"fmt"
)

// MaxGenerateTokens bounds one Generate call.
const MaxGenerateTokens = 1 << 16

// GenerateOptions selects the sampling of Generate.
type GenerateOptions struct {
	MaxTokens int      // tokens to generate, 1..MaxGenerateTokens
	TopK      int      // sample among the K most likely bytes; 1 = greedy; 0 or >= 256 = all
	Seed      [32]byte // the sampling stream (unused when greedy)
	Stop      int      // stop after emitting this byte (0..255), or -1 for none
}

// Generate continues prompt with a transformer model, deterministically: the
// same model, prompt and options give the same bytes on every machine, so a
// published sample can be reproduced by anyone. Each step runs the model on
// the last T tokens (T the context length), takes the softmax of the last
// position's logits (integer, F bits), keeps the TopK most likely bytes (ties
// to the lower byte), and draws one with probability proportional to its
// integer probability from the SplitMix64 stream of SHA-256("hinterland/generate/v1"
// || seed) (uniformBelow, as the engine's other draws).
func Generate(m *Model, prompt []byte, o GenerateOptions) ([]byte, error) {
	n, err := lmNet(m)
	if err != nil {
		return nil, err
	}
	if len(prompt) == 0 {
		return nil, errors.New("generate: empty prompt")
	}
	if o.MaxTokens < 1 || o.MaxTokens > MaxGenerateTokens {
		return nil, fmt.Errorf("generate: max tokens %d out of range [1, %d]", o.MaxTokens, MaxGenerateTokens)
	}
	if o.Stop < -1 || o.Stop > 255 {
		return nil, fmt.Errorf("generate: stop byte %d out of range [-1, 255]", o.Stop)
	}
	k := o.TopK
	if k <= 0 || k > Vocab {
		k = Vocab
	}
	T := n.T
	h := sha256.Sum256(append([]byte("hinterland/generate/v1"), o.Seed[:]...))
	rng := newInitRNG(h)
	seq := append([]byte(nil), prompt...)
	var out []byte
	probs := make([]int32, Vocab)
	order := make([]int, Vocab)
	for len(out) < o.MaxTokens {
		ctx := seq
		if len(ctx) > T {
			ctx = ctx[len(ctx)-T:]
		}
		last := len(ctx) - 1
		if err := n.window(ctx); err != nil {
			return out, err
		}
		softmaxRow(n.c.logits[last*Vocab:(last+1)*Vocab], n.f, probs)
		next := sampleTopK(probs, order, k, rng)
		out = append(out, next)
		seq = append(seq, next)
		if int(next) == o.Stop {
			break
		}
	}
	return out, nil
}

// lmNet checks that m is a valid transformer and returns a network running
// its parameters.
func lmNet(m *Model) (*tnet, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if m.Arch.Kind != ModelTransformer {
		return nil, errNotLM
	}
	spec := Spec{Model: ModelTransformer, Inputs: m.Arch.Inputs, Hidden: m.Arch.Hidden, Outputs: Vocab,
		Objective: ObjectiveNextToken, FracBits: m.Arch.FracBits}
	return newTNet(spec, m.Layers, nil), nil
}

// window runs the network on one context of 1..T bytes. The network runs
// on full windows: a short context is padded with zeros after its end
// (causal attention: later positions never affect earlier ones), so the
// logits of positions 0..len(ctx)-1 are those of ctx alone.
func (n *tnet) window(ctx []byte) error {
	n.seqs, n.rows = 1, n.T
	n.tok = grow8(n.tok, n.T+1)
	copy(n.tok, ctx)
	for i := len(ctx); i <= n.T; i++ {
		n.tok[i] = 0
	}
	return n.forward()
}

func grow8(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// sampleTopK keeps the k most likely bytes (stable: ties to the lower byte)
// and draws one in proportion to its probability; k == 1 is greedy.
func sampleTopK(probs []int32, order []int, k int, rng *splitMix64) byte {
	for i := range order {
		order[i] = i
	}
	// Partial selection sort: k is small in practice, at most 256.
	for i := 0; i < k; i++ {
		best := i
		for j := i + 1; j < len(order); j++ {
			if probs[order[j]] > probs[order[best]] || probs[order[j]] == probs[order[best]] && order[j] < order[best] {
				best = j
			}
		}
		order[i], order[best] = order[best], order[i]
	}
	if k == 1 {
		return byte(order[0])
	}
	var total uint64
	for _, t := range order[:k] {
		total += uint64(probs[t])
	}
	if total == 0 {
		return byte(order[0])
	}
	u := rng.uniformBelow(total)
	for _, t := range order[:k] {
		if u < uint64(probs[t]) {
			return byte(t)
		}
		u -= uint64(probs[t])
	}
	return byte(order[k-1])
}

// NextByteProbs returns the model's distribution of the byte after context
// (its last T bytes), F fractional bits: what the alignment metrics (KL to
// the base) compare.
func NextByteProbs(m *Model, context []byte) ([]int32, error) {
	n, err := lmNet(m)
	if err != nil {
		return nil, err
	}
	if len(context) == 0 {
		return nil, errors.New("next byte: empty context")
	}
	if len(context) > n.T {
		context = context[len(context)-n.T:]
	}
	if err := n.window(context); err != nil {
		return nil, err
	}
	p := make([]int32, Vocab)
	last := len(context) - 1
	softmaxRow(n.c.logits[last*Vocab:(last+1)*Vocab], n.f, p)
	return p, nil
}

// NextByteLogProbs runs one forward pass over context (1..T bytes) and
// returns the model's log-distribution of the next byte at every position:
// entry t*Vocab+v is ln p(v | context[:t+1]) in Q30 (QBits fractional bits),
// computed as the training loss computes it, (z_v - max z) 2^(30-F) - ln sum
// exp(z - max z) with the engine's expQ/logQ (error a few units of 2^-30).
// Summing entry t*Vocab+s[t+1] over the response positions of a token row s
// gives the sequence log-probability the DPO loss uses; the rows give the
// per-position KL divergence between two models.
func NextByteLogProbs(m *Model, context []byte) ([]int64, error) {
	n, err := lmNet(m)
	if err != nil {
		return nil, err
	}
	if len(context) == 0 || len(context) > n.T {
		return nil, fmt.Errorf("next byte log-probs: context of %d bytes out of range [1, %d]", len(context), n.T)
	}
	if err := n.window(context); err != nil {
		return nil, err
	}
	lp := make([]int64, len(context)*Vocab)
	p := make([]int32, Vocab)
	for t := range context {
		z := n.c.logits[t*Vocab : (t+1)*Vocab]
		logSum, zmax := softmaxRow(z, n.f, p)
		row := lp[t*Vocab : (t+1)*Vocab]
		for v, zv := range z {
			row[v] = toQ(int64(zv)-int64(zmax), n.f) - logSum
		}
	}
	return lp, nil
}
