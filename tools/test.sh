#!/usr/bin/env bash
# make test: every test this machine can run. It installs what it can
# without root (staticcheck through go install, dynalite from the committed
# lock file in tools/dynalite), starts dynalite, runs go test -json through
# tools/testsummary and ends with one line: what ran, what was skipped and
# why. Chromium, moto_server and cfn-lint it cannot install: `make deps`
# does (see the README). CI sets LOWFARE_REQUIRE_* so a missing one fails,
# and so does any skip testsummary does not expect in a full run.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
export PATH="$($GO env GOPATH)/bin:$PATH"

if [ -z "${DYNALITE_URL:-}" ]; then
  if [ ! -x tools/dynalite/node_modules/.bin/dynalite ]; then
    if command -v npm >/dev/null 2>&1; then
      echo "== installing dynalite (npm ci --prefix tools/dynalite)"
      npm ci --prefix tools/dynalite --no-audit --no-fund --loglevel=error
    else
      echo "== npm not found: the dynalite suites will skip (install Node.js and npm)"
    fi
  fi
  if [ -x tools/dynalite/node_modules/.bin/dynalite ]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 45670)
    node tools/dynalite/node_modules/dynalite/cli.js --port "$port" >"${TMPDIR:-/tmp}/lowfare-test-dynalite.log" 2>&1 &
    dynalite_pid=$!
    trap 'kill "$dynalite_pid" 2>/dev/null || true' EXIT
    echo "== dynalite log: ${TMPDIR:-/tmp}/lowfare-test-dynalite.log"
    for _ in $(seq 1 100); do
      if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
      sleep 0.1
    done
    export DYNALITE_URL="http://127.0.0.1:$port"
    echo "== dynalite on $DYNALITE_URL"
  fi
fi

for tool in chromium moto_server cfn-lint; do
  command -v "$tool" >/dev/null 2>&1 || echo "== $tool not found: its tests will skip (make deps installs it)"
done

# A full run (CI sets LOWFARE_REQUIRE_*) must not skip: testsummary fails
# on a skip whose reason is not in its short list of expected ones.
strict=
if [ -n "${LOWFARE_REQUIRE_CHROMIUM:-}${LOWFARE_REQUIRE_DYNALITE:-}${LOWFARE_REQUIRE_MOTO:-}${LOWFARE_REQUIRE_CFNLINT:-}" ]; then
  strict=-strict-skips
fi

echo "== go test -race ${PKGS:-./...} (GOFLAGS=${GOFLAGS:-}${strict:+; skips outside the expected ones fail})"
summary=$(mktemp -d)/testsummary
$GO build -o "$summary" ./tools/testsummary
$GO test -json -race -count=1 -timeout 20m ${PKGS:-./...} 2>&1 | "$summary" $strict
