"""The optimisers of optim_driver.c repeated in PyTorch (torch.optim,
float64) from the same samples and initial params (DIR/setup.txt), and the
params each reaches after 100 updates compared with the driver's
(DIR/NAME.txt): the largest |c - t| / max(1, |t|) over the 51 params.

usage: optim_torch.py DIR"""
import sys

import torch

torch.set_default_dtype(torch.float64)
DIR = sys.argv[1]
N, BATCH, EPOCHS = 16, 4, 25

# name: optimizer, rate, momentum, weight_decay, mask, clip, beta1, beta2, alpha, eps, partial
CONFIGS = [
    ('sgd_momentum', 'sgd', 0.1, 0.9, 0.01, True, 0, 0.9, 0.999, 0.99, 1e-8, False),
    ('adam', 'adam', 0.01, 0, 0, False, 0, 0.9, 0.999, 0.99, 1e-8, False),
    ('adam_l2', 'adam', 0.01, 0, 0.05, True, 0, 0.9, 0.999, 0.99, 1e-8, False),
    ('adamw', 'adamw', 0.01, 0, 0.1, True, 0, 0.8, 0.99, 0.99, 1e-8, False),
    ('adamw_all', 'adamw', 0.02, 0, 0.5, False, 0, 0.9, 0.999, 0.99, 1e-6, False),
    ('rmsprop', 'rmsprop', 0.01, 0, 0, False, 0, 0.9, 0.999, 0.9, 1e-6, False),
    ('rmsprop_momentum', 'rmsprop', 0.005, 0.5, 0.01, False, 0, 0.9, 0.999, 0.99, 1e-8, False),
    ('adam_clip', 'adam', 0.05, 0, 0, False, 0.5, 0.9, 0.999, 0.99, 1e-8, False),
    ('sgd_clip', 'sgd', 0.5, 0, 0, False, 0.1, 0.9, 0.999, 0.99, 1e-8, False),
    ('adam_partial', 'adam', 0.02, 0, 0.01, True, 0, 0.9, 0.999, 0.99, 1e-8, True),
    ('steps', 'adam', 0.01, 0, 0, False, 0, 0.9, 0.999, 0.99, 1e-8, False),
]


def read_setup():
    with open(DIR + '/setup.txt') as f:
        head = f.readline().split()
        n, n_in, off_x, off_t = int(head[1]), int(head[3]), int(head[5]), int(head[7])
        rows = [[float(v) for v in f.readline().split()] for _ in range(n)]
        head = f.readline().split()
        n_params = int(head[1])
        offsets = {head[k]: int(head[k + 1]) for k in range(2, len(head), 2)}
        params = [float(f.readline()) for _ in range(n_params)]
    data = torch.tensor(rows)
    return data[:, off_x:off_x + 4], data[:, off_t:off_t + 3], params, offsets


def read_params(name):
    with open('%s/%s.txt' % (DIR, name)) as f:
        return [float(line) for line in f]


X, T, P0, OFF = read_setup()
SHAPES = {'W1': (6, 4), 'b1': (6,), 'W2': (3, 6), 'b2': (3,)}


def tensors(flat):
    out = {}
    for name, shape in SHAPES.items():
        size = 1
        for d in shape:
            size *= d
        out[name] = torch.tensor(flat[OFF[name]:OFF[name] + size]).reshape(shape).requires_grad_(True)
    return out


def flatten(ts):
    flat = [0.0] * len(P0)
    for name, t in ts.items():
        for k, v in enumerate(t.detach().reshape(-1).tolist()):
            flat[OFF[name] + k] = v
    return flat


def run(cfg):
    _, kind, lr, momentum, wd, mask, clip, beta1, beta2, alpha, eps, partial = cfg
    ts = tensors(P0)
    trained = ['W1', 'W2'] if partial else ['W1', 'b1', 'W2', 'b2']
    for name in SHAPES:
        ts[name].requires_grad_(name in trained)
    decayed = [ts[n] for n in trained if not mask or n.startswith('W')]
    others = [ts[n] for n in trained if mask and not n.startswith('W')]
    groups = [{'params': decayed, 'weight_decay': wd}]
    if others:
        groups.append({'params': others, 'weight_decay': 0.0})
    if kind == 'sgd':
        opt = torch.optim.SGD(groups, lr=lr, momentum=momentum)
    elif kind == 'adam':
        opt = torch.optim.Adam(groups, lr=lr, betas=(beta1, beta2), eps=eps)
    elif kind == 'adamw':
        opt = torch.optim.AdamW(groups, lr=lr, betas=(beta1, beta2), eps=eps)
    else:
        opt = torch.optim.RMSprop(groups, lr=lr, alpha=alpha, eps=eps, momentum=momentum)
    clipped = 0
    for _ in range(EPOCHS):
        for b in range(0, N, BATCH):
            x, t = X[b:b + BATCH], T[b:b + BATCH]
            h = torch.tanh(x @ ts['W1'].T + ts['b1'])
            z = h @ ts['W2'].T + ts['b2']
            loss = -(t * torch.log_softmax(z, dim=1)).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            if clip > 0:
                norm = torch.nn.utils.clip_grad_norm_([ts[n] for n in trained], clip)
                clipped += float(norm) > clip
            opt.step()
    return flatten(ts), clipped


for cfg in CONFIGS:
    torch_params, clipped = run(cfg)
    c_params = read_params(cfg[0])
    worst = max(abs(c - t) / max(1.0, abs(t)) for c, t in zip(c_params, torch_params))
    moved = max(abs(t - p) for t, p in zip(torch_params, P0))
    line = '%s: max difference %.1e, within 1e-10: %s, params moved: %s' % (
        cfg[0], worst, 'yes' if worst <= 1e-10 else 'NO', 'yes' if moved > 1e-3 else 'no')
    if cfg[6] > 0:
        line += ', clipped %d of 100 updates' % clipped
    print(line)
