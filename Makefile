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

# The same compiler under AddressSanitizer and UBSan, checking that each
# function's schedule leaves the shared per-node arrays as it found them
# (sched.c, "the pool"): the test suite runs it.
build/san/dcc: $(SRCS) $(HDRS) tests/lib/asan_options.c | build
	@mkdir -p build/san
	$(CC) $(WARN) $(DEFS) -DDCC_CHECK_POOL -O1 -g $(SAN) -o $@ $(SRCS) tests/lib/asan_options.c -lm

build:
	@mkdir -p build

# libFuzzer on the whole pipeline (tests/fuzz/fuzz_dcc.c), with ASan and UBSan.
# dcc frees nothing (the process exit does), so in one process memory grows
# run after run: -fork=1 fuzzes in short-lived child processes instead.
# crash-*/oom-* inputs land in build/fuzz/.
FUZZ_SECONDS ?= 60
build/fuzz/fuzz_dcc: $(SRCS) $(HDRS) tests/fuzz/fuzz_dcc.c tests/lib/asan_options.c | build
	@mkdir -p build/fuzz
	clang $(WARN) $(DEFS) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -o $@ $(filter-out compiler/main.c,$(SRCS)) tests/fuzz/fuzz_dcc.c tests/lib/asan_options.c -lm

fuzz: build/fuzz/fuzz_dcc
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz_dcc -fork=1 -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
	  -artifact_prefix=build/fuzz/ -close_fd_mask=2 build/fuzz/corpus \
	  tests/compiler/simplify tests/compiler/loops tests/numeric tests/numeric/recurrence tests/compiler/recurrence \
	  examples/five_points examples/multiclass > build/fuzz/log 2>&1; \
	  status=$$?; tail -3 build/fuzz/log; exit $$status

# The fuzz mode that runs the emitted C (tests/fuzz/fuzzrun.py): random
# programs (tests/lib/exprgen.py) and every model of the fuzz corpus and the
# test suite, compiled with ASan + UBSan and run at 8 points each against
# dcc's own evaluator (dcc --eval), for FUZZ_SECONDS; FUZZ_SEED picks the
# first random program (default: from the clock, printed).  Findings land
# in build/fuzz/run/.
fuzz-run: build/dcc
	@mkdir -p build/fuzz/corpus
	tests/fuzz/fuzzrun.py --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)) --dcc build/dcc \
	  --corpus build/fuzz/corpus tests/numeric tests/compiler/simplify tests/compiler/loops examples

test: build/dcc build/san/dcc build/fuzz/fuzz_dcc examples
	@tests/run-tests.sh

# The examples: examples/NAME/ holds NAME's models (*.expr), its driver (*.c)
# and its data; build/examples/NAME/NAME is the program, linked with the C
# that dcc makes of each model and with the runtime.  MODEL.dccflags beside
# MODEL.expr holds extra dcc options for it (--wrt x, --real float).  Data
# files (*.csv, plain text: no gzip needed) are copied beside the program.
# Every example also links examples/common/ (the demo tooling the examples
# share: SVG pictures, the progress line, command-line numbers), which is
# not part of the runtime.
# Not built here: firmware (make firmware), make_project and cmake_project
# (a user's Make and CMake builds against an installed dcc: tests/install/),
# python and common.
EXAMPLES     := $(filter-out firmware make_project cmake_project python common,$(notdir $(patsubst %/,%,$(wildcard examples/*/))))
RUNTIME_SRCS := $(wildcard runtime/*.c)
RUNTIME_HDRS := $(wildcard runtime/*.h)
COMMON_SRCS  := $(wildcard examples/common/*.c)
COMMON_HDRS  := $(wildcard examples/common/*.h)
EXAMPLE_CFLAGS = -std=c99 -O2 -Wall -Wextra -Werror -pedantic

define example_rule
build/examples/$(1)/$(1): build/dcc $(wildcard examples/$(1)/*) $(RUNTIME_SRCS) $(RUNTIME_HDRS) $(COMMON_SRCS) $(COMMON_HDRS)
	@mkdir -p build/examples/$(1)
	@for f in examples/$(1)/*.expr; do \
	  build/dcc $$$$f $$$$(cat $$$${f%.expr}.dccflags 2>/dev/null) -o build/examples/$(1)/$$$$(basename $$$$f .expr).c || exit 1; done
	@for f in $$(wildcard examples/$(1)/*.csv); do cp $$$$f build/examples/$(1)/ || exit 1; done
	$(CC) $(EXAMPLE_CFLAGS) -Iruntime -Iexamples/common -Ibuild/examples/$(1) -o $$@ $$(wildcard examples/$(1)/*.c) \
	  $$(patsubst examples/$(1)/%.expr,build/examples/$(1)/%.c,$$(wildcard examples/$(1)/*.expr)) $(RUNTIME_SRCS) \
	  $(COMMON_SRCS) -lm
endef
$(foreach e,$(EXAMPLES),$(eval $(call example_rule,$(e))))

examples: $(foreach e,$(EXAMPLES),build/examples/$(e)/$(e))

# Firmware (examples/firmware/): the five-point trainer, a digits
# classifier, a digits CNN, training steps of two gesture models and the
# fine-tuning of examples/finetune (below) for a Cortex-M4F (float code,
# newlib, semihosting), each also built for the
# host from the same sources.  Needs Debian's
# gcc-arm-none-eabi and libnewlib-arm-none-eabi (make installs nothing);
# firmware-test runs them under qemu-system-arm and compares with the host.
FW          = build/firmware
FW_CC       = arm-none-eabi-gcc
FW_ARCH     = -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -mthumb
FW_WARN     = -std=c99 -Wall -Wextra -Werror -Wdouble-promotion -Wfloat-conversion
FW_CFLAGS   = $(FW_ARCH) -Os $(FW_WARN) -DDCC_TRAIN_REAL=float -ffunction-sections -fdata-sections \
              -fstack-usage -Iruntime -I$(FW) -Iexamples/firmware
FW_LDFLAGS  = $(FW_ARCH) --specs=rdimon.specs -T examples/firmware/mps2.ld -Wl,--gc-sections
FW_HOST     = $(CC) -O2 $(FW_WARN) -pedantic -DDCC_TRAIN_REAL=float -Iruntime -I$(FW) -Iexamples/firmware
FW_DIGITS   = 1000 300 # training and held-out images compiled into flash

$(FW)/five_points.c: build/dcc examples/five_points/five_points.expr
	@mkdir -p $(FW)
	build/dcc examples/five_points/five_points.expr --real float -o $@
$(FW)/digits.c: build/dcc examples/multiclass/digits.expr
	@mkdir -p $(FW)
	build/dcc examples/multiclass/digits.expr --real float -o $@
$(FW)/digits_cnn.c: build/dcc examples/digits_cnn/digits_cnn.expr
	@mkdir -p $(FW)
	build/dcc examples/digits_cnn/digits_cnn.expr --real float -o $@
$(FW)/gesture.c: build/dcc examples/gesture/gesture.expr
	@mkdir -p $(FW)
	build/dcc examples/gesture/gesture.expr --real float -o $@
$(FW)/gesture_large.c: build/dcc examples/firmware/gesture_large.expr
	@mkdir -p $(FW)
	build/dcc examples/firmware/gesture_large.expr --real float -o $@
$(FW)/digits_data.c: examples/firmware/digits_data.sh examples/multiclass/digits.csv
	@mkdir -p $(FW)
	examples/firmware/digits_data.sh examples/multiclass/digits.csv $(FW_DIGITS) $(FW)
$(FW)/%.o: $(FW)/%.c
	$(FW_CC) $(FW_CFLAGS) -c $< -o $@
$(FW)/dcc_train.o: runtime/dcc_train.c $(RUNTIME_HDRS)
	@mkdir -p $(FW)
	$(FW_CC) $(FW_CFLAGS) -c $< -o $@
# Weights in flash (dcc_store): compiled for the board, linked into no
# program here (tests/runtime/store-cortex-m4.test checks the object,
# store-qemu.test runs dcc_store's tests on the emulated board).
$(FW)/dcc_store.o: runtime/dcc_store.c $(RUNTIME_HDRS)
	@mkdir -p $(FW)
	$(FW_CC) $(FW_CFLAGS) -c $< -o $@
$(FW)/%_fw.o: examples/firmware/%_fw.c examples/firmware/fw_stack.h examples/firmware/fw_ticks.h \
              examples/firmware/gesture_fw.c $(FW)/five_points.c $(FW)/digits.c $(FW)/digits_cnn.c \
              $(FW)/digits_data.c $(FW)/gesture.c $(FW)/gesture_large.c $(RUNTIME_HDRS)
	$(FW_CC) $(FW_CFLAGS) -c $< -o $@
$(FW)/startup.o: examples/firmware/startup.c
	@mkdir -p $(FW)
	$(FW_CC) $(FW_CFLAGS) -c $< -o $@
$(FW)/five_points.elf: $(FW)/startup.o $(FW)/five_points_fw.o $(FW)/five_points.o $(FW)/dcc_train.o \
                       examples/firmware/mps2.ld
	$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(FW)/five_points.map -o $@ $(filter %.o,$^) -lm
$(FW)/digits.elf: $(FW)/startup.o $(FW)/digits_fw.o $(FW)/digits.o $(FW)/digits_data.o examples/firmware/mps2.ld
	$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(FW)/digits.map -o $@ $(filter %.o,$^) -lm
$(FW)/digits_cnn.elf: $(FW)/startup.o $(FW)/digits_cnn_fw.o $(FW)/digits_cnn.o $(FW)/digits_data.o \
                      examples/firmware/mps2.ld
	$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(FW)/digits_cnn.map -o $@ $(filter %.o,$^) -lm
$(FW)/gesture.elf: $(FW)/startup.o $(FW)/gesture_fw.o $(FW)/gesture.o examples/firmware/mps2.ld
	$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(FW)/gesture.map -o $@ $(filter %.o,$^) -lm
$(FW)/gesture_large.elf: $(FW)/startup.o $(FW)/gesture_large_fw.o $(FW)/gesture_large.o examples/firmware/mps2.ld
	$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(FW)/gesture_large.map -o $@ $(filter %.o,$^) -lm
$(FW)/five_points_host: examples/firmware/five_points_fw.c $(FW)/five_points.c runtime/dcc_train.c $(RUNTIME_HDRS)
	$(FW_HOST) -o $@ examples/firmware/five_points_fw.c $(FW)/five_points.c runtime/dcc_train.c -lm
$(FW)/digits_host: examples/firmware/digits_fw.c $(FW)/digits.c $(FW)/digits_data.c
	$(FW_HOST) -o $@ examples/firmware/digits_fw.c $(FW)/digits.c $(FW)/digits_data.c -lm
$(FW)/digits_cnn_host: examples/firmware/digits_cnn_fw.c $(FW)/digits_cnn.c $(FW)/digits_data.c
	$(FW_HOST) -o $@ examples/firmware/digits_cnn_fw.c $(FW)/digits_cnn.c $(FW)/digits_data.c -lm
$(FW)/gesture_host: examples/firmware/gesture_fw.c $(FW)/gesture.c
	$(FW_HOST) -o $@ examples/firmware/gesture_fw.c $(FW)/gesture.c -lm
$(FW)/gesture_large_host: examples/firmware/gesture_large_fw.c examples/firmware/gesture_fw.c $(FW)/gesture_large.c
	$(FW_HOST) -o $@ examples/firmware/gesture_large_fw.c $(FW)/gesture_large.c -lm

# Fine-tuning on the board (finetune_fw.c): the digits MLP of
# examples/finetune, pretrained on the host (its --export writes the
# weights), compiled with those weights three ways into
# $(FW)/finetune_VARIANT/tune.c (--prefix tune): every param (full), the
# last layer and the biases (--train, examples/finetune/VARIANT.dccflags;
# full has none).  The board fine-tunes on FT_TRAIN images of the rows
# the host trained on, shifted, and tests on the rows it held out.
FT_VARIANTS = full last bias
FT_TRAIN    = 500 # training images compiled into flash (and the 359 held out)
$(FW)/finetune.weights: build/examples/finetune/finetune examples/multiclass/digits.csv
	@mkdir -p $(FW)
	build/examples/finetune/finetune --quiet --data examples/multiclass/digits.csv --export $@ > /dev/null
$(FW)/finetune_%/tune.c: build/dcc examples/finetune/digits.expr $(wildcard examples/finetune/*.dccflags) \
                         $(FW)/finetune.weights
	@mkdir -p $(@D)
	build/dcc examples/finetune/digits.expr $$(cat examples/finetune/$*.dccflags 2>/dev/null) \
	  --weights $(FW)/finetune.weights --real float --prefix tune -o $@
$(FW)/finetune_data.c: examples/firmware/finetune_data.sh examples/multiclass/digits.csv
	@mkdir -p $(FW)
	examples/firmware/finetune_data.sh examples/multiclass/digits.csv $(FT_TRAIN) $(FW)
$(FW)/finetune_%/finetune_fw.o: examples/firmware/finetune_fw.c examples/firmware/fw_stack.h \
                                examples/firmware/fw_ticks.h $(FW)/finetune_%/tune.c $(FW)/finetune_data.c
	$(FW_CC) $(FW_CFLAGS) -I$(FW)/finetune_$* -DFT_NAME='"$*"' -c $< -o $@
$(FW)/finetune_%.elf: $(FW)/startup.o $(FW)/finetune_%/finetune_fw.o $(FW)/finetune_%/tune.o \
                      $(FW)/finetune_data.o examples/firmware/mps2.ld
	$(FW_CC) $(FW_LDFLAGS) -Wl,-Map=$(FW)/finetune_$*.map -o $@ $(filter %.o,$^) -lm
$(FW)/finetune_%_host: examples/firmware/finetune_fw.c $(FW)/finetune_%/tune.c $(FW)/finetune_data.c
	$(FW_HOST) -I$(FW)/finetune_$* -DFT_NAME='"$*"' -o $@ examples/firmware/finetune_fw.c \
	  $(FW)/finetune_$*/tune.c $(FW)/finetune_data.c -lm
.SECONDARY: $(FW)/finetune_data.c $(FW)/finetune_data.o \
            $(foreach v,$(FT_VARIANTS),$(FW)/finetune_$(v)/tune.c $(FW)/finetune_$(v)/tune.o $(FW)/finetune_$(v)/finetune_fw.o)

firmware: $(FW)/five_points.elf $(FW)/digits.elf $(FW)/digits_cnn.elf $(FW)/gesture.elf $(FW)/gesture_large.elf \
          $(FW)/five_points_host $(FW)/digits_host $(FW)/digits_cnn_host $(FW)/gesture_host $(FW)/gesture_large_host \
          $(FW)/dcc_store.o $(foreach v,$(FT_VARIANTS),$(FW)/finetune_$(v).elf $(FW)/finetune_$(v)_host)

# The firmware's compiler flags (for tests that build code the same way).
fw-cflags:
	@echo $(FW_CC) $(FW_CFLAGS)

# Runs the programs under qemu and on the host and compares what they
# print; says so and succeeds when the Arm tools are not installed.
firmware-test:
	@examples/firmware/firmware-test.sh

# Flash and RAM of each firmware program (arm-none-eabi-size, the link
# maps, the stack measured on the board).
size: firmware
	@examples/firmware/size.sh

# The main job end to end: compile an example with dcc, train it, print.
demo: build/examples/five_points/five_points
	build/examples/five_points/five_points build/examples/five_points

# generated/ holds dcc's output for every example (golden files); make test
# fails when it is stale, make golden refreshes it.
golden: build/dcc
	@tests/golden/golden.sh --update build/dcc

bench: build/dcc
	@tests/bench/run-bench.sh

# Install: dcc, its man pages (dcc(1), and dcc-expr(5) for the language),
# the runtime as static libraries (libdccrt.a for double models,
# libdccrt-float.a built with -DDCC_TRAIN_REAL=float
# for --real float ones; their headers in include/dcc/, dccrt.pc and
# dccrt-float.pc for pkg-config), the runtime's portable sources for
# firmware builds (share/dcc/runtime/: dcc_train and dcc_store), dcc.mk for
# a user's Makefile and dccConfig.cmake for CMake's find_package(dcc).
#   make install [PREFIX=/usr/local] [DESTDIR=/staging]
#   make uninstall (the same PREFIX and DESTDIR) removes exactly those files.
PREFIX  ?= /usr/local
DCC_VERSION := $(shell sed -n 's/^.define DCC_VERSION "\(.*\)"/\1/p' compiler/dcc.h)
DCC_MAN1    ?= compiler/dcc.1
DCC_MAN5    ?= compiler/dcc-expr.5
LIBDCCRT_CFLAGS = -std=c99 -O2 -fPIC -Wall -Wextra -Werror -pedantic
INSTALL ?= install
AR      ?= ar

# Written to a temporary and renamed: concurrent `make install`s (the
# tests run in parallel) may build them at the same time.
build/dccrt/%.o: runtime/%.c $(RUNTIME_HDRS)
	@mkdir -p build/dccrt
	$(CC) $(LIBDCCRT_CFLAGS) -c $< -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@
build/dccrt-float/%.o: runtime/%.c $(RUNTIME_HDRS)
	@mkdir -p build/dccrt-float
	$(CC) $(LIBDCCRT_CFLAGS) -DDCC_TRAIN_REAL=float -c $< -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@
build/libdccrt.a: build/dccrt/dcc_train.o build/dccrt/dcc_host.o build/dccrt/dcc_store.o
	rm -f $@.$$$$.tmp && $(AR) rcs $@.$$$$.tmp $^ && mv -f $@.$$$$.tmp $@
build/libdccrt-float.a: build/dccrt-float/dcc_train.o build/dccrt-float/dcc_host.o build/dccrt-float/dcc_store.o
	rm -f $@.$$$$.tmp && $(AR) rcs $@.$$$$.tmp $^ && mv -f $@.$$$$.tmp $@

DCC_INSTALLED = bin/dcc include/dcc/dcc_train.h include/dcc/dcc_host.h include/dcc/dcc_store.h \
  lib/libdccrt.a lib/libdccrt-float.a lib/pkgconfig/dccrt.pc lib/pkgconfig/dccrt-float.pc \
  share/dcc/runtime/dcc_train.c share/dcc/runtime/dcc_train.h \
  share/dcc/runtime/dcc_store.c share/dcc/runtime/dcc_store.h \
  share/man/man1/dcc.1 share/man/man5/dcc-expr.5 share/dcc/dcc.mk lib/cmake/dcc/dccConfig.cmake lib/cmake/dcc/dccConfigVersion.cmake
# The folders that only dcc uses (uninstall removes them when empty), innermost first.
DCC_DIRS = include/dcc share/dcc/runtime share/dcc lib/cmake/dcc

install: build/dcc build/libdccrt.a build/libdccrt-float.a $(DCC_MAN1) $(DCC_MAN5) runtime/dccrt.pc.in \
         runtime/dccrt-float.pc.in compiler/dcc.mk compiler/cmake/dccConfig.cmake \
         compiler/cmake/dccConfigVersion.cmake.in
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/dcc $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/lib/cmake/dcc $(DESTDIR)$(PREFIX)/share/dcc/runtime $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5
	$(INSTALL) -m 755 build/dcc $(DESTDIR)$(PREFIX)/bin/dcc
	$(INSTALL) -m 644 runtime/dcc_train.h runtime/dcc_host.h runtime/dcc_store.h $(DESTDIR)$(PREFIX)/include/dcc
	$(INSTALL) -m 644 build/libdccrt.a $(DESTDIR)$(PREFIX)/lib/libdccrt.a
	$(INSTALL) -m 644 build/libdccrt-float.a $(DESTDIR)$(PREFIX)/lib/libdccrt-float.a
	$(INSTALL) -m 644 runtime/dcc_train.c runtime/dcc_train.h runtime/dcc_store.c runtime/dcc_store.h \
	  $(DESTDIR)$(PREFIX)/share/dcc/runtime
	$(INSTALL) -m 644 $(DCC_MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/dcc.1
	$(INSTALL) -m 644 $(DCC_MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/dcc-expr.5
	$(INSTALL) -m 644 compiler/dcc.mk $(DESTDIR)$(PREFIX)/share/dcc/dcc.mk
	$(INSTALL) -m 644 compiler/cmake/dccConfig.cmake $(DESTDIR)$(PREFIX)/lib/cmake/dcc/dccConfig.cmake
	@tmp=build/install.$$$$; \
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(DCC_VERSION)|g' runtime/dccrt.pc.in > $$tmp.pc && \
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(DCC_VERSION)|g' runtime/dccrt-float.pc.in > $$tmp-float.pc && \
	sed -e 's|@VERSION@|$(DCC_VERSION)|g' compiler/cmake/dccConfigVersion.cmake.in > $$tmp.cmake && \
	$(INSTALL) -m 644 $$tmp.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/dccrt.pc && \
	$(INSTALL) -m 644 $$tmp-float.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/dccrt-float.pc && \
	$(INSTALL) -m 644 $$tmp.cmake $(DESTDIR)$(PREFIX)/lib/cmake/dcc/dccConfigVersion.cmake; \
	status=$$?; rm -f $$tmp.pc $$tmp-float.pc $$tmp.cmake; exit $$status

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(DCC_INSTALLED))
	rmdir $(addprefix $(DESTDIR)$(PREFIX)/,$(DCC_DIRS)) 2>/dev/null || true

.PHONY: install uninstall

clean:
	rm -rf build

.PHONY: all test examples demo golden bench fuzz fuzz-run clean firmware firmware-test size fw-cflags
