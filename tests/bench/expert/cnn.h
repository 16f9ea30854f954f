/* The hand-written forward and backward passes of a CNN's blocks and its
   softmax cross-entropy head: make bench's baseline for cnn_digits.expr
   and cnn_32x32.expr.  A block is a 3x3 convolution with zero padding 1
   (stride 1, a bias per output channel), relu and 2x2 max pooling:

     a[o][y][x] = c[o] + sum_{i,ki,kj} K[o][i][ki][kj] x[i][y+ki-1][x+kj-1]
     h[o][py][px] = max over the 2x2 window of relu(a)

   Forward, per output channel and pair of output rows: the two rows of a
   are summed in place (a row of W values), starting from the bias, one
   sweep per input row (the three taps of a kernel row in one loop; the
   padding is the loop bounds: a kernel row that falls outside the image
   is skipped, the first and last columns are done apart), or on rows of
   16 and more, away from the top and bottom, one sweep per input channel
   (the nine taps: one load and store of a[j] for nine products).  Relu and
   pooling are fused: relu is monotone, so max(relu(a)) = relu(max(a)),
   and the pooled value's derivative goes to the window's first largest
   element (row-major, as dcc's), or nowhere when that is not positive
   (relu'(a) = 0 there).  The forward pass keeps that flat index into the
   block's a, or -1, per pooled value: the whole of what the backward pass
   needs besides the block's input.

   Backward, per output channel: the pooled values whose derivative goes
   somewhere are listed first (index and derivative; their sum is dc[o]),
   then, per input channel, one pass over the list makes dK[o][i]'s nine
   values in registers and adds g K[o][i] into dx's 3x3 window (the next
   block down's pooled derivative), with the bounds tested only where the
   window touches the border.  Only a quarter of a is ever visited.

   Head: z = W flatten(h) + b, loss = -sum t log_softmax(z); its backward
   is tanh_softmax_mlp.h's (dz = (sum t) e / S - t, one sweep over W for dW
   and W^T dz). */
#include <math.h>

#include "net.h"

#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline)) /* the sizes become constants */
#else
#define INLINE static inline
#endif

#define MAXW 32 /* the widest block */

/* a[j] += k[0] x[j-1] + k[1] x[j] + k[2] x[j+1] for j < W, x zero outside. */
INLINE void row3(int W, net_real *restrict a, const net_real *restrict x, const net_real *restrict k)
{
    const net_real k0 = k[0], k1 = k[1], k2 = k[2];
    a[0] += k1 * x[0] + k2 * x[1];
    for (int j = 1; j < W - 1; j++)
        a[j] += (k0 * x[j - 1] + k1 * x[j]) + k2 * x[j + 1];
    a[W - 1] += k0 * x[W - 2] + k1 * x[W - 1];
}

/* row3 for the three rows x0, x1, x2 and kernel rows k[0..8] at once: one
   load and store of a[j] for nine taps. */
INLINE void row9(int W, net_real *restrict a, const net_real *restrict x0, const net_real *restrict x1,
                 const net_real *restrict x2, const net_real *restrict k)
{
    const net_real k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7],
                   k8 = k[8];
    a[0] += (k1 * x0[0] + k2 * x0[1]) + (k4 * x1[0] + k5 * x1[1]) + (k7 * x2[0] + k8 * x2[1]);
    for (int j = 1; j < W - 1; j++)
        a[j] += ((k0 * x0[j - 1] + k1 * x0[j]) + k2 * x0[j + 1]) + ((k3 * x1[j - 1] + k4 * x1[j]) + k5 * x1[j + 1]) +
                ((k6 * x2[j - 1] + k7 * x2[j]) + k8 * x2[j + 1]);
    a[W - 1] += (k0 * x0[W - 2] + k1 * x0[W - 1]) + (k3 * x1[W - 2] + k4 * x1[W - 1]) +
                (k6 * x2[W - 2] + k7 * x2[W - 1]);
}

/* One block, x[C][H][W] to h[O][H/2][W/2]; arg (when not null) gets the
   flat index into a[o] of each pooled value's derivative, or -1. */
INLINE void block_forward(int C, int O, int H, int W, const net_real *restrict x, const net_real *restrict K,
                          const net_real *restrict c, net_real *restrict h, int *restrict arg)
{
    for (int o = 0; o < O; o++) {
        const net_real *Ko = K + o * C * 9;
        for (int py = 0; py < H / 2; py++) {
            net_real a[2][MAXW];
            for (int r = 0; r < 2; r++) {
                const int y = 2 * py + r;
                const int k0 = y == 0 ? 1 : 0, k1 = y == H - 1 ? 2 : 3;
                for (int j = 0; j < W; j++)
                    a[r][j] = c[o];
                if (W >= 16 && k1 - k0 == 3) /* measured: no gain on rows of 8 */
                    for (int i = 0; i < C; i++) {
                        const net_real *xi = x + (i * H + y - 1) * W;
                        row9(W, a[r], xi, xi + W, xi + 2 * W, Ko + i * 9);
                    }
                else
                    for (int i = 0; i < C; i++)
                        for (int ki = k0; ki < k1; ki++)
                            row3(W, a[r], x + (i * H + y + ki - 1) * W, Ko + (i * 3 + ki) * 3);
            }
            net_real *hr = h + (o * (H / 2) + py) * (W / 2);
            int *ar = arg ? arg + (o * (H / 2) + py) * (W / 2) : 0;
            for (int px = 0; px < W / 2; px++) {
                const int j = 2 * px;
                net_real m = a[0][j];
                int at = 2 * py * W + j;
                if (a[0][j + 1] > m) {
                    m = a[0][j + 1];
                    at = 2 * py * W + j + 1;
                }
                if (a[1][j] > m) {
                    m = a[1][j];
                    at = (2 * py + 1) * W + j;
                }
                if (a[1][j + 1] > m) {
                    m = a[1][j + 1];
                    at = (2 * py + 1) * W + j + 1;
                }
                hr[px] = m > 0 ? m : 0;
                if (ar)
                    ar[px] = m > 0 ? at : -1;
            }
        }
    }
}

/* One block's backward pass from dh[O][H/2][W/2]: dK and dc written, and
   dx[C][H][W] when not null (the block's input is an input of the model
   otherwise). */
INLINE void block_backward(int C, int O, int H, int W, const net_real *restrict x, const net_real *restrict K,
                           const int *restrict arg, const net_real *restrict dh, net_real *restrict dK,
                           net_real *restrict dc, net_real *restrict dx)
{
    enum { P = MAXW / 2 * MAXW / 2 };
    const int np = (H / 2) * (W / 2);
    if (dx)
        for (int k = 0; k < C * H * W; k++)
            dx[k] = 0;
    for (int o = 0; o < O; o++) {
        int at[P];
        net_real g[P], db = 0;
        int n = 0;
        for (int q = 0; q < np; q++) {
            const int a = arg[o * np + q];
            if (a >= 0) {
                at[n] = a;
                g[n] = dh[o * np + q];
                db += g[n];
                n++;
            }
        }
        dc[o] = db;
        for (int i = 0; i < C; i++) {
            const net_real *k = K + (o * C + i) * 9;
            const net_real *xi = x + i * H * W;
            net_real *dxi = dx ? dx + i * H * W : 0;
            net_real s[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
            for (int e = 0; e < n; e++) {
                const int y = at[e] / W, xx = at[e] % W, w0 = at[e] - W - 1;
                const net_real ge = g[e];
                if (y > 0 && y < H - 1 && xx > 0 && xx < W - 1) {
                    for (int ki = 0; ki < 3; ki++)
                        for (int kj = 0; kj < 3; kj++) {
                            s[ki * 3 + kj] += ge * xi[w0 + ki * W + kj];
                            if (dxi)
                                dxi[w0 + ki * W + kj] += ge * k[ki * 3 + kj];
                        }
                } else {
                    const int ki0 = y == 0 ? 1 : 0, ki1 = y == H - 1 ? 2 : 3;
                    const int kj0 = xx == 0 ? 1 : 0, kj1 = xx == W - 1 ? 2 : 3;
                    for (int ki = ki0; ki < ki1; ki++)
                        for (int kj = kj0; kj < kj1; kj++) {
                            s[ki * 3 + kj] += ge * xi[w0 + ki * W + kj];
                            if (dxi)
                                dxi[w0 + ki * W + kj] += ge * k[ki * 3 + kj];
                        }
                }
            }
            for (int t = 0; t < 9; t++)
                dK[(o * C + i) * 9 + t] = s[t];
        }
    }
}

/* The head's forward pass from the flat features h[NF]: e_k = exp(z_k - m),
   S = sum e_k, T = sum t; returns the loss. */
INLINE net_real head_forward(int NF, int NZ, const net_real *restrict h, const net_real *restrict W,
                             const net_real *restrict b, const net_real *restrict t, net_real *restrict e,
                             net_real *restrict S, net_real *restrict T)
{
    net_real z[16];
    for (int k = 0; k < NZ; k++) {
        const net_real *w = W + k * NF;
        net_real a0 = 0, a1 = 0;
        for (int j = 0; j < NF; j += 8) {
            a0 += (w[j] * h[j] + w[j + 2] * h[j + 2]) + (w[j + 4] * h[j + 4] + w[j + 6] * h[j + 6]);
            a1 += (w[j + 1] * h[j + 1] + w[j + 3] * h[j + 3]) + (w[j + 5] * h[j + 5] + w[j + 7] * h[j + 7]);
        }
        z[k] = b[k] + (a0 + a1);
    }
    net_real m = z[0];
    for (int k = 1; k < NZ; k++)
        m = z[k] > m ? z[k] : m;
    net_real sum = 0, tz = 0, tsum = 0;
    for (int k = 0; k < NZ; k++) {
        const net_real u = z[k] - m;
        e[k] = exp(u);
        sum += e[k];
        tz += t[k] * u;
        tsum += t[k];
    }
    *S = sum;
    *T = tsum;
    return tsum * log(sum) - tz;
}

/* The head's backward pass: db, dW written, and dh = W^T dz. */
INLINE void head_backward(int NF, int NZ, const net_real *restrict h, const net_real *restrict W,
                          const net_real *restrict t, const net_real *restrict e, net_real S, net_real T,
                          net_real *restrict dW, net_real *restrict db, net_real *restrict dh)
{
    net_real dz[16];
    const net_real r = T / S;
    for (int k = 0; k < NZ; k++)
        db[k] = dz[k] = e[k] * r - t[k];
    for (int j = 0; j < NF; j++)
        dh[j] = 0;
    for (int k = 0; k < NZ; k++) {
        const net_real *w = W + k * NF;
        net_real *g = dW + k * NF;
        for (int j = 0; j < NF; j++) {
            g[j] = dz[k] * h[j];
            dh[j] += w[j] * dz[k];
        }
    }
}
