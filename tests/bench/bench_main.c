/* The benchmark's driver for one implementation of one model.  Every
   implementation (dcc's output, dcc -O0's, the hand-written backprop, the
   SymPy-generated code) defines net_loss and net_loss_grad with the
   prototypes of the net.h that dcc wrote for the model, and is linked with
   this file alone, so all of them run the same workload:

     run calls loss|loss_grad N  N calls on varying inputs (callgrind runs
                                 this with N and with 0 and subtracts)
     run time                    median ns per call of _loss and _loss_grad,
                                 measured alternately, and, on x86, median
                                 time-stamp-counter ticks per call (a
                                 cycle-like figure that stays put when the
                                 clock is read coarsely)
     run dump                    the inputs, params, loss and gradient at the
                                 fixed point, one number per line, so the run
                                 script can check that every implementation
                                 computes the same thing before timing it

   Params come from a fixed generator, not net_init, because the other
   implementations have no init: uniform in [-0.1, 0.1), which keeps tanh off
   its saturated (and cheaper) branch for every benchmark model. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "net.h"

/* +1: a model without inputs (the quadratic) still gets a valid array. */
static net_real in[NET_N_IN + 1], p[NET_N_PARAMS], grad[NET_N_PARAMS];

static void set_point(void)
{
    uint32_t s = 12345;
    for (int k = 0; k < NET_N_PARAMS; k++) {
        s = s * 1664525u + 1013904223u;
        p[k] = (net_real)(((double)(s >> 8) / 16777216.0 - 0.5) * 0.2);
    }
    for (int k = 0; k < NET_N_IN; k++)
        in[k] = (net_real)(k % 7) / 7;
}

/* One call.  The input that changes keeps the compiler from hoisting work
   out of the calling loop; counters rather than % keep the driver's own
   share small (the run script subtracts it, measured with empty_model.c).
   The result is summed and printed. */
static net_real call(int with_grad)
{
    static const net_real vary[5] = {0, 0.2, 0.4, 0.6, 0.8};
    static int slot, step, gslot;
    if (NET_N_IN > 0) {
        in[slot] = vary[step];
        if (++slot == NET_N_IN)
            slot = 0;
        if (++step == 5)
            step = 0;
    }
    if (!with_grad)
        return net_loss(in, p);
    net_real loss = net_loss_grad(in, p, grad) + grad[gslot];
    if (++gslot == NET_N_PARAMS)
        gslot = 0;
    return loss;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* The time-stamp counter: ticks at a constant rate (the nominal clock on
   current x86), so cycles where the core runs at that clock.  Elsewhere
   nothing, and the run prints no tick figures. */
static double now_ticks(void)
{
#if HAVE_TSC
    return (double)__rdtsc();
#else
    return 0;
#endif
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Many short batches rather than a few long ones: on a shared machine a
   batch that the scheduler interrupts is an outlier the median drops, and
   with batches of half a millisecond most are not interrupted. */
#define REPEATS 31

static double median_of(double *v)
{
    qsort(v, REPEATS, sizeof v[0], by_value);
    return v[REPEATS / 2];
}

/* Median ns (and ticks) per call over REPEATS batches, _loss and _loss_grad
   batches alternating so that both see the same machine. */
static void time_calls(void)
{
    double t_loss[REPEATS], t_grad[REPEATS], k_loss[REPEATS], k_grad[REPEATS], sum = 0;
    long n = 1;
    /* Enough calls per batch for a batch to take about 0.5 ms. */
    for (;;) {
        double s = now_ns();
        for (long i = 0; i < n; i++)
            sum += (double)call(1);
        if (now_ns() - s > 5e5 || n > (1L << 30))
            break;
        n *= 2;
    }
    for (int r = 0; r < REPEATS; r++) {
        double s = now_ns(), sk = now_ticks();
        for (long i = 0; i < n; i++)
            sum += (double)call(0);
        double m = now_ns(), mk = now_ticks();
        for (long i = 0; i < n; i++)
            sum += (double)call(1);
        double e = now_ns(), ek = now_ticks();
        t_loss[r] = (m - s) / (double)n;
        t_grad[r] = (e - m) / (double)n;
        k_loss[r] = (mk - sk) / (double)n;
        k_grad[r] = (ek - mk) / (double)n;
    }
    printf("loss_ns %.2f\nloss_grad_ns %.2f\n", median_of(t_loss), median_of(t_grad));
    if (HAVE_TSC)
        printf("loss_tsc %.1f\nloss_grad_tsc %.1f\n", median_of(k_loss), median_of(k_grad));
    printf("calls_per_batch %ld\nchecksum %g\n", n, sum);
}

static void dump(void)
{
    printf("n_in %d\nn_params %d\n", NET_N_IN, NET_N_PARAMS);
    for (int k = 0; k < NET_N_IN; k++)
        printf("in %.17g\n", (double)in[k]);
    for (int k = 0; k < NET_N_PARAMS; k++)
        printf("p %.17g\n", (double)p[k]);
    printf("loss %.17g\n", (double)net_loss(in, p));
    printf("loss_grad %.17g\n", (double)net_loss_grad(in, p, grad));
    for (int k = 0; k < NET_N_PARAMS; k++)
        printf("grad %.17g\n", (double)grad[k]);
}

int main(int argc, char **argv)
{
    set_point();
    if (argc == 4 && !strcmp(argv[1], "calls")) {
        int with_grad = !strcmp(argv[2], "loss_grad");
        long n = atol(argv[3]);
        net_real sum = 0;
        for (long i = 0; i < n; i++)
            sum += call(with_grad);
        printf("%g\n", (double)sum);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "time")) {
        time_calls();
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "dump")) {
        dump();
        return 0;
    }
    fprintf(stderr, "usage: %s calls loss|loss_grad N | time | dump\n", argv[0]);
    return 2;
}
