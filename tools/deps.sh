#!/usr/bin/env bash
# make deps: installs what a full `make test` needs beyond Go, Node and npm,
# on a Debian-like machine: staticcheck, dynalite (from the lock file),
# chromium and postgresql (apt-get, as root), moto_server and cfn-lint (pip).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
$GO install honnef.co/go/tools/cmd/staticcheck@v0.8.2
npm ci --prefix tools/dynalite --no-audit --no-fund --loglevel=error
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
# postgresql: initdb and postgres live off PATH, in /usr/lib/postgresql/<major>/bin.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
if ! command -v moto_server >/dev/null 2>&1 || ! command -v cfn-lint >/dev/null 2>&1; then
  python3 -m pip install --user 'moto[server]' cfn-lint
fi
echo "deps: ok (staticcheck, dynalite, chromium, postgresql, moto_server, cfn-lint)"
