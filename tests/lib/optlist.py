#!/usr/bin/env python3
"""Print the sorted option names of `dcc --help` or of dcc's man page.

Usage:
  optlist.py [--full] --help-text FILE   FILE holds the output of `dcc --help`
  optlist.py [--full] --man FILE         FILE is the man page (compiler/dcc.1)

One name a line (`-o`, `--header`, ...), sorted, duplicates dropped, so
that `diff` of the two lists shows an option one source lacks.  With
--full, each option as its entry spells it, with its value (`-o FILE`,
`--real double|float`), so that `diff` also shows a value spelt differently.

--help: the options are the lines of the block after `options:` that
start with a dash after the indentation; the name is the line's first word,
the full entry what comes before the first run of two spaces.

Man page: the options are the entries of the OPTIONS section (from
`.SH OPTIONS` to the next `.SH`): the tag line that follows each `.TP`
(`.B \\-\\-stats`, `.BI \\-o " FILE"`, `.BR "\\-\\-real double" | float`);
the name is its first word once the roff escapes are decoded, the full
entry the whole tag.

Exits 1, saying why, when a source has no options at all (so that two
empty lists never compare equal), 2 on a usage error.  Standard library only.
"""

import re
import sys


def help_options(text, full):
    names = []
    in_block = False
    for line in text.splitlines():
        if line.rstrip() == 'options:':
            in_block = True
            continue
        if not in_block:
            continue
        m = re.match(r'\s+(-\S+(?: \S+)*?)(?:  |$)', line)
        if m:
            names.append(m.group(1) if full else m.group(1).split()[0].rstrip(','))
    return names


def roff_args(rest):
    """A macro line's arguments: separated by spaces, a quoted one may
    hold spaces ("" in it is a quote)."""
    args = []
    i, n = 0, len(rest)
    while i < n:
        if rest[i] == ' ':
            i += 1
        elif rest[i] == '"':
            arg, i = '', i + 1
            while i < n:
                if rest[i] == '"':
                    if rest[i + 1:i + 2] == '"':
                        arg, i = arg + '"', i + 2
                        continue
                    i += 1
                    break
                arg, i = arg + rest[i], i + 1
            args.append(arg)
        else:
            j = rest.find(' ', i)
            j = n if j < 0 else j
            args.append(rest[i:j])
            i = j
    return args


def roff_text(line):
    """The text a man(7) tag line shows: the arguments of a font macro
    (.B, .I: joined by spaces; .BR, .BI, ...: alternating fonts, joined
    with nothing between them), the common escapes decoded, font changes
    dropped."""
    m = re.match(r'\.([A-Za-z]+)[ \t]*(.*)', line)
    if m:
        sep = ' ' if m.group(1) in ('B', 'I', 'SM', 'SB') else ''
        line = sep.join(roff_args(m.group(2).replace('\t', ' ')))
    line = re.sub(r'\\f(\[[^]]*\]|\(..|.)', '', line)  # \fB, \fR, \f(CW, \f[B]
    line = line.replace('\\-', '-').replace('\\&', '').replace('\\|', '')
    line = line.replace('\\ ', ' ').replace('\\e', '\\')
    return line


def man_options(text, full):
    names = []
    in_section = False
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith('.SH'):
            in_section = line.split(None, 1)[1:] in (['OPTIONS'], ['"OPTIONS"'])
            continue
        if not in_section or not re.match(r'\.TP\b', line):
            continue
        # The tag is the next line that is not a comment.
        for tag in lines[i + 1:]:
            if not tag.startswith('.\\"'):
                break
        else:
            continue
        words = roff_text(tag).split()
        if words and words[0].startswith('-'):
            names.append(' '.join(words) if full else words[0].rstrip(','))
    return names


def main(argv):
    args = argv[1:]
    full = args[:1] == ['--full']
    if full:
        args = args[1:]
    if len(args) != 2 or args[0] not in ('--help-text', '--man'):
        sys.stderr.write(__doc__)
        return 2
    with open(args[1], encoding='utf-8') as f:
        text = f.read()
    if args[0] == '--help-text':
        names, where = help_options(text, full), "the 'options:' block"
    else:
        names, where = man_options(text, full), 'the .TP entries of the OPTIONS section'
    if not names:
        sys.stderr.write('optlist.py: %s: no options found in %s\n' % (args[1], where))
        return 1
    for name in sorted(set(names)):
        print(name)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
