#!/usr/bin/env python3
"""Print the names a source defines or a document documents, one a line,
sorted, so that `comm` of two lists shows what one of them lacks.

Usage:
  docnames.py builtins compiler/ops.h     the language's builtin functions:
                                          the scalar ops whose lang column
                                          names one, and DCC_BUILTINS' names
  docnames.py man-calls PAGE [SECTION]    the names written as calls,
                                          NAME(, in a man page's text (in
                                          SECTION only, if given)
  docnames.py md-calls FILE [SECTION]     the names written as calls in code
                                          spans, `NAME(...`, in a Markdown
                                          file (in the `## SECTION` only)
  docnames.py md-options FILE             the options in the first column of
                                          the Markdown tables (`-o FILE`,
                                          `--help`, `-h`: -o, --help, -h)

Exits 1, saying why, when it finds no name at all (so that two empty lists
never compare equal), 2 on a usage error.  Standard library only.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optlist import roff_text  # noqa: E402  (the man page's text, decoded)

CALL = re.compile(r'(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)\(')


def macro_rows(text, name):
    """The lines of the X-macro `#define name(X) ...` (its continuation
    lines), without comments."""
    m = re.search(r'#define\s+%s\(X\)((?:.*\\\n)*.*)' % name, text)
    if not m:
        return None
    body = re.sub(r'/\*.*?\*/', '', m.group(1), flags=re.S)
    return body.replace('\\\n', '\n')


def builtins(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    names = []
    scalar = macro_rows(text, 'DCC_SCALAR_OPS')
    table = macro_rows(text, 'DCC_BUILTINS')
    if scalar is None or table is None:
        return names
    # X(NAME, arity, spelling, C, kind, prec, lang, value, adjoint): the 7th
    for row in re.finditer(r'X\(\s*\w+\s*,\s*\d+\s*,\s*"[^"]*"\s*,\s*"[^"]*"\s*,\s*\w+\s*,\s*\d+\s*,\s*"([^"]*)"',
                           scalar):
        if row.group(1):
            names.append(row.group(1))
    # X(NAME, name, min_args, max_args)
    for row in re.finditer(r'X\(\s*\w+\s*,\s*"([^"]+)"\s*,', table):
        names.append(row.group(1))
    return names


def man_calls(path, section):
    names = []
    inside = section is None
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith('.SH'):
                title = line[3:].strip().strip('"')
                inside = section is None or title == section
                continue
            if not inside or line.startswith('.\\"'):
                continue
            names += CALL.findall(roff_text(line))
    return names


def md_calls(path, section):
    names = []
    inside = section is None
    in_code = False
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('```'):
                in_code = not in_code
                continue
            if not in_code and line.startswith('## '):
                inside = section is None or line[3:].strip() == section
                continue
            if not inside or in_code:
                continue
            for span in re.findall(r'`([^`]+)`', line):
                names += CALL.findall(span)
    return names


def md_options(path):
    names = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.startswith('| `'):
                continue
            first = re.split(r'(?<!\\)\|', line)[1]  # a cell may hold \|
            for span in re.findall(r'`([^`]+)`', first):
                word = span.split()[0]
                if word.startswith('-'):
                    names.append(word)
    return names


def main(argv):
    args = argv[1:]
    if not args:
        sys.stderr.write(__doc__)
        return 2
    mode, rest = args[0], args[1:]
    if mode == 'builtins' and len(rest) == 1:
        names = builtins(rest[0])
    elif mode == 'man-calls' and len(rest) in (1, 2):
        names = man_calls(rest[0], rest[1] if len(rest) == 2 else None)
    elif mode == 'md-calls' and len(rest) in (1, 2):
        names = md_calls(rest[0], rest[1] if len(rest) == 2 else None)
    elif mode == 'md-options' and len(rest) == 1:
        names = md_options(rest[0])
    else:
        sys.stderr.write(__doc__)
        return 2
    if not names:
        sys.stderr.write('docnames.py: %s: no names found (%s)\n' % (rest[0], mode))
        return 1
    for name in sorted(set(names)):
        print(name)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
