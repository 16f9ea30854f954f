#!/usr/bin/env python3
"""stackcheck: the header's PU_STACK_f macros bound what compilers use.

    stackcheck.py HEADER SOURCE CC [FLAGS...]

Compiles SOURCE with CC -fstack-usage FLAGS and checks, for every function f
of the header's PU_STACK_f macros, that the compiler's figure is at most the
macro: for a plain function of a model with loops, its own frame plus its
_ws body's (the call it makes).  Prints one line per function and a summary
"stackcheck: N functions within their macros" or the ones that are not;
exit status 1 if any is not.
"""
import os
import re
import subprocess
import sys
import tempfile


def main():
    header, source, cc, flags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    text = open(header).read()
    macros = re.findall(r'#define\s+(\w+)_STACK_(\w+)\s+(\d+)', text)
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, 'm.o')
        subprocess.run([cc, '-fstack-usage', '-c', source, '-o', obj] + flags, check=True)
        su = open(os.path.join(tmp, 'm.su')).read()
    used = {}
    for line in su.splitlines():
        fields = line.split('\t')
        used[fields[0].split(':')[-1]] = int(fields[1])
    prefix = os.path.splitext(os.path.basename(source))[0]
    bad = checked = 0
    for _, fn, bound in macros:
        if fn == 'MAX':
            continue
        name = '%s_%s' % (prefix, fn)
        if name not in used:
            print('stackcheck: %s not in the compiler\'s figures' % name)
            bad += 1
            continue
        total = used[name] + used.get(name + '_ws', 0)
        ok = total <= int(bound)
        print('stackcheck: %-28s %5d bytes (macro %s)%s' % (name, total, bound, '' if ok else ' EXCEEDED'))
        bad += not ok
        checked += 1
    if bad:
        print('stackcheck: %d of %d functions exceed their macros' % (bad, checked + bad))
        return 1
    print('stackcheck: %d functions within their macros' % checked)
    return 0


if __name__ == '__main__':
    sys.exit(main())
