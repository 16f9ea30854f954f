#!/usr/bin/env python3
"""softplus_tail: softplus(x) and bce_logits(x, y) as dcc emits them, in
double and float, against 50-digit mpmath references across the whole
range, the tail where softplus(x) = log1p(e^x) is tiny included.

    softplus_tail.py --dcc DCC [--cc CC]

dcc takes log1p(E), E = exp(-|x|), as log(1+E) plus the rounding error
of 1+E (compiler/lower.c).  Without that error term, log(1+E) is 0 where
1+E rounds to 1 (x below about -37 in double, -17 in float) and loses
digits well before: at x = -20 a relative error of about 1e-8.  With it,
the value must be within a few units in the last place everywhere the
result is a normal number.  Prints the worst relative error per builtin and
type and "softplus_tail: ok" (exit status 1 and the points that are off
otherwise).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import mpmath

mpmath.mp.dps = 50
# a few units in the last place (2^-53, 2^-24) of a normal result
TOL = {'double': 4 * 2.0 ** -53, 'float': 4 * 2.0 ** -24}
TINY = {'double': 2.2250738585072014e-308, 'float': 1.1754943508222875e-38}
XS = ['-745', '-700', '-100', '-87', '-60', '-40', '-36.8', '-30', '-20', '-16', '-10', '-5', '-1',
      '-0.001', '-1e-20', '0', '1e-20', '0.001', '1', '5', '16', '20', '40', '100', '1000']

DRIVER = r'''
#include <stdio.h>
#include <stdlib.h>
#include "m.h"
int main(int argc, char **argv) {
    m_real in[2] = {0, 0}, p[1] = {0};
    for (int i = 1; i < argc; i++) {
        in[0] = (m_real)strtod(argv[i], NULL);
        printf("%.17g\n", (double)m_loss(in, p));
    }
    return 0;
}
'''


def softplus(x):
    return mpmath.log1p(mpmath.exp(x))


CASES = [  # name, declarations, loss, reference(x)
    ('softplus', 'input x, y\nparam w\n', 'softplus(x + w)', softplus),
    ('softplus(-x)', 'input x, y\nparam w\n', 'softplus(-(x + w))', lambda x: softplus(-x)),
    ('bce_logits y=0', 'input x, y\nparam w\n', 'bce_logits(x + w, y)', softplus),
    # y + 1 (y is 0): a target of 1 that the rules cannot fold, so that
    # softplus(z) - z*y stays a difference: softplus(-z), tiny for large z,
    # where max(z, 0) - z*y must cancel before log(1+E) is added
    ('bce_logits y=1', 'input x, y\nparam w\n', 'bce_logits(x + w, y + 1)', lambda x: softplus(-x)),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dcc', required=True)
    ap.add_argument('--cc', default='cc')
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'driver.c'), 'w') as f:
            f.write(DRIVER)
        for real in ('double', 'float'):
            for name, decl, loss, ref in CASES:
                model = os.path.join(tmp, 'm.expr')
                with open(model, 'w') as f:
                    f.write(decl + 'loss = %s\n' % loss)
                subprocess.run([a.dcc, '-w', model, '--real', real, '--prefix', 'm', '-o',
                                os.path.join(tmp, 'm.c')], check=True)
                exe = os.path.join(tmp, 'm')
                subprocess.run([a.cc, '-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-I' + tmp,
                                os.path.join(tmp, 'm.c'), os.path.join(tmp, 'driver.c'), '-o', exe, '-lm'],
                               check=True)
                # the inputs as the type holds them, so that the reference is of the same x
                xs = [float(mpmath.mpf(v)) for v in XS]
                if real == 'float':
                    import struct
                    xs = [struct.unpack('f', struct.pack('f', v))[0] if abs(v) < 3e38 else v for v in xs]
                out = subprocess.run([exe] + ['%.17g' % v for v in xs], capture_output=True, text=True,
                                     check=True).stdout.split()
                worst = 0.0
                for v, got in zip(xs, out):
                    r = ref(mpmath.mpf(v))
                    c = float(got)
                    if c != c or abs(c) == float('inf'):
                        err = float('inf')
                    else:
                        err = float(abs(mpmath.mpf(c) - r) / max(abs(r), mpmath.mpf(TINY[real])))
                    worst = max(worst, err)
                    if err > TOL[real]:
                        ok = False
                        print('softplus_tail: %s (%s) at %.17g: got %s, want %s (relative error %.2g)' % (
                            name, real, v, got, mpmath.nstr(r, 17), err))
                print('softplus_tail: %-15s %-6s worst relative error %.2g (tolerance %.2g)' % (
                    name, real, worst, TOL[real]))
    print('softplus_tail: %s' % ('ok' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
