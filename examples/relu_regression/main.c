/* Homework 1, problem 1: the network  Linear -> 5 relu -> Linear  trained
 * on the MSE, on data this program makes from a piecewise-linear function
 * of two inputs (a function such a network can represent):
 *
 *     x ~ uniform([-2, 2]^2),   y = (|x1| - |x2|, max(x1, x2)) + noise,
 *     noise ~ N(0, 0.05^2) on each output
 *
 * 500 training samples and 500 held-out, trained by dcc_sgd with shuffled
 * mini-batches and momentum.  The best affine map (least squares) is
 * printed beside it: without the ReLU, Linear -> Linear is affine.
 *
 * Usage: relu_regression [--seed N] [--epochs N] [--svg DIR] [--quiet]
 *   --svg DIR   write DIR/relu_regression_loss.svg, the loss per epoch
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "plot.h"
#include "progress.h"
#include "dcc_train.h"
#include "relu_net.h"

#define N_TRAIN 500
#define N_TEST 500
#define NOISE 0.05
#define MAX_EPOCHS 100000
#define HIDDEN 16

typedef relu_net_real real;
static real train[N_TRAIN][RELU_NET_N_IN], test[N_TEST][RELU_NET_N_IN];

static void target(const real *x, double *y) {
  y[0] = fabs(x[0]) - fabs(x[1]);
  y[1] = x[0] > x[1] ? x[0] : x[1];
}

static void make_data(real (*rows)[RELU_NET_N_IN], int n, uint32_t seed) {
  uint32_t rng = seed;
  for (int i = 0; i < n; i++) {
    real *x = rows[i] + RELU_NET_IN_x;
    double y[2];
    x[0] = -2 + 4 * dcc_rng_uniform(&rng);
    x[1] = -2 + 4 * dcc_rng_uniform(&rng);
    target(x, y);
    for (int k = 0; k < 2; k++)
      rows[i][RELU_NET_IN_y + k] = y[k] + NOISE * dcc_rng_normal(&rng);
  }
}

typedef struct {
  const dcc_model *m;
  const real *p;
  real *scratch;
  double *curves; /* [0, epochs): training; [epochs, 2 epochs): held-out */
  int epochs;
  progress_ctx progress;
  int quiet;
} epoch_ctx;

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  epoch_ctx *c = ctx;
  if (c->curves) {
    c->curves[r->epoch] = r->loss_mean;
    c->curves[c->epochs + r->epoch] = dcc_mean_loss(c->m, c->p, &test[0][0], N_TEST, c->scratch);
  }
  if (!c->quiet)
    progress_on_epoch(&c->progress, r);
}

/* The least-squares affine map y = A x + c fitted on the training data,
 * and its MSE (mean over samples and the two outputs, as mse() computes)
 * on rows.  Normal equations in (x1, x2, 1), solved by Cramer's rule. */
static double affine_mse(real (*rows)[RELU_NET_N_IN], int n) {
  double g[3][3] = {{0}}, r[2][3] = {{0}};
  for (int i = 0; i < N_TRAIN; i++) {
    double f[3] = {train[i][RELU_NET_IN_x], train[i][RELU_NET_IN_x + 1], 1};
    for (int a = 0; a < 3; a++) {
      for (int b = 0; b < 3; b++)
        g[a][b] += f[a] * f[b];
      for (int k = 0; k < 2; k++)
        r[k][a] += f[a] * train[i][RELU_NET_IN_y + k];
    }
  }
#define DET3(m)                                                                                             \
  ((m)[0][0] * ((m)[1][1] * (m)[2][2] - (m)[1][2] * (m)[2][1]) -                                            \
   (m)[0][1] * ((m)[1][0] * (m)[2][2] - (m)[1][2] * (m)[2][0]) +                                            \
   (m)[0][2] * ((m)[1][0] * (m)[2][1] - (m)[1][1] * (m)[2][0]))
  double det = DET3(g), coef[2][3];
  for (int k = 0; k < 2; k++)
    for (int a = 0; a < 3; a++) {
      double h[3][3];
      memcpy(h, g, sizeof h);
      for (int b = 0; b < 3; b++)
        h[b][a] = r[k][b];
      coef[k][a] = DET3(h) / det;
    }
#undef DET3
  double sum = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < 2; k++) {
      double e = coef[k][0] * rows[i][RELU_NET_IN_x] + coef[k][1] * rows[i][RELU_NET_IN_x + 1] + coef[k][2] -
                 rows[i][RELU_NET_IN_y + k];
      sum += e * e;
    }
  return sum / (2.0 * n);
}

/* Hidden units whose pre-activation z1 is <= 0 on every training sample:
 * "dead" ReLUs, which get no gradient and do not learn. */
static int dead_units(const real *p) {
  int dead = 0;
  for (int u = 0; u < HIDDEN; u++) {
    int alive = 0;
    for (int i = 0; i < N_TRAIN && !alive; i++) {
      double z = p[RELU_NET_PARAM_b1 + u];
      for (int j = 0; j < 2; j++)
        z += p[RELU_NET_PARAM_W1 + 2 * u + j] * train[i][RELU_NET_IN_x + j];
      alive = z > 0;
    }
    dead += !alive;
  }
  return dead;
}

static int usage(void) {
  fprintf(stderr, "usage: relu_regression [--seed N] [--epochs N] [--svg DIR] [--quiet]\n");
  return 2;
}

int main(int argc, char **argv) {
  unsigned long seed = 1;
  int epochs = 300, quiet = 0;
  const char *svg_dir = NULL;
  for (int i = 1; i < argc; i++) {
    long long v;
    if (!strcmp(argv[i], "--quiet")) {
      quiet = 1;
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      if (arg_integer(argv[++i], 0, 4294967295LL, &v))
        return usage();
      seed = (uint32_t)v;
    } else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) {
      if (arg_integer(argv[++i], 1, MAX_EPOCHS, &v))
        return usage();
      epochs = (int)v;
    } else if (!strcmp(argv[i], "--svg") && i + 1 < argc) {
      svg_dir = argv[++i];
    } else {
      return usage();
    }
  }

  /* Training data from the seed, held-out data from seed xor 2^31. */
  make_data(train, N_TRAIN, (uint32_t)seed);
  make_data(test, N_TEST, (uint32_t)seed ^ 0x80000000u);

  static real p[RELU_NET_N_PARAMS], grad[RELU_NET_N_PARAMS], acc[RELU_NET_N_PARAMS], vel[RELU_NET_N_PARAMS],
      scratch[RELU_NET_N_PARAMS];
  static int order[N_TRAIN];
  dcc_model m = DCC_MODEL(relu_net, RELU_NET);
  relu_net_init(p, (uint32_t)seed);

  double rate = 0.002, momentum = 0.9;
  int batch = 10;
  dcc_sgd_options o = dcc_sgd_defaults(epochs, rate);
  o.batch_size = batch;
  o.momentum = momentum;
  o.shuffle = 1;
  o.seed = (uint32_t)seed;
  double *curves = svg_dir ? malloc(2 * (size_t)epochs * sizeof *curves) : NULL;
  if (svg_dir && !curves) {
    fprintf(stderr, "relu_regression: out of memory\n");
    return 1;
  }
  epoch_ctx ec = {&m, p, scratch, curves, epochs, {stderr, epochs, 0}, quiet};
  o.on_epoch = on_epoch;
  o.ctx = &ec;
  dcc_workspace w = {grad, acc, vel, order};

  printf("relu_regression: y = (|x1| - |x2|, max(x1, x2)) + noise, x ~ uniform([-2, 2]^2), noise ~ N(0, %g^2), "
         "seed %lu\n",
         NOISE, seed);
  printf("relu_regression: %d training samples, %d held-out\n", N_TRAIN, N_TEST);
  printf("relu_regression: 2-%d-2 network, Linear -> 5 relu -> Linear, MSE; %d epochs, mini-batches of %d, "
         "rate %g, momentum %g\n",
         HIDDEN, epochs, batch, rate, momentum);
  double before = dcc_mean_loss(&m, p, &train[0][0], N_TRAIN, scratch);
  int run = dcc_sgd(&m, p, &train[0][0], N_TRAIN, &o, &w);
  if (!quiet)
    progress_end(stderr, run, epochs, ec.progress.last_loss);

  static const real probe[][2] = {{-1.5, 1.0}, {-0.5, -1.0}, {0.0, 0.0}, {0.5, 1.5}, {1.0, -1.0}, {1.5, 0.5}};
  printf("\n%7s %7s %9s %9s %9s %9s\n", "x1", "x2", "y1", "yhat1", "y2", "yhat2");
  for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
    real in[RELU_NET_N_IN] = {0}, out[RELU_NET_N_OUT];
    double y[2];
    in[RELU_NET_IN_x] = probe[k][0];
    in[RELU_NET_IN_x + 1] = probe[k][1];
    target(in + RELU_NET_IN_x, y);
    relu_net_outputs(in, p, out);
    printf("%7.3f %7.3f %9.4f %9.4f %9.4f %9.4f\n", probe[k][0], probe[k][1], y[0], out[RELU_NET_OUT_yhat], y[1],
           out[RELU_NET_OUT_yhat + 1]);
  }
  printf("\n");
  printf("initial train loss (MSE): %.5f\n", before);
  printf("train loss (MSE): %.5f\n", dcc_mean_loss(&m, p, &train[0][0], N_TRAIN, scratch));
  printf("held-out loss (MSE): %.5f\n", dcc_mean_loss(&m, p, &test[0][0], N_TEST, scratch));
  printf("noise variance (the best possible): %.5f\n", NOISE * NOISE);
  printf("best affine map: train %.5f, held-out %.5f\n", affine_mse(train, N_TRAIN), affine_mse(test, N_TEST));
  printf("dead hidden units (never active on the training data): %d of %d\n", dead_units(p), HIDDEN);

  int status = 0;
  if (svg_dir) {
    char *path = malloc(strlen(svg_dir) + 32);
    if (!path) {
      fprintf(stderr, "relu_regression: out of memory\n");
      return 1;
    }
    sprintf(path, "%s/relu_regression_loss.svg", svg_dir);
    static const char *const names[] = {"training (during the epoch)", "held-out (after the epoch)"};
    if (plot_loss_curves(path, "relu_regression: Linear -> 5 relu -> Linear, MSE", curves, 2, run, names) != 0) {
      fprintf(stderr, "relu_regression: cannot write %s\n", path);
      status = 1;
    } else {
      printf("picture: %s\n", path);
    }
    free(path);
  }
  free(curves);
  return status;
}
