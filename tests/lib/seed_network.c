/* Driver for tests/numeric/seed_network.expr (seeds/000, lab 5): the
 * five-point network at the lab's weights and x1 = 1, x2 = -1, placed with
 * the M_PARAM_/M_IN_ offset macros; prints the output fout (m_outputs) and,
 * for y = 1 and y = 0, the loss and every param's gradient by its name in
 * m_param_names.  C99. */
#include "m.h"

#include <stdio.h>

int main(void) {
    m_real in[M_N_IN], p[M_N_PARAMS], g[M_N_PARAMS], out[M_N_OUT];
    int y, k;

    p[M_PARAM_b1] = 1.543385;
    p[M_PARAM_w11] = 3.111573;
    p[M_PARAM_w12] = -2.808800;
    p[M_PARAM_b2] = 1.373085;
    p[M_PARAM_w21] = 3.130452;
    p[M_PARAM_w22] = -2.813466;
    p[M_PARAM_c] = -4.241453;
    p[M_PARAM_u1] = 4.036489;
    p[M_PARAM_u2] = 4.074885;
    in[M_IN_x1] = 1;
    in[M_IN_x2] = -1;
    for (y = 1; y >= 0; y--) {
        in[M_IN_y] = (m_real)y;
        m_outputs(in, p, out);
        printf("y %d fout %.17g\n", y, (double)out[M_OUT_fout]);
        printf("y %d loss %.17g\n", y, (double)m_loss_grad(in, p, g));
        for (k = 0; k < M_N_PARAMS; k++)
            printf("y %d grad %s %.17g\n", y, m_param_names[k], (double)g[k]);
    }
    return 0;
}
