/* The five-point network of lab 5 in single precision: the model made with
 * dcc --real float, the runtime compiled with -DDCC_TRAIN_REAL=float.
 * Per-sample SGD, 250 epochs, rate 2.5 then 0.5 from epoch 100 (lab 5). */
#include <stdio.h>

#include "dcc_train.h"
/* dcc's header: five_points.h, or (CMake's dcc_add_model) five_points_grad.h */
#ifndef MODEL_HEADER
#define MODEL_HEADER "five_points.h"
#endif
#include MODEL_HEADER

static const dcc_real data[5][3] = {
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  dcc_real *last = ctx;
  *last = r->loss_mean;
  if (r->epoch == 0 || (r->epoch + 1) % 50 == 0)
    printf("epoch %d rate %.2f\n", r->epoch + 1, (double)r->rate);
}

int main(void) {
  static const int until[] = {100};
  static const dcc_real rates[] = {(dcc_real)2.5, (dcc_real)0.5};
  dcc_real p[FIVE_POINTS_N_PARAMS], grad[FIVE_POINTS_N_PARAMS], acc[FIVE_POINTS_N_PARAMS], last = -1;
  dcc_model m = DCC_MODEL(five_points, FIVE_POINTS);
  dcc_workspace w = {grad, acc, NULL, NULL};
  dcc_sgd_options o = dcc_sgd_defaults(250, 0);
  o.schedule_until = until;
  o.schedule_rate = rates;
  o.schedule_len = 2;
  o.on_epoch = on_epoch;
  o.ctx = &last;
  printf("float: %s\n", sizeof(dcc_real) == sizeof(float) && sizeof(five_points_real) == sizeof(float) ? "yes" : "no");
  five_points_init(p, 5);
  double before = (double)dcc_mean_loss(&m, p, &data[0][0], 5, grad);
  printf("epochs %d\n", dcc_sgd(&m, p, &data[0][0], 5, &o, &w));
  double after = (double)dcc_mean_loss(&m, p, &data[0][0], 5, grad);
  printf("mean loss before %.3f, after below 0.05: %s\n", before, after < 0.05 ? "yes" : "no");
  printf("last epoch's mean loss below 0.05: %s\n", last < (dcc_real)0.05 ? "yes" : "no");
  for (int i = 0; i < 5; i++) {
    dcc_real out[FIVE_POINTS_N_OUT];
    five_points_outputs(data[i], p, out);
    printf("sample %d true %d pred %d\n", i, (int)data[i][2], out[FIVE_POINTS_OUT_fout] > (dcc_real)0.5);
  }
  return 0;
}
