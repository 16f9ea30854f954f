/* run_main.c: the driver that fuzzrun.py compiles, under ASan and UBSan,
 * with one model dcc emitted with --prefix m (m.h beside it).
 *
 *     run init SEED   print m_init(p, SEED)'s params, %.17g, on one line
 *     run LR N        read N points on standard input: M_N_IN inputs
 *                     then M_N_PARAMS params each; print for each the
 *                     loss and gradient of m_loss_grad, %.17g, on one line
 *
 * At each point it also calls every other function of the model that
 * takes a point (m_loss, m_outputs, m_sgd_step with rate LR, and with
 * loops the _ws variants with a workspace of exactly M_WORKSPACE_SIZE
 * reals from malloc, so that ASan sees an overrun), and prints a line
 * "MISMATCH ..." where they disagree with m_loss_grad: m_loss's value
 * (within 1e-12 relative, or the same non-finite value), m_sgd_step's
 * result and updated params (bit for bit the loss, and p - LR * grad, as
 * README.md says), the _ws variants (bit for bit).  C99. */
#include "m.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NI (M_N_IN + 1)
#define NP (M_N_PARAMS + 1)

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); }

static int close_to(double a, double b) {
    if (a != a || b != b || !isfinite(a) || !isfinite(b))
        return same_bits(a, b) || (a == b);
    return fabs(a - b) <= 1e-12 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

int main(int argc, char **argv) {
    static m_real in[NI], p[NP], g[NP], q[NP], out[M_N_OUT + 1];
    double lr;
    int point, points, i;
    if (argc == 3 && strcmp(argv[1], "init") == 0) {
        m_init(p, (uint32_t)strtoul(argv[2], NULL, 10));
        for (i = 0; i < M_N_PARAMS; i++)
            printf(i ? " %.17g" : "%.17g", (double)p[i]);
        printf("\n");
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: run init SEED | run LR N < points\n");
        return 2;
    }
    lr = strtod(argv[1], NULL);
    points = atoi(argv[2]);
    for (point = 1; point <= points; point++) {
        double v, l, l2;
        for (i = 0; i < M_N_IN + M_N_PARAMS; i++) {
            if (scanf("%lf", &v) != 1)
                return 2;
            if (i < M_N_IN)
                in[i] = (m_real)v;
            else
                p[i - M_N_IN] = (m_real)v;
        }
        l = (double)m_loss_grad(in, p, g);
        printf("%.17g", l);
        for (i = 0; i < M_N_PARAMS; i++)
            printf(" %.17g", (double)g[i]);
        printf("\n");
        l2 = (double)m_loss(in, p);
        if (!close_to(l, l2))
            printf("MISMATCH point %d: m_loss %.17g, m_loss_grad %.17g\n", point, l2, l);
        m_outputs(in, p, out);
#if M_N_PARAMS > 0 /* no params, no _sgd_step */
        memcpy(q, p, sizeof p);
        l2 = (double)m_sgd_step(q, in, (m_real)lr);
        if (!same_bits(l, l2))
            printf("MISMATCH point %d: m_sgd_step returns %.17g, m_loss_grad %.17g\n", point, l2, l);
        for (i = 0; i < M_N_PARAMS; i++)
            if (!same_bits((double)q[i], (double)(p[i] - (m_real)lr * g[i]))) {
                printf("MISMATCH point %d: m_sgd_step makes p[%d] %.17g, p - lr grad is %.17g\n", point, i,
                       (double)q[i], (double)(p[i] - (m_real)lr * g[i]));
                break;
            }
#endif
#ifdef M_WORKSPACE_SIZE
        {
            m_real *ws = malloc(sizeof *ws * M_WORKSPACE_SIZE), *g2 = malloc(sizeof *g2 * NP);
            if (!ws || !g2)
                return 2;
            l2 = (double)m_loss_grad_ws(in, p, g2, ws);
            if (!same_bits(l, l2) || memcmp(g, g2, sizeof *g2 * M_N_PARAMS) != 0)
                printf("MISMATCH point %d: m_loss_grad_ws differs from m_loss_grad\n", point);
            l2 = (double)m_loss_ws(in, p, ws);
            if (!close_to(l, l2))
                printf("MISMATCH point %d: m_loss_ws %.17g, m_loss_grad %.17g\n", point, l2, l);
            m_outputs_ws(in, p, out, ws);
            free(ws);
            free(g2);
        }
#endif
        fflush(stdout);
    }
    return 0;
}
