/* mlp_4_8_8_1.expr by hand: a 4-8-8-1 MLP, two tanh hidden layers and a
   linear output, squared error against one target; the hand-written
   baseline that `make bench` sets against dcc's output.

     h1 = tanh(W1 x + b1)   h2 = tanh(W2 h1 + b2)
     loss = (w3 . h2 + b3 - y)^2

   Each layer's pre-activations are computed before its tanh calls, so the
   layer's input stays in registers; the dot products sum even and odd
   terms separately (two lanes of one SSE register).  The forward pass keeps
   h1 and h2, the backward pass takes tanh' from them as 1 - h*h.
   Params, row-major: W1[8][4] b1[8] W2[8][8] b2[8] w3[8] b3; inputs: x[4] y. */
#include <math.h>

#include "net.h"

#define NX 4
#define NH 8

#define W1 0
#define B1 (W1 + NH * NX)
#define W2 (B1 + NH)
#define B2 (W2 + NH * NH)
#define W3 (B2 + NH)
#define B3 (W3 + NH)

static inline net_real dot4(const net_real *a, const net_real *b)
{
    return (a[0] * b[0] + a[2] * b[2]) + (a[1] * b[1] + a[3] * b[3]);
}

static inline net_real dot8(const net_real *a, const net_real *b)
{
    net_real e = a[0] * b[0], o = a[1] * b[1];
    for (int j = 2; j < 8; j += 2) {
        e += a[j] * b[j];
        o += a[j + 1] * b[j + 1];
    }
    return e + o;
}

/* The forward pass: h1 and h2, and the error w3 . h2 + b3 - y. */
static inline net_real forward(const net_real *restrict in, const net_real *restrict p,
                               net_real *restrict h1, net_real *restrict h2)
{
    net_real s[NH];
    for (int i = 0; i < NH; i++)
        s[i] = p[B1 + i] + dot4(p + W1 + i * NX, in);
    for (int i = 0; i < NH; i++)
        h1[i] = tanh(s[i]);
    for (int i = 0; i < NH; i++)
        s[i] = p[B2 + i] + dot8(p + W2 + i * NH, h1);
    for (int i = 0; i < NH; i++)
        h2[i] = tanh(s[i]);
    return (p[B3] + dot8(p + W3, h2)) - in[NX];
}

net_real net_loss(const net_real *in, const net_real *p)
{
    net_real h1[NH], h2[NH];
    const net_real e = forward(in, p, h1, h2);
    return e * e;
}

net_real net_loss_grad(const net_real *restrict in, const net_real *restrict p, net_real *restrict grad)
{
    net_real h1[NH], h2[NH], d1[NH], d2[NH];
    const net_real e = forward(in, p, h1, h2);
    const net_real dout = e + e;

    grad[B3] = dout;
    for (int i = 0; i < NH; i++) {
        grad[W3 + i] = dout * h2[i];
        d2[i] = dout * p[W3 + i] * (1.0 - h2[i] * h2[i]);
        grad[B2 + i] = d2[i];
        d1[i] = 0.0;
    }
    for (int i = 0; i < NH; i++) {
        const net_real *w = p + W2 + i * NH;
        net_real *g = grad + W2 + i * NH;
        for (int j = 0; j < NH; j++) {
            g[j] = d2[i] * h1[j];
            d1[j] += w[j] * d2[i];
        }
    }
    for (int i = 0; i < NH; i++) {
        const net_real d = d1[i] * (1.0 - h1[i] * h1[i]);
        net_real *g = grad + W1 + i * NX;
        grad[B1 + i] = d;
        for (int j = 0; j < NX; j++)
            g[j] = d * in[j];
    }
    return e * e;
}
