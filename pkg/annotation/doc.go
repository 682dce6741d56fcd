// Package annotation aggregates crowdsourced labels inside consensus: gold
// accuracy per annotator, a gold-weighted majority vote, and Dawid–Skene EM in
// fixed point, run in bounded chunks whose results do not depend on where the
// chunks end. It is integer only (no float, math, map ranges, time or
// goroutines; scripts/lint-determinism.sh checks it) and uses the engine's
// Q30 exp/log and its one rounding rule (pkg/engine/approx_export.go), so
// every architecture computes the same bits (TestGolden, run under qemu by
// scripts/test-cross-arch.sh).
//
// # Inputs
//
// N items 0..N-1, K classes 0..K-1 (a pairwise preference is K = 2: 0 = the
// first candidate, 1 = the second), A annotators 0..A-1 (dense indices that
// the caller assigns), labels {Item, Annotator, Value} with at most one label
// per (item, annotator), and gold items {Item, Value} whose value is known.
// The results do not depend on the order of the labels or of the gold items.
//
// # The algorithm
//
//  1. Gold accuracy (GoldAccuracy): per annotator, the gold items it labelled
//     (Seen) and how many it got right (Correct). An annotator that has seen at
//     least Params.MinGoldSeen gold items and whose accuracy is below
//     Params.MinGoldAccuracyBps is dropped (Dropped): it has no vote, and its
//     labels are left out of EM too unless Params.KeepDroppedLabels. The
//     others vote with weight round(10000*(Correct+1)/(Seen+2)) (VoteWeights:
//     Laplace-smoothed gold accuracy in basis points; 5000 without gold).
//
//  2. Weighted majority vote (MajorityVote): each item's posterior starts as
//     its weighted vote shares, round(votes_j * 2^30 / sum votes); an item
//     without votes starts uniform, round(2^30 / K) each.
//
//  3. Params.Iterations rounds of Dawid–Skene EM, each an M-step then an
//     E-step, with the pseudo-count alpha = Params.SmoothingBps / 10000 per
//     confusion cell and per class of the prior:
//
//     M: n_a[j][v] = sum of posterior_i[j] over a's labels v,
//     log theta_a[j][v] = ln(n_a[j][v] + alpha) - ln(sum_v' n_a[j][v'] + K*alpha),
//     log prior_j = ln(sum_i posterior_i[j] + alpha) - ln(sum_i,j posterior_i[j] + K*alpha);
//     E: s_i[j] = log prior_j + sum of log theta_a[j][v] over i's labels (a, v),
//     posterior_i[j] = round(e_j * 2^30 / sum_j' e_j'), e_j = exp(s_i[j] - max_j' s_i[j']).
//
//     alpha > 0, so no logarithm ever sees 0.
//
//  4. Gold items are clamped: their posterior is one-hot at the gold value in
//     every pass (they teach the M-step the annotators' confusions).
//
//  5. Output per item: the label argmax_j s_i[j] (after the vote pass, the
//     argmax of the votes; ties go to the lowest class) and its confidence,
//     the label's posterior in basis points, round(posterior * 10000 / 2^30).
//
// # Number formats, rounding and error
//
// Probabilities and counts are Q30 integers (value * 2^30): posteriors in
// uint32 (0..2^30), counts and sums of posteriors in int64 (at most
// MaxLabels * 2^30 = 2^52). Logarithms are Q30 int64 (engine.LogQ, error
// at most 8 units of 2^-30 below 2^32 and half a unit more per doubling
// above); exponentials are engine.ExpQ (at most 3 units). Every division
// rounds with engine.RoundDiv (to nearest, ties toward +infinity). An item's
// log score sums at most MaxAnnotators = 2^16 terms of magnitude below 2^36,
// so no int64 overflows; a vote sums at most 2^16 weights of at most 10000,
// below 2^30, so votes_j * 2^30 fits too.
//
// Error of one EM round against exact arithmetic on the same inputs: each
// log theta and log prior is a difference of two logs of exact sums, within
// 2*(8 + 11) = 38 units of 2^-30 (counts stay below 2^52, 21 doublings above
// 2^31), so s_i[j] is within (r+1)*38 units for an item with r labels, the
// differences s_i[j] - s_i[j'] within twice that, and each posterior within
// that relative error plus the ExpQ and division roundings (about 4 units):
// below 5e-7 relative for r = 5.
// Errors compound over rounds only through the posteriors, which EM
// contracts; measured after 20 rounds against testutil/reference's float64
// Dawid–Skene, posteriors differ by at most about 1e-8 and the labels agree
// on 100% of 400,000 items (docs/ANNOTATION.md). Only items whose two best
// classes are within that error of a tie can differ from float64, and the
// fixed-point answer is the same on every machine.
//
// # Chunks and cost units
//
// An Aggregation is a state machine. NewAggregation validates and indexes the
// input and charges SetupUnits; Step(budget) then does at most budget units of
// work and can stop anywhere, inside an iteration or inside an item; Encode
// and DecodeAggregation carry the state between blocks. Every value is an
// exact integer function of the inputs, so chunks of any sizes give the same
// bits as one run. The units:
//
//	UnitsPerLabel  = 1   one label in one pass (vote, M or E: O(K) additions)
//	UnitsPerItem   = 16  finishing one item in the vote or an E-step (K exps, K divisions)
//	UnitsPerLogRow = 32  K logarithms: the prior (once per M-step), one annotator's
//	                     row sums, or one (annotator, value) column of log theta
//	SetupUnits(N, K, L) = 4N + L*(2 + ceil(64/K))
//
// so, with L labels (L' of them used by EM), P (annotator, value) pairs and M
// annotators among those labels,
//
//	total = SetupUnits(N, K, L) + L' + 16N + Iterations*(2L' + 16N + 32(1 + M + P))
//
// Cost gives an upper bound before the labels exist (L' <= L,
// P <= min(L, A*K), M <= min(L, A)); Aggregation.TotalUnits gives the exact
// figure once the labels are known. BenchmarkUnits calibrates the weights so
// that every shape of job (label-heavy, item-heavy, one label per annotator)
// takes about the same time per unit at a given K; a unit's time grows
// linearly with K (about 0.75*K ns on the reference machine), so gas per unit
// should scale with K. A Step budget below MinBudget (32) may make no
// progress.
//
// # Limits
//
// 1 <= N <= MaxItems, 2 <= K <= MaxClasses, 1 <= A <= MaxAnnotators, at most
// MaxLabels labels, (N + labels) * K <= MaxCells, Iterations <=
// MaxIterations, 1 <= SmoothingBps <= MaxSmoothingBps. Every allocation is
// bounded by these inputs: the state holds 4NK bytes of posteriors, 8PK of
// confusion columns (P*K <= L*K <= MaxCells), 8L + 9P + 4N of layout, 5N of
// per-item results and gold, 8A of gold scores and O(K) more, so at most
// about 150 MiB at the limits (plus transient setup arrays of about 24L
// bytes); the encoding is the same size less the pair-major half of the
// layout (4L + 4P), which decoding rebuilds.
package annotation
