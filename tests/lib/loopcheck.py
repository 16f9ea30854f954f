#!/usr/bin/env python3
"""loopcheck: dcc's loop back end against its unrolled back end.

    loopcheck.py [--dcc DCC] FILE.expr [--wrt a,b] [--points N] [--tol X]
                 [--cc clang] [--dcc-arg=ARG] [--split-lines N] [--keep DIR]

dcc compiles FILE.expr twice: with loops (--unroll-limit 0, prefix L, to
L.c + L.h) and unrolled (--unroll-limit 1000000000, prefix U).  A driver
(loopcheck_main.c) then compares, at deterministic pseudo-random points,
L_loss_grad with U_loss_grad (the loss and every gradient component),
L_loss with that loss, L_outputs with U_outputs and, for each --wrt input,
L_grad_NAME with U_grad_NAME; once, L_init with U_init (the same bits).
The points: the params from L_init with seed 1, 2, ... plus a uniform
perturbation in [-0.1, 0.1] (a param named in an `# FDCHECK: range NAME LO
HI` line is drawn from [LO, HI] instead); the inputs uniform in [-1, 1], or
in the range of the file's `# FDCHECK: range` lines (the same directives as
fdcheck.py's).

Error measure: |a - b| / max(|a|, |b|, 1e-300) (0 when a and b are the same
number; any NaN or infinity that is not the same in both is a failure).  The
check passes when the worst is at most --tol (default 1e-12).  It prints

    loopcheck: P points, N components, worst relative error E (tolerance T): ok

where N counts every compared value over all points (loss, gradient,
outputs, --wrt gradients).

Only the functions it needs are taken from U.c (with the file's includes,
its static helpers and U_init): an unrolled 784-128-10 MLP is 30 MB of C, and
compiling it whole takes clang minutes.  Even U_loss_grad alone is 128,000
lines that clang -O0 takes 37-49 s on (its fast register allocator, 60% of
that, is super-linear in a function's length; -O1 takes more than 15
minutes), so a function longer than --split-lines (default 20000) is
rewritten, statement by statement, into chunk functions of 500 statements
whose locals live in one static array
(`const U_real t5 = e;` becomes `U_lc_T[4] = e';`, where e' is e with every
local renamed the same way).  The arithmetic (every expression, its order
and its rounding to U_real) is the emitted code's; only where the values
live changes.  The unrolled code is compiled at -O0 without warnings (it is
the reference, compiled as is or rewritten); L.c and the driver as C99
with -Wall -Wextra -Werror -pedantic, under ASan+UBSan with clang.

Exit status 0 if the check passes, 1 on a failure, 2 on a usage error.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fdcheck import (ASAN_GLOBALS_MAX_PARAMS, REPO, STRICT, Failure,  # noqa: E402
                     read_directives, run)

LOOPS = '0'
UNROLLED = '1000000000'
CHUNK = 500  # statements per chunk function of a split function


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('file')
    ap.add_argument('--dcc', default=os.environ.get('DCC') or
                    os.path.join(REPO, 'build', 'san', 'dcc'))
    ap.add_argument('--wrt', default='', help='inputs whose m_grad_ to compare too')
    ap.add_argument('--points', type=int, default=3)
    ap.add_argument('--tol', type=float, default=1e-12)
    ap.add_argument('--cc', default='clang')
    ap.add_argument('--dcc-arg', action='append', default=[],
                    help='extra dcc argument for both compilations (repeat)')
    ap.add_argument('--no-sanitize', action='store_true',
                    help='do not build L.c and the driver with ASan+UBSan (clang)')
    ap.add_argument('--split-lines', type=int, default=20000,
                    help='split an unrolled function longer than this (0: never)')
    ap.add_argument('--keep', metavar='DIR', help='work in DIR and keep it')
    return ap.parse_args(argv)


def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    return re.sub(r'//[^\n]*', ' ', text)


def parse_header(text, prefix):
    """The layout of a generated header with the given prefix."""
    text = strip_comments(text)
    up = prefix.upper()

    def define(name):
        m = re.search(r'#\s*define\s+%s_%s\s+\(?\s*(\d+)\s*\)?' % (up, name), text)
        return int(m.group(1)) if m else None

    hdr = {'ws': define('WORKSPACE_SIZE')}
    for name in ('N_IN', 'N_PARAMS', 'N_OUT'):
        hdr[name] = define(name)
        if hdr[name] is None:
            raise Failure('%s.h has no #define %s_%s' % (prefix, up, name))
    for kind in ('IN', 'PARAM', 'OUT'):
        hdr[kind] = sorted(((n, int(o)) for n, o in re.findall(
            r'#\s*define\s+%s_%s_(\w+)\s+\(?\s*(\d+)\s*\)?' % (up, kind), text)),
            key=lambda e: e[1])
    hdr['text'] = text
    return hdr


def sized(entries, total):
    return [(n, o, (entries[i + 1][1] if i + 1 < len(entries) else total) - o)
            for i, (n, o) in enumerate(entries)]


# ---- taking functions out of U.c --------------------------------------

def top_level_functions(src):
    """{name: (start, end)} of the function definitions in generated C: a
    signature line at column 0, then "{" alone, up to "}" alone."""
    found = {}
    for m in re.finditer(r'^([A-Za-z_][^\n;]*?\b(\w+)\s*\([^\n;]*\))\n\{\n', src, re.M):
        end = src.find('\n}\n', m.end() - 1)
        if end < 0:
            raise Failure('U.c: the function %s has no closing "}" line' % m.group(2))
        found[m.group(2)] = (m.start(), end + 3)
    return found


STATEMENT = re.compile(
    r'^\s*(?:const\s+U_real\s+(?P<local>\w+)\s*=\s*(?P<init>.*)'
    r'|(?P<store>\w+\[\d+\])\s*=\s*(?P<value>.*)'
    r'|return\s+(?P<ret>.*)'
    r'|\(void\)\s*(?P<void>\w+)'
    r');\s*(?:/\*[^\n]*?\*/\s*)?$')


def split_function(text, name):
    """Rewrites a long straight-line function (see the module's comment)
    into chunk functions and a wrapper; raises Failure on a statement that
    is not `const U_real NAME = E;`, `ARRAY[N] = E;` or `return E;`."""
    head, body = text.split('\n{\n', 1)
    body = body[:body.rindex('\n}')]
    m = re.match(r'^(.*?)\b%s\s*\((.*)\)\s*$' % name, head, re.S)
    ret_type, params = m.group(1).strip(), m.group(2)
    args = [re.search(r'(\w+)\s*$', a).group(1) for a in params.split(',')]
    index = {}
    statements = []   # C text of each statement, locals renamed
    ident = re.compile(r'\b[A-Za-z_]\w*\b')

    def rename(expr):
        return ident.sub(lambda t: 'U_lc_T[%d]' % index[t.group(0)]
                         if t.group(0) in index else t.group(0), expr)

    for line in body.split('\n'):
        if not line.strip() or re.match(r'^\s*/\*.*\*/\s*$', line):
            continue
        s = STATEMENT.match(line)
        if not s:
            raise Failure('cannot split %s (statement not understood): %s' % (name, line))
        if s.group('local'):
            value = rename(s.group('init'))
            index[s.group('local')] = len(index)
            statements.append('U_lc_T[%d] = %s;' % (index[s.group('local')], value))
        elif s.group('store'):
            statements.append('%s = %s;' % (s.group('store'), rename(s.group('value'))))
        elif s.group('ret'):
            statements.append('return %s;' % rename(s.group('ret')))
        # (void)x; statements go: the chunks take every argument anyway
    out = ['static U_real U_lc_T_%s[%d];' % (name, max(1, len(index)))]
    calls = []
    for c in range(0, len(statements), CHUNK):
        part = statements[c:c + CHUNK]
        fn = 'U_lc_%s_%d' % (name, c // CHUNK)
        out.append('static U_real %s(%s, U_real *U_lc_T)\n{' % (fn, params))
        out.extend('    ' + st for st in part)
        if not part[-1].startswith('return '):
            out.append('    return 0;')
        out.append('}')
        calls.append('%s(%s, U_lc_T_%s)' % (fn, ', '.join(args), name))
    out.append('%s %s(%s)\n{' % (ret_type, name, params))
    for call in calls[:-1]:
        out.append('    (void)%s;' % call)
    if ret_type == 'void':
        out.append('    (void)%s;' % calls[-1])
    else:
        out.append('    return %s;' % calls[-1])
    out.append('}')
    return '\n'.join(out) + '\n', len(statements), len(calls)


def extract(src, wanted, split_lines, notes):
    """The preamble of U.c (up to its first definition: comments, includes),
    its static functions, and the wanted functions, long ones split."""
    funcs = top_level_functions(src)
    first = min([s for s, _ in funcs.values()] +
                [m.start() for m in re.finditer(r'^(?:const|static|extern)\b', src, re.M)])
    parts = [src[:first]]
    for name, (start, end) in sorted(funcs.items(), key=lambda f: f[1][0]):
        if src[start:end].startswith('static '):
            parts.append(src[start:end])
    for name in wanted:
        if name not in funcs:
            raise Failure('U.c defines no %s' % name)
        start, end = funcs[name]
        text = src[start:end]
        if name != 'U_init' and re.search(r'\b(for|while)\s*\(', text):
            raise Failure('U.c: %s has loops: dcc did not unroll the model' % name)
        lines = text.count('\n')
        if split_lines and lines > split_lines and name != 'U_init':
            text, n, k = split_function(text, name)
            notes.append('%s: %d lines, split into %d chunks of %d statements'
                         % (name, lines, k, CHUNK))
        parts.append(text)
    return '\n'.join(parts)


# ---- the driver's glue ------------------------------------------------

def write_glue(path, lhdr, uhdr, wrt, ranges):
    for key in ('N_IN', 'N_PARAMS', 'N_OUT', 'IN', 'PARAM', 'OUT'):
        if lhdr[key] != uhdr[key]:
            raise Failure('L.h and U.h differ in %s: %s and %s' % (key, lhdr[key], uhdr[key]))
    inputs = sized(lhdr['IN'], lhdr['N_IN'])
    params = sized(lhdr['PARAM'], lhdr['N_PARAMS'])
    known = {n for n, _, _ in inputs} | {n for n, _, _ in params}
    for name in ranges:
        if name is not None and name not in known:
            raise Failure('FDCHECK range names %s, not an input or param' % name)
    default = ranges.get(None, (-1.0, 1.0))
    lines = ['/* generated by loopcheck.py from L.h and U.h */']
    rows = []
    for name in wrt:
        size = dict((n, s) for n, _, s in inputs).get(name)
        if size is None:
            raise Failure('--wrt %s: L.h has no L_IN_%s' % (name, name))
        for pre in ('L', 'U'):
            if re.search(r'\b%s_real\s+%s_grad_%s\s*\(' % (pre, pre, name), lhdr['text']
                         if pre == 'L' else uhdr['text']):
                body = 'out[0] = %s_grad_%s(in, p);' % (pre, name)
            else:
                body = '%s_grad_%s(in, p, out);' % (pre, name)
            lines.append('static void lc_%s_grad_%s(const double *in, const double *p, '
                         'double *out) { %s }' % (pre, name, body))
        rows.append('{ "%s", %d, lc_L_grad_%s, lc_U_grad_%s }' % (name, size, name, name))
    lines.append('#define LC_NWRT %d' % len(rows))
    lines.append('static const struct lc_wrt lc_wrt[] = { %s };'
                 % ', '.join(rows + ['{ 0, 0, 0, 0 }']))
    in_lo, in_hi = [default[0]] * lhdr['N_IN'], [default[1]] * lhdr['N_IN']
    for name, off, size in inputs:
        lo, hi = ranges.get(name, default)
        in_lo[off:off + size] = [lo] * size
        in_hi[off:off + size] = [hi] * size
    ranged = ['{ %d, %d, %r, %r }' % (off, size, ranges[name][0], ranges[name][1])
              for name, off, size in params if name in ranges]
    lines.append('#define LC_NRANGED %d' % len(ranged))
    lines.append('static const struct lc_range lc_p_ranged[] = { %s };'
                 % ', '.join(ranged + ['{ 0, 0, 0, 0 }']))
    for cname, vals in (('lc_in_lo', in_lo), ('lc_in_hi', in_hi)):
        lines.append('static const double %s[] = { %s };'
                     % (cname, ', '.join(repr(float(v)) for v in vals + [0.0])))
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def check(args):
    ranges, _, _ = read_directives(args.file)
    wrt = [w for w in args.wrt.split(',') if w]
    if args.keep:
        work = os.path.abspath(args.keep)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix='loopcheck.')
    notes = []
    try:
        hdrs = {}
        for pre, limit in (('L', LOOPS), ('U', UNROLLED)):
            # one function per entry point: the unrolled one is read
            # statement by statement
            cmd = [args.dcc, '--prefix', pre, '--unroll-limit', limit, '--split-limit', '0']
            if wrt:
                cmd += ['--wrt', ','.join(wrt)]
            cmd += args.dcc_arg + [os.path.abspath(args.file), '-o',
                                   os.path.join(work, pre + '.c')]
            run(cmd, 'dcc (%s)' % ('loops' if pre == 'L' else 'unrolled'), timeout=600)
            with open(os.path.join(work, pre + '.h')) as f:
                hdrs[pre] = parse_header(f.read(), pre)
        if hdrs['L']['ws'] is None or hdrs['U']['ws'] is not None:
            raise Failure('dcc --unroll-limit %s gave %s, --unroll-limit %s %s: nothing to compare'
                          % (LOOPS, 'no loops' if hdrs['L']['ws'] is None else 'loops',
                             UNROLLED, 'loops' if hdrs['U']['ws'] is not None
                             else 'unrolled code'))
        if not re.search(r'\btypedef\s+double\s+L_real\s*;', hdrs['L']['text']):
            raise Failure('loopcheck compares double code; L.h does not make L_real double')
        with open(os.path.join(work, 'U.c')) as f:
            src = f.read()
        wanted = ['U_loss_grad', 'U_outputs', 'U_init'] + ['U_grad_' + w for w in wrt]
        with open(os.path.join(work, 'Ux.c'), 'w') as f:
            f.write(extract(src, wanted, args.split_lines, notes))
        del src
        write_glue(os.path.join(work, 'lcglue.inc'), hdrs['L'], hdrs['U'], wrt, ranges)

        cc = args.cc
        sanitize = cc.endswith('clang') and not args.no_sanitize
        san = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'] if sanitize else []
        ux_o = os.path.join(work, 'Ux.o')
        run([cc, '-std=c99', '-O0', '-w', '-fno-asynchronous-unwind-tables', '-I', work,
             '-c', os.path.join(work, 'Ux.c'), '-o', ux_o],
            'compiling the unrolled functions with %s' % cc, timeout=600, max_memory=6 << 30)
        # As in fdcheck.py: ASan's instrumentation of L_param_names' strings
        # takes minutes past ASAN_GLOBALS_MAX_PARAMS params.
        l_o = os.path.join(work, 'L.o')
        no_globals = (['-mllvm', '-asan-globals=0']
                      if sanitize and hdrs['L']['N_PARAMS'] > ASAN_GLOBALS_MAX_PARAMS else [])
        run([cc] + STRICT + ['-O0', '-g'] + san + no_globals +
            ['-I', work, '-c', os.path.join(work, 'L.c'), '-o', l_o],
            'compiling the loops with %s' % cc, max_memory=4 << 30)
        exe = os.path.join(work, 'loopcheck')
        run([cc] + STRICT + ['-O0', '-g'] + san +
            ['-I', work, os.path.join(HERE, 'loopcheck_main.c'), l_o, ux_o, '-o', exe, '-lm'],
            'compiling the driver with %s' % cc, max_memory=4 << 30)
        out = run([exe, str(args.points), repr(args.tol)], 'the check', timeout=600)
    except Failure as e:
        print('loopcheck: FAIL %s: %s' % (args.file, str(e).rstrip()))
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for note in notes:
        print('loopcheck: note: %s' % note)
    sys.stdout.write(out)
    return 0


def main():
    args = parse_args(sys.argv[1:])
    if not os.path.exists(args.file):
        sys.exit('loopcheck: %s: no such file' % args.file)
    if args.points < 1:
        sys.exit('loopcheck: --points %d: not a positive number' % args.points)
    sys.exit(check(args))


if __name__ == '__main__':
    main()
