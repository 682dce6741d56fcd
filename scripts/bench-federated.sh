#!/usr/bin/env bash
# Federated MNIST accuracy experiment (slow: about 12 minutes on two cores):
# non-IID MNIST (10 participants, 2 label-sorted pieces each, McMahan et al.
# 2017), FedAvg of the MLP preset in fixed point (what the chain verifies)
# and in float64 (gonum reference), and centralised training with the same
# total steps; test accuracy per round, the largest fixed-point vs float64
# gap and the rounds to 97%. docs/FEDERATED.md records a run.
# Environment: HINTERLAND_FEDAVG_ROUNDS (default 200), HINTERLAND_FEDAVG_STEPS
# (local steps per round, default 188 = one local epoch at batch 32),
# HINTERLAND_MNIST_DIR (else scripts/mnist-dir.sh fetches MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || { echo "bench-federated: the go command is required" >&2; exit 2; }
HINTERLAND_MNIST_DIR=$(./scripts/mnist-dir.sh) || { echo "bench-federated: MNIST data could not be fetched" >&2; exit 1; }
export HINTERLAND_MNIST_DIR
HINTERLAND_FEDAVG=1 go test -count=1 -run 'TestFedAvgNonIIDMNIST' -v -timeout 120m ./testutil/reference |
	grep -E 'fedavg_test|^(ok|FAIL|---)'
