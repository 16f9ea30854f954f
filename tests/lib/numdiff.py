#!/usr/bin/env python3
"""numdiff: two program outputs agree, numbers within a tolerance.

    numdiff.py [--rel R] [--abs A] [--skip PREFIX]... EXPECTED ACTUAL

Lines are compared in order; each line's text must be identical once its
numbers are taken out, and each number x of ACTUAL must be within
max(A, R * |y|) of the number y of EXPECTED at its place.  Lines starting
with a --skip prefix are left out of both.  Prints the worst relative
difference (of the numbers large enough for R to be the tolerance that
applies) and the lines compared, or the first disagreement; exit status
0 if they agree, 1 if not.
"""
import argparse
import re
import sys

NUM = re.compile(r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?')


def lines(path, skip):
    with open(path) as f:
        return [l.rstrip('\n') for l in f if not any(l.startswith(s) for s in skip)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rel', type=float, default=1e-4)
    ap.add_argument('--abs', type=float, default=1e-6)
    ap.add_argument('--skip', action='append', default=[])
    ap.add_argument('expected')
    ap.add_argument('actual')
    a = ap.parse_args()
    e, g = lines(a.expected, a.skip), lines(a.actual, a.skip)
    if len(e) != len(g):
        print('numdiff: %d lines against %d' % (len(e), len(g)))
        return 1
    worst = 0.0
    for n, (x, y) in enumerate(zip(e, g), 1):
        if NUM.sub('#', x) != NUM.sub('#', y):
            print('numdiff: line %d differs in its text:\n  %s\n  %s' % (n, x, y))
            return 1
        for u, v in zip(NUM.findall(x), NUM.findall(y)):
            u, v = float(u), float(v)
            diff = abs(u - v)
            if diff > max(a.abs, a.rel * abs(u)):
                print('numdiff: line %d: %s against %s (tolerance: relative %g, absolute %g)\n  %s\n  %s'
                      % (n, u, v, a.rel, a.abs, x, y))
                return 1
            if a.rel * abs(u) >= a.abs:  # where the relative tolerance is the one that applies
                worst = max(worst, diff / abs(u))
    print('numdiff: %d lines agree; worst relative difference %.3g (tolerance %g)' % (len(e), worst, a.rel))
    return 0


if __name__ == '__main__':
    sys.exit(main())
