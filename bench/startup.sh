#!/bin/sh
# bench/startup.sh: wall time of whole lowfare processes (issues 3 and 4:
# `lowfare synth` and `lowfare cost` under 50 ms each), against two
# baselines measured in the same run:
#   - an empty Go program: what any Go process costs on this machine;
#   - `lowfare version`: what every lowfare command pays before it works
#     (runtime start and package initialisation of everything linked).
# With LATEST_SDK=1 it also builds lowfare against the newest AWS SDK
# service modules (schema-based serde, aws/aws-sdk-go-v2#3432) in a copy of
# the module, to show why go.mod pins the versions before it.
#
#   sh bench/startup.sh                 # from the repository root
#   RUNS=50 LATEST_SDK=1 sh bench/startup.sh
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

if [ "${LATEST_SDK:-}" = 1 ]; then
	mkdir -p "$tmp/latest"
	git archive HEAD | tar -x -C "$tmp/latest"
	(cd "$tmp/latest" && go get github.com/aws/aws-sdk-go-v2/config@latest \
		$(go list -m all | awk '/aws-sdk-go-v2\/service\/[a-z0-9]+ / {print $1"@latest"}') >/dev/null 2>&1 &&
		go build -o "$tmp/lowfare-latest-sdk" ./cmd/lowfare)
	set -- "$@" "$tmp/lowfare-latest-sdk version" \
		"$tmp/lowfare-latest-sdk synth -f $root/examples/free-alb.yaml -o $tmp/out"
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
