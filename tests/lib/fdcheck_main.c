/* fdcheck_main.c: the driver of tests/lib/fdcheck.py, the numeric gradient
 * checker.  It is compiled together with a model that dcc generated with
 * `--prefix m` (m.c, m.h) and with fdglue.inc, which fdcheck.py writes from
 * m.h: the table of per-variable gradient functions and the sampling ranges.
 *
 * At deterministic pseudo-random points it checks
 *   (a) m_loss_grad returns the loss m_loss returns,
 *   (b) every component of m_loss_grad's gradient against a central finite
 *       difference of m_loss (with one Richardson step, error O(h^4)),
 *   (c) every per-param m_grad_NAME against its slice of m_loss_grad,
 *   (d) every --wrt input's m_grad_NAME against finite differences,
 *   (f) m_sgd_step (FD_SGD_STEP in fdglue.inc) is m_loss_grad followed by
 *       p -= lr * grad on the trainable params, bit for bit, and leaves
 *       the frozen ones (--train/--freeze: the params of no fd_params
 *       entry) as they were;
 * and, once: m_param_names spells "name", "name[i]", "name[i][j]", ... in
 * row-major order; no function writes past its output or changes its
 * arguments; a second call of m_loss_grad gives the same bits; m_init is
 * deterministic and finite; m_outputs runs.
 *
 * FD_SAMPLE > 0 (fdglue.inc; `# FDCHECK: sample N`): (b) and (d) check at
 * most FD_SAMPLE components of each variable (the first, the last and
 * evenly spaced ones between), and the finite differences are computed for
 * those only; (a) and (c) still compare every component.
 *
 * A model emitted with loops (m.h defines M_WORKSPACE_SIZE) has a _ws
 * variant of every function, which takes the workspace from the caller:
 *   (e) at every point, each _ws function, called with a workspace full of
 *       garbage (once NaN, once 1e30) followed by GUARD sentinel slots,
 *       gives the same bits as its plain function and leaves the slots past
 *       M_WORKSPACE_SIZE alone (m_sgd_step_ws too, when m.h declares it:
 *       FD_SGD_STEP_WS in fdglue.inc, one step from copies of the params).
 *
 * Usage: fdcheck_driver LABEL POINTS TOL_GRAD TOL_SAME H [DUMP]
 *   TOL_GRAD  bound on |g - fd| / max(1, |g|, |fd|) for (b) and (d)
 *   TOL_SAME  the same bound for (a) and (c), which compare two results of
 *             the generated code with each other
 *   H         relative finite-difference step: h = H * max(1, |x|)
 *   DUMP      a file to write, at each usable point, m_loss_grad's loss and
 *             gradient and every --wrt input's gradient, %.17g (fdcheck.py's
 *             --float-vs-double compares the float build's with the double
 *             build's); the points are then drawn as floats in both builds,
 *             so that the two builds compute at the same point.
 * Prints one line per failure (the first 25) and a summary line; exits 1 on
 * any failure.  C99. */
#include "m.h" /* first: the generated header must stand on its own */

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef m_real real;

/* One variable (a param, or an input named in --wrt) with its gradient
 * function, which fdglue.inc wraps to always write `size` values, and the
 * function's _ws variant (null without M_WORKSPACE_SIZE). */
struct fd_var {
    const char *name; /* as in the M_PARAM_/M_IN_ macro */
    int offset;       /* into p[] or in[] */
    int goff;         /* a param's: into grad[] (M_GRAD_; --train/--freeze
                         make it differ from offset) */
    int size;         /* its number of scalars */
    void (*grad)(const real *in, const real *p, real *out);
    void (*grad_ws)(const real *in, const real *p, real *out, real *ws);
};

#include "fdglue.inc"
/* fdglue.inc defines:
 *   fd_params[FD_NPARAMS + 1], fd_wrt[FD_NWRT + 1]: struct fd_var
 *   fd_in_lo[], fd_in_hi[] (M_N_IN + 1), fd_p_lo[], fd_p_hi[] (M_N_PARAMS + 1):
 *   the range each scalar is drawn from
 *   FD_SAMPLE: finite differences for at most this many components of each
 *   variable (0: all of them) */

#define GUARD 4                /* sentinel slots after every output buffer */
#define SENTINEL ((real)-7.25) /* a value a gradient is unlikely to take */
#define MAXREPORT 25

static const char *label;
static int failures;
static double tol_grad, tol_same, hrel;
static double worst_grad, worst_same;
static long fd_checked; /* components checked against finite differences */
static FILE *dump;      /* DUMP, or null */

/* One line of DUMP: a label and n values. */
static void dump_values(const char *what, const real *v, int n) {
    int i;
    if (!dump)
        return;
    fprintf(dump, "%s", what);
    for (i = 0; i < n; i++)
        fprintf(dump, " %.17g", (double)v[i]);
    fprintf(dump, "\n");
}

/* Which components get a finite difference: pick_p[k] for p[k], pick_in[k]
 * for in[k] (of a --wrt input).  Static, like every buffer whose size is
 * M_N_PARAMS or M_N_IN: a 784-128-10 model has 101,770 params. */
static unsigned char pick_p[M_N_PARAMS + 1], pick_in[M_N_IN + 1];

/* A failure line; only the first MAXREPORT are printed. */
static void fail(const char *fmt, ...) {
    va_list ap;
    failures++;
    if (failures > MAXREPORT)
        return;
    printf("fdcheck: FAIL [%s] ", label);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* splitmix64: a small, portable, deterministic generator. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double uniform01(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* A drawn value as a real: through float first when the double and the
 * float builds are to be compared at the same point (DUMP). */
static real as_drawn(double v) {
    return dump ? (real)(float)v : (real)v;
}

static double relerr(double a, double b) {
    double d = fabs(a - b), m = 1.0;
    if (fabs(a) > m)
        m = fabs(a);
    if (fabs(b) > m)
        m = fabs(b);
    if (a == b)
        return 0.0;
    if (isnan(a) || isnan(b) || isinf(d))
        return HUGE_VAL;
    return d / m;
}

/* Name of scalar k of variable v, for messages: a param's from
 * m_param_names, an input's as "x{flat index}". */
static const char *scalar_name(const struct fd_var *v, int k, int is_param) {
    static char buf[160];
#if M_N_PARAMS > 0
    if (is_param && m_param_names[v->offset + k] != NULL)
        return m_param_names[v->offset + k];
#else
    (void)is_param;
#endif
    if (v->size == 1)
        snprintf(buf, sizeof buf, "%s", v->name);
    else
        snprintf(buf, sizeof buf, "%s{flat %d}", v->name, k);
    return buf;
}

/* The loss with x[k] set to val (x is in[] or p[]); x[k] is restored. */
static double loss_at(real *in, real *p, real *x, int k, real val) {
    real saved = x[k];
    double l;
    x[k] = val;
    l = (double)m_loss(in, p);
    x[k] = saved;
    return l;
}

/* d loss / d x[k] by central differences with one Richardson step:
 * D(h) = (f(x+h) - f(x-h)) / (actual step), fd = (4 D(h) - D(2h)) / 3.
 * The steps are the differences of the rounded arguments, so rounding x+h
 * to `real` costs nothing.  Returns 0 and sets *ok = 0 if any evaluation is
 * not finite. */
static double fdiff(real *in, real *p, real *x, int k, int *ok) {
    double x0 = (double)x[k];
    double h = hrel * (fabs(x0) > 1.0 ? fabs(x0) : 1.0);
    real a1 = (real)(x0 + h), b1 = (real)(x0 - h);
    real a2 = (real)(x0 + 2 * h), b2 = (real)(x0 - 2 * h);
    double fa1 = loss_at(in, p, x, k, a1), fb1 = loss_at(in, p, x, k, b1);
    double fa2 = loss_at(in, p, x, k, a2), fb2 = loss_at(in, p, x, k, b2);
    double d1, d2;
    if (!isfinite(fa1) || !isfinite(fb1) || !isfinite(fa2) || !isfinite(fb2)) {
        *ok = 0;
        return 0.0;
    }
    d1 = (fa1 - fb1) / ((double)a1 - (double)b1);
    d2 = (fa2 - fb2) / ((double)a2 - (double)b2);
    return (4.0 * d1 - d2) / 3.0;
}

static void fill_sentinel(real *buf, int n) {
    int i;
    for (i = 0; i < n; i++)
        buf[i] = SENTINEL;
}

/* Fails unless the GUARD slots after buf[n] still hold the sentinel. */
static void check_guard(const real *buf, int n, const char *what) {
    int i;
    for (i = n; i < n + GUARD; i++)
        if (buf[i] != SENTINEL) {
            fail("%s wrote past its %d values (slot %d)", what, n, i);
            return;
        }
}

/* Marks the components of each variable in vars[0..n) that (b) or (d)
 * check: all of them, or FD_SAMPLE of them spread over the variable: the
 * first, the last and evenly spaced ones between. */
static void pick_components(const struct fd_var *vars, int n, unsigned char *pick) {
    int v;
    for (v = 0; v < n; v++) {
        const struct fd_var *var = &vars[v];
        long s = var->size, j;
        if (FD_SAMPLE <= 0 || s <= FD_SAMPLE) {
            for (j = 0; j < s; j++)
                pick[var->offset + j] = 1;
        } else if (FD_SAMPLE == 1) {
            pick[var->offset] = 1;
        } else {
            for (j = 0; j < FD_SAMPLE; j++)
                pick[var->offset + j * (s - 1) / (FD_SAMPLE - 1)] = 1;
        }
    }
}

#ifdef M_WORKSPACE_SIZE
/* (e): the caller's workspace, M_WORKSPACE_SIZE values then GUARD sentinels. */
static real ws[M_WORKSPACE_SIZE + GUARD];
#define N_GARBAGE 2

/* Fills the workspace with garbage number g (NaN, then 1e30: garbage read
 * before it is written shows in the results) and its guard with SENTINEL. */
static real *garbage_ws(int g) {
    int i;
    for (i = 0; i < M_WORKSPACE_SIZE; i++)
        ws[i] = g == 0 ? (real)NAN : (real)1e30;
    fill_sentinel(ws + M_WORKSPACE_SIZE, GUARD);
    return ws;
}

/* Fails unless n values at a and b have the same bits, and unless the
 * workspace's guard is intact after a call of fn. */
static void same_bits_ws(int pt, int g, const char *fn, const real *a, const real *b, int n) {
    char what[200];
    int i;
    snprintf(what, sizeof what, "%s (into its workspace)", fn);
    check_guard(ws, M_WORKSPACE_SIZE, what);
    for (i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) {
            fail("point %d: %s with a workspace of %s gives %.17g at [%d], its plain function %.17g",
                 pt, fn, g == 0 ? "NaN" : "1e30", (double)a[i], i, (double)b[i]);
            return;
        }
}

/* (e) for a variable's gradient function: its _ws variant against plain[],
 * what the plain function wrote. */
static void check_grad_ws(int pt, const struct fd_var *var, const real *in, const real *p,
                          const real *plain, real *buf_ws) {
    char fn[160];
    int g;
    snprintf(fn, sizeof fn, "m_grad_%s_ws", var->name);
    for (g = 0; g < N_GARBAGE; g++) {
        fill_sentinel(buf_ws, var->size + GUARD);
        var->grad_ws(in, p, buf_ws, garbage_ws(g));
        check_guard(buf_ws, var->size, fn);
        same_bits_ws(pt, g, fn, buf_ws, plain, var->size);
    }
}
#endif

/* m_param_names: "name" for a scalar, "name[i]", "name[i][j]", ... (up to
 * four indices) in row-major order for a tensor: each name the previous
 * one with its last index advanced, carrying into the index before it as
 * an odometer does, every dimension wrapping at one size, and the last
 * name the tensor's last element. */
static void check_names(void) {
#if M_N_PARAMS > 0
    int v;
    for (v = 0; v < FD_NPARAMS; v++) {
        const struct fd_var *var = &fd_params[v];
        size_t n = strlen(var->name);
        int k, q, dims = -1;
        long prev[4] = {0, 0, 0, 0}, size[4] = {-1, -1, -1, -1};
        for (k = 0; k < var->size; k++) {
            const char *s = m_param_names[var->offset + k], *r;
            long idx[4] = {0, 0, 0, 0};
            int nd = 0, ok = 1;
            char *end;
            if (s == NULL || strncmp(s, var->name, n) != 0) {
                fail("m_param_names[%d] is \"%s\", expected %s or %s[...]",
                     var->offset + k, s ? s : "(null)", var->name, var->name);
                break;
            }
            r = s + n;
            while (*r == '[' && nd < 4) {
                idx[nd] = strtol(r + 1, &end, 10);
                if (end == r + 1 || *end != ']')
                    break;
                nd++;
                r = end + 1;
            }
            if (*r != '\0' || (dims >= 0 && nd != dims) || (nd == 0 && var->size != 1)) {
                fail("m_param_names[%d] is \"%s\": not %s or %s[i]... (param of %d scalars)",
                     var->offset + k, s, var->name, var->name, var->size);
                break;
            }
            dims = nd;
            if (k == 0) {
                for (q = 0; q < nd; q++)
                    ok &= idx[q] == 0;
            } else if (nd > 0) { /* the odometer's next reading */
                int f = 0;
                while (f < nd && idx[f] == prev[f])
                    f++;
                ok = f < nd && idx[f] == prev[f] + 1 && (size[f] < 0 || idx[f] < size[f]);
                for (q = f + 1; ok && q < nd; q++) { /* carried out of dimension q: its size */
                    ok = idx[q] == 0 && (size[q] < 0 || size[q] == prev[q] + 1);
                    size[q] = prev[q] + 1;
                }
            }
            if (!ok) {
                fail("m_param_names[%d] is \"%s\": not row-major after the name before it", var->offset + k, s);
                break;
            }
            for (q = 0; q < nd; q++)
                prev[q] = idx[q];
            if (k == var->size - 1 && nd > 0) {
                long total = prev[0] + 1;
                for (q = 1; q < nd; q++)
                    total *= prev[q] + 1;
                if (total != var->size)
                    fail("m_param_names: %s's last name is not the last element of a full tensor of %d scalars",
                         var->name, var->size);
            }
        }
    }
#endif
}

/* m_init: finite, within no buffer overrun, the same for the same seed. */
static void check_init(void) {
    static real a[M_N_PARAMS + GUARD], b[M_N_PARAMS + GUARD];
    int i;
    fill_sentinel(a, M_N_PARAMS + GUARD);
    fill_sentinel(b, M_N_PARAMS + GUARD);
    m_init(a, 42u);
    m_init(b, 42u);
    check_guard(a, M_N_PARAMS, "m_init");
    for (i = 0; i < M_N_PARAMS; i++) {
        if (!isfinite((double)a[i]))
            fail("m_init(p, 42) gives p[%d] = %g", i, (double)a[i]);
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0)
            fail("m_init(p, 42) is not deterministic at p[%d]", i);
    }
}

/* Checks (a)-(e) at one point; returns 0 if the point is not usable. */
static int check_point(int pt, real *in, real *p) {
    /* grad[M_N_GRAD] (at most M_N_PARAMS; also used for copies of p) */
    static real grad[M_N_PARAMS + GUARD], grad2[M_N_PARAMS + GUARD];
    static real buf[M_N_PARAMS + M_N_IN + GUARD], out[M_N_OUT + GUARD];
    static real in0[M_N_IN + 1], p0[M_N_PARAMS + 1];
    static double fds[M_N_PARAMS + 1];
#ifdef M_WORKSPACE_SIZE
    static real buf_ws[M_N_PARAMS + M_N_IN + GUARD];
    real r_ws;
    int g;
#endif
    real r, r2;
#ifdef FD_SGD_STEP
    real r_step;
#endif
    double l, l2, l3, e;
    int k, v, ok = 1;

    memcpy(in0, in, sizeof in0);
    memcpy(p0, p, sizeof p0);
    r = m_loss(in, p);
    l = (double)r;
    if (!isfinite(l))
        return 0;
    for (k = 0; k < M_N_PARAMS; k++)
        if (pick_p[k])
            fds[k] = fdiff(in, p, p, k, &ok);
    if (!ok)
        return 0;

    fill_sentinel(grad, M_N_PARAMS + GUARD);
    r2 = m_loss_grad(in, p, grad);
    l2 = (double)r2;
    check_guard(grad, M_N_GRAD, "m_loss_grad");
    fill_sentinel(grad2, M_N_PARAMS + GUARD);
    l3 = (double)m_loss_grad(in, p, grad2);
    if (!(l3 == l2 || (isnan(l3) && isnan(l2))) || memcmp(grad, grad2, sizeof grad) != 0)
        fail("point %d: a second call of m_loss_grad gives other values", pt);
    e = relerr(l, l2);
    if (e > worst_same)
        worst_same = e;
    if (e > tol_same)
        fail("point %d: m_loss_grad returns %.17g, m_loss %.17g (relerr %.2e > %.1e)", pt, l2, l, e, tol_same);
#ifdef M_WORKSPACE_SIZE
    /* (e) m_loss_ws and m_loss_grad_ws against m_loss and m_loss_grad */
    for (g = 0; g < N_GARBAGE; g++) {
        r_ws = m_loss_ws(in, p, garbage_ws(g));
        same_bits_ws(pt, g, "m_loss_ws", &r_ws, &r, 1);
        fill_sentinel(grad2, M_N_PARAMS + GUARD);
        r_ws = m_loss_grad_ws(in, p, grad2, garbage_ws(g));
        check_guard(grad2, M_N_GRAD, "m_loss_grad_ws");
        same_bits_ws(pt, g, "m_loss_grad_ws (its loss)", &r_ws, &r2, 1);
        same_bits_ws(pt, g, "m_loss_grad_ws", grad2, grad, M_N_GRAD);
    }
#ifdef FD_SGD_STEP_WS
    /* (e) m_sgd_step_ws against m_sgd_step: one step from p (in copies) */
    for (g = 0; g < N_GARBAGE; g++) {
        real s1, s2;
        memcpy(grad, p, M_N_PARAMS * sizeof *p);
        memcpy(grad2, p, M_N_PARAMS * sizeof *p);
        fill_sentinel(grad + M_N_PARAMS, GUARD);
        fill_sentinel(grad2 + M_N_PARAMS, GUARD);
        s1 = m_sgd_step(grad, in, (real)0.125);
        s2 = m_sgd_step_ws(grad2, in, (real)0.125, garbage_ws(g));
        check_guard(grad, M_N_PARAMS, "m_sgd_step");
        check_guard(grad2, M_N_PARAMS, "m_sgd_step_ws");
        same_bits_ws(pt, g, "m_sgd_step_ws (its loss)", &s2, &s1, 1);
        same_bits_ws(pt, g, "m_sgd_step_ws (the params after the step)", grad2, grad, M_N_PARAMS);
    }
    /* grad[] again, for (b) and (c) */
    fill_sentinel(grad, M_N_PARAMS + GUARD);
    r2 = m_loss_grad(in, p, grad);
#endif
#endif

    if (dump) {
        char what[32];
        snprintf(what, sizeof what, "point %d", pt);
        dump_values(what, &r2, 1);
        dump_values("grad", grad, M_N_PARAMS);
    }
    for (v = 0; v < FD_NPARAMS; v++) {
        const struct fd_var *var = &fd_params[v];
        for (k = 0; k < var->size; k++) {
            double g = (double)grad[var->goff + k], fd = fds[var->offset + k];
            if (!pick_p[var->offset + k])
                continue;
            fd_checked++;
            e = relerr(g, fd);
            if (e > worst_grad)
                worst_grad = e;
            if (e > tol_grad)
                fail("point %d: d loss/d %s: m_loss_grad %.17g, finite difference %.17g (relerr %.2e > %.1e)",
                     pt, scalar_name(var, k, 1), g, fd, e, tol_grad);
        }
        /* (c) the per-param function against m_loss_grad's slice */
        fill_sentinel(buf, var->size + GUARD);
        var->grad(in, p, buf);
        check_guard(buf, var->size, "a per-param m_grad_ function");
        for (k = 0; k < var->size; k++) {
            double g = (double)grad[var->goff + k], g1 = (double)buf[k];
            e = relerr(g, g1);
            if (e > worst_same)
                worst_same = e;
            if (e > tol_same)
                fail("point %d: m_grad_%s gives %.17g for %s, m_loss_grad %.17g (relerr %.2e > %.1e)",
                     pt, var->name, g1, scalar_name(var, k, 1), g, e, tol_same);
        }
#ifdef M_WORKSPACE_SIZE
        check_grad_ws(pt, var, in, p, buf, buf_ws);
#endif
    }

    /* (d) gradients with respect to inputs named in --wrt */
    for (v = 0; v < FD_NWRT; v++) {
        const struct fd_var *var = &fd_wrt[v];
        fill_sentinel(buf, var->size + GUARD);
        var->grad(in, p, buf);
        check_guard(buf, var->size, "an input's m_grad_ function");
        if (dump) {
            char what[160];
            snprintf(what, sizeof what, "wrt %s", var->name);
            dump_values(what, buf, var->size);
        }
#ifdef M_WORKSPACE_SIZE
        check_grad_ws(pt, var, in, p, buf, buf_ws);
#endif
        for (k = 0; k < var->size; k++) {
            double g = (double)buf[k], fd;
            if (!pick_in[var->offset + k])
                continue;
            fd = fdiff(in, p, in, var->offset + k, &ok);
            if (!ok)
                return 0;
            fd_checked++;
            e = relerr(g, fd);
            if (e > worst_grad)
                worst_grad = e;
            if (e > tol_grad)
                fail("point %d: d loss/d %s (input): m_grad_%s %.17g, finite difference %.17g (relerr %.2e > %.1e)",
                     pt, scalar_name(var, k, 0), var->name, g, fd, e, tol_grad);
        }
    }

#ifdef FD_SGD_STEP
    /* (f) one step from a copy of p, against grad[] */
    {
        static real q[M_N_PARAMS + GUARD];
        static unsigned char trained[M_N_PARAMS + 1];
        const real lr = (real)0.125;
        memset(trained, 0, sizeof trained);
        memcpy(q, p, M_N_PARAMS * sizeof *p);
        fill_sentinel(q + M_N_PARAMS, GUARD);
        r_step = m_sgd_step(q, in, lr);
        check_guard(q, M_N_PARAMS, "m_sgd_step");
        if (memcmp(&r_step, &r2, sizeof r2) != 0)
            fail("point %d: m_sgd_step returns %.17g, m_loss_grad %.17g", pt, (double)r_step, (double)r2);
        for (v = 0; v < FD_NPARAMS; v++)
            for (k = 0; k < fd_params[v].size; k++) {
                int j = fd_params[v].offset + k;
                real want = p[j] - lr * grad[fd_params[v].goff + k];
                trained[j] = 1;
                if (memcmp(&q[j], &want, sizeof want) != 0)
                    fail("point %d: m_sgd_step makes %s %.17g, not p - lr * grad = %.17g", pt,
                         scalar_name(&fd_params[v], k, 1), (double)q[j], (double)want);
            }
        for (k = 0; k < M_N_PARAMS; k++)
            if (!trained[k] && memcmp(&q[k], &p[k], sizeof q[k]) != 0)
                fail("point %d: m_sgd_step changes p[%d], a frozen param's", pt, k);
    }
#endif

    fill_sentinel(out, M_N_OUT + GUARD);
    m_outputs(in, p, out);
    check_guard(out, M_N_OUT, "m_outputs");
#ifdef M_WORKSPACE_SIZE
    for (g = 0; g < N_GARBAGE; g++) {
        fill_sentinel(buf_ws, M_N_OUT + GUARD);
        m_outputs_ws(in, p, buf_ws, garbage_ws(g));
        check_guard(buf_ws, M_N_OUT, "m_outputs_ws");
        same_bits_ws(pt, g, "m_outputs_ws", buf_ws, out, M_N_OUT);
    }
#endif
    if (memcmp(in0, in, sizeof in0) != 0 || memcmp(p0, p, sizeof p0) != 0)
        fail("point %d: the inputs or params changed during the checks", pt);
    return 1;
}

int main(int argc, char **argv) {
    static real in[M_N_IN + 1], p[M_N_PARAMS + 1];
    int points, pt, used = 0, i;

    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s LABEL POINTS TOL_GRAD TOL_SAME H [DUMP]\n", argv[0]);
        return 2;
    }
    if (argc == 7 && !(dump = fopen(argv[6], "w"))) {
        fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[6]);
        return 2;
    }
    label = argv[1];
    points = atoi(argv[2]);
    tol_grad = atof(argv[3]);
    tol_same = atof(argv[4]);
    hrel = atof(argv[5]);

    check_names();
    check_init();
    pick_components(fd_params, FD_NPARAMS, pick_p);
    pick_components(fd_wrt, FD_NWRT, pick_in);
    memset(in, 0, sizeof in);
    memset(p, 0, sizeof p);
    for (pt = 0; pt < points; pt++) {
        for (i = 0; i < M_N_IN; i++)
            in[i] = as_drawn(fd_in_lo[i] + (fd_in_hi[i] - fd_in_lo[i]) * uniform01());
        for (i = 0; i < M_N_PARAMS; i++)
            p[i] = as_drawn(fd_p_lo[i] + (fd_p_hi[i] - fd_p_lo[i]) * uniform01());
        used += check_point(pt, in, p);
    }
    if (dump && fclose(dump) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[6]);
        return 2;
    }
    if (2 * used < points)
        fail("only %d of %d points have a finite loss and finite differences", used, points);
    if (failures > MAXREPORT)
        printf("fdcheck: FAIL [%s] ... and %d more failures\n", label, failures - MAXREPORT);
    printf("fdcheck-driver: %s %s points=%d/%d worst_grad=%.2e worst_same=%.2e params=%d inputs=%d",
           label, failures ? "FAIL" : "ok", used, points, worst_grad, worst_same, M_N_PARAMS, M_N_IN);
    /* The figures of the optional checks, only when they ran. */
    if (FD_SAMPLE > 0)
        printf(" sample=%d fd_components=%ld", FD_SAMPLE, fd_checked);
    if (M_N_GRAD != M_N_PARAMS) /* --train/--freeze */
        printf(" trained=%d", M_N_GRAD);
#ifdef M_WORKSPACE_SIZE
    printf(" ws=%d", M_WORKSPACE_SIZE);
#endif
    printf("\n");
    return failures ? 1 : 0;
}
