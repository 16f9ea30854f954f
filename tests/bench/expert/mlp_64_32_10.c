/* mlp_64_32_10.expr by hand: a 64-32-10 MLP (the digits classifier), tanh hidden layer,
   softmax output, cross-entropy on the target t; the hand-written baseline
   that `make bench` sets against dcc's output (the code: tanh_softmax_mlp.h). */
#define NX 64
#define NH 32
#define NZ 10
#include "tanh_softmax_mlp.h"
