/* No allocation in a training run: linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * every call of those from these objects (the runtime, the model, this
 * driver) goes through the wrappers below, which abort while `guarded`.
 * dcc_sgd runs guarded with every option on (mini-batches, momentum, weight
 * decay, a schedule, early stopping, shuffling, callbacks), then with Adam,
 * AdamW and RMSprop, clipping and a decay mask, and dcc_step too.
 *   nomalloc train     the run; prints how many epochs it ran
 *   nomalloc selftest  malloc while guarded: must abort (the wrapping works) */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcc_train.h"
#include "five_points.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static volatile int guarded, wrapped_calls;

static void check(const char *what) {
  wrapped_calls++;
  if (guarded) {
    fprintf(stderr, "nomalloc: %s while training\n", what);
    abort();
  }
}
void *__wrap_malloc(size_t n) {
  check("malloc");
  return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
  check("calloc");
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
  check("realloc");
  return __real_realloc(p, n);
}

static const dcc_real data[5][3] = {
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  (void)ctx;
  (void)r;
}
static void on_sample(void *ctx, int epoch, int sample, dcc_real loss) {
  (void)ctx;
  (void)epoch;
  (void)sample;
  (void)loss;
}

void *volatile sink;

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  sink = malloc(16); /* through the wrapper, unguarded */
  free(sink);
  printf("wrapper active: %s\n", wrapped_calls > 0 ? "yes" : "no");
  if (!strcmp(mode, "selftest")) {
    guarded = 1;
    sink = malloc(32);
    guarded = 0;
    printf("selftest: malloc was not caught\n");
    return 0;
  }
  static const int until[] = {20};
  static const dcc_real rates[] = {(dcc_real)1.0, (dcc_real)0.5};
  dcc_real p[FIVE_POINTS_N_PARAMS], grad[FIVE_POINTS_N_PARAMS], acc[FIVE_POINTS_N_PARAMS],
      velocity[DCC_STATE_MAX(FIVE_POINTS_N_GRAD)];
  int order[5];
  dcc_model m = DCC_MODEL(five_points, FIVE_POINTS);
  dcc_workspace w = {grad, acc, velocity, order};
  dcc_sgd_options o = dcc_sgd_defaults(60, 0);
  o.batch_size = 2;
  o.schedule_until = until;
  o.schedule_rate = rates;
  o.schedule_len = 2;
  o.momentum = (dcc_real)0.5;
  o.weight_decay = (dcc_real)1e-4;
  o.tolerance = (dcc_real)1e-9;
  o.shuffle = 1;
  o.seed = 3;
  o.on_epoch = on_epoch;
  o.on_sample = on_sample;
  five_points_init(p, 2);
  int before = wrapped_calls;
  guarded = 1;
  int run = dcc_sgd(&m, p, &data[0][0], 5, &o, &w);
  o.batch_size = 0; /* full batch too */
  run += dcc_sgd(&m, p, &data[0][0], 5, &o, &w);
  /* every other optimiser, with clipping and a decay mask */
  static const unsigned char mask[FIVE_POINTS_N_PARAMS] = {0, 0, 0, 1, 1, 1, 1, 1, 1}; /* the weights */
  o.batch_size = 2;
  o.clip_norm = (dcc_real)0.5;
  o.decay_mask = mask;
  static const dcc_optimizer *const optimizers[] = {&dcc_adam, &dcc_adamw, &dcc_rmsprop};
  for (int k = 0; k < 3; k++) {
    o.optimizer = optimizers[k];
    run += dcc_sgd(&m, p, &data[0][0], 5, &o, &w);
  }
  /* and one update at a time */
  for (int i = 0; i < 5; i++) {
    five_points_loss_grad(data[i], p, grad);
    run += dcc_step(&m, p, grad, (dcc_real)0.01, &o, velocity) == 0;
  }
  dcc_real loss = dcc_mean_loss(&m, p, &data[0][0], 5, grad);
  guarded = 0;
  printf("trained %s, allocations while training: %d\n", run > 0 && loss == loss ? "yes" : "no",
         wrapped_calls - before);
  return 0;
}
