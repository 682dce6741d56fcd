#!/usr/bin/env bash
# Regenerates src/gen (or the directory given as $1) from ../../proto with the
# ts-proto in node_modules, offline: include paths come from the Go module
# cache, as in scripts/protocgen.sh. Only Hinterland's protos and what they
# import are generated.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-src/gen}
root=../..

plugin=node_modules/.bin/protoc-gen-ts_proto
command -v protoc >/dev/null || { echo "gen: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
[ -x "$plugin" ] || { echo "gen: $plugin not found; run 'npm ci' first" >&2; exit 1; }

moddir() { (cd "$root" && go list -m -f '{{.Dir}}' "$1"); }
# A fresh machine's module cache may lack them (only go build fetched it).
(cd "$root" && go mod download github.com/cosmos/cosmos-sdk github.com/cosmos/gogoproto github.com/cosmos/cosmos-proto)
SDK=$(moddir github.com/cosmos/cosmos-sdk)
GOGO=$(moddir github.com/cosmos/gogoproto)
CPROTO=$(moddir github.com/cosmos/cosmos-proto)
GW=$(GOFLAGS=-mod=mod moddir github.com/grpc-ecosystem/grpc-gateway)

# forceLong=bigint: 64-bit integers as bigint, as cosmjs-types 0.11 does.
# snakeToCamel=keys: camelCase properties; toJSON/fromJSON keep the proto field
#   names, as the chain's REST gateway does.
# useDate=false: Timestamps stay {seconds, nanos}, nanoseconds included.
# annotateFilesWithVersion=false: the output does not depend on the protoc
#   installed (ts-proto itself is pinned by package-lock.json).
opts=esModuleInterop=true,forceLong=bigint,useExactTypes=false,snakeToCamel=keys,useDate=false,annotateFilesWithVersion=false

set=$(mktemp)
trap 'rm -f "$set"' EXIT
rm -rf "$out"
mkdir -p "$out"
protoc -I "$root/proto" -I "$SDK/proto" -I "$GOGO" -I "$CPROTO/proto" -I "$GW/third_party/googleapis" \
  --plugin=protoc-gen-ts_proto="$plugin" --ts_proto_out="$out" --ts_proto_opt="$opts" \
  --include_imports --descriptor_set_out="$set" \
  $(cd "$root/proto" && find hinterland -name '*.proto' | sort)
# The amino JSON layout of every Msg, read from the descriptors' options.
node scripts/amino-meta.mjs "$set" "$out/amino-meta.ts"
