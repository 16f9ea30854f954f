#!/usr/bin/env python3
"""pretrain_torch.py: the pretraining of examples/finetune done in PyTorch
instead of dcc and the runtime, written as a dcc --weights file.

    pretrain_torch.py DIGITS_CSV OUT.weights

The model is digits.expr's, nn.Sequential(Linear(64, 32), Tanh,
Linear(32, 10)) with the cross-entropy of the softmax, in float64; the
data and the recipe are main.c's: every row of digits.csv but each 5th,
pixels / 16, 20 epochs of shuffled mini-batches of 16 (the loss
averaged over the batch), rate 0.05, momentum 0.9.  PyTorch draws its own
initial weights, so the pretrained params are not main.c's bits.  It
prints the held-out accuracy (each 5th row) on the plain digits and on
digits shifted two pixels right, and writes the params for

    dcc --weights OUT.weights [--train W2,b2] examples/finetune/digits.expr

(a Linear's weight is [out][in], as W @ x wants).
"""
import sys

import torch


def save_weights(path, tensors):
    """The writer docs/command-line.md shows."""
    with open(path, "w") as f:
        f.write("# The digits MLP, pretrained in PyTorch by examples/finetune/pretrain_torch.py.\n")
        for name, t in tensors.items():
            t = t.detach().double()
            f.write(" ".join([name] + [str(n) for n in t.shape]) + "\n")
            f.write(" ".join(repr(v) for v in t.flatten().tolist()) + "\n")


def shifted(x, by):
    """Each 8x8 image moved right by `by` pixels, the columns it leaves blank."""
    img = x.reshape(-1, 8, 8)
    out = torch.zeros_like(img)
    out[:, :, by:] = img[:, :, :8 - by]
    return out.reshape(-1, 64)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: pretrain_torch.py DIGITS_CSV OUT.weights\n")
        return 2
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                rows.append([float(v) for v in line.split(",")])
    if not rows or any(len(r) != 65 for r in rows):
        sys.stderr.write("pretrain_torch.py: %s: expected rows of 64 pixels and a digit\n" % sys.argv[1])
        return 1
    data = torch.tensor(rows, dtype=torch.float64)
    held = torch.arange(len(rows)) % 5 == 4
    x, y = data[:, :64] / 16, data[:, 64].long()
    x_train, y_train, x_test, y_test = x[~held], y[~held], x[held], y[held]

    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)).double()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for _ in range(20):
        order = torch.randperm(len(x_train))
        for k in range(0, len(order), 16):
            batch = order[k:k + 16]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x_train[batch]), y_train[batch]).backward()
            opt.step()

    with torch.no_grad():
        plain = (net(x_test).argmax(1) == y_test).double().mean().item()
        shift = (net(shifted(x_test, 2)).argmax(1) == y_test).double().mean().item()
    print("pretrained in PyTorch on %d plain digits, 20 epochs: held-out accuracy %.4f plain, %.4f shifted 2 pixels right"
          % (len(x_train), plain, shift))
    save_weights(sys.argv[2], {"W1": net[0].weight, "b1": net[0].bias, "W2": net[2].weight, "b2": net[2].bias})
    return 0


if __name__ == "__main__":
    sys.exit(main())
