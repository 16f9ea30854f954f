#!/usr/bin/env python3
"""torchcheck: dcc's generated C against the model's PyTorch twin, float64.

    torchcheck.py [--dcc DCC] FILE.expr [--wrt a,b] [--points N] [--tol X]
                  [--backends loops,unrolled] [--cc CC] [--seed S]
                  [--perturb EPS] [--keep DIR]

FILE.expr carries its PyTorch twin in comment lines that start `# TORCH:`:
Python, one line per comment line (what follows "TORCH: " with its
indentation kept, so a twin may define functions, loop, build torch.nn
modules).  The twin runs with these names defined:

  every input and param of FILE.expr by its name, a float64 tensor of its
      declared shape (a scalar is a 0-d tensor); params, and the inputs named
      in --wrt, require grad;
  torch, F (torch.nn.functional), nn (torch.nn), math;
  call(module, {name: tensor}, *args): module(*args) with its parameters
      replaced by the given tensors (torch.nn.utils.stateless.functional_call),
      so that the derivative flows to them: how a twin uses torch.nn.GRU or
      nn.LSTM with the .expr's params as weights;

and with float64 as torch's default dtype (modules it builds are float64).
It must set `loss`, a scalar tensor, and a variable named after each
`output` of FILE.expr (compared flattened, row-major).  A twin's line
numbers are its lines in FILE.expr: an exception in it names them.

For each back end (--backends: `loops` is --unroll-limit 0, `unrolled`
--unroll-limit 1000000000; default both), dcc compiles FILE.expr (--real
double, --prefix m, and --wrt) to m.c, which is compiled as C99 with -Wall
-Wextra -Werror -pedantic -O0 -ffp-contract=off into a shared library and
loaded with ctypes.  -O0: what is compared is the C's arithmetic, which
-ffp-contract=off keeps the same at every level, and clang -O2 takes 13 s
on the 500 KB of straight-line C of a few convolutions (unrolled), 3 s on
their loops, against 1 s for both at -O0.  At N deterministic points (default 4; seed --seed),
every input and param is drawn uniformly from [-1, 1], or from the range of
the file's `# FDCHECK: range [NAME] LO HI` lines (fdcheck.py's directives),
and the check compares with torch autograd at the same point:

  loss      m_loss and m_loss_grad's loss: |a - b| / max(|a|, |b|, 1): a
            loss below 1 is often the difference of larger terms (a sum of
            weighted outputs), whose rounding is absolute, not relative;
  gradient  m_loss_grad's whole gradient (every param) as one vector:
            max_k |a_k - b_k| / max(max_k |a_k|, max_k |b_k|, 1e-12), i.e.
            relative to the gradient's max norm (component by component
            would not do: a component that cancels to 1e-9 of the largest
            loses digits in dcc and in torch alike);
  wrt       each --wrt input's m_grad_NAME, the same way, one vector each;
  outputs   each output of m_outputs, the same way, one vector each.

The check passes when every difference is at most --tol (default 1e-12).
It prints a line per back end and point, then

    torchcheck: OK: FILE: B back ends, P points: loss E, gradient E, wrt E, outputs E (tolerance T)

(or MISMATCH (what): ..., exit 1).  --perturb EPS adds EPS to every
component of dcc's gradient before comparing (to see a mismatch caught).
Exit 2 on a usage error, a build error, or a twin that fails; without torch
it prints "torchcheck: SKIPPED: ..." and exits 0 (tests say REQUIRES: torch).
"""

import argparse
import ctypes
import math
import os
import random
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fdcheck import REPO, STRICT, Failure, read_directives, run  # noqa: E402

FLOOR = 1e-12
BACKENDS = {'loops': '0', 'unrolled': '1000000000'}


class Usage(Exception):
    pass


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('file')
    ap.add_argument('--dcc', default=os.environ.get('DCC') or
                    os.path.join(REPO, 'build', 'san', 'dcc'))
    ap.add_argument('--wrt', default='', help='inputs whose m_grad_ to compare too')
    ap.add_argument('--points', type=int, default=4)
    ap.add_argument('--tol', type=float, default=1e-12)
    ap.add_argument('--backends', default='loops,unrolled')
    ap.add_argument('--cc', default='clang')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--dcc-arg', action='append', default=[],
                    help='extra dcc argument (repeat)')
    ap.add_argument('--perturb', type=float, default=0.0, metavar='EPS',
                    help="add EPS to dcc's gradient (to see a mismatch caught)")
    ap.add_argument('--keep', metavar='DIR', help='work in DIR and keep it')
    args = ap.parse_args(argv)
    if args.points < 1:
        ap.error('--points must be at least 1')
    for b in args.backends.split(','):
        if b not in BACKENDS:
            ap.error('--backends: %r is not loops or unrolled' % b)
    return args


# ---- the .expr: its twin and its declarations ------------------------------

def read_twin(path, lines):
    """The `# TORCH:` lines as Python source whose line numbers are the
    file's (other lines blank)."""
    code, found = [], False
    for line in lines:
        m = re.match(r'\s*#\s*TORCH:(.*)$', line)
        if m:
            text = m.group(1)
            code.append(text[1:] if text.startswith(' ') else text)
            found = True
        else:
            code.append('')
    if not found:
        raise Usage('%s has no `# TORCH:` lines' % path)
    return '\n'.join(code) + '\n'


def split_top(text):
    """text split at the commas outside parentheses."""
    parts, depth, cur = [], 0, ''
    for ch in text:
        if ch == '(':
            depth += 1
        elif ch == ')':
            depth -= 1
        if ch == ',' and depth == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    parts.append(cur)
    return parts


def read_decls(path, lines):
    """{name: (kind, shape)} of the file's inputs and params, and the names
    of its outputs in order."""
    decls, outputs = {}, []
    for lineno, line in enumerate(lines, 1):
        line = line.split('#', 1)[0]
        m = re.match(r'\s*(input|param)\s+(.*)$', line)
        if m:
            for item in split_top(m.group(2)):
                d = re.match(r'\s*([A-Za-z_]\w*)\s*((?:\[\s*\d+\s*\]\s*)*)(=.*)?$', item)
                if not d:
                    raise Usage('%s:%d: cannot read the declaration %r' % (path, lineno, item.strip()))
                shape = [int(n) for n in re.findall(r'\d+', d.group(2))]
                decls[d.group(1)] = (m.group(1), shape)
        m = re.match(r'\s*output\s+([A-Za-z_]\w*)\s*=', line)
        if m:
            outputs.append(m.group(1))
    return decls, outputs


# ---- the generated model ----------------------------------------------------

def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def header_layout(text):
    text = strip_comments(text)

    def define(name):
        m = re.search(r'#\s*define\s+M_%s\s+\(?\s*(\d+)\s*\)?' % name, text)
        return int(m.group(1)) if m else None

    lay = {'ws': define('WORKSPACE_SIZE')}
    for name in ('N_IN', 'N_PARAMS', 'N_OUT'):
        lay[name] = define(name)
        if lay[name] is None:
            raise Failure('m.h has no #define M_%s' % name)
    for kind, total in (('IN', 'N_IN'), ('PARAM', 'N_PARAMS'), ('OUT', 'N_OUT')):
        starts = sorted((int(o), n) for n, o in re.findall(
            r'#\s*define\s+M_%s_(\w+)\s+\(?\s*(\d+)\s*\)?' % kind, text))
        lay[kind] = {n: (o, (starts[i + 1][0] if i + 1 < len(starts) else lay[total]) - o)
                     for i, (o, n) in enumerate(starts)}
    lay['scalar_grad'] = {n for n in re.findall(r'\bm_real\s+m_grad_(\w+)\s*\(', text)}
    return lay


class Model:
    """One back end's m.c, built into a shared library and loaded."""

    def __init__(self, args, backend, wrt, work):
        d = os.path.join(work, backend)
        os.makedirs(d, exist_ok=True)
        src, lib = os.path.join(d, 'm.c'), os.path.join(d, 'model.so')
        cmd = [args.dcc, '--prefix', 'm', '--real', 'double',
               '--unroll-limit', BACKENDS[backend]]
        if wrt:
            cmd += ['--wrt', ','.join(wrt)]
        run(cmd + args.dcc_arg + [os.path.abspath(args.file), '-o', src],
            'dcc (%s)' % backend, timeout=600)
        run([args.cc] + STRICT + ['-O0', '-ffp-contract=off', '-shared', '-fPIC',
                                  '-o', lib, src, '-lm'],
            'compiling m.c (%s) with %s' % (backend, args.cc), timeout=600)
        with open(os.path.join(d, 'm.h')) as f:
            self.lay = header_layout(f.read())
        self.backend = backend
        self.lib = ctypes.CDLL(lib)
        rp = ctypes.POINTER(ctypes.c_double)
        for fn, argt, res in (('m_loss', [rp, rp], ctypes.c_double),
                              ('m_loss_grad', [rp, rp, rp], ctypes.c_double),
                              ('m_outputs', [rp, rp, rp], None)):
            f = getattr(self.lib, fn)
            f.argtypes, f.restype = argt, res
        self.wrt = {}
        for name in wrt:
            f = getattr(self.lib, 'm_grad_' + name)
            if name in self.lay['scalar_grad']:
                f.argtypes, f.restype = [rp, rp], ctypes.c_double
            else:
                f.argtypes, f.restype = [rp, rp, rp], None
            self.wrt[name] = f

    @staticmethod
    def array(values, n):
        a = (ctypes.c_double * max(n, 1))()
        for k, v in enumerate(values):
            a[k] = v
        return a

    def evaluate(self, inp, p):
        lay = self.lay
        cin, cp = self.array(inp, lay['N_IN']), self.array(p, lay['N_PARAMS'])
        grad, out = self.array([], lay['N_PARAMS']), self.array([], lay['N_OUT'])
        loss = self.lib.m_loss(cin, cp)
        loss2 = self.lib.m_loss_grad(cin, cp, grad)
        self.lib.m_outputs(cin, cp, out)
        wrt = {}
        for name, f in self.wrt.items():
            size = lay['IN'][name][1]
            if name in lay['scalar_grad']:
                wrt[name] = [f(cin, cp)]
            else:
                buf = self.array([], size)
                f(cin, cp, buf)
                wrt[name] = list(buf[:size])
        outs = {n: list(out[o:o + s]) for n, (o, s) in lay['OUT'].items()}
        return loss, loss2, list(grad[:lay['N_PARAMS']]), wrt, outs


# ---- the comparison -----------------------------------------------------------

def lossdiff(a, b):
    if a == b:
        return 0.0
    if math.isnan(a) or math.isnan(b):
        return math.inf
    return abs(a - b) / max(abs(a), abs(b), 1.0)


def normrel(xs, ys):
    """max_k |a_k - b_k| / max(max_k |a_k|, max_k |b_k|, 1e-12)."""
    if len(xs) != len(ys):
        return math.inf
    diff = 0.0
    for a, b in zip(xs, ys):
        if a != b:
            d = abs(a - b)
            diff = max(diff, math.inf if math.isnan(d) else d)
    scale = max([abs(v) for v in list(xs) + list(ys)] + [FLOOR])
    return diff / scale


def fmt(v):
    return '-' if v is None else '%.1e' % v


def twin_values(torch, code, path, decls, outputs, wrt, inp, p, lay):
    """Runs the twin at (inp, p): (loss, gradient over p, {wrt: gradient},
    {output: values})."""
    ns = {'torch': torch, 'F': torch.nn.functional, 'nn': torch.nn, 'math': math}

    def call(module, weights, *a, **kw):
        from torch.nn.utils import stateless
        return stateless.functional_call(module, weights, a, kw)

    ns['call'] = call
    leaves = []
    for name, (kind, shape) in decls.items():
        off, size = lay['PARAM' if kind == 'param' else 'IN'][name]
        src = p if kind == 'param' else inp
        t = torch.tensor(src[off:off + size], dtype=torch.float64).reshape(shape)
        if kind == 'param' or name in wrt:
            t.requires_grad_(True)
            leaves.append((kind, name, t))
        ns[name] = t
    try:
        exec(compile(code, path, 'exec'), ns)
    except Exception as e:  # the twin's own error, with its .expr line
        import traceback
        tb = traceback.extract_tb(e.__traceback__)
        where = ['%s:%d' % (f.filename, f.lineno) for f in tb if f.filename == path]
        raise Usage('the TORCH twin failed%s: %s: %s'
                    % (' at ' + where[-1] if where else '', type(e).__name__, e))
    loss = ns.get('loss')
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise Usage('the TORCH twin must set `loss` to a scalar tensor')
    for o in outputs:
        if not isinstance(ns.get(o), torch.Tensor):
            raise Usage('the TORCH twin must set `%s` (an output) to a tensor' % o)
    grads = torch.autograd.grad(loss.reshape(()), [t for _, _, t in leaves], allow_unused=True)
    gp = [0.0] * lay['N_PARAMS']
    gw = {}
    for (kind, name, t), g in zip(leaves, grads):
        vals = [0.0] * t.numel() if g is None else g.detach().reshape(-1).tolist()
        if kind == 'param':
            off, size = lay['PARAM'][name]
            gp[off:off + size] = vals
        else:
            gw[name] = vals
    outs = {o: ns[o].detach().reshape(-1).tolist() for o in outputs}
    return loss.item(), gp, gw, outs


def check(args, torch):
    with open(args.file, encoding='utf-8') as f:
        lines = f.read().split('\n')
    code = read_twin(args.file, lines)
    decls, outputs = read_decls(args.file, lines)
    ranges, _, _ = read_directives(args.file)
    wrt = [w for w in args.wrt.split(',') if w]
    for w in wrt:
        if decls.get(w, ('',))[0] != 'input':
            raise Usage('--wrt %s: not an input of %s' % (w, args.file))
    for name in ranges:
        if name is not None and name not in decls:
            raise Usage('FDCHECK range names %s, not an input or param' % name)
    backends = args.backends.split(',')
    work = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix='torchcheck.')
    os.makedirs(work, exist_ok=True)
    try:
        models = [Model(args, b, wrt, work) for b in backends]
    finally:
        if not args.keep:
            import shutil
            shutil.rmtree(work, ignore_errors=True)
    lay = models[0].lay
    # The declarations read from the file must be the header's layout.
    for name, (kind, shape) in decls.items():
        table = lay['PARAM' if kind == 'param' else 'IN']
        size = 1
        for n in shape:
            size *= n
        if name not in table or table[name][1] != size:
            raise Failure('%s %s%s: the header says %s' % (
                kind, name, ''.join('[%d]' % n for n in shape),
                '%d scalars' % table[name][1] if name in table else 'nothing of it'))
    if set(outputs) != set(lay['OUT']):
        raise Failure('outputs %s in the file, %s in the header' % (outputs, sorted(lay['OUT'])))
    for m in models[1:]:
        if {k: m.lay[k] for k in ('IN', 'PARAM', 'OUT')} != {k: lay[k] for k in ('IN', 'PARAM', 'OUT')}:
            raise Failure('the back ends disagree on the layout')

    default = ranges.get(None, (-1.0, 1.0))

    def draw(rng, table, total):
        vals = [0.0] * total
        for name, (off, size) in table.items():
            lo, hi = ranges.get(name, default)
            vals[off:off + size] = [rng.uniform(lo, hi) for _ in range(size)]
        return vals

    rng = random.Random(args.seed)
    worst = {'loss': 0.0, 'gradient': 0.0, 'wrt': None, 'outputs': None}
    print('torchcheck: %s: %d inputs, %d params, %d outputs%s'
          % (os.path.basename(args.file), lay['N_IN'], lay['N_PARAMS'], lay['N_OUT'],
             ', wrt ' + ','.join(wrt) if wrt else ''))
    print('  %-8s %5s  %22s  %9s  %9s  %9s  %9s'
          % ('back end', 'point', 'loss (torch)', 'loss', 'gradient', 'wrt', 'outputs'))
    points = []
    for k in range(args.points):
        inp = draw(rng, lay['IN'], lay['N_IN'])
        p = draw(rng, lay['PARAM'], lay['N_PARAMS'])
        points.append((inp, p, twin_values(torch, code, args.file, decls, outputs, wrt, inp, p, lay)))
    for m in models:
        for k, (inp, p, (tloss, tgrad, twrt, touts)) in enumerate(points):
            loss, loss2, grad, gwrt, outs = m.evaluate(inp, p)
            if args.perturb:
                grad = [g + args.perturb for g in grad]
            d = {'loss': max(lossdiff(loss, tloss), lossdiff(loss2, tloss)),
                 'gradient': normrel(grad, tgrad) if lay['N_PARAMS'] else 0.0,
                 'wrt': max((normrel(gwrt[w], twrt[w]) for w in wrt), default=None),
                 'outputs': max((normrel(outs[o], touts[o]) for o in outputs), default=None)}
            for what, v in d.items():
                if v is not None:
                    worst[what] = v if worst[what] is None else max(worst[what], v)
            print('  %-8s %5d  %22.15g  %9s  %9s  %9s  %9s'
                  % (m.backend, k, tloss, fmt(d['loss']), fmt(d['gradient']),
                     fmt(d['wrt']), fmt(d['outputs'])))
    bad = [w for w, v in worst.items() if v is not None and not v <= args.tol]
    summary = ', '.join('%s %s' % (w, fmt(worst[w])) for w in ('loss', 'gradient', 'wrt', 'outputs'))
    print('torchcheck: %s: %s: %s, %d points: %s (tolerance %g)'
          % ('MISMATCH (%s)' % ', '.join(bad) if bad else 'OK', os.path.basename(args.file),
             ', '.join(backends), args.points, summary, args.tol))
    return 1 if bad else 0


def main(argv):
    args = parse_args(argv)
    if not os.path.isfile(args.file):
        print('torchcheck: error: %s: no such file' % args.file, file=sys.stderr)
        return 2
    try:
        import torch
    except ImportError:
        print('torchcheck: SKIPPED: python3-torch is not installed (apt-get install -y python3-torch)')
        return 0
    torch.set_default_dtype(torch.float64)
    try:
        return check(args, torch)
    except (Usage, Failure) as e:
        print('torchcheck: error: %s' % e, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
