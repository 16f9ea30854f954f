#!/usr/bin/env python3
"""Stop dcc by a signal while it is writing its outputs, and check that it
leaves no temporary file behind and the files it was replacing untouched.

    interrupt.py SIGNAL DCC MODEL DIR

DIR must be an empty folder.  It gets a FIFO, DIR/out.c, and an existing
header DIR/out.h; dcc runs as `DCC MODEL --header DIR/out.h -o DIR/out.c`.
The header is staged first, as a temporary file beside it; the source is
written in place into the FIFO (not a regular file), and opening a FIFO
waits for a reader.  So once the temporary exists dcc is waiting inside its
commit, mid-write: this script sends SIGNAL then (INT, TERM, HUP), or for
PIPE opens the FIFO, reads a little and closes it, so that dcc's write
gets SIGPIPE.  Then it checks that

  - dcc ended by that signal (not by an exit status: the handler removes
    the temporaries and lets the signal end the process),
  - DIR holds exactly out.c (the FIFO) and out.h, and out.h is unchanged.

Prints "interrupt SIGNAL: ok" or the reason and exits 1.
"""
import os
import signal
import stat
import subprocess
import sys
import time


def fail(msg):
    print('interrupt %s: FAILED: %s' % (sys.argv[1], msg))
    sys.exit(1)


def main():
    name, dcc, model, folder = sys.argv[1:5]
    sig = getattr(signal, name)
    if os.listdir(folder):
        fail('%s is not empty' % folder)
    fifo = os.path.join(folder, 'out.c')
    header = os.path.join(folder, 'out.h')
    os.mkfifo(fifo)
    with open(header, 'w') as f:
        f.write('the old header\n')
    # dcc as a shell in a terminal starts it: lit ignores SIGINT in its
    # workers, and dcc leaves a signal it inherits ignored ignored.
    def default_signals():
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(s, signal.SIG_DFL)
    proc = subprocess.Popen([dcc, model, '--header', header, '-o', fifo],
                            stderr=subprocess.PIPE, preexec_fn=default_signals)
    deadline = time.time() + 120
    while not [n for n in os.listdir(folder) if 'dcc-' in n]:
        if proc.poll() is not None:
            fail('dcc ended (status %d) before staging the header: %s'
                 % (proc.returncode, proc.stderr.read().decode()))
        if time.time() > deadline:
            proc.kill()
            fail('no temporary file appeared in 120 s')
        time.sleep(0.01)
    # dcc has staged the header; it now writes the source into the FIFO,
    # which blocks in open() until a reader comes.
    if sig == signal.SIGPIPE:
        fd = os.open(fifo, os.O_RDONLY)
        os.read(fd, 16)
        os.close(fd)
    else:
        time.sleep(0.2)  # let it reach the FIFO's open(): either way it must clean up
        proc.send_signal(sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail('dcc did not end after the signal')
    err = proc.stderr.read().decode()
    if proc.returncode != -sig:
        fail('dcc ended with status %d, not by %s; stderr: %s' % (proc.returncode, name, err))
    left = sorted(os.listdir(folder))
    if left != ['out.c', 'out.h']:
        fail('the folder holds %s, not just out.c and out.h' % left)
    if not stat.S_ISFIFO(os.stat(fifo).st_mode):
        fail('out.c is no longer the FIFO')
    with open(header) as f:
        if f.read() != 'the old header\n':
            fail('out.h was changed')
    print('interrupt %s: ok' % name)


if __name__ == '__main__':
    main()
