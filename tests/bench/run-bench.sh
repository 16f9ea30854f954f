#!/usr/bin/env bash
# make bench: performance figures, never timed tests.
#  1. dcc compiling a ~10,000-node loss: instructions (callgrind, deterministic)
#     and the median wall-clock time of 11 runs.
#  2. The emitted gradient against the naive one (-O0) on the five-point
#     network: instructions per call of _loss_grad, side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
DCC=build/dcc
CC=${CC:-clang}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instructions() { # the total instructions callgrind counts for a command
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$@" >/dev/null 2>"$tmp/cg.err"
  sed -n 's/^==[0-9]*== Collected : //p' "$tmp/cg.err"
}

median_ms() { # median wall-clock milliseconds of 11 runs of a command
  for _ in $(seq 11); do
    s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
  done | sort -n | sed -n 6p | awk '{ printf "%.2f", $1 / 1000 }'
}

nodes=$($DCC tests/bench/mlp10k.expr --emit dot | grep -c "^  n[0-9]* \[")
echo "== dcc compiling tests/bench/mlp10k.expr (${nodes} DAG nodes: loss, gradient and outputs)"
echo "instructions: $(instructions $DCC tests/bench/mlp10k.expr -o "$tmp/m.c")"
echo "wall-clock:   $(median_ms $DCC tests/bench/mlp10k.expr -o "$tmp/m.c") ms (median of 11)"

echo
echo "== five-point network: optimised _loss_grad against -O0 (the seeds' naive trees)"
mkdir -p "$tmp/opt" "$tmp/o0"
$DCC tests/bench/five_points.expr --prefix net -o "$tmp/opt/net.c"
$DCC tests/bench/five_points.expr --prefix net -O0 -o "$tmp/o0/net.c"
for v in opt o0; do
  $CC -O2 -std=c99 -I"$tmp/$v" -o "$tmp/$v/run" tests/bench/loss_grad_loop.c "$tmp/$v/net.c" -lm
done
a=$(instructions "$tmp/opt/run" 10000); b=$(instructions "$tmp/o0/run" 10000)
echo "instructions for 10000 calls: optimised $a, -O0 $b"
awk -v a="$a" -v b="$b" 'BEGIN { printf "per call: optimised %.0f, -O0 %.0f: -O0 costs %.1fx\n", a / 1e4, b / 1e4, b / a }'
