/* loopcheck_main.c: the driver of tests/lib/loopcheck.py.  It is linked
 * with a model that dcc emitted twice, with loops (prefix L: L.c, L.h) and
 * unrolled (prefix U: the functions loopcheck.py took out of U.c), and with
 * lcglue.inc, which loopcheck.py writes: the --wrt gradient functions and
 * the ranges of the inputs and of the params with a range of their own.
 *
 * Once: L_init and U_init give the same bits for a few seeds.  At POINTS
 * deterministic pseudo-random points (params from L_init with seed 1, 2, ...
 * plus a uniform perturbation in [-0.1, 0.1], inputs from their ranges) it
 * compares L_loss_grad with U_loss_grad (the loss and every gradient
 * component), L_loss with U_loss_grad's loss, L_outputs with U_outputs and
 * every --wrt L_grad_NAME with U_grad_NAME, by
 *   |a - b| / max(|a|, |b|, 1e-300),
 * 0 when a == b, infinite when either is NaN or infinite and they differ.
 *
 * Usage: loopcheck_driver POINTS TOL
 * Prints the worst differences that pass TOL (the first 25) and a summary
 * line; exits 1 if any error is above TOL.  C99. */
#include "L.h" /* first: the generated headers must stand on their own */
#include "U.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* loopcheck compares double code: both reals are double. */
typedef char lc_double_L[sizeof(L_real) == sizeof(double) ? 1 : -1];
typedef char lc_double_U[sizeof(U_real) == sizeof(double) ? 1 : -1];
/* The same layout. */
typedef char lc_same_layout[(L_N_IN == U_N_IN && L_N_PARAMS == U_N_PARAMS &&
                             L_N_OUT == U_N_OUT) ? 1 : -1];

/* An input of --wrt: its gradient functions, wrapped by lcglue.inc. */
struct lc_wrt {
    const char *name;
    int size;
    void (*L)(const double *in, const double *p, double *out);
    void (*U)(const double *in, const double *p, double *out);
};

/* A param drawn from its own range [lo, hi] instead of L_init's value. */
struct lc_range {
    int offset, size;
    double lo, hi;
};

#include "lcglue.inc"
/* lcglue.inc defines lc_wrt[LC_NWRT + 1], lc_p_ranged[LC_NRANGED + 1],
 * lc_in_lo[], lc_in_hi[] (L_N_IN + 1 each) */

#define MAXREPORT 25
#define MAXWRT (L_N_IN + 1)

static int failures;
static long compared;
static double worst, tol;
static const char *worst_what = "nothing";
static int worst_point = -1, worst_index = -1;

/* Static, every buffer whose size is L_N_PARAMS or L_N_IN: a 784-128-10
 * model has 101,770 params. */
static double in[L_N_IN + 1], p[L_N_PARAMS + 1];
static double gl[L_N_PARAMS + 1], gu[L_N_PARAMS + 1];
static double ol[L_N_OUT + 1], ou[L_N_OUT + 1];
static double wl[MAXWRT], wu[MAXWRT];
static double init_l[L_N_PARAMS + 1], init_u[L_N_PARAMS + 1];

/* splitmix64: a small, portable, deterministic generator. */
static uint64_t rng_state = 0x2545F4914F6CDD1Du;
static double uniform01(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static double relerr(double a, double b) {
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (a == b)
        return 0.0;
    if (!isfinite(a) || !isfinite(b))
        return HUGE_VAL;
    return fabs(a - b) / (m > 1e-300 ? m : 1e-300);
}

/* Compares n values: a[] of the loops, b[] unrolled. */
static void compare(int pt, const char *what, const double *a, const double *b, int n) {
    int i;
    for (i = 0; i < n; i++) {
        double e = relerr(a[i], b[i]);
        compared++;
        if (e > worst || (worst_point < 0 && i == 0)) {
            worst = e;
            worst_what = what;
            worst_point = pt;
            worst_index = i;
        }
        if (e > tol && ++failures <= MAXREPORT)
            printf("loopcheck: FAIL point %d: %s[%d]: loops %.17g, unrolled %.17g (relative error %.2e > %.1e)\n",
                   pt, what, i, a[i], b[i], e, tol);
    }
}

/* L_init and U_init: the same bits. */
static void check_init(void) {
    uint32_t seeds[3] = {0u, 42u, 4000000000u};
    int s;
    for (s = 0; s < 3; s++) {
        L_init(init_l, seeds[s]);
        U_init(init_u, seeds[s]);
        if (memcmp(init_l, init_u, sizeof init_l) != 0 && ++failures <= MAXREPORT)
            printf("loopcheck: FAIL L_init and U_init differ for seed %lu\n", (unsigned long)seeds[s]);
    }
}

int main(int argc, char **argv) {
    int points, pt, i, r, v;

    if (argc != 3) {
        fprintf(stderr, "usage: %s POINTS TOL\n", argv[0]);
        return 2;
    }
    points = atoi(argv[1]);
    tol = atof(argv[2]);

    check_init();
    for (pt = 0; pt < points; pt++) {
        double ll, lg, ul;
        L_init(p, (uint32_t)(pt + 1));
        for (i = 0; i < L_N_PARAMS; i++)
            p[i] += 0.2 * uniform01() - 0.1;
        for (r = 0; r < LC_NRANGED; r++)
            for (i = 0; i < lc_p_ranged[r].size; i++)
                p[lc_p_ranged[r].offset + i] =
                    lc_p_ranged[r].lo + (lc_p_ranged[r].hi - lc_p_ranged[r].lo) * uniform01();
        for (i = 0; i < L_N_IN; i++)
            in[i] = lc_in_lo[i] + (lc_in_hi[i] - lc_in_lo[i]) * uniform01();

        lg = L_loss_grad(in, p, gl);
        ul = U_loss_grad(in, p, gu);
        ll = L_loss(in, p);
        compare(pt, "loss (L_loss_grad)", &lg, &ul, 1);
        compare(pt, "loss (L_loss)", &ll, &ul, 1);
        compare(pt, "grad", gl, gu, L_N_PARAMS);
        L_outputs(in, p, ol);
        U_outputs(in, p, ou);
        compare(pt, "outputs", ol, ou, L_N_OUT);
        for (v = 0; v < LC_NWRT; v++) {
            lc_wrt[v].L(in, p, wl);
            lc_wrt[v].U(in, p, wu);
            compare(pt, lc_wrt[v].name, wl, wu, lc_wrt[v].size);
        }
    }
    if (failures > MAXREPORT)
        printf("loopcheck: FAIL ... and %d more failures\n", failures - MAXREPORT);
    printf("loopcheck: worst at point %d: %s[%d]\n", worst_point, worst_what, worst_index);
    printf("loopcheck: %d points, %ld components, worst relative error %.1e (tolerance %.0e): %s\n",
           points, compared, worst, tol, failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
