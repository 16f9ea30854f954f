#!/usr/bin/env python3
"""stability: the stable builtins' values and derivatives, in the C dcc
emits (double), against 50-digit references from mpmath.

    stability.py --dcc DCC [--cc CC] [--markdown]

For each builtin f, a model `loss = f(x + w)` (w a zero param, so that
d loss / d w is f' at x) is compiled with dcc and run at the inputs below;
the loss and every gradient component are compared with mpmath.  Error:
|c - r| / max(|r|, DBL_MIN): relative, except where the exact value is
below double's normal range (e^-1000 is 0 in double, and that is right).
A reference beyond double's range must come out as that infinity; every
other result must be finite.  Prints one line per builtin (or a markdown
table with --markdown) and "stability: N builtins, worst relative error E
(tolerance T): ok"; exit status 1 if a result is off.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import mpmath

mpmath.mp.dps = 50
TOLERANCE = 1e-13
DBL_MIN = 2.2250738585072014e-308
DBL_MAX = 1.7976931348623157e308
M = mpmath.mpf


def sig(x):
    return 1 / (1 + mpmath.exp(-x))


def softplus(x):
    return mpmath.log1p(mpmath.exp(x))


def lse(v):
    m = max(v)
    return m + mpmath.log(sum(mpmath.exp(u - m) for u in v))


def softmax(v):
    s = lse(v)
    return [mpmath.exp(u - s) for u in v]


C3 = [M('0.2'), M('0.3'), M('0.5')]
EDGES = ['-1000', '-1e-300', '0', '1e-300', '1000']


# name: (declarations, loss, points [(inputs)], reference(inputs) -> (value, [gradient w.r.t. w]))
CASES = [
    ('softplus', 'input x\nparam w\n', 'softplus(x + w)', [[e] for e in EDGES],
     lambda x: (softplus(x[0]), [sig(x[0])])),
    ('sigmoid', 'input x\nparam w\n', 'sigmoid(x + w)', [[e] for e in EDGES],
     lambda x: (sig(x[0]), [sig(x[0]) * (1 - sig(x[0]))])),
    ('log1p', 'input x\nparam w\n', 'log1p(x + w)', [[e] for e in ['-0.5', '-1e-300', '0', '1e-300', '1000']],
     lambda x: (mpmath.log1p(x[0]), [1 / (1 + x[0])])),
    ('expm1', 'input x\nparam w\n', 'expm1(x + w)', [[e] for e in EDGES],
     lambda x: (mpmath.expm1(x[0]), [mpmath.exp(x[0])])),
    ('bce_logits', 'input x, y\nparam w\n', 'bce_logits(x + w, y)',
     [[e, y] for e in EDGES for y in ['0', '1', '0.3']],
     lambda x: (softplus(x[0]) - x[0] * x[1], [sig(x[0]) - x[1]])),
    ('bce', 'input x, y\nparam w\n', 'bce(x + w, y)',
     [[p, y] for p in ['1e-300', '1e-3', '0.5', '0.999'] for y in ['0', '1', '0.3']],
     lambda x: (-x[1] * mpmath.log(x[0]) - (1 - x[1]) * mpmath.log1p(-x[0]),
                [-x[1] / x[0] + (1 - x[1]) / (1 - x[0])])),
    ('logsumexp', 'input x[3]\nparam w[3]\n', 'logsumexp(x + w)',
     [['1000', '-1000', '0'], ['1e-300', '-1e-300', '0'], ['0', '0', '0'], ['-1000', '-1000', '-1000']],
     lambda x: (lse(x), softmax(x))),
    ('log_softmax', 'input x[3]\nparam w[3]\n', 'sum(log_softmax(x + w) * [c])',
     [['1000', '-1000', '0'], ['1e-300', '-1e-300', '0'], ['0', '0', '0']],
     lambda x: (sum(c * (u - lse(x)) for c, u in zip(C3, x)),
                [c - s * sum(C3) for c, s in zip(C3, softmax(x))])),
    ('softmax', 'input x[3]\nparam w[3]\n', 'sum(softmax(x + w) * [c])',
     [['1000', '-1000', '0'], ['1e-300', '-1e-300', '0'], ['0', '0', '0']],
     lambda x: (sum(c * s for c, s in zip(C3, softmax(x))),
                [s * (c - sum(sk * ck for sk, ck in zip(softmax(x), C3))) for c, s in zip(C3, softmax(x))])),
    ('cross_entropy', 'input x[3], t[3]\nparam w[3]\n', 'cross_entropy(x + w, t)',
     [z + t for z in (['1000', '-1000', '0'], ['1e-300', '-1e-300', '0'], ['0', '0', '0'])
      for t in (['0', '0', '1'], ['0.2', '0.3', '0.5'])],
     lambda x: (-sum(t * (u - lse(x[:3])) for t, u in zip(x[3:], x[:3])),
                [s * sum(x[3:]) - t for s, t in zip(softmax(x[:3]), x[3:])])),
]

DRIVER = r'''
#include <stdio.h>
#include <stdlib.h>
#include "m.h"
int main(int argc, char **argv) {
    m_real in[M_N_IN], p[M_N_PARAMS] = {0}, g[M_N_PARAMS];
    for (int i = 0; i < M_N_IN && i + 1 < argc; i++)
        in[i] = strtod(argv[i + 1], NULL);
    printf("%.17g", m_loss_grad(in, p, g));
    for (int j = 0; j < M_N_PARAMS; j++)
        printf(" %.17g", g[j]);
    printf("\n");
    return 0;
}
'''


def error(c, r):
    """c (a double) against r (an mpf): relative error, or inf if c is
    not the right kind of number."""
    if abs(r) > DBL_MAX * (1 + M('1e-16')):
        return 0.0 if c == (float('inf') if r > 0 else float('-inf')) else float('inf')
    if c != c or abs(c) == float('inf'):
        return float('inf')
    return float(abs(M(c) - r) / max(abs(r), M(DBL_MIN)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dcc', required=True)
    ap.add_argument('--cc', default='cc')
    ap.add_argument('--markdown', action='store_true')
    a = ap.parse_args()
    worst_all = 0.0
    rows = []
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'driver.c'), 'w') as f:
            f.write(DRIVER)
        for name, decl, loss, points, ref in CASES:
            loss = loss.replace('[c]', 'c')
            decl2 = decl + ('input c[3]\n' if ' c)' in loss else '')
            model = os.path.join(tmp, 'm.expr')
            with open(model, 'w') as f:
                f.write(decl2 + 'loss = %s\n' % loss)
            subprocess.run([a.dcc, '-w', model, '--prefix', 'm', '-o', os.path.join(tmp, 'm.c')], check=True)
            exe = os.path.join(tmp, 'm')
            subprocess.run([a.cc, '-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-I' + tmp, os.path.join(tmp, 'm.c'),
                            os.path.join(tmp, 'driver.c'), '-o', exe, '-lm'], check=True)
            worst_v = worst_g = 0.0
            for pt in points:
                args = pt + (['0.2', '0.3', '0.5'] if ' c)' in loss else [])
                out = subprocess.run([exe] + args, capture_output=True, text=True, check=True).stdout.split()
                got = [float(v) for v in out]
                value, grad = ref([M(v) for v in pt])
                ev = error(got[0], value)
                eg = max(error(c, r) for c, r in zip(got[1:], grad))
                worst_v, worst_g = max(worst_v, ev), max(worst_g, eg)
                if ev > TOLERANCE or eg > TOLERANCE:
                    ok = False
                    print('stability: %s at %s: got %s, want %s and %s' % (
                        name, ' '.join(pt), ' '.join(out), mpmath.nstr(value, 17),
                        ' '.join(mpmath.nstr(r, 17) for r in grad)))
            worst_all = max(worst_all, worst_v, worst_g)
            inputs = sorted({v for pt in points for v in pt[:1 if len(pt) < 3 else 3]}, key=float)
            rows.append((name, loss, ', '.join(inputs), worst_v, worst_g))
    if a.markdown:
        print('| builtin | loss tested | inputs tried | worst relative error: value | derivative |')
        print('| --- | --- | --- | ---: | ---: |')
        for name, loss, inputs, ev, eg in rows:
            print('| `%s` | `%s` | %s | %.2g | %.2g |' % (name, loss, inputs, ev, eg))
    else:
        for name, loss, inputs, ev, eg in rows:
            print('stability: %-13s worst relative error %.2g (value), %.2g (derivative) at %s' % (name, ev, eg, inputs))
    print('stability: %d builtins, worst relative error %.2g (tolerance %g): %s' % (
        len(rows), worst_all, TOLERANCE, 'ok' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
