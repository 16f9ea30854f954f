#!/usr/bin/python3
"""The PyTorch alternative of `make bench`: float64 autograd on one model.

usage: /usr/bin/python3 tests/bench/torch_bench.py MODEL DUMP

MODEL is a name from tests/bench/models (five_points, quadratic, mlp_4_8_8_1,
mlp_64_32_10, mlp_784_128_10, gru_8_16_16, cnn_digits, cnn_32x32); DUMP is
what the C harness's `run dump` printed for it (tests/bench/bench_main.c):
the inputs, the params, dcc's loss and gradient at the harness's fixed
point.  The script

  1. builds the model in torch, float64, the way a PyTorch user writes it
     (leaf tensors with requires_grad, torch.tanh, F.linear, F.log_softmax,
     F.softplus; the GRU as a torch.nn.GRU module whose parameters are the
     leaves; the CNNs with F.conv2d, F.relu, F.max_pool2d), with the dump's
     params and inputs;
  2. checks torch's loss and gradient against dcc's (max relative difference,
     absolute floor 1e-15), and the batched model's gradient too; exits 1 if
     worse than 1e-9;
  3. times, single-threaded, the medians of 15 batches of calls, per sample:
     loss_ns (forward under torch.no_grad()), loss_grad_ns (forward and
     torch.autograd.grad, one sample per call), batch_loss_grad_ns (one
     forward+backward over a [256, n_in] batch, loss summed; n/a for a model
     without inputs).  For the GRU a sample is a whole sequence, for the
     CNNs an image.

Note: Debian's python3-torch calls the system BLAS, the netlib reference
one unless libopenblas0 (or another) is installed and selected by
update-alternatives; the matrix products, so batch_loss_grad_ns above all,
depend on which.

Output: `key value` lines.  Without torch it prints one `skipped: ...` line
and exits 0.
"""
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("skipped: python3-torch is not installed")
    sys.exit(0)

BATCH = 256
REPEATS = 15
TOLERANCE = 1e-9
FLOOR = 1e-15
BATCH_NS = 3e6  # a timed batch of calls lasts at least this long


# --- the models --------------------------------------------------------------
# Each model: the shapes of its inputs and params in declaration order (the
# layout of the harness's in[] and p[]), and `loss(inputs, params)`, the
# per-sample loss written once for both uses: with one sample's inputs
# (0-d tensors, vectors) it returns a 0-d loss; with a batch's (one more
# leading dimension of BATCH) it returns the [BATCH] per-sample losses.

def five_points(inp, prm):
    x1, x2, y = inp
    b1, b2, c, w11, w21, w12, w22, u1, u2 = prm
    z1 = torch.tanh(b1 + x1 * w11 + x2 * w21)
    z2 = torch.tanh(b2 + x1 * w12 + x2 * w22)
    fin = c + z1 * u1 + z2 * u2
    # log(1 + exp(-fin)) in its idiomatic, overflow-free form.
    return fin - fin * y + F.softplus(-fin)


def quadratic(inp, prm):
    x1, x2 = prm
    return (x1 - 6) ** 2 + x2 ** 2 - x1 * x2


def mlp_4_8_8_1(inp, prm):
    x, y = inp
    W1, b1, W2, b2, w3, b3 = prm
    h1 = torch.tanh(F.linear(x, W1, b1))  # W1 @ x + b1, or x @ W1.T + b1 batched
    h2 = torch.tanh(F.linear(h1, W2, b2))
    return (h2 @ w3 + b3 - y) ** 2


def mlp_softmax_ce(inp, prm):  # mlp_64_32_10 and mlp_784_128_10
    x, t = inp
    W1, b1, W2, b2 = prm
    h = torch.tanh(F.linear(x, W1, b1))
    z = F.linear(h, W2, b2)
    # cross_entropy(z, t) with a soft (probability) target t.
    return -(t * F.log_softmax(z, dim=-1)).sum(-1)


# torch.nn.GRU's cell is the model's: n = tanh(W_in x + b_in + r (W_hn h +
# b_hn)), h' = (1 - z) n + z h; weight_ih_l0 is [W_ir; W_iz; W_in] stacked,
# as the model's Wir, Wiz, Win lie in p[], and likewise weight_hh_l0,
# bias_ih_l0 and bias_hh_l0.  The module is made once; gru_params makes the
# dump's values its parameters (the leaves whose gradient is checked).
GRU = None


def gru_params(params):
    global GRU
    w_ih, w_hh, b_ih, b_hh, v = params
    GRU = torch.nn.GRU(8, 16, batch_first=True, dtype=torch.float64)
    for name, value in (("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh), ("bias_ih_l0", b_ih),
                        ("bias_hh_l0", b_hh)):
        setattr(GRU, name, torch.nn.Parameter(value.detach().clone()))
    return [GRU.weight_ih_l0, GRU.weight_hh_l0, GRU.bias_ih_l0, GRU.bias_hh_l0, v]


def gru_8_16_16(inp, prm):
    xs, y = inp  # xs [16, 8], or [B, 16, 8] batched (batch_first)
    v = prm[4]
    out, _ = GRU(xs)  # every state from h0 = 0; the loss reads the last
    return (out[..., -1, :] @ v - y) ** 2


# The CNNs: F.conv2d (padding 1) with its bias, F.relu, F.max_pool2d,
# flatten (channel-major, as dcc's), F.linear, the soft-target
# cross-entropy.  One sample is an image [C, H, W] (the harness's flat
# pixels reshaped), a batch [B, C, H, W].
def cnn(shape, inp, prm):
    x, t = inp
    h = x.reshape((-1,) + shape)  # a batch of one for one sample
    for K, c in zip(prm[0:-2:2], prm[1:-2:2]):
        h = F.max_pool2d(F.relu(F.conv2d(h, K, c, padding=1)), 2)
    z = F.linear(h.flatten(1), prm[-2], prm[-1])
    loss = -(t * F.log_softmax(z, dim=-1)).sum(-1)
    return loss if t.dim() == 2 else loss[0]


def cnn_digits(inp, prm):
    return cnn((1, 8, 8), inp, prm)


def cnn_32x32(inp, prm):
    return cnn((3, 32, 32), inp, prm)


MODELS = {
    #                 inputs                param shapes
    "five_points": ([(), (), ()], [()] * 9, five_points),
    "quadratic": ([], [(), ()], quadratic),
    "mlp_4_8_8_1": ([(4,), ()], [(8, 4), (8,), (8, 8), (8,), (8,), ()], mlp_4_8_8_1),
    "mlp_64_32_10": ([(64,), (10,)], [(32, 64), (32,), (10, 32), (10,)], mlp_softmax_ce),
    "mlp_784_128_10": ([(784,), (10,)], [(128, 784), (128,), (10, 128), (10,)], mlp_softmax_ce),
    "gru_8_16_16": ([(16, 8), ()], [(48, 8), (48, 16), (48,), (48,), (16,)], gru_8_16_16),
    "cnn_digits": ([(64,), (10,)], [(8, 1, 3, 3), (8,), (10, 128), (10,)], cnn_digits),
    "cnn_32x32": ([(3, 32, 32), (10,)], [(8, 3, 3, 3), (8,), (16, 8, 3, 3), (16,), (32, 16, 3, 3), (32,),
                                         (10, 512), (10,)], cnn_32x32),
}
SETUP = {"gru_8_16_16": gru_params}  # models whose params a module holds


def size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def split(flat, shapes):
    """The harness's flat row-major vector (or a [B, n] batch of them, split
    along the last dimension) as one contiguous tensor per declared name."""
    out, k = [], 0
    for shape in shapes:
        n = size(shape)
        part = flat[..., k:k + n].reshape(flat.shape[:-1] + tuple(shape))
        out.append(part.contiguous())
        k += n
    return out


def read_dump(path):
    d = {"in": [], "p": [], "grad": []}
    try:
        with open(path) as f:
            for line in f:
                key, value = line.split()
                if key in d:
                    d[key].append(float(value))
                elif key in ("n_in", "n_params"):
                    d[key] = int(value)
                else:
                    d[key] = float(value)
        complete = (len(d["in"]) == d["n_in"] and len(d["p"]) == d["n_params"] == len(d["grad"])
                    and "loss" in d and "loss_grad" in d)
    except (OSError, ValueError, KeyError) as e:
        sys.exit("torch_bench: %s: %s" % (path, e))
    if not complete:
        sys.exit("torch_bench: %s: not a complete `run dump`" % path)
    return d


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), FLOOR)


def flat_grad(grads):
    return torch.cat([g.reshape(-1) for g in grads])


def calibrate(fn):
    """Calls of fn per timed batch: enough for BATCH_NS, found by doubling
    (which also warms up)."""
    n = 1
    while True:
        s = time.perf_counter_ns()
        fn(n)
        if time.perf_counter_ns() - s > BATCH_NS or n >= 1 << 24:
            return n
        n *= 2


def median_ns(*fns):
    """For each (fn, samples per call): the median over REPEATS batches of
    ns per sample.  Batches of the fns alternate, as in the C harness, so
    that all of them see the same machine."""
    ns = [calibrate(fn) for fn, _ in fns]
    times = [[] for _ in fns]
    for _ in range(REPEATS):
        for (fn, per_call), n, t in zip(fns, ns, times):
            s = time.perf_counter_ns()
            fn(n)
            t.append((time.perf_counter_ns() - s) / (n * per_call))
    return [statistics.median(t) for t in times]


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in MODELS:
        sys.stderr.write("usage: torch_bench.py %s DUMP\n" % "|".join(MODELS))
        return 2
    in_shapes, p_shapes, loss_fn = MODELS[sys.argv[1]]
    dump = read_dump(sys.argv[2])
    if (dump["n_in"], dump["n_params"]) != (sum(map(size, in_shapes)), sum(map(size, p_shapes))):
        sys.stderr.write("torch_bench: %s is not a dump of %s\n" % (sys.argv[2], sys.argv[1]))
        return 1
    n_in = dump["n_in"]

    # The C code is single-threaded: compare like with like.
    torch.set_num_threads(1)
    dt = torch.float64

    params = [p.clone().requires_grad_() for p in split(torch.tensor(dump["p"], dtype=dt), p_shapes)]
    if sys.argv[1] in SETUP:
        params = SETUP[sys.argv[1]](params)
    point = torch.tensor(dump["in"] + [0.0], dtype=dt)[:n_in]  # + [0]: n_in may be 0
    inputs = split(point, in_shapes)

    # 1-2. The check: one sample, and a batch of BATCH copies of it (whose
    # summed gradient is BATCH times the sample's).
    loss = loss_fn(inputs, params)
    grad = flat_grad(torch.autograd.grad(loss, params))
    errs = [rel(loss.item(), dump["loss"]), rel(loss.item(), dump["loss_grad"])]
    errs += [rel(a, b) for a, b in zip(grad.tolist(), dump["grad"])]
    if n_in > 0:
        batch_inputs = split(point.expand(BATCH, n_in), in_shapes)
        bloss = loss_fn(batch_inputs, params).sum()
        bgrad = flat_grad(torch.autograd.grad(bloss, params)) / BATCH
        errs.append(rel(bloss.item() / BATCH, dump["loss"]))
        errs += [rel(a, b) for a, b in zip(bgrad.tolist(), dump["grad"])]
    worst = max(errs)
    print("check_max_rel %.3g" % worst)
    if not worst <= TOLERANCE:
        sys.stderr.write("torch_bench: torch and dcc disagree (max relative difference %.3g > %g)\n"
                         % (worst, TOLERANCE))
        return 1

    # 3. Timing.  Inputs vary between calls as in the C harness (in[i % n_in]
    # = (i%5)/5, cumulatively), but the variants are made before timing and
    # cycled through, so that the timed loop does no tensor writes (an
    # in-place element store costs torch microseconds per call, which would
    # be charged to the loss).  Torch's eager mode caches no results, so
    # varying the input only keeps the comparison honest, it changes nothing.
    variants, v = [], torch.tensor(dump["in"] + [0.0], dtype=dt)[:n_in].clone()
    for i in range(10 if n_in > 0 else 1):
        if n_in > 0:
            v[i % n_in] = (i % 5) / 5
        variants.append(split(v.clone(), in_shapes))
    nv = len(variants)

    def run_loss(n):
        # The whole loop under no_grad, as a user evaluating a loss writes it.
        with torch.no_grad():
            for i in range(n):
                loss_fn(variants[i % nv], params)

    def run_loss_grad(n):
        # torch.autograd.grad returns fresh gradients: no .grad to zero.
        for i in range(n):
            torch.autograd.grad(loss_fn(variants[i % nv], params), params)

    loss_ns, loss_grad_ns = median_ns((run_loss, 1), (run_loss_grad, 1))
    print("loss_ns %.2f" % loss_ns)
    print("loss_grad_ns %.2f" % loss_grad_ns)
    print("ratio %.2f" % (loss_grad_ns / loss_ns))

    if n_in > 0:
        # Each batch row a different sample, following the harness's pattern.
        rows, v = [], torch.tensor(dump["in"], dtype=dt)
        for i in range(BATCH):
            v[i % n_in] = (i % 5) / 5
            rows.append(v.clone())
        batch = split(torch.stack(rows), in_shapes)

        def run_batch(n):
            for _ in range(n):
                torch.autograd.grad(loss_fn(batch, params).sum(), params)

        print("batch_loss_grad_ns %.2f" % median_ns((run_batch, BATCH))[0])
    else:
        print("batch_loss_grad_ns n/a")
    print("batch_size %d" % BATCH)
    print("threads %d" % torch.get_num_threads())
    print("torch_version %s" % torch.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
