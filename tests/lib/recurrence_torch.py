#!/usr/bin/env python3
"""recurrence_torch: recurrent cells written with fold() and scan() in the
C dcc emits (double), against PyTorch float64: torch.nn.RNN, GRU and LSTM
given the same weights, and a hand-written cell, run over the same
sequence of n steps (several n), with the same loss; the loss and every
param's gradient (torch.autograd) must agree to 1e-12, relative to the
largest of the gradient's magnitude and 1.

    recurrence_torch.py --dcc DCC --cc CC --evalgrad tests/lib/evalgrad.c

Each case is a model in the language and the same computation in PyTorch
from named tensors (params in the order the model declares them, then the
inputs); the values are drawn from a seeded generator.  Prints a line per
case and
    recurrence-torch: N cases, P params, worst relative error E
exit status 1 if a case disagrees.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import torch

torch.set_default_dtype(torch.float64)

H, I = 4, 3  # hidden size, input size
STEPS = (1, 7, 30)  # the sequences' lengths tried

RNN = """
input xs[%(T)d][%(I)d], y[2]
param Wih[%(H)d][%(I)d], bih[%(H)d], Whh[%(H)d][%(H)d], bhh[%(H)d], Wo[2][%(H)d], h0[%(H)d]
def cell(h, x) = tanh(Wih @ x + bih + Whh @ h + bhh)
h = fold(cell, h0, xs)
loss = sum((Wo @ h - y)^2)
"""


def rnn(v, T):
    net = torch.nn.RNN(I, H, nonlinearity='tanh')
    w = {'Wih': net.weight_ih_l0, 'bih': net.bias_ih_l0, 'Whh': net.weight_hh_l0, 'bhh': net.bias_hh_l0}
    with torch.no_grad():
        for name, t in w.items():
            t.copy_(v[name])
    _, hn = net(v['xs'].unsqueeze(1), v['h0'].view(1, 1, H))
    loss = ((v['Wo'] @ hn.view(H) - v['y']) ** 2).sum()
    return loss, w


GRU = """
input xs[%(T)d][%(I)d], ys[%(T)d]
param Wir[%(H)d][%(I)d], Wiz[%(H)d][%(I)d], Win[%(H)d][%(I)d]
param Whr[%(H)d][%(H)d], Whz[%(H)d][%(H)d], Whn[%(H)d][%(H)d]
param bir[%(H)d], biz[%(H)d], bin[%(H)d], bhr[%(H)d], bhz[%(H)d], bhn[%(H)d]
param v[%(H)d]
def gru(h, x) {
  r = sigmoid(Wir @ x + bir + Whr @ h + bhr)
  z = sigmoid(Wiz @ x + biz + Whz @ h + bhz)
  n = tanh(Win @ x + bin + r * (Whn @ h + bhn))
  return (1 - z) * n + z * h
}
hs = scan(gru, full(0, %(H)d), xs)
loss = mean((hs @ v - ys)^2)
"""


def gru(v, T):
    net = torch.nn.GRU(I, H)
    with torch.no_grad():  # PyTorch stacks the gates r, z, n
        net.weight_ih_l0.copy_(torch.cat([v['Wir'], v['Wiz'], v['Win']]))
        net.weight_hh_l0.copy_(torch.cat([v['Whr'], v['Whz'], v['Whn']]))
        net.bias_ih_l0.copy_(torch.cat([v['bir'], v['biz'], v['bin']]))
        net.bias_hh_l0.copy_(torch.cat([v['bhr'], v['bhz'], v['bhn']]))
    out, _ = net(v['xs'].unsqueeze(1), torch.zeros(1, 1, H))
    loss = ((out.view(T, H) @ v['v'] - v['ys']) ** 2).mean()
    g = {}
    for j, gate in enumerate('rzn'):
        g['Wi' + gate] = (net.weight_ih_l0, j)
        g['Wh' + gate] = (net.weight_hh_l0, j)
        g['bi' + gate] = (net.bias_ih_l0, j)
        g['bh' + gate] = (net.bias_hh_l0, j)
    return loss, g


# The LSTM's state is a [2][H] matrix: its rows h and c.
LSTM = """
input xs[%(T)d][%(I)d], y
param Wii[%(H)d][%(I)d], Wif[%(H)d][%(I)d], Wig[%(H)d][%(I)d], Wio[%(H)d][%(I)d]
param Whi[%(H)d][%(H)d], Whf[%(H)d][%(H)d], Whg[%(H)d][%(H)d], Who[%(H)d][%(H)d]
param bi[%(H)d], bf[%(H)d], bg[%(H)d], bo[%(H)d]
param v[%(H)d], s0[2][%(H)d]
def lstm(s, x) {
  h = s[0]
  c = s[1]
  i = sigmoid(Wii @ x + Whi @ h + bi)
  f = sigmoid(Wif @ x + Whf @ h + bf)
  g = tanh(Wig @ x + Whg @ h + bg)
  o = sigmoid(Wio @ x + Who @ h + bo)
  c2 = f * c + i * g
  return concat(reshape(o * tanh(c2), 1, %(H)d), reshape(c2, 1, %(H)d))
}
s = fold(lstm, s0, xs)
loss = (dot(v, s[0]) - y)^2 + 0.1 * sum(s[1] * s[1])
"""


def lstm(v, T):
    net = torch.nn.LSTM(I, H)
    with torch.no_grad():  # PyTorch stacks the gates i, f, g, o; its second bias kept at zero
        net.weight_ih_l0.copy_(torch.cat([v['Wii'], v['Wif'], v['Wig'], v['Wio']]))
        net.weight_hh_l0.copy_(torch.cat([v['Whi'], v['Whf'], v['Whg'], v['Who']]))
        net.bias_ih_l0.copy_(torch.cat([v['bi'], v['bf'], v['bg'], v['bo']]))
        net.bias_hh_l0.zero_()
    _, (hn, cn) = net(v['xs'].unsqueeze(1), (v['s0'][0].view(1, 1, H), v['s0'][1].view(1, 1, H)))
    h, c = hn.view(H), cn.view(H)
    loss = (v['v'] @ h - v['y']) ** 2 + 0.1 * (c * c).sum()
    g = {}
    for j, gate in enumerate('ifgo'):
        g['Wi' + gate] = (net.weight_ih_l0, j)
        g['Wh' + gate] = (net.weight_hh_l0, j)
        g['b' + gate] = (net.bias_ih_l0, j)
    return loss, g


# A hand-written cell: a scalar state, a scan whose every state is read.
DECAY = """
input xs[%(T)d], ys[%(T)d]
param a, c, s0
def f(s, x) = s * a + sin(x * c + s)
ss = scan(f, s0, xs)
loss = sum((ss - ys)^2)
"""


def decay(v, T):
    s, ss = v['s0'], []
    for t in range(T):
        s = s * v['a'] + torch.sin(v['xs'][t] * v['c'] + s)
        ss.append(s)
    return ((torch.stack(ss) - v['ys']) ** 2).sum(), {}


def shapes_of(text):
    """The declared params and inputs of a model, in order: name -> shape."""
    params, inputs = [], []
    for line in text.splitlines():
        words = line.split(None, 1)
        if not words or words[0] not in ('param', 'input'):
            continue
        for decl in words[1].split(','):
            decl = decl.strip()
            name = decl.split('[')[0]
            dims = tuple(int(d.rstrip(']')) for d in decl.split('[')[1:])
            (params if words[0] == 'param' else inputs).append((name, dims))
    return params, inputs


def run_case(name, T, text, fn, args, gen, tmp):
    params, inputs = shapes_of(text)
    v = {}  # every value in [-1, 1]
    for n, shape in params + inputs:
        v[n] = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    src = os.path.join(tmp, name + '.expr')
    with open(src, 'w') as f:
        f.write(text)
    c = os.path.join(tmp, 'm.c')
    subprocess.run([args.dcc, src, '-w', '--prefix', 'm', '-o', c], check=True)  # -w: the stack advice
    exe = os.path.join(tmp, name)
    subprocess.run([args.cc, '-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-pedantic', '-I', tmp, c,
                    args.evalgrad, '-o', exe, '-lm'], check=True)
    flat = lambda names: ['%.17g' % x for n, _ in names for x in v[n].detach().reshape(-1).tolist()]
    out = subprocess.run([exe] + flat(params) + ['--'] + flat(inputs), check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout.split('\n')
    dcc_loss = float(out[0].split()[1])
    dcc_grad = [float(line.split()[2]) for line in out[1:] if line.startswith('grad ')]
    loss, mapped = fn(v, T)
    loss.backward()
    torch_grad = []
    for n, shape in params:
        if n in mapped:  # a weight PyTorch's cell holds: its rows for this gate
            w, j = mapped[n] if isinstance(mapped[n], tuple) else (mapped[n], None)
            gr = w.grad if j is None else w.grad[j * H:(j + 1) * H]
        else:
            gr = v[n].grad if v[n].grad is not None else torch.zeros(shape)
        torch_grad += gr.reshape(-1).tolist()
    worst = abs(dcc_loss - loss.item()) / max(abs(loss.item()), 1.0)
    scale = max([1.0] + [abs(x) for x in torch_grad])
    for a, b in zip(dcc_grad, torch_grad):
        worst = max(worst, abs(a - b) / scale)
    ok = len(dcc_grad) == len(torch_grad) and worst <= 1e-12
    print('recurrence-torch: %s, %d steps: loss %.17g, %d params, worst relative error %.2e: %s' %
          (name, T, dcc_loss, len(dcc_grad), worst, 'ok' if ok else 'MISMATCH'))
    return ok, len(dcc_grad), worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dcc', required=True)
    ap.add_argument('--cc', default='cc')
    ap.add_argument('--evalgrad', required=True)
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(18)
    cases = [('rnn', RNN, rnn), ('gru', GRU, gru), ('lstm', LSTM, lstm), ('decay', DECAY, decay)]
    failed, nparams, worst, n = 0, 0, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, text, fn in cases:
            for T in STEPS:
                ok, k, w = run_case(name, T, text % {'H': H, 'I': I, 'T': T}, fn, args, gen, tmp)
                failed += not ok
                nparams += k
                worst = max(worst, w)
                n += 1
    print('recurrence-torch: %d cases, %d params, worst relative error %.2e' % (n, nparams, worst))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
