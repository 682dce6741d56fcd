#!/usr/bin/env bash
# A one-validator Hinterland chain in a fresh home (default ./localnet/single),
# with funded test keys (keyring-backend test), 1 s blocks and the standard
# endpoints: CometBFT RPC 26657, gRPC 9090, REST 1317 (swagger at /swagger/,
# Hinterland's OpenAPI at /hinterland/openapi.json), Prometheus 26660.
#   scripts/localnet.sh            init and run in the foreground (Ctrl-C stops)
#   LOCALNET_DETACH=1 ...          run in the background; pid in HOME/node.pid
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HINTERLANDD:-./build/hinterlandd}
HOME_DIR=${LOCALNET_HOME:-./localnet/single}
CHAIN_ID=${CHAIN_ID:-hinterland-local-1}
KEYS=(validator alice bob worker1 worker2 watcher)
[ -x "$BIN" ] || { echo "localnet: $BIN not found; run 'make build'" >&2; exit 1; }

rm -rf "$HOME_DIR"
"$BIN" init local-validator --chain-id "$CHAIN_ID" --home "$HOME_DIR" >/dev/null 2>&1
for k in "${KEYS[@]}"; do
	"$BIN" keys add "$k" --keyring-backend test --home "$HOME_DIR" --output json >"$HOME_DIR/$k.key.json" 2>&1
	"$BIN" genesis add-genesis-account "$k" 1000000000000uhint --keyring-backend test --home "$HOME_DIR"
done
"$BIN" genesis gentx validator 100000000000uhint --chain-id "$CHAIN_ID" --keyring-backend test --home "$HOME_DIR" >/dev/null 2>&1
"$BIN" genesis collect-gentxs --home "$HOME_DIR" >/dev/null 2>&1
"$BIN" genesis validate --home "$HOME_DIR" >/dev/null
# Local chain: 1 s blocks; keyring-backend test for the CLI.
sed -i.bak -e 's/^timeout_commit = .*/timeout_commit = "1s"/' "$HOME_DIR/config/config.toml"
sed -i.bak -e 's/^keyring-backend = .*/keyring-backend = "test"/' "$HOME_DIR/config/client.toml"
rm -f "$HOME_DIR"/config/*.bak

echo "Hinterland localnet: chain-id $CHAIN_ID, home $HOME_DIR"
echo "  CometBFT RPC  http://127.0.0.1:26657   (websocket /websocket)"
echo "  gRPC          127.0.0.1:9090"
echo "  REST          http://127.0.0.1:1317    (swagger /swagger/, OpenAPI /hinterland/openapi.json)"
echo "  Prometheus    http://127.0.0.1:26660/metrics"
echo "Funded keys (keyring-backend test, --home $HOME_DIR), 1,000,000 HINT each:"
for k in "${KEYS[@]}"; do
	printf '  %-10s %s\n' "$k" "$("$BIN" keys show "$k" -a --keyring-backend test --home "$HOME_DIR")"
done
echo "Try: $BIN q bank balances \$($BIN keys show alice -a --home $HOME_DIR) --home $HOME_DIR"

if [ "${LOCALNET_DETACH:-}" != "" ]; then
	nohup "$BIN" start --home "$HOME_DIR" >"$HOME_DIR/node.log" 2>&1 &
	echo $! >"$HOME_DIR/node.pid"
	echo "started in the background (pid $(cat "$HOME_DIR/node.pid"), log $HOME_DIR/node.log)"
else
	exec "$BIN" start --home "$HOME_DIR"
fi
