# lit configuration for dcc's test suite (`make test` runs tests/run-tests.sh).
#
# Tests are the files ending in .expr (an input with its own `# RUN:` lines)
# or .test (a lit script).  Helpers that are not tests live in folders named
# in config.excludes below: tests/lib/ (drivers, fdcheck) and any `Inputs/`
# folder (inputs that tests read, LLVM's convention), tests/bench/.
#
# Substitutions, for RUN lines:
#   %dcc          build/san/dcc, dcc under ASan+UBSan (env DCC overrides)
#   %dcc-release  build/dcc, the optimised build (env DCC_RELEASE overrides)
#   %cc, %gcc     clang, gcc
#   %strictcc     clang -std=c99 -Wall -Wextra -Werror -pedantic (%strictgcc: gcc)
#   %fdcheck      tests/lib/fdcheck.py, the finite-difference gradient checker
#   %python       the Python running lit
#   %lib          tests/lib (drivers: %strictcc -I%t.dir %t.dir/m.c %lib/x.c -lm)
#   FileCheck, not, count, split-file   from /usr/lib/llvm-14/bin
# Programs built from generated C need -lm.
#
# A sanitizer error in dcc aborts it (a signal, not an exit status), so that
# `not %dcc bad.expr` fails when dcc crashes instead of counting the crash as
# the expected error exit.

import os
import shutil
import sys

import lit.formats

config.name = 'dcc'
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = ['.expr', '.test']
config.excludes = ['lib', 'Inputs', 'bench']

tests_dir = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(tests_dir)
config.test_source_root = tests_dir
config.test_exec_root = os.path.join(repo, 'build', 'tests')

llvm_bin = '/usr/lib/llvm-14/bin'


def tool(name):
    """Absolute path of an LLVM test tool, from llvm-14's bin or from PATH."""
    path = os.path.join(llvm_bin, name)
    if os.access(path, os.X_OK):
        return path
    found = shutil.which(name)
    if found:
        return found
    lit_config.warning('%s not found (install llvm-14-tools)' % name)
    return name


def program(name):
    found = shutil.which(name)
    if not found:
        lit_config.warning('%s not found on PATH' % name)
        return name
    return found


dcc = os.environ.get('DCC') or os.path.join(repo, 'build', 'san', 'dcc')
dcc_release = os.environ.get('DCC_RELEASE') or os.path.join(repo, 'build', 'dcc')
dcc = os.path.abspath(dcc)
dcc_release = os.path.abspath(dcc_release)
for path in (dcc, dcc_release):
    if not os.access(path, os.X_OK):
        lit_config.warning('%s is not built (make build/dcc build/san/dcc)' % path)

strict = '-std=c99 -Wall -Wextra -Werror -pedantic'
clang = program('clang')
gcc = program('gcc')
python = sys.executable

# Order matters: a pattern that is a prefix of another comes after it.
config.substitutions.append(('%dcc-release', dcc_release))
config.substitutions.append(('%dcc', dcc))
config.substitutions.append(('%strictcc', '%s %s' % (clang, strict)))
config.substitutions.append(('%strictgcc', '%s %s' % (gcc, strict)))
config.substitutions.append(('%fdcheck', '%s %s --dcc %s' % (
    python, os.path.join(tests_dir, 'lib', 'fdcheck.py'), dcc)))
config.substitutions.append(('%loopcheck', '%s %s --dcc %s' % (
    python, os.path.join(tests_dir, 'lib', 'loopcheck.py'), dcc)))
config.substitutions.append(('%python', python))
config.substitutions.append(('%lib', os.path.join(tests_dir, 'lib')))
# The repository root, the runtime's sources and the built examples
# (make test builds every example before lit runs).
repo_dir = os.path.dirname(tests_dir)
config.substitutions.append(('%repo', repo_dir))
config.substitutions.append(('%runtime', os.path.join(repo_dir, 'runtime')))
config.substitutions.append(('%examples', os.path.join(repo_dir, 'build', 'examples')))
config.substitutions.append(('%gcc', gcc))
config.substitutions.append(('%cc', clang))
# Bare tool names, as whole words only (not inside paths or options).
for name in ('FileCheck', 'not', 'count', 'split-file'):
    config.substitutions.append(
        (r'(?<![-\w./%%])%s(?![-\w./])' % name.replace('-', r'\-'), tool(name)))

# Sanitizer reports end the process with abort() (see above); leaks are not
# errors (dcc may keep its arena until exit).
config.environment['ASAN_OPTIONS'] = \
    'halt_on_error=1:abort_on_error=1:detect_leaks=0:disable_coredump=1'
config.environment['UBSAN_OPTIONS'] = \
    'halt_on_error=1:abort_on_error=1:print_stacktrace=1:disable_coredump=1'
symbolizer = os.path.join(llvm_bin, 'llvm-symbolizer')
if os.access(symbolizer, os.X_OK):
    config.environment['ASAN_SYMBOLIZER_PATH'] = symbolizer
# Output must not depend on the locale: run everything in the C locale.
config.environment['LC_ALL'] = 'C'
for var in ('HOME',):
    if var in os.environ:
        config.environment[var] = os.environ[var]

# Features for `REQUIRES:` lines of tests that need an optional tool.
# cmake, pkg-config: tests/install/ (a user's build against an installed dcc).
for name in ('valgrind', 'arm-none-eabi-gcc', 'qemu-system-arm', 'cmake', 'pkg-config'):
    if shutil.which(name):
        config.available_features.add(name)

# The firmware test (tests/firmware/) needs Debian's gcc-arm-none-eabi,
# libnewlib-arm-none-eabi and qemu-system-arm; without them it is
# UNSUPPORTED, and run-tests.sh says so.
def _newlib():
    arm = shutil.which('arm-none-eabi-gcc')
    if not arm:
        return False
    import subprocess
    specs = subprocess.run([arm, '-print-file-name=rdimon.specs'], capture_output=True, text=True).stdout.strip()
    return os.path.isfile(specs)


if _newlib() and shutil.which('qemu-system-arm'):
    config.available_features.add('firmware')

# The PyTorch cross-check (tests/examples/python-torch.test) needs a python3
# that can import torch: Debian's python3-torch is for /usr/bin/python3,
# which need not be the python3 first on PATH.  %{python-torch} is that
# python3; without one the test is UNSUPPORTED, and run-tests.sh says so.
def _torch_python():
    import subprocess
    for candidate in (shutil.which('python3'), '/usr/bin/python3'):
        if candidate and os.access(candidate, os.X_OK) and subprocess.run(
                [candidate, '-c', 'import torch'], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL).returncode == 0:
            return candidate
    return None


_torch_py = _torch_python()
if _torch_py:
    config.available_features.add('torch')
config.substitutions.append((r'%\{python-torch\}', _torch_py or 'python3'))

# The man page's rendering test (tests/compiler/cli/man-page-render.test)
# needs man-db's man and groff (Debian: man-db, groff-base).
for name in ('man', 'groff'):
    if shutil.which(name):
        config.available_features.add(name)
