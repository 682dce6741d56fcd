#!/usr/bin/env bash
# Four validator processes on 127.0.0.1 from `hinterlandd testnet init-files`.
#   scripts/localnet4.sh start   write ./localnet/four, start the nodes, wait for blocks
#   scripts/localnet4.sh stop    stop them
# Node I listens on 26600+10*I: +0 p2p, +1 rpc, +2 grpc, +3 rest. User keys
# (alice, bob, worker1, worker2, watcher) are in ./localnet/four/keyring-test.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HINTERLANDD:-./build/hinterlandd}
DIR=${LOCALNET4_DIR:-./localnet/four}
N=4

stop() {
	for i in $(seq 0 $((N - 1))); do
		pidf="$DIR/node$i/node.pid"
		if [ -f "$pidf" ]; then
			kill "$(cat "$pidf")" 2>/dev/null || true
			rm -f "$pidf"
		fi
	done
	echo "localnet-4 stopped"
}

case "${1:-start}" in
stop) stop; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

[ -x "$BIN" ] || { echo "localnet-4: $BIN not found; run 'make build'" >&2; exit 1; }
[ -d "$DIR" ] && stop >/dev/null && rm -rf "$DIR"
"$BIN" testnet init-files --validators $N --output-dir "$DIR" --starting-port 26600 >/dev/null
for i in $(seq 0 $((N - 1))); do
	nohup "$BIN" start --home "$DIR/node$i" >"$DIR/node$i/node.log" 2>&1 &
	echo $! >"$DIR/node$i/node.pid"
done
echo "waiting for blocks signed by all $N validators..."
for _ in $(seq 1 60); do
	sigs=$(curl -s "http://127.0.0.1:26601/block" | grep -o '"block_id_flag":2' | wc -l || true)
	h=$(curl -s "http://127.0.0.1:26601/status" | grep -o '"latest_block_height":"[0-9]*"' | grep -o '[0-9]*' || echo 0)
	if [ "${h:-0}" -ge 3 ] && [ "$sigs" -ge $N ]; then
		echo "height $h, last commit signed by $sigs of $N validators"
		for i in $(seq 0 $((N - 1))); do
			echo "  node$i: rpc http://127.0.0.1:$((26601 + 10 * i))  grpc 127.0.0.1:$((26602 + 10 * i))  rest http://127.0.0.1:$((26603 + 10 * i))  log $DIR/node$i/node.log"
		done
		echo "user keys: $BIN keys list --keyring-backend test --home $DIR"
		echo "stop with: make localnet-stop"
		exit 0
	fi
	sleep 1
done
echo "localnet-4: the validators did not all sign blocks within 60 s; see $DIR/node*/node.log" >&2
exit 1
