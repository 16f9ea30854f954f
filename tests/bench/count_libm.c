/* Counts the transcendental calls a benchmark run makes.  Linked into the
   driver with -Wl,--wrap=tanh,--wrap=exp,... so that every call the
   optimised code really makes (not the calls in its source) goes through a
   counter first; the totals are printed to stderr at exit, one
   "libm NAME COUNT" line per function that was called. */
#include <stdio.h>
#include <stdlib.h>

#define FUNCTIONS(X) X(tanh) X(exp) X(log) X(log1p) X(expm1) X(sin) X(cos) X(tan) X(atan) X(pow)

#define COUNTER(f) static unsigned long count_##f;
FUNCTIONS(COUNTER)

#define WRAP(f)                                                                                                        \
    double __real_##f(double);                                                                                         \
    double __wrap_##f(double x);                                                                                       \
    double __wrap_##f(double x)                                                                                        \
    {                                                                                                                  \
        count_##f++;                                                                                                   \
        return __real_##f(x);                                                                                          \
    }
#define WRAP_POW                                                                                                       \
    double __real_pow(double, double);                                                                                 \
    double __wrap_pow(double x, double y);                                                                             \
    double __wrap_pow(double x, double y)                                                                              \
    {                                                                                                                  \
        count_pow++;                                                                                                   \
        return __real_pow(x, y);                                                                                       \
    }
#define UNARY(X) X(tanh) X(exp) X(log) X(log1p) X(expm1) X(sin) X(cos) X(tan) X(atan)
UNARY(WRAP)
WRAP_POW

static void report(void)
{
#define PRINT(f)                                                                                                       \
    if (count_##f)                                                                                                     \
        fprintf(stderr, "libm %s %lu\n", #f, count_##f);
    FUNCTIONS(PRINT)
}

__attribute__((constructor)) static void install(void)
{
    atexit(report);
}
