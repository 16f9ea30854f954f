/* gru_8_16_16.expr by hand: a GRU cell (input 8, state 16) over 16 steps
   from a zero state, the squared error of a linear readout of the last
   state; the hand-written backpropagation through time that `make bench`
   sets against dcc's output.

     r = sigmoid(Wir x + bir + Whr h + bhr)
     z = sigmoid(Wiz x + biz + Whz h + bhz)
     g = Whn h + bhn,  n = tanh(Win x + bin + r g)
     h' = (1 - z) n + z h = n + z (h - n)
     loss = (v . h_T - y)^2

   The forward pass keeps, per step, the state it starts from and r, z, n
   and g (the four values the backward step needs; sigmoid' and tanh' come
   from r, z and n); _loss keeps only the two states in turn.  Each step
   makes the six pre-activations of a row together, so that h and x stay in
   registers, the dot products in two chains (even and odd terms).  The
   backward pass runs from the last step to the first and makes one sweep
   over each row of Whr, Whz and Whn per step: the row's gradient and its
   share of W^T da in the same pass.  bir and bhr (biz and bhz) have one
   gradient, summed once and copied.  One exp per sigmoid and one tanh per
   unit and step, as in _loss.
   Params, row-major: Wir Wiz Win [16][8], Whr Whz Whn [16][16],
   bir biz bin bhr bhz bhn [16], v[16]; inputs: xs[16][8] y. */
#include <math.h>

#include "net.h"

#define NX 8
#define NH 16
#define NT 16

#define WIR 0
#define WIZ (WIR + NH * NX)
#define WIN (WIZ + NH * NX)
#define WHR (WIN + NH * NX)
#define WHZ (WHR + NH * NH)
#define WHN (WHZ + NH * NH)
#define BIR (WHN + NH * NH)
#define BIZ (BIR + NH)
#define BIN (BIZ + NH)
#define BHR (BIN + NH)
#define BHZ (BHR + NH)
#define BHN (BHZ + NH)
#define V (BHN + NH)

static inline net_real dot8(const net_real *restrict a, const net_real *restrict b)
{
    return ((a[0] * b[0] + a[2] * b[2]) + (a[4] * b[4] + a[6] * b[6])) +
           ((a[1] * b[1] + a[3] * b[3]) + (a[5] * b[5] + a[7] * b[7]));
}

static inline net_real dot16(const net_real *restrict a, const net_real *restrict b)
{
    net_real e = (a[0] * b[0] + a[2] * b[2]) + (a[4] * b[4] + a[6] * b[6]);
    net_real o = (a[1] * b[1] + a[3] * b[3]) + (a[5] * b[5] + a[7] * b[7]);
    e += (a[8] * b[8] + a[10] * b[10]) + (a[12] * b[12] + a[14] * b[14]);
    o += (a[9] * b[9] + a[11] * b[11]) + (a[13] * b[13] + a[15] * b[15]);
    return e + o;
}

/* One step: from state h and input x, the next state h1, and the step's
   r, z, n and g. */
static inline void step(const net_real *restrict p, const net_real *restrict x, const net_real *restrict h,
                        net_real *restrict h1, net_real *restrict r, net_real *restrict z,
                        net_real *restrict n, net_real *restrict g)
{
    net_real ar[NH], az[NH], an[NH];
    for (int i = 0; i < NH; i++) {
        ar[i] = (p[BIR + i] + p[BHR + i]) + dot8(p + WIR + i * NX, x) + dot16(p + WHR + i * NH, h);
        az[i] = (p[BIZ + i] + p[BHZ + i]) + dot8(p + WIZ + i * NX, x) + dot16(p + WHZ + i * NH, h);
        an[i] = p[BIN + i] + dot8(p + WIN + i * NX, x);
        g[i] = p[BHN + i] + dot16(p + WHN + i * NH, h);
    }
    for (int i = 0; i < NH; i++) {
        r[i] = 1.0 / (1.0 + exp(-ar[i]));
        z[i] = 1.0 / (1.0 + exp(-az[i]));
        n[i] = tanh(an[i] + r[i] * g[i]);
        h1[i] = n[i] + z[i] * (h[i] - n[i]);
    }
}

net_real net_loss(const net_real *in, const net_real *p)
{
    net_real h[2][NH], r[NH], z[NH], n[NH], g[NH];
    for (int i = 0; i < NH; i++)
        h[0][i] = 0.0;
    for (int t = 0; t < NT; t++)
        step(p, in + t * NX, h[t & 1], h[(t + 1) & 1], r, z, n, g);
    const net_real e = dot16(p + V, h[NT & 1]) - in[NT * NX];
    return e * e;
}

net_real net_loss_grad(const net_real *restrict in, const net_real *restrict p, net_real *restrict grad)
{
    net_real h[NT + 1][NH], r[NT][NH], z[NT][NH], n[NT][NH], g[NT][NH];
    for (int i = 0; i < NH; i++)
        h[0][i] = 0.0;
    for (int t = 0; t < NT; t++)
        step(p, in + t * NX, h[t], h[t + 1], r[t], z[t], n[t], g[t]);
    const net_real e = dot16(p + V, h[NT]) - in[NT * NX];
    const net_real dout = e + e;

    net_real dh[NH], dh0[NH];
    for (int i = 0; i < NH; i++) {
        grad[V + i] = dout * h[NT][i];
        dh[i] = dout * p[V + i];
    }
    for (int k = 0; k < BHR; k++) /* the W's and bir, biz, bin */
        grad[k] = 0.0;
    for (int i = 0; i < NH; i++)
        grad[BHN + i] = 0.0;

    for (int t = NT - 1; t >= 0; t--) {
        const net_real *restrict x = in + t * NX, *restrict hp = h[t];
        net_real dar[NH], daz[NH], dan[NH], dg[NH];
        for (int i = 0; i < NH; i++) {
            const net_real ri = r[t][i], zi = z[t][i], ni = n[t][i];
            dan[i] = dh[i] * (1.0 - zi) * (1.0 - ni * ni);
            dg[i] = dan[i] * ri;
            dar[i] = dan[i] * g[t][i] * ri * (1.0 - ri);
            daz[i] = dh[i] * (hp[i] - ni) * zi * (1.0 - zi);
            dh0[i] = dh[i] * zi;
        }
        for (int i = 0; i < NH; i++) {
            grad[BIR + i] += dar[i];
            grad[BIZ + i] += daz[i];
            grad[BIN + i] += dan[i];
            grad[BHN + i] += dg[i];
            net_real *restrict gir = grad + WIR + i * NX, *restrict giz = grad + WIZ + i * NX,
                              *restrict gin = grad + WIN + i * NX;
            for (int j = 0; j < NX; j++) {
                gir[j] += dar[i] * x[j];
                giz[j] += daz[i] * x[j];
                gin[j] += dan[i] * x[j];
            }
            const net_real *restrict wr = p + WHR + i * NH, *restrict wz = p + WHZ + i * NH,
                                     *restrict wn = p + WHN + i * NH;
            net_real *restrict ghr = grad + WHR + i * NH, *restrict ghz = grad + WHZ + i * NH,
                              *restrict ghn = grad + WHN + i * NH;
            for (int j = 0; j < NH; j++) {
                ghr[j] += dar[i] * hp[j];
                ghz[j] += daz[i] * hp[j];
                ghn[j] += dg[i] * hp[j];
                dh0[j] += (wr[j] * dar[i] + wz[j] * daz[i]) + wn[j] * dg[i];
            }
        }
        for (int i = 0; i < NH; i++)
            dh[i] = dh0[i];
    }
    for (int i = 0; i < NH; i++) {
        grad[BHR + i] = grad[BIR + i];
        grad[BHZ + i] = grad[BIZ + i];
    }
    return e * e;
}
