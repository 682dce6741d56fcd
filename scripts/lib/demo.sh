# shellcheck shell=bash
# Shared by the demos (scripts/demo.sh, scripts/demo-annotate.sh): checks, a
# temporary home that is removed on exit with every process started, free
# ports, transaction and wait helpers, and a one-validator chain.
#
# The sourcing script sets BIN (the binary), DEMO_NAME (the temp dir prefix)
# and GAS_PRICE, then calls demo_init; it adds every background PID to PIDS.

die() { echo "demo: $*" >&2; exit 1; }

# demo_init checks the tools, finds MNIST (unless DEMO_NO_MNIST is set) and
# makes the temporary home.
demo_init() {
	[ -x "$BIN" ] || die "$BIN not found; run 'make build'"
	local tool
	for tool in jq curl; do command -v "$tool" >/dev/null || die "$tool is required"; done
	if [ -z "${DEMO_NO_MNIST:-}" ]; then
		MNIST=$(./scripts/mnist-dir.sh) || die "MNIST could not be fetched (set HINTERLAND_MNIST_DIR to the MNIST IDX directory)"
	fi
	DEMO=$(mktemp -d "${TMPDIR:-/tmp}/$DEMO_NAME.XXXXXX")
	H=$DEMO/chain
	PIDS=()
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

cleanup() {
	local code=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "$code" != 0 ]; then
		echo "demo failed (exit $code); the last node log lines:" >&2
		tail -n 15 "$H/node.log" 2>/dev/null >&2 || true
	fi
	rm -rf "$DEMO"
	exit "$code"
}

# Free ports: random ones nothing listens on, each used once.
USED=" "
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		case "$USED" in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED="$USED$p "
			echo "$p"
			return
		fi
	done
}

hd() { "$BIN" "$@" --home "$H"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# tx FROM ARGS... signs, broadcasts, waits for the block and prints the tx
# JSON; what the command printed besides (the assurance summary of a post, a
# secret's path) goes to stderr, indented.
tx() {
	local from=$1 out hash res
	shift
	out=$(hd "$@" --from "$from" --yes --output json --gas auto --gas-adjustment 1.5 --gas-prices "$GAS_PRICE" 2>&1) ||
		die "tx $*: $out"
	echo "$out" | head -n -1 | grep -v '^gas estimate' | sed 's/^/  /' >&2 || true
	hash=$(echo "$out" | tail -n 1 | jq -r .txhash)
	[ "$(echo "$out" | tail -n 1 | jq -r .code)" = 0 ] || die "tx $* rejected: $out"
	for _ in $(seq 1 60); do
		if res=$(hd query tx "$hash" --output json 2>/dev/null); then
			[ "$(echo "$res" | jq -r .code)" = 0 ] || die "tx $* failed: $(echo "$res" | jq -r .raw_log)"
			echo "$res"
			return
		fi
		sleep 0.5
	done
	die "tx $hash not in a block after 30 s"
}

bal() { hd query bank balance "$1" uhint --output json | jq -r .balance.amount; }
chain_up() {
	local h
	h=$(curl -s "$RPC_URL/status" | jq -r '.result.sync_info.latest_block_height' 2>/dev/null) || return 1
	[ "${h:-0}" -ge 2 ] 2>/dev/null
}

# wait_for DESC TIMEOUT COMMAND... polls until COMMAND succeeds.
wait_for() {
	local desc=$1 timeout=$2
	shift 2
	for _ in $(seq 1 $((timeout * 2))); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	die "timed out after ${timeout}s waiting for $desc"
}

# start_chain JQ_FILTER KEY... starts a one-validator chain in $H on free
# 127.0.0.1 ports (never the localnet's), 1 s blocks, every key funded with
# 1 000 000 HINT, the genesis edited by JQ_FILTER (jq, over the whole file;
# --arg values come from the caller's JQ_ARGS array). It sets RPC, RPC_URL,
# GRPC_PORT and CHAIN_ID.
start_chain() {
	local filter=$1 k
	shift
	RPC_PORT=$(free_port)
	GRPC_PORT=$(free_port)
	RPC=tcp://127.0.0.1:$RPC_PORT
	RPC_URL=http://127.0.0.1:$RPC_PORT
	CHAIN_ID=hinterland-demo-1
	hd init demo-validator --chain-id "$CHAIN_ID" >/dev/null 2>&1
	for k in "$@"; do
		hd keys add "$k" --keyring-backend test --output json >"$DEMO/$k.key.json" 2>&1
		hd genesis add-genesis-account "$k" 1000000000000uhint --keyring-backend test
	done
	hd genesis gentx validator 100000000000uhint --chain-id "$CHAIN_ID" --keyring-backend test >/dev/null 2>&1
	hd genesis collect-gentxs >/dev/null 2>&1
	jq "${JQ_ARGS[@]}" "$filter" "$H/config/genesis.json" >"$DEMO/genesis.json"
	mv "$DEMO/genesis.json" "$H/config/genesis.json"
	hd genesis validate >/dev/null
	sed -i.bak \
		-e "s#^laddr = \"tcp://127.0.0.1:26657\"#laddr = \"$RPC\"#" \
		-e "s#^laddr = \"tcp://0.0.0.0:26656\"#laddr = \"tcp://127.0.0.1:$(free_port)\"#" \
		-e "s#^pprof_laddr = .*#pprof_laddr = \"127.0.0.1:$(free_port)\"#" \
		-e "s#^prometheus_listen_addr = .*#prometheus_listen_addr = \"127.0.0.1:$(free_port)\"#" \
		-e 's#^timeout_commit = .*#timeout_commit = "1s"#' "$H/config/config.toml"
	sed -i.bak \
		-e "s#^address = \"tcp://localhost:1317\"#address = \"tcp://127.0.0.1:$(free_port)\"#" \
		-e "s#^address = \"localhost:9090\"#address = \"127.0.0.1:$GRPC_PORT\"#" "$H/config/app.toml"
	sed -i.bak -e "s#^node = .*#node = \"$RPC\"#" -e 's#^keyring-backend = .*#keyring-backend = "test"#' "$H/config/client.toml"
	rm -f "$H"/config/*.bak
	"$BIN" start --home "$H" >"$H/node.log" 2>&1 &
	PIDS+=($!)
	wait_for "the first blocks" 60 chain_up
}
