#!/usr/bin/env python3
"""exprgen: random well-formed .expr programs, and a differential checker.

    exprgen.py gen SEED                       print the program of SEED
    exprgen.py check [--count N] [--seed S] [--dcc DCC] [--cc CC] [--jobs J]
                     [--keep DIR] [--no-minimise] [-v]

A program is a function of its seed alone (random.Random(seed)).  It
declares inputs and params (scalars, vectors [n], matrices [m][n], sizes
1..4), defines named intermediates (some as `output`s) that later statements
reuse, and ends with a scalar `loss` that every input, param and name feeds
(every param through a term of its own too, so that none is only used where
its derivative vanishes: dcc -Werror accepts every program).
Expressions use every elementwise operator and builtin, the tensor
operations (@, sum, mean, dot, transpose, softmax, log_softmax, logsumexp),
the losses, indexing (v[i], M[i], M[i][j] on names), scalar broadcasting and
diff() (with respect to a scalar, an element, a row, or a whole tensor as
its last variable).  Values stay in the functions' domains (log, sqrt, pow,
bce get positive arguments built as 1 + x^2, exp(x), sigmoid(x) ...), and
magnitudes stay small (a subexpression that could grow past a bound is
wrapped in tanh) so that finite differences mean something.

`check` runs programs SEED, SEED+1, ... SEED+N-1: SEED+i for even i with
dcc's default (unrolled scalar code), for odd i with --unroll-limit 0
(loops).  --dcc defaults to build/dcc (the optimised build).  Each is checked three ways:
  1. `dcc --check -Werror` (dcc's own evaluator against finite differences)
     passes;
  2. the generated C in double (dcc --prefix md), compiled with CC -std=c99
     -Wall -Wextra -Werror -pedantic -Wdouble-promotion together with the
     float build and linked with exprgen_main.c, at 6 points:
     m_loss_grad's loss equals m_loss's (1e-12), and every gradient
     component agrees with central finite differences of m_loss
     (|g - fd| / max(1, |g|, |fd|) <= 1e-5, h = 1e-4, one Richardson step;
     components whose differences, or second differences, at h and h/2
     disagree straddle a kink and are skipped, at most a quarter of them);
  3. the same in float (--real float --prefix mf): m_loss_grad's loss within 1e-5 of
     m_loss's, gradients within 5e-2 of finite differences taken with
     h = 1e-2; and at every point where both are finite, the float loss is
     within 1e-3 (same measure) of the double loss at the same point.
A program dcc rejects is a failure too (a generator bug, or dcc's).  On a
failure the program is printed with what disagreed, after a cheap
minimisation (dropping loss terms, and statements nothing then needs, while
the failure stays).  The last line is

    exprgen: N programs (U unrolled, L loops), F failed

and the exit status is 1 if F > 0.
"""

import argparse
import concurrent.futures
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic']
DRIVER = os.path.join(HERE, 'exprgen_main.c')

POINTS = 6
# real: (tol_grad, tol_same, h)
TOLS = {'double': (1e-5, 1e-12, 1e-4), 'float': (5e-2, 1e-5, 1e-2)}
TOL_FLOAT_LOSS = 1e-3

BOUND = 6.0          # a subexpression that may exceed this is wrapped in tanh

# Names the emitted C must survive (language.md: mangle where needed).
ODD_NAMES = ['int', 'in', 'p', 'i', 'NAN', 'fabs', 'zeros', 'glorot', 'double',
             'float', 'out', 'grad', 'ws', 'main', 'static', 'n', 'k', 'j', 'x',
             'tmp', 'loss_', 'real', 'h', 'e', 'pow_', 'if', 'goto']

UNARY = ['exp', 'log', 'log1p', 'expm1', 'sqrt', 'abs', 'tanh', 'sigmoid',
         'relu', 'softplus', 'sin', 'cos', 'erf', 'gelu', 'leaky_relu',
         'pow', 'max', 'min', 'neg']


def fmt_shape(s):
    return ''.join('[%d]' % d for d in s)


class Gen:
    """One program, from one seed."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.vars = []       # (name, shape, kind) kind: input | param | name
        self.used_names = set()
        self.counter = 0

    # --- names -----------------------------------------------------------
    def fresh(self, base):
        r = self.r
        if r.random() < 0.15:
            cands = [n for n in ODD_NAMES if n not in self.used_names]
            if cands:
                n = r.choice(cands)
                self.used_names.add(n)
                return n
        self.counter += 1
        n = '%s%d' % (base, self.counter)
        self.used_names.add(n)
        return n

    def of_shape(self, s, kinds=('input', 'param', 'name')):
        return [n for n, sh, k in self.vars if sh == s and k in kinds]

    def tensors(self):
        return [(n, sh, k) for n, sh, k in self.vars if sh]

    # --- expressions: each returns (text, bound) ---------------------------
    def const(self):
        r = self.r
        return r.choice(['0.5', '2', '1.5', '0.25', '3', '.75', '1e-1', '2.5E-1', '1'])

    def wrap(self, e):
        t, b = e
        if b > BOUND:
            return ('tanh(%s)' % t, 1.0)
        return e

    def small(self, e, lim=2.0):
        t, b = e
        if b > lim:
            return ('tanh(%s)' % t, 1.0)
        return e

    def leaf(self, s):
        r = self.r
        opts = []
        names = self.of_shape(s)
        bounds = self.bounds
        for n in names:
            w = 3 if self.kind_of(n) == 'name' else 1
            opts += [('name', n)] * w
        # indexing, on names only
        for n, sh, k in self.tensors():
            if s == () and len(sh) == 1:
                opts.append(('idx1', n, sh))
            if s == () and len(sh) == 2:
                opts.append(('idx2', n, sh))
            if len(s) == 1 and len(sh) == 2 and sh[1] == s[0]:
                opts.append(('row', n, sh))
        if s == ():
            opts.append(('const',))
        if not opts:
            return None
        o = r.choice(opts)
        if o[0] == 'name':
            return (o[1], bounds.get(o[1], 1.0))
        if o[0] == 'const':
            c = self.const()
            return (c, float(c))
        n, sh = o[1], o[2]
        b = bounds.get(n, 1.0)
        if o[0] == 'idx1':
            return ('%s[%d]' % (n, r.randrange(sh[0])), b)
        if o[0] == 'idx2':
            return ('%s[%d][%d]' % (n, r.randrange(sh[0]), r.randrange(sh[1])), b)
        return ('%s[%d]' % (n, r.randrange(sh[0])), b)

    def kind_of(self, n):
        for m, sh, k in self.vars:
            if m == n:
                return k
        return None

    def shapes(self):
        return sorted({sh for _, sh, _ in self.vars})

    def expr(self, s, d):
        r = self.r
        if d <= 0 or r.random() < 0.2:
            e = self.leaf(s)
            if e is not None:
                return e
            if d <= -3:
                raise RuntimeError('no leaf of shape %s' % (s,))
        for _ in range(20):
            e = self.node(s, d)
            if e is not None:
                return self.wrap(e)
        e = self.leaf(s)
        if e is None:
            raise RuntimeError('no expression of shape %s' % (s,))
        return e

    def operand(self, s, d):
        """An expression of shape s, or sometimes a scalar (broadcast)."""
        if s and self.r.random() < 0.25:
            return self.expr((), d)
        return self.expr(s, d)

    def pos(self, s, d, broadcast=False):
        """A positive expression: (text, lo, hi) with 0 < lo <= value <= hi,
        of shape s (or, if broadcast, perhaps a scalar)."""
        r = self.r
        x = self.operand(s, d) if broadcast else self.expr(s, d)
        t, b = x
        k = r.randrange(8)
        if k == 0:
            return ('(1 + (%s)^2)' % t, 1.0, 1 + b * b)
        if k == 1:
            t, b = self.small(x)
            return ('exp(%s)' % t, 2.718281828 ** -b, 2.718281828 ** b)
        if k == 2:
            t, b = self.small(x, 3.0)
            lo = 1 / (1 + 2.718281828 ** b)
            return ('sigmoid(%s)' % t, lo, 1.0)
        if k == 3:
            return ('(softplus(%s) + 0.5)' % t, 0.5, b + 1.2)
        if k == 4:
            return ('(2 + sin(%s))' % t, 1.0, 3.0)
        if k == 5:
            return ('sqrt(1 + %s*%s)' % (self.paren(t), self.paren(t)), 1.0, 1 + b)
        if k == 6:
            return ('(1.5 + tanh(%s))' % t, 0.5, 2.5)
        return ('(1 + abs(%s))' % t, 1.0, 1 + b)

    @staticmethod
    def paren(t):
        if re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*|[0-9.eE+-]+', t) and not t.startswith('-'):
            return t
        if re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*\(.*\)', t) and balanced_call(t):
            return t
        return '(%s)' % t

    def node(self, s, d):
        r = self.r
        shapes = self.shapes()
        kinds = ['bin'] * 4 + ['unary'] * 5 + ['pow'] * 1
        if s == ():
            kinds += ['reduce'] * 2 + ['loss'] * 2 + ['diff'] * 1
            if any(len(sh) == 1 for sh in shapes):
                kinds += ['dot', 'lse']
        elif len(s) == 1:
            kinds += ['matvec'] * 2 + ['softmax'] + ['diff']
        else:
            kinds += ['matmat'] * 2 + ['transpose'] + ['diff']
        k = r.choice(kinds)
        P = self.paren
        if k == 'bin':
            op = r.choice('+-*/')
            if op == '/':
                if s and r.random() < 0.2:      # scalar / tensor
                    a = self.expr((), d - 1)
                    t, lo, hi = self.pos(s, d - 1)
                else:                           # tensor / tensor or scalar
                    a = self.expr(s, d - 1)
                    t, lo, hi = self.pos(s, d - 1, broadcast=True)
                return ('%s / %s' % (P(a[0]), P(t)), a[1] / lo)
            a = self.operand(s, d - 1)
            b = self.expr(s, d - 1)
            if r.random() < 0.5:
                a, b = b, a
            if op in '+-':
                return ('%s %s %s' % (P(a[0]) if op == '-' else a[0], op, P(b[0])), a[1] + b[1])
            return ('%s * %s' % (P(a[0]), P(b[0])), a[1] * b[1])
        if k == 'pow':
            c = r.randrange(4)
            if c == 0:
                a = self.small(self.expr(s, d - 1), 2.0)
                n = r.choice([2, 3])
                return ('%s^%d' % (P(a[0]), n), a[1] ** n)
            t, lo, hi = self.pos(s, d - 1)
            if c == 1:
                ex = r.choice(['0.5', '1.5', '-1', '-0.5', '2.5', '-2'])
                e = float(ex)
                form = '%s^%s' % (P(t), ex) if r.random() < 0.6 else 'pow(%s, %s)' % (t, ex)
                return (form, max(lo ** e, hi ** e))
            y = self.small(self.operand(s, d - 1), 1.0)
            form = '%s^%s' % (P(t), P(y[0])) if c == 2 else 'pow(%s, %s)' % (t, y[0])
            return (form, max(lo ** -1, hi))
        if k == 'unary':
            f = r.choice(UNARY)
            if f in ('exp', 'expm1'):
                a = self.small(self.expr(s, d - 1), 2.0)
                return ('%s(%s)' % (f, a[0]), 2.718281828 ** a[1])
            if f in ('log', 'sqrt'):
                t, lo, hi = self.pos(s, d - 1)
                if f == 'sqrt':
                    return ('sqrt(%s)' % t, hi ** 0.5)
                return ('log(%s)' % t, max(abs(math.log(lo)), abs(math.log(hi))))
            if f == 'log1p':
                t, lo, hi = self.pos(s, d - 1)
                if r.random() < 0.5:
                    a = self.small(self.expr(s, d - 1), 0.9)
                    return ('log1p(%s)' % (P(a[0]) + '*0.5'), 1.0)
                return ('log1p(%s)' % t, hi)
            if f == 'pow':
                return None
            if f in ('max', 'min'):
                a = self.expr(s, d - 1)
                b = self.operand(s, d - 1) if r.random() < 0.8 else (self.const(), 3.0)
                if r.random() < 0.5:
                    a, b = b, a
                return ('%s(%s, %s)' % (f, a[0], b[0]), max(a[1], b[1]))
            a = self.expr(s, d - 1)
            if f == 'neg':
                return ('-%s' % P(a[0]), a[1])
            if f == 'leaky_relu':
                sl = r.choice(['0.1', '0.01', '0.2', '1/8', '0.5*0.5'])
                return ('leaky_relu(%s, %s)' % (a[0], sl), a[1])
            bound = {'abs': a[1], 'tanh': 1.0, 'sigmoid': 1.0, 'relu': a[1],
                     'softplus': a[1] + 0.7, 'sin': 1.0, 'cos': 1.0, 'erf': 1.0,
                     'gelu': a[1]}[f]
            return ('%s(%s)' % (f, a[0]), bound)
        if k == 'reduce':
            sh = r.choice(shapes)
            a = self.expr(sh, d - 1)
            n = 1
            for x in sh:
                n *= x
            if r.random() < 0.5:
                return ('sum(%s)' % a[0], a[1] * n)
            return ('mean(%s)' % a[0], a[1])
        if k == 'dot':
            sh = r.choice([x for x in shapes if len(x) == 1])
            a, b = self.expr(sh, d - 1), self.expr(sh, d - 1)
            return ('dot(%s, %s)' % (a[0], b[0]), a[1] * b[1] * sh[0])
        if k == 'lse':
            sh = r.choice([x for x in shapes if len(x) == 1])
            a = self.expr(sh, d - 1)
            return ('logsumexp(%s)' % a[0], a[1] + 1.4)
        if k == 'loss':
            return self.loss_call(d)
        if k == 'matvec':
            ks = [sh[1] for sh in shapes if len(sh) == 2 and sh[0] == s[0] and (sh[1],) in shapes]
            if not ks:
                return None
            kk = r.choice(ks)
            A = self.expr((s[0], kk), d - 1)
            v = self.expr((kk,), d - 1)
            return ('%s @ %s' % (P(A[0]), P(v[0])), A[1] * v[1] * kk)
        if k == 'matmat':
            ks = [sh[1] for sh in shapes if len(sh) == 2 and sh[0] == s[0] and (sh[1], s[1]) in shapes]
            if not ks:
                return None
            kk = r.choice(ks)
            A = self.expr((s[0], kk), d - 1)
            B = self.expr((kk, s[1]), d - 1)
            return ('%s @ %s' % (P(A[0]), P(B[0])), A[1] * B[1] * kk)
        if k == 'transpose':
            if (s[1], s[0]) not in shapes:
                return None
            a = self.expr((s[1], s[0]), d - 1)
            return ('transpose(%s)' % a[0], a[1])
        if k == 'softmax':
            a = self.expr(s, d - 1)
            if r.random() < 0.5:
                return ('softmax(%s)' % a[0], 1.0)
            return ('log_softmax(%s)' % a[0], 2 * a[1] + 1.4)
        if k == 'diff':
            return self.diff(s, d)
        return None

    def loss_call(self, d):
        r = self.r
        shapes = self.shapes()
        f = r.choice(['mse', 'bce', 'bce_logits', 'cross_entropy', 'l2'])
        sh = r.choice(shapes + [()])
        n = 1
        for x in sh:
            n *= x
        if f == 'cross_entropy':
            vecs = [x for x in shapes if len(x) == 1]
            if vecs and r.random() < 0.85:
                sh = r.choice(vecs)
            else:
                sh = ()
            z = self.small(self.expr(sh, d - 1), 4.0)
            if sh and r.random() < 0.6:
                t = ('softmax(%s)' % self.expr(sh, d - 1)[0], 1.0)
            else:
                t = self.expr(sh, d - 1)
            return ('cross_entropy(%s, %s)' % (z[0], t[0]), t[1] * n * (2 * z[1] + 1.4))
        if f == 'l2':
            a = self.small(self.expr(sh, d - 1), 2.0)
            return ('l2(%s)' % a[0], a[1] ** 2 * n)
        if f == 'mse':
            a, b = self.expr(sh, d - 1), self.expr(sh, d - 1)
            return ('mse(%s, %s)' % (a[0], b[0]), (a[1] + b[1]) ** 2)
        if f == 'bce':
            a = self.small(self.expr(sh, d - 1), 3.0)
            if r.random() < 0.5:
                pt = 'sigmoid(%s)' % a[0]
            else:
                pt = '(0.5 + 0.45*tanh(%s))' % a[0]
            y = self.expr(sh, d - 1)
            if r.random() < 0.5:
                y = ('sigmoid(%s)' % y[0], 1.0)
            return ('bce(%s, %s)' % (pt, y[0]), (1 + 2 * y[1]) * 4.0)
        z = self.small(self.expr(sh, d - 1), 4.0)
        y = self.expr(sh, d - 1)
        return ('bce_logits(%s, %s)' % (z[0], y[0]), z[1] * (1 + y[1]) + 1)

    def var_ref(self, v):
        """(text, shape) of a variable for diff: a name, an element or a row."""
        r = self.r
        n, sh, k = v
        if not sh:
            return n, ()
        c = r.randrange(3)
        if c == 0:
            return n, sh
        if len(sh) == 1:
            return '%s[%d]' % (n, r.randrange(sh[0])), ()
        if c == 1:
            return '%s[%d][%d]' % (n, r.randrange(sh[0]), r.randrange(sh[1])), ()
        return '%s[%d]' % (n, r.randrange(sh[0])), (sh[1],)

    def smooth_of(self, ref, sh):
        """A smooth scalar function of the variable ref (of shape sh)."""
        r = self.r
        if not sh:
            return r.choice(['sin(%s)', 'tanh(%s)', '%s^2', '%s', 'exp(0.5*%s)',
                             '%s^3', 'cos(%s)', 'softplus(%s)']) % ref
        return r.choice(['sum(tanh(%s))', 'l2(%s)', 'mean(sin(%s))',
                         'sum(%s^2)*0.5', 'sum(softplus(%s))']) % ref

    def diff(self, s, d):
        r = self.r
        vs = [v for v in self.vars if v[2] in ('input', 'param')]
        # the last variable decides the result's shape
        last = [(v, ref, sh) for v in vs for ref, sh in [self.var_ref(v)] if sh == s]
        if not last:
            return None
        v, ref, sh = r.choice(last)
        refs = [(ref, sh)]
        if r.random() < 0.3:
            scal = [(v2, ref2) for v2 in vs for ref2, sh2 in [self.var_ref(v2)] if sh2 == ()]
            if scal:
                v2, ref2 = r.choice(scal)
                refs.insert(0, (ref2, ()))
        terms = [self.smooth_of(rf, shp) for rf, shp in refs]
        g = self.small(self.expr((), d - 2), 2.0)
        h = self.small(self.expr((), d - 2), 2.0)
        body = '%s*%s + %s' % (' * '.join(self.paren(t) for t in terms), self.paren(g[0]),
                               ' + '.join(self.paren(t) for t in terms) + '*' + self.paren(h[0]))
        return ('diff(%s, %s)' % (body, ', '.join(rf for rf, _ in refs)), 8.0)

    # --- the program -----------------------------------------------------
    def program(self):
        r = self.r
        self.bounds = {}
        # one to three tensor shapes, consistent enough for @ and transpose
        dims = [r.randint(1, 4) for _ in range(3)]
        shapes = set()
        m, n, k = dims
        shapes.add((n,))
        if r.random() < 0.85:
            shapes.add((m, n))
        if r.random() < 0.5:
            shapes.add((m,))
        if r.random() < 0.4:
            shapes.add((n, m))
        if r.random() < 0.3:
            shapes.add((n, k))
            shapes.add((m, k))
        if r.random() < 0.2:
            shapes.add((k,))
        shapes = sorted(shapes)
        lines = []
        # declarations: every shape gets an input or a param
        inputs, params = [], []
        for sh in shapes:
            (params if r.random() < 0.6 else inputs).append(sh)
        for _ in range(r.randint(0, 2)):
            inputs.append(r.choice(shapes + [()]))
        for _ in range(r.randint(1, 3)):
            params.append(r.choice(shapes + [(), ()]))
        if not inputs:
            inputs.append(())
        in_decls = []
        for sh in inputs:
            nm = self.fresh('x')
            self.vars.append((nm, sh, 'input'))
            in_decls.append(nm + fmt_shape(sh))
        p_decls = []
        for sh in params:
            nm = self.fresh('w')
            self.vars.append((nm, sh, 'param'))
            init = r.choice(['', '', ' = zeros', ' = 0.5', ' = -1', ' = uniform(-0.1, 0.1)',
                             ' = normal(0, 0.1)', ' = glorot(2, 3)'])
            if len(sh) == 2 and r.random() < 0.4:
                init = ' = glorot'
            p_decls.append(nm + fmt_shape(sh) + init)
        # split the declarations over one or several statements
        for kw, decls in (('input', in_decls), ('param', p_decls)):
            while decls:
                c = r.randint(1, len(decls))
                lines.append('%s %s' % (kw, ', '.join(decls[:c])))
                decls = decls[c:]
        # named intermediates
        depth = 3
        for _ in range(r.randint(1, 5)):
            sh = r.choice(shapes + [(), ()])
            e = self.expr(sh, depth)
            nm = self.fresh('t')
            out = r.random() < 0.25
            lines.append('%s%s = %s' % ('output ' if out else '', nm, e[0]))
            self.vars.append((nm, sh, 'name'))
            self.bounds[nm] = e[1]
        # the loss: a few scalar terms, then whatever nothing uses yet
        terms = [self.expr((), depth)[0] for _ in range(r.randint(1, 3))]
        for nm, sh, kind in self.vars:
            # a param only used where its derivative vanishes (diff() with
            # respect to something else, t - t, a softmax of one logit)
            # would not influence the loss: every param gets its own term
            if kind != 'param' and re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(nm),
                         self.uses_text(lines, terms, nm)):
                continue
            if not sh:
                terms.append(r.choice(['0.5*sin(%s)', 'tanh(%s)*0.25', '0.1*%s^2']) % nm)
            else:
                terms.append(r.choice(['mean(tanh(%s))', '0.1*l2(%s)', 'sum(sin(%s))*0.5']) % nm)
        loss = ' + '.join(self.paren(t) if t.startswith('-') else t for t in terms)
        lines.append('loss = %s' % loss)
        return '\n'.join(lines) + '\n'

    def uses_text(self, lines, terms, nm):
        """The text after nm's definition (where a use of nm can be)."""
        out = []
        seen = False
        for ln in lines:
            if seen:
                out.append(ln)
            elif re.match(r'(output )?%s = ' % re.escape(nm), ln) or \
                    ln.startswith(('input', 'param')):
                if ln.startswith(('input', 'param')):
                    # declarations: whatever follows them can use them
                    if re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(nm), ln):
                        seen = True
                else:
                    seen = True
        # strip definitions' left-hand sides
        body = [re.sub(r'^(output )?[A-Za-z_][A-Za-z0-9_]* = ', '', ln) for ln in out
                if not ln.startswith(('input', 'param'))]
        return '\n'.join(body + terms)


def sz(sh):
    n = 1
    for d in sh:
        n *= d
    return n


def balanced_call(t):
    """True if t is f(...) with the parentheses after f closing at the end."""
    i = t.index('(')
    depth = 0
    for j in range(i, len(t)):
        if t[j] == '(':
            depth += 1
        elif t[j] == ')':
            depth -= 1
            if depth == 0:
                return j == len(t) - 1
    return False


def generate(seed):
    return Gen(seed).program()


# --- checking -------------------------------------------------------------

def run(cmd, timeout=120, cwd=None):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return 124, 'timed out after %ds: %s' % (timeout, ' '.join(cmd))
    return p.returncode, p.stdout.decode('utf-8', 'replace')


def check_program(text, loops, args, workdir, werror=True):
    """Returns None if the program checks, else a description of the failure.
    With werror, a warning from dcc is a failure too (a generated program
    uses every name, and every param feeds the loss through a term of its
    own)."""
    os.makedirs(workdir, exist_ok=True)
    src = os.path.join(workdir, 'g.expr')
    with open(src, 'w') as f:
        f.write(text)
    extra = ['--unroll-limit', '0'] if loops else []
    rc, out = run([args.dcc, '--check'] + (['-Werror'] if werror else []) + extra + [src])
    if rc != 0:
        return 'dcc --check%s: exit %d: %s' % (' --unroll-limit 0' if loops else '', rc, out.strip())
    for real, prefix in (('double', 'md'), ('float', 'mf')):
        rc, out = run([args.dcc, '--prefix', prefix, '--real', real] + extra +
                      ['-o', os.path.join(workdir, prefix + '.c'), src])
        if rc != 0:
            return 'dcc --real %s: exit %d: %s' % (real, rc, out.strip())
    with open(os.path.join(workdir, 'md.h')) as f:
        hdr = f.read()
    sizes = [re.search(r'#define MD_%s\s+(\d+)' % w, hdr) for w in ('N_IN', 'N_PARAMS')]
    if not all(sizes):
        return 'md.h defines no MD_N_IN or MD_N_PARAMS'
    exe = os.path.join(workdir, 'check')
    # one translation unit: a compiler run less per program (the two
    # builds' symbols and macros have their own prefixes)
    both = os.path.join(workdir, 'both.c')
    with open(both, 'w') as f:
        f.write('#include "md.c"\n#include "mf.c"\n')
    rc, out = run([args.cc] + STRICT + ['-Wdouble-promotion', '-O0', '-I' + workdir, both,
                                        args.driver_obj, '-o', exe, '-lm'])
    if rc != 0:
        return '%s %s failed to compile the generated C:\n%s' % (args.cc, ' '.join(STRICT), out)
    cmd = [exe, sizes[0].group(1), sizes[1].group(1), str(POINTS), '12345']
    for real in ('double', 'float'):
        cmd += [repr(x) for x in TOLS[real]]
    cmd.append(repr(TOL_FLOAT_LOSS))
    rc, out = run(cmd)
    fails = [ln for ln in out.splitlines() if ln.startswith('FAIL')]
    if rc != 0 or fails:
        return 'generated C: exit %d\n%s' % (rc, '\n'.join(fails) or out)
    return None


def minimise(text, loops, args, workdir):
    """Drops loss terms, then unused statements, while the program fails."""
    lines = text.rstrip('\n').split('\n')

    def fails(ls):
        return check_program('\n'.join(ls) + '\n', loops, args, workdir, werror=False) is not None

    loss_i = len(lines) - 1
    terms = split_top(lines[loss_i][len('loss = '):])
    i = 0
    while len(terms) > 1 and i < len(terms):
        t2 = terms[:i] + terms[i + 1:]
        cand = lines[:loss_i] + ['loss = ' + ' + '.join(t2)]
        if fails(cand):
            terms = t2
            lines = cand
        else:
            i += 1
    # drop definitions nothing uses any more (dcc only warns about them),
    # from the last one back
    changed = True
    while changed:
        changed = False
        for j in range(len(lines) - 2, -1, -1):
            ln = lines[j]
            m = re.match(r'(output )?([A-Za-z_][A-Za-z0-9_]*) = ', ln)
            if not m:
                continue
            cand = lines[:j] + lines[j + 1:]
            if re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(m.group(2)),
                         '\n'.join(lines[j + 1:])):
                continue
            if fails(cand):
                lines = cand
                changed = True
    return '\n'.join(lines) + '\n'


def split_top(s):
    """Splits s at its top-level ' + ' (the loss's terms)."""
    out, depth, cur, i = [], 0, '', 0
    while i < len(s):
        c = s[i]
        if c in '([':
            depth += 1
        elif c in ')]':
            depth -= 1
        if depth == 0 and s.startswith(' + ', i):
            out.append(cur)
            cur = ''
            i += 3
            continue
        cur += c
        i += 1
    out.append(cur)
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    g = sub.add_parser('gen')
    g.add_argument('seed', type=int)
    c = sub.add_parser('check')
    c.add_argument('--count', type=int, default=100)
    c.add_argument('--seed', type=int, default=1)
    c.add_argument('--dcc', default=os.environ.get('DCC_RELEASE') or
                   os.path.join(REPO, 'build', 'dcc'))
    c.add_argument('--cc', default='clang')
    c.add_argument('--jobs', type=int, default=os.cpu_count() or 2)
    c.add_argument('--keep', metavar='DIR')
    c.add_argument('--no-minimise', action='store_true')
    c.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args(argv)
    if args.cmd == 'gen':
        sys.stdout.write(generate(args.seed))
        return 0

    top = args.keep or tempfile.mkdtemp(prefix='exprgen.')
    os.makedirs(top, exist_ok=True)
    args.driver_obj = os.path.join(top, 'exprgen_main.o')
    rc, out = run([args.cc] + STRICT + ['-O1', '-c', DRIVER, '-o', args.driver_obj])
    if rc != 0:
        sys.exit('exprgen: %s cannot compile %s:\n%s' % (args.cc, DRIVER, out))

    def one(i):
        seed = args.seed + i
        loops = i % 2 == 1
        wd = os.path.join(top, 'p%d' % seed)
        try:
            text = generate(seed)
        except Exception as e:  # a generator crash is a failure too
            return seed, loops, '', 'the generator failed: %r' % e
        err = check_program(text, loops, args, wd)
        if err and not args.no_minimise:
            small = minimise(text, loops, args, os.path.join(wd, 'min'))
            if small != text:
                err2 = check_program(small, loops, args, os.path.join(wd, 'min'), werror=False)
                if err2:
                    return seed, loops, text, err + '\n--- minimised program ---\n' + small + \
                        '--- which fails with ---\n' + err2
        return seed, loops, text, err

    failed = 0
    unrolled = loops_n = 0
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            for seed, loops, text, err in ex.map(one, range(args.count)):
                if loops:
                    loops_n += 1
                else:
                    unrolled += 1
                if err:
                    failed += 1
                    print('exprgen: FAIL seed %d (%s)' % (seed, 'loops, --unroll-limit 0'
                                                          if loops else 'unrolled'))
                    print('--- program ---')
                    sys.stdout.write(text)
                    print('--- what disagreed ---')
                    print(err)
                    print('---')
                elif args.verbose:
                    print('exprgen: ok seed %d' % seed)
                sys.stdout.flush()
    finally:
        if not args.keep:
            shutil.rmtree(top, ignore_errors=True)
    print('exprgen: %d programs (%d unrolled, %d loops), %d failed'
          % (args.count, unrolled, loops_n, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
