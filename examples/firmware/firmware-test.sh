#!/usr/bin/env bash
# make firmware-test: build both firmware programs, run them under
# qemu-system-arm (MPS2-AN386, a Cortex-M4F) and on the host, and check:
#  - the two print the same lines, every number within 1e-4 relative
#    (1e-6 absolute): the same float code, but newlib's tanhf and expf are
#    not glibc's, and 250 epochs of training carry an ulp here and there
#    into the sixth digit;
#  - the five-point trainer reproduces lab 5 (loss 1.905, the predictions),
#    the digits classifier reaches 0.95 held-out accuracy on the board;
#  - the linked programs call no double libm function (tanh, exp, log, ...:
#    only tanhf, expf, logf, ...).
# Without the Arm tools it says it was skipped and succeeds.
set -uo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v arm-none-eabi-gcc >/dev/null || missing+=(gcc-arm-none-eabi)
# the compiler prints the bare name back when it has no such file
[ -f "$(arm-none-eabi-gcc -print-file-name=rdimon.specs 2>/dev/null)" ] || missing+=(libnewlib-arm-none-eabi)
command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "firmware-test: SKIPPED: needs ${missing[*]} (apt-get install -y ${missing[*]})"
  exit 0
fi

make -s firmware || exit 1
out=build/firmware/test
mkdir -p "$out"
status=0
run() { # run NAME: under qemu and on the host
  timeout 600 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
    -kernel "build/firmware/$1.elf" > "$out/$1.arm.txt" || { echo "firmware-test: $1.elf failed under qemu"; status=1; }
  "build/firmware/$1_host" > "$out/$1.host.txt" || { echo "firmware-test: $1_host failed"; status=1; }
  echo "firmware-test: $1: $(python3 tests/lib/numdiff.py --skip stack: "$out/$1.host.txt" "$out/$1.arm.txt")" ||
    status=1
  python3 tests/lib/numdiff.py --skip stack: "$out/$1.host.txt" "$out/$1.arm.txt" > /dev/null || status=1
  grep '^stack:' "$out/$1.arm.txt" | sed "s/^/firmware-test: $1: /"
  local doubles
  doubles=$(arm-none-eabi-nm "build/firmware/$1.elf" |
    grep -E ' [TtWw] (tanh|exp|expm1|log|log1p|sqrt|pow|sin|cos|erf|fabs|fmax|fmin)$' || true)
  if [ -n "$doubles" ]; then
    echo "firmware-test: $1.elf links double libm functions:" $doubles
    status=1
  else
    echo "firmware-test: $1: no double libm function linked ($(arm-none-eabi-nm "build/firmware/$1.elf" |
      grep -oE ' (tanh|exp|expm1|log|log1p|sqrt|pow|sin|cos|erf|fabs)f$' | tr -d ' ' | sort | tr '\n' ' '))"
  fi
}
run five_points
run digits

# Lab 5's numbers, on the board.
grep -q '^EPOCH: 250  LOSS: 1.905' "$out/five_points.arm.txt" || { echo "firmware-test: five_points: not lab 5's final loss"; status=1; }
grep -q '^SAMPLE: 0  TRUE: 1  PRED: 0.38' "$out/five_points.arm.txt" || { echo "firmware-test: five_points: not lab 5's predictions"; status=1; }
grep '^held-out accuracy' "$out/digits.arm.txt" | sed 's/^/firmware-test: digits on the board: /'
awk '/^held-out accuracy/ { exit !($3 >= 0.95) }' "$out/digits.arm.txt" || { echo "firmware-test: digits: held-out accuracy below 0.95"; status=1; }
[ $status -eq 0 ] && echo "firmware-test: passed" || echo "firmware-test: FAILED"
exit $status
