/* Driver for tests/numeric/seed_lab5.expr (seeds/000, lab 5): evaluates
 * loss = 4*x*y + exp(-y) and its derivatives at x = 2, y = 3 through the
 * C that dcc generated with --prefix m.  C99. */
#include "m.h"

#include <stdio.h>

int main(void) {
    m_real in[M_N_IN + 1] = {0}, p[M_N_PARAMS], g[M_N_PARAMS], out[M_N_OUT];
    m_real l;

    p[M_PARAM_x] = 2;
    p[M_PARAM_y] = 3;
    printf("loss %.17g\n", (double)m_loss(in, p));
    l = m_loss_grad(in, p, g);
    printf("loss_grad %.17g dx %.17g dy %.17g\n", (double)l, (double)g[M_PARAM_x],
           (double)g[M_PARAM_y]);
    printf("grad_x %.17g grad_y %.17g\n", (double)m_grad_x(in, p), (double)m_grad_y(in, p));
    m_outputs(in, p, out);
    printf("diff(f, x) %.17g diff(f, x, y) %.17g\n", (double)out[M_OUT_dx], (double)out[M_OUT_dxy]);
    return 0;
}
