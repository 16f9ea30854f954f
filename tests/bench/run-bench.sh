#!/usr/bin/env bash
# make bench: dcc side by side with what users would use instead, one run,
# so that the ratios hold on a noisy machine.  Never part of make test.
#
# For each model of tests/bench/models/ it builds, with the same compiler
# and flags ($CC -O2), the driver tests/bench/bench_main.c against:
#   dcc     dcc's output
#   expert  the hand-written backprop of tests/bench/expert/
#   plain   the formula written the plain, unstable way, as CasADi and
#           SymPy emit it (log(1 + exp(-x)), 1/(1 + exp(-x))), with the
#           expert's backward pass: tests/bench/plain/, where there is one
#   -O0     dcc -O0: one naive tree per param, as the seeds differentiate
#   SymPy   tests/bench/sympy_grad.py: SymPy's diff + cse + ccode, killed
#           after $SYMPY_LIMIT s
# checks that every implementation computes dcc's loss and gradient (to
# 1e-9) and measures: instructions per call (callgrind: deterministic),
# median ns and time-stamp-counter ticks per call (x86; side by side,
# alternating: the ticks show a change in time where the instructions do
# not move), transcendental calls per
# call (libm wrapped with count_libm.c), .text bytes of _loss_grad for
# x86-64 and for the Cortex-M4 (arm-none-eabi-gcc -Os, where installed),
# and dcc's compile time, peak memory and output size.  PyTorch float64
# autograd (tests/bench/torch_bench.py) runs where python3-torch is.
#
# Then the older figures: dcc on a ~10,000-node model unrolled, and the
# unrolled code against loops by layer width (what --unroll-limit is chosen
# by); dcc on the GRU model made 10 and 10,000 steps long (its compile
# time, peak memory and output must not grow with the steps; its workspace
# does); and dcc's time and $CC's on large generated programs against
# their size (issue 15; SCALE=0 skips it, SCALE_ONLY=1 runs it alone;
# SCALE_PROGRAMS, |-separated genmodel.py arguments, picks the programs,
# SCALE_LIMIT the seconds each may take, SCALE_CC_BYTES the largest C given
# to $CC).  MODELS (names from
# tests/bench/models/, space-separated) picks the models; SEQ_ONLY=1 skips
# the older figures (for a GRU-only run: MODELS=gru_8_16_16 SEQ_ONLY=1
# tests/bench/run-bench.sh; for the CNNs: MODELS="cnn_digits cnn_32x32"
# SEQ_ONLY=1).  Everything is printed as markdown tables and
# written to $BENCH_OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
DCC=${DCC:-build/dcc} # another build of dcc: DCC=path
CC=${CC:-clang}
CFLAGS="-O2 -std=c99"
SYMPY_LIMIT=${SYMPY_LIMIT:-120}  # seconds SymPy may take per model
CLANG_LIMIT=${CLANG_LIMIT:-120}  # seconds $CC may take on one implementation
BENCH_OUT=${BENCH_OUT:-build/bench/results.md}
MODELS=${MODELS:-five_points quadratic mlp_4_8_8_1 mlp_64_32_10 mlp_784_128_10 gru_8_16_16 cnn_digits cnn_32x32}
SEQ_ONLY=${SEQ_ONLY:-}
SCALE_ONLY=${SCALE_ONLY:-}
IMPLS="dcc expert plain o0 sympy"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$BENCH_OUT")"
: >"$tmp/out.md"

say() { printf '%s\n' "$*" | tee -a "$tmp/out.md"; }
progress() { printf '  .. %s\n' "$*" >&2; }

declare -A V # V[model/impl/key]: every figure measured

instructions() { # the total instructions callgrind counts for a command
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/^==[0-9]*== Collected : //p'
}

per_call() { # instructions per call: $1 driver, $2 loss|loss_grad, $3 calls
  local many zero
  many=$(instructions "$1" calls "$2" "$3")
  zero=$(instructions "$1" calls "$2" 0)
  echo $(((many - zero) / $3))
}

median_ms() { # median wall-clock milliseconds of 11 runs of a command
  for _ in $(seq 11); do
    s=$(date +%s%N)
    "$@" >/dev/null 2>&1
    e=$(date +%s%N)
    echo $(((e - s) / 1000))
  done | sort -n | sed -n 6p | awk '{ printf "%.1f", $1 / 1000 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ratio() { # a / b as "1.13x" ($3 decimals, default 2), "-" when either is missing
  awk -v a="$1" -v b="$2" -v p="${3:-2}" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.*fx", p, a / b }'
}

python_with() { # a python3 that imports module $1 (Debian's packages live in /usr/bin/python3's path)
  for py in python3 /usr/bin/python3; do
    if "$py" -c "import $1" >/dev/null 2>&1; then
      echo "$py"
      return
    fi
  done
}

text_bytes() { # .text bytes of function $3 and what it calls in object $2, with ld $1
  "$1" -r --gc-sections -e "$3" -o "$tmp/gc.o" "$2"
  size -A "$tmp/gc.o" | awk '$1 ~ /^\.text/ { n += $2 } END { print n + 0 }'
}

# ---- dcc's time against the program's size (issue 15) -------------------------
# Programs written statement by statement (tests/bench/genmodel.py), each
# compiled once by dcc (peak memory from /usr/bin/time) and by $CC -O2,
# under a 4 GB memory cap and SCALE_LIMIT seconds each; SCALE=0 skips the
# section.
scale_section() {
  [ "${SCALE:-1}" != 0 ] || return 0
  SCALE_LIMIT=${SCALE_LIMIT:-120}
  say ""
  say "## dcc's time against the program's size (tests/bench/genmodel.py; limit $SCALE_LIMIT s, 4 GB)"
  say ""
  say "| program | .expr bytes | dcc seconds | dcc peak memory KiB | .c bytes | $CC -O2 seconds | $CC -O2 seconds, --split-limit 0 |"
  say "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  # timed LIMIT OUT CMD...: prints "seconds peak_kib", or "> LIMIT" and the
  # reason when the command fails or runs out of time or memory.
  timed() {
    local limit=$1 out=$2 start end rc=0
    shift 2
    start=$(date +%s%N)
    # not --stats for the memory: its naive counts cost params x nodes
    (ulimit -v 4000000 && timeout "$limit" /usr/bin/time -f "peak %M" -o "$out.mem" "$@" -o "$out" 2>/dev/null) ||
      rc=$?
    end=$(date +%s%N)
    if [ $rc -eq 0 ]; then
      awk -v ns=$((end - start)) 'BEGIN { printf "%.2f ", ns / 1e9 }'
      sed -n 's/^peak \([0-9]*\)$/\1/p' "$out.mem"
    elif [ $rc -eq 124 ]; then echo ">$limit n/a"
    else echo "failed n/a"
    fi
  }
  scale_secs=()
  # SCALE_PROGRAMS: genmodel.py's arguments, |-separated; a C file larger
  # than SCALE_CC_BYTES is not given to $CC
  local programs=${SCALE_PROGRAMS:-params 1000|params 10000|params 100000|gmm 100 50|gmm 200 50|gmm 400 50|gmm 1000 50|lstm 16|lstm 32|lstm 64|lstm 128|det 8|det 10}
  local cc_bytes=${SCALE_CC_BYTES:-20000000}
  IFS='|' read -r -a progs <<<"$programs"
  for prog in "${progs[@]}"; do
    progress "genmodel $prog"
    d="$tmp/scale"
    mkdir -p "$d"
    rm -f "$d/m.c" "$d/m.h"
    python3 tests/bench/genmodel.py $prog >"$d/m.expr"
    read -r secs peak < <(timed "$SCALE_LIMIT" "$d/m.c" $DCC "$d/m.expr" --prefix m)
    cc_secs=n/a
    if [ -f "$d/m.c" ] && [ "$(wc -c <"$d/m.c")" -gt "$cc_bytes" ]; then
      cc_secs="not compiled (over $cc_bytes bytes)"
    elif [ -f "$d/m.c" ]; then
      start=$(date +%s%N)
      if (ulimit -v 4000000 && timeout "$SCALE_LIMIT" $CC $CFLAGS -I"$d" -c "$d/m.c" -o "$d/m.o") 2>/dev/null; then
        cc_secs=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
      else
        cc_secs="> $SCALE_LIMIT or failed"
      fi
    fi
    # the same C with every function in one piece (what --split-limit
    # buys the C compiler)
    one_secs=n/a
    rm -f "$d/one.c" "$d/one.h"
    if [ "$cc_secs" != "${cc_secs#not compiled}" ]; then
      one_secs=$cc_secs
    elif (ulimit -v 4000000 && timeout "$SCALE_LIMIT" $DCC "$d/m.expr" --prefix m --split-limit 0 -o "$d/one.c") 2>/dev/null; then
      start=$(date +%s%N)
      if (ulimit -v 4000000 && timeout "$SCALE_LIMIT" $CC $CFLAGS -I"$d" -c "$d/one.c" -o "$d/one.o") 2>/dev/null; then
        one_secs=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
      else
        one_secs="> $SCALE_LIMIT or failed"
      fi
      cmp -s <(sed 3d "$d/m.c") <(sed 3d "$d/one.c") && one_secs="same C"
    fi
    bytes=n/a
    [ -f "$d/m.c" ] && bytes=$(wc -c <"$d/m.c")
    say "| $prog | $(wc -c <"$d/m.expr") | $secs | $peak | $bytes | $cc_secs | $one_secs |"
    [ "$prog" = "params 100000" ] && scale_secs+=("$secs")
  done
  met=$(awk -v s="${scale_secs[0]:-}" 'BEGIN { print (s ~ /^[0-9.]+$/ && s < 10) ? "yes" : "**no**" }')
  say ""
  say "Target (issue 15): 100,000 scalar params declared one by one compile in under 10 s: ${scale_secs[0]:-n/a} s, $met."
}

if [ -n "$SCALE_ONLY" ]; then # the issue-15 table alone
  scale_section
  cp "$tmp/out.md" "$BENCH_OUT"
  echo
  echo "written to $BENCH_OUT"
  exit 0
fi

LIBM_WRAP=-Wl,--wrap=tanh,--wrap=exp,--wrap=log,--wrap=log1p,--wrap=expm1,--wrap=sin,--wrap=cos,--wrap=tan,--wrap=atan,--wrap=pow

libm_calls() { # "N (2 tanh, 1 exp)": transcendental calls per call of $2, driver $1, $3 calls
  "$1" calls "$2" "$3" 2>&1 >/dev/null | awk -v n="$3" '
    $1 == "libm" { c = $3 / n; total += c; list = list (list ? ", " : "") c " " $2 }
    END { printf "%g%s\n", total, list ? " (" list ")" : "" }'
}

SYMPY_PY=$(python_with sympy)
TORCH_PY=$(python_with torch)
ARM=""
command -v arm-none-eabi-gcc >/dev/null && ARM=arm-none-eabi-gcc

calls_for() { # calls per callgrind run: enough to dwarf start-up, few enough to be quick
  case $1 in
  cnn_32x32) echo 5 ;;
  mlp_784_128_10) echo 10 ;;
  mlp_64_32_10 | gru_* | cnn_digits) echo 100 ;;
  *) echo 500 ;;
  esac
}

# ---- build, check and measure every implementation of every model ----------
for m in $MODELS; do
  progress "$m"
  src=tests/bench/models/$m.expr
  d=$tmp/$m
  mkdir -p "$d/dcc" "$d/expert" "$d/plain" "$d/o0" "$d/sympy" "$d/empty"
  $DCC "$src" --prefix net -o "$d/dcc/net.c"
  for i in expert plain o0 sympy empty; do cp "$d/dcc/net.h" "$d/$i/"; done
  V[$m/dcc/compile_ms]=$(median_ms $DCC "$src" --prefix net -o "$tmp/scratch.c")
  V[$m/dcc/peak_kib]=$($DCC "$src" --prefix net -o "$tmp/scratch.c" --stats 2>&1 | sed -n 's/^dcc: peak memory \([0-9]*\) KiB$/\1/p')
  V[$m/dcc/c_bytes]=$(wc -c <"$d/dcc/net.c")
  V[$m/params]=$(sed -n 's/^#define NET_N_PARAMS *//p' "$d/dcc/net.h")
  cp tests/bench/expert/$m.c "$d/expert/net.c"
  cp tests/bench/expert/*.h "$d/expert/" # the code two of them share
  cp tests/bench/empty_model.c "$d/empty/net.c"
  if [ -f tests/bench/plain/$m.c ]; then cp tests/bench/plain/$m.c "$d/plain/net.c"; fi

  # dcc -O0 refuses models whose trees pass its limits; clang may take too long.
  if $DCC "$src" --prefix net -O0 -o "$d/o0/full.c" 2>"$d/o0/err"; then
    # only _loss and _loss_grad: the one-function-per-param part is not measured
    awk '/^#include/ { print } /^net_real net_(loss|loss_grad)\(/ { f = 1 } f { print } f && /^}/ { f = 0 }' \
      "$d/o0/full.c" >"$d/o0/net.c"
    V[$m/o0/c_bytes]=$(wc -c <"$d/o0/full.c")
  else
    V[$m/o0/missing]="dcc -O0 refuses: $(sed -n 's/.*error: -O0: //p' "$d/o0/err" | head -1)"
  fi
  if [ -z "$SYMPY_PY" ]; then
    V[$m/sympy/missing]="SymPy is not installed"
  elif [ $m = gru_8_16_16 ] || [ $m = cnn_digits ] || [ $m = cnn_32x32 ]; then
    # SymPy has no loop: written out, 16 steps of a 1,264-param cell, or
    # every position of a convolution, its diff would take longer than the
    # 64-32-10 MLP's 5.5 hours.
    V[$m/sympy/missing]="not attempted: SymPy has no loop, and its diff does not finish the smaller 64-32-10 MLP"
  else
    s=$(date +%s%N)
    rc=0
    timeout "$SYMPY_LIMIT" "$SYMPY_PY" tests/bench/sympy_grad.py "$m" "$d/sympy/net.c" 2>"$d/sympy/err" || rc=$?
    e=$(date +%s%N)
    if [ $rc = 0 ]; then
      V[$m/sympy/seconds]=$(awk -v n=$(((e - s) / 1000000)) 'BEGIN { printf "%.1f", n / 1000 }')
      V[$m/sympy/c_bytes]=$(wc -c <"$d/sympy/net.c")
    elif [ $rc = 124 ]; then
      V[$m/sympy/seconds]="> $SYMPY_LIMIT"
      V[$m/sympy/missing]="SymPy did not finish in $SYMPY_LIMIT s (it got as far as: $(tail -1 "$d/sympy/err"))"
    else
      cat "$d/sympy/err" >&2
      echo "run-bench: tests/bench/sympy_grad.py failed on $m" >&2
      exit 1
    fi
  fi

  built=""
  for i in $IMPLS empty; do
    [ -f "$d/$i/net.c" ] || continue
    progress "$m: compiling $i"
    if ! timeout "$CLANG_LIMIT" $CC $CFLAGS -I"$d/$i" -o "$d/$i/run" tests/bench/bench_main.c "$d/$i/net.c" -lm; then
      V[$m/$i/missing]="$CC $CFLAGS did not finish in $CLANG_LIMIT s"
      continue
    fi
    $CC $CFLAGS -I"$d/$i" -o "$d/$i/count" tests/bench/bench_main.c tests/bench/count_libm.c "$d/$i/net.c" -lm $LIBM_WRAP
    $CC $CFLAGS -ffunction-sections -I"$d/$i" -c -o "$d/$i/net.o" "$d/$i/net.c"
    [ $i = empty ] || built="$built $i"
  done

  "$d/dcc/run" dump >"$d/dcc/dump"
  n=$(calls_for "$m")
  for e in loss loss_grad; do V[$m/empty/$e]=$(per_call "$d/empty/run" $e "$n"); done
  for i in $built; do
    progress "$m: measuring $i"
    "$d/$i/run" dump >"$d/$i/dump"
    # the same numbers as dcc's, or the comparison means nothing
    err=$(paste "$d/dcc/dump" "$d/$i/dump" | awk '
      { a = $2; b = $4; d = a - b; if (d < 0) d = -d; s = (a < 0 ? -a : a); t = (b < 0 ? -b : b)
        if (t > s) s = t; if (s < 1e-12) s = 1e-12; if (d / s > w) w = d / s }
      END { printf "%.1e", w }')
    if awk -v e="$err" 'BEGIN { exit !(e > 1e-9) }'; then
      echo "run-bench: $i computes another function than dcc for $m (relative difference $err)" >&2
      exit 1
    fi
    V[$m/$i/check]=$err
    k=$n
    [ $i = o0 ] && k=$(((n + 9) / 10))
    for e in loss loss_grad; do
      V[$m/$i/$e]=$(($(per_call "$d/$i/run" $e "$k") - V[$m/empty/$e]))
      V[$m/$i/libm_$e]=$(libm_calls "$d/$i/count" $e "$k")
      V[$m/$i/text_$e]=$(text_bytes ld "$d/$i/net.o" net_$e)
    done
    if [ -n "$ARM" ] && { [ $i = dcc ] || [ $i = expert ]; }; then
      arm-none-eabi-gcc -Os -std=c99 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
        -ffunction-sections -I"$d/$i" -c -o "$d/$i/arm.o" "$d/$i/net.c"
      V[$m/$i/arm_loss_grad]=$(text_bytes arm-none-eabi-ld "$d/$i/arm.o" net_loss_grad)
    fi
  done
  V[$m/built]=$built

  # wall-clock: 5 rounds, the implementations alternating within each
  for r in 1 2 3 4 5; do
    for i in $built; do
      "$d/$i/run" time >"$d/$i/time$r"
    done
  done
  for i in $built; do
    for e in loss loss_grad; do
      V[$m/$i/${e}_ns]=$(cat "$d/$i"/time? | sed -n "s/^${e}_ns //p" | median)
      V[$m/$i/${e}_tsc]=$(cat "$d/$i"/time? | sed -n "s/^${e}_tsc //p" | median)
    done
  done
  if [ -n "$TORCH_PY" ]; then
    progress "$m: PyTorch"
    "$TORCH_PY" tests/bench/torch_bench.py "$m" "$d/dcc/dump" >"$d/torch.out"
    for key in loss_ns loss_grad_ns batch_loss_grad_ns check_max_rel torch_version; do
      V[$m/torch/$key]=$(sed -n "s/^$key //p" "$d/torch.out")
    done
  fi
done

# ---- the tables ---------------------------------------------------------------
cell() { local v=${V[$1]:-}; echo "${v:-n/a}"; }

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
say "# make bench: $(date -u +%Y-%m-%d), $cpu, $(nproc) cores"
say ""
say "Compiler for every implementation: $($CC --version | head -1), $CFLAGS."
say "Every implementation was checked against dcc's loss and gradient first (worst relative difference in the last column of the first table)."
say ""
say "## Instructions per call (callgrind; the driver's own share subtracted)"
say ""
say "| model | params | dcc _loss | dcc _loss_grad | grad/loss | expert _loss | expert _loss_grad | expert grad/loss | **dcc / expert** | plain _loss_grad | dcc -O0 _loss_grad | SymPy _loss_grad | worst difference from dcc |"
say "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in $MODELS; do
  worst=$(for i in ${V[$m/built]}; do echo "${V[$m/$i/check]}"; done | sort -g | tail -1)
  say "| $m | ${V[$m/params]} | $(cell $m/dcc/loss) | $(cell $m/dcc/loss_grad) | $(ratio "${V[$m/dcc/loss_grad]}" "${V[$m/dcc/loss]}") | $(cell $m/expert/loss) | $(cell $m/expert/loss_grad) | $(ratio "${V[$m/expert/loss_grad]:-}" "${V[$m/expert/loss]:-}") | **$(ratio "${V[$m/dcc/loss_grad]}" "${V[$m/expert/loss_grad]:-}" 3)** | $(cell $m/plain/loss_grad) | $(cell $m/o0/loss_grad) | $(cell $m/sympy/loss_grad) | $worst |"
done
say ""
say "## Median wall-clock ns per call (5 rounds of 31 batches of about 0.5 ms, implementations alternating)"
say ""
say "| model | dcc _loss | dcc _loss_grad | grad/loss | expert _loss_grad | plain _loss | plain _loss_grad | **dcc / plain** | dcc -O0 _loss_grad | SymPy _loss_grad | PyTorch _loss | PyTorch _loss_grad | PyTorch batched, per sample |"
say "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in $MODELS; do
  say "| $m | $(cell $m/dcc/loss_ns) | $(cell $m/dcc/loss_grad_ns) | $(ratio "${V[$m/dcc/loss_grad_ns]}" "${V[$m/dcc/loss_ns]}") | $(cell $m/expert/loss_grad_ns) | $(cell $m/plain/loss_ns) | $(cell $m/plain/loss_grad_ns) | **$(ratio "${V[$m/dcc/loss_grad_ns]}" "${V[$m/plain/loss_grad_ns]:-}" 3)** | $(cell $m/o0/loss_grad_ns) | $(cell $m/sympy/loss_grad_ns) | $(cell $m/torch/loss_ns) | $(cell $m/torch/loss_grad_ns) | $(cell $m/torch/batch_loss_grad_ns) |"
done
if [ -n "$(cell $(echo $MODELS | cut -d' ' -f1)/dcc/loss_tsc | grep -v n/a)" ]; then
  say ""
  say "## Median time-stamp-counter ticks per call (the same batches; x86's constant-rate counter)"
  say ""
  say "| model | dcc _loss | dcc _loss_grad | expert _loss | expert _loss_grad | plain _loss | plain _loss_grad | **dcc / plain** | **dcc / expert** | SymPy _loss_grad |"
  say "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for m in $MODELS; do
    say "| $m | $(cell $m/dcc/loss_tsc) | $(cell $m/dcc/loss_grad_tsc) | $(cell $m/expert/loss_tsc) | $(cell $m/expert/loss_grad_tsc) | $(cell $m/plain/loss_tsc) | $(cell $m/plain/loss_grad_tsc) | **$(ratio "${V[$m/dcc/loss_grad_tsc]}" "${V[$m/plain/loss_grad_tsc]:-}" 3)** | **$(ratio "${V[$m/dcc/loss_grad_tsc]}" "${V[$m/expert/loss_grad_tsc]:-}" 3)** | $(cell $m/sympy/loss_grad_tsc) |"
  done
fi
if [ -n "$TORCH_PY" ]; then
  say ""
  say "PyTorch ${V[$(echo $MODELS | cut -d' ' -f1)/torch/torch_version]:-} float64, one thread; batched: 256 samples per forward and backward."
else
  say ""
  say "PyTorch: skipped (python3-torch is not installed)."
fi
say ""
say "## Compiling"
say ""
say "| model | dcc median ms | dcc peak memory KiB | dcc .c bytes | SymPy seconds (limit $SYMPY_LIMIT) | SymPy .c bytes | dcc -O0 .c bytes |"
say "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in $MODELS; do
  say "| $m | $(cell $m/dcc/compile_ms) | $(cell $m/dcc/peak_kib) | $(cell $m/dcc/c_bytes) | $(cell $m/sympy/seconds) | $(cell $m/sympy/c_bytes) | $(cell $m/o0/c_bytes) |"
done
say ""
say "## Code size: .text bytes of _loss_grad and what it calls"
say ""
say "| model | dcc x86-64 | expert x86-64 | dcc -O0 x86-64 | SymPy x86-64 | dcc Cortex-M4 | expert Cortex-M4 |"
say "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in $MODELS; do
  say "| $m | $(cell $m/dcc/text_loss_grad) | $(cell $m/expert/text_loss_grad) | $(cell $m/o0/text_loss_grad) | $(cell $m/sympy/text_loss_grad) | $(cell $m/dcc/arm_loss_grad) | $(cell $m/expert/arm_loss_grad) |"
done
say ""
if [ -n "$ARM" ]; then
  say "x86-64: $CC $CFLAGS.  Cortex-M4: $(arm-none-eabi-gcc --version | head -1), -Os -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16; the models are double, so the soft-float helpers they call are not counted."
else
  say "x86-64: $CC $CFLAGS.  Cortex-M4: skipped (arm-none-eabi-gcc is not installed)."
fi
say ""
say "## Transcendental calls per call (libm wrapped and counted)"
say ""
say "| model | minimum: dcc _loss | dcc _loss_grad | expert _loss_grad | dcc -O0 _loss_grad | SymPy _loss_grad |"
say "| --- | --- | --- | --- | --- | --- |"
for m in $MODELS; do
  say "| $m | $(cell $m/dcc/libm_loss) | $(cell $m/dcc/libm_loss_grad) | $(cell $m/expert/libm_loss_grad) | $(cell $m/o0/libm_loss_grad) | $(cell $m/sympy/libm_loss_grad) |"
done
say ""
say "## What was not measured"
say ""
any=""
for m in $MODELS; do
  for i in o0 sympy; do
    if [ -n "${V[$m/$i/missing]:-}" ]; then
      say "- $m, $i: ${V[$m/$i/missing]}"
      any=1
    fi
  done
done
[ -n "$any" ] || say "- nothing"
say ""
say "## Targets"
say ""
say "| target | model | measured | met |"
say "| --- | --- | --- | --- |"
target() { # target model a b limit: met when a / b <= limit, measured exactly (not as rounded for the table)
  local met shown
  met=$(awk -v a="$3" -v b="$4" -v l="$5" 'BEGIN { print (a != "" && b != "" && b > 0 && a / b <= l) ? "yes" : "**no**" }')
  shown=$(awk -v a="$3" -v b="$4" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.3fx (%s / %s)", a / b, a, b }')
  say "| $1 | $2 | $shown | $met |"
}
for m in $MODELS; do
  target "_loss_grad <= 1.0x expert (instructions)" "$m" "${V[$m/dcc/loss_grad]}" "${V[$m/expert/loss_grad]:-}" 1.0
done
for m in $MODELS; do
  [ -n "${V[$m/plain/loss_grad_ns]:-}" ] || continue
  target "_loss_grad median time <= plain's" "$m" "${V[$m/dcc/loss_grad_ns]}" "${V[$m/plain/loss_grad_ns]}" 1.0
done
for m in $MODELS; do
  case $m in
  five_points) target "_loss_grad <= 1.15x _loss" "$m" "${V[$m/dcc/loss_grad]}" "${V[$m/dcc/loss]}" 1.15 ;;
  mlp_*) target "_loss_grad <= 1.7x _loss" "$m" "${V[$m/dcc/loss_grad]}" "${V[$m/dcc/loss]}" 1.7 ;;
  gru_* | cnn_*) target "_loss_grad <= 3x _loss" "$m" "${V[$m/dcc/loss_grad]}" "${V[$m/dcc/loss]}" 3 ;;
  esac
done
for m in $MODELS; do
  met=$(awk -v v="${V[$m/dcc/compile_ms]}" 'BEGIN { print v < 200 ? "yes" : "**no**" }')
  say "| dcc compiles in < 0.2 s (median of 11) | $m | ${V[$m/dcc/compile_ms]} ms | $met |"
done
for m in $MODELS; do
  l=${V[$m/dcc/libm_loss]%% *}
  g=${V[$m/dcc/libm_loss_grad]%% *}
  met=$(awk -v g="$g" -v l="$l" 'BEGIN { print g <= l ? "yes" : "**no**" }')
  say "| no transcendental call beyond _loss's | $m | $g against $l | $met |"
done

# ---- dcc on a long sequence: what grows with the steps -----------------------
progress "gru: 10 and 10,000 steps"
say ""
say "## dcc on a long sequence: tests/bench/models/gru_8_16_16.expr made n steps long"
say ""
say "| steps n | dcc instructions | dcc median ms of 11 | peak memory KiB | peak memory KiB with --stats | .c bytes | workspace values (NET_WORKSPACE_SIZE) | workspace bytes |"
say "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in 10 10000; do
  d="$tmp/seq$n"
  mkdir -p "$d"
  sed "s/^input xs\[16\]\[8\]/input xs[$n][8]/" tests/bench/models/gru_8_16_16.expr >"$d/gru.expr"
  grep -q "^input xs\[$n\]\[8\]" "$d/gru.expr" || { echo "run-bench: cannot make gru_8_16_16.expr $n steps long" >&2; exit 1; }
  # the plain functions would need the workspace on the stack: dcc warns
  $DCC "$d/gru.expr" --prefix net -o "$d/net.c" 2>/dev/null
  ws=$(sed -n 's/^#define NET_WORKSPACE_SIZE *//p' "$d/net.h")
  peak=$($DCC "$d/gru.expr" --prefix net -o "$tmp/scratch.c" --stats 2>&1 | sed -n 's/^dcc: peak memory \([0-9]*\) KiB$/\1/p')
  rss=n/a # a plain compile's: --stats does work of its own (its counts)
  [ -x /usr/bin/time ] && rss=$(/usr/bin/time -f "maxrss %M" $DCC "$d/gru.expr" --prefix net -o "$tmp/scratch.c" 2>&1 | sed -n 's/^maxrss //p')
  say "| $n | $(instructions $DCC "$d/gru.expr" --prefix net -o "$tmp/scratch.c") | $(median_ms $DCC "$d/gru.expr" --prefix net -o "$tmp/scratch.c") | $rss | $peak | $(wc -c <"$d/net.c") | $ws | $((ws * 8)) |"
done
say ""
say "Peak memory: the maximum resident set of a plain compile (GNU time), and dcc's own figure under --stats (as in the table above), whose operation counts take memory of their own."

# ---- the workspace each model's functions need (PU_WORKSPACE_SIZE) ------------
# An L2 penalty must cost none (issue 14): the 64-32-32-16-10 MLP of
# tests/compiler/loops/Inputs/mlp_l2.expr, with and without it.
progress "workspace"
say ""
say "## Workspace: the reals of PU_WORKSPACE_SIZE (the largest need of any function; 0: unrolled, none)"
say ""
say "| model | workspace reals | bytes (double) |"
say "| --- | ---: | ---: |"
sed 's/ + 0.001 \* (l2(W1) + l2(W2) + l2(W3) + l2(W4))//' tests/compiler/loops/Inputs/mlp_l2.expr >"$tmp/mlp_no_l2.expr"
for f in $(for m in $MODELS; do echo "tests/bench/models/$m.expr"; done) tests/compiler/loops/Inputs/mlp_l2.expr "$tmp/mlp_no_l2.expr"; do
  ws=$($DCC "$f" -w --emit h --prefix net | sed -n 's/^#define NET_WORKSPACE_SIZE *//p')
  ws=${ws:-0}
  say "| $(basename "$f" .expr) | $ws | $((ws * 8)) |"
done

if [ -n "$SEQ_ONLY" ]; then
  cp "$tmp/out.md" "$BENCH_OUT"
  echo
  echo "written to $BENCH_OUT"
  exit 0
fi

# ---- dcc's own speed on a big unrolled model, and unrolled against loops ------
progress "mlp10k"
unrolled="--unroll-limit 1000000000"
nodes=$($DCC tests/bench/mlp10k.expr $unrolled --emit dot | grep -c "^  n[0-9]* \[")
say ""
say "## dcc on its worst case: tests/bench/mlp10k.expr unrolled to scalars ($nodes DAG nodes)"
say ""
say "| instructions | median ms of 11 |"
say "| ---: | ---: |"
say "| $(instructions $DCC tests/bench/mlp10k.expr $unrolled -o "$tmp/m.c") | $(median_ms $DCC tests/bench/mlp10k.expr $unrolled -o "$tmp/m.c") |"

progress "unrolled against loops"
say ""
say "## Unrolled code or loops: one n x n layer (tanh, mse), _loss_grad per call"
say ""
say "What DCC_UNROLL_LIMIT, the default of --unroll-limit, is chosen by."
say ""
say "| weights | unrolled instructions | loops instructions | unrolled .text bytes | loops .text bytes |"
say "| ---: | ---: | ---: | ---: | ---: |"
for n in 4 8 16 32; do
  d="$tmp/layer$n"
  mkdir -p "$d/u" "$d/l"
  printf 'input x[%d], y[%d]\nparam W[%d][%d], b[%d] = zeros\nh = tanh(W @ x + b)\nloss = mse(h, y)\n' $n $n $n $n $n >"$d/layer.expr"
  $DCC "$d/layer.expr" --prefix net --unroll-limit 1000000000 -o "$d/u/net.c"
  $DCC "$d/layer.expr" --prefix net --unroll-limit 0 -o "$d/l/net.c"
  for v in u l; do
    $CC $CFLAGS -I"$d/$v" -o "$d/$v/run" tests/bench/bench_main.c "$d/$v/net.c" -lm
    $CC $CFLAGS -c "$d/$v/net.c" -o "$d/$v/net.o"
  done
  text() { size -A "$1" | awk '$1 == ".text" { print $2 }'; }
  say "| $((n * n)) | $(per_call "$d/u/run" loss_grad 200) | $(per_call "$d/l/run" loss_grad 200) | $(text "$d/u/net.o") | $(text "$d/l/net.o") |"
done

scale_section

cp "$tmp/out.md" "$BENCH_OUT"
echo
echo "written to $BENCH_OUT"
