#!/usr/bin/env python3
"""genmodel: large .expr programs written statement by statement, as the
generators of benchmark objectives write them, for dcc's scaling
measurements (issue 15) and its scaling tests (tests/compiler/scale/).

    genmodel.py params N         N scalar params declared one by one, a
                                 least-squares loss over them
    genmodel.py gmm POINTS K     a Gaussian mixture's negative
                                 log-likelihood: K components, the POINTS
                                 points an input, two statements a point
    genmodel.py lstm STEPS [H]   a 2-layer LSTM (hidden size H, default 8,
                                 input 4) written out over STEPS steps
    genmodel.py det N            the determinant of an N x N param by
                                 minors (Laplace along the first rows), one
                                 statement per minor
    genmodel.py l2mlp            a 64-32-32-16-10 relu/leaky MLP with l2
                                 penalties on its weights (issue 14)

Every program is a function of its arguments alone (the numbers come from
a fixed linear congruential sequence), and prints to standard output."""
import sys


def numbers(seed):
    """An endless fixed sequence of numbers in (-1, 1), 4 decimals."""
    s = seed
    while True:
        s = (s * 1103515245 + 12345) % 2147483648
        yield round((s / 2147483648) * 2 - 1, 4)


def sums(names, per_line=50):
    """A sum of many names, continued over lines after each '+'."""
    lines = [' + '.join(names[i:i + per_line]) for i in range(0, len(names), per_line)]
    return ' +\n    '.join(lines)


def params(n):
    out = ['# %d scalar params declared one by one (issue 15)' % n, 'input x']
    r = numbers(1)
    for i in range(n):
        out.append('param w%d = %s' % (i, next(r)))
    # chunks of 100 terms, then their sum: no line near the line limit
    chunks = []
    for c in range(0, n, 100):
        name = 's%d' % (c // 100)
        terms = ['(w%d * x - %s)^2' % (i, next(r)) for i in range(c, min(n, c + 100))]
        out.append('%s = %s' % (name, sums(terms, 10)))
        chunks.append(name)
    out.append('loss = %s' % sums(chunks))
    return out


def gmm(points, k):
    out = ['# A %d-component Gaussian mixture on %d points, point by point (issue 15)' % (k, points),
           'param mu[%d] = uniform(-1, 1), logs[%d] = zeros, logit[%d] = zeros' % (k, k, k),
           'lw = log_softmax(logit)',
           'inv = exp(-logs)',
           'c = lw - logs - 0.9189385332046727']
    out.insert(1, 'input x[%d]' % points)
    terms = []
    for j in range(points):
        out.append('dd%d = (x[%d] - mu) * inv' % (j, j))
        out.append('ll%d = logsumexp(c - 0.5 * dd%d * dd%d)' % (j, j, j))
        terms.append('ll%d' % j)
    chunks = []
    for c in range(0, len(terms), 20):
        out.append('s%d = %s' % (c // 20, ' + '.join(terms[c:c + 20])))
        chunks.append('s%d' % (c // 20))
    out.append('loss = -(%s)' % sums(chunks))
    return out


def lstm(steps, h=8, nin=4):
    out = ['# A 2-layer LSTM, input %d, hidden %d, written out over %d steps (issue 15)' % (nin, h, steps),
           'input x[%d][%d], y' % (steps, nin)]
    for layer, n in ((1, nin), (2, h)):
        for g in 'ifgo':
            out.append('param Wx%s%d[%d][%d], Wh%s%d[%d][%d], b%s%d[%d] = zeros' % (g, layer, h, n, g, layer, h, h,
                                                                                g, layer, h))
    out.append('param v[%d], c0 = 0' % h)
    for t in range(steps):
        for layer in (1, 2):
            xin = 'x[%d]' % t if layer == 1 else 'h1_%d' % t
            prev = t - 1

            def gate(g, f):
                rec = ' + Wh%s%d @ h%d_%d' % (g, layer, layer, prev) if t else ''
                return '%s(Wx%s%d @ %s%s + b%s%d)' % (f, g, layer, xin, rec, g, layer)

            out.append('i%d_%d = %s' % (layer, t, gate('i', 'sigmoid')))
            out.append('f%d_%d = %s' % (layer, t, gate('f', 'sigmoid')))
            out.append('g%d_%d = %s' % (layer, t, gate('g', 'tanh')))
            out.append('o%d_%d = %s' % (layer, t, gate('o', 'sigmoid')))
            if t:
                out.append('c%d_%d = f%d_%d * c%d_%d + i%d_%d * g%d_%d' % (layer, t, layer, t, layer, prev, layer, t,
                                                                          layer, t))
            else:
                out.append('c%d_%d = i%d_%d * g%d_%d' % (layer, t, layer, t, layer, t))
            out.append('h%d_%d = o%d_%d * tanh(c%d_%d)' % (layer, t, layer, t, layer, t))
    out.append('output pred = dot(v, h2_%d) + c0' % (steps - 1))
    out.append('loss = (pred - y)^2')
    return out


def det(n):
    """det(A) by cofactors: minor m_S of the last len(S) rows and the
    columns in S (a bit mask), expanded along its first row."""
    out = ['# det(A) of a %dx%d param by minors, one statement per minor (issue 15)' % (n, n),
           'param A[%d][%d] = uniform(-1, 1)' % (n, n)]
    by_size = {}
    for mask in range(1, 1 << n):
        by_size.setdefault(bin(mask).count('1'), []).append(mask)
    for size in range(1, n + 1):
        row = n - size
        for mask in by_size[size]:
            cols = [c for c in range(n) if mask >> c & 1]
            if size == 1:
                out.append('m%d = A[%d][%d]' % (mask, row, cols[0]))
                continue
            terms = []
            for j, c in enumerate(cols):
                sign = '-' if j % 2 else '+'
                terms.append('%s A[%d][%d] * m%d' % (sign, row, c, mask & ~(1 << c)))
            out.append('m%d = %s' % (mask, ' '.join(terms).lstrip('+ ')))
    out.append('loss = m%d^2' % ((1 << n) - 1))
    return out


def l2mlp():
    return ['# A 64-32-32-16-10 relu/leaky MLP with l2 penalties (issue 14)',
            'input x[64], t[10]',
            'param W1[32][64], b1[32] = zeros, W2[32][32], b2[32] = zeros',
            'param W3[16][32], b3[16] = zeros, W4[10][16], b4[10] = zeros',
            'h1 = relu(W1 @ x + b1)',
            'h2 = leaky_relu(W2 @ h1 + b2, 0.01)',
            'h3 = relu(W3 @ h2 + b3)',
            'z = W4 @ h3 + b4',
            'output prob = softmax(z)',
            'loss = cross_entropy(z, t) + 0.0001 * (l2(W1) + l2(W2) + l2(W3) + l2(W4))']


def main(argv):
    kinds = {'params': (params, 1), 'gmm': (gmm, 2), 'lstm': (lstm, 1), 'det': (det, 1), 'l2mlp': (l2mlp, 0)}
    if len(argv) < 2 or argv[1] not in kinds:
        sys.stderr.write(__doc__)
        return 2
    f, nargs = kinds[argv[1]]
    try:
        args = [int(a) for a in argv[2:]]
    except ValueError:
        sys.stderr.write(__doc__)
        return 2
    if len(args) < nargs:
        sys.stderr.write(__doc__)
        return 2
    sys.stdout.write('\n'.join(f(*args)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
