#!/bin/sh
# Measures the links service's resolve cache: CPU per redirect
# with 20,000 distinct links filling the cache against the cache-warm
# figure (100 links) of the same process in the same run, and peak RSS
# while 2,000 distinct slugs miss at once against a table that takes 2 s
# to answer. Then the store-level benchmarks behind it (go test -bench).
# Results go to stdout as Markdown for docs/benchmarks.md.
#
#   bench/cache.sh                 # 200,000 redirects per phase, 2 rounds
#   bench/cache.sh -n 100000 -c 32
#
# Needs only Go (minidyn runs in the bench process). Run from anywhere
# inside the module.
set -eu
cd "$(dirname "$0")/.."
go run ./bench/cachebench "$@"
echo
echo '```'
go test -run '^$' -bench 'Redirect|CachePutFull' -benchtime 200000x ./internal/links/store/ |
	grep -E '^(Benchmark|ok)'
go test -run '^$' -bench 'ConcurrentMisses' -benchtime 1x ./internal/links/store/ |
	grep -E '^(Benchmark|ok)'
echo '```'
