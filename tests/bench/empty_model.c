/* An empty model: linked with bench_main.c, it measures the driver's own
   instructions per call (the loop, the varying input, the call itself),
   which the run script subtracts from every implementation's figure. */
#include "net.h"

net_real net_loss(const net_real *in, const net_real *p)
{
    (void)in;
    (void)p;
    return 0;
}

net_real net_loss_grad(const net_real *in, const net_real *p, net_real *grad)
{
    (void)in;
    (void)p;
    (void)grad;
    return 0;
}
