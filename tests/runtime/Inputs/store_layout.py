"""Read a device image that store_driver.c's `dump` wrote, by the layout
that dcc_store.h and docs/runtime.md document, and check every field with
Python's own means (struct, zlib.crc32) rather than dcc_store's.

Usage: store_layout.py IMAGE DRIVER_OUTPUT HEADER
  IMAGE          the device's bytes (bank A at 0, bank B at bank_b)
  DRIVER_OUTPUT  the dump's standard output: the signature, real size,
                 n_params, n_state, then the values of the two saves
  HEADER         dcc's five_points.h, whose FIVE_POINTS_SIGNATURE the
                 banks must carry
Prints one line per bank and "layout: ok", or what differs (exit 1)."""

import re
import struct
import sys
import zlib

HEADER_SIZE = 32
MAGIC = b'dccW'


def main():
    image_path, out_path, header_path = sys.argv[1:4]
    image = open(image_path, 'rb').read()
    lines = open(out_path).read().split('\n')
    meta = next(l for l in lines if l.startswith('signature '))
    fields = dict(zip(meta.split()[0::2], meta.split()[1::2]))
    real_size = int(fields['real_size'])
    bank_b = int(fields['bank_b'])
    n_params, n_state = int(fields['n_params']), int(fields['n_state'])
    values = [[float(v) for v in l.split()[1:]] for l in lines if l.startswith('values ')]
    m = re.search(r'#define FIVE_POINTS_SIGNATURE\s+0x([0-9A-Fa-f]+)u', open(header_path).read())
    signature = int(m.group(1), 16)
    errors = []

    def check(what, ok):
        if not ok:
            errors.append(what)

    check('the driver printed the header\'s signature', int(fields['signature'], 16) == signature)
    fmt = '<%d%s' % (n_params + n_state, 'f' if real_size == 4 else 'd')
    for bank, (offset, seq) in enumerate([(0, 0), (bank_b, 1)]):
        h = image[offset:offset + HEADER_SIZE]
        version, rsize, sig, sequence, np_, ns, payload_crc, header_crc = struct.unpack('<HHIIIIII', h[:28])
        payload = image[offset + HEADER_SIZE:offset + HEADER_SIZE + (np_ + ns) * rsize]
        name = 'AB'[bank]
        check('%s: magic' % name, h[28:32] == MAGIC)
        check('%s: version 1' % name, version == 1)
        check('%s: real size' % name, rsize == real_size)
        check('%s: signature' % name, sig == signature)
        check('%s: sequence %d' % (name, seq), sequence == seq)
        check('%s: n_params, n_state' % name, (np_, ns) == (n_params, n_state))
        check('%s: payload CRC is zlib.crc32 of the payload' % name, payload_crc == zlib.crc32(payload))
        check('%s: header CRC is zlib.crc32 of bytes 0..23' % name, header_crc == zlib.crc32(h[:24]))
        check('%s: the payload holds the saved values' % name, list(struct.unpack(fmt, payload)) == values[bank])
        print('bank %s: version %d, real_size %d, signature %08X, sequence %d, n_params %d, n_state %d, '
              'payload %d bytes, CRCs %08X %08X' % (name, version, rsize, sig, sequence, np_, ns, len(payload),
                                                    payload_crc, header_crc))
    for e in errors:
        print('layout: differs: ' + e)
    print('layout: ok' if not errors else 'layout: %d differences' % len(errors))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
