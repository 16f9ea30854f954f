/* A one-hidden-layer tanh MLP with the square loss (homework 7, problems
 * 9-11), fitted to a noisy sine that this program makes:
 *
 *     x ~ uniform(-pi, pi),   y = sin(2x) + noise,   noise ~ N(0, 0.1^2)
 *
 * 200 training samples and 200 held-out samples, trained by dcc_sgd with
 * shuffled mini-batches and momentum.  A linear fit (the best line, by
 * least squares) is printed beside it for scale: the hidden layer is what
 * lets the network follow the curve.
 *
 * Usage: mlp_regression [--seed N] [--epochs N] [--svg DIR] [--quiet]
 *   --svg DIR   write DIR/mlp_regression_loss.svg, the loss per epoch
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "plot.h"
#include "progress.h"
#include "dcc_train.h"
#include "mlp.h"

#define N_TRAIN 200
#define N_TEST 200
#define NOISE 0.1
#define PI 3.14159265358979323846
#define MAX_EPOCHS 100000

static mlp_real train[N_TRAIN][MLP_N_IN], test[N_TEST][MLP_N_IN];

static double target(double x) { return sin(2 * x); }

static void make_data(mlp_real (*rows)[MLP_N_IN], int n, uint32_t seed) {
  uint32_t rng = seed;
  for (int i = 0; i < n; i++) {
    double x = -PI + 2 * PI * dcc_rng_uniform(&rng);
    rows[i][MLP_IN_x] = x;
    rows[i][MLP_IN_y] = target(x) + NOISE * dcc_rng_normal(&rng);
  }
}

/* Curves for the picture, and the progress line. */
typedef struct {
  const dcc_model *m;
  const mlp_real *p;
  mlp_real *scratch;
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

/* The least-squares line through the training data, and its mean square
 * error on rows. */
static double line_mse(mlp_real (*fit)[MLP_N_IN], int nf, mlp_real (*rows)[MLP_N_IN], int n) {
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < nf; i++) {
    mx += fit[i][MLP_IN_x] / nf;
    my += fit[i][MLP_IN_y] / nf;
  }
  for (int i = 0; i < nf; i++) {
    sxx += (fit[i][MLP_IN_x] - mx) * (fit[i][MLP_IN_x] - mx);
    sxy += (fit[i][MLP_IN_x] - mx) * (fit[i][MLP_IN_y] - my);
  }
  double slope = sxy / sxx, sum = 0;
  for (int i = 0; i < n; i++) {
    double e = my + slope * (rows[i][MLP_IN_x] - mx) - rows[i][MLP_IN_y];
    sum += e * e;
  }
  return sum / n;
}

static int usage(void) {
  fprintf(stderr, "usage: mlp_regression [--seed N] [--epochs N] [--svg DIR] [--quiet]\n");
  return 2;
}

int main(int argc, char **argv) {
  unsigned long seed = 1;
  int epochs = 3000, quiet = 0;
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

  /* Training data from the seed, held-out data from seed xor 2^31 (a
   * stream far from the first). */
  make_data(train, N_TRAIN, (uint32_t)seed);
  make_data(test, N_TEST, (uint32_t)seed ^ 0x80000000u);

  static mlp_real p[MLP_N_PARAMS], grad[MLP_N_PARAMS], acc[MLP_N_PARAMS], vel[MLP_N_PARAMS],
      scratch[MLP_N_PARAMS];
  static int order[N_TRAIN];
  dcc_model m = DCC_MODEL(mlp, MLP);
  mlp_init(p, (uint32_t)seed);

  double rate = 0.01, momentum = 0.9;
  int batch = 8;
  dcc_sgd_options o = dcc_sgd_defaults(epochs, rate);
  o.batch_size = batch;
  o.momentum = momentum;
  o.shuffle = 1;
  o.seed = (uint32_t)seed;
  double *curves = svg_dir ? malloc(2 * (size_t)epochs * sizeof *curves) : NULL;
  if (svg_dir && !curves) {
    fprintf(stderr, "mlp_regression: out of memory\n");
    return 1;
  }
  epoch_ctx ec = {&m, p, scratch, curves, epochs, {stderr, epochs, 0}, quiet};
  o.on_epoch = on_epoch;
  o.ctx = &ec;
  dcc_workspace w = {grad, acc, vel, order};

  printf("mlp_regression: y = sin(2x) + noise, x ~ uniform(-pi, pi), noise ~ N(0, %g^2), seed %lu\n", NOISE, seed);
  printf("mlp_regression: %d training samples, %d held-out\n", N_TRAIN, N_TEST);
  printf("mlp_regression: 1-10-1 tanh MLP, square loss; %d epochs, mini-batches of %d, rate %g, momentum %g\n",
         epochs, batch, rate, momentum);
  int run = dcc_sgd(&m, p, &train[0][0], N_TRAIN, &o, &w);
  if (!quiet)
    progress_end(stderr, run, epochs, ec.progress.last_loss);

  printf("\n%8s %9s %9s\n", "x", "sin(2x)", "network");
  for (int k = 0; k <= 8; k++) {
    mlp_real in[MLP_N_IN] = {0}, out[MLP_N_OUT];
    in[MLP_IN_x] = -3 + 0.75 * k;
    mlp_outputs(in, p, out);
    printf("%8.4f %9.4f %9.4f\n", in[MLP_IN_x], target(in[MLP_IN_x]), out[MLP_OUT_pred]);
  }
  printf("\n");
  printf("train loss (mean square error): %.5f\n", dcc_mean_loss(&m, p, &train[0][0], N_TRAIN, scratch));
  printf("held-out loss (mean square error): %.5f\n", dcc_mean_loss(&m, p, &test[0][0], N_TEST, scratch));
  printf("noise variance (the best possible): %.5f\n", NOISE * NOISE);
  printf("best straight line: train %.5f, held-out %.5f\n", line_mse(train, N_TRAIN, train, N_TRAIN),
         line_mse(train, N_TRAIN, test, N_TEST));

  int status = 0;
  if (svg_dir) {
    char *path = malloc(strlen(svg_dir) + 32);
    if (!path) {
      fprintf(stderr, "mlp_regression: out of memory\n");
      return 1;
    }
    sprintf(path, "%s/mlp_regression_loss.svg", svg_dir);
    static const char *const names[] = {"training (during the epoch)", "held-out (after the epoch)"};
    if (plot_loss_curves(path, "mlp_regression: 1-10-1 tanh MLP on sin(2x), mean square error", curves, 2, run,
                            names) != 0) {
      fprintf(stderr, "mlp_regression: cannot write %s\n", path);
      status = 1;
    } else {
      printf("picture: %s\n", path);
    }
    free(path);
  }
  free(curves);
  return status;
}
