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
Then fine-tuning the pretrained digits MLP on the board (finetune_fw.c):
a training step's RAM for every param, the last layer and the biases,
against issue 19's goal: the last layer's at most a third of every
param's; and the same with the rest of each program's static RAM
(newlib's stdio, malloc and locale state, the same in the three).
size.py --finetune prints the fine-tuning figures as the table of
examples/finetune/README.md.
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
FINETUNE = ('full', 'last', 'bias')  # finetune_fw.c's builds
PROGRAMS = ('five_points', 'digits', 'digits_cnn', 'gesture', 'gesture_large') + tuple('finetune_' + v for v in FINETUNE)
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


def measured_accuracy(name):
    """The held-out accuracies finetune_fw.c printed on the board: {'before':
    (shifted, plain), 'after': (...)}, or None."""
    path = os.path.join(FW, 'test', name + '.arm.txt')
    if not os.path.exists(path):
        return None
    acc = {}
    for line in open(path):
        m = re.match(r'(before|after): held-out accuracy ([0-9.]+) shifted .*, ([0-9.]+) plain', line)
        if m:
            acc[m.group(1)] = (m.group(2), m.group(3))
    return acc if len(acc) == 2 else None


def finetune_rows():
    """For each of finetune_fw.c's builds: the params in RAM (p[]: every
    param, or with --weights and --train the trained ones), flash and
    static RAM, the stack measured for tune_sgd_step, a training step's
    RAM (p[], the sample: in[], 64 pixels and the one-hot label, and the
    stack), the rest of the program's static RAM, the instructions of a
    step and the accuracies."""
    rows = {}
    for v in FINETUNE:
        name = 'finetune_' + v
        elf = os.path.join(FW, name + '.elf')
        params = symbol_bytes(elf, {'p'})
        text, data, bss = size(elf)
        stack = measured_stack(name) or 0
        sample = 74 * 4
        rows[v] = dict(params=params, flash=text + data, static=data + bss, stack=stack, sample=sample,
                       step=params + sample + stack, other=data + bss - params,
                       insns=measured_instructions(name), acc=measured_accuracy(name))
    return rows


def finetune_lines(rows):
    """make size's lines: a fine-tuning step's RAM, and whether the last
    layer's is at most a third of every param's."""
    print("fine-tuning the digits MLP on the board (finetune_fw.c), a training step's RAM:")
    for v in FINETUNE:
        r = rows[v]
        print('  %s (%d params trained): %d bytes: %d of params, %d of sample, %d of stack; '
              "with the program's other static RAM (%d) %d"
              % (v, r['params'] // 4, r['step'], r['params'], r['sample'], r['stack'], r['other'],
                 r['step'] + r['other']))
    full, last = rows['full'], rows['last']
    ok = 3 * last['step'] <= full['step']
    print("last-layer fine-tuning: %.2f of every param's RAM (goal: at most 1/3: %s); "
          "with the other static RAM, %.2f" % (last['step'] / full['step'], 'met' if ok else 'MISSED',
                                                (last['step'] + last['other']) / (full['step'] + full['other'])))
    return ok


def finetune_table(rows):
    """size.py --finetune: the table of examples/finetune/README.md."""
    what = {'full': 'every param', 'last': 'the last layer (`--train W2,b2`)', 'bias': 'the biases (`--train b1,b2`)'}
    print('| trains | params in RAM | flash | RAM (.data + .bss) | stack of a step (measured) '
          '| RAM of a step: params + sample + stack | instructions per step (measured) '
          '| held-out accuracy, shifted: before, after | plain: before, after |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for v in FINETUNE:
        r = rows[v]
        a = r['acc']
        print('| %s | %d | %d | %d | %d | %d | %s | %s | %s |'
              % (what[v], r['params'] // 4, r['flash'], r['static'], r['stack'], r['step'],
                 r['insns'] if r['insns'] is not None else 'run make firmware-test',
                 '%s, %s' % (a['before'][0], a['after'][0]) if a else 'run make firmware-test',
                 '%s, %s' % (a['before'][1], a['after'][1]) if a else 'run make firmware-test'))
    return 0


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
    ok &= finetune_lines(finetune_rows())
    if calibrated() is False:
        print('size: a SysTick tick is not %d instructions under qemu -icount: the instruction counts are wrong'
              % INSNS_PER_TICK)
        ok = False
    print('size: budgets %s' % ('met' if ok else 'MISSED'))
    return 0 if ok else 1


if __name__ == '__main__':
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))  # FW is relative to the top
    if sys.argv[1:] == ['--finetune']:
        sys.exit(finetune_table(finetune_rows()))
    sys.exit(main())
