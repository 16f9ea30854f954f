/* Every function of the model g (genmodel.py's Gaussian mixture) at a few
 * points, printed exactly (%a): a function written in parts must give the
 * bits the same function gives in one piece. */
#include <stdio.h>
#include <string.h>

#include "g.h"

int main(void) {
  static g_real in[G_N_IN], p[G_N_PARAMS], grad[G_N_PARAMS], step[G_N_PARAMS], out[G_N_OUT + 1];
  static g_real gmu[G_N_PARAMS], glogs[G_N_PARAMS], glogit[G_N_PARAMS];
  for (int point = 0; point < 3; point++) {
    for (int i = 0; i < G_N_IN; i++)
      in[i] = (g_real)((i * 7 + point * 3) % 11 - 5) / 4;
    g_init(p, (uint32_t)point + 1);
    printf("loss %a\n", (double)g_loss(in, p));
    printf("loss_grad %a\n", (double)g_loss_grad(in, p, grad));
    g_grad_mu(in, p, gmu);
    g_grad_logs(in, p, glogs);
    g_grad_logit(in, p, glogit);
    memcpy(step, p, sizeof p);
    printf("sgd_step %a\n", (double)g_sgd_step(step, in, (g_real)0.01));
    g_outputs(in, p, out);
    for (int i = 0; i < G_N_PARAMS; i++)
      printf("%d %a %a\n", i, (double)grad[i], (double)step[i]);
    for (int i = 0; i < G_N_PARAMS / 3; i++)
      printf("%d %a %a %a\n", i, (double)gmu[i], (double)glogs[i], (double)glogit[i]);
    for (int i = 0; i < G_N_OUT; i++)
      printf("out %d %a\n", i, (double)out[i]);
  }
  return 0;
}
