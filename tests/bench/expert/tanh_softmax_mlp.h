/* The hand-written backprop of a tanh MLP with a softmax cross-entropy
   output, NX-NH-NZ (the includer defines the three sizes, NX a multiple of
   16 and NH of 8): make bench's baseline for mlp_64_32_10.expr and
   mlp_784_128_10.expr, which differ in nothing else.

     h = tanh(W1 x + b1)   z = W2 h + b2
     loss = -sum_k t_k log_softmax(z)_k = sum_k t_k (log S - (z_k - m)),
     m = max_k z_k, e_k = exp(z_k - m), S = sum_k e_k

   Backward: dz_k = (sum t) e_k / S - t_k from the forward pass's e_k,
   dW2 = dz h^T, dh = W2^T dz, dpre = dh (1 - h*h), dW1 = dpre x^T.
   Params, row-major: W1[NH][NX] b1[NH] W2[NZ][NH] b2[NZ]; inputs: x[NX] t[NZ]. */
#include <math.h>

#include "net.h"

#define W1 0
#define B1 (W1 + NH * NX)
#define W2 (B1 + NH)
#define B2 (W2 + NZ * NH)

/* y[i] = b[i] + W[i] . x for i < m, W m x n row-major, n a multiple of 8.
   Each row's dot product keeps two partial sums (even and odd j: the two
   lanes of one SSE register) and adds eight products to them per step as a
   tree, so one step has a single dependent add per lane. */
static inline void affine(int m, int n, const net_real *restrict W, const net_real *restrict b,
                          const net_real *restrict x, net_real *restrict y)
{
    for (int i = 0; i < m; i++) {
        const net_real *w = W + i * n;
        net_real a0 = 0, a1 = 0;
        for (int j = 0; j < n; j += 8) {
            a0 += (w[j] * x[j] + w[j + 2] * x[j + 2]) + (w[j + 4] * x[j + 4] + w[j + 6] * x[j + 6]);
            a1 += (w[j + 1] * x[j + 1] + w[j + 3] * x[j + 3]) + (w[j + 5] * x[j + 5] + w[j + 7] * x[j + 7]);
        }
        y[i] = b[i] + (a0 + a1);
    }
}

/* The forward pass: h, e_k = exp(z_k - m), S = sum e_k and T = sum t;
   returns the loss. */
static inline net_real forward(const net_real *restrict in, const net_real *restrict p,
                               net_real *restrict h, net_real *restrict e, net_real *restrict S,
                               net_real *restrict T)
{
    net_real s[NH], z[NZ];
    affine(NH, NX, p + W1, p + B1, in, s);
    for (int i = 0; i < NH; i++)
        h[i] = tanh(s[i]);
    affine(NZ, NH, p + W2, p + B2, h, z);
    net_real m = z[0];
    for (int k = 1; k < NZ; k++)
        m = z[k] > m ? z[k] : m;
    net_real sum = 0, tz = 0, tsum = 0;
    for (int k = 0; k < NZ; k++) {
        const net_real u = z[k] - m;
        e[k] = exp(u);
        sum += e[k];
        tz += in[NX + k] * u;
        tsum += in[NX + k];
    }
    *S = sum;
    *T = tsum;
    return tsum * log(sum) - tz;
}

net_real net_loss(const net_real *in, const net_real *p)
{
    net_real h[NH], e[NZ], S, T;
    return forward(in, p, h, e, &S, &T);
}

net_real net_loss_grad(const net_real *restrict in, const net_real *restrict p, net_real *restrict grad)
{
    net_real h[NH], e[NZ], dz[NZ], dh[NH], S, T;
    const net_real *t = in + NX;
    const net_real loss = forward(in, p, h, e, &S, &T);
    const net_real r = T / S;
    for (int k = 0; k < NZ; k++)
        grad[B2 + k] = dz[k] = e[k] * r - t[k];

    /* dW2 = dz h^T and dh = W2^T dz, one sweep over W2. */
    for (int j = 0; j < NH; j++)
        dh[j] = 0;
    for (int k = 0; k < NZ; k++) {
        const net_real *w = p + W2 + k * NH;
        net_real *g = grad + W2 + k * NH;
        for (int j = 0; j < NH; j++) {
            g[j] = dz[k] * h[j];
            dh[j] += w[j] * dz[k];
        }
    }

    /* dpre = dh (1 - h^2) is db1; dW1 = dpre x^T. */
    for (int i = 0; i < NH; i++)
        grad[B1 + i] = dh[i] * (1.0 - h[i] * h[i]);
    for (int i = 0; i < NH; i++) {
        const net_real d = grad[B1 + i];
        net_real *g = grad + W1 + i * NX;
        for (int j = 0; j < NX; j += 16)
            for (int l = 0; l < 16; l++)
                g[j + l] = d * in[j + l];
    }
    return loss;
}
