#!/usr/bin/env bash
# Fails if regenerating the protobuf code (and the OpenAPI document) would
# change the tree: generated files are committed and must be fresh.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(git status --porcelain -- x docs/openapi)
./scripts/protocgen.sh >/dev/null
after=$(git status --porcelain -- x docs/openapi)
if [ "$before" != "$after" ] || ! git diff --quiet -- 'x/**/*.pb.go' 'x/**/*.pb.gw.go' docs/openapi; then
	echo "proto-check: generated code is stale; run 'make proto-gen' and commit the result:" >&2
	git status --short -- x docs/openapi >&2
	exit 1
fi
echo "proto-check: generated code is fresh"
