/* cnn_32x32.expr by hand: three blocks of a 3x3 convolution (padding 1),
   relu and 2x2 max pooling on a 32x32 image of 3 channels (8, 16 and 32
   channels: 32x32 -> 16x16 -> 8x8 -> 4x4), a dense layer of 10 logits,
   softmax cross-entropy; the hand-written backprop that `make bench` sets
   against dcc's output (the code: cnn.h).  Each block's backward pass
   makes the pooled derivative of the block below (dx), except the
   first's: the image is an input.
   Params, row-major: K1[8][3][3][3] c1[8] K2[16][8][3][3] c2[16]
   K3[32][16][3][3] c3[32] W[10][512] b[10]; inputs: x[3][32][32] t[10]. */
#include "cnn.h"

#define K1 0
#define C1 (K1 + 8 * 3 * 9)
#define K2 (C1 + 8)
#define C2 (K2 + 16 * 8 * 9)
#define K3 (C2 + 16)
#define C3 (K3 + 32 * 16 * 9)
#define WD (C3 + 32)
#define BD (WD + 10 * 512)
#define T (3 * 32 * 32) /* t's offset in in[] */

net_real net_loss(const net_real *in, const net_real *p)
{
    net_real h1[8 * 16 * 16], h2[16 * 8 * 8], h3[32 * 4 * 4], e[10], S, Tsum;
    block_forward(3, 8, 32, 32, in, p + K1, p + C1, h1, 0);
    block_forward(8, 16, 16, 16, h1, p + K2, p + C2, h2, 0);
    block_forward(16, 32, 8, 8, h2, p + K3, p + C3, h3, 0);
    return head_forward(512, 10, h3, p + WD, p + BD, in + T, e, &S, &Tsum);
}

net_real net_loss_grad(const net_real *restrict in, const net_real *restrict p, net_real *restrict grad)
{
    net_real h1[8 * 16 * 16], h2[16 * 8 * 8], h3[32 * 4 * 4], e[10], S, Tsum;
    net_real d1[8 * 16 * 16], d2[16 * 8 * 8], d3[32 * 4 * 4];
    int a1[8 * 16 * 16], a2[16 * 8 * 8], a3[32 * 4 * 4];
    block_forward(3, 8, 32, 32, in, p + K1, p + C1, h1, a1);
    block_forward(8, 16, 16, 16, h1, p + K2, p + C2, h2, a2);
    block_forward(16, 32, 8, 8, h2, p + K3, p + C3, h3, a3);
    const net_real loss = head_forward(512, 10, h3, p + WD, p + BD, in + T, e, &S, &Tsum);
    head_backward(512, 10, h3, p + WD, in + T, e, S, Tsum, grad + WD, grad + BD, d3);
    block_backward(16, 32, 8, 8, h2, p + K3, a3, d3, grad + K3, grad + C3, d2);
    block_backward(8, 16, 16, 16, h1, p + K2, a2, d2, grad + K2, grad + C2, d1);
    block_backward(3, 8, 32, 32, in, p + K1, a1, d1, grad + K1, grad + C1, 0);
    return loss;
}
