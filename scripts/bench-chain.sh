#!/usr/bin/env bash
# Chain load benchmark: a mixed load of bank sends and task messages (post,
# claim, commit, reveal of real fixtures-built training jobs) from many
# accounts against one node and against four validators of the real
# hinterlandd on 127.0.0.1 (tests/load). Prints, per network: tx/s, p50/p95
# inclusion latency per kind of transaction, block time, the bank : task mix
# included, and the reveal handler's p50/p99 measured in the same run.
#   LOAD_DURATION=60s   load per network
#   LOAD_BANK_RATE=40   bank sends per second offered
#   LOAD_SENDERS=8      accounts sending them
#   LOAD_WORKERS=6      training workers (claim, train, commit, reveal)
#   LOAD_POSTERS=2      accounts keeping tasks open
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HINTERLANDD:-$PWD/build/hinterlandd}
[ -x "$BIN" ] || { echo "bench-chain: $BIN not found; run 'make build'" >&2; exit 1; }
HINTERLANDD="$BIN" go test -count=1 -run '^$' -bench '^BenchmarkChain$' -benchtime 1x -timeout 60m -v ./tests/load
