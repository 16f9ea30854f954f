/* The optimisers on a small softmax MLP (mlp_small.expr, prefix small:
 * 4-6-3, W1 b1 W2 b2), for optim_torch.py to repeat in PyTorch:
 *
 *   optim_driver DIR   writes DIR/setup.txt (the 16 samples and the
 *                      initial params) and, for each configuration below,
 *                      DIR/NAME.txt: the params after 100 updates (25
 *                      epochs of 4 mini-batches of 4, in order), one per
 *                      line, %.17g; prints what it did.
 *
 * A configuration is an optimiser and its settings; "partial" trains W1
 * and W2 only (the gradient covers two runs of p, as a model emitted with
 * b1 and b2 frozen would), "steps" is "adam" through dcc_step in a loop of
 * the driver's own. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dcc_train.h"
#include "small.h"

enum { N = 16, BATCH = 4, EPOCHS = 25, NP = SMALL_N_PARAMS };

typedef struct {
  const char *name;
  const dcc_optimizer *optimizer; /* NULL: SGD */
  double rate, momentum, weight_decay;
  int mask; /* decay the weights only (not b1, b2) */
  double clip_norm, beta1, beta2, alpha, eps;
  int partial;
} config;

static const config configs[] = {
    {"sgd_momentum", NULL, 0.1, 0.9, 0.01, 1, 0, 0.9, 0.999, 0.99, 1e-8, 0},
    {"adam", &dcc_adam, 0.01, 0, 0, 0, 0, 0.9, 0.999, 0.99, 1e-8, 0},
    {"adam_l2", &dcc_adam, 0.01, 0, 0.05, 1, 0, 0.9, 0.999, 0.99, 1e-8, 0},
    {"adamw", &dcc_adamw, 0.01, 0, 0.1, 1, 0, 0.8, 0.99, 0.99, 1e-8, 0},
    {"adamw_all", &dcc_adamw, 0.02, 0, 0.5, 0, 0, 0.9, 0.999, 0.99, 1e-6, 0},
    {"rmsprop", &dcc_rmsprop, 0.01, 0, 0, 0, 0, 0.9, 0.999, 0.9, 1e-6, 0},
    {"rmsprop_momentum", &dcc_rmsprop, 0.005, 0.5, 0.01, 0, 0, 0.9, 0.999, 0.99, 1e-8, 0},
    {"adam_clip", &dcc_adam, 0.05, 0, 0, 0, 0.5, 0.9, 0.999, 0.99, 1e-8, 0},
    {"sgd_clip", NULL, 0.5, 0, 0, 0, 0.1, 0.9, 0.999, 0.99, 1e-8, 0},
    {"adam_partial", &dcc_adam, 0.02, 0, 0.01, 1, 0, 0.9, 0.999, 0.99, 1e-8, 1},
};

static dcc_real data[N][SMALL_N_IN], p0[NP];

/* The partial model: small's gradient restricted to W1 and W2, two runs of
 * p (what dcc emits for a model whose b1 and b2 are frozen). */
static const int32_t partial_ranges[2][2] = {{SMALL_PARAM_W1, 24}, {SMALL_PARAM_W2, 18}};
static dcc_real partial_loss_grad(const dcc_real *in, const dcc_real *p, dcc_real *grad) {
  dcc_real full[NP];
  dcc_real loss = small_loss_grad(in, p, full);
  memcpy(grad, full + SMALL_PARAM_W1, 24 * sizeof *grad);
  memcpy(grad + 24, full + SMALL_PARAM_W2, 18 * sizeof *grad);
  return loss;
}

static void write_params(const char *dir, const char *name, const dcc_real *p) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.txt", dir, name);
  FILE *f = fopen(path, "w");
  for (int j = 0; j < NP; j++)
    fprintf(f, "%.17g\n", (double)p[j]);
  fclose(f);
}

static dcc_sgd_options options_of(const config *c, const unsigned char *mask) {
  dcc_sgd_options o = dcc_sgd_defaults(EPOCHS, (dcc_real)c->rate);
  o.batch_size = BATCH;
  o.optimizer = c->optimizer;
  o.momentum = (dcc_real)c->momentum;
  o.weight_decay = (dcc_real)c->weight_decay;
  o.decay_mask = c->mask ? mask : NULL;
  o.clip_norm = (dcc_real)c->clip_norm;
  o.beta1 = (dcc_real)c->beta1;
  o.beta2 = (dcc_real)c->beta2;
  o.alpha = (dcc_real)c->alpha;
  o.eps = (dcc_real)c->eps;
  return o;
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  uint32_t rng = 11;
  for (int i = 0; i < N; i++) {
    for (int j = 0; j < 4; j++)
      data[i][SMALL_IN_x + j] = (dcc_real)dcc_rng_normal(&rng);
    for (int k = 0; k < 3; k++)
      data[i][SMALL_IN_t + k] = (dcc_real)(k == i % 3);
  }
  small_init(p0, 7);
  for (int j = 0; j < NP; j++) /* the biases too, away from zero */
    p0[j] += (dcc_real)(0.1 * dcc_rng_normal(&rng));

  char path[4096];
  snprintf(path, sizeof path, "%s/setup.txt", dir);
  FILE *f = fopen(path, "w");
  fprintf(f, "samples %d inputs %d x %d t %d\n", N, SMALL_N_IN, SMALL_IN_x, SMALL_IN_t);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < SMALL_N_IN; j++)
      fprintf(f, "%.17g%s", (double)data[i][j], j + 1 < SMALL_N_IN ? " " : "\n");
  fprintf(f, "params %d W1 %d b1 %d W2 %d b2 %d\n", NP, SMALL_PARAM_W1, SMALL_PARAM_b1, SMALL_PARAM_W2,
          SMALL_PARAM_b2);
  for (int j = 0; j < NP; j++)
    fprintf(f, "%.17g\n", (double)p0[j]);
  fclose(f);

  static unsigned char mask[NP];
  memset(mask + SMALL_PARAM_W1, 1, 24);
  memset(mask + SMALL_PARAM_W2, 1, 18);
  static dcc_real grad[NP], acc[NP], state[DCC_STATE_MAX(NP)], p[NP];
  dcc_workspace w = {grad, acc, state, NULL};
  dcc_model full = DCC_MODEL(small, SMALL), partial = full;
  partial.loss_grad = partial_loss_grad;
  partial.n_grad = 42;
  partial.grad_ranges = partial_ranges;
  partial.n_grad_ranges = 2;

  for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
    const config *cf = &configs[c];
    dcc_sgd_options o = options_of(cf, mask);
    memcpy(p, p0, sizeof p);
    int r = dcc_sgd(cf->partial ? &partial : &full, p, &data[0][0], N, &o, &w);
    printf("%s: %d epochs (%s)\n", cf->name, r, dcc_strerror(r));
    write_params(dir, cf->name, p);
    if (cf->partial) {
      int frozen = !memcmp(p + SMALL_PARAM_b1, p0 + SMALL_PARAM_b1, 6 * sizeof *p) &&
                   !memcmp(p + SMALL_PARAM_b2, p0 + SMALL_PARAM_b2, 3 * sizeof *p);
      printf("%s: b1 and b2 unchanged, bit for bit: %s\n", cf->name, frozen ? "yes" : "no");
    }
  }

  /* adam again, through dcc_step: the same updates as dcc_sgd's, bit for
   * bit, from a loop of the caller's (the gradient of each batch averaged
   * here). */
  {
    dcc_sgd_options o = options_of(&configs[1], mask);
    static dcc_real own[DCC_ADAM_STATE(NP)], sum[NP];
    memcpy(p, p0, sizeof p);
    int bad = 0;
    for (int e = 0; e < EPOCHS; e++)
      for (int b = 0; b < N; b += BATCH) {
        memset(sum, 0, sizeof sum);
        for (int i = b; i < b + BATCH; i++) {
          small_loss_grad(data[i], p, grad);
          for (int j = 0; j < NP; j++)
            sum[j] += grad[j];
        }
        for (int j = 0; j < NP; j++)
          sum[j] /= BATCH;
        bad |= dcc_step(&full, p, sum, o.rate, &o, own) != 0;
      }
    write_params(dir, "steps", p);
    /* the bias corrections in the state: 1 - 0.9^100, 1 - 0.999^100 */
    printf("steps: %d updates of dcc_step, %s; bias corrections in the state %.6f %.6f\n", EPOCHS * N / BATCH,
           bad ? "some failed" : "all made", (double)own[2 * NP], (double)own[2 * NP + 1]);
  }
  return 0;
}
