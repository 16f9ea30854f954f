// A C++ program that trains a model dcc emitted, through the runtime
// compiled as C: the headers' extern "C" and DCC_MODEL work in C++.
#include <cstdio>

#include "dcc_host.h"
#include "dcc_train.h"
#include "quad.h"

int main() {
  dcc_model m = DCC_MODEL(quad, QUAD);
  dcc_real p[QUAD_N_PARAMS], grad[QUAD_N_PARAMS], acc[QUAD_N_PARAMS];
  dcc_workspace w = {grad, acc, NULL, NULL};
  dcc_sgd_options o = dcc_sgd_defaults(10, 0.1);
  o.batch_size = 0;
  o.tolerance = 1e-4;
  quad_init(p, 0);
  static const dcc_real none[1] = {0};
  int epochs = dcc_sgd(&m, p, none, 1, &o, &w);
  std::printf("epochs %d\n", epochs);
  std::printf("x %.6f %.6f\n", p[0], p[1]);
  return 0;
}
