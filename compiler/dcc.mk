# dcc.mk — build the C of dcc models in a Makefile (GNU make).
#
#   include /usr/local/share/dcc/dcc.mk      # after setting DCC, if at all
#
#   prog: main.o net_grad.o
#   	$(CC) -o $@ main.o net_grad.o -lm     # add -ldccrt to train with the runtime
#   main.o: main.c net_grad.h
#
# makes net_grad.c and net_grad.h from net.expr, beside it, with one dcc
# run (a pattern rule with two targets is one recipe for both), and again
# whenever net.expr or the dcc binary is newer than them; make's own rule
# compiles net_grad.o and main.o, and prog's recipe links them.  main.o
# must name net_grad.h: that is what makes the header before main.c is
# compiled.  (tests/docs/dcc-mk-example.test builds this example.)
#
# Variables (set them before the include line, or on make's command line):
#   DCC          the compiler (default: dcc, looked up on PATH); its path is a
#                prerequisite of every generated file, so a new dcc
#                regenerates them
#   DCCFLAGS     options for every model (e.g. --real float)
#   DCCFLAGS_net options for net.expr only (e.g. --prefix model --wrt x1,x2)

DCC ?= dcc
DCCFLAGS ?=

# The binary that $(DCC) runs, for the prerequisite lists (empty when it is
# not installed: the recipe then fails with the shell's message).
DCC_BIN := $(shell command -v $(DCC) 2>/dev/null)

%_grad.c %_grad.h: %.expr $(DCC_BIN)
	$(DCC) $(DCCFLAGS) $(DCCFLAGS_$(notdir $*)) $< -o $*_grad.c

# Kept when make reaches them through a chain (prog: net_grad.o, with no
# mention of net_grad.c): generated files are worth keeping, and dcc writes
# them whole or not at all.
.PRECIOUS: %_grad.c %_grad.h
