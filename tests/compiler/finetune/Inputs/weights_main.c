/* weights_main.c: a model compiled with --weights whole (--prefix full)
 * and with --weights and --train or --freeze (--prefix sub), whose frozen
 * params are constant arrays and out of p[], gives the same bits where the
 * two overlap.  Each sub param is found in full's p[] by its name
 * (P_param_names).  At pseudo-random inputs in [-1, 1]:
 *   - sub_init's p[] holds the values full_init gives those params;
 *   - sub's loss, outputs and loss_grad's loss are full's;
 *   - sub's grad[] is full's at the trainable params (sub_grad_ranges);
 *   - sub_sgd_step updates them as full_sgd_step does.
 * Prints one line; exits 1 on a difference. */
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
    static real in[FULL_N_IN + 1], pf[FULL_N_PARAMS + 1], ps[SUB_N_PARAMS + 1], qf[FULL_N_PARAMS + 1],
        qs[SUB_N_PARAMS + 1];
    static real gf[FULL_N_GRAD + 1], gs[SUB_N_GRAD + 1], of[FULL_N_OUT + 1], os[FULL_N_OUT + 1];
    static int at[SUB_N_PARAMS + 1]; /* each sub param's index in full's p[] */
    int bad = 0, compared = 0;
    full_init(pf, 1);
    sub_init(ps, 2);
    for (int j = 0; j < SUB_N_PARAMS; j++) {
        at[j] = -1;
        for (int k = 0; k < FULL_N_PARAMS; k++)
            if (!strcmp(sub_param_names[j], full_param_names[k]))
                at[j] = k;
        if (at[j] < 0 || !same(ps[j], pf[at[j]])) {
            printf("sub's %s is not full's\n", sub_param_names[j]);
            bad++;
        }
    }
    for (int pt = 0; pt < 6 && !bad; pt++) {
        for (int i = 0; i < FULL_N_IN; i++)
            in[i] = (real)uniform();
        real lf = full_loss_grad(in, pf, gf), ls = sub_loss_grad(in, ps, gs);
        bad += !same(lf, ls) || !same(full_loss(in, pf), sub_loss(in, ps));
        full_outputs(in, pf, of);
        sub_outputs(in, ps, os);
        for (int i = 0; i < FULL_N_OUT; i++)
            bad += !same(of[i], os[i]);
        int g = 0;
        for (int r = 0; r < SUB_N_GRAD_RANGES; r++)
            for (int k = 0; k < sub_grad_ranges[r][1]; k++, g++) {
                int j = sub_grad_ranges[r][0] + k;
                compared++;
                if (!same(gs[g], gf[at[j]])) {
                    if (bad < 5)
                        printf("point %d: d loss / d %s: %.17g with %s, %.17g whole\n", pt, sub_param_names[j],
                               (double)gs[g], SUBSET_OPTION, (double)gf[at[j]]);
                    bad++;
                }
            }
        bad += g != SUB_N_GRAD;
        memcpy(qf, pf, sizeof qf);
        memcpy(qs, ps, sizeof qs);
        bad += !same(full_sgd_step(qf, in, (real)0.25), sub_sgd_step(qs, in, (real)0.25));
        for (int j = 0; j < SUB_N_PARAMS; j++)
            bad += !same(qs[j], qf[at[j]]);
    }
    printf("weights %s: %d of %d params in p[], %d in constant arrays; %d gradient values compared: %s\n",
           SUBSET_OPTION, SUB_N_PARAMS, FULL_N_PARAMS, FULL_N_PARAMS - SUB_N_PARAMS, compared,
           bad ? "DIFFERENT" : "the same bits");
    return bad != 0;
}
