/* Lab 3's quadratic through dcc_sgd (full batch of one sample with no
 * inputs).  Modes:
 *   optimizer  rate 0.1, at most 10 epochs, tolerance 1e-4: where it stops
 *   stop       the same with tolerance 1: the run stops before the update of
 *              the first epoch whose loss improved by less than 1
 *   pen        rates 1/2, 1/3, 1/4 as a schedule, one epoch each: the point
 *              after each epoch (on_epoch sees the params after the update)
 *   mask       one step with weight decay restricted by a decay_mask
 * The schedule's until[] holds schedule_len - 1 boundaries, as dcc_train.h
 * documents (sanitizers.test runs this under AddressSanitizer). */
#include <stdio.h>
#include <string.h>

#include "dcc_train.h"
#include "quad.h"

typedef struct {
  const dcc_real *p;
} trace;

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  const trace *t = ctx;
  printf("epoch %d rate %.6f loss %.6f x (%.6f, %.6f)\n", r->epoch, (double)r->rate, (double)r->loss_mean,
         (double)t->p[QUAD_PARAM_x1], (double)t->p[QUAD_PARAM_x2]);
}

int main(int argc, char **argv) {
  dcc_model m = DCC_MODEL(quad, QUAD);
  dcc_real p[QUAD_N_PARAMS], grad[QUAD_N_PARAMS], acc[QUAD_N_PARAMS];
  dcc_workspace w = {grad, acc, NULL, NULL};
  static const dcc_real no_data[1] = {0};
  trace t = {p};
  quad_init(p, 1);
  printf("start (%.6f, %.6f)\n", (double)p[0], (double)p[1]);
  if (argc > 1 && (!strcmp(argv[1], "optimizer") || !strcmp(argv[1], "stop"))) {
    dcc_sgd_options o = dcc_sgd_defaults(10, (dcc_real)0.1);
    o.batch_size = 0;
    o.tolerance = (dcc_real)(strcmp(argv[1], "stop") ? 1e-4 : 1);
    o.on_epoch = on_epoch;
    o.ctx = &t;
    int run = dcc_sgd(&m, p, no_data, 1, &o, &w);
    printf("epochs %d\n", run);
    printf("optimizer %.6f %.6f\n", (double)p[QUAD_PARAM_x1], (double)p[QUAD_PARAM_x2]);
    printf("f %.6f\n", (double)quad_loss(no_data, p));
  } else if (argc > 1 && !strcmp(argv[1], "pen")) {
    static const int until[] = {1, 2};
    static const dcc_real rates[] = {(dcc_real)1 / 2, (dcc_real)1 / 3, (dcc_real)1 / 4};
    dcc_sgd_options o = dcc_sgd_defaults(3, 99);
    o.batch_size = 0;
    o.schedule_until = until;
    o.schedule_rate = rates;
    o.schedule_len = 3;
    o.on_epoch = on_epoch;
    o.ctx = &t;
    printf("epochs %d\n", dcc_sgd(&m, p, no_data, 1, &o, &w));
  } else if (argc > 1 && !strcmp(argv[1], "mask")) {
    /* Weight decay 0.5 restricted by a mask, rate 0.1, one step from
     * (6, 6), where the gradient is (-6, 6): decayed, a param's gradient
     * gets 0.5 * 6 = 3 more. */
    static const unsigned char masks[3][2] = {{1, 0}, {0, 1}, {1, 1}};
    for (int k = 0; k < 4; k++) {
      dcc_sgd_options o = dcc_sgd_defaults(1, (dcc_real)0.1);
      o.weight_decay = (dcc_real)0.5;
      o.decay_mask = k < 3 ? masks[k] : NULL;
      quad_init(p, 1);
      dcc_sgd(&m, p, no_data, 1, &o, &w);
      if (k < 3)
        printf("mask {%d, %d}: x (%.6f, %.6f)\n", masks[k][0], masks[k][1], (double)p[0], (double)p[1]);
      else
        printf("mask NULL: x (%.6f, %.6f)\n", (double)p[0], (double)p[1]);
    }
  } else {
    fprintf(stderr, "usage: lab3 optimizer|stop|pen|mask\n");
    return 2;
  }
  return 0;
}
