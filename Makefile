# dcc — the derivative compiler.  `make` builds build/dcc; `make test` runs
# every test and ends with "N passed, N failed".
ifeq ($(origin CC),default)
CC = clang
endif

# -D_POSIX_C_SOURCE: mkstemp/fchmod/rename for atomic output files.
CFLAGS ?= -O2 -gdwarf-4
# The compiler is C11 (_Noreturn); the code it emits is C99.  DWARF 4:
# valgrind 3.19 cannot read clang 14's default DWARF 5.
WARN    = -std=c11 -Wall -Wextra -Werror -pedantic
DEFS    = -D_POSIX_C_SOURCE=200809L
SAN     = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SRCS = $(wildcard compiler/*.c)
HDRS = $(wildcard compiler/*.h)

all: build/dcc

build/dcc: $(SRCS) $(HDRS) | build
	$(CC) $(WARN) $(DEFS) $(CFLAGS) -o $@ $(SRCS) -lm

# The same compiler under AddressSanitizer and UBSan: the test suite runs it.
build/san/dcc: $(SRCS) $(HDRS) tests/lib/asan_options.c | build
	@mkdir -p build/san
	$(CC) $(WARN) $(DEFS) -O1 -g $(SAN) -o $@ $(SRCS) tests/lib/asan_options.c -lm

build:
	@mkdir -p build

test: build/dcc build/san/dcc
	@tests/run-tests.sh

# The main job end to end: compile an example with dcc, train it, print.
demo: build/dcc
	@mkdir -p build/examples/five_points
	build/dcc examples/five_points/five_points.expr -o build/examples/five_points/five_points.c
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -pedantic -Ibuild/examples/five_points \
	  -o build/examples/five_points/train examples/five_points/train.c \
	  build/examples/five_points/five_points.c -lm
	build/examples/five_points/train

# generated/ holds dcc's output for every example (golden files); make test
# fails when it is stale, make golden refreshes it.
golden: build/dcc
	@tests/golden/golden.sh --update build/dcc

bench: build/dcc
	@tests/bench/run-bench.sh

clean:
	rm -rf build

.PHONY: all test demo golden bench clean
