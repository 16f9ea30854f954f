#!/usr/bin/env python3
"""make size: what each firmware program costs on the Cortex-M4F.

For each program: flash (.text + .data) and RAM (.data + .bss, and the
stack measured on the board by painting it) of the whole ELF, from
arm-none-eabi-size; then the share of dcc's generated code and the runtime
(from the link map: the input sections of their objects that the linker
kept) and what training needs in RAM, against the budgets of issue 5:
  - five-point trainer: generated code + runtime under 4 KB of flash, under
    1 KB of RAM (the params, gradient and accumulator, and the stack of an
    epoch of dcc_sgd);
  - digits 64-32-10: a training step's RAM (the params, the sample, the
    stack of digits_sgd_step) under 2x the weights' bytes;
and the RAM of a digits CNN training step, which its activations (the
workspace of digits_cnn_sgd_step, on the stack) dominate; and of two
gesture models' steps, against the 64 KB of RAM of a small sensor
microcontroller: the 533-param one fits, the 9446-param one does not.
The stack and instruction figures come from build/firmware/test/*.arm.txt
(make firmware-test writes them) when they are there.  The instructions of
a training step are counted under qemu -icount (firmware-test.sh): SysTick
ticks of the processor clock (25 MHz, 40 ns) while qemu's clock advances
2^ICOUNT_SHIFT ns per instruction, so a tick is 40 / 2^ICOUNT_SHIFT
instructions.
"""
import os
import re
import subprocess
import sys

FW = 'build/firmware'
PROGRAMS = ('five_points', 'digits', 'digits_cnn', 'gesture', 'gesture_large')
DEVICE = 64 * 1024  # the RAM of a small sensor MCU
ICOUNT_SHIFT = 3  # firmware-test.sh's qemu -icount shift
NS_PER_TICK = 40  # mps2-an386's 25 MHz processor clock
INSNS_PER_TICK = NS_PER_TICK // (1 << ICOUNT_SHIFT)


def size(elf):
    out = subprocess.run(['arm-none-eabi-size', '-A', elf], capture_output=True, text=True, check=True).stdout
    sec = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[1].isdigit():
            sec[f[0]] = int(f[1])
    text = sec.get('.text', 0) + sec.get('.ARM.exidx', 0)
    return text, sec.get('.data', 0), sec.get('.bss', 0)


def kept(mapfile, objects):
    """Bytes of flash and RAM the linker kept from the given objects."""
    flash = ram = 0
    pending = None
    in_memory_map = False
    for line in open(mapfile):
        if line.startswith('Linker script and memory map'):
            in_memory_map = True
            continue
        if not in_memory_map:
            continue
        m = re.match(r'^ (\.\S+)\s*$', line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r'^ (\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)\s*$', line)
        if m:
            name = m.group(1) or pending
            pending = None
            if os.path.basename(m.group(4)) not in objects or not name:
                continue
            n = int(m.group(3), 16)
            if name.startswith(('.text', '.rodata')):
                flash += n
            elif name.startswith('.data'):
                flash += n
                ram += n
            elif name.startswith('.bss') or name.startswith('COMMON'):
                ram += n
        else:
            pending = None
    return flash, ram


def symbol_bytes(elf, names):
    out = subprocess.run(['arm-none-eabi-nm', '-S', elf], capture_output=True, text=True, check=True).stdout
    total = 0
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[3] in names:
            total += int(f[1], 16)
    return total


def measured_stack(name):
    path = os.path.join(FW, 'test', name + '.arm.txt')
    if not os.path.exists(path):
        return None
    for line in open(path):
        m = re.match(r'stack: .*: (\d+) bytes', line)
        if m:
            return int(m.group(1))
    return None


def measured_instructions(name):
    """Instructions per training step: the ticks: line's ticks over its
    steps, as instructions (INSNS_PER_TICK, which five_points' calibration
    line checks)."""
    path = os.path.join(FW, 'test', name + '.arm.txt')
    if not os.path.exists(path):
        return None
    for line in open(path):
        m = re.match(r'ticks: .*: (\d+) SysTick ticks in (\d+) steps', line)
        if m:
            return int(m.group(1)) * INSNS_PER_TICK // int(m.group(2))
    return None


def calibrated():
    """Whether five_points' calibration line (the ticks of 200000
    instructions) agrees with INSNS_PER_TICK; None when it is not there."""
    path = os.path.join(FW, 'test', 'five_points.arm.txt')
    if not os.path.exists(path):
        return None
    for line in open(path):
        m = re.match(r'ticks: calibration: (\d+) SysTick ticks for (\d+) instructions', line)
        if m:
            # within 2 ticks: each of the two loops' counts is whole ticks
            return abs(int(m.group(1)) * INSNS_PER_TICK - int(m.group(2))) <= 2 * INSNS_PER_TICK
    return None


def step_line(name, label, n_in, budget=True, device=None):
    """A training step's RAM on the board: the params, the sample (in[],
    on main's stack) and the stack measured for the fused step (with its
    workspace: the activations); its budget, where it has one, is twice
    the weights; with device (bytes), whether it fits a device's RAM."""
    weights = symbol_bytes(os.path.join(FW, name + '.elf'), {'p'})
    stack = measured_stack(name) or 0
    sample = n_in * 4
    ram = weights + sample + stack
    if device:
        verdict = ('fits a %d KB device' if ram <= device else 'more than a %d KB device has') % (device // 1024)
    elif budget:
        verdict = '(budget: 2 x %d = %d)' % (weights, 2 * weights)
    else:
        verdict = '(the activations: no budget)'
    print('%s training step: %d bytes of RAM: %d of weights, %d of sample, %d of stack%s %s'
          % (label, ram, weights, sample, stack, ':' if device else '', verdict))
    return not budget or ram < 2 * weights


def main():
    rows = []
    for prog in PROGRAMS:
        text, data, bss = size(os.path.join(FW, prog + '.elf'))
        rows.append((prog, text + data, data + bss, measured_stack(prog), measured_instructions(prog)))
    print('| program | flash (.text + .data) | RAM (.data + .bss) | stack of training (measured) '
          '| instructions per training step (measured) |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for prog, flash, ram, stack, insns in rows:
        print('| %s.elf | %d | %d | %s | %s |' % (prog, flash, ram,
                                                   '%d' % stack if stack is not None else 'run make firmware-test',
                                                   '%d' % insns if insns is not None else 'run make firmware-test'))
    print()
    ok = True
    # five-point: generated code + runtime
    flash, ram = kept(os.path.join(FW, 'five_points.map'), {'five_points.o', 'dcc_train.o'})
    buffers = symbol_bytes(os.path.join(FW, 'five_points.elf'), {'p', 'grad', 'acc'})
    stack = measured_stack('five_points') or 0
    total_ram = ram + buffers + stack
    print('five-point trainer, generated code + runtime: %d bytes of flash (budget 4096), '
          '%d bytes of RAM: %d static, %d of params, gradient and accumulator, %d of stack (budget 1024)'
          % (flash, total_ram, ram, buffers, stack))
    ok &= flash < 4096 and total_ram < 1024
    # digits: a training step (in[]: 64 pixels and the one-hot label)
    ok &= step_line('digits', 'digits 64-32-10', 74)
    ok &= step_line('digits_cnn', 'digits CNN', 74, budget=False)
    # gesture models (in[]: s[3][64] and the one-hot gesture): a step's RAM
    # against a 64 KB device's, not a budget: the large one is there to
    # show where the limit is.
    step_line('gesture', 'gesture (533 params)', 198, budget=False, device=DEVICE)
    step_line('gesture_large', 'gesture_large (9446 params)', 198, budget=False, device=DEVICE)
    if calibrated() is False:
        print('size: a SysTick tick is not %d instructions under qemu -icount: the instruction counts are wrong'
              % INSNS_PER_TICK)
        ok = False
    print('size: budgets %s' % ('met' if ok else 'MISSED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
