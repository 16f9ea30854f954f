/* five_points.expr by hand: the 2-2-1 network (tanh hidden layer, logit
   output, cross-entropy on the logit), the hand-written baseline that
   `make bench` sets against dcc's output.

     z1 = tanh(b1 + x1*w11 + x2*w21)   z2 = tanh(b2 + x1*w12 + x2*w22)
     fin = c + z1*u1 + z2*u2
     loss = fin - fin*y + log(1 + exp(-fin))

   log(1 + exp(-fin)) is taken stably as max(-fin, 0) + log1p(exp(-|fin|)),
   so loss = max(fin, 0) - fin*y + log1p(e) with e = exp(-|fin|).  The
   backward pass reuses e: dloss/dfin = sigmoid(fin) - y, with
   sigmoid(fin) = 1/(1+e) for fin >= 0 and e/(1+e) otherwise, and tanh' from
   the stored activations, 1 - z*z.  Params: b1 b2 c w11 w21 w12 w22 u1 u2. */
#include <math.h>

#include "net.h"

net_real net_loss(const net_real *in, const net_real *p)
{
    const net_real x1 = in[0], x2 = in[1], y = in[2];
    const net_real z1 = tanh(p[0] + x1 * p[3] + x2 * p[4]);
    const net_real z2 = tanh(p[1] + x1 * p[5] + x2 * p[6]);
    const net_real fin = p[2] + z1 * p[7] + z2 * p[8];
    const net_real e = exp(-fabs(fin));
    return (fin > 0.0 ? fin : 0.0) - fin * y + log1p(e);
}

net_real net_loss_grad(const net_real *in, const net_real *p, net_real *grad)
{
    const net_real x1 = in[0], x2 = in[1], y = in[2];
    const net_real u1 = p[7], u2 = p[8];
    const net_real z1 = tanh(p[0] + x1 * p[3] + x2 * p[4]);
    const net_real z2 = tanh(p[1] + x1 * p[5] + x2 * p[6]);
    const net_real fin = p[2] + z1 * u1 + z2 * u2;
    const net_real e = exp(-fabs(fin));
    const net_real dfin = (fin >= 0.0 ? 1.0 : e) / (1.0 + e) - y;
    const net_real d1 = dfin * u1 * (1.0 - z1 * z1);
    const net_real d2 = dfin * u2 * (1.0 - z2 * z2);
    grad[0] = d1;
    grad[1] = d2;
    grad[2] = dfin;
    grad[3] = d1 * x1;
    grad[4] = d1 * x2;
    grad[5] = d2 * x1;
    grad[6] = d2 * x2;
    grad[7] = dfin * z1;
    grad[8] = dfin * z2;
    return (fin > 0.0 ? fin : 0.0) - fin * y + log1p(e);
}
