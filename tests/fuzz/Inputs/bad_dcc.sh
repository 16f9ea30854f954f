#!/bin/sh
# A dcc whose C is wrong on purpose, for run-c.test: it runs the real dcc
# ($DCC_REAL), then breaks what it wrote as $BAD says:
#   nan: m_loss_grad's first gradient component is NaN (fuzzrun.py must
#        report a NaN where dcc --eval is finite, and m_sgd_step's update
#        disagreeing with it);
#   ub:  m_loss converts a huge double to int, undefined behaviour that
#        UBSan reports (fuzzrun.py: a sanitizer finding).
"$DCC_REAL" "$@" || exit $?
out=
prev=
for a in "$@"; do
  case "$prev" in -o) out=$a ;; esac
  prev=$a
done
[ -n "$out" ] || exit 0
case "$BAD" in
nan) sed '/^m_real m_loss_grad(/,/^}/ s/^\(    grad\[0\] = \)\(.*\);$/\1(\2) + 0.0 \/ 0.0;/' "$out" > "$out.tmp" ;;
ub) sed '/^m_real m_loss(/,/^}/ s/^    return \(.*\);$/    return (\1) + (double)(int)(1e30 + p[0]);/' "$out" > "$out.tmp" ;;
*) exit 0 ;;
esac
mv "$out.tmp" "$out"
