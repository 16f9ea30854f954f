#!/bin/sh
# make size: examples/firmware/size.py, after the firmware has run on the board
# (the stack is measured there).
set -e
cd "$(dirname "$0")/../.."
examples/firmware/firmware-test.sh > /dev/null || true
python3 examples/firmware/size.py
