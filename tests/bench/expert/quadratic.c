/* quadratic.expr by hand: f(x1, x2) = (x1 - 6)^2 + x2^2 - x1*x2, the
   hand-written baseline that `make bench` sets against dcc's output.
   The point is the parameter vector p = (x1, x2); there are no inputs.
   f = a*a + x2*(x2 - x1) with a = x1 - 6; df/dx1 = 2a - x2, df/dx2 = 2x2 - x1. */
#include "net.h"

net_real net_loss(const net_real *in, const net_real *p)
{
    const net_real x1 = p[0], x2 = p[1], a = x1 - 6.0;
    (void)in;
    return a * a + x2 * (x2 - x1);
}

net_real net_loss_grad(const net_real *in, const net_real *p, net_real *grad)
{
    const net_real x1 = p[0], x2 = p[1], a = x1 - 6.0;
    (void)in;
    grad[0] = (a + a) - x2;
    grad[1] = (x2 + x2) - x1;
    return a * a + x2 * (x2 - x1);
}
