#!/usr/bin/env python3
"""The convolutional examples' models against PyTorch float64 autograd:
examples/python/check_gradients.py (dcc's C through ctypes, compared at 5
points with the model written in torch), with three more models written
here from their .expr files and the language's definitions (conv1d and
conv2d are PyTorch's cross-correlations, dwconv1d is conv1d with groups =
channels, maxpool/avgpool are max_pool/avg_pool with stride = window):

  digits_cnn     examples/digits_cnn/digits_cnn.expr
  gesture        examples/gesture/gesture.expr
  gesture_large  examples/firmware/gesture_large.expr

usage: cnn_torch.py [check_gradients.py's options] [MODEL ...]
(no MODEL: the three above)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, 'examples', 'python'))
import check_gradients as cg  # noqa: E402


def digits_cnn_model(torch, P, I):
    F = torch.nn.functional
    x, t = I('x', [64]), I('t', [10])
    K, c = P('K', [8, 1, 3, 3]), P('c', [8])
    W, b = P('W', [10, 128]), P('b', [10])
    a = F.conv2d(x.reshape(1, 1, 8, 8), K, stride=1, padding=1)[0] + c.reshape(8, 1, 1)
    h = F.max_pool2d(torch.relu(a).unsqueeze(0), 2)[0]
    z = W @ h.reshape(-1) + b
    return -torch.sum(t * torch.log_softmax(z, 0)), {'prob': torch.softmax(z, 0)}


def gesture_model(torch, P, I):
    F = torch.nn.functional
    s, t = I('s', [3, 64]), I('t', [6])

    def block(x, D, Pw, c):
        d = F.conv1d(x.unsqueeze(0), D.unsqueeze(1), stride=1, padding=2, groups=D.shape[0])
        a = F.conv1d(d, Pw)[0] + c.reshape(16, 1)
        return F.max_pool1d(torch.relu(a).unsqueeze(0), 2)[0]

    h1 = block(s, P('D1', [3, 5]), P('P1', [16, 3, 1]), P('c1', [16]))
    h2 = block(h1, P('D2', [16, 5]), P('P2', [16, 16, 1]), P('c2', [16]))
    z = P('W', [6, 16]) @ F.avg_pool1d(h2.unsqueeze(0), 16)[0].reshape(-1) + P('b', [6])
    return -torch.sum(t * torch.log_softmax(z, 0)), {'prob': torch.softmax(z, 0)}


def gesture_large_model(torch, P, I):
    F = torch.nn.functional
    s, t = I('s', [3, 64]), I('t', [6])

    def conv(x, K, c, pad, n):
        return torch.relu(F.conv1d(x.unsqueeze(0), K, stride=1, padding=pad)[0] + c.reshape(n, 1))

    h1 = F.max_pool1d(conv(s, P('C1', [16, 3, 5]), P('c1', [16]), 2, 16).unsqueeze(0), 2)[0]
    h2 = F.max_pool1d(conv(h1, P('C2', [32, 16, 5]), P('c2', [32]), 2, 32).unsqueeze(0), 2)[0]
    h3 = conv(h2, P('C3', [64, 32, 3]), P('c3', [64]), 1, 64)
    z = P('W', [6, 64]) @ F.avg_pool1d(h3.unsqueeze(0), 16)[0].reshape(-1) + P('b', [6])
    return -torch.sum(t * torch.log_softmax(z, 0)), {'prob': torch.softmax(z, 0)}


def window_inputs(rng):
    # a window of accelerometer-like values (gravity on z, noise), a gesture
    s = [rng.gauss(0, 0.5) for _ in range(128)] + [1 + rng.gauss(0, 0.5) for _ in range(64)]
    return {'s': s, 't': cg.one_hot_rows(rng, 1, 6)}


cg.MODELS['digits_cnn'] = ('examples/digits_cnn/digits_cnn.expr', digits_cnn_model, cg.digits_inputs)
cg.MODELS['gesture'] = ('examples/gesture/gesture.expr', gesture_model, window_inputs)
cg.MODELS['gesture_large'] = ('examples/firmware/gesture_large.expr', gesture_large_model, window_inputs)

OURS = ['digits_cnn', 'gesture', 'gesture_large']

if __name__ == '__main__':
    argv = sys.argv[1:]
    # no model named: these three (not check_gradients' own six)
    if not any(a in cg.MODELS or a.endswith('.expr') for a in argv):
        argv += OURS
    sys.exit(cg.main(argv))
