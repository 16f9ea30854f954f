/* Gradient descent on f(x1, x2) = (x1 - 6)^2 + x2^2 - x1*x2 (quadratic.expr,
 * a copy of examples/quadratic's model) with the gradient that dcc derived
 * and the runtime's dcc_sgd: full batch on one sample of no inputs, rate
 * 0.1, at most 100 steps, stopping when f improves by less than 1e-4. */
#include <stdio.h>

#include "dcc_train.h"
#include "quadratic_grad.h"

int main(void) {
  dcc_real x[QUADRATIC_N_PARAMS], grad[QUADRATIC_N_PARAMS], acc[QUADRATIC_N_PARAMS];
  static const dcc_real no_data[1] = {0};
  dcc_model m = DCC_MODEL(quadratic, QUADRATIC);
  dcc_workspace w = {grad, acc, NULL, NULL};
  dcc_sgd_options o = dcc_sgd_defaults(100, 0.1);
  o.batch_size = 0; /* full batch */
  o.tolerance = 1e-4;
  quadratic_init(x, 0); /* (6, 6), as quadratic.expr says */
  int steps = dcc_sgd(&m, x, no_data, 1, &o, &w);
  printf("steps: %d\n", steps);
  printf("x: %f %f\n", (double)x[0], (double)x[1]);
  printf("f(x): %f\n", (double)quadratic_loss(NULL, x));
  return steps < 0;
}
