// Package sim runs whole-app simulations of Hinterland with the Cosmos SDK's
// simulator and simsx message factories (every SDK module's and Hinterland's
// own: tasks are posted on synthetic datasets, trained for real by honest
// and forging workers, committed, challenged, revealed and recomputed on
// chain; annotation jobs are posted, claimed, sealed, opened, checked
// against their gold sets, aggregated and settled). It checks:
//
//   - determinism: the same seed gives the same app hash at every height;
//   - export -> import: a fresh chain initialised from an export has exactly
//     the same stores (Hinterland's stores with no exceptions but
//     x/annotation's knownAnnotationGaps, compared by meaning);
//   - simulation after a zero-height export and import;
//   - after every block: the rewards module account holds exactly the open
//     escrows and bonds (x/rewards CheckCustody), and the total supply moved
//     by exactly what x/mint minted minus what was burned (from the bank's
//     coinbase and burn events of the block, simulated transactions included).
//
// `make test-sim` runs the short configuration (-short-sim), `make
// test-sim-long` the long one (-long-sim); see docs/RELIABILITY.md.
package sim
