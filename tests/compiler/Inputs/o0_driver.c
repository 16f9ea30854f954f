/* o0_driver.c: compares the optimised and the -O0 code of Inputs/net.expr.
 *
 * Build: dcc net.expr --prefix a -o DIR/a.c; dcc net.expr -O0 --prefix b
 * -o DIR/b.c; cc -IDIR DIR/a.c DIR/b.c o0_driver.c -lm.  Prints the loss at
 * a fixed point from both (6 significant digits), then, over several
 * points, every loss, gradient component (from _loss_grad and from each
 * _grad_ function) and output of both, and how many differ by more than a
 * relative 1e-12. */
#include <math.h>
#include <stdio.h>

#include "a.h"
#include "b.h"

static int n_compared, n_differ;

static void compare(const char *what, int k, double x, double y) {
  double scale = fabs(x) > 1 ? fabs(x) : 1;
  n_compared++;
  if (!(fabs(x - y) <= 1e-12 * scale)) {
    n_differ++;
    printf("differ: %s[%d]: %.17g (optimised) vs %.17g (-O0)\n", what, k, x, y);
  }
}

int main(void) {
  double in[A_N_IN], p[A_N_PARAMS];
  double ga[A_N_PARAMS], gb[B_N_PARAMS], oa[A_N_OUT], ob[B_N_OUT];
  if (A_N_IN != B_N_IN || A_N_PARAMS != B_N_PARAMS || A_N_OUT != B_N_OUT) {
    printf("the two builds disagree on the vector sizes\n");
    return 1;
  }
  for (int pt = 0; pt < 6; pt++) {
    for (int i = 0; i < A_N_IN; i++)
      in[i] = 0.37 * (i + 1) - 0.5 * pt + (i == A_N_IN - 1 ? (pt % 2) : 0);
    in[A_IN_y] = pt % 2;
    for (int j = 0; j < A_N_PARAMS; j++)
      p[j] = 0.3 * sin(1.7 * j + pt) + 0.05 * pt;
    double la = a_loss_grad(in, p, ga), lb = b_loss_grad(in, p, gb);
    if (pt == 0)
      printf("loss at point 0: optimised %.6g, -O0 %.6g\n", la, lb);
    compare("loss_grad value", pt, la, lb);
    compare("loss", pt, a_loss(in, p), b_loss(in, p));
    for (int j = 0; j < A_N_PARAMS; j++)
      compare("grad", j, ga[j], gb[j]);
    compare("grad_b1", pt, a_grad_b1(in, p), b_grad_b1(in, p));
    compare("grad_c", pt, a_grad_c(in, p), b_grad_c(in, p));
    compare("grad_w11", pt, a_grad_w11(in, p), b_grad_w11(in, p));
    compare("grad_w22", pt, a_grad_w22(in, p), b_grad_w22(in, p));
    compare("grad_u2", pt, a_grad_u2(in, p), b_grad_u2(in, p));
    compare("grad[w11] vs grad_w11", pt, ga[A_PARAM_w11], b_grad_w11(in, p));
    a_outputs(in, p, oa);
    b_outputs(in, p, ob);
    for (int k = 0; k < A_N_OUT; k++)
      compare("out", k, oa[k], ob[k]);
  }
  printf("compared %d values, %d differ\n", n_compared, n_differ);
  return n_differ != 0;
}
