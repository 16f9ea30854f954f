/* subset_main.c: a model compiled twice, whole (--prefix full) and with
 * --train or --freeze (--prefix sub), gives the same bits where the two
 * overlap.  At pseudo-random points (inputs and params in [-1, 1]):
 *   - sub_loss_grad's loss is full_loss_grad's;
 *   - sub's grad[] is full's restricted to sub_grad_ranges (each run
 *     {offset in p, count} of p[] in grad[] order), value for value;
 *   - full_sgd_step is full_loss_grad followed by p -= lr * grad, and
 *     sub_sgd_step makes the same update of the trainable params and
 *     leaves the frozen ones as they were;
 *   - sub_loss and sub_outputs are full's.
 * Prints one line; exits 1 on a difference.  SUB_WS: the model has loops
 * (the _ws functions are called too, with a workspace of their own). */
#include "full.h"
#include "sub.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef full_real real;

static uint64_t state = 0x9E3779B97F4A7C15u;
static double uniform(void) { /* splitmix64, in [-1, 1) */
    uint64_t z = (state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    return (double)(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static int same(real a, real b) { return memcmp(&a, &b, sizeof a) == 0; }

int main(void) {
    static real in[FULL_N_IN + 1], p[FULL_N_PARAMS + 1], p1[FULL_N_PARAMS + 1], p2[FULL_N_PARAMS + 1];
    static real gf[FULL_N_GRAD + 1], gs[SUB_N_GRAD + 1], of[FULL_N_OUT + 1], os[FULL_N_OUT + 1];
    int bad = 0, compared = 0, frozen = 0;
    if (SUB_N_PARAMS != FULL_N_PARAMS || SUB_N_IN != FULL_N_IN || SUB_N_OUT != FULL_N_OUT) {
        printf("subset: the two models differ in size\n");
        return 1;
    }
    for (int pt = 0; pt < 6; pt++) {
        for (int i = 0; i < FULL_N_IN; i++)
            in[i] = (real)uniform();
        for (int i = 0; i < FULL_N_PARAMS; i++)
            p[i] = (real)uniform();
        real lf = full_loss_grad(in, p, gf), ls = sub_loss_grad(in, p, gs);
        bad += !same(lf, ls) || !same(full_loss(in, p), sub_loss(in, p));
        full_outputs(in, p, of);
        sub_outputs(in, p, os);
        for (int i = 0; i < FULL_N_OUT; i++)
            bad += !same(of[i], os[i]);
        static unsigned char trained[FULL_N_PARAMS + 1];
        memset(trained, 0, sizeof trained);
        int g = 0;
        for (int r = 0; r < SUB_N_GRAD_RANGES; r++)
            for (int k = 0; k < sub_grad_ranges[r][1]; k++, g++) {
                int j = sub_grad_ranges[r][0] + k;
                trained[j] = 1;
                compared++;
                if (!same(gs[g], gf[j])) {
                    if (bad < 5)
                        printf("point %d: d loss / d %s: %.17g with %s, %.17g whole\n", pt, full_param_names[j],
                               (double)gs[g], SUBSET_OPTION, (double)gf[j]);
                    bad++;
                }
            }
        bad += g != SUB_N_GRAD;
#if SUB_N_GRAD > 0
        memcpy(p1, p, sizeof p1);
        memcpy(p2, p, sizeof p2);
        bad += !same(full_sgd_step(p1, in, (real)0.25), sub_sgd_step(p2, in, (real)0.25));
        for (int j = 0; j < FULL_N_PARAMS; j++) {
            /* _sgd_step is _loss_grad and p -= lr * grad, bit for bit */
            if (!same(p1[j], p[j] - (real)0.25 * gf[j])) {
                if (bad < 5)
                    printf("point %d: %s after full_sgd_step: %.17g, not p - lr * grad %.17g\n", pt,
                           full_param_names[j], (double)p1[j], (double)(p[j] - (real)0.25 * gf[j]));
                bad++;
            }
            if (!same(p2[j], trained[j] ? p1[j] : p[j])) {
                if (bad < 5)
                    printf("point %d: %s after sub_sgd_step: %.17g\n", pt, full_param_names[j], (double)p2[j]);
                bad++;
            }
            frozen += !trained[j] && pt == 0;
        }
#endif
    }
    printf("subset %s: %d of %d params trained, %d frozen; %d gradient values compared: %s\n", SUBSET_OPTION,
           SUB_N_GRAD, FULL_N_PARAMS, frozen, compared, bad ? "DIFFERENT" : "the same bits");
    return bad != 0;
}
