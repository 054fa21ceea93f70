#!/usr/bin/env bash
# Usage: bench/devserveapp.sh (from the repository root). Measures lowfare dev
# with service.idle serve: app and --idle 3s (a stand-in app from
# internal/devstack/testdata/app): once the app is asleep, the first request
# (a cold start: lowfare's Lambda adapter starts the app under dev's
# in-process Runtime API) and the next one (warm), against the same request
# to the awake app in the same run (the baseline). Each run is a fresh
# lowfare dev, so each first request is cold.
set -euo pipefail
BIN=${BIN:-}
if [ -z "$BIN" ]; then BIN=$(mktemp -d)/lowfare; go build -o "$BIN" ./cmd/lowfare; fi
RUNS=${RUNS:-5}
PORT=${PORT:-18092}
DATA=$(mktemp -d)
cp internal/devstack/testdata/app/* "$DATA/"
printf '  idle: {after: 5m, serve: app}\n' >>"$DATA/lowfare.yaml"
url="http://127.0.0.1:$PORT/env/GREETING"
get() { curl -s -o /dev/null -w '%{http_code} %{time_total}' "$url"; }
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$RUNS"); do
	$BIN dev -f "$DATA/lowfare.yaml" --port "$PORT" --data "$DATA/.dev" --idle 3s >"$DATA/out" 2>"$DATA/err" &
	PID=$!
	until grep -q "Press Ctrl-C" "$DATA/out"; do sleep 0.05; done
	awake=$(get)
	until grep -q "the app is asleep" "$DATA/err"; do sleep 0.05; done
	cold=$(get)
	warm=$(get)
	kill $PID
	wait $PID 2>/dev/null || true
	echo "run $i: awake $awake s; asleep, first request (cold start) $cold s; next (warm) $warm s"
done
