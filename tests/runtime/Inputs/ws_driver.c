/* DCC_MODEL_WS: a loops model trained through its _ws functions in the
 * caller's static workspace, against the same run through DCC_MODEL (the
 * plain functions, their workspace on the stack).  The workspace starts
 * full of NaN: the _ws function must write every value before it reads it,
 * or the run breaks.  Also: the macros expand their arguments (MODEL and
 * MODEL_U come from -D), and a NULL ws is DCC_ERR_MODEL_WS. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dcc_train.h"
#include HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define N_IN CAT(MODEL_U, _N_IN)
#define N_PARAMS CAT(MODEL_U, _N_PARAMS)
#define WS_SIZE CAT(MODEL_U, _WORKSPACE_SIZE)

static dcc_real ws[WS_SIZE];
static const dcc_model plain = DCC_MODEL(MODEL, MODEL_U);
static const dcc_model with_ws = DCC_MODEL_WS(MODEL, MODEL_U, ws);

enum { N = 12 };
static dcc_real data[N][N_IN];

static int train(const dcc_model *m, dcc_real *p) {
  static dcc_real grad[N_PARAMS], acc[N_PARAMS], vel[N_PARAMS];
  static int order[N];
  dcc_workspace w = {grad, acc, vel, order};
  dcc_sgd_options o = dcc_sgd_defaults(30, (dcc_real)0.1);
  o.batch_size = 4;
  o.momentum = (dcc_real)0.5;
  o.shuffle = 1;
  o.seed = 3;
  m->init(p, 9);
  return dcc_sgd(m, p, &data[0][0], N, &o, &w);
}

int main(void) {
  uint32_t rng = 1;
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < 4; j++)
      data[i][j] = (dcc_real)dcc_rng_normal(&rng);
    data[i][4 + i % 3] = 1;
  }
  for (int k = 0; k < WS_SIZE; k++)
    ws[k] = (dcc_real)NAN;
  static dcc_real p1[N_PARAMS], p2[N_PARAMS];
  int r1 = train(&plain, p1), r2 = train(&with_ws, p2);
  int written = 0;
  for (int k = 0; k < WS_SIZE; k++)
    written += !isnan(ws[k]);
  printf("workspace: %d values, %s\n", WS_SIZE, written ? "used" : "untouched");
  printf("plain: %d epochs, ws: %d epochs, params identical: %s\n", r1, r2,
         memcmp(p1, p2, sizeof p1) ? "no" : "yes");
  dcc_real grad[N_PARAMS];
  printf("mean loss with ws: %s\n",
         dcc_mean_loss(&with_ws, p2, &data[0][0], N, grad) == dcc_mean_loss(&plain, p2, &data[0][0], N, grad)
             ? "the same"
             : "different");
  dcc_model no_ws = with_ws;
  no_ws.ws = NULL;
  int r = train(&no_ws, p2);
  printf("ws NULL: %d %s\n", r, dcc_strerror(r));
  return 0;
}
