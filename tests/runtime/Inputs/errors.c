/* dcc_sgd's argument checks: one call per invalid argument or option,
 * each printing the code it returned and dcc_strerror's message, and
 * whether anything was touched (the params, the workspace, a callback).
 * Then dcc_rate_at and dcc_mean_loss on the same bad inputs, and the
 * messages of 0, an epoch count and an unknown code.  lin.expr: loss a*w. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dcc_train.h"
#include "lin.h"

static int calls;
static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  (void)ctx;
  (void)r;
  calls++;
}
static void on_sample(void *ctx, int epoch, int sample, dcc_real loss) {
  (void)ctx;
  (void)epoch;
  (void)sample;
  (void)loss;
  calls++;
}

static const dcc_real data[3] = {1, 2, 3};

/* A _ws function for a model without one, for a model with a NULL ws. */
static dcc_real lin_ws(const dcc_real *in, const dcc_real *p, dcc_real *grad, dcc_real *ws) {
  (void)ws;
  return lin_loss_grad(in, p, grad);
}
static dcc_real grad[1], acc[1], velocity[1];
static int order[3];

/* Run dcc_sgd on (a copy of) the arguments; print what came back. */
static void run(const char *what, const dcc_model *m, dcc_real *p, const dcc_real *d, int n,
                const dcc_sgd_options *o, dcc_workspace *w) {
  dcc_real p0 = p ? p[0] : 0;
  grad[0] = acc[0] = velocity[0] = 42;
  order[0] = 42;
  calls = 0;
  int r = dcc_sgd(m, p, d, n, o, w);
  int touched = (p && p[0] != p0) || grad[0] != 42 || acc[0] != 42 || velocity[0] != 42 || order[0] != 42 || calls;
  printf("%-22s %3d %s%s\n", what, r, dcc_strerror(r), touched ? " (touched something)" : "");
}

int main(void) {
  static const dcc_model lin = DCC_MODEL(lin, LIN);
  static const int until[] = {2, 4}, down[] = {4, 2};
  static const dcc_real rates[] = {1, 0.5, 0.25}, bad_rates[] = {1, -0.5, 0.25}, nan_rates[] = {1, NAN};
  dcc_real w[1] = {0.5};
  dcc_workspace ws = {grad, acc, velocity, order}, none = {NULL, NULL, NULL, NULL};
  dcc_workspace no_acc = {grad, NULL, velocity, order}, no_vel = {grad, acc, NULL, order},
                no_order = {grad, acc, velocity, NULL};
  static const int32_t two[1][2] = {{0, 2}};
  dcc_model no_fn = lin, neg_in = lin, neg_params = lin, ws_null = lin, bad_count = lin, bad_range = lin,
            bad_plain = lin;
  no_fn.loss_grad = NULL;
  neg_in.n_in = -1;
  neg_params.n_params = -3;
  ws_null.loss_grad_ws = lin_ws;
  bad_count.n_grad = 2;
  bad_range.n_grad = 2;
  bad_range.grad_ranges = two;
  bad_plain.grad_ranges = NULL;
  bad_plain.n_grad = 3;
  dcc_sgd_options base = dcc_sgd_defaults(3, (dcc_real)0.1), o;
  base.on_epoch = on_epoch;
  base.on_sample = on_sample;

#define WITH(field, value) (o = base, o.field = (value), &o)
  run("model NULL", NULL, w, data, 3, &base, &ws);
  run("loss_grad NULL", &no_fn, w, data, 3, &base, &ws);
  run("n_in -1", &neg_in, w, data, 3, &base, &ws);
  run("n_params -3", &neg_params, w, data, 3, &base, &ws);
  run("params NULL", &lin, NULL, data, 3, &base, &ws);
  run("n_samples -1", &lin, w, data, -1, &base, &ws);
  run("data NULL", &lin, w, NULL, 3, &base, &ws);
  run("options NULL", &lin, w, data, 3, NULL, &ws);
  run("workspace NULL", &lin, w, data, 3, &base, NULL);
  run("grad NULL", &lin, w, data, 3, &base, &none);
  run("acc NULL", &lin, w, data, 3, &base, &no_acc);
  run("velocity NULL", &lin, w, data, 3, WITH(momentum, (dcc_real)0.9), &no_vel);
  run("order NULL", &lin, w, data, 3, WITH(shuffle, 1), &no_order);
  run("epochs -1", &lin, w, data, 3, WITH(epochs, -1), &ws);
  run("batch_size -1", &lin, w, data, 3, WITH(batch_size, -1), &ws);
  run("rate -0.1", &lin, w, data, 3, WITH(rate, (dcc_real)-0.1), &ws);
  run("rate NaN", &lin, w, data, 3, WITH(rate, (dcc_real)NAN), &ws);
  run("rate inf", &lin, w, data, 3, WITH(rate, (dcc_real)INFINITY), &ws);
  run("schedule_len -1", &lin, w, data, 3, WITH(schedule_len, -1), &ws);
  o = base;
  o.schedule_len = 3;
  o.schedule_until = until;
  run("schedule_rate NULL", &lin, w, data, 3, &o, &ws);
  o.schedule_rate = rates;
  o.schedule_until = NULL;
  run("schedule_until NULL", &lin, w, data, 3, &o, &ws);
  o.schedule_until = until;
  o.schedule_rate = bad_rates;
  run("schedule rate -0.5", &lin, w, data, 3, &o, &ws);
  o.schedule_rate = rates;
  o.schedule_until = down;
  run("schedule 4 then 2", &lin, w, data, 3, &o, &ws);
  o = base;
  o.schedule_len = 2;
  o.schedule_until = until;
  o.schedule_rate = nan_rates;
  run("schedule rate NaN", &lin, w, data, 3, &o, &ws);
  run("momentum 1", &lin, w, data, 3, WITH(momentum, 1), &ws);
  run("momentum -0.1", &lin, w, data, 3, WITH(momentum, (dcc_real)-0.1), &ws);
  run("momentum NaN", &lin, w, data, 3, WITH(momentum, (dcc_real)NAN), &ws);
  run("weight_decay -1", &lin, w, data, 3, WITH(weight_decay, -1), &ws);
  run("weight_decay NaN", &lin, w, data, 3, WITH(weight_decay, (dcc_real)NAN), &ws);
  run("tolerance -1e-3", &lin, w, data, 3, WITH(tolerance, (dcc_real)-1e-3), &ws);
  run("tolerance NaN", &lin, w, data, 3, WITH(tolerance, (dcc_real)NAN), &ws);
  run("model ws NULL", &ws_null, w, data, 3, &base, &ws);
  run("n_grad 2 of 1 range", &bad_count, w, data, 3, &base, &ws);
  run("range {0, 2} of 1", &bad_range, w, data, 3, &base, &ws);
  run("n_grad 3, no ranges", &bad_plain, w, data, 3, &base, &ws);
  run("Adam, velocity NULL", &lin, w, data, 3, WITH(optimizer, &dcc_adam), &no_vel);
  run("beta1 1", &lin, w, data, 3, (o = base, o.optimizer = &dcc_adamw, o.beta1 = 1, &o), &ws);
  run("beta2 -0.1", &lin, w, data, 3, (o = base, o.optimizer = &dcc_adam, o.beta2 = (dcc_real)-0.1, &o), &ws);
  run("alpha 1", &lin, w, data, 3, (o = base, o.optimizer = &dcc_rmsprop, o.alpha = 1, &o), &ws);
  run("eps -1", &lin, w, data, 3, (o = base, o.optimizer = &dcc_adam, o.eps = -1, &o), &ws);
  run("clip_norm NaN", &lin, w, data, 3, WITH(clip_norm, (dcc_real)NAN), &ws);

  /* What is allowed: no samples, no data when the model has no inputs
   * (n_in 0), momentum with only the velocity, no order without
   * shuffling, a one-rate schedule without boundaries. */
  run("no samples", &lin, w, NULL, 0, &base, &ws);
  run("one-rate schedule", &lin, w, data, 3, (o = base, o.schedule_len = 1, o.schedule_rate = rates, &o), &ws);
  run("no order, no shuffle", &lin, w, data, 3, &base, &no_order);
  run("momentum 0.5", &lin, w, data, 3, WITH(momentum, (dcc_real)0.5), &no_order);

  /* dcc_step checks its arguments too, and makes no update from a
   * non-finite gradient or into a non-finite param. */
  dcc_real g[1] = {1}, st[DCC_ADAM_STATE(1)] = {0, 0, 0, 0};
  w[0] = (dcc_real)0.5;
  o = base;
  o.optimizer = &dcc_adam;
  printf("step, grad NULL: %d\n", dcc_step(&lin, w, NULL, 1, &o, st));
  printf("step, Adam state NULL: %d\n", dcc_step(&lin, w, g, 1, &o, NULL));
  printf("step, rate -1: %d\n", dcc_step(&lin, w, g, -1, &o, st));
  printf("step, options NULL: %d\n", dcc_step(&lin, w, g, 1, NULL, st));
  printf("step, model NULL: %d\n", dcc_step(NULL, w, g, 1, &o, st));
  g[0] = (dcc_real)NAN;
  printf("step, NaN gradient: %d, w %g, state %g %g %g %g\n", dcc_step(&lin, w, g, 1, &o, st), (double)w[0],
         (double)st[0], (double)st[1], (double)st[2], (double)st[3]);
  g[0] = 1;
  o.optimizer = NULL;
  printf("step, SGD without momentum needs no state: %d, w %g\n", dcc_step(&lin, w, g, (dcc_real)0.25, &o, NULL),
         (double)w[0]);
  dcc_real huge[1] = {(dcc_real)(sizeof(dcc_real) == sizeof(float) ? 3e38 : 1.7e308)};
  g[0] = -huge[0];
  printf("step into overflow: %d, w finite %s\n", dcc_step(&lin, huge, g, 1, &o, NULL),
         isfinite(huge[0]) ? "yes" : "no");
  printf("clip, grad NULL: %g; max_norm -1: %g\n", (double)dcc_clip_grad_norm(NULL, 1, 1),
         (double)dcc_clip_grad_norm(g, 1, -1));

  o = base;
  o.schedule_len = -1;
  o.rate = (dcc_real)0.125;
  printf("rate_at, schedule_len -1: %g\n", (double)dcc_rate_at(&o, 5));
  printf("rate_at, NULL options: %g\n", (double)dcc_rate_at(NULL, 5));
  printf("mean_loss, model NULL: %g\n", (double)dcc_mean_loss(NULL, w, data, 3, grad));
  printf("mean_loss, grad NULL: %g\n", (double)dcc_mean_loss(&lin, w, data, 3, NULL));
  printf("mean_loss, n -1: %g\n", (double)dcc_mean_loss(&lin, w, data, -1, grad));
  printf("mean_loss, no samples: %g\n", (double)dcc_mean_loss(&lin, w, data, 0, grad));
  printf("strerror 0: %s\n", dcc_strerror(0));
  printf("strerror 7: %s\n", dcc_strerror(7));
  printf("strerror -999: %s\n", dcc_strerror(-999));
  return 0;
}
