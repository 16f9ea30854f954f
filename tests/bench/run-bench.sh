#!/usr/bin/env bash
# make bench: performance figures, never timed tests.
#  1. dcc compiling a ~10,000-node loss, unrolled to scalars (the pipeline's
#     worst case: every weight a node): instructions (callgrind,
#     deterministic) and the median wall-clock time of 11 runs.
#  2. The emitted gradient against the naive one (-O0) on the five-point
#     network: instructions per call of _loss_grad, side by side in one run.
#  3. A 784-128-10 MLP through the loop back end: dcc's time, the emitted
#     source's size, clang -O2's time on it, and _loss_grad against _loss.
#  4. Unrolled code against loops for one layer of growing width: what the
#     default --unroll-limit is chosen by.
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

unrolled="--unroll-limit 1000000000"
nodes=$($DCC tests/bench/mlp10k.expr $unrolled --emit dot | grep -c "^  n[0-9]* \[")
echo "== dcc compiling tests/bench/mlp10k.expr $unrolled (${nodes} DAG nodes: loss, gradient and outputs)"
echo "instructions: $(instructions $DCC tests/bench/mlp10k.expr $unrolled -o "$tmp/m.c")"
echo "wall-clock:   $(median_ms $DCC tests/bench/mlp10k.expr $unrolled -o "$tmp/m.c") ms (median of 11)"

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

per_call() { # instructions per call of net_loss or net_loss_grad: $1 dir, $2 function, $3 calls
  local zero many
  zero=$(instructions "$1/run" "$2" 0); many=$(instructions "$1/run" "$2" "$3")
  echo $(( (many - zero) / $3 ))
}

echo
echo "== a 784-128-10 MLP through the loop back end (tests/bench/mlp_784_128_10.expr)"
big=tests/bench/mlp_784_128_10.expr
mkdir -p "$tmp/big"
echo "dcc wall-clock:       $(median_ms $DCC $big --prefix net -o "$tmp/big/net.c") ms (median of 11; target < 200)"
echo "dcc instructions:     $(instructions $DCC $big --prefix net -o "$tmp/big/net.c")"
echo "emitted source:       $(wc -c < "$tmp/big/net.c") bytes of .c, $(wc -l < "$tmp/big/net.c") lines (target < 50000 bytes)"
echo "clang -O2 compile:    $(median_ms $CC -O2 -std=c99 -c "$tmp/big/net.c" -o "$tmp/big/net.o") ms (median of 11; target < 5000)"
$CC -O2 -std=c99 -I"$tmp/big" -o "$tmp/big/run" tests/bench/call_loop.c "$tmp/big/net.c" -lm
l=$(per_call "$tmp/big" loss 20); g=$(per_call "$tmp/big" loss_grad 20)
awk -v l="$l" -v g="$g" 'BEGIN { printf "instructions per call: _loss %d, _loss_grad %d: ratio %.2fx (target <= 2.5x)\n", l, g, g / l }'

echo
echo "== unrolled code or loops: one n x n layer (tanh, mse), _loss_grad per call"
echo "   (what DCC_UNROLL_LIMIT, the default of --unroll-limit, is chosen by)"
printf "%-8s %-8s %14s %14s %12s %12s\n" weights "" "unrolled" "loops" "unrolled" "loops"
printf "%-8s %-8s %14s %14s %12s %12s\n" "" "" "instructions" "instructions" ".text bytes" ".text bytes"
for n in 4 8 16 32; do
  d="$tmp/layer$n"
  mkdir -p "$d/u" "$d/l"
  printf 'input x[%d], y[%d]\nparam W[%d][%d], b[%d] = zeros\nh = tanh(W @ x + b)\nloss = mse(h, y)\n' $n $n $n $n $n > "$d/layer.expr"
  $DCC "$d/layer.expr" --prefix net --unroll-limit 1000000000 -o "$d/u/net.c"
  $DCC "$d/layer.expr" --prefix net --unroll-limit 0 -o "$d/l/net.c"
  for v in u l; do
    $CC -O2 -std=c99 -I"$d/$v" -o "$d/$v/run" tests/bench/call_loop.c "$d/$v/net.c" -lm
    $CC -O2 -std=c99 -c "$d/$v/net.c" -o "$d/$v/net.o"
  done
  text() { size -A "$1" | awk '$1 == ".text" { print $2 }'; }
  printf "%-8s %-8s %14s %14s %12s %12s\n" $((n * n)) "" "$(per_call "$d/u" loss_grad 200)" "$(per_call "$d/l" loss_grad 200)" \
    "$(text "$d/u/net.o")" "$(text "$d/l/net.o")"
done
