#!/bin/sh
# Measures the links service's own CPU time per redirect and per create, and
# its peak RSS, under 200 concurrent connections against dynalite, next to the
# plain baseline (GetItem + 2 UpdateItem per redirect) in the same run.
# Results go to stdout as a Markdown table for docs/benchmarks.md.
#
#   bench/links.sh                    # 200 connections, 15 s per phase
#   bench/links.sh -c 200 -duration 30s
#
# Needs Go and dynalite (npm install --prefix /tmp/npmdyn dynalite, or
# DYNALITE_BIN=...). Run from anywhere inside the module.
set -eu
cd "$(dirname "$0")/.."
echo "command: bench/links.sh $*" >&2
exec go run ./bench/linksbench "$@"
