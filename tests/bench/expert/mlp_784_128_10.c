/* mlp_784_128_10.expr by hand: a 784-128-10 MLP (MNIST-sized), tanh hidden layer,
   softmax output, cross-entropy on the target t; the hand-written baseline
   that `make bench` sets against dcc's output (the code: tanh_softmax_mlp.h). */
#define NX 784
#define NH 128
#define NZ 10
#include "tanh_softmax_mlp.h"
