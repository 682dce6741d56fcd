#!/usr/bin/env bash
# A small language model pretrained, fine-tuned and aligned on a private chain,
# every step verifiable (make demo-lm), in a few minutes on two cores:
#
#   1. lm-pretrain  a byte-level transformer (T=64, 2 blocks of width 64, 4 heads,
#                   about 120k parameters) trained from scratch on Go's own
#                   sources ($(go env GOROOT)/src, packed with `dataset pack-text`)
#   2. lm-lora      rank-4 LoRA adapters fine-tuned on it, on the go/* packages
#                   (--base: the pretrained model's hash)
#   3. lm-dpo       DPO alignment of the fine-tune (--base: the LoRA result, a
#                   stacked base) on preference pairs from a rule a program
#                   checks: of two sampled continuations of a Go line, prefer
#                   the one that parses (`model pairs`)
#
# Each is an ordinary task: a worker claims it, trains with checkpoints, seals
# and opens its transcript, the chain recomputes sampled segments bit for bit
# and pays. The lineage query then reads aligned -> LoRA -> base, and the demo
# prints samples of the fine-tune and of the aligned model on held-out prompts,
# and the alignment metrics (`model align-eval`): the share of greedy
# continuations that parse, the implicit reward's accuracy on held-out pairs
# and the KL to the fine-tune.
#
# It starts a one-validator chain in a temporary home on free 127.0.0.1 ports
# (never the localnet's) and stops everything it started on exit (also on Ctrl-C
# or an error). Needs build/hinterlandd (make build), go (for GOROOT/src), jq
# and curl; nothing is downloaded.
# Tunables: DEMO_BYTES (4 MiB of Go source to pretrain on), DEMO_PRETRAIN_STEPS
# (2000, segments of 2), DEMO_LORA_STEPS (300, segments of 2), DEMO_DPO_STEPS
# (100), DEMO_PROMPTS (96 prompts for the pairs), DEMO_SAMPLES (16 sampled
# segments per task), DEMO_FRAUD_WINDOW (15s), DEMO_REVEAL_WINDOW (120s).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# = 0 ] || { echo "usage: $0" >&2; exit 2; }
BIN=$PWD/build/hinterlandd
BYTES=${DEMO_BYTES:-4194304}
PRETRAIN_STEPS=${DEMO_PRETRAIN_STEPS:-2000}
LORA_STEPS=${DEMO_LORA_STEPS:-300}
DPO_STEPS=${DEMO_DPO_STEPS:-100}
PROMPTS=${DEMO_PROMPTS:-96}
SAMPLES=${DEMO_SAMPLES:-16}
FRAUD_WINDOW=${DEMO_FRAUD_WINDOW:-15s}
REVEAL_WINDOW=${DEMO_REVEAL_WINDOW:-120s}
# A pretraining reveal costs about 240M gas (0.24 HINT at the demo's gas
# price): the rewards pay for the worker's reveals.
REWARD=40000000
BOND=2000000
GAS_PRICE=0.001uhint
BEGAN=$(date +%s)

DEMO_NAME=hinterland-demo-lm
DEMO_NO_MNIST=1
# shellcheck source=lib/demo.sh
. scripts/lib/demo.sh
demo_init
command -v go >/dev/null || die "go is required (the corpus is \$(go env GOROOT)/src)"
GOSRC=$(go env GOROOT)/src

tstatus() { hd query verification transcript "$1" "$WORKER" --output json 2>/dev/null | jq -r .transcript.status || true; }
is_final() {
	case "$(tstatus "$1")" in
	TRANSCRIPT_STATUS_FINAL) return 0 ;;
	TRANSCRIPT_STATUS_FAILED) die "task $1 failed: $(hd query verification transcript "$1" "$WORKER" --output json | jq -r .transcript.failure)" ;;
	*) return 1 ;;
	esac
}
# vis quotes a string with its tabs and newlines visible.
vis() {
	local v=${1//$'\t'/\\t}
	v=${v//$'\n'/\\n}
	printf '"%s"' "$v"
}
hex() { echo "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; } # proto JSON bytes are base64
final_model() { hex "$(hd query verification transcript "$1" "$WORKER" --output json | jq -r .transcript.final_model_hash)"; }

# post_task ARGS... posts a task from alice and sets TASK to its id. Alice
# reveals the task's sampling secret once the worker's claim is sealed (in the
# background, log: secret.log), as `tx tasks post` asks her to.
post_task() {
	local res
	res=$(tx alice tx tasks post --reward "${REWARD}uhint" --bond "${BOND}uhint" --samples "$SAMPLES" \
		--claim-window 10m --commit-window 10m "$@")
	TASK=$(echo "$res" | jq -r '.events[] | select(.type=="hinterland.tasks.v1.EventTaskPosted") | .attributes[] | select(.key=="task_id") | .value | fromjson')
	(
		while :; do
			st=$(hd query tasks task "$TASK" --output json 2>/dev/null | jq -r .task.status)
			case "$st" in TASK_STATUS_OPEN | TASK_STATUS_ASSIGNED) ;; *) break ;; esac
			hd tx tasks reveal-secret "$TASK" --from alice --wait 30m --yes --output json \
				--gas auto --gas-adjustment 1.5 --gas-prices "$GAS_PRICE" && sleep 3
			sleep 1
		done
	) >>"$DEMO/secret.log" 2>&1 &
	PIDS+=($!)
	POSTED_AT=$(date +%s)
}

# run_task ID waits for the worker's transcript of the task to be final and
# shows its verification.
run_task() {
	local id=$1
	wait_for "task $id to be trained, verified and final" 900 is_final "$id"
	hd query verification transcript "$id" "$WORKER" --output json | jq -r '.transcript |
		"  task \(.task_id): \(.checkpoints | length - 1) segments, \(.verified | length) sampled and recomputed by the chain, MACs trained \(.macs_total), recomputed \(.macs_verified)"'
	wait_for "the worker's report of task $id" 30 test -f "$WD/tasks/$id/report.json"
	jq -rs '[.[] | select(.kind=="reveal") | .gas_used] | "  \(length) reveals, gas \(min) to \(max) each"' "$WD/tasks/$id/txs.jsonl"
	echo "  posted to final (training, sealing, reveals, fraud window): $(($(date +%s) - POSTED_AT)) s"
}

# ---------------------------------------------------------------------------
step "Chain: one validator in $H"
KEYS=(validator alice worker)
JQ_ARGS=(--arg fw "$FRAUD_WINDOW" --arg rw "$REVEAL_WINDOW")
start_chain '.app_state.verification.params.fraud_window = $fw | .app_state.verification.params.reveal_window = $rw' "${KEYS[@]}"
ALICE=$(hd keys show alice -a)
WORKER=$(hd keys show worker -a)
echo "  chain $CHAIN_ID at $RPC, fraud window $FRAUD_WINDOW; requester alice ${ALICE:0:20}..., worker ${WORKER:0:20}..."

# ---------------------------------------------------------------------------
step "Data: Go's own sources, packed into 65-byte token rows (no download)"
mkdir -p "$DEMO/data"
hd dataset pack-text --src "$GOSRC" --context 64 --max-bytes "$BYTES" --val-share 16 \
	--out-train "$DEMO/data/go.hlds" --out-val "$DEMO/data/go-val.hlds" --output json >"$DEMO/pack.json"
jq -r '"  pretraining: \(.train.rows) rows from \(.train.files) files of \(.source) (\(.train.text_bytes) bytes); validation: \(.val.rows) rows from \(.val.files) held-out files"' "$DEMO/pack.json"
hd dataset pack-text --src "$GOSRC/go" --context 64 --val-share 16 \
	--out-train "$DEMO/data/go-pkg.hlds" --out-val "$DEMO/data/go-pkg-val.hlds" --output json >"$DEMO/pack-go.json"
jq -r '"  fine-tuning: \(.train.rows) rows of the go/* packages (parser, ast, types, ...)"' "$DEMO/pack-go.json"
DATA_PORT=$(free_port)
"$BIN" dataset serve "$DEMO/data" --addr "127.0.0.1:$DATA_PORT" --home "$H" >"$DEMO/serve.log" 2>&1 &
PIDS+=($!)
DATA_URL=http://127.0.0.1:$DATA_PORT
wait_for "the dataset server" 20 curl -sf -o /dev/null "$DATA_URL/go.hlds"
A0=$(bal "$ALICE")
W0=$(bal "$WORKER")

WD=$DEMO/worker
"$BIN" worker start --home "$H" --from worker --node "$RPC" --grpc-addr "127.0.0.1:$GRPC_PORT" --grpc-insecure \
	--work-dir "$WD" --serve-addr "127.0.0.1:$(free_port)" --poll-interval 1s --progress log --progress-interval 2s \
	>"$DEMO/worker.log" 2>&1 &
PIDS+=($!)
echo "  worker started (log: worker.log in the demo home)"

# ---------------------------------------------------------------------------
step "1. lm-pretrain: $PRETRAIN_STEPS steps from scratch, $SAMPLES sampled segments recomputed by the chain"
post_task --preset lm-pretrain --total-steps "$PRETRAIN_STEPS" --segment-steps 2 \
	--dataset "$DEMO/data/go.hlds" --dataset-uri "$DATA_URL/go.hlds"
T1=$TASK
run_task "$T1"
BASE=$(final_model "$T1")
hd query tasks model "$BASE" --output json | jq -r --arg h "${BASE:0:16}" '"  model \($h)...: \(.architecture), \(.parameters) parameters, \(.kind)"'
hd worker evaluate --work-dir "$WD" --task "$T1" --dataset "$DEMO/data/go-val.hlds" --output json |
	jq -r '"  held-out Go files: \(.loss / 0.693147 * 1000 | round / 1000) bits per byte, next byte right \(.correct / (.rows * 64) * 1000 | round / 10)%"'

# ---------------------------------------------------------------------------
step "2. lm-lora: rank-4 adapters on the go/* packages, base $(echo "$BASE" | cut -c1-16)..."
post_task --preset lm-lora --base "$BASE" --total-steps "$LORA_STEPS" --segment-steps 2 \
	--dataset "$DEMO/data/go-pkg.hlds" --dataset-uri "$DATA_URL/go-pkg.hlds"
T2=$TASK
run_task "$T2"
TUNED=$(final_model "$T2")
hd worker export --work-dir "$WD" --task "$T2" --out "$DEMO/tuned.model" | sed 's/^/  /'

# ---------------------------------------------------------------------------
step "3. Preference pairs: continuations of held-out Go lines, the one that parses preferred"
hd model pairs --work-dir "$WD" --model "$DEMO/tuned.model" --src "$GOSRC" --prompts "$PROMPTS" --samples 4 --top-k 8 \
	--out "$DEMO/data/pairs.hlds" --heldout "$DEMO/data/heldout.hlds" --heldout-share 0.25 --output json >"$DEMO/pairs.json"
jq -r '"  \(.stats.prompts) prompts x \(.stats.samples / .stats.prompts | floor) samples: \(.stats.parsed) of \(.stats.samples) continuations parse; \(.stats.pairs) pairs (\(.train.rows) to train, \(.heldout.rows // 0) held out)"' "$DEMO/pairs.json"
NPAIRS=$(jq -r .train.rows "$DEMO/pairs.json")
[ "$NPAIRS" -ge 2 ] || die "only $NPAIRS training pairs: pretrain longer (DEMO_PRETRAIN_STEPS) or draw more prompts (DEMO_PROMPTS)"

# ---------------------------------------------------------------------------
step "4. lm-dpo: DPO on the fine-tune (a stacked base: the chain merges base + LoRA to recompute)"
post_task --preset lm-dpo --base "$TUNED" --total-steps "$DPO_STEPS" --segment-steps 1 \
	--dataset "$DEMO/data/pairs.hlds" --dataset-uri "$DATA_URL/pairs.hlds"
T3=$TASK
run_task "$T3"
ALIGNED=$(final_model "$T3")
hd worker export --work-dir "$WD" --task "$T3" --out "$DEMO/aligned.model" | sed 's/^/  /'

# ---------------------------------------------------------------------------
step "Lineage of the aligned model (hinterlandd q tasks lineage ${ALIGNED:0:16}...)"
WHAT=("aligned (DPO)" "fine-tuned (LoRA)" "pretrained")
i=0
while read -r rec; do
	printf '  %s...  task %s  height %-6s %s\n' "$(hex "$(echo "$rec" | jq -r .model_hash)" | cut -c1-16)" \
		"$(echo "$rec" | jq -r .task_id)" "$(echo "$rec" | jq -r .height)" "${WHAT[$i]:-}"
	i=$((i + 1))
done < <(hd query tasks lineage "$ALIGNED" --output json | jq -c '.records[]')
hd query tasks model "$ALIGNED" --output json | jq -r '"  \(.architecture), \(.parameters) parameters (\(.trainable_parameters) trained by the last task), \(.kind), base_lora_rank \(.spec.base_lora_rank)"'

# ---------------------------------------------------------------------------
step "Samples: greedy continuations (--top-k 1) of the fine-tune and of the aligned model"
printf '  %-28s %-26s %s\n' prompt fine-tune aligned
for p in $'\tif err != nil {\n\t\treturn ' $'\tfor i := 0; i < ' $'\tdefer ' $'\tx := make(' $'\tfmt.' $'\tb.' $'\treturn '; do
	before=$(hd model generate --model "$DEMO/tuned.model" --prompt "$p" --max-tokens 40 --top-k 1 --stop 10)
	after=$(hd model generate --model "$DEMO/aligned.model" --prompt "$p" --max-tokens 40 --top-k 1 --stop 10)
	printf '  %-28s %-26s %s\n' "$(vis "$p")" "$(vis "${before#"$p"}")" "$(vis "${after#"$p"}")"
done

# ---------------------------------------------------------------------------
step "Alignment metrics (model align-eval, held-out prompts and pairs)"
hd model align-eval --policy "$DEMO/tuned.model" --ref "$DEMO/tuned.model" --pairs "$DEMO/data/heldout.hlds" \
	--src "$GOSRC" --prompts 64 --output json >"$DEMO/eval-before.json"
hd model align-eval --policy "$DEMO/aligned.model" --ref "$DEMO/tuned.model" --pairs "$DEMO/data/heldout.hlds" \
	--src "$GOSRC" --prompts 64 --output json >"$DEMO/eval-after.json"
printf '  %-44s %12s %12s\n' "" "fine-tune" "aligned"
jq -rs '"  \("greedy continuations that parse" | .[0:44] + (" " * (44 - length)))  \(.[0].parse_share * 1000 | round / 10)%  \(.[1].parse_share * 1000 | round / 10)%"' \
	"$DEMO/eval-before.json" "$DEMO/eval-after.json"
jq -rs '"  implicit-reward accuracy on \(.[1].pairs) held-out pairs  \(.[0].reward_accuracy * 1000 | round / 10)%  \(.[1].reward_accuracy * 1000 | round / 10)%"' \
	"$DEMO/eval-before.json" "$DEMO/eval-after.json"
jq -rs '"  KL(aligned || fine-tune) per response byte     \(.[0].kl * 10000 | round / 10000)  \(.[1].kl * 10000 | round / 10000) nats"' \
	"$DEMO/eval-before.json" "$DEMO/eval-after.json"

A1=$(bal "$ALICE")
W1=$(bal "$WORKER")
step "Summary"
printf '  requester alice  %+d uhint (three rewards escrowed and paid, fees)\n' $((A1 - A0))
printf '  worker           %+d uhint (three rewards less the protocol fee and its gas)\n' $((W1 - W0))
echo "  tasks $T1 (pretrain) -> $T2 (LoRA) -> $T3 (DPO), all verified and final, in $(($(date +%s) - BEGAN)) s"
step "Done: the demo stops the chain and the worker"
