#!/bin/sh
# bench/synth.sh: wall time of `lowfare synth` as a whole process (target:
# under 50 ms; the AWS CDK takes about 6 s for a comparable stack). Builds
# the binary, then synthesises examples (alb, apigw with a schedule,
# serverless) in JSON and YAML, with hyperfine when it is installed, else
# with a timed loop. Each run writes both templates to a temporary directory.
#
#   sh bench/synth.sh            # from the repository root
#   RUNS=50 sh bench/synth.sh
set -eu

cd "$(dirname "$0")/.."
runs=${RUNS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/lowfare" ./cmd/lowfare
specs=""
for f in examples/free-alb.yaml examples/free-apigw.yaml examples/serverless.yaml; do
	[ -f "$f" ] && specs="$specs $f"
done
if [ -z "$specs" ]; then
	printf 'app: links\n' >"$tmp/lowfare.yaml"
	specs=$tmp/lowfare.yaml
fi

set --
for spec in $specs; do
	set -- "$@" "$tmp/lowfare synth -f $spec -o $tmp/out"
done
first=$(echo $specs | cut -d' ' -f1)
set -- "$@" "$tmp/lowfare synth -f $first -o $tmp/out --format yaml"

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine --warmup 3 --runs "$runs" -N --output=null "$@"
	exit 0
fi

# No hyperfine: time the loop with the shell's clock (nanoseconds from date).
for cmd in "$@"; do
	$cmd >/dev/null 2>&1
	start=$(date +%s%N)
	i=0
	while [ "$i" -lt "$runs" ]; do
		$cmd >/dev/null 2>&1
		i=$((i + 1))
	done
	end=$(date +%s%N)
	echo "$cmd: $(((end - start) / runs / 1000)) µs mean over $runs runs"
done
