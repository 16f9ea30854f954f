#!/usr/bin/env python3
"""exprgen: random well-formed .expr programs, and a differential checker.

    exprgen.py gen SEED                       print the program of SEED
    exprgen.py stats [--count N] [--seed S] [--min PCT]
                                              how many programs use each
                                              feature (FEATURES)
    exprgen.py check [--count N] [--seed S] [--dcc DCC] [--cc CC] [--jobs J]
                     [--keep DIR] [--no-minimise] [-v]

A program is a function of its seed alone (random.Random(seed)).  It
declares inputs and params (scalars, vectors [n], matrices [m][n], sizes
1..4, and often rank-3 [c][m][n] and rank-4 tensors of at most 36 scalars,
16 when unrolled), defines functions and named intermediates (some as
`output`s) that later statements reuse, and ends with a scalar `loss` that
every input, param and name feeds (every param through a term of its own
too, so that none is only used where its derivative vanishes: dcc -Werror
accepts every program).
Functions are one-line (`def f(a, b) = expr`) or braced with locals
(`def f(a) { u = ...  return ... }`): generic ones, whose arguments'
shapes vary from call to call (each is called with two signatures where it
can) and whose body may read a global tensor that broadcasts against them;
layers, act(W @ x + b), called with matrices of different sizes, vector or
matrix x and a bias that broadcasts; and functions of fixed shapes.  Bodies
call earlier functions, and arguments and locals may hide globals.
Expressions use every elementwise operator and builtin, the tensor
operations (@, sum, mean, amax, logsumexp, the whole or along a dimension,
dot, transpose, softmax, log_softmax row by row, reshape, flatten, concat,
full), the losses, indexing (dropping any number of leading dimensions, on
names), broadcasting (a scalar, missing leading dimensions, dimensions of
size 1, both operands stretched) and diff() (with respect to a scalar, an
element, a sub-tensor, or a whole tensor as its last variable).  Values
stay in the functions' domains (log, sqrt, pow, bce get positive arguments
built as 1 + x^2, exp(x), sigmoid(x) ...), and magnitudes stay small (a
subexpression that could grow past a bound is wrapped in tanh) so that
finite differences mean something.  A program's size is bounded (BUDGET
nodes, a function's body counted at each call) so that the C it gives
compiles quickly.

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
import hashlib
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
BUDGET = 20          # nodes in a program, roughly (see Gen.program)
BODY_BUDGET = 6      # in a function's body

# Names the emitted C must survive (language.md: mangle where needed).
ODD_NAMES = ['int', 'in', 'p', 'i', 'NAN', 'fabs', 'zeros', 'glorot', 'double',
             'float', 'out', 'grad', 'ws', 'main', 'static', 'n', 'k', 'j', 'x',
             'tmp', 'loss_', 'real', 'h', 'e', 'pow_', 'if', 'goto']

UNARY = ['exp', 'log', 'log1p', 'expm1', 'sqrt', 'abs', 'tanh', 'sigmoid',
         'relu', 'softplus', 'sin', 'cos', 'erf', 'gelu', 'leaky_relu',
         'pow', 'max', 'min', 'neg']


def fmt_shape(s):
    return ''.join('[%d]' % d for d in s)


# --- shapes -----------------------------------------------------------------
#
# A concrete shape is a tuple of sizes (() for a scalar).  Inside the body of
# a generic function (one called with arguments of different shapes), a
# tensor's shape is an A: the set of what it depends on elementwise (its
# arguments ('arg', name) and the global tensors ('glob', name) it reads),
# its shape at a call being the broadcast of theirs.  Two values of one A
# have one shape at every call; a value of A(D1 | D2) is what combining
# values of A(D1) and A(D2) elementwise gives.

class A(frozenset):
    """The shape of a tensor in a generic function's body (see above)."""
    __slots__ = ()


def is_abs(s):
    return isinstance(s, A)


def shape_key(s):
    return (1, 0, tuple(sorted(s))) if is_abs(s) else (0, len(s), s)


def sz(sh):
    n = 1
    for d in sh:
        n *= d
    return n


def bcast(a, b):
    """NumPy's broadcast of concrete shapes a and b, or None."""
    n = max(len(a), len(b))
    pa = (1,) * (n - len(a)) + tuple(a)
    pb = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(out)


def bcast_all(shapes):
    out = ()
    for s in shapes:
        out = bcast(out, s)
        if out is None:
            return None
    return out


def is_sub(a, s):
    """True if a broadcasts to s (a stretches, s does not)."""
    return bcast(a, s) == tuple(s)


MAX_COUNT = 64       # no tensor has more scalars (dcc unrolls up to 64)
ARG_BOUND = 2.0      # a function's arguments are bounded by this at each call
GLOBAL_KINDS = ('input', 'param', 'name', 'aglob')


def count_bound(sh):
    return MAX_COUNT if is_abs(sh) else sz(sh)


class Func:
    """A def: how to call it, and what its result is."""

    def __init__(self, name, kind):
        self.name = name
        self.kind = kind        # generic | layer | fixed
        self.args = []          # the arguments' names, in order
        self.akinds = []        # generic: 'G' (a tensor of any shape) or 'S' (a
        #                         scalar) per argument; fixed: the shapes;
        #                         layer: 'W', 'b', 'x'
        self.ret = ()           # generic: A(deps) or (); fixed: a shape
        self.globs = {}         # generic: global tensors read as deps
        #                         (transitively): name -> shape
        self.rank1 = False      # generic: every tensor argument of rank >= 1
        self.bound = 1.0        # of the result, for arguments within ARG_BOUND
        self.calls = 0
        self.sigs = []          # the arguments' shapes at each call (concrete)
        self.calls_fn = False   # its body calls a function
        self.cost = 1           # the nodes of its body
        self.text = ''


class Gen:
    """One program, from one seed."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        # the unrolled code grows with the number of scalars, loops do not
        self.max_count = 36 if with_loops(seed) else 16
        self.vars = []       # (name, shape, kind) kind: input | param | name
        #                      (globals), arg | local | aglob (in a body)
        self.used_names = set()
        self.counter = 0
        self.bounds = {}
        self.nat = []        # the program's natural shapes
        self.funcs = []
        self.used = set()    # globals that something reads
        self.features = set()
        self.cur = None      # the Func whose body is being generated
        self.cost = 0        # nodes so far, a function's at each call: the
        #                      C's size grows with it
        self.limit = BUDGET  # past it, expressions are leaves

    # --- names -----------------------------------------------------------
    def fresh(self, base, odd=True):
        r = self.r
        if odd and r.random() < 0.15:
            cands = [n for n in ODD_NAMES if n not in self.used_names]
            if cands:
                n = r.choice(cands)
                self.used_names.add(n)
                return n
        self.counter += 1
        n = '%s%d' % (base, self.counter)
        self.used_names.add(n)
        return n

    def use(self, n, k):
        if k in GLOBAL_KINDS:
            self.used.add(n)
        return n

    def feat(self, *names):
        self.features.update(names)

    def of_shape(self, s):
        return [(n, k) for n, sh, k in self.vars if sh == s and type(sh) is type(s)]

    def pool(self):
        """Shapes to reduce or take a loss of: the natural ones, and in a
        generic body the arguments' and locals' abstract shapes."""
        out = list(self.nat)
        for _, sh, _ in self.vars:
            if is_abs(sh) and sh not in out:
                out.append(sh)
        return out

    def need_rank1(self, s):
        """s is used where a tensor of rank >= 1 is needed."""
        if is_abs(s) and self.cur:
            self.cur.rank1 = True

    # --- shapes ------------------------------------------------------------
    def sub_of(self, s, min_rank=0, proper=False):
        """A random shape that broadcasts to s (concrete)."""
        r = self.r
        for _ in range(6):
            keep = len(s)
            if s and r.random() < 0.35:
                keep = r.randint(min(min_rank, len(s)), len(s))
            out = list(s[len(s) - keep:])
            for i in range(len(out)):
                if out[i] > 1 and r.random() < 0.4:
                    out[i] = 1
            out = tuple(out)
            if not proper or out != tuple(s):
                return out
        return out

    def operand_shapes(self, s):
        """(sa, sb), two shapes whose broadcast is s, in random order."""
        r = self.r
        if is_abs(s):
            x = r.random()
            if x < 0.2:
                sa, sb = (), s
            elif len(s) == 1 or x < 0.55:
                sa, sb = s, s
            else:
                D = sorted(s)
                d1 = [y for y in D if r.random() < 0.5] or [D[0]]
                d2 = [y for y in D if y not in d1 or r.random() < 0.3]
                if not d2:
                    d2 = [D[-1]]
                sa, sb = A(d1), A(set(d2) | (set(D) - set(d1)))
        elif not s:
            sa, sb = (), ()
        else:
            x = r.random()
            if x < 0.35:
                sa, sb = s, s
            elif x < 0.5:
                sa, sb = (), s
            elif x < 0.75 or sum(d > 1 for d in s) < 2:
                sa, sb = s, self.sub_of(s, proper=True)
            else:
                # each stretched along a dimension the other has
                big = [i for i, d in enumerate(s) if d > 1]
                ia, ib = r.sample(big, 2)
                sa, sb = [], []
                for i, d in enumerate(s):
                    w = 0 if i == ia else 1 if i == ib else r.randrange(3) if d > 1 else 2
                    sa.append(d if w != 1 else 1)
                    sb.append(d if w != 0 else 1)
                sa, sb = tuple(sa), tuple(sb)
                # a leading dimension of size 1 may be missing
                while len(sa) > 1 and sa[0] == 1 and r.random() < 0.5:
                    sa = sa[1:]
            self.note_bcast(s, sa, sb)
        if r.random() < 0.5:
            sa, sb = sb, sa
        return sa, sb

    def note_bcast(self, s, *ops):
        """Records what broadcasting combining ops into s does."""
        stretched = 0
        for o in ops:
            if o == s:
                continue
            if o == ():
                self.feat('bcast_scalar')
                continue
            po = (1,) * (len(s) - len(o)) + tuple(o)
            if any(x == 1 and y > 1 for x, y in zip(po, s)):
                stretched += 1
                if len(o) < len(s) and any(y > 1 for y in s[:len(s) - len(o)]):
                    self.feat('bcast_rank')
                if any(x == 1 and y > 1 for x, y in zip(po[len(s) - len(o):], s[len(s) - len(o):])):
                    self.feat('bcast_one')
        if stretched == len(ops) and stretched >= 2:
            self.feat('bcast_both')

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

    def full(self, s):
        r = self.r
        v = r.choice(['0.5', '-1', '2', '0.25', '1.5'])
        self.feat('full')
        return ('full(%s, %s)' % (v, ', '.join(map(str, s))), abs(float(v)))

    def leaf(self, s, force=False):
        """A name of shape s, or an element, row or other view of one."""
        r = self.r
        opts = []
        for n, k in self.of_shape(s):
            w = 3 if k in ('name', 'arg', 'local') else 1
            opts += [('name', n, k)] * w
        if is_abs(s):
            if opts:
                o = r.choice(opts)
                return (self.use(o[1], o[2]), self.bounds.get(o[1], 1.0))
            if not force:
                return None
            parts = [self.dep_leaf(x) for x in sorted(s)]
            op = r.choice([' + ', ' * '])
            b = sum(p[1] for p in parts) if op == ' + ' else math.prod(p[1] for p in parts)
            return ('(%s)' % op.join(p[0] for p in parts), b)
        if s == ():
            opts.append(('const',))
        for n, sh, k in self.vars:
            if is_abs(sh) or not sh:
                continue
            j = len(sh) - len(s)
            if j >= 1 and sh[j:] == s:
                opts.append(('idx', n, k, sh, j))
            if s and sh != s and sz(sh) == sz(s) and r.random() < 0.5:
                opts.append(('reshape', n, k, sh))
            if s and sh != s and is_sub(s, sh) and r.random() < 0.5:
                opts.append(('squeeze', n, k, sh))
        if not opts or (s and r.random() < 0.01):
            opts.append(('full',))
        o = r.choice(opts)
        if o[0] == 'name':
            return (self.use(o[1], o[2]), self.bounds.get(o[1], 1.0))
        if o[0] == 'const':
            c = self.const()
            return (c, float(c))
        if o[0] == 'full':
            return self.full(s)
        n, k, sh = o[1], o[2], o[3]
        e = (self.use(n, k), self.bounds.get(n, 1.0))
        if o[0] == 'idx':
            if len(sh) >= 3:
                self.feat('index_rank34')
            return (n + ''.join('[%d]' % r.randrange(sh[i]) for i in range(o[4])), e[1])
        if o[0] == 'reshape':
            return self.reshape_to(e, sh, s)
        return self.reduce_to(e, sh, s)

    def dep_leaf(self, x):
        """The name of dependency x in a generic body."""
        for n, sh, k in self.vars:
            if sh == A([x]):
                return (self.use(n, k), self.bounds.get(n, 1.0))
        raise RuntimeError('no name for %r' % (x,))

    def reshape_to(self, e, N, s):
        t, b = e
        if len(s) == 1 and len(N) > 1 and self.r.random() < 0.5:
            self.feat('flatten')
            return ('flatten(%s)' % t, b)
        self.feat('reshape')
        return ('reshape(%s, %s)' % (t, ', '.join(map(str, s))), b)

    def reduce_to(self, e, N, s):
        """e, of shape N, reduced along the dimensions where s (which
        broadcasts to N) has none or 1, and reshaped to s."""
        r = self.r
        t, b = e
        ps = (1,) * (len(N) - len(s)) + tuple(s)
        cur = list(N)
        for i in reversed(range(len(N))):
            if ps[i] == 1 and N[i] > 1:
                f = r.choice(['sum', 'mean', 'mean', 'amax', 'logsumexp'])
                self.feat(f + '_d')
                t = '%s(%s, %d)' % (f, t, i)
                b = {'sum': b * N[i], 'mean': b, 'amax': b, 'logsumexp': b + math.log(N[i])}[f]
                del cur[i]
        if tuple(cur) != tuple(s):
            return self.reshape_to((t, b), tuple(cur), s)
        return (t, b)

    def expr(self, s, d):
        r = self.r
        if d <= 0 or self.cost >= self.limit:
            return self.leaf(s, force=True)
        if r.random() < 0.2:
            e = self.leaf(s)
            if e is not None:
                return e
        for _ in range(20):
            e = self.node(s, d)
            if e is not None:
                return self.wrap(e)
        return self.leaf(s, force=True)

    def pos(self, s, d):
        """A positive expression of shape s: (text, lo, hi) with
        0 < lo <= value <= hi."""
        r = self.r
        x = self.expr(s, d)
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

    def node_kinds(self, s):
        """The kinds of node that can make a value of shape s, weighted."""
        kinds = ['bin'] * 4 + ['unary'] * 5 + ['pow']
        if self.funcs:
            kinds += ['call'] * (3 if self.cur else 1)
        if is_abs(s):
            return kinds + ['softmax']
        if s == ():
            kinds += ['reduce'] * 3 + ['loss'] * 2 + ['diff']
            if any(len(sh) == 1 for sh in self.nat):
                kinds += ['dot']
            return kinds
        kinds += ['softmax', 'diff', 'reduce_dim', 'reshape', 'concat']
        if s not in self.nat:
            kinds += ['squeeze'] * 3
        if len(s) == 1:
            kinds += ['matvec'] * 2
        if len(s) == 2:
            kinds += ['matmat'] * 2 + ['transpose']
        return kinds

    def node(self, s, d):
        r = self.r
        k = r.choice(self.node_kinds(s))
        self.cost += 1       # counted before its operands (see expr)
        e = getattr(self, 'node_' + k)(s, d)
        if e is None:
            self.cost -= 1
        return e

    def node_bin(self, s, d):
        r = self.r
        P = self.paren
        op = r.choice('+-*/')
        sa, sb = self.operand_shapes(s)
        if op == '/':
            a = self.expr(sa, d - 1)
            t, lo, hi = self.pos(sb, d - 1)
            return ('%s / %s' % (P(a[0]), P(t)), a[1] / lo)
        a = self.expr(sa, d - 1)
        b = self.expr(sb, d - 1)
        if op in '+-':
            return ('%s %s %s' % (P(a[0]) if op == '-' else a[0], op, P(b[0])), a[1] + b[1])
        return ('%s * %s' % (P(a[0]), P(b[0])), a[1] * b[1])

    def node_pow(self, s, d):
        r = self.r
        P = self.paren
        c = r.randrange(4)
        if c == 0:
            a = self.small(self.expr(s, d - 1), 2.0)
            n = r.choice([2, 3])
            return ('%s^%d' % (P(a[0]), n), a[1] ** n)
        if c == 1:
            t, lo, hi = self.pos(s, d - 1)
            ex = r.choice(['0.5', '1.5', '-1', '-0.5', '2.5', '-2'])
            e = float(ex)
            form = '%s^%s' % (P(t), ex) if r.random() < 0.6 else 'pow(%s, %s)' % (t, ex)
            return (form, max(lo ** e, hi ** e))
        sa, sb = self.operand_shapes(s)
        t, lo, hi = self.pos(sa, d - 1)
        y = self.small(self.expr(sb, d - 1), 1.0)
        form = '%s^%s' % (P(t), P(y[0])) if c == 2 else 'pow(%s, %s)' % (t, y[0])
        return (form, max(lo ** -1, hi))

    def node_unary(self, s, d):
        r = self.r
        P = self.paren
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
            if r.random() < 0.5:
                a = self.small(self.expr(s, d - 1), 0.9)
                return ('log1p(%s)' % (P(a[0]) + '*0.5'), 1.0)
            t, lo, hi = self.pos(s, d - 1)
            return ('log1p(%s)' % t, hi)
        if f == 'pow':
            return None
        if f in ('max', 'min'):
            if r.random() < 0.2:
                a, b = self.expr(s, d - 1), (self.const(), 3.0)
            else:
                sa, sb = self.operand_shapes(s)
                a, b = self.expr(sa, d - 1), self.expr(sb, d - 1)
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

    def node_reduce(self, s, d):
        """A scalar: sum, mean, amax or logsumexp of all the elements."""
        r = self.r
        sh = r.choice(self.pool())
        f = r.choice(['sum', 'sum', 'mean', 'mean', 'amax', 'logsumexp'])
        a = self.expr(sh, d - 1)
        n = count_bound(sh)
        if f == 'amax':
            self.feat('amax')
        if f == 'logsumexp' and (is_abs(sh) or len(sh) >= 2):
            self.feat('logsumexp_all')
        return ('%s(%s)' % (f, a[0]), {'sum': a[1] * n, 'mean': a[1], 'amax': a[1],
                                       'logsumexp': a[1] + math.log(n)}[f])

    def node_dot(self, s, d):
        sh = self.r.choice([x for x in self.nat if len(x) == 1])
        a, b = self.expr(sh, d - 1), self.expr(sh, d - 1)
        return ('dot(%s, %s)' % (a[0], b[0]), a[1] * b[1] * sh[0])

    def node_matvec(self, s, d):
        r = self.r
        ks = [sh[1] for sh in self.nat if len(sh) == 2 and sh[0] == s[0] and (sh[1],) in self.nat]
        if not ks:
            return None
        kk = r.choice(ks)
        Am = self.expr((s[0], kk), d - 1)
        v = self.expr((kk,), d - 1)
        return ('%s @ %s' % (self.paren(Am[0]), self.paren(v[0])), Am[1] * v[1] * kk)

    def node_matmat(self, s, d):
        r = self.r
        ks = [sh[1] for sh in self.nat if len(sh) == 2 and sh[0] == s[0] and (sh[1], s[1]) in self.nat]
        if not ks:
            return None
        kk = r.choice(ks)
        Am = self.expr((s[0], kk), d - 1)
        B = self.expr((kk, s[1]), d - 1)
        return ('%s @ %s' % (self.paren(Am[0]), self.paren(B[0])), Am[1] * B[1] * kk)

    def node_transpose(self, s, d):
        if (s[1], s[0]) not in self.nat:
            return None
        a = self.expr((s[1], s[0]), d - 1)
        return ('transpose(%s)' % a[0], a[1])

    def node_softmax(self, s, d):
        r = self.r
        self.need_rank1(s)
        if not is_abs(s) and len(s) >= 2:
            self.feat('softmax_rows')
        a = self.expr(s, d - 1)
        if r.random() < 0.5:
            return ('softmax(%s)' % a[0], 1.0)
        return ('log_softmax(%s)' % a[0], 2 * a[1] + 1.4)

    def node_reduce_dim(self, s, d):
        """s from a natural shape with one more dimension, reduced along it."""
        r = self.r
        cands = [(N, k) for N in self.nat if len(N) == len(s) + 1
                 for k in range(len(N)) if N[:k] + N[k + 1:] == s]
        if not cands:
            return None
        N, k = r.choice(cands)
        f = r.choice(['sum', 'mean', 'amax', 'logsumexp'])
        self.feat(f + '_d')
        a = self.expr(N, d - 1)
        return ('%s(%s, %d)' % (f, a[0], k), {'sum': a[1] * N[k], 'mean': a[1], 'amax': a[1],
                                              'logsumexp': a[1] + math.log(N[k])}[f])

    def node_squeeze(self, s, d):
        """s (a shape with stretched dimensions) from a natural shape."""
        cands = [N for N in self.nat if N != s and is_sub(s, N)]
        if not cands:
            return None
        N = self.r.choice(cands)
        return self.reduce_to(self.expr(N, d - 1), N, s)

    def node_reshape(self, s, d):
        cands = [N for N in self.nat if N != s and sz(N) == sz(s)]
        if not cands:
            return None
        N = self.r.choice(cands)
        return self.reshape_to(self.expr(N, d - 1), N, s)

    def reachable(self, s):
        """True if leaf() can make s without full()."""
        for _, sh, _ in self.vars:
            if is_abs(sh) or not sh:
                continue
            if sh == s or sh[len(sh) - len(s):] == s or sz(sh) == sz(s) or is_sub(s, sh):
                return True
        return False

    def node_concat(self, s, d):
        r = self.r
        if s[0] < 2:
            return None
        cuts = sorted(r.sample(range(1, s[0]), min(s[0] - 1, r.choice([1, 1, 2]))))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [s[0]])]
        parts = [(n,) + tuple(s[1:]) for n in sizes]
        ok = [p in self.nat or self.reachable(p) for p in parts]
        if not any(ok):
            return None
        self.feat('concat')
        es = [self.expr(p, d - 1) if k else self.full(p) for p, k in zip(parts, ok)]
        return ('concat(%s)' % ', '.join(e[0] for e in es), max(e[1] for e in es))

    def node_loss(self, s, d):
        r = self.r
        pool = self.pool()
        f = r.choice(['mse', 'bce', 'bce_logits', 'cross_entropy', 'l2'])
        sh = r.choice(pool + [()])
        if f == 'cross_entropy':
            batches = [x for x in pool if not is_abs(x) and len(x) >= 2]
            if batches and r.random() < 0.5:
                sh = r.choice(batches)
                self.feat('cross_entropy_batch')
            elif r.random() < 0.85:
                sh = r.choice(pool)
                self.need_rank1(sh)
                if not is_abs(sh) and len(sh) >= 2:
                    self.feat('cross_entropy_batch')
            else:
                sh = ()
        n = count_bound(sh)
        if f == 'cross_entropy':
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

    # --- diff ---------------------------------------------------------------
    def var_ref(self, v):
        """(text, shape) of a variable for diff: a name, an element or a
        sub-tensor (indices dropping leading dimensions)."""
        r = self.r
        n, sh, k = v
        if not sh:
            return n, ()
        c = r.randrange(3)
        if c == 0:
            return n, sh
        j = len(sh) if c == 1 or len(sh) == 1 else r.randint(1, len(sh) - 1)
        return n + ''.join('[%d]' % r.randrange(sh[i]) for i in range(j)), sh[j:]

    def smooth_of(self, ref, sh):
        """A smooth scalar function of the variable ref (of shape sh)."""
        r = self.r
        if not sh:
            return r.choice(['sin(%s)', 'tanh(%s)', '%s^2', '%s', 'exp(0.5*%s)',
                             '%s^3', 'cos(%s)', 'softplus(%s)']) % ref
        return r.choice(['sum(tanh(%s))', 'l2(%s)', 'mean(sin(%s))',
                         'sum(%s^2)*0.5', 'sum(softplus(%s))']) % ref

    def node_diff(self, s, d):
        r = self.r
        vs = [v for v in self.vars if v[2] in ('input', 'param')]
        # the last variable decides the result's shape
        last = [(v, ref, sh) for v in vs for ref, sh in [self.var_ref(v)] if sh == s]
        if not last:
            return None
        v, ref, sh = r.choice(last)
        refs = [(v, ref, sh)]
        if r.random() < 0.3:
            scal = [(v2, ref2) for v2 in vs for ref2, sh2 in [self.var_ref(v2)] if sh2 == ()]
            if scal:
                v2, ref2 = r.choice(scal)
                refs.insert(0, (v2, ref2, ()))
        for v2, _, _ in refs:
            self.use(v2[0], v2[2])
        terms = [self.smooth_of(rf, shp) for _, rf, shp in refs]
        g = self.small(self.expr((), d - 2), 2.0)
        h = self.small(self.expr((), d - 2), 2.0)
        body = '%s*%s + %s' % (' * '.join(self.paren(t) for t in terms), self.paren(g[0]),
                               ' + '.join(self.paren(t) for t in terms) + '*' + self.paren(h[0]))
        return ('diff(%s, %s)' % (body, ', '.join(rf for _, rf, _ in refs)), 8.0)

    # --- functions -----------------------------------------------------------
    def node_call(self, s, d):
        r = self.r
        # each inlined call is code: at most two of each function, and
        # calls nest two deep at most
        if self.cur:
            fs = [f for f in self.funcs if not f.calls_fn and f.cost <= BODY_BUDGET]
        else:
            fs = [f for f in self.funcs if f.calls < 2 and f.cost <= max(2, self.limit - self.cost)]
        r.shuffle(fs)
        for f in fs[:3]:
            if self.clashes(f):
                continue
            plan = self.plan_call(f, s)
            if plan is not None:
                return self.call(f, plan, d)
        return None

    def clashes(self, f):
        """True if calling generic f in the body being written would give
        it global tensors that broadcast against no common shape (then no
        call of the body's function fits)."""
        return bool(self.cur and f.kind == 'generic' and f.globs and
                    bcast_all(list(self.cur.globs.values()) + list(f.globs.values())) is None)

    def nested_call(self, s, d):
        """In a body: a value of shape s made with a call of an earlier
        function (its result reduced if it cannot have shape s), or None."""
        r = self.r
        fs = [f for f in self.funcs if not f.calls_fn and f.cost <= BODY_BUDGET]
        r.shuffle(fs)
        for f in fs:
            if self.clashes(f):
                continue
            plan = self.plan_call(f, s)
            if plan is not None:
                return self.call(f, plan, d)
            targets = self.pool() + [()]
            r.shuffle(targets)
            for t in targets:
                plan = self.plan_call(f, t)
                if plan is None:
                    continue
                c = self.call(f, plan, d)
                if t != ():
                    c = ('mean(tanh(%s))' % c[0], 1.0)
                if s == ():
                    return c
                e = self.expr(s, d - 1)
                return ('%s * %s' % (self.paren(e[0]), self.paren(c[0])), e[1] * c[1])
        return None

    def call(self, f, plan, d):
        args = [self.small(self.expr(sh, d - 1), ARG_BOUND)[0] for sh in plan]
        f.calls += 1
        self.cost += f.cost
        if self.cur:
            self.cur.calls_fn = True
            if f.kind == 'generic':
                self.cur.globs.update(f.globs)
                if f.rank1 and any(is_abs(sh) for sh in plan):
                    self.cur.rank1 = True
        if not any(is_abs(sh) for sh in plan):
            f.sigs.append(tuple(plan))
            if f.kind != 'fixed' and len(set(f.sigs)) >= 2:
                self.feat('call_shapes')
            # the arguments broadcast against each other in the body
            if f.kind == 'generic':
                ts = [sh for sh, k in zip(plan, f.akinds) if k == 'G'] + list(f.globs.values())
                for sh in ts:
                    self.note_bcast(bcast_all(ts), sh)
            elif f.kind == 'layer':
                out = (plan[f.akinds.index('W')][0],) + plan[f.akinds.index('x')][1:]
                self.note_bcast(out, plan[f.akinds.index('b')])
        return ('%s(%s)' % (f.name, ', '.join(args)), f.bound)

    def plan_call(self, f, s):
        """The shapes of f's arguments at a call whose result has shape s,
        or None."""
        r = self.r
        if f.kind == 'fixed':
            return list(f.akinds) if f.ret == s and type(s) is type(f.ret) else None
        if f.kind == 'layer':
            return self.plan_layer(f, s)
        G = [i for i, k in enumerate(f.akinds) if k == 'G']
        rets = [i for i in G if is_abs(f.ret) and ('arg', f.args[i]) in f.ret]
        rglobs = [('glob', g) for g in f.globs if is_abs(f.ret) and ('glob', g) in f.ret]
        if is_abs(s):
            # in a generic body: each argument depends on some of s's deps
            if not is_abs(f.ret) or not set(rglobs) <= s:
                return None
            if not rets and set(rglobs) != s:
                return None
            D = sorted(s)
            plan = []
            for k in f.akinds:
                if k == 'S':
                    plan.append(())
                else:
                    plan.append(A([x for x in D if r.random() < 0.5] or [r.choice(D)]))
            missing = set(D) - set(rglobs).union(*[plan[i] for i in rets])
            if missing:
                i = r.choice(rets)
                plan[i] = A(plan[i] | missing)
            return plan
        globs = list(f.globs.values())
        if not is_abs(f.ret):
            if s != ():
                return None
            cands = [N for N in self.nat if all(is_sub(g, N) for g in globs)]
            if not f.rank1 and not globs:
                cands.append(())
            if not cands:
                return None
            base = r.choice(cands)
        else:
            if (s == () and f.rank1) or not all(is_sub(g, s) for g in globs):
                return None
            base = s
        same = r.random() < 0.4
        plan = [() if k == 'S' else base if same else self.sub_of(base, 1 if f.rank1 else 0)
                for k in f.akinds]
        if is_abs(f.ret):
            deps = [plan[i] for i in rets] + [f.globs[g[1]] for g in rglobs]
            if bcast_all(deps) != s:
                if not rets:
                    return None
                plan[r.choice(rets)] = s
        return plan

    def plan_layer(self, f, s):
        r = self.r
        if is_abs(s) or len(s) not in (1, 2):
            return None
        Ws = [N for N in self.nat if len(N) == 2 and N[0] == s[0]]
        if len(s) == 2:
            Ws = [N for N in Ws if (N[1], s[1]) in self.nat or (s[1], N[1]) in self.nat]
        if not Ws:
            return None
        W = r.choice(Ws)
        x = (W[1],) + s[1:]
        b = self.sub_of(s) if r.random() < 0.7 else s
        return [{'W': W, 'b': b, 'x': x}[k] for k in f.akinds]

    def arg_names(self, n, base, taken):
        """n names for arguments or locals; some hide a global."""
        r = self.r
        out = []
        globs = [m for m, _, k in self.vars if k in ('input', 'param', 'name')]
        for _ in range(n):
            cands = [g for g in globs if g not in out and g not in taken]
            if cands and r.random() < 0.2:
                out.append(r.choice(cands))
                self.feat('hide_global')
            else:
                out.append(self.fresh(base))
        return out

    def gen_func(self):
        """A def, generic (any shapes), a layer (W @ x + b) or fixed."""
        r = self.r
        kind = r.choice(['generic'] * 5 + ['layer'] * 2 + ['fixed'] * 2)
        if kind == 'layer' and not any(len(N) == 2 for N in self.nat):
            kind = 'generic'
        self.counter += 1
        f = Func('f%d' % self.counter, kind)
        if kind == 'layer':
            return self.gen_layer(f)
        nargs = r.randint(1, 3)
        f.args = self.arg_names(nargs, 'a', set())
        braced = r.random() < 0.5
        locs = self.arg_names(r.randint(1, 2), 'u', set(f.args)) if braced else []
        hidden = set(f.args) | set(locs)
        env = [v for v in self.vars if v[0] not in hidden]
        bounds = dict(self.bounds)
        if kind == 'generic':
            f.akinds = ['G' if r.random() < 0.8 else 'S' for _ in f.args]
            if 'G' not in f.akinds:
                f.akinds[0] = 'G'
            shapes = [A([('arg', a)]) if k == 'G' else () for a, k in zip(f.args, f.akinds)]
            # a global tensor read elementwise, a dependency of its own
            tens = [v for v in env if v[1] and v[2] in ('input', 'param', 'name')]
            if tens and r.random() < 0.3:
                g = r.choice(tens)
                env.append((g[0], A([('glob', g[0])]), 'aglob'))
                f.globs[g[0]] = g[1]
            universe = sorted([s for s in shapes if s] + [A([('glob', g)]) for g in f.globs],
                              key=shape_key)
            universe = sorted(set().union(*universe))
        else:
            f.akinds = [r.choice(self.nat + [()]) for _ in f.args]
            shapes = f.akinds
        for a, sh in zip(f.args, shapes):
            env.append((a, sh, 'arg'))
            bounds[a] = ARG_BOUND

        def shape():
            if kind == 'fixed':
                return r.choice(self.nat + [()])
            if r.random() < 0.25:
                return ()
            return A([x for x in universe if r.random() < 0.5] or [r.choice(universe)])

        saved = self.vars, self.bounds, self.cur, self.cost, self.limit
        self.vars, self.bounds, self.cur, self.cost, self.limit = env, bounds, f, 0, BODY_BUDGET
        try:
            lines = []
            for u in locs:
                sh = shape()
                e = self.expr(sh, r.randint(1, 2))
                lines.append((u, e[0]))
                env.append((u, sh, 'local'))
                bounds[u] = e[1]
            if kind == 'generic' and r.random() < 0.7:
                ret = A(universe) if r.random() < 0.8 else shape()
            else:
                ret = shape()
            e = None
            if self.funcs and r.random() < 0.7:     # a call of an earlier function
                e = self.nested_call(ret, 2)
            t, b = e or self.expr(ret, 1 if braced else 2)
            # every local used (dcc warns about one that is not)
            for i, (u, _) in enumerate(lines):
                later = ' '.join(e for _, e in lines[i + 1:]) + ' ' + t
                if not re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(u), later):
                    usage = '0.25*tanh(%s)' % (u if env_shape(env, u) == () else 'mean(%s)' % u)
                    self.use(u, 'local')
                    t = '%s + %s' % (t, usage)
                    b += 0.25
        finally:
            f.cost = self.cost
            self.vars, self.bounds, self.cur, self.cost, self.limit = saved
        f.ret = ret
        f.bound = b
        head = 'def %s(%s)' % (f.name, ', '.join(f.args))
        if braced:
            ind = r.choice(['  ', '  ', '    ', '\t', ''])
            f.text = '%s {\n%s%sreturn %s\n}' % (
                head, ''.join('%s%s = %s\n' % (ind, u, e) for u, e in lines), ind, t)
            self.feat('def_braced')
        else:
            f.text = '%s = %s' % (head, t)
            self.feat('def_line')
        if f.calls_fn:
            self.feat('call_nested')
        self.feat('def_' + kind)
        return f

    def gen_layer(self, f):
        """def f(W, b, x) = act(W @ x + b), in some form: called with
        matrices of different sizes, vectors or matrices x and biases of
        any shape that broadcasts."""
        r = self.r
        order = r.choice([['W', 'b', 'x'], ['x', 'W', 'b'], ['W', 'x', 'b']])
        f.akinds = order
        names = self.arg_names(3, 'a', set())
        nm = dict(zip(order, names))
        f.args = names
        z = '%s @ %s + %s' % (nm['W'], nm['x'], nm['b'])
        if r.random() < 0.5:
            z = '%s + %s @ %s' % (nm['b'], nm['W'], nm['x'])
        unary = [g for g in self.funcs if g.kind == 'generic' and g.akinds.count('G') == 1
                 and g.ret == A([('arg', g.args[g.akinds.index('G')])]) and not g.globs]
        acts = ['tanh(%s)', 'sigmoid(%s)', 'sin(%s)', 'erf(%s)', 'gelu(tanh(%s))']
        if unary and r.random() < 0.5:
            g = r.choice(unary)
            g.calls += 1
            f.calls_fn = True
            act = '%s(%s)' % (g.name, ', '.join('tanh(%s)' if k == 'G' else '0.5' for k in g.akinds))
            bound = g.bound
        else:
            act = r.choice(acts)
            bound = 1.0
        head = 'def %s(%s)' % (f.name, ', '.join(f.args))
        if r.random() < 0.5:
            f.text = '%s = %s' % (head, act % z)
            self.feat('def_line')
        else:
            zn = self.fresh('z')
            hn = self.fresh('h')
            gate = r.choice(['%s * sigmoid(%s)' % (hn, zn), '%s + 0.1 * sin(%s)' % (hn, zn),
                             '(1 - %s) * %s' % ('sigmoid(%s)' % zn, hn)])
            f.text = '%s {\n  %s = %s\n  %s = %s\n  return %s\n}' % (
                head, zn, z, hn, act % zn, gate)
            bound += 0.1
            self.feat('def_braced')
        f.bound = bound
        if f.calls_fn:
            self.feat('call_nested')
        self.feat('def_layer')
        return f

    # --- the program -----------------------------------------------------
    def shapes_of_program(self):
        """The natural shapes: related enough for @, transpose and
        broadcasting."""
        r = self.r
        m, n, k = [r.randint(1, 4) for _ in range(3)]
        shapes = {(n,)}
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
        # channels x height x width, a rank-4 kernel: small, since unrolled
        # code grows with the number of scalars
        for rank, p in ((3, 0.45), (4, 0.3)):
            if r.random() < p:
                sh = [r.randint(1, 3) for _ in range(rank - 2)] + [m, n]
                while sz(sh) > self.max_count:
                    sh[sh.index(max(sh[:-1]))] -= 1
                shapes.add(tuple(sh))
        return sorted(shapes, key=shape_key)

    def program(self):
        r = self.r
        self.bounds = {}
        self.nat = self.shapes_of_program()
        shapes = self.nat
        lines = []
        # declarations: every shape gets an input or a param
        inputs, params = [], []
        for sh in shapes:
            (params if r.random() < 0.6 else inputs).append(sh)
        for _ in range(r.randint(0, 2)):
            inputs.append(r.choice(shapes + [()]))
        # (each param is a gradient function of the C: not too many)
        for _ in range(r.randint(0 if params else 1, 2)):
            params.append(r.choice(shapes + [(), ()]))
        # a bias that broadcasts: [m][1], [c][1][1], [1][n] ...
        big = [N for N in shapes if len(N) >= 2]
        if big and r.random() < 0.4:
            params.append(self.sub_of(r.choice(big), min_rank=2, proper=True))
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
            if len(sh) >= 2 and r.random() < 0.4:
                init = ' = glorot'
            p_decls.append(nm + fmt_shape(sh) + init)
        for sh in inputs + params:
            if len(sh) >= 3:
                self.feat('rank%d' % len(sh))
        # split the declarations over one or several statements
        for kw, decls in (('input', in_decls), ('param', p_decls)):
            while decls:
                c = r.randint(1, len(decls))
                lines.append('%s %s' % (kw, ', '.join(decls[:c])))
                decls = decls[c:]
        # named intermediates and functions
        depth = 3
        # (the C's size, and the time to compile it, grow with self.cost:
        # past BUDGET, no more intermediates or loss terms)
        nfuncs = r.choice([0, 0, 0, 1, 1, 2, 2, 2])
        stmts = ['def'] * nfuncs + ['name'] * r.randint(1, 5)
        r.shuffle(stmts)
        for st in stmts:
            if st == 'name' and self.cost >= BUDGET * 0.6:
                continue
            if st == 'def':
                f = self.gen_func()
                lines.append(f.text)
                self.funcs.append(f)
                continue
            sh = r.choice(shapes + [(), ()])
            e = self.expr(sh, depth)
            nm = self.fresh('t')
            out = r.random() < 0.25
            lines.append('%s%s = %s' % ('output ' if out else '', nm, e[0]))
            self.vars.append((nm, sh, 'name'))
            self.bounds[nm] = e[1]
        # the loss: a few scalar terms, then whatever nothing uses yet
        terms = []
        for _ in range(r.randint(1, 3)):
            if not terms or self.cost < BUDGET:
                terms.append(self.expr((), depth)[0])
        # every function called, the generic ones with two signatures
        for f in self.funcs:
            targets = [f.ret] if f.kind == 'fixed' else shapes + [()] + \
                [(N[0],) for N in shapes if len(N) == 2]
            r.shuffle(targets)
            if f.kind == 'generic' and f.globs:     # one that works, if any
                common = bcast_all(f.globs.values())
                if common is not None:
                    targets.append(common)
            for s in targets:
                if f.calls and (f.kind == 'fixed' or len(set(f.sigs)) >= 2 or f.calls >= 4):
                    break
                plan = self.plan_call(f, s)
                if plan is None or (tuple(plan) in f.sigs and f.calls):
                    continue
                t, _ = self.call(f, plan, 2)
                if s == ():
                    terms.append(r.choice(['0.5*sin(%s)', 'tanh(%s)*0.25']) % t)
                else:
                    terms.append(r.choice(['mean(tanh(%s))', 'sum(sin(%s))*0.5']) % t)
            if not f.calls:
                raise RuntimeError('%s cannot be called' % f.name)
        for nm, sh, kind in self.vars:
            # a param only used where its derivative vanishes (diff() with
            # respect to something else, t - t, a softmax of one logit)
            # would not influence the loss: every param gets its own term
            if kind != 'param' and nm in self.used:
                continue
            if not sh:
                terms.append(r.choice(['0.5*sin(%s)', 'tanh(%s)*0.25', '0.1*%s^2']) % nm)
            else:
                terms.append(r.choice(['mean(tanh(%s))', '0.1*l2(%s)', 'sum(sin(%s))*0.5']) % nm)
        loss = ' + '.join(self.paren(t) if t.startswith('-') else t for t in terms)
        lines.append('loss = %s' % loss)
        return '\n'.join(lines) + '\n'


def env_shape(env, name):
    for n, sh, k in reversed(env):
        if n == name:
            return sh
    return None


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


# What `stats` counts: the programs that use each (Gen.features).
FEATURES = [
    ('def', 'functions'),
    ('def_line', 'def f(a) = expr'),
    ('def_braced', 'def f(a) { ... return expr }'),
    ('def_generic', 'a function of arguments of any shape'),
    ('def_layer', 'a layer, W @ x + b, called with matrices of different sizes'),
    ('def_fixed', 'a function of arguments of one shape'),
    ('call_shapes', 'one function called with arguments of different shapes'),
    ('call_nested', 'a function calling a function'),
    ('hide_global', 'an argument or a local hiding a global'),
    ('rank3', 'a rank-3 input or param'),
    ('rank4', 'a rank-4 input or param'),
    ('index_rank34', 'indexing a rank-3 or rank-4 tensor'),
    ('bcast_scalar', 'a scalar against a tensor'),
    ('bcast_rank', 'missing leading dimensions stretched ([n] + [m][n])'),
    ('bcast_one', 'dimensions of size 1 stretched ([m][1] + [m][n])'),
    ('bcast_both', 'both operands stretched ([m][1] + [1][n])'),
    ('reshape', 'reshape'),
    ('flatten', 'flatten'),
    ('concat', 'concat'),
    ('full', 'full'),
    ('sum_d', 'sum(t, d)'),
    ('mean_d', 'mean(t, d)'),
    ('amax', 'amax(t)'),
    ('amax_d', 'amax(t, d)'),
    ('logsumexp_all', 'logsumexp(t) of rank >= 2'),
    ('logsumexp_d', 'logsumexp(t, d)'),
    ('softmax_rows', 'softmax or log_softmax of rank >= 2'),
    ('cross_entropy_batch', 'cross_entropy of rank >= 2'),
]


def with_loops(seed):
    """`check` compiles odd seeds with --unroll-limit 0, even ones unrolled."""
    return seed % 2 == 1


def generate(seed):
    return Gen(seed).program()


def stats(args):
    """How many of the programs use each feature; a digest of their text."""
    counts = dict.fromkeys((f for f, _ in FEATURES), 0)
    digest = hashlib.sha256()
    for seed in range(args.seed, args.seed + args.count):
        g = Gen(seed)
        text = g.program()
        digest.update(text.encode())
        if g.funcs:
            g.features.add('def')
        for f in g.features:
            counts[f] += 1
    print('exprgen: programs %d..%d, sha256 %s' % (args.seed, args.seed + args.count - 1,
                                                  digest.hexdigest()[:16]))
    low = []
    for f, what in FEATURES:
        pct = 100.0 * counts[f] / args.count
        print('exprgen: %-20s %4d (%3.0f%%)  %s' % (f, counts[f], pct, what))
        if pct < args.min:
            low.append(f)
    if low:
        print('exprgen: used by fewer than %g%% of the programs: %s' % (args.min, ', '.join(low)))
        return 1
    return 0


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


def statements(text):
    """The statements of a program: one line each, a braced def's lines
    together."""
    out, body = [], False
    for ln in text.rstrip('\n').split('\n'):
        if body:
            out[-1] += '\n' + ln
            body = ln != '}'
        else:
            out.append(ln)
            body = ln.startswith('def ') and ln.endswith('{')
    return out


def minimise(text, loops, args, workdir):
    """Drops loss terms, then statements nothing uses (named values and
    functions), while the program fails."""
    stmts = statements(text)

    def fails(ss):
        return check_program('\n'.join(ss) + '\n', loops, args, workdir, werror=False) is not None

    loss_i = len(stmts) - 1
    terms = split_top(stmts[loss_i][len('loss = '):])
    i = 0
    while len(terms) > 1 and i < len(terms):
        t2 = terms[:i] + terms[i + 1:]
        cand = stmts[:loss_i] + ['loss = ' + ' + '.join(t2)]
        if fails(cand):
            terms = t2
            stmts = cand
        else:
            i += 1
    # drop definitions nothing uses any more (dcc only warns about them),
    # from the last one back
    changed = True
    while changed:
        changed = False
        for j in range(len(stmts) - 2, -1, -1):
            m = re.match(r'(?:output |def )?([A-Za-z_][A-Za-z0-9_]*)(?: = |\()', stmts[j])
            if not m or stmts[j].startswith(('input ', 'param ')):
                continue
            if re.search(r'(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])' % re.escape(m.group(1)),
                         '\n'.join(stmts[j + 1:])):
                continue
            cand = stmts[:j] + stmts[j + 1:]
            if fails(cand):
                stmts = cand
                changed = True
    return '\n'.join(stmts) + '\n'


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
    st = sub.add_parser('stats')
    st.add_argument('--count', type=int, default=100)
    st.add_argument('--seed', type=int, default=1)
    st.add_argument('--min', type=float, default=0, metavar='PCT')
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
    if args.cmd == 'stats':
        return stats(args)

    top = args.keep or tempfile.mkdtemp(prefix='exprgen.')
    os.makedirs(top, exist_ok=True)
    args.driver_obj = os.path.join(top, 'exprgen_main.o')
    rc, out = run([args.cc] + STRICT + ['-O1', '-c', DRIVER, '-o', args.driver_obj])
    if rc != 0:
        sys.exit('exprgen: %s cannot compile %s:\n%s' % (args.cc, DRIVER, out))

    def one(i):
        seed = args.seed + i
        loops = with_loops(seed)
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
