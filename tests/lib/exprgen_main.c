/* exprgen_main.c: the driver exprgen.py links with one generated model
 * emitted twice, in double (dcc --prefix md) and in float (--real float
 * --prefix mf).  It does not include their headers, so that it is compiled
 * once per run: the sizes come on the command line.
 *
 *     exprgen_main N_IN N_PARAMS POINTS SEED TOL_D TOL_SAME_D H_D TOL_F TOL_SAME_F H_F TOL_FLOAT_LOSS
 *
 * At POINTS deterministic pseudo-random points (inputs and params uniform in
 * [-1, 1], rounded to float so that both builds see the same point), for
 * each of the two builds: m_loss_grad's loss equals m_loss's (relative error
 * <= TOL_SAME), and every gradient component agrees with central finite
 * differences of m_loss (relative error |g - fd| / max(1, |g|, |fd|) <= TOL).
 * The finite difference is taken with steps h and h/2 (h = H * max(1, |x|))
 * and one Richardson step; a component whose two differences disagree by
 * more than TOL/2, or whose second differences at h and h/2 disagree (see
 * check_point), straddles a kink (relu, abs, max ...) and is skipped, as is
 * a point where the loss or a difference is not finite.  At most a quarter
 * of the components may be skipped and at least half of the points must be
 * usable.  Where both are finite, the float loss must be within
 * TOL_FLOAT_LOSS (same measure) of the double loss at the same point.
 *
 * Prints a line `FAIL ...` per failure and, per build, a last line
 * `exprgen-driver: double|float ok|FAIL used=U/P skipped=S/C worst=E`.
 * Exit status 0 if everything checks, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double md_loss(const double *in, const double *p);
double md_loss_grad(const double *in, const double *p, double *grad);
extern const char *const md_param_names[];
float mf_loss(const float *in, const float *p);
float mf_loss_grad(const float *in, const float *p, float *grad);

static int n_in, n_params, failures;
static float *fin, *fp, *fgrad;

static unsigned long long rng_state;

static double uniform01(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double relerr(double a, double b) {
    double d = fabs(a - b), m = 1.0;
    if (fabs(a) > m)
        m = fabs(a);
    if (fabs(b) > m)
        m = fabs(b);
    return d / m;
}

struct build {
    const char *name;
    double (*loss)(const double *in, const double *p);
    double (*loss_grad)(const double *in, const double *p, double *grad);
    double (*round)(double);
    double tol, tol_same, h;
    int used;
    long components, skipped;
    double worst;
};

static double d_loss(const double *in, const double *p) { return md_loss(in, p); }
static double d_loss_grad(const double *in, const double *p, double *g) { return md_loss_grad(in, p, g); }
static double d_round(double x) { return x; }

static void to_float(const double *in, const double *p) {
    int i;
    for (i = 0; i < n_in; i++)
        fin[i] = (float)in[i];
    for (i = 0; i < n_params; i++)
        fp[i] = (float)p[i];
}
static double f_loss(const double *in, const double *p) {
    to_float(in, p);
    return (double)mf_loss(fin, fp);
}
static double f_loss_grad(const double *in, const double *p, double *g) {
    double l;
    int i;
    to_float(in, p);
    l = (double)mf_loss_grad(fin, fp, fgrad);
    for (i = 0; i < n_params; i++)
        g[i] = (double)fgrad[i];
    return l;
}
static double f_round(double x) { return (double)(float)x; }

/* The central difference of b's loss in p[k] with step h (as rounded);
 * *second, the central second difference times h. */
static double central(struct build *b, const double *in, double *p, int k, double h, double l,
                      double *second, int *ok) {
    double x0 = p[k], a = b->round(x0 + h), c = b->round(x0 - h), fa, fc;
    p[k] = a;
    fa = b->loss(in, p);
    p[k] = c;
    fc = b->loss(in, p);
    p[k] = x0;
    if (!isfinite(fa) || !isfinite(fc) || a == c) {
        *ok = 0;
        return 0.0;
    }
    *second = (fa - 2 * l + fc) / ((a - c) / 2);
    return (fa - fc) / (a - c);
}

/* Checks build b at one point; returns its loss there. */
static double check_point(struct build *b, int pt, const double *in, double *p, double *grad) {
    double l = b->loss(in, p), lg, e;
    int k, ok = 1;
    if (!isfinite(l))
        return l;
    lg = b->loss_grad(in, p, grad);
    e = relerr(l, lg);
    if (!(e <= b->tol_same)) {
        printf("FAIL %s point %d: m_loss_grad returns %.17g, m_loss %.17g (relerr %.2e > %.1e)\n",
               b->name, pt, lg, l, e, b->tol_same);
        failures++;
    }
    for (k = 0; k < n_params; k++) {
        double h = b->h * (fabs(p[k]) > 1.0 ? fabs(p[k]) : 1.0);
        double s1 = 0, s2 = 0, fd;
        double d1 = central(b, in, p, k, h, l, &s1, &ok), d2 = central(b, in, p, k, h / 2, l, &s2, &ok);
        if (!ok)
            return l;
        b->components++;
        /* A kink (slope change D) between x - h and x + h shows as the
         * differences at h and h/2 disagreeing or, when it is within h/2 of
         * x, as second differences h*f'' that differ by D/2 or more (on a
         * smooth function they agree to O(h^3)). */
        if (relerr(d1, d2) > b->tol / 2 || fabs(s1 - 2 * s2) > b->tol / 4) {
            b->skipped++;
            continue;
        }
        fd = (4.0 * d2 - d1) / 3.0;
        e = relerr(grad[k], fd);
        if (e > b->worst || e != e)
            b->worst = e;
        if (!(e <= b->tol)) {
            printf("FAIL %s point %d: d loss/d %s: m_loss_grad %.17g, finite difference %.17g "
                   "(relerr %.2e > %.1e)\n", b->name, pt, md_param_names[k], grad[k], fd, e, b->tol);
            failures++;
        }
    }
    b->used++;
    return l;
}

int main(int argc, char **argv) {
    struct build builds[2] = {
        { "double", d_loss, d_loss_grad, d_round, 0, 0, 0, 0, 0, 0, 0 },
        { "float", f_loss, f_loss_grad, f_round, 0, 0, 0, 0, 0, 0, 0 },
    };
    double *in, *p, *grad, tol_float_loss;
    int points, pt, i, bi;

    if (argc != 12) {
        fprintf(stderr, "usage: %s N_IN N_PARAMS POINTS SEED TOL_D TOL_SAME_D H_D "
                "TOL_F TOL_SAME_F H_F TOL_FLOAT_LOSS\n", argv[0]);
        return 2;
    }
    n_in = atoi(argv[1]);
    n_params = atoi(argv[2]);
    points = atoi(argv[3]);
    rng_state = strtoull(argv[4], NULL, 10) * 2654435761ULL + 1;
    for (bi = 0; bi < 2; bi++) {
        builds[bi].tol = atof(argv[5 + 3 * bi]);
        builds[bi].tol_same = atof(argv[6 + 3 * bi]);
        builds[bi].h = atof(argv[7 + 3 * bi]);
    }
    tol_float_loss = atof(argv[11]);
    in = calloc((size_t)n_in + 1, sizeof *in);
    p = calloc((size_t)n_params + 1, sizeof *p);
    grad = calloc((size_t)n_params + 1, sizeof *grad);
    fin = calloc((size_t)n_in + 1, sizeof *fin);
    fp = calloc((size_t)n_params + 1, sizeof *fp);
    fgrad = calloc((size_t)n_params + 1, sizeof *fgrad);
    if (!in || !p || !grad || !fin || !fp || !fgrad)
        return 2;
    for (pt = 0; pt < points; pt++) {
        double ld, lf, e;
        for (i = 0; i < n_in; i++)
            in[i] = (double)(float)(2.0 * uniform01() - 1.0);
        for (i = 0; i < n_params; i++)
            p[i] = (double)(float)(2.0 * uniform01() - 1.0);
        ld = check_point(&builds[0], pt, in, p, grad);
        lf = check_point(&builds[1], pt, in, p, grad);
        e = relerr(ld, lf);
        if (isfinite(ld) && isfinite(lf) && e > tol_float_loss) {
            printf("FAIL point %d: the float loss %.9g is off the double loss %.17g (relerr %.2e > %.1e)\n",
                   pt, lf, ld, e, tol_float_loss);
            failures++;
        }
    }
    for (bi = 0; bi < 2; bi++) {
        struct build *b = &builds[bi];
        if (2 * b->used < points) {
            printf("FAIL %s: only %d of %d points have a finite loss and finite differences\n",
                   b->name, b->used, points);
            failures++;
        }
        if (4 * b->skipped > b->components) {
            printf("FAIL %s: %ld of %ld components straddle a kink (finite differences at h and h/2 "
                   "disagree)\n", b->name, b->skipped, b->components);
            failures++;
        }
        printf("exprgen-driver: %s %s used=%d/%d skipped=%ld/%ld worst=%.2e\n", b->name,
               failures ? "FAIL" : "ok", b->used, points, b->skipped, b->components, b->worst);
    }
    return failures ? 1 : 0;
}
