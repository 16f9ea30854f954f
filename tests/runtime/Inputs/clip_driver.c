/* dcc_clip_grad_norm on vectors whose norm is known: (3, 4) has norm 5,
 * clipped to 1 it becomes (3, 4) / (5 + 1e-6); a norm below the limit
 * leaves the vector as it is; (1e200, 1e200) (float: 1e30) has a norm whose
 * square overflows, and still comes out right. */
#include <stdio.h>

#include "dcc_train.h"

int main(void) {
  dcc_real g[2] = {3, 4};
  dcc_real norm = dcc_clip_grad_norm(g, 2, 1);
  printf("(3, 4), max 1: norm %.9g, now (%.9g, %.9g), expected (%.9g, %.9g)\n", (double)norm, (double)g[0],
         (double)g[1], (double)((dcc_real)3 * ((dcc_real)1 / ((dcc_real)5 + (dcc_real)1e-6))),
         (double)((dcc_real)4 * ((dcc_real)1 / ((dcc_real)5 + (dcc_real)1e-6))));
  g[0] = 3, g[1] = 4;
  norm = dcc_clip_grad_norm(g, 2, 10);
  printf("(3, 4), max 10: norm %.9g, now (%.9g, %.9g)\n", (double)norm, (double)g[0], (double)g[1]);
  dcc_real big = sizeof(dcc_real) == sizeof(float) ? (dcc_real)1e30 : (dcc_real)1e200;
  g[0] = g[1] = big;
  norm = dcc_clip_grad_norm(g, 2, 1);
  printf("(B, B), max 1: norm / B %.6f, now (%.6f, %.6f)\n", (double)(norm / big), (double)g[0], (double)g[1]);
  printf("empty: norm %g\n", (double)dcc_clip_grad_norm(g, 0, 1));
  return 0;
}
