#!/usr/bin/env bash
# Installs what `make test`, `make proto-gen` and `make demo` need on a fresh
# Debian/Ubuntu machine: protoc, qemu-user and chromium (the browser test's
# headless browser) (apt, when run as root or with sudo) and the protoc
# plugins (go install, pinned). Idempotent and quiet when
# everything is present. `ensure-tools.sh demo` installs only what the demos
# need (jq and curl).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}

need_apt=()
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
[ "$mode" = demo ] || command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
if [ "$mode" != demo ]; then
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ "$mode" != demo ] && [ "${SKIP_QEMU:-}" = "" ]; then
	command -v qemu-aarch64 >/dev/null 2>&1 || command -v qemu-aarch64-static >/dev/null 2>&1 || need_apt+=(qemu-user)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	if [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; then
		echo "ensure-tools: please install: ${need_apt[*]} (apt-get install -y ${need_apt[*]})" >&2
		exit 1
	fi
	echo "ensure-tools: installing ${need_apt[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1 ||
		{ $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null; }
fi

[ "$mode" = demo ] && exit 0

gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"
install() { # binary, package@version
	command -v "$1" >/dev/null 2>&1 || { echo "ensure-tools: go install $2"; go install "$2"; }
}
install protoc-gen-gocosmos github.com/cosmos/gogoproto/protoc-gen-gocosmos@v1.7.2
install protoc-gen-grpc-gateway github.com/grpc-ecosystem/grpc-gateway/protoc-gen-grpc-gateway@v1.16.0
install protoc-gen-swagger github.com/grpc-ecosystem/grpc-gateway/protoc-gen-swagger@v1.16.0
