/* cnn_digits.expr by hand: the digits CNN (the 8x8 image, 8 maps of a 3x3
   convolution with padding 1, relu, 2x2 max pooling, a dense layer of 10
   logits, softmax cross-entropy); the hand-written backprop that `make
   bench` sets against dcc's output (the code: cnn.h).
   Params, row-major: K[8][1][3][3] c[8] W[10][128] b[10]; inputs: x[64] t[10]. */
#include "cnn.h"

#define K0 0
#define C0 (K0 + 8 * 9)
#define WD (C0 + 8)
#define BD (WD + 10 * 128)

net_real net_loss(const net_real *in, const net_real *p)
{
    net_real h[128], e[10], S, T;
    block_forward(1, 8, 8, 8, in, p + K0, p + C0, h, 0);
    return head_forward(128, 10, h, p + WD, p + BD, in + 64, e, &S, &T);
}

net_real net_loss_grad(const net_real *restrict in, const net_real *restrict p, net_real *restrict grad)
{
    net_real h[128], e[10], dh[128], S, T;
    int arg[128];
    block_forward(1, 8, 8, 8, in, p + K0, p + C0, h, arg);
    const net_real loss = head_forward(128, 10, h, p + WD, p + BD, in + 64, e, &S, &T);
    head_backward(128, 10, h, p + WD, in + 64, e, S, T, grad + WD, grad + BD, dh);
    block_backward(1, 8, 8, 8, in, p + K0, arg, dh, grad + K0, grad + C0, 0);
    return loss;
}
