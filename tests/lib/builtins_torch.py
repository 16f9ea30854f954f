#!/usr/bin/env python3
"""builtins_torch: every elementwise builtin of the language, in the C dcc
emits (double), against PyTorch float64 autograd, value and derivative, at
0, +-1e-300, +-1e300, +-inf and a few ordinary numbers.

    builtins_torch.py --dcc DCC [--cc CC] --ops compiler/ops.h

The builtins come from ops.h: the scalar ops' language names (the `lang`
column of DCC_SCALAR_OPS) and the rows of DCC_BUILTINS.  Each is either a
case below (with PyTorch's function for it) or named in NOT_ELEMENTWISE
(reductions, losses, diff: other tests check them); a builtin in neither
fails the test, so that a new one gets its row.  The operators + - * / ^
and unary - are cases too, and so are x^c for the constants the
simplifier rewrites (x^2 -> x*x, x^0.5 -> sqrt, ...).

For each case, a model `param a[, b]` / `loss = EXPR` is compiled by dcc
(its loss and d loss / d a, d loss / d b) and evaluated at every point
(unary: each number; binary: every pair), and PyTorch computes the same
with autograd.  Two results agree when both are NaN, both the same
infinity, or both finite within 8 ulps relative (or 1e-300 absolute, for
results that underflow); the sign of a zero is not compared.  Where dcc
differs from PyTorch on purpose (or PyTorch is wrong), DELIBERATE says what
dcc gives there and why, and the test checks that dcc gives that.

Prints one line per case and
    builtins-torch: N cases (B builtins, O operators and powers), P points, D deliberate differences, F mismatches
exit status 1 if F > 0 or a builtin has no row.
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

SPECIAL = ['0', '1e-300', '-1e-300', '1e300', '-1e300', 'inf', '-inf']
ORDINARY = ['1e308', '-1e308', '0.5', '-1.5', '2']
POINTS = SPECIAL + ORDINARY

# name in the language -> (expression, arity, PyTorch's function of the params)
BUILTINS = {
    'exp': ('exp(a)', 1, torch.exp),
    'log': ('log(a)', 1, torch.log),
    'log1p': ('log1p(a)', 1, torch.log1p),
    'expm1': ('expm1(a)', 1, torch.expm1),
    'sqrt': ('sqrt(a)', 1, torch.sqrt),
    'abs': ('abs(a)', 1, torch.abs),
    'tanh': ('tanh(a)', 1, torch.tanh),
    'sin': ('sin(a)', 1, torch.sin),
    'cos': ('cos(a)', 1, torch.cos),
    'erf': ('erf(a)', 1, torch.erf),
    'atan': ('atan(a)', 1, torch.atan),
    'sigmoid': ('sigmoid(a)', 1, torch.sigmoid),
    'softplus': ('softplus(a)', 1, F.softplus),
    'pow': ('pow(a, b)', 2, torch.pow),
    'relu': ('relu(a)', 1, torch.relu),
    'gelu': ('gelu(a)', 1, F.gelu),
    'leaky_relu': ('leaky_relu(a, 0.01)', 1, lambda a: F.leaky_relu(a, 0.01)),
    'max': ('max(a, b)', 2, torch.maximum),
    'min': ('min(a, b)', 2, torch.minimum),
}

# Builtins that are not elementwise functions of their arguments: sums,
# products, the softmax family, the losses, shapes, convolutions, fold, scan,
# pooling and diff (tests/numeric checks them against finite differences
# and PyTorch, stability.py at the extremes).
NOT_ELEMENTWISE = {'sum', 'mean', 'dot', 'transpose', 'softmax', 'log_softmax', 'logsumexp', 'mse', 'bce',
                   'bce_logits', 'cross_entropy', 'l2', 'diff', 'amax', 'reshape', 'flatten', 'concat',
                   'full', 'conv1d', 'conv2d', 'dwconv1d', 'dwconv2d', 'maxpool1d', 'maxpool2d',
                   'avgpool1d', 'avgpool2d', 'fold', 'scan'}

# The operators, and the constant powers the simplifier rewrites.
OPERATORS = [
    ('a + b', 2, lambda a, b: a + b),
    ('a - b', 2, lambda a, b: a - b),
    ('a * b', 2, lambda a, b: a * b),
    ('a / b', 2, lambda a, b: a / b),
    ('-a', 1, lambda a: -a),
    ('a ^ b', 2, torch.pow),
    ('a ^ 2', 1, lambda a: torch.pow(a, 2.0)),
    ('a ^ 3', 1, lambda a: torch.pow(a, 3.0)),
    ('a ^ 0.5', 1, lambda a: torch.pow(a, 0.5)),
    ('a ^ -1', 1, lambda a: torch.pow(a, -1.0)),
    ('a ^ -2', 1, lambda a: torch.pow(a, -2.0)),
    ('2 ^ a', 1, lambda a: torch.pow(2.0, a)),
    ('0 ^ a', 1, lambda a: torch.pow(0.0, a)),
]

# Where dcc differs from PyTorch on purpose: (expression, point, which
# result: 0 the value, 1 d/da, 2 d/db) -> (what dcc gives, why).
INF, NAN = float('inf'), float('nan')
TIE = ('at a tie the derivative goes whole to a (language.md: max passes it to a when a >= b, '
       'min when a <= b); PyTorch splits it, half to each')
DELIBERATE = {}
for x in SPECIAL + ORDINARY:
    for expr, which, value in (('max(a, b)', 1, 1.0), ('max(a, b)', 2, 0.0),
                               ('min(a, b)', 1, 1.0), ('min(a, b)', 2, 0.0)):
        DELIBERATE[(expr, (x, x), which)] = (value, TIE)
SQRT = ('x^0.5 is sqrt(x) (simplify.c: exact for finite reals): sqrt(-inf) is NaN where pow(-inf, 0.5) is +inf')
DELIBERATE[('a ^ 0.5', ('-inf',), 0)] = (NAN, SQRT)
DELIBERATE[('a ^ 0.5', ('-inf',), 1)] = (NAN, SQRT)
DELIBERATE[('log1p(a)', ('1e308',), 0)] = (
    math.log1p(1e308), 'log1p(1e308) is 709.196..., as C\'s log1p and Python\'s math.log1p say; PyTorch\'s float64 '
    'log1p gives inf there (a defect of PyTorch\'s: dcc is right)')


def builtin_names(ops_h):
    """The language's builtins in ops.h: the scalar ops' lang column and
    the DCC_BUILTINS rows."""
    text = open(ops_h).read()
    scalar = text[text.index('#define DCC_SCALAR_OPS'):text.index('#define DCC_TENSOR_OPS')]
    names = []
    for row in re.finditer(r'X\(\s*\w+\s*,\s*\d+\s*,\s*"[^"]*"\s*,\s*"[^"]*"\s*,\s*\w+\s*,\s*\d+\s*,\s*"([^"]*)"',
                           scalar):
        if row.group(1):
            names.append(row.group(1))
    builtins = text[text.index('#define DCC_BUILTINS'):]
    builtins = builtins[:builtins.index('\n\n')]
    names += re.findall(r'X\(\s*\w+\s*,\s*"([^"]+)"', builtins)
    return names


def agree(c, r):
    if math.isnan(c) or math.isnan(r):
        return math.isnan(c) and math.isnan(r)
    if math.isinf(c) or math.isinf(r):
        return c == r
    return abs(c - r) <= max(8 * 2.0 ** -52 * abs(r), 1e-300)


def torch_results(fn, arity, point):
    args = [torch.tensor(float(x), requires_grad=True) for x in point]
    y = fn(*args)
    grads = torch.autograd.grad(y, args, allow_unused=True)
    return [y.item()] + [0.0 if g is None else g.item() for g in grads]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dcc', required=True)
    ap.add_argument('--cc', default='cc')
    ap.add_argument('--ops', required=True)
    a = ap.parse_args()

    names = builtin_names(a.ops)
    missing = [n for n in names if n not in BUILTINS and n not in NOT_ELEMENTWISE]
    for n in missing:
        print('builtins-torch: builtin %s has no row (add it to BUILTINS or NOT_ELEMENTWISE)' % n)
    stale = [n for n in list(BUILTINS) + sorted(NOT_ELEMENTWISE) if n not in names]
    for n in stale:
        print('builtins-torch: %s is not a builtin in ops.h' % n)

    cases = [(BUILTINS[n][0], BUILTINS[n][1], BUILTINS[n][2]) for n in names if n in BUILTINS] + OPERATORS
    mismatches = deliberate = points = 0
    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for k, (expr, arity, _) in enumerate(cases):
            model = os.path.join(tmp, 'f%d.expr' % k)
            with open(model, 'w') as f:
                f.write('param a%s\nloss = %s\n' % (', b' if arity == 2 else '', expr))
            src = os.path.join(tmp, 'f%d.c' % k)
            subprocess.run([a.dcc, model, '--prefix', 'f%d' % k, '--no-header', '-o', src], check=True)
            sources.append(src)
        driver = os.path.join(tmp, 'driver.c')
        with open(driver, 'w') as f:
            f.write('#include <stdio.h>\n#include <stdlib.h>\n')
            for k in range(len(cases)):
                f.write('double f%d_loss_grad(const double *in, const double *p, double *grad);\n' % k)
            f.write('static double (*const fs[])(const double *, const double *, double *) = {%s};\n' %
                    ', '.join('f%d_loss_grad' % k for k in range(len(cases))))
            f.write(r'''
/* Lines "CASE ARITY A [B]": print the loss and the gradient, %.17g. */
int main(void) {
    int k, n;
    double p[2], g[2], in[1] = {0};
    while (scanf("%d %d %lf", &k, &n, &p[0]) == 3) {
        if (n == 2 && scanf("%lf", &p[1]) != 1)
            return 2;
        printf("%.17g", fs[k](in, p, g));
        for (int j = 0; j < n; j++)
            printf(" %.17g", g[j]);
        printf("\n");
    }
    return 0;
}
''')
        exe = os.path.join(tmp, 'table')
        subprocess.run([a.cc, '-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-pedantic', '-o', exe, driver] +
                       sources + ['-lm'], check=True)
        queries, lines = [], []
        for k, (expr, arity, fn) in enumerate(cases):
            pts = [(x,) for x in POINTS] if arity == 1 else [(x, y) for x in POINTS for y in POINTS]
            for pt in pts:
                queries.append((k, pt))
                lines.append('%d %d %s' % (k, arity, ' '.join(pt)))
        out = subprocess.run([exe], input='\n'.join(lines) + '\n', capture_output=True, text=True,
                             check=True).stdout.split('\n')
        per_case = {}
        for (k, pt), line in zip(queries, out):
            expr, arity, fn = cases[k]
            got = [float(v) for v in line.split()]
            want = torch_results(fn, arity, pt)
            points += 1
            stats = per_case.setdefault(k, [0, 0, 0])
            stats[0] += 1
            for which, (c, r) in enumerate(zip(got, want)):
                what = ['value', 'd/da', 'd/db'][which]
                d = DELIBERATE.get((expr, pt, which))
                if d is not None:
                    deliberate += 1
                    stats[1] += 1
                    if not agree(c, d[0]):
                        mismatches += 1
                        stats[2] += 1
                        print('builtins-torch: MISMATCH %s at %s: %s is %r, the deliberate difference says %r (%s)' %
                              (expr, ', '.join(pt), what, c, d[0], d[1]))
                elif not agree(c, r):
                    mismatches += 1
                    stats[2] += 1
                    print('builtins-torch: MISMATCH %s at %s: %s is %r, PyTorch %r' % (expr, ', '.join(pt), what, c, r))
        for k, (expr, arity, fn) in enumerate(cases):
            n, d, bad = per_case[k]
            print('builtins-torch: %-20s %3d points, %2d deliberate differences, %d mismatches' % (expr, n, d, bad))
    reasons = sorted({d[1] for d in DELIBERATE.values()})
    for r in reasons:
        print('builtins-torch: deliberate: %s' % r)
    nb = len([n for n in names if n in BUILTINS])
    print('builtins-torch: %d cases (%d builtins, %d operators and powers), %d points, %d deliberate differences, '
          '%d mismatches' % (len(cases), nb, len(OPERATORS), points, deliberate, mismatches))
    return 1 if mismatches or missing or stale else 0


if __name__ == '__main__':
    sys.exit(main())
