#!/usr/bin/env bash
# Determinism lint for consensus code: fails (exit 1, naming file:line) if any
# non-test Go file under pkg/engine, pkg/dataset, pkg/recompute, pkg/annotation
# or pkg/federated imports math, math/rand(/v2), math/cmplx, crypto/rand, time
# or unsafe, uses a float32/float64/complex value or type, or ranges over a
# map. The checker is a go/ast + go/types program: scripts/lintdet.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1; then
	echo "lint-determinism: the go command is required" >&2
	exit 2
fi
go run ./scripts/lintdet pkg/engine pkg/dataset pkg/recompute pkg/annotation pkg/federated
# Keepers run in consensus too: no floats, no map ranges, no randomness
# (block time and math's integer constants are allowed).
go run ./scripts/lintdet -keeper x/tasks/keeper x/verification/keeper x/rewards/keeper x/annotation/keeper x/federated/keeper
echo "lint-determinism: OK (pkg/engine, pkg/dataset, pkg/recompute, pkg/annotation, pkg/federated; the keepers of x/tasks, x/verification, x/rewards, x/annotation, x/federated)"
