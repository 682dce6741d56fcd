#!/usr/bin/env bash
# Engine benchmarks and the MNIST accuracy comparison (slow: a few minutes).
#   1. matmul kernel vs gonum blas64.Gemm, one core, same run (x_gonum), and
#      2-goroutine scaling (x_scaling)          [testutil/reference]
#   2. one training step of the default specs at batch 32, on 1 and 2 cores:
#      ns/step (ns/op), MACs/step, RunSegment ns/MAC  [pkg/engine]; the step
#      against the float64 reference in the same run (x_float64) and its MAC
#      rate over the bare kernel's (kernel_share)  [testutil/reference]
#   3. MNIST accuracy after 3 epochs, fixed point vs float64 reference
#      (HINTERLAND_ACCURACY=1; HINTERLAND_ACCURACY_EPOCHS to change the budget)
# Set SKIP_ACCURACY=1 to run only the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null 2>&1 || { echo "bench-engine: the go command is required" >&2; exit 2; }

echo "== matmul: engine vs gonum (one core), scaling (two goroutines)"
go test -run '^$' -bench 'MatMulVsGonum|MatMulScaling' -benchtime 2s ./testutil/reference
echo "== training steps (batch 32), 1 and 2 cores"
go test -run '^$' -bench 'Step' -benchtime 2s -cpu 1,2 ./pkg/engine
echo "== training step vs the float64 gonum reference (one core, same run): MNIST MLP and the LM of bench-lm"
go test -run '^$' -bench 'StepVsFloat64' -benchtime 5x ./testutil/reference
if [ "${SKIP_ACCURACY:-}" = "" ]; then
	echo "== MNIST accuracy, fixed point vs float64 reference"
	HINTERLAND_ACCURACY=1 go test -count=1 -run 'MNISTAccuracy' -v -timeout 60m ./testutil/reference |
		grep -E 'accuracy_test|^(ok|FAIL|---)'
fi
