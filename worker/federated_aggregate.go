package worker

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/hinterland-ai/hinterland/pkg/engine"
	"github.com/hinterland-ai/hinterland/pkg/federated"
	fedtypes "github.com/hinterland-ai/hinterland/x/federated/types"
)

// Off-chain side of a round's aggregation. The aggregate of a round is
// federated.Mean of the accepted updates' final parameters, weighted by
// their examples, in the order the chain checks a chunk reveal: the round's
// accepted updates sorted by participant address bytes. Its model hash is
// the Merkle root the chain commits to (engine chunks.go), and a chunk
// reveal carries that chunk of the aggregate and of every accepted update,
// each with its proof.

// AcceptedUpdates returns the round's accepted updates in the chain's
// aggregation order (participant address bytes, ascending).
func AcceptedUpdates(us []fedtypes.Update) ([]fedtypes.Update, error) {
	type keyed struct {
		addr []byte
		u    fedtypes.Update
	}
	var acc []keyed
	for _, u := range us {
		if u.Status != fedtypes.UPDATE_STATUS_ACCEPTED {
			continue
		}
		a, err := sdk.AccAddressFromBech32(u.Participant)
		if err != nil {
			return nil, fmt.Errorf("participant %q: %w", u.Participant, err)
		}
		acc = append(acc, keyed{a, u})
	}
	slices.SortFunc(acc, func(x, y keyed) int { return bytes.Compare(x.addr, y.addr) })
	out := make([]fedtypes.Update, len(acc))
	for i, k := range acc {
		out[i] = k.u
	}
	return out, nil
}

// UpdateWeights are the FedAvg weights of updates: their example counts.
func UpdateWeights(us []fedtypes.Update) []uint64 {
	w := make([]uint64, len(us))
	for i, u := range us {
		w[i] = u.Examples
	}
	return w
}

// AggregateStates is the next global model of a round as a state at step 0
// with a fresh optimiser (what the next round starts from): FedAvg of the
// updates' trained parameters. base is the frozen base model's hash of a
// LoRA job (zero for dense).
func AggregateStates(spec engine.Spec, base engine.Hash, weights []uint64, updates []*engine.State) (*engine.State, error) {
	if len(updates) == 0 {
		return nil, errors.New("aggregate: no accepted update")
	}
	params := make([][]int32, len(updates))
	for i, u := range updates {
		params[i] = u.Params()
	}
	mean, err := federated.Mean(weights, params)
	if err != nil {
		return nil, err
	}
	return engine.StateFromParams(spec, base, mean)
}

// BuildChunkReveal builds MsgRevealChunk for chunk c of an aggregate: the
// chunk of the aggregate and of every accepted update (in AcceptedUpdates
// order, with their weights), each with its Merkle proof. It checks the
// reveal as the chain will (every proof against its model hash, and the
// weighted mean of the update chunks against the aggregate's chunk), so a
// reveal that would slash its sender is never sent.
func BuildChunkReveal(aggregator string, jobID uint64, round uint32, c uint64, agg *engine.State, weights []uint64, updates []*engine.State) (*fedtypes.MsgRevealChunk, error) {
	if len(weights) != len(updates) {
		return nil, fmt.Errorf("chunk %d: %d weights for %d updates", c, len(weights), len(updates))
	}
	n := uint64(len(agg.Params()))
	chunk := func(st *engine.State, what string) (fedtypes.ModelChunk, []int32, error) {
		ch, err := st.ModelChunk(c)
		if err != nil {
			return fedtypes.ModelChunk{}, nil, fmt.Errorf("%s: %w", what, err)
		}
		if err := engine.VerifyModelChunk(st.ModelHash(), n, ch); err != nil {
			return fedtypes.ModelChunk{}, nil, fmt.Errorf("%s: %w", what, err)
		}
		return fedtypes.ModelChunk{Values: ch.Values, Aunts: ch.Aunts}, ch.Values, nil
	}
	msg := &fedtypes.MsgRevealChunk{Aggregator: aggregator, JobId: jobID, Round: round, Chunk: c}
	var err error
	var aggValues []int32
	if msg.Aggregate, aggValues, err = chunk(agg, "aggregate"); err != nil {
		return nil, err
	}
	values := make([][]int32, len(updates))
	msg.Updates = make([]fedtypes.ModelChunk, len(updates))
	for i, u := range updates {
		if msg.Updates[i], values[i], err = chunk(u, fmt.Sprintf("update %d", i)); err != nil {
			return nil, err
		}
	}
	mean, err := federated.Mean(weights, values)
	if err != nil {
		return nil, fmt.Errorf("chunk %d: %w", c, err)
	}
	if !slices.Equal(mean, aggValues) {
		return nil, fmt.Errorf("chunk %d: the aggregate is not the weighted mean of the updates; refusing to reveal it", c)
	}
	return msg, nil
}

// DifferingChunks lists the chunks in which two models of one spec differ
// (a watcher's recomputed aggregate and the committed one).
func DifferingChunks(a, b *engine.State) ([]uint64, error) {
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) {
		return nil, fmt.Errorf("models of %d and %d parameters", len(pa), len(pb))
	}
	var out []uint64
	for c := uint64(0); c < engine.ChunkCount(uint64(len(pa))); c++ {
		lo, hi := c*engine.ChunkParams, min((c+1)*engine.ChunkParams, uint64(len(pa)))
		if !slices.Equal(pa[lo:hi], pb[lo:hi]) {
			out = append(out, c)
		}
	}
	return out, nil
}

// ModelParams reads the parameters of a model served by a participant or
// an aggregator: an engine state encoding of the spec (what the worker
// serves: a final checkpoint, or an aggregate at step 0), or, for a dense
// spec, an engine model encoding (a job's initial model). It checks the
// model's hash against want.
func ModelParams(spec engine.Spec, b []byte, want []byte) ([]int32, error) {
	var (
		h      engine.Hash
		params []int32
	)
	if st, err := engine.DecodeState(spec, b); err == nil {
		h, params = st.ModelHash(), st.Params()
	} else if m, merr := engine.DecodeModel(b); merr == nil && !spec.IsLoRA() && m.Arch.Equal(spec.Arch()) {
		h, params = m.Hash(), m.Params()
	} else {
		return nil, fmt.Errorf("neither a state nor a model of the job's spec: %w", err)
	}
	if !bytes.Equal(h[:], want) {
		return nil, fmt.Errorf("model hash %s, want %X", h, want)
	}
	return params, nil
}
