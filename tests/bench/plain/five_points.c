/* five_points.expr by hand, the plain way: the formula as written, as
   CasADi's and SymPy's code generators emit it, for `make bench`'s "plain"
   column (what dcc's stable builtins must not be slower than).

     loss = fin - fin*y + log(1 + exp(-fin))
     dloss/dfin = 1/(1 + exp(-fin)) - y

   One exp, shared by the loss and the gradient, and a plain log: cheaper
   than the stable form, but exp(-fin) overflows for fin below about -709,
   and the loss is then inf (and log(1 + e) loses the tail of
   log1p(e) where e is small).  The backward pass is the expert's
   (tests/bench/expert/five_points.c).  Params: b1 b2 c w11 w21 w12 w22 u1
   u2. */
#include <math.h>

#include "net.h"

net_real net_loss(const net_real *in, const net_real *p)
{
    const net_real x1 = in[0], x2 = in[1], y = in[2];
    const net_real z1 = tanh(p[0] + x1 * p[3] + x2 * p[4]);
    const net_real z2 = tanh(p[1] + x1 * p[5] + x2 * p[6]);
    const net_real fin = p[2] + z1 * p[7] + z2 * p[8];
    return fin - fin * y + log(1.0 + exp(-fin));
}

net_real net_loss_grad(const net_real *in, const net_real *p, net_real *grad)
{
    const net_real x1 = in[0], x2 = in[1], y = in[2];
    const net_real u1 = p[7], u2 = p[8];
    const net_real z1 = tanh(p[0] + x1 * p[3] + x2 * p[4]);
    const net_real z2 = tanh(p[1] + x1 * p[5] + x2 * p[6]);
    const net_real fin = p[2] + z1 * u1 + z2 * u2;
    const net_real e = exp(-fin);
    const net_real dfin = 1.0 / (1.0 + e) - y;
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
    return fin - fin * y + log(1.0 + e);
}
