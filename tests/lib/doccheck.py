#!/usr/bin/env python3
"""Check that what the documentation shows a command printing is what it
prints.

Usage:
  doccheck.py --repo DIR [--output NAME=FILE ...] FILE.md ...
  doccheck.py --repo DIR --update NAME=FILE FILE.md

Markers (HTML comments, invisible in rendered Markdown) say what to check;
each of the first two stands on the line just before a fenced code block
(both indented alike in a list item):

  <!-- doc-file: NAME -->     the block is a file: written to NAME in the
                              document's scratch folder, for the commands
                              below it
  <!-- doc-run: COMMAND -->   the block is what COMMAND prints on standard
                              output (`2>&1` in COMMAND for standard error)
  <!-- doc-run -->            the same, the command being the block's first
                              line, written `$ COMMAND`
  <!-- doc-output: NAME -->   ... <!-- end doc-output -->
                              a region (a Markdown table, a code block) that
                              is the output of something the test cannot
                              run itself (`make size` needs the firmware
                              run): compared with the file given as
                              --output NAME=FILE, and skipped without one

Commands run with `sh -c`, in the C locale, in a scratch folder per
document that holds symbolic links to the repository's top-level files and
folders, so that `build/dcc examples/...` works and files a command writes
land in the scratch folder, not in the tree.

A block matches when its lines are the output's lines (trailing spaces
ignored), where a line `...` stands for any number of lines, none
included.  A doc-output region matches when its lines, blank lines and
code fences left out, are the output's lines, blank lines left out.

--update NAME=FILE rewrites the region NAME of the document from FILE: the
lines that start with `|` as a table, the others in a code block.

Prints one line per document and a summary; exits 1 when a block does not
match or a marker is malformed, 2 on a usage error.  Standard library only.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

MARKER = re.compile(r'^<!--\s*doc-(file|run|output)(?:\s*:\s*(.*?))?\s*-->\s*$')
END_OUTPUT = re.compile(r'^<!--\s*end doc-output\s*-->\s*$')


def fenced_block(lines, i, indent=''):
    """The code block that starts at line i (a ``` line, after indent: a
    block in a list item is indented): (its lines, indent removed, the
    index after its closing fence), or None."""
    if i >= len(lines) or not lines[i].startswith(indent + '```'):
        return None
    body = []
    j = i + 1
    while j < len(lines) and not lines[j].startswith(indent + '```'):
        line = lines[j]
        body.append(line[len(indent):] if line.startswith(indent) else line.lstrip(' '))
        j += 1
    if j == len(lines):
        return None
    return body, j + 1


def matches(expected, actual):
    """Whether actual (lines) is expected (lines, `...` a gap)."""
    expected = [e.rstrip() for e in expected]
    actual = [a.rstrip() for a in actual]
    segments, seg = [], []
    for e in expected:
        if e == '...':
            segments.append(seg)
            seg = []
        else:
            seg.append(e)
    segments.append(seg)
    if len(segments) == 1:
        return expected == actual
    first, last = segments[0], segments[-1]
    if actual[:len(first)] != first:
        return False
    pos = len(first)
    end = len(actual) - len(last)
    if end < pos or (last and actual[end:] != last):
        return False
    for seg in segments[1:-1]:
        found = -1
        for k in range(pos, end - len(seg) + 1):
            if actual[k:k + len(seg)] == seg:
                found = k
                break
        if found < 0:
            return False
        pos = found + len(seg)
    return True


def scratch(repo):
    d = tempfile.mkdtemp(prefix='doccheck.')
    for name in os.listdir(repo):
        if name.startswith('.'):
            continue
        os.symlink(os.path.join(repo, name), os.path.join(d, name))
    return d


def show(title, lines):
    """A block of lines for a failure's report."""
    return '\n'.join(['  %s:' % title] + ['    | %s' % line for line in lines])


def nonblank(lines):
    return [l.rstrip() for l in lines if l.strip() and not l.startswith('```')]


def check_document(path, repo, outputs):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    work = None
    runs = files = regions = skipped = 0
    failures = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i].lstrip(' '))
        if not m:
            i += 1
            continue
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip(' '))]
        kind, arg = m.group(1), m.group(2)
        where = '%s:%d' % (path, i + 1)
        if kind == 'output':
            j = i + 1
            while j < len(lines) and not END_OUTPUT.match(lines[j]):
                j += 1
            if j == len(lines):
                failures.append('%s: doc-output without <!-- end doc-output -->' % where)
                break
            if not arg:
                failures.append('%s: doc-output without a name' % where)
            elif arg not in outputs:
                skipped += 1
            else:
                regions += 1
                with open(outputs[arg], encoding='utf-8') as f:
                    actual = nonblank(f.read().split('\n'))
                expected = nonblank(lines[i + 1:j])
                if expected != actual:
                    failures.append('%s: the region %r is not its output\n%s\n%s' % (
                        where, arg, show('the document says', expected), show('%s says' % arg, actual)))
            i = j + 1
            continue
        block = fenced_block(lines, i + 1, indent)
        if block is None:
            failures.append('%s: doc-%s is not followed by a fenced code block' % (where, kind))
            i += 1
            continue
        body, after = block
        if work is None:
            work = scratch(repo)
        if kind == 'file':
            if not arg or '/' in arg:
                failures.append('%s: doc-file needs a plain file name' % where)
            else:
                with open(os.path.join(work, arg), 'w', encoding='utf-8') as f:
                    f.write('\n'.join(body) + '\n')
                files += 1
        else:
            command, expected = arg, body
            if not command:
                if not body or not body[0].startswith('$ '):
                    failures.append('%s: doc-run without a command, and the block does not start with "$ "' % where)
                    i = after
                    continue
                command, expected = body[0][2:], body[1:]
            runs += 1
            env = dict(os.environ, LC_ALL='C')
            try:
                r = subprocess.run(['sh', '-c', command], cwd=work, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=300)
                out = r.stdout.decode('utf-8', 'replace')
                err = r.stderr.decode('utf-8', 'replace')
            except subprocess.TimeoutExpired:
                out, err = '', 'timed out after 300 s'
            actual = out.split('\n')
            if actual and actual[-1] == '':
                actual.pop()
            if not matches(expected, actual):
                report = '%s: `%s` prints something else\n%s\n%s' % (
                    where, command, show('the document says', expected), show('it printed', actual))
                if err.strip():
                    report += '\n' + show('and on standard error', err.rstrip('\n').split('\n'))
                failures.append(report)
        i = after
    if work is not None:
        shutil.rmtree(work, ignore_errors=True)
    note = ', %d regions' % regions if regions else ''
    note += ', %d regions not checked here' % skipped if skipped else ''
    print('doccheck: %s: %d commands, %d files%s: %s' % (path, runs, files, note,
                                                         'FAILED' if failures else 'ok'))
    for f in failures:
        print('doccheck: ' + f)
    return runs + regions, len(failures)


def update(path, name, source):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    with open(source, encoding='utf-8') as f:
        out = [l.rstrip() for l in f.read().split('\n') if l.strip()]
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if m and m.group(1) == 'output' and m.group(2) == name:
            j = i + 1
            while j < len(lines) and not END_OUTPUT.match(lines[j]):
                j += 1
            if j == len(lines):
                break
            table = [l for l in out if l.startswith('|')]
            rest = [l for l in out if not l.startswith('|')]
            new = table + ([''] if table and rest else []) + (['```'] + rest + ['```'] if rest else [])
            lines[i + 1:j] = new
            with open(path, 'w', encoding='utf-8') as f:
                f.write('\n'.join(lines))
            print('doccheck: %s: the region %r rewritten' % (path, name))
            return 0
    sys.stderr.write('doccheck: %s: no doc-output region %r\n' % (path, name))
    return 1


def main(argv):
    args = argv[1:]
    repo, outputs, todo, docs = None, {}, None, []
    while args:
        a = args.pop(0)
        if a == '--repo' and args:
            repo = args.pop(0)
        elif a in ('--output', '--update') and args and '=' in args[0]:
            name, path = args.pop(0).split('=', 1)
            if a == '--output':
                outputs[name] = path
            else:
                todo = (name, path)
        elif a.startswith('-'):
            sys.stderr.write(__doc__)
            return 2
        else:
            docs.append(a)
    if not repo or not docs or (todo and len(docs) != 1):
        sys.stderr.write(__doc__)
        return 2
    if todo:
        return update(docs[0], *todo)
    repo = os.path.abspath(repo)
    checked = failed = 0
    for doc in docs:
        c, f = check_document(doc, repo, outputs)
        checked += c
        failed += f
    print('doccheck: %d documents, %d outputs checked, %d failed' % (len(docs), checked, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
