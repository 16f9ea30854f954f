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
build/san/dcc: $(SRCS) $(HDRS) | build
	@mkdir -p build/san
	$(CC) $(WARN) $(DEFS) -O1 -g $(SAN) -o $@ $(SRCS) -lm

build:
	@mkdir -p build

test: build/dcc build/san/dcc
	@tests/run-tests.sh

bench: build/dcc
	@tests/bench/run-bench.sh

clean:
	rm -rf build

.PHONY: all test bench clean
