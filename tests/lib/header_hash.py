#!/usr/bin/env python3
"""The hash a dcc header should carry, computed here independently of dcc:
64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3, the
published constants) over the header's bytes from its first line that
opens with "#ifndef" (the banner before it names the input's path, which
changes nothing the header declares) up to the line that opens with
"/* A hash of the lines above".

    header_hash.py HEADER      prints e.g. 0x1C0FFEE1C0FFEE00u
"""
import sys

MARK = b'/* A hash of the lines above'


def main():
    data = open(sys.argv[1], 'rb').read()
    at = data.find(b'\n' + MARK)
    start = data.find(b'\n#ifndef') + 1
    if at < 0 or start == 0:
        sys.exit('header_hash.py: no include guard or hash line in %s' % sys.argv[1])
    h = 0xcbf29ce484222325
    for byte in data[start:at + 1]:
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    print('0x%016Xu' % h)


if __name__ == '__main__':
    main()
