#!/usr/bin/env bash
# The body of `make test`: run every lit test under tests/ and end with one
# line "N passed, N failed".  Failed counts lit's Failed, Unresolved, Timed
# Out and unexpectedly passed (XPASS) tests; unsupported tests (the firmware
# test without the Arm tools) are not counted, but named as skipped.  Exits non-zero if anything failed (or lit itself broke).
#
# Usage: tests/run-tests.sh [extra lit options, e.g. tests/numeric or --filter X]
# Environment: DCC / DCC_RELEASE override the dcc under test (see lit.cfg.py),
# LIT overrides the lit command, LIT_JOBS the parallelism (default 2).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo" || exit 2

python=$(command -v python3 || command -v python || true)
if [ -n "${LIT:-}" ]; then
    read -r -a lit <<<"$LIT"
elif [ -n "$python" ] && [ -f /usr/lib/llvm-14/build/utils/lit/lit.py ]; then
    lit=("$python" /usr/lib/llvm-14/build/utils/lit/lit.py)
elif command -v lit >/dev/null 2>&1; then
    lit=(lit)
elif command -v lit.py >/dev/null 2>&1; then
    lit=(lit.py)
else
    echo "run-tests.sh: lit not found (apt-get install llvm-14-dev)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

args=(-sv -j"${LIT_JOBS:-2}")
# A per-test time limit needs psutil in lit 14; use one when it is there.
if [ -n "$python" ] && "$python" -c 'import psutil' >/dev/null 2>&1; then
    args+=(--timeout 600)
fi

results=$(mktemp "${TMPDIR:-/tmp}/dcc-lit.XXXXXX.json") || exit 2
started=$(mktemp "${TMPDIR:-/tmp}/dcc-lit.XXXXXX.stamp") || exit 2
trap 'rm -f "$results" "$started"' EXIT

# Paths to run: the arguments that name files or folders, or all of tests/.
have_target=
for a in "$@"; do
    case "$a" in -*) ;; *) [ -e "$a" ] && have_target=1 ;; esac
done
[ -n "$have_target" ] || set -- "$@" "$here"

"${lit[@]}" "${args[@]}" -o "$results" "$@"
lit_status=$?

summary=$("$python" - "$results" "$lit_status" <<'EOF'
import json, sys
path, status = sys.argv[1], int(sys.argv[2])
passed_codes = {'PASS', 'XFAIL', 'FLAKYPASS'}
failed_codes = {'FAIL', 'UNRESOLVED', 'TIMEOUT', 'XPASS'}
passed = failed = 0
try:
    with open(path) as f:
        tests = json.load(f).get('tests', [])
except (OSError, ValueError):
    tests = None
skipped = []
for t in tests or []:
    code = t.get('code')
    if code in passed_codes:
        passed += 1
    elif code in failed_codes:
        failed += 1
    elif code == 'UNSUPPORTED':
        skipped.append(t.get('name', '?'))
# Say what did not run here (a REQUIRES: feature missing: the firmware test
# without the Arm tools), on standard error, before the summary line.
for name in skipped:
    sys.stderr.write('skipped (not supported on this machine): %s\n' % name)
# lit failed without a failing test (no tests found, a broken config, ...):
# that is a failure too.
if status != 0 and failed == 0:
    failed = 1
print('%d passed, %d failed' % (passed, failed))
EOF
) || summary="0 passed, 1 failed"

# The figures of the differential test (random programs), when it ran.
differential="$repo/build/tests/numeric/Output/differential.test.tmp.out"
if [ -f "$differential" ] && [ "$differential" -nt "$started" ]; then
    grep '^exprgen: [0-9]* programs' "$differential" | tail -n 1
fi
echo "$summary"
case "$summary" in
    *" 0 failed") exit 0 ;;
    *) exit 1 ;;
esac
