#!/bin/sh
# bench/cost.sh: wall time of `lowfare cost` as a whole process (target: under
# 50 ms). Builds the binary, then measures the seed example with and without
# --compare, with hyperfine when it is installed, else with a timed loop.
#
#   sh bench/cost.sh            # from the repository root
#   RUNS=50 sh bench/cost.sh
set -eu

cd "$(dirname "$0")/.."
runs=${RUNS:-30}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/lowfare" ./cmd/lowfare
spec=examples/free-alb.yaml
[ -f "$spec" ] || { printf 'app: links\n' >"$tmp/lowfare.yaml"; spec=$tmp/lowfare.yaml; }

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine --warmup 3 --runs "$runs" -N \
		"$tmp/lowfare cost -f $spec" \
		"$tmp/lowfare cost -f $spec --compare --format json"
	exit 0
fi

# No hyperfine: time the loop with the shell's clock (nanoseconds from date).
for args in "cost -f $spec" "cost -f $spec --compare --format json"; do
	"$tmp/lowfare" $args >/dev/null
	start=$(date +%s%N)
	i=0
	while [ "$i" -lt "$runs" ]; do
		"$tmp/lowfare" $args >/dev/null
		i=$((i + 1))
	done
	end=$(date +%s%N)
	echo "lowfare $args: $(((end - start) / runs / 1000)) µs mean over $runs runs"
done
