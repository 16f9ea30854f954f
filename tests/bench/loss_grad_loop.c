/* Calls net_loss_grad N times on varying inputs: the benchmark's workload.
   The result is printed so that the calls cannot be optimised away. */
#include <stdio.h>
#include <stdlib.h>

#include "net.h" /* the run script names the header */

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    net_real p[NET_N_PARAMS], in[NET_N_IN], grad[NET_N_PARAMS], sum = 0;
    net_init(p, 1);
    for (long i = 0; i < n; i++) {
        in[0] = (net_real)(i % 7) / 7;
        in[1] = (net_real)(i % 5) / 5;
        in[2] = (net_real)(i % 2);
        sum += net_loss_grad(in, p, grad) + grad[0];
    }
    printf("%g\n", sum);
    return 0;
}
