#!/bin/sh
# Measures the links service's own CPU time per redirect and per create, and
# its peak RSS, under 200 concurrent connections against dynalite, next to the
# floor (bench/floorlinks: a bare net/http server answering 302 from a map)
# driven at the same paced rate in the same seconds; -variants adds
# links-nolog (no request log) and plain (GetItem + 2 UpdateItem per
# redirect). Results go to stdout as a Markdown table for docs/benchmarks.md.
#
#   bench/links.sh                                  # links and floor, 2000/s each, 15 s
#   bench/links.sh -rounds 3 -variants links,floor,links-nolog
#   bench/links.sh -rate 0                          # closed loop: as fast as 200 connections go
#
# Needs Go and dynalite (npm install --prefix /tmp/npmdyn dynalite, or
# DYNALITE_BIN=...). Run from anywhere inside the module.
set -eu
cd "$(dirname "$0")/.."
echo "command: bench/links.sh $*" >&2
exec go run ./bench/linksbench "$@"
