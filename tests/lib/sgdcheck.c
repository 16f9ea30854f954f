/* sgdcheck: m_sgd_step(p, in, lr) against m_loss_grad followed by the
 * update p -= lr * grad, at a few deterministic points: the same loss and
 * the same parameters, bit for bit (both round lr * g once and subtract).
 * Prints "sgdcheck: N points, M params: identical" or the first mismatch. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "m.h"

static uint32_t state = 12345;
static double uniform(double lo, double hi) {
    state = state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (double)(state >> 8) / 16777216.0;
}

static m_real p0[M_N_PARAMS], p1[M_N_PARAMS], p2[M_N_PARAMS], grad[M_N_PARAMS], in[M_N_IN + 1];

int main(void) {
    const m_real lr = (m_real)0.125;
    int points = 4;
    for (int pt = 0; pt < points; pt++) {
        m_init(p0, (uint32_t)pt + 1);
        for (int j = 0; j < M_N_PARAMS; j++)
            p0[j] += (m_real)uniform(-0.5, 0.5);
        for (int i = 0; i < M_N_IN; i++)
            in[i] = (m_real)uniform(0.05, 1);
        memcpy(p1, p0, sizeof p0);
        memcpy(p2, p0, sizeof p0);
        m_real l1 = m_sgd_step(p1, in, lr);
        m_real l2 = m_loss_grad(in, p2, grad);
        for (int j = 0; j < M_N_PARAMS; j++)
            p2[j] -= lr * grad[j];
        if (memcmp(&l1, &l2, sizeof l1)) {
            printf("sgdcheck: point %d: m_sgd_step returns %.17g, m_loss_grad %.17g\n", pt, (double)l1, (double)l2);
            return 1;
        }
        for (int j = 0; j < M_N_PARAMS; j++)
            if (memcmp(&p1[j], &p2[j], sizeof p1[j])) {
                printf("sgdcheck: point %d: p[%d] (%s) is %.17g after m_sgd_step, %.17g after m_loss_grad and the update\n",
                       pt, j, m_param_names[j], (double)p1[j], (double)p2[j]);
                return 1;
            }
    }
    printf("sgdcheck: %d points, %d params: identical\n", points, M_N_PARAMS);
    return 0;
}
