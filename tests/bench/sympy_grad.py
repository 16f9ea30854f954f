#!/usr/bin/python3
"""The SymPy alternative of the benchmark: what a user would do with SymPy to
get a C gradient of one of the models in tests/bench/models/.

    /usr/bin/python3 tests/bench/sympy_grad.py MODEL OUT.c

MODEL is five_points, quadratic, mlp_4_8_8_1, mlp_64_32_10 or mlp_784_128_10.
Each model's loss is written out by hand in SymPy, the plain way (SymPy has
no stable log_softmax or softplus, so none is used), then

    grads = [sympy.diff(loss, q) for q in params]
    sympy.cse([loss] + grads)   for net_loss_grad
    sympy.cse([loss])           for net_loss

and printed with sympy.ccode (double) as the two functions of the net.h that
dcc writes for the model (`dcc tests/bench/models/MODEL.expr --prefix net`):

    net_real net_loss(const net_real *in, const net_real *p);
    net_real net_loss_grad(const net_real *in, const net_real *p, net_real *grad);

Params and inputs are laid out as dcc lays them out: declaration order,
row-major.  OUT.c is written whole or not at all (a temporary file beside it,
then a rename).  The seconds each phase takes go to standard error as each
phase ends, so a run that a `timeout` kills still shows how far it got.
Needs only the standard library and SymPy (Debian's python3 has 1.11.1).
"""
import time

_T_START = time.perf_counter()  # before importing SymPy: its import is a phase too

import os
import signal
import sys

import sympy
from sympy import Matrix, Symbol, exp, log, tanh


class Model:
    """The symbols of a model's input and param vectors, in their order."""

    def __init__(self):
        self.inputs = []
        self.params = []

    def _scalar(self, where, name):
        # real=True, as the SymPy docs advise for real quantities; it is not
        # only correct but necessary: without it exp() and tanh() of a
        # layer's sum ask whether their argument's imaginary part is a
        # multiple of pi, through polynomial gcds, and already building the
        # 64-32-10 loss does not finish in 10 minutes.
        s = Symbol(name, real=True)
        where.append(s)
        return s

    def _vector(self, where, name, n):
        return Matrix(n, 1, [self._scalar(where, "%s_%d" % (name, i)) for i in range(n)])

    def _matrix(self, where, name, m, n):
        # row-major: element (i, j) is at offset i*n + j
        return Matrix(m, n, [self._scalar(where, "%s_%d_%d" % (name, i, j)) for i in range(m) for j in range(n)])

    def input(self, name):
        return self._scalar(self.inputs, name)

    def input_vector(self, name, n):
        return self._vector(self.inputs, name, n)

    def param(self, name):
        return self._scalar(self.params, name)

    def param_vector(self, name, n):
        return self._vector(self.params, name, n)

    def param_matrix(self, name, m, n):
        return self._matrix(self.params, name, m, n)


# ---------------------------------------------------------------- the models
# Each returns (model, loss), following tests/bench/models/NAME.expr line by line.


def quadratic():
    m = Model()
    x1, x2 = m.param("x1"), m.param("x2")
    return m, (x1 - 6) ** 2 + x2 ** 2 - x1 * x2


def five_points():
    m = Model()
    x1, x2, y = m.input("x1"), m.input("x2"), m.input("y")
    b1, b2, c = m.param("b1"), m.param("b2"), m.param("c")
    w11, w21, w12, w22 = m.param("w11"), m.param("w21"), m.param("w12"), m.param("w22")
    u1, u2 = m.param("u1"), m.param("u2")
    z1 = tanh(b1 + x1 * w11 + x2 * w21)
    z2 = tanh(b2 + x1 * w12 + x2 * w22)
    fin = c + z1 * u1 + z2 * u2
    return m, fin - fin * y + log(1 + exp(-fin))


def mlp_4_8_8_1():
    m = Model()
    x, y = m.input_vector("x", 4), m.input("y")
    W1, b1 = m.param_matrix("W1", 8, 4), m.param_vector("b1", 8)
    W2, b2 = m.param_matrix("W2", 8, 8), m.param_vector("b2", 8)
    w3, b3 = m.param_vector("w3", 8), m.param("b3")
    h1 = (W1 * x + b1).applyfunc(tanh)
    h2 = (W2 * h1 + b2).applyfunc(tanh)
    return m, (w3.dot(h2) + b3 - y) ** 2


def _mlp_softmax(n_in, n_hidden, n_out):
    """tanh hidden layer, then cross_entropy(z, t) = -sum(t*log_softmax(z))
    with log_softmax(z)_k written z_k - log(sum_j exp(z_j))."""
    m = Model()
    x, t = m.input_vector("x", n_in), m.input_vector("t", n_out)
    W1, b1 = m.param_matrix("W1", n_hidden, n_in), m.param_vector("b1", n_hidden)
    W2, b2 = m.param_matrix("W2", n_out, n_hidden), m.param_vector("b2", n_out)
    h = (W1 * x + b1).applyfunc(tanh)
    z = W2 * h + b2
    lse = log(sum(exp(zj) for zj in z))
    return m, -sum(t[k] * (z[k] - lse) for k in range(n_out))


def mlp_64_32_10():
    return _mlp_softmax(64, 32, 10)


def mlp_784_128_10():
    return _mlp_softmax(784, 128, 10)


MODELS = {f.__name__: f for f in (five_points, quadratic, mlp_4_8_8_1, mlp_64_32_10, mlp_784_128_10)}


# ---------------------------------------------------------------- C printing


def c_function(header, model, exprs, writes_grad):
    """One C function from a cse result: the used params and inputs read into
    locals, one `const double` per cse temporary, the gradient stores."""
    repl, red = exprs
    used = set()
    for e in [e for _, e in repl] + list(red):
        used |= e.free_symbols
    lines = [header, "{"]
    for vec, syms in (("p", model.params), ("in", model.inputs)):
        for k, s in enumerate(syms):
            if s in used:
                lines.append("    const double %s = %s[%d];" % (s.name, vec, k))
    if not any(s in used for s in model.inputs):
        lines.append("    (void)in;")
    if not any(s in used for s in model.params):
        lines.append("    (void)p;")
    for sym, e in repl:
        lines.append("    const double %s = %s;" % (sym.name, sympy.ccode(e)))
    if writes_grad:
        for k, g in enumerate(red[1:]):
            lines.append("    grad[%d] = %s;" % (k, sympy.ccode(g)))
    lines.append("    return %s;" % sympy.ccode(red[0]))
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv):
    if len(argv) != 3 or argv[1] not in MODELS:
        sys.stderr.write("usage: %s MODEL OUT.c\nMODEL: %s\n" % (argv[0], " ".join(MODELS)))
        return 2
    name, out = argv[1], argv[2]
    # `timeout` sends SIGTERM: unwind (so a temporary file is removed), quietly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    t0 = last = _T_START

    def phase(what):
        nonlocal last
        now = time.perf_counter()
        sys.stderr.write("sympy_grad %s: %-6s %8.2f s\n" % (name, what, now - last))
        sys.stderr.flush()
        last = now

    phase("import")
    model, loss = MODELS[name]()
    phase("build")

    grads = []
    report = time.perf_counter() + 30
    for i, q in enumerate(model.params):
        grads.append(sympy.diff(loss, q))
        if time.perf_counter() > report:  # a long phase says how far it is
            sys.stderr.write("sympy_grad %s: diff   %d/%d params after %.0f s\n"
                             % (name, i + 1, len(model.params), time.perf_counter() - last))
            sys.stderr.flush()
            report = time.perf_counter() + 30
    phase("diff")

    # cse names its temporaries x0, x1, ...; skip the names the model uses
    # (its own check compares symbols, and ours carry real=True).
    def temporaries():
        taken = {s.name for s in model.inputs + model.params}
        return (s for s in sympy.numbered_symbols("x") if s.name not in taken)

    cse_grad = sympy.cse([loss] + grads, symbols=temporaries())
    cse_loss = sympy.cse([loss], symbols=temporaries())
    phase("cse")

    text = "".join([
        "/* Generated by tests/bench/sympy_grad.py from tests/bench/models/%s.expr:\n" % name,
        "   SymPy %s diff + cse + ccode.  Do not edit. */\n" % sympy.__version__,
        '#include "net.h"\n#include <math.h>\n\n',
        c_function("net_real net_loss(const net_real *in, const net_real *p)", model, cse_loss, False),
        "\n",
        c_function("net_real net_loss_grad(const net_real *in, const net_real *p, net_real *grad)",
                   model, cse_grad, True),
    ])
    write_atomically(out, text)
    phase("print")
    sys.stderr.write("sympy_grad %s: total  %8.2f s (%d params, %d cse temporaries in _loss_grad, %d bytes of C)\n"
                     % (name, time.perf_counter() - t0, len(model.params), len(cse_grad[0]), len(text)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
