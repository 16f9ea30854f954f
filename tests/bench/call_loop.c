/* Calls net_loss or net_loss_grad N times on varying inputs: the
   benchmark's workload for any model (one input changes per call, so the
   calls cost what the model costs).  The run script subtracts a run with N = 0, so the figure is
   the calls' own.  The result is printed so that nothing is optimised away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h" /* the run script names the header */

static net_real p[NET_N_PARAMS], in[NET_N_IN], grad[NET_N_PARAMS];

int main(int argc, char **argv)
{
    int with_grad = argc > 1 && !strcmp(argv[1], "loss_grad");
    long n = argc > 2 ? atol(argv[2]) : 1000;
    net_real sum = 0;
    net_init(p, 1);
    for (int k = 0; k < NET_N_IN; k++)
        in[k] = (net_real)(k % 7) / 7;
    for (long i = 0; i < n; i++) {
        in[i % NET_N_IN] = (net_real)(i % 5) / 5;
        sum += with_grad ? net_loss_grad(in, p, grad) + grad[0] : net_loss(in, p);
    }
    printf("%g\n", (double)sum);
    return 0;
}
