#!/usr/bin/env python3
"""Check dcc's generated C against PyTorch float64 autograd, from Python.

usage: check_gradients.py [--dcc PATH] [--points N] [--seed S] [--perturb EPS]
                          [--keep DIR] [MODEL ...]

MODEL is a model's name (five_points, mlp_2x4, quadratic, digits, batch,
rank4) or the path of its .expr file (the file's base name picks the model);
without MODEL, all six.  batch (a mini-batch with broadcasting) and rank4
(tensors of rank 3 and 4, reductions along dimensions) are held to 1e-12.  For each model the script

  1. runs dcc on the .expr (`dcc MODEL.expr --prefix net -o DIR/net.c`;
     --dcc, default build/dcc beside this checkout, else `dcc` on PATH);
  2. compiles net.c into a shared library ($CC, default cc, with
     -O2 -shared -fPIC ... -lm) and loads it with ctypes;
  3. reads the sizes and each param's, input's and output's offset from
     net.h's #defines (NET_N_PARAMS, NET_PARAM_W1, ...), and checks them
     against net_param_names[];
  4. at N points (default 5): params from net_init(seed + k) (from point 1
     on, moved by a normal(0, 1) step, so that biases are not all zero and
     a model without inputs is not checked at one point only), inputs drawn
     in their range (labels 0 or 1, one-hot targets; real digits rows from
     examples/multiclass/digits.csv, pixels / 16);
  5. calls net_loss, net_loss_grad and net_outputs, and compares them with
     the same model written in torch (float64, autograd): the script cannot
     read .expr, so each model is written here by hand, from its .expr and
     the language's definitions (mse = mean((pred - target)^2),
     cross_entropy(z, t) = -sum(t * log_softmax(z)), ...).

It prints a table per model: at each point, the relative difference of the
loss (net_loss's and net_loss_grad's), |a - b| / max(|a|, |b|, 1e-12); of the
gradient as a vector, max |a_k - b_k| / max(max |a_k|, max |b_k|, 1e-12)
(see normrel); of the outputs, elementwise.  Then a line
"check_gradients: MODEL: OK: ..." per model, and exits 1 if any difference
is above 1e-10 (or 2 on a usage or build error).  --perturb EPS adds EPS to
every component of dcc's gradient before comparing: a test uses it to show
that a mismatch is caught.

Needs python3's standard library and PyTorch (Debian: python3-torch, for
/usr/bin/python3); without torch it says so and exits 0.
"""

import argparse
import ctypes
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

TOLERANCE = 1e-10
FLOOR = 1e-12

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


# ---------------------------------------------------------------------------
# The models, written in torch.  Each takes `P(name, shape)` / `I(name,
# shape)` (the param's / input's slice of p / in, viewed in its shape) and
# returns (loss, {output name: tensor}).  They follow the .expr files line by
# line.

def five_points_model(torch, P, I):
    # examples/five_points/five_points.expr (labs 3 and 5: 2-2-1 network)
    x1, x2, y = I('x1'), I('x2'), I('y')
    z1 = torch.tanh(P('b1') + x1 * P('w11') + x2 * P('w21'))
    z2 = torch.tanh(P('b2') + x1 * P('w12') + x2 * P('w22'))
    fin = P('c') + z1 * P('u1') + z2 * P('u2')
    fout = 1 / (1 + torch.exp(-fin))
    loss = fin - fin * y + torch.log(1 + torch.exp(-fin))
    return loss, {'fout': fout}


def mlp_2x4_model(torch, P, I):
    # examples/deep_mlp/mlp_2x4.expr (2 tanh layers of 4, sigmoid, mse)
    x, y = I('x', [2]), I('y', [1])
    h1 = torch.tanh(P('W1', [4, 2]) @ x + P('b1', [4]))
    h2 = torch.tanh(P('W2', [4, 4]) @ h1 + P('b2', [4]))
    yhat = torch.sigmoid(P('W3', [1, 4]) @ h2 + P('b3', [1]))
    loss = torch.mean((yhat - y) ** 2)
    return loss, {'yhat': yhat}


def quadratic_model(torch, P, I):
    # examples/quadratic/quadratic.expr (no inputs)
    x1, x2 = P('x1'), P('x2')
    loss = (x1 - 6) ** 2 + x2 ** 2 - x1 * x2
    return loss, {}


def digits_model(torch, P, I):
    # examples/multiclass/digits.expr (64-32-10 tanh MLP, softmax,
    # cross-entropy on the one-hot target)
    x, t = I('x', [64]), I('t', [10])
    h = torch.tanh(P('W1', [32, 64]) @ x + P('b1', [32]))
    z = P('W2', [10, 32]) @ h + P('b2', [10])
    prob = torch.softmax(z, 0)
    loss = -torch.sum(t * torch.log_softmax(z, 0))
    return loss, {'prob': prob}


def batch_model(torch, P, I):
    # examples/python/models/batch.expr (a mini-batch, broadcasting)
    X, T = I('X', [8, 5]), I('T', [8, 3])
    W1, b1, W2 = P('W1', [6, 5]), P('b1', [6]), P('W2', [3, 6])
    b2, s = P('b2', [1, 3]), P('s', [1, 6])
    H = torch.tanh((X @ W1.T + b1) * s)
    Z = H @ W2.T + b2
    loss = -torch.sum(T * torch.log_softmax(Z, 1)) / 8 + 0.01 * torch.sum(H.mean(0) ** 2)
    return loss, {'P': torch.softmax(Z, 1)}


def rank4_model(torch, P, I):
    # examples/python/models/rank4.expr (rank 3 and 4, reductions, amax)
    X, t = I('X', [2, 3, 4]), I('t', [3])
    K, g, c = P('K', [3, 2, 3, 4]), P('g', [2, 1, 4]), P('c', [3])
    A = torch.tanh(X * g)
    z = (K * A).sum(3).sum(2).sum(1) + c
    loss = (-torch.sum(t * torch.log_softmax(z, 0)) + 0.1 * torch.sum(K[1] ** 2)
            + torch.sum(torch.amax(A, 1)) + torch.logsumexp(A, 2)[1][2])
    return loss, {'p': torch.softmax(z, 0)}


# Inputs, one sample: a dict name -> list of floats.

def five_points_inputs(rng):
    return {'x1': [rng.uniform(-2, 2)], 'x2': [rng.uniform(-2, 2)],
            'y': [float(rng.randint(0, 1))]}


def mlp_2x4_inputs(rng):
    return {'x': [rng.uniform(-2, 2) for _ in range(2)],
            'y': [float(rng.randint(0, 1))]}


def quadratic_inputs(rng):
    return {}


_digits_rows = None


def digits_inputs(rng):
    global _digits_rows
    if _digits_rows is None:
        path = os.path.join(REPO, 'examples', 'multiclass', 'digits.csv')
        try:
            with open(path) as f:
                _digits_rows = [[int(v) for v in line.split(',')]
                                for line in f if line.strip()]
        except OSError:
            _digits_rows = []      # no data set: random images instead
    if _digits_rows:
        row = rng.choice(_digits_rows)
        pixels, label = [v / 16.0 for v in row[:64]], row[64]
    else:
        pixels, label = [rng.random() for _ in range(64)], rng.randrange(10)
    return {'x': pixels, 't': [1.0 if k == label else 0.0 for k in range(10)]}


def one_hot_rows(rng, rows, classes):
    out = []
    for _ in range(rows):
        k = rng.randrange(classes)
        out += [1.0 if j == k else 0.0 for j in range(classes)]
    return out


def batch_inputs(rng):
    return {'X': [rng.uniform(-2, 2) for _ in range(40)], 'T': one_hot_rows(rng, 8, 3)}


def rank4_inputs(rng):
    return {'X': [rng.uniform(-2, 2) for _ in range(24)], 't': one_hot_rows(rng, 1, 3)}


MODELS = {
    'five_points': ('examples/five_points/five_points.expr',
                    five_points_model, five_points_inputs),
    'mlp_2x4': ('examples/deep_mlp/mlp_2x4.expr',
                mlp_2x4_model, mlp_2x4_inputs),
    'quadratic': ('examples/quadratic/quadratic.expr',
                  quadratic_model, quadratic_inputs),
    'digits': ('examples/multiclass/digits.expr',
               digits_model, digits_inputs),
    'batch': ('examples/python/models/batch.expr', batch_model, batch_inputs),
    'rank4': ('examples/python/models/rank4.expr', rank4_model, rank4_inputs),
}

# The models of the new round of the language are held to 1e-12.
TIGHT = {'batch', 'rank4'}


# ---------------------------------------------------------------------------

class BuildError(Exception):
    pass


def find_dcc(arg):
    if arg:
        return arg
    built = os.path.join(REPO, 'build', 'dcc')
    if os.access(built, os.X_OK):
        return built
    on_path = shutil.which('dcc')
    if on_path:
        return on_path
    raise BuildError('dcc not found: build it (make build/dcc) or pass --dcc PATH')


def run(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
    except OSError as e:
        raise BuildError('cannot run %s: %s' % (cmd[0], e.strerror))
    if r.returncode != 0:
        raise BuildError('%s failed (exit %d):\n%s'
                         % (' '.join(shlex.quote(c) for c in cmd),
                            r.returncode, r.stdout))


def parse_header(path):
    """The header's integer #defines: {'NET_N_IN': 3, 'NET_PARAM_w11': 1, ...}."""
    defines = {}
    with open(path) as f:
        for line in f:
            m = re.match(r'\s*#\s*define\s+(\w+)\s+(-?\d+)\s*$', line)
            if m:
                defines[m.group(1)] = int(m.group(2))
            if re.match(r'\s*typedef\s+double\s+net_real\s*;', line):
                defines['real is double'] = 1
    if 'real is double' not in defines:
        raise BuildError('%s: net_real is not double' % path)
    return defines


def offsets(defines, kind, total):
    """{name: (offset, size)} of the inputs/params/outputs, sizes from the
    next offset (the #defines give offsets only)."""
    starts = sorted((off, name[len('NET_%s_' % kind):])
                    for name, off in defines.items()
                    if name.startswith('NET_%s_' % kind))
    result = {}
    for k, (off, name) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else total
        result[name] = (off, end - off)
    return result


class Compiled:
    """dcc's C for one model, built into a shared library and loaded."""

    def __init__(self, expr, dcc, workdir):
        source = os.path.join(workdir, 'net.c')
        library = os.path.join(workdir, 'libnet.so')
        run([dcc, expr, '--prefix', 'net', '-o', source])
        cc = shlex.split(os.environ.get('CC') or 'cc')
        run(cc + ['-O2', '-shared', '-fPIC', '-o', library, source, '-lm'])
        d = parse_header(os.path.join(workdir, 'net.h'))
        self.n_in, self.n_params, self.n_out = \
            d['NET_N_IN'], d['NET_N_PARAMS'], d['NET_N_OUT']
        self.inputs = offsets(d, 'IN', self.n_in)
        self.params = offsets(d, 'PARAM', self.n_params)
        self.outputs = offsets(d, 'OUT', self.n_out)

        self.lib = lib = ctypes.CDLL(library)
        real_p = ctypes.POINTER(ctypes.c_double)
        lib.net_loss.argtypes = [real_p, real_p]
        lib.net_loss.restype = ctypes.c_double
        lib.net_loss_grad.argtypes = [real_p, real_p, real_p]
        lib.net_loss_grad.restype = ctypes.c_double
        lib.net_outputs.argtypes = [real_p, real_p, real_p]
        lib.net_outputs.restype = None
        lib.net_init.argtypes = [real_p, ctypes.c_uint32]
        lib.net_init.restype = None
        if self.n_params:
            # net_param_names[] must agree with the header's layout.
            names = (ctypes.c_char_p * self.n_params).in_dll(lib, 'net_param_names')
            names = [n.decode() for n in names]
            for name, (off, size) in self.params.items():
                if names[off] != name and not names[off].startswith(name + '['):
                    raise BuildError('net_param_names[%d] is %s, the header says %s'
                                     % (off, names[off], name))

    @staticmethod
    def array(values, n):
        a = (ctypes.c_double * max(n, 1))()     # never a zero-length array
        for k, v in enumerate(values):
            a[k] = v
        return a

    def init(self, seed):
        p = self.array([], self.n_params)
        self.lib.net_init(p, seed)
        return [p[k] for k in range(self.n_params)]

    def evaluate(self, inp, p):
        cin, cp = self.array(inp, self.n_in), self.array(p, self.n_params)
        grad = self.array([], self.n_params)
        out = self.array([], self.n_out)
        loss = self.lib.net_loss(cin, cp)
        loss2 = self.lib.net_loss_grad(cin, cp, grad)
        self.lib.net_outputs(cin, cp, out)
        return (loss, loss2, [grad[k] for k in range(self.n_params)],
                [out[k] for k in range(self.n_out)])


def reldiff(a, b):
    return abs(a - b) / max(abs(a), abs(b), FLOOR)


def maxrel(xs, ys):
    return max((reldiff(a, b) for a, b in zip(xs, ys)), default=0.0)


def normrel(xs, ys):
    """The gradient's difference relative to its largest component:
    max |a_k - b_k| / max(max |a_k|, max |b_k|, 1e-12).  Component by
    component would not do: a weight behind a saturated tanh has a partial
    derivative 1e-7 of the largest, through 1 - h^2 with h near 1, which
    loses 9 digits to cancellation in dcc and in torch alike (elementwise,
    they differ by up to about 1e-9 there)."""
    diff = max((abs(a - b) for a, b in zip(xs, ys)), default=0.0)
    scale = max([abs(v) for v in list(xs) + list(ys)] + [FLOOR])
    return diff / scale


def check_model(torch, name, expr, args, workdir):
    """Print the model's table and its OK/MISMATCH line; True if it agrees."""
    _, model, draw = MODELS[name]
    c = Compiled(expr, args.dcc, workdir)
    shown = os.path.abspath(expr)
    if shown.startswith(REPO + os.sep):
        shown = os.path.relpath(shown, REPO)
    print('check_gradients: %s: %s: %d inputs, %d params, %d outputs'
          % (name, shown, c.n_in, c.n_params, c.n_out))
    print('  %5s  %22s  %13s  %13s  %13s  %13s'
          % ('point', 'loss (dcc)', 'loss', 'loss_grad', 'gradient', 'outputs'))
    print('  %5s  %22s  %13s  %13s  %13s  %13s'
          % ('', '', 'rel. diff', 'rel. diff', 'rel. to max', 'rel. diff'))
    rng = random.Random(args.seed)
    worst = {'loss': 0.0, 'gradient': 0.0, 'outputs': 0.0}
    for k in range(args.points):
        p = c.init(args.seed + k)
        if k > 0:
            p = [v + rng.gauss(0, 1) for v in p]
        sample = draw(rng)
        inp = [0.0] * c.n_in
        for iname, values in sample.items():
            off, size = c.inputs[iname]
            assert size == len(values), (iname, size, len(values))
            inp[off:off + size] = values
        loss, loss2, grad, out = c.evaluate(inp, p)
        if args.perturb:
            grad = [g + args.perturb for g in grad]

        # The same model in torch, float64.
        tp = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        tin = torch.tensor(inp, dtype=torch.float64)

        def P(pname, shape=()):
            off, size = c.params[pname]
            return tp[off:off + size].reshape(shape)

        def I(iname, shape=()):
            off, size = c.inputs[iname]
            return tin[off:off + size].reshape(shape)

        tloss, touts = model(torch, P, I)
        tloss.backward()
        tgrad = tp.grad.tolist() if tp.grad is not None else [0.0] * c.n_params
        tout = [0.0] * c.n_out
        for oname, value in touts.items():
            off, size = c.outputs[oname]
            tout[off:off + size] = value.detach().reshape(-1).tolist()
        if set(touts) != set(c.outputs):
            raise BuildError('%s: outputs %s in the header, %s in torch'
                             % (name, sorted(c.outputs), sorted(touts)))

        d_loss = reldiff(loss, tloss.item())
        d_loss2 = reldiff(loss2, tloss.item())
        d_grad = normrel(grad, tgrad)
        d_out = maxrel(out, tout)
        worst['loss'] = max(worst['loss'], d_loss, d_loss2)
        worst['gradient'] = max(worst['gradient'], d_grad)
        worst['outputs'] = max(worst['outputs'], d_out)
        print('  %5d  %22.15g  %13.1e  %13.1e  %13.1e  %13s'
              % (k, loss, d_loss, d_loss2, d_grad,
                 '%.1e' % d_out if c.n_out else '-'))
    tolerance = 1e-12 if name in TIGHT else TOLERANCE
    bad = [what for what, v in worst.items() if v > tolerance]
    summary = ', '.join('%s max relative difference %.1e' % (what, worst[what])
                        for what in ('loss', 'gradient', 'outputs')
                        if what != 'outputs' or c.n_out)
    if c.n_out == 0:
        summary += ', no outputs'
    verdict = 'MISMATCH (%s)' % ', '.join(bad) if bad else 'OK'
    print('check_gradients: %s: %s: %s (%d points, tolerance %g)'
          % (name, verdict, summary, args.points, tolerance))
    return not bad


def resolve(arg):
    """(name, .expr path) for a model's name or its .expr's path."""
    if arg in MODELS:
        return arg, os.path.join(REPO, MODELS[arg][0])
    stem = os.path.splitext(os.path.basename(arg))[0]
    if arg.endswith('.expr') and stem in MODELS:
        return stem, arg
    raise ValueError(arg)


def main(argv):
    ap = argparse.ArgumentParser(
        prog='check_gradients',
        description="Compare dcc's generated loss, gradient and outputs "
                    'with PyTorch float64 autograd, through ctypes.')
    ap.add_argument('models', nargs='*', metavar='MODEL',
                    help='%s, or its .expr path (default: all)'
                         % ', '.join(MODELS))
    ap.add_argument('--dcc', help='the dcc to run (default: build/dcc, else dcc on PATH)')
    ap.add_argument('--points', type=int, default=5, help='points per model (default 5)')
    ap.add_argument('--seed', type=int, default=1, help='seed of net_init and the inputs (default 1)')
    ap.add_argument('--perturb', type=float, default=0.0, metavar='EPS',
                    help="add EPS to dcc's gradient (to see a mismatch caught)")
    ap.add_argument('--keep', metavar='DIR', help='build in DIR/MODEL/ and keep it')
    args = ap.parse_args(argv)
    if args.points < 1:
        ap.error('--points must be at least 1')

    chosen = []
    for m in args.models or list(MODELS):
        try:
            name, expr = resolve(m)
        except ValueError:
            ap.error('unknown model %r (known: %s; or their .expr files)'
                     % (m, ', '.join(MODELS)))
        if not os.path.isfile(expr):
            ap.error('%s: no such file' % expr)
        chosen.append((name, expr))

    try:
        import torch
    except ImportError:
        print('check_gradients: SKIPPED: python3-torch is not installed '
              '(apt-get install -y python3-torch)')
        return 0

    try:
        args.dcc = find_dcc(args.dcc)
        failed = []
        for name, expr in chosen:
            if args.keep:
                workdir = os.path.join(args.keep, name)
                os.makedirs(workdir, exist_ok=True)
                ok = check_model(torch, name, expr, args, workdir)
            else:
                with tempfile.TemporaryDirectory(prefix='check_gradients.') as workdir:
                    ok = check_model(torch, name, expr, args, workdir)
            if not ok:
                failed.append(name)
    except BuildError as e:
        print('check_gradients: error: %s' % e, file=sys.stderr)
        return 2
    if failed:
        print('check_gradients: FAILED: %s disagree%s with PyTorch'
              % (', '.join(failed), 's' if len(failed) == 1 else ''))
        return 1
    print('check_gradients: %s with PyTorch (torch %s)'
          % ('all %d models agree' % len(chosen) if len(chosen) > 1
             else 'the model agrees', torch.__version__))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
