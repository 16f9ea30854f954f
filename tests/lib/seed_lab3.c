/* Driver for tests/numeric/seed_lab3.expr (seeds/002, lab 3): the quadratic
 * f(x1, x2) = (x1-6)^2 + x2^2 - x1*x2 with x1, x2 as params; its value and
 * gradient at (6, 6), the lab's three gradient-descent steps (step sizes
 * 1/2, 1/3, 1/4) and its optimizer (rate 0.1, at most 10 steps, stop when
 * the loss improves by less than 1e-4), all through the generated C.  C99. */
#include "m.h"

#include <stdio.h>

static m_real in[M_N_IN + 1];

static void show(const m_real *p) {
    m_real g[M_N_PARAMS];
    m_real l = m_loss_grad(in, p, g);
    printf("x (%.17g, %.17g) loss %.17g grad (%.17g, %.17g)\n", (double)p[M_PARAM_x1],
           (double)p[M_PARAM_x2], (double)l, (double)g[M_PARAM_x1], (double)g[M_PARAM_x2]);
}

int main(void) {
    m_real p[M_N_PARAMS], g[M_N_PARAMS], v, vnew;
    int step;

    p[M_PARAM_x1] = 6;
    p[M_PARAM_x2] = 6;
    printf("loss %.17g\n", (double)m_loss(in, p));
    printf("grad_x1 %.17g grad_x2 %.17g\n", (double)m_grad_x1(in, p), (double)m_grad_x2(in, p));
    for (step = 2; step <= 4; step++) {
        show(p);
        m_loss_grad(in, p, g);
        p[M_PARAM_x1] -= g[M_PARAM_x1] / step;
        p[M_PARAM_x2] -= g[M_PARAM_x2] / step;
    }
    show(p);

    p[M_PARAM_x1] = 6;
    p[M_PARAM_x2] = 6;
    v = m_loss(in, p);
    for (step = 0; step < 10; step++) {
        m_loss_grad(in, p, g);
        p[M_PARAM_x1] -= (m_real)0.1 * g[M_PARAM_x1];
        p[M_PARAM_x2] -= (m_real)0.1 * g[M_PARAM_x2];
        vnew = m_loss(in, p);
        if (v - vnew < (m_real)1e-4)
            break;
        v = vnew;
    }
    printf("optimizer %.6f %.6f\n", (double)p[M_PARAM_x1], (double)p[M_PARAM_x2]);
    return 0;
}
