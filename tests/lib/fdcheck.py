#!/usr/bin/env python3
"""fdcheck: check dcc's gradients numerically, through the generated C.

    fdcheck.py [--dcc DCC] FILE.expr [--wrt a,b] [--tol-double X] [--tol-float Y]
               [--points N] [--sample N] [--real double,float] [--cc clang,gcc]
               [--dcc-arg=-O0] [--float-vs-double [TOL]] [--no-sanitize]
               [--opt LEVEL] [--keep DIR]

For --real double and --real float, dcc compiles FILE.expr with --prefix m to
m.c + m.h in a temporary folder; then, with clang and with gcc, the generated
source is compiled on its own as C99 with -Wall -Wextra -Werror -pedantic
(and -Wdouble-promotion for float: no float silently computed in double),
linked with fdcheck_main.c (the driver) and a glue file written from m.h
(which calls every per-variable m_grad_NAME function), and run: the clang
build under ASan+UBSan at -O0, the gcc build at -O2.  The driver checks, at
deterministic pseudo-random points, m_loss_grad against m_loss, every
gradient component against central finite differences of m_loss, every
per-param m_grad_NAME against m_loss_grad, and every --wrt input's gradient
against finite differences (see fdcheck_main.c for the whole list).
With --train or --freeze (--dcc-arg), only the trainable params (those
with an M_GRAD_ offset) are checked, each at its own offset in grad[]
(M_N_GRAD values).  m_sgd_step, when there is one, must be m_loss_grad
followed by p -= lr * grad, bit for bit, and leave the frozen params
alone.
When m.h defines M_WORKSPACE_SIZE (a model emitted with loops), every _ws
function (m_sgd_step_ws too) is also checked against its plain function: the
same bits, called with a workspace full of garbage, and nothing written past
M_WORKSPACE_SIZE.  Past 20,000 params the clang build compiles m.c without
ASan's instrumentation of globals (m_param_names' 100,000 strings would
take it 90 s); the driver's buffers keep it.  --no-sanitize builds with
clang as with gcc; --opt LEVEL (with --no-sanitize) builds every driver at
LEVEL, e.g. -O0, without -g: the unrolled C of a convolution, 500 KB of
straight-line code, takes clang 1 s at -O0 and 13 s at -O2 (and under
ASan+UBSan at -O0 with -g), too long for a test.

Error measure: |g - fd| / max(1, |g|, |fd|).  Default tolerances:
  double: 1e-6, h = 1e-4 * max(1, |x|).  The finite difference (with one
          Richardson step) is good to about 1e-11 here, so 1e-6 leaves room
          for ill-conditioned points yet catches any wrong rule.
  float:  5e-3, h = 1e-2 * max(1, |x|).  The float model's rounding noise
          (about 1e-7 relative) divided by h dominates the difference:
          about 1e-5 |loss|; 5e-3 leaves room for losses up to ~100.
  Comparisons of the generated code with itself (m_loss_grad's loss against
  m_loss, m_grad_NAME against m_loss_grad): 1e-12 in double, 1e-5 in float.

--float-vs-double [TOL] (with --real double,float, the default) also
compares the float build's m_loss_grad with the double build's at the same
points (drawn as floats in both; each driver writes its loss and gradients
to a file, see fdcheck_main.c's DUMP), for each --cc: the loss by
|lf - ld| / max(|ld|, 1e-12), the gradient (and each --wrt input's) as a
vector, relative to its largest component, max_k |gf_k - gd_k| /
max_k |gd_k|.  Finite differences in float (h = 1e-2) are coarse, and
wrong near a kink (a max-pool window whose two largest elements are
closer than h): the float build against the double build at one point is
the sharp check of the float code.  Default TOL 1e-4: float's unit
roundoff is u = 2^-24 = 6e-8, and a gradient component of the models this
checks is a sum of at most a few thousand products, each through at most
about ten rounded operations, whose error is bounded by about
(terms + depth) u times the sum of the terms' magnitudes: 1e-4 leaves a
factor of ten over 1e-3 * 6e-8 * 1000 for cancellation, while any wrong
float-only rule (a constant, a type, a loop bound) is off by far more.
A point where float and double take different sides of a kink (a ReLU
input or a max-pool tie closer than float's rounding) would fail: with
random points in continuous ranges it has probability about 1e-7 per
kink, and the points are fixed (deterministic), so a test that passes
keeps passing.  With --float-vs-double, the float build's finite
differences are computed but not held to --tol-float: the float build
within TOL of the double build, whose gradient is held to finite
differences at 1e-6, is the stronger check, and it holds across kinks.

Directives in FILE.expr (comment lines):
  # FDCHECK: range LO HI         draw every input and param from [LO, HI]
                                 (default [-1, 1])
  # FDCHECK: range NAME LO HI    the range of one input or param
  # FDCHECK: points N            number of points (default 8)
  # FDCHECK: sample N            finite differences for at most N components
                                 of each param (and --wrt input): the first,
                                 the last and evenly spaced ones between
                                 (default: all); m_loss_grad and the m_grad_
                                 functions are still compared on all of them
Points where the loss or a finite difference is not finite are skipped; at
least half must be usable.

Exit status 0 if everything checks, 1 on a failure, 2 on a usage error.
"""

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-pedantic']

DEFAULTS = {
    # real: (tol_grad, tol_same, h)
    'double': (1e-6, 1e-12, 1e-4),
    'float': (5e-3, 1e-5, 1e-2),
}


# --float-vs-double's default tolerance (see the docstring for why).
FLOAT_VS_DOUBLE = 1e-4

# Past this many params, the clang build compiles m.c without ASan's
# instrumentation of globals (see check()).
ASAN_GLOBALS_MAX_PARAMS = 20000


class Failure(Exception):
    pass


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('file')
    ap.add_argument('--dcc', default=os.environ.get('DCC') or
                    os.path.join(REPO, 'build', 'san', 'dcc'))
    ap.add_argument('--wrt', default='', help='inputs to check m_grad_<input> of')
    ap.add_argument('--tol-double', type=float, default=DEFAULTS['double'][0])
    ap.add_argument('--tol-float', type=float, default=DEFAULTS['float'][0])
    ap.add_argument('--h-double', type=float, default=DEFAULTS['double'][2])
    ap.add_argument('--h-float', type=float, default=DEFAULTS['float'][2])
    ap.add_argument('--points', type=int, default=None)
    ap.add_argument('--sample', type=int, default=None,
                    help='finite differences for at most N components of each variable')
    ap.add_argument('--real', default='double,float', help='comma list')
    ap.add_argument('--cc', default='clang,gcc', help='comma list of compilers')
    ap.add_argument('--dcc-arg', action='append', default=[],
                    help='extra dcc argument (repeat; --dcc-arg=-O0)')
    ap.add_argument('--no-sanitize', action='store_true',
                    help='do not build the clang driver with ASan+UBSan')
    ap.add_argument('--opt', metavar='LEVEL',
                    help='with --no-sanitize: compile at LEVEL (e.g. -O0) without -g')
    ap.add_argument('--max-c-bytes', type=int, default=8 << 20,
                    help='fail if the generated C is larger (default 8 MiB)')
    ap.add_argument('--float-vs-double', type=float, nargs='?', const=FLOAT_VS_DOUBLE,
                    default=None, metavar='TOL',
                    help='compare the float build\'s gradient with the double build\'s '
                         '(default tolerance %g)' % FLOAT_VS_DOUBLE)
    ap.add_argument('--keep', metavar='DIR', help='work in DIR and keep it')
    args = ap.parse_args(argv)
    if args.opt is not None and (not args.no_sanitize or not re.match(r'-O[0-3gsz]?$', args.opt)):
        ap.error('--opt needs --no-sanitize and a level such as -O0')
    return args


def read_directives(path):
    """The `# FDCHECK:` lines of the .expr file."""
    ranges = {}   # name or None -> (lo, hi)
    points = None
    sample = None
    with open(path, encoding='utf-8', errors='replace') as f:
        for lineno, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*FDCHECK:\s*(.*)$', line)
            if not m:
                continue
            words = m.group(1).split()
            where = '%s:%d' % (path, lineno)
            try:
                if words[:1] == ['range'] and len(words) == 3:
                    ranges[None] = (float(words[1]), float(words[2]))
                elif words[:1] == ['range'] and len(words) == 4:
                    ranges[words[1]] = (float(words[2]), float(words[3]))
                elif words[:1] == ['points'] and len(words) == 2:
                    points = int(words[1])
                elif words[:1] == ['sample'] and len(words) == 2:
                    sample = int(words[1])
                    if sample < 1:
                        raise ValueError
                else:
                    raise ValueError
            except ValueError:
                sys.exit('fdcheck: %s: bad directive: %s' % (where, m.group(1)))
    return ranges, points, sample


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def parse_header(text):
    """Sizes, offsets and gradient prototypes from the generated m.h."""
    text = strip_comments(text)

    def count(name):
        m = re.search(r'#\s*define\s+M_%s\s+\(?\s*(\d+)\s*\)?' % name, text)
        if not m:
            raise Failure('m.h has no #define M_%s' % name)
        return int(m.group(1))

    def offsets(kind):
        found = re.findall(r'#\s*define\s+M_%s_(\w+)\s+\(?\s*(\d+)\s*\)?' % kind, text)
        return [(name, int(off)) for name, off in found]

    ws = re.search(r'#\s*define\s+M_WORKSPACE_SIZE\s+\(?\s*(\d+)\s*\)?', text)
    hdr = {
        'n_in': count('N_IN'), 'n_params': count('N_PARAMS'), 'n_out': count('N_OUT'),
        'n_grad': count('N_GRAD'),
        'inputs': offsets('IN'), 'params': offsets('PARAM'), 'grads': {},
        'grad_offsets': dict(offsets('GRAD')),
        'ws': int(ws.group(1)) if ws else None, 'grads_ws': {},
    }
    for ret, name, args in re.findall(
            r'\b(m_real|void)\s+m_grad_(\w+)\s*\(([^()]*)\)\s*;', text):
        nargs = len(args.split(','))
        if name.endswith('_ws') and args.rstrip().endswith('*ws'):
            # the same function with a caller's workspace
            kinds = {('m_real', 3): 'scalar', ('void', 4): 'tensor'}
            if (ret, nargs) not in kinds:
                raise Failure('m.h: unexpected prototype for m_grad_%s: %s m_grad_%s(%s)'
                              % (name, ret, name, args))
            hdr['grads_ws'][name[:-3]] = kinds[(ret, nargs)]
            continue
        if (ret, nargs) == ('m_real', 2):
            hdr['grads'][name] = 'scalar'
        elif (ret, nargs) == ('void', 3):
            hdr['grads'][name] = 'tensor'
        else:
            raise Failure('m.h: unexpected prototype for m_grad_%s: %s m_grad_%s(%s)'
                          % (name, ret, name, args))
    for fn in ('m_loss', 'm_loss_grad', 'm_outputs', 'm_init'):
        if not re.search(r'\b%s\s*\(' % fn, text):
            raise Failure('m.h declares no %s' % fn)
    # With a workspace, every function has its _ws variant; without, none.
    hdr['sgd_step_ws'] = re.search(r'\bm_sgd_step_ws\s*\(', text) is not None
    hdr['sgd_step'] = re.search(r'\bm_sgd_step\s*\(', text) is not None
    fns = ['m_loss_ws', 'm_loss_grad_ws', 'm_outputs_ws']
    if re.search(r'\bm_sgd_step\s*\(', text):
        fns.append('m_sgd_step_ws')
    for fn in fns:
        declared = re.search(r'\b%s\s*\(' % fn, text) is not None
        if declared != (hdr['ws'] is not None):
            raise Failure('m.h %s %s but %s M_WORKSPACE_SIZE'
                          % ('declares' if declared else 'does not declare', fn,
                             'defines no' if hdr['ws'] is None else 'defines'))
    if hdr['ws'] is not None:
        for name, kind in hdr['grads'].items():
            if hdr['grads_ws'].get(name) != kind:
                raise Failure('m.h defines M_WORKSPACE_SIZE but declares no %s m_grad_%s_ws'
                              % ('scalar' if kind == 'scalar' else 'void', name))
    for name in hdr['grads_ws']:
        if name not in hdr['grads']:
            raise Failure('m.h declares m_grad_%s_ws but no m_grad_%s' % (name, name))
    return hdr


def sized(entries, total, what):
    """[(name, offset)] -> [(name, offset, size)], checking the layout."""
    entries = sorted(entries, key=lambda e: e[1])
    out = []
    for i, (name, off) in enumerate(entries):
        end = entries[i + 1][1] if i + 1 < len(entries) else total
        if (i == 0 and off != 0) or end <= off:
            raise Failure('m.h: the %s offsets do not tile 0..%d: %s'
                          % (what, total, entries))
        out.append((name, off, end - off))
    if not entries and total:
        raise Failure('m.h: %d %s scalars but no offset macros' % (total, what))
    return out


def c_double(x):
    return repr(float(x))


def write_glue(path, hdr, wrt, ranges, sample):
    params = sized(hdr['params'], hdr['n_params'], 'param')
    # --train/--freeze: only the params with an M_GRAD_ offset have a
    # gradient (in grad[], at that offset); the frozen ones have neither
    # it nor an m_grad_ function.
    goffs = hdr['grad_offsets']
    trained = [(n, o, s) for n, o, s in params if n in goffs]
    if sum(s for _, _, s in trained) != hdr['n_grad']:
        raise Failure('m.h: M_N_GRAD is %d, but the params with an M_GRAD_ offset have %d scalars'
                      % (hdr['n_grad'], sum(s for _, _, s in trained)))
    for name in goffs:
        if name not in dict(hdr['params']):
            raise Failure('m.h: M_GRAD_%s names no param in p[]' % name)
    inputs = sized(hdr['inputs'], hdr['n_in'], 'input')
    input_by_name = {n: (o, s) for n, o, s in inputs}
    grads = dict(hdr['grads'])
    lines = ['/* generated by fdcheck.py from m.h */']

    def wrapper(name, size):
        kind = grads.pop(name, None)
        if kind is None:
            raise Failure('m.h declares no m_grad_%s' % name)
        fn = 'fd_grad_%s' % name
        if kind == 'scalar':
            if size != 1:
                raise Failure('m_grad_%s returns one value for %d scalars' % (name, size))
            body = 'out[0] = m_grad_%s(in, p);' % name
            body_ws = 'out[0] = m_grad_%s_ws(in, p, ws);' % name
        else:
            body = 'm_grad_%s(in, p, out);' % name
            body_ws = 'm_grad_%s_ws(in, p, out, ws);' % name
        lines.append('static void %s(const real *in, const real *p, real *out) { %s }'
                     % (fn, body))
        fn_ws = '0'
        if hdr['ws'] is not None:
            fn_ws = 'fd_grad_ws_%s' % name
            lines.append('static void %s(const real *in, const real *p, real *out, real *ws) '
                         '{ %s }' % (fn_ws, body_ws))
        is_param = name in dict(hdr['params'])
        return '{ "%s", M_%s_%s, %s, %d, %s, %s }' % (
            name, 'PARAM' if is_param else 'IN', name, 'M_GRAD_%s' % name if is_param else '0', size, fn, fn_ws)

    param_rows = [wrapper(n, s) for n, o, s in trained]
    wrt_rows = []
    for name in wrt:
        if name not in input_by_name:
            raise Failure('--wrt %s: m.h has no M_IN_%s' % (name, name))
        wrt_rows.append(wrapper(name, input_by_name[name][1]))
    if grads:
        raise Failure('m.h declares m_grad_ functions for no param or --wrt input: %s'
                      % ', '.join(sorted(grads)))

    known = {n for n, _, _ in params} | {n for n, _, _ in inputs}
    for name in ranges:
        if name is not None and name not in known:
            raise Failure('FDCHECK range names %s, not an input or param' % name)
    default = ranges.get(None, (-1.0, 1.0))

    def bounds(vars_, total):
        lo, hi = [default[0]] * total, [default[1]] * total
        for name, off, size in vars_:
            r = ranges.get(name, default)
            for k in range(off, off + size):
                lo[k], hi[k] = r
        return lo + [0.0], hi + [0.0]

    in_lo, in_hi = bounds(inputs, hdr['n_in'])
    p_lo, p_hi = bounds(params, hdr['n_params'])
    null = '{ 0, 0, 0, 0, 0, 0 }'
    lines.append('#define FD_SAMPLE %d' % (sample or 0))
    if hdr['sgd_step']:
        lines.append('#define FD_SGD_STEP 1')
    if hdr['sgd_step_ws']:
        lines.append('#define FD_SGD_STEP_WS 1')
    lines.append('#define FD_NPARAMS %d' % len(param_rows))
    lines.append('static const struct fd_var fd_params[] = { %s };'
                 % ', '.join(param_rows + [null]))
    lines.append('#define FD_NWRT %d' % len(wrt_rows))
    lines.append('static const struct fd_var fd_wrt[] = { %s };'
                 % ', '.join(wrt_rows + [null]))
    for cname, vals in (('fd_in_lo', in_lo), ('fd_in_hi', in_hi),
                        ('fd_p_lo', p_lo), ('fd_p_hi', p_hi)):
        lines.append('static const double %s[] = { %s };'
                     % (cname, ', '.join(c_double(v) for v in vals)))
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(params), len(inputs)


def run(cmd, what, timeout=120, max_memory=None):
    """Runs cmd in its own process group (a timeout kills the whole group,
    compilers' cc1 included); max_memory bounds its address space.  Returns
    its output; raises Failure if it fails."""
    def child_setup():
        os.setsid()
        if max_memory:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                preexec_fn=child_setup)
    except FileNotFoundError:
        raise Failure('%s: %s not found' % (what, cmd[0]))
    try:
        out, _ = proc.communicate(timeout=timeout)
    except BaseException as e:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        if isinstance(e, subprocess.TimeoutExpired):
            raise Failure('%s timed out after %ds: %s' % (what, timeout, ' '.join(cmd)))
        raise
    out = out.decode('utf-8', 'replace')
    if proc.returncode != 0:
        status = proc.returncode if proc.returncode >= 0 else 'signal %d' % -proc.returncode
        raise Failure('%s failed (%s): %s\n%s' % (what, status, ' '.join(cmd), out))
    return out


def read_dump(path):
    """{point: {'loss': [l], 'grad': [...], 'wrt NAME': [...]}} of a driver's DUMP."""
    points, cur = {}, None
    with open(path) as f:
        for line in f:
            words = line.split()
            if words[:1] == ['point']:
                cur = points.setdefault(int(words[1]), {})
                cur['loss'] = [float(v) for v in words[2:]]
            elif words[:1] == ['grad'] and cur is not None:
                cur['grad'] = [float(v) for v in words[1:]]
            elif words[:1] == ['wrt'] and cur is not None:
                cur['wrt ' + words[1]] = [float(v) for v in words[2:]]
    return points


def vector_error(f, d):
    """max_k |f_k - d_k| / max(max_k |d_k|, 1e-12); inf if not finite."""
    diff = 0.0
    for a, b in zip(f, d):
        e = abs(a - b)
        diff = max(diff, e if e == e else float('inf'))
    return diff / max([abs(v) for v in d] + [1e-12])


def float_vs_double(work, cc, points, tol):
    """--float-vs-double for one compiler: the float build's dump against
    the double build's; a summary, or Failure."""
    name = 'dump-%s.txt' % cc.replace('/', '_')
    try:
        fl = read_dump(os.path.join(work, 'float', name))
        db = read_dump(os.path.join(work, 'double', name))
    except OSError as e:
        raise Failure('no dump to compare (--real double,float needed): %s' % e)
    common = [k for k in sorted(db) if k in fl and set(fl[k]) == set(db[k])]
    if 2 * len(common) < points:
        raise Failure('only %d of %d points usable in both builds' % (len(common), points))
    worst_loss = worst_grad = 0.0
    for k in common:
        lf, ld = fl[k]['loss'][0], db[k]['loss'][0]
        e = abs(lf - ld) / max(abs(ld), 1e-12)
        worst_loss = max(worst_loss, e if e == e else float('inf'))
        for what in db[k]:
            if what != 'loss':
                if len(fl[k][what]) != len(db[k][what]):
                    raise Failure('point %d: %s has %d values in float, %d in double'
                                  % (k, what, len(fl[k][what]), len(db[k][what])))
                worst_grad = max(worst_grad, vector_error(fl[k][what], db[k][what]))
    print('fdcheck-float-vs-double: %s points=%d worst_loss=%.2e worst_grad=%.2e tol=%g'
          % (cc, len(common), worst_loss, worst_grad, tol))
    if not (worst_loss <= tol and worst_grad <= tol):
        raise Failure('the float build is off the double build: loss %.2e, gradient %.2e '
                      '(relative to its largest component), tolerance %g'
                      % (worst_loss, worst_grad, tol))
    return 'float vs double/%s %d pts, worst %.2e' % (cc, len(common), max(worst_loss, worst_grad))


def check(args):
    ranges, points, sample = read_directives(args.file)
    points = args.points or points or 8
    if args.sample is not None:
        if args.sample < 1:
            sys.exit('fdcheck: --sample %d: not a positive number' % args.sample)
        sample = args.sample
    wrt = [w for w in args.wrt.split(',') if w]
    tols = {'double': args.tol_double, 'float': args.tol_float}
    hs = {'double': args.h_double, 'float': args.h_float}
    reals = [r for r in args.real.split(',') if r]
    ccs = [c for c in args.cc.split(',') if c]
    for r in reals:
        if r not in DEFAULTS:
            sys.exit('fdcheck: --real %s: not double or float' % r)

    if args.keep:
        work = os.path.abspath(args.keep)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix='fdcheck.')
    failed = []
    summary = []
    try:
        for real in reals:
            d = os.path.join(work, real)
            os.makedirs(d, exist_ok=True)
            cmd = [args.dcc, '--prefix', 'm', '--real', real]
            if wrt:
                cmd += ['--wrt', ','.join(wrt)]
            cmd += args.dcc_arg + [os.path.abspath(args.file), '-o', os.path.join(d, 'm.c')]
            try:
                run(cmd, 'dcc (%s)' % real)
                with open(os.path.join(d, 'm.h')) as f:
                    hdr = parse_header(f.read())
                if hdr['n_grad'] == 0 and not wrt:
                    raise Failure('the model has no trainable params and no --wrt inputs: nothing to check')
                write_glue(os.path.join(d, 'fdglue.inc'), hdr, wrt, ranges, sample)
                size = os.path.getsize(os.path.join(d, 'm.c'))
                if size > args.max_c_bytes:
                    raise Failure('dcc wrote %d bytes of C, more than --max-c-bytes %d: '
                                  'too big to compile in a test' % (size, args.max_c_bytes))
            except Failure as e:
                failed.append('[%s] %s' % (real, e))
                continue
            for cc in ccs:
                label = '%s/%s' % (real, cc)
                exe = os.path.join(d, 'driver-' + cc)
                # clang builds with ASan+UBSan at -O0 (an out-of-bounds
                # access in the generated code stops the check; at -O2 the
                # sanitizers take minutes on large straight-line functions),
                # gcc at -O2 (its optimiser's warnings are errors too).
                sanitize = cc.endswith('clang') and not args.no_sanitize
                if sanitize:
                    flags = STRICT + ['-O0', '-g', '-fsanitize=address,undefined',
                                      '-fno-sanitize-recover=all']
                elif args.opt:
                    flags = STRICT + [args.opt]
                else:
                    flags = STRICT + ['-O2', '-g']
                # --real float promises tanhf, expf, ... and f-suffixed
                # constants: no float is silently computed in double.
                if real == 'float':
                    flags.append('-Wdouble-promotion')
                try:
                    model = os.path.join(d, 'm.c')
                    if sanitize and hdr['n_params'] > ASAN_GLOBALS_MAX_PARAMS:
                        # ASan's instrumentation of globals takes minutes on
                        # m_param_names' 100,000 string literals (91 s for a
                        # 784-128-10 MLP, 2 s without): m.c on its own
                        # without it; the driver's buffers keep theirs.
                        model = os.path.join(d, 'm-%s.o' % cc.replace('/', '_'))
                        run([cc] + flags + ['-mllvm', '-asan-globals=0', '-I', d, '-c',
                                            os.path.join(d, 'm.c'), '-o', model],
                            'compiling m.c with %s' % cc, max_memory=4 << 30)
                    run([cc] + flags + ['-I', d, model,
                                        os.path.join(HERE, 'fdcheck_main.c'),
                                        '-o', exe, '-lm'], 'compiling with %s' % cc,
                        max_memory=4 << 30)
                    tol_same = DEFAULTS[real][1]
                    dump = [os.path.join(d, 'dump-%s.txt' % cc.replace('/', '_'))] \
                        if args.float_vs_double is not None else []
                    tol = tols[real]
                    if real == 'float' and args.float_vs_double is not None:
                        tol = float('inf')  # the float-vs-double check instead
                    out = run([exe, label, str(points), repr(tol), repr(tol_same),
                               repr(hs[real])] + dump, 'the check [%s]' % label)
                except Failure as e:
                    failed.append('[%s] %s' % (label, e))
                    continue
                m = re.search(r'points=(\S+) worst_grad=(\S+)', out)
                summary.append('%s %s pts, worst %s' % (label, m.group(1), m.group(2))
                               if m else label)
                m = re.search(r' sample=(\d+) fd_components=(\d+)', out)
                if m:
                    summary[-1] += ', %s sampled' % m.group(2)
                if real == 'float' and args.float_vs_double is not None:
                    summary[-1] += ' (not held: float vs double instead)'
                if ' ws=' in out:
                    summary[-1] += ', _ws same'
                sys.stdout.write(out)
        if args.float_vs_double is not None:
            for cc in ccs:
                try:
                    summary.append(float_vs_double(work, cc, points, args.float_vs_double))
                except Failure as e:
                    failed.append('[float vs double/%s] %s' % (cc, e))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for f in failed:
        print('fdcheck: FAIL %s' % f.rstrip())
    if failed:
        print('fdcheck: FAILED %s (%d failure%s above)'
              % (args.file, len(failed), 's' if len(failed) > 1 else ''))
        return 1
    print('fdcheck: OK (%s: %s; tol double %g float %s)'
          % (os.path.basename(args.file), '; '.join(summary), args.tol_double,
             '%g' % args.tol_float if args.float_vs_double is None
             else 'vs double %g' % args.float_vs_double))
    return 0


def main():
    args = parse_args(sys.argv[1:])
    if not os.path.exists(args.file):
        sys.exit('fdcheck: %s: no such file' % args.file)
    sys.exit(check(args))


if __name__ == '__main__':
    main()
