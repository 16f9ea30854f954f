/* evalgrad: evaluate a model that dcc generated with --prefix m at one
 * point given on the command line, and print its loss, gradient and
 * outputs with %.17g, one per line, for FileCheck:
 *
 *     evalgrad P0 P1 ... [-- IN0 IN1 ...]
 *
 * takes exactly M_N_PARAMS param values (in p[] order) and, after `--`,
 * M_N_IN input values, and prints
 *     loss VALUE
 *     grad NAME VALUE     for each param scalar, NAME from m_param_names
 *     out K VALUE         for each output scalar
 * Build: %strictcc -I%t.dir %t.dir/m.c %lib/evalgrad.c -o %t.dir/eval -lm
 * (the model must have a loss).  C99. */
#include "m.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    m_real in[M_N_IN + 1], p[M_N_PARAMS + 1], g[M_N_PARAMS + 1], out[M_N_OUT + 1];
    int np = 0, ni = 0, inputs = 0, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            inputs = 1;
        } else if (!inputs && np < M_N_PARAMS) {
            p[np++] = (m_real)strtod(argv[i], NULL);
        } else if (inputs && ni < M_N_IN) {
            in[ni++] = (m_real)strtod(argv[i], NULL);
        } else {
            fprintf(stderr, "evalgrad: too many values (the model has %d params, %d inputs)\n",
                    M_N_PARAMS, M_N_IN);
            return 2;
        }
    }
    if (np != M_N_PARAMS || ni != M_N_IN) {
        fprintf(stderr, "evalgrad: got %d params and %d inputs; the model has %d and %d\n", np,
                ni, M_N_PARAMS, M_N_IN);
        return 2;
    }
    printf("loss %.17g\n", (double)m_loss_grad(in, p, g));
#if M_N_PARAMS > 0
    for (i = 0; i < M_N_PARAMS; i++)
        printf("grad %s %.17g\n", m_param_names[i], (double)g[i]);
#endif
    m_outputs(in, p, out);
    for (i = 0; i < M_N_OUT; i++)
        printf("out %d %.17g\n", i, (double)out[i]);
    return 0;
}
