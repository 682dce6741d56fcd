#!/usr/bin/env bash
# Regenerates the Go code (gogoproto + grpc-gateway) and the OpenAPI document of
# the custom modules from proto/, offline: include paths come from the Go module
# cache, plugins from `go install` (see `make proto-tools`). No buf.build access.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in protoc protoc-gen-gocosmos protoc-gen-grpc-gateway protoc-gen-swagger; do
  command -v "$tool" >/dev/null || { echo "protocgen: $tool not found; run 'make proto-tools' (and apt-get install protobuf-compiler)" >&2; exit 1; }
done

moddir() { go list -m -f '{{.Dir}}' "$1"; }
go mod download github.com/cosmos/cosmos-sdk github.com/cosmos/gogoproto github.com/cosmos/cosmos-proto github.com/grpc-ecosystem/grpc-gateway
SDK=$(moddir github.com/cosmos/cosmos-sdk)
GOGO=$(moddir github.com/cosmos/gogoproto)
CPROTO=$(moddir github.com/cosmos/cosmos-proto)
GW=$(GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/grpc-ecosystem/grpc-gateway)

includes=(-I proto -I "$SDK/proto" -I "$GOGO" -I "$CPROTO/proto" -I "$GW/third_party/googleapis")

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for dir in $(find proto/hinterland -name '*.proto' -exec dirname {} \; | sort -u); do
  files=$(find "$dir" -maxdepth 1 -name '*.proto' | sort)
  protoc "${includes[@]}" \
    --gocosmos_out="plugins=grpc,Mgoogle/protobuf/any.proto=github.com/cosmos/gogoproto/types/any:$out" \
    --grpc-gateway_out="logtostderr=true,allow_colon_final_segments=true:$out" \
    $files
done

# Move generated files into the module tree.
cp -r "$out"/github.com/hinterland-ai/hinterland/* ./

# OpenAPI (Swagger 2) for the custom modules' REST routes, merged into one file
# that the node serves beside the SDK's own swagger.
swag=$(mktemp -d)
for dir in $(find proto/hinterland -name 'query.proto' -exec dirname {} \; | sort -u); do
  protoc "${includes[@]}" --swagger_out="logtostderr=true,fqn_for_swagger_name=true,simple_operation_ids=true:$swag" "$dir/query.proto"
done
go run ./scripts/swaggermerge "$swag" > docs/openapi/hinterland.swagger.json
rm -rf "$swag"
gofmt -w x/*/types/*.pb.go x/*/types/*.pb.gw.go 2>/dev/null || true
echo "protocgen: done"
