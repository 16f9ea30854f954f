#!/usr/bin/env python3
"""Check the relative links of Markdown files: each [text](path) names a
file or folder that exists, and each #anchor a heading of the file it
points into (anchors as GitHub makes them: the heading lower-cased, every
character but letters, digits, spaces, `-` and `_` dropped, spaces made
`-`).  Links to web addresses are not followed.

Usage: doclinks.py FILE.md ...

Prints each broken link as FILE:LINE: message, then a summary line; exits
1 when a link is broken, 2 on a usage error.  Standard library only.
"""

import os
import re
import sys

LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r'[^\w\- ]', '', s)
    return s.replace(' ', '-')


def anchors(path):
    found = set()
    in_code = False
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('```'):
                in_code = not in_code
            elif not in_code and line.startswith('#'):
                found.add(slug(line.lstrip('#')))
    return found


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    links = broken = 0
    for doc in argv[1:]:
        in_code = False
        with open(doc, encoding='utf-8') as f:
            lines = f.read().split('\n')
        for n, line in enumerate(lines, 1):
            if line.startswith('```'):
                in_code = not in_code
                continue
            if in_code:
                continue
            for target in LINK.findall(re.sub(r'`[^`]*`', '', line)):
                if re.match(r'[a-z]+:', target):
                    continue
                links += 1
                path, _, anchor = target.partition('#')
                full = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
                if not os.path.exists(full):
                    print('%s:%d: %s: no such file' % (doc, n, target))
                    broken += 1
                elif anchor and (not full.endswith('.md') or anchor not in anchors(full)):
                    print('%s:%d: %s: no heading #%s in %s' % (doc, n, target, anchor, full))
                    broken += 1
    print('doclinks: %d files, %d links, %d broken' % (len(argv) - 1, links, broken))
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
