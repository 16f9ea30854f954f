/* The five-point network (net.expr, a copy of examples/five_points's
 * model) trained with the runtime's dcc_sgd as its demo does: per-sample SGD,
 * 250 epochs, rate 2.5 for 100 epochs and 0.5 after, init seed 15.  Prints
 * the final epoch's loss, each point's prediction, and the loss's gradient
 * with respect to the inputs at the first point (dcc_add_model's WRT). */
#include <limits.h>
#include <stdio.h>

#include "dcc_train.h"
#include "net_grad.h"

#define N_SAMPLES 5

/* x1, x2, label: the layout of the model's in[] */
static const dcc_real data[N_SAMPLES][NET_N_IN] = {
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  *(dcc_real *)ctx = r->loss_sum;
}

int main(void) {
  static const int until[] = {100, INT_MAX};
  static const dcc_real rates[] = {2.5, 0.5};
  dcc_real p[NET_N_PARAMS], grad[NET_N_PARAMS], acc[NET_N_PARAMS], last = 0;
  dcc_model m = DCC_MODEL(net, NET);
  dcc_workspace w = {grad, acc, NULL, NULL};
  dcc_sgd_options o = dcc_sgd_defaults(250, 0);
  o.schedule_until = until;
  o.schedule_rate = rates;
  o.schedule_len = 2;
  o.on_epoch = on_epoch;
  o.ctx = &last;
  net_init(p, 15);
  int epochs = dcc_sgd(&m, p, &data[0][0], N_SAMPLES, &o, &w);
  printf("epochs: %d  loss: %.5f\n", epochs, (double)last);
  for (int i = 0; i < N_SAMPLES; i++) {
    dcc_real out[NET_N_OUT];
    net_outputs(data[i], p, out);
    printf("(%g, %g) label %g: %.3f\n", (double)data[i][NET_IN_x1], (double)data[i][NET_IN_x2],
           (double)data[i][NET_IN_y], (double)out[NET_OUT_fout]);
  }
  printf("dloss/dx1 %.6f  dloss/dx2 %.6f at (0, 0)\n", (double)net_grad_x1(data[0], p),
         (double)net_grad_x2(data[0], p));
  return epochs < 0;
}
