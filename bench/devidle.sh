#!/usr/bin/env bash
# Usage: bench/devidle.sh (from the repository root). Measures lowfare dev --idle 3s: sleep delay after the last request,
# waking page latency, time until the app answers again.
set -euo pipefail
BIN=${BIN:-}
if [ -z "$BIN" ]; then BIN=$(mktemp -d)/lowfare; go build -o "$BIN" ./cmd/lowfare; fi
SPEC=${SPEC:-internal/devstack/testdata/app/lowfare.yaml}
PORT=${PORT:-18091}
DATA=$(mktemp -d)
$BIN dev -f "$SPEC" --port "$PORT" --data "$DATA" --idle 3s > "$DATA/out" 2> "$DATA/err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
until grep -q "Press Ctrl-C" "$DATA/out"; do sleep 0.05; done
ms() { date +%s%3N; }
curl -s -o /dev/null "http://127.0.0.1:$PORT/health"
t0=$(ms)
# the app process (the child of lowfare dev) goes away when asleep
until grep -q "the app is asleep" "$DATA/err"; do sleep 0.02; done
t1=$(ms)
w=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Accept: text/html' "http://127.0.0.1:$PORT/health")
t2=$(ms)
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ]; do sleep 0.02; done
t3=$(ms)
echo "asleep after last request: $((t1-t0)) ms; waking page: $w s; app answers again: $((t3-t2)) ms after the waking page"
