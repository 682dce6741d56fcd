// Package fuzz holds native Go fuzz targets for every message handler of
// Hinterland's modules (fuzzed fields against real keepers: tasks, claims,
// transcripts, pending challenges and passed transcripts in the state) and
// for the decoders and validators the chain runs on user bytes that the
// engine's and dataset's own targets do not cover: every Msg's protobuf
// decoding, module genesis files, the challenge draw and the
// detection-probability derivation. (tests/badinput fuzzes CheckTx of the
// whole app; this package stays off the app so that fuzzing runs fast.)
//
// Each target's seed corpus runs with `go test ./tests/fuzz/`; scripts/fuzz.sh
// fuzzes every target in the repository (make test-fuzz).
package fuzz
