"""Print generated C without what may differ between two sources of one
model: the banner's file names, the #include of the header's name, and
the /* line N */ comments."""
import re
import sys

for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if line.startswith(('/* Source generated', '/* Header generated', '   Do not edit', '#include "')):
                continue
            print(re.sub(r' ?/\* line [0-9]+ \*/', '', line), end='')
