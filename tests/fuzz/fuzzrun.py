#!/usr/bin/env python3
"""fuzzrun: fuzz the C that dcc emits, not dcc: compile generated models
with ASan and UBSan, run them at a few points, and compare with dcc's own
evaluator (dcc --eval).

    fuzzrun.py [--seconds S | --count N] [--seed SEED] [--corpus DIR ...]
               [--dcc DCC] [--cc CC] [--jobs J] [--out DIR] [--no-exprgen]
               [--all-variants] [--strict] [-v]

Programs: tests/lib/exprgen.py's random programs (seeds SEED, SEED+1, ...;
the odd seeds "wild", with none of its subexpressions wrapped in tanh to
keep it small) and, taking turns with them, every file of the --corpus folders (the
libFuzzer corpus of `make fuzz`, the test suite's models) that dcc accepts
and that has a loss.  Program i is emitted in double in one of three ways
in turn (each of them with --all-variants): unrolled (dcc's default), with
loops (--unroll-limit 0), and -O0.
The C is compiled with CC -std=c99 -O0 -fsanitize=address,undefined
-fno-sanitize-recover=all together with run_main.c (C over 1 MB, or that
takes over 120 s to compile, is skipped), and run at 8 points:
the model's own initialisation (m_init, inputs in [-1, 1]), every input and
param in [-1, 1], in (0.05, 2], in [-10, 10], in [-1000, 1000], in
[-1e-3, 1e-3], all 0 and all 1.  A finding is
  - sanitizer: a sanitizer report (or any crash) of the C;
  - nan: a NaN in the loss or a gradient component where dcc --eval's is
    finite (dcc --eval of the same model: with --unroll-limit 0 for loops,
    with -O0, the naive trees, for -O0);
  - inf: an infinity there where dcc --eval's is finite;
  - differ: both finite but more than 1e-6 apart, relative to max(1, |e|)
    (the evaluator rounds differently, so this is only a lead);
  - mismatch: run_main.c's cross-checks (m_loss, m_sgd_step, the _ws
    variants against m_loss_grad);
  - dcc: dcc crashing or failing on a program it accepted.
Each finding is written to OUT (default build/fuzz/run) as NAME.expr, with
NAME.txt saying what was found.  The last line is

    fuzzrun: N programs (E exprgen, C corpus; U unrolled, L loops, Z -O0), P points, F findings (...)

and the exit status is 1 if F > 0 (findings of kind differ only count
when --strict).
"""
import argparse
import concurrent.futures
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'lib'))
import exprgen  # noqa: E402

DRIVER = os.path.join(HERE, 'run_main.c')
SAN = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer']
VARIANTS = [('unrolled', []), ('loops', ['--unroll-limit', '0']), ('-O0', ['-O0'])]
RANGES = [(-1, 1), (0.05, 2), (-10, 10), (-1000, 1000), (-1e-3, 1e-3), (0, 0), (1, 1)]
TOL_DIFFER = 1e-6
# exprgen wraps a subexpression that may exceed BOUND in tanh, so that
# finite differences mean something; here odd seeds are "wild" (nothing
# wrapped: values overflow, underflow and cancel, which is the point)
TAME_BOUND, WILD_BOUND = exprgen.BOUND, float('inf')
MAX_SOURCE = 1 << 16     # corpus files larger than this are skipped
MAX_C = 1 << 20          # emitted C larger than this is not compiled (-O0's trees grow fast)
COMPILE_SECONDS = 120    # a compile that takes longer is skipped
ENV = dict(os.environ, ASAN_OPTIONS='detect_leaks=0:abort_on_error=0:halt_on_error=1',
           UBSAN_OPTIONS='halt_on_error=1:print_stacktrace=1', LC_ALL='C')


def run(cmd, timeout=120, **kw):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, **kw)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return 'timeout', '', 'timed out after %ds' % timeout


def corpus_files(dirs):
    """The files of the corpus folders (or the files named), sorted."""
    files = []
    for d in dirs:
        if os.path.isfile(d):
            files.append(d)
        for root, _, names in os.walk(d):
            for n in sorted(names):
                path = os.path.join(root, n)
                if os.path.isfile(path) and os.path.getsize(path) <= MAX_SOURCE:
                    files.append(path)
    return sorted(files)


def sizes(header):
    n_in = n_params = None
    for line in header.splitlines():
        w = line.split()
        if len(w) == 3 and w[0] == '#define' and w[1] == 'M_N_IN':
            n_in = int(w[2])
        if len(w) == 3 and w[0] == '#define' and w[1] == 'M_N_PARAMS':
            n_params = int(w[2])
    return n_in, n_params


def fmt(v):
    return repr(float(v))


class Result:
    def __init__(self, name, text, variant):
        self.name, self.text, self.variant = name, text, variant
        self.points = 0
        self.findings = []  # (kind, detail)
        self.skipped = None


def compare(res, k, got, want):
    """got: the C's loss and gradient at point k; want: dcc --eval's."""
    if len(got) != len(want):
        res.findings.append(('mismatch', 'point %d: the C printed %d values, dcc --eval %d' % (k, len(got), len(want))))
        return
    for j, (c, e) in enumerate(zip(got, want)):
        what = 'the loss' if j == 0 else 'gradient component %d' % (j - 1)
        if not math.isfinite(e):
            continue
        if math.isnan(c):
            res.findings.append(('nan', 'point %d: %s is NaN, dcc --eval says %r' % (k, what, e)))
        elif math.isinf(c):
            res.findings.append(('inf', 'point %d: %s is %r, dcc --eval says %r' % (k, what, c, e)))
        elif abs(c - e) > TOL_DIFFER * max(1.0, abs(e)):
            res.findings.append(('differ', 'point %d: %s is %r, dcc --eval says %r' % (k, what, c, e)))


def one(args, i, v, name, text, work):
    variant, vflags = VARIANTS[v]
    res = Result(name, text, variant)
    wd = res.dir = os.path.join(work, 'p%d' % i)
    os.makedirs(wd, exist_ok=True)
    model = os.path.join(wd, 'm.expr')
    with open(model, 'w', encoding='utf-8', errors='surrogateescape') as f:
        f.write(text)
    rc, _, err = run([args.dcc, '-w', model, '--prefix', 'm', '-o', os.path.join(wd, 'm.c')] + vflags, timeout=60)
    if rc == 'timeout' or (isinstance(rc, int) and rc < 0):
        res.findings.append(('dcc', 'dcc %s: %s' % (' '.join(vflags), err.strip()[-2000:])))
        return res
    if rc != 0:
        res.skipped = 'dcc rejects it'
        return res
    with open(os.path.join(wd, 'm.h')) as f:
        header = f.read()
    if 'm_loss_grad(' not in header:
        res.skipped = 'no loss'
        return res
    if os.path.getsize(os.path.join(wd, 'm.c')) > MAX_C:
        res.skipped = 'C too large'
        return res
    n_in, n_params = sizes(header)
    exe = os.path.join(wd, 'run')
    rc, _, err = run([args.cc, '-std=c99', '-O0', '-g', '-w'] + SAN + ['-I' + wd, '-o', exe, os.path.join(wd, 'm.c'),
                                                                     DRIVER, '-lm'], timeout=COMPILE_SECONDS)
    if rc == 'timeout':
        res.skipped = 'too slow to compile'
        return res
    if rc != 0:
        res.findings.append(('compile', 'the C does not compile: %s' % err[-2000:]))
        return res
    rng = random.Random(i * 7919 + 17)
    rc, out, err = run([exe, 'init', '1'], timeout=60)
    if rc != 0:
        res.findings.append(('sanitizer', 'm_init: exit %s\n%s' % (rc, err[-4000:])))
        return res
    init = [float(v) for v in out.split()]
    points = [[rng.uniform(-1, 1) for _ in range(n_in)] + init]
    for lo, hi in RANGES:
        points.append([rng.uniform(lo, hi) if lo != hi else lo for _ in range(n_in + n_params)])
    lines = '\n'.join(' '.join(fmt(v) for v in pt) for pt in points) + '\n'
    rc, out, err = run([exe, '0.1', str(len(points))], input=lines, timeout=300)
    if rc != 0:
        res.findings.append(('sanitizer', 'exit %s\n%s' % (rc, err[-4000:])))
        return res
    rows = []
    for line in out.splitlines():
        if line.startswith('MISMATCH'):
            res.findings.append(('mismatch', line))
        else:
            rows.append([float(v) for v in line.split()])
    pts = os.path.join(wd, 'points')
    with open(pts, 'w') as f:
        f.write(lines)
    # the evaluator sees the model the C was made of: unrolled or not, and
    # -O0's naive trees
    rc, eout, err = run([args.dcc, '-w', model, '--eval', pts] + vflags, timeout=300)
    if rc != 0:
        res.findings.append(('dcc', 'dcc --eval: exit %s: %s' % (rc, err.strip()[-2000:])))
        return res
    want = [[float(v) for v in line.split()] for line in eout.splitlines()]
    for k, (got, w) in enumerate(zip(rows, want)):
        compare(res, k + 1, got, w)
    res.points = len(rows)
    res.point_text = lines
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seconds', type=float, default=0, help='stop starting programs after this long')
    ap.add_argument('--count', type=int, default=0, help='programs to run (0: until --seconds)')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--corpus', nargs='*', default=[], help='folders or files')
    ap.add_argument('--no-exprgen', action='store_true')
    ap.add_argument('--dcc', default=os.path.join(REPO, 'build', 'dcc'))
    ap.add_argument('--cc', default='clang')
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--out', default=os.path.join(REPO, 'build', 'fuzz', 'run'))
    ap.add_argument('--strict', action='store_true', help='findings of kind differ count too')
    ap.add_argument('--all-variants', action='store_true', help='every program unrolled, with loops and -O0')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()
    if not args.seconds and not args.count:
        args.seconds = 60
    seed = args.seed if args.seed is not None else int(time.time()) % 1000000
    print('fuzzrun: exprgen seeds from %d' % seed, flush=True)
    corpus = corpus_files(args.corpus)

    def programs():
        """(name, text): exprgen's (tame and wild in turn) and the corpus's,
        taking turns."""
        c = 0
        s = seed
        while True:
            if not args.no_exprgen:
                wild = s % 2 == 1
                exprgen.BOUND = WILD_BOUND if wild else TAME_BOUND
                yield 'exprgen%s seed %d' % (' --wild' if wild else '', s), exprgen.generate(s)
                s += 1
            if c < len(corpus):
                with open(corpus[c], 'rb') as f:
                    yield corpus[c], f.read().decode('utf-8', errors='surrogateescape')
                c += 1
            elif args.no_exprgen:
                return

    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix='fuzzrun.')
    deadline = time.time() + args.seconds if args.seconds else None
    counts = {'exprgen': 0, 'corpus': 0, 'unrolled': 0, 'loops': 0, '-O0': 0}
    skipped = {}
    kinds = ['sanitizer', 'nan', 'inf', 'differ', 'mismatch', 'compile', 'dcc']
    found = {k: 0 for k in kinds}
    npoints = nprog = nfile = 0
    gen = programs()
    i = 0
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
            pending = set()
            while True:
                while len(pending) < 2 * args.jobs and (args.count == 0 or i < args.count) and \
                        (deadline is None or time.time() < deadline):
                    try:
                        name, text = next(gen)
                    except StopIteration:
                        break
                    for v in range(len(VARIANTS)) if args.all_variants else [i % len(VARIANTS)]:
                        pending.add(ex.submit(one, args, i, v, name, text, work))
                        i += 1
                if not pending:
                    break
                done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for fut in done:
                    res = fut.result()
                    shutil.rmtree(res.dir, ignore_errors=True)
                    if res.skipped:
                        skipped[res.skipped] = skipped.get(res.skipped, 0) + 1
                        if args.verbose:
                            print('fuzzrun: %s (%s): skipped, %s' % (res.name, res.variant, res.skipped))
                        continue
                    nprog += 1
                    npoints += res.points
                    counts['exprgen' if res.name.startswith('exprgen') else 'corpus'] += 1
                    counts[res.variant] += 1
                    seen = set()
                    for kind, detail in res.findings:
                        found[kind] += 1
                        if kind in seen:
                            continue
                        seen.add(kind)
                        nfile += 1
                        base = os.path.join(args.out, '%s-%d' % (kind, nfile))
                        with open(base + '.expr', 'w', encoding='utf-8', errors='surrogateescape') as f:
                            f.write(res.text)
                        with open(base + '.txt', 'w') as f:
                            f.write('%s (%s): %s\n%s\n' % (res.name, res.variant, kind, detail))
                            f.write('points (inputs, then params):\n%s' % getattr(res, 'point_text', ''))
                        print('fuzzrun: %s: %s (%s): %s [%s.expr]' % (kind, res.name, res.variant,
                                                                      detail.splitlines()[0], base), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = sum(found[k] for k in kinds if args.strict or k != 'differ')
    print('fuzzrun: skipped: %s' % (', '.join('%d %s' % (v, k) for k, v in sorted(skipped.items())) or 'none'))
    print('fuzzrun: %d programs (%d exprgen, %d corpus; %d unrolled, %d loops, %d -O0), %d points, %d findings (%s)' % (
        nprog, counts['exprgen'], counts['corpus'], counts['unrolled'], counts['loops'], counts['-O0'], npoints,
        total, ', '.join('%s %d' % (k, found[k]) for k in kinds)))
    return 1 if total else 0


if __name__ == '__main__':
    sys.exit(main())
