// Package federated holds the pure, consensus-critical rules of federated
// rounds (x/federated), shared by the keeper, the worker and the benchmarks:
//
//   - FedAvg, weighted by examples, over fixed-size parameter chunks with the
//     engine's one rounding rule (aggregate.go): the chain recomputes a drawn
//     chunk of the next global model from the same chunk of every accepted
//     update, each proven against that update's model hash;
//   - a round's start state (the global model with a fresh optimiser state at
//     step 0) and the seed of each participant's local training (round.go);
//   - the rows of a public shard (an index range of a packed dataset)
//     (round.go), and the non-IID split of a dataset into participants'
//     shards (split.go).
//
// Integers only: the determinism lint covers this package and
// scripts/test-cross-arch.sh runs its golden test on every architecture.
package federated
