"""weights_torch.py: a network trained nowhere but built in PyTorch
(float64), its weights written for dcc --weights as docs/command-line.md
shows, and dcc's C with those weights against PyTorch's forward and
backward pass.

net3.expr is nn.Sequential(Linear(4, 5), Tanh, Linear(5, 6), Tanh,
Linear(6, 3)) with the loss -sum(t * log_softmax(z)).  At 16 samples the
C's loss must be PyTorch's to 1e-12 (relative to max(1, |loss|)), and so
must its gradient: every param's for the whole model, W3's and b3's for
--train W3,b3, whose frozen layers are the constant arrays the weights
file gave.  Scalar code and loops (--unroll-limit 0).

Usage: weights_torch.py --dcc DCC --cc CC --model net3.expr --dir DIR
"""
import argparse
import os
import subprocess
import sys

import torch

TOL = 1e-12


def save_weights(path, tensors):
    """The writer docs/command-line.md shows, as a user would copy it."""
    with open(path, "w") as f:
        for name, t in tensors.items():
            t = t.detach().double()
            f.write(" ".join([name] + [str(n) for n in t.shape]) + "\n")
            f.write(" ".join(repr(v) for v in t.flatten().tolist()) + "\n")


DRIVER = r'''
#include "m.h"
#include <stdio.h>
int main(void) {
    static m_real in[M_N_IN + 1], p[M_N_PARAMS + 1], grad[M_N_GRAD + 1];
    double v;
    int i = 0;
    m_init(p, 12345u);
    while (scanf("%lf", &v) == 1) {
        in[i++] = (m_real)v;
        if (i == M_N_IN) {
            printf("%.17g", (double)m_loss_grad(in, p, grad));
            for (i = 0; i < M_N_GRAD; i++)
                printf(" %.17g", (double)grad[i]);
            printf("\n");
            i = 0;
        }
    }
    return 0;
}
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dcc', required=True)
    ap.add_argument('--cc', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--dir', required=True)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    torch.manual_seed(7)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 6), torch.nn.Tanh(),
                              torch.nn.Linear(6, 3)).double()
    names = {'W1': net[0].weight, 'b1': net[0].bias, 'W2': net[2].weight, 'b2': net[2].bias,
             'W3': net[4].weight, 'b3': net[4].bias}
    weights = os.path.join(a.dir, 'net3.weights')
    save_weights(weights, names)

    xs = torch.rand(16, 4, dtype=torch.float64) * 4 - 2
    ts = torch.nn.functional.one_hot(torch.randint(0, 3, (16,)), 3).double()
    ref = []  # per sample: the loss and every param's gradient, by name
    for x, t in zip(xs, ts):
        net.zero_grad()
        loss = -(t * torch.log_softmax(net(x), dim=0)).sum()
        loss.backward()
        ref.append((loss.item(), {n: p.grad.detach().flatten().tolist() for n, p in names.items()}))
    samples = "\n".join(" ".join(repr(v) for v in x.tolist() + t.tolist()) for x, t in zip(xs, ts)) + "\n"

    with open(os.path.join(a.dir, 'main.c'), 'w') as f:
        f.write(DRIVER)
    failed = False
    for label, opts, trained in (('whole', [], list(names)),
                                 ('--train W3,b3', ['--train', 'W3,b3'], ['W3', 'b3'])):
        for unroll in ('64', '0'):
            d = os.path.join(a.dir, 'u%s%s' % (unroll, '-sub' if opts else ''))
            os.makedirs(d, exist_ok=True)
            subprocess.run([a.dcc, '--prefix', 'm', '--weights', weights, '--unroll-limit', unroll] + opts +
                           [a.model, '-o', os.path.join(d, 'm.c')], check=True)
            exe = os.path.join(d, 'run')
            subprocess.run(a.cc.split() + ['-I' + d, '-o', exe, os.path.join(a.dir, 'main.c'),
                                           os.path.join(d, 'm.c'), '-lm'], check=True)
            out = subprocess.run([exe], input=samples, capture_output=True, text=True, check=True).stdout
            worst_loss = worst_grad = 0.0
            rows = out.split('\n')[:-1]
            if len(rows) != len(ref):
                print('weights-torch: %s: %d lines from the C, %d samples' % (label, len(rows), len(ref)))
                return 1
            for row, (loss, grads) in zip(rows, ref):
                vals = [float(v) for v in row.split()]
                want = [g for n in trained for g in grads[n]]
                if len(vals) != 1 + len(want):
                    print('weights-torch: %s: %d gradient values, PyTorch has %d' % (label, len(vals) - 1,
                                                                                  len(want)))
                    return 1
                worst_loss = max(worst_loss, abs(vals[0] - loss) / max(1.0, abs(loss)))
                for g, w in zip(vals[1:], want):
                    worst_grad = max(worst_grad, abs(g - w) / max(1.0, abs(w)))
            ok = worst_loss <= TOL and worst_grad <= TOL
            failed |= not ok
            print('weights-torch: %s, --unroll-limit %s: %d samples, %d gradient values each: loss within %.1e, '
                  'gradient within %.1e of PyTorch: %s' % (label, unroll, len(ref), len(want), worst_loss,
                                                          worst_grad, 'ok' if ok else 'FAILED (tolerance 1e-12)'))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
