#!/bin/sh
# bench/startup.sh: wall time of whole lowfare processes (target:
# `lowfare synth` under 100 ms as a whole process, with the current AWS SDK
# modules and their schema-based serde), against baselines measured in the
# same run:
#   - an empty Go program: what any Go process costs on this machine;
#   - `lowfare version`: what every lowfare command pays before it works
#     (runtime start and package initialisation of everything linked).
# With BASE=<git revision> it also builds lowfare at that revision (for
# example the last one that pinned the SDK before schema-based serde,
# aws/aws-sdk-go-v2#3432) and runs its `version` and `synth` as well, so the
# ratio of the two builds is measured on the same loaded machine.
#
#   sh bench/startup.sh                 # from the repository root
#   RUNS=50 BASE=1d6b560 sh bench/startup.sh
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/lowfare" ./cmd/lowfare
mkdir -p "$tmp/empty"
printf 'package main\n\nfunc main() {}\n' >"$tmp/empty/main.go"
(cd "$tmp/empty" && go mod init empty >/dev/null 2>&1 && go build -o "$tmp/empty.bin" .)

set -- "$tmp/empty.bin" \
	"$tmp/lowfare version" \
	"$tmp/lowfare cost -f examples/free-alb.yaml" \
	"$tmp/lowfare cost -f examples/free-alb.yaml --compare --format json" \
	"$tmp/lowfare synth -f examples/free-alb.yaml -o $tmp/out" \
	"$tmp/lowfare plan -f examples/free-alb.yaml"

if [ -n "${BASE:-}" ]; then
	mkdir -p "$tmp/base"
	git archive "$BASE" | tar -x -C "$tmp/base"
	(cd "$tmp/base" && go build -o "$tmp/lowfare-base" ./cmd/lowfare)
	set -- "$@" "$tmp/lowfare-base version" \
		"$tmp/lowfare-base synth -f $root/examples/free-alb.yaml -o $tmp/out"
fi

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null 2>&1; then
	hyperfine --warmup 3 --runs "$runs" -N --output=null "$@"
	exit 0
fi
for cmd in "$@"; do
	start=$(date +%s%N)
	i=0
	while [ $i -lt "$runs" ]; do $cmd >/dev/null 2>&1; i=$((i + 1)); done
	end=$(date +%s%N)
	echo "$cmd: mean $(((end - start) / runs / 1000)) µs over $runs runs"
done
