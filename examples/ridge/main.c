/* Ridge regression with an unregularised bias (homework 7, problem 3), on
 * data this program makes: y = w_true . x + b_true + noise.
 *
 * The model (ridge.expr) is trained by dcc_sgd with full-batch gradient
 * descent, then compared with the closed-form ridge solution, which the
 * normal equations give for a handful of features:
 *     b = mean(y) - w . mean(x),   (Xc'Xc/n + lam I) w = Xc'yc/n
 * (Xc, yc: the training data with their means removed; the bias is not
 * penalised, so centring takes it out of the system).
 *
 * Usage: ridge [--seed N] [--epochs N] [--lambda L] [--train N] [--quiet]
 *   --quiet   no progress line on standard error
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "dcc_train.h"
#include "ridge.h"

#define D 5            /* features */
#define MAX_TRAIN 10000
#define N_TEST 1000
#define NOISE 0.5      /* standard deviation of the noise on y */

static const double w_true[D] = {3.0, -2.0, 1.0, 0.0, 0.5};
static const double b_true = 4.0;

static ridge_real train[MAX_TRAIN][RIDGE_N_IN], test[N_TEST][RIDGE_N_IN];

/* One sample: x ~ N(0, I), y = w_true . x + b_true + N(0, NOISE^2). */
static void make_sample(ridge_real *row, uint32_t *rng, double lambda) {
  double y = b_true;
  for (int j = 0; j < D; j++) {
    row[RIDGE_IN_x + j] = dcc_rng_normal(rng);
    y += w_true[j] * row[RIDGE_IN_x + j];
  }
  row[RIDGE_IN_y] = y + NOISE * dcc_rng_normal(rng);
  row[RIDGE_IN_lam] = lambda;
}

/* Mean squared error of the prediction (the penalty left out). */
static double mse(const ridge_real *p, ridge_real (*rows)[RIDGE_N_IN], int n) {
  double sum = 0;
  for (int i = 0; i < n; i++) {
    ridge_real out[RIDGE_N_OUT];
    ridge_outputs(rows[i], p, out);
    double e = out[RIDGE_OUT_pred] - rows[i][RIDGE_IN_y];
    sum += e * e;
  }
  return sum / n;
}

/* The closed-form minimiser of 1/n sum (w.x + b - y)^2 + lambda |w|^2:
 * Gaussian elimination with partial pivoting on the centred normal
 * equations.  Returns 0 if the system is singular. */
static int closed_form(ridge_real (*rows)[RIDGE_N_IN], int n, double lambda, double *w, double *b) {
  double xm[D] = {0}, ym = 0, a[D][D + 1] = {{0}};
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < D; j++)
      xm[j] += rows[i][RIDGE_IN_x + j] / n;
    ym += rows[i][RIDGE_IN_y] / n;
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < D; j++) {
      double xj = rows[i][RIDGE_IN_x + j] - xm[j];
      for (int k = 0; k < D; k++)
        a[j][k] += xj * (rows[i][RIDGE_IN_x + k] - xm[k]) / n;
      a[j][D] += xj * (rows[i][RIDGE_IN_y] - ym) / n;
    }
  for (int j = 0; j < D; j++)
    a[j][j] += lambda;
  for (int c = 0; c < D; c++) {
    int piv = c;
    for (int r = c + 1; r < D; r++)
      if (fabs(a[r][c]) > fabs(a[piv][c]))
        piv = r;
    if (fabs(a[piv][c]) < 1e-12)
      return 0;
    for (int k = 0; k <= D; k++) {
      double t = a[c][k];
      a[c][k] = a[piv][k];
      a[piv][k] = t;
    }
    for (int r = c + 1; r < D; r++) {
      double f = a[r][c] / a[c][c];
      for (int k = c; k <= D; k++)
        a[r][k] -= f * a[c][k];
    }
  }
  for (int c = D - 1; c >= 0; c--) {
    double s = a[c][D];
    for (int k = c + 1; k < D; k++)
      s -= a[c][k] * w[k];
    w[c] = s / a[c][c];
  }
  *b = ym;
  for (int j = 0; j < D; j++)
    *b -= w[j] * xm[j];
  return 1;
}

/* A step size that full-batch gradient descent cannot overshoot with: 1/L,
 * L = 2 (mean |(x, 1)|^2 + lambda), the trace of the objective's Hessian
 * 2 (mean (x,1)(x,1)' + lambda diag(1, ..., 1, 0)) bounded from above. */
static double safe_rate(ridge_real (*rows)[RIDGE_N_IN], int n, double lambda) {
  double sq = 1;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < D; j++)
      sq += rows[i][RIDGE_IN_x + j] * rows[i][RIDGE_IN_x + j] / n;
  return 1 / (2 * (sq + lambda));
}

static int usage(void) {
  fprintf(stderr, "usage: ridge [--seed N] [--epochs N] [--lambda L] [--train N] [--quiet]\n");
  return 2;
}

int main(int argc, char **argv) {
  unsigned long seed = 1;
  int epochs = 500, n_train = 20, quiet = 0;
  double lambda = 0.1;
  for (int i = 1; i < argc; i++) {
    char *end = NULL;
    if (!strcmp(argv[i], "--quiet")) {
      quiet = 1;
      continue;
    }
    if (i + 1 >= argc || !*argv[i + 1])
      return usage();
    if (!strcmp(argv[i], "--seed"))
      seed = strtoul(argv[++i], &end, 10);
    else if (!strcmp(argv[i], "--epochs"))
      epochs = (int)strtol(argv[++i], &end, 10);
    else if (!strcmp(argv[i], "--lambda"))
      lambda = strtod(argv[++i], &end);
    else if (!strcmp(argv[i], "--train"))
      n_train = (int)strtol(argv[++i], &end, 10);
    else
      return usage();
    if (*end || epochs <= 0 || epochs > 1000000 || !(lambda >= 0) || n_train < 2 || n_train > MAX_TRAIN)
      return usage();
  }

  /* The data: the training rows from a generator seeded with --seed, the
   * held-out rows from one seeded with --seed xor 2^31 (a stream far from
   * the first), so they do not change with --train. */
  uint32_t rng = (uint32_t)seed;
  for (int i = 0; i < n_train; i++)
    make_sample(train[i], &rng, lambda);
  rng = (uint32_t)seed ^ 0x80000000u;
  for (int i = 0; i < N_TEST; i++)
    make_sample(test[i], &rng, lambda);

  printf("ridge: y = w.x + b + noise, x ~ N(0, I_%d), noise ~ N(0, %g^2), seed %lu\n", D, NOISE, seed);
  printf("data: %d training samples, %d held-out; lambda %g (on w only)\n", n_train, N_TEST, lambda);

  /* Full-batch gradient descent: every step uses the whole training set,
   * so it converges to the minimiser that the normal equations give. */
  static ridge_real p[RIDGE_N_PARAMS], grad[RIDGE_N_PARAMS], acc[RIDGE_N_PARAMS];
  dcc_model m = DCC_MODEL(ridge, RIDGE);
  ridge_init(p, (uint32_t)seed);
  double rate = safe_rate(train, n_train, lambda);
  dcc_sgd_options o = dcc_sgd_defaults(epochs, rate);
  o.batch_size = 0;
  dcc_workspace ws = {grad, acc, NULL, NULL};
  progress_ctx progress = {stderr, epochs, 0};
  if (!quiet) {
    o.on_epoch = progress_on_epoch;
    o.ctx = &progress;
  }
  int steps = dcc_sgd(&m, p, &train[0][0], n_train, &o, &ws);
  if (!quiet)
    progress_end(stderr, steps, epochs, progress.last_loss);
  o.on_epoch = NULL; /* the sweep below runs quietly */
  printf("trained: %d full-batch gradient steps, rate %.4f (1 / (2 (mean |(x, 1)|^2 + lambda)))\n", steps, rate);

  double wc[D], bc;
  int have_closed = closed_form(train, n_train, lambda, wc, &bc);
  double max_diff = 0;
  printf("\n%-6s %9s %9s %12s\n", "param", "true", "learned", "closed form");
  for (int j = 0; j < D; j++) {
    double learned = p[RIDGE_PARAM_w + j];
    printf("%-6s %9.4f %9.4f", ridge_param_names[RIDGE_PARAM_w + j], w_true[j], learned);
    if (have_closed) {
      printf(" %12.4f", wc[j]);
      if (fabs(learned - wc[j]) > max_diff)
        max_diff = fabs(learned - wc[j]);
    }
    printf("\n");
  }
  printf("%-6s %9.4f %9.4f", "b", b_true, p[RIDGE_PARAM_b]);
  if (have_closed) {
    printf(" %12.4f", bc);
    if (fabs(p[RIDGE_PARAM_b] - bc) > max_diff)
      max_diff = fabs(p[RIDGE_PARAM_b] - bc);
  }
  printf("\n\n");
  if (have_closed)
    printf("max |learned - closed form|: %.3e\n", max_diff);
  else
    printf("closed form: the normal equations are singular\n");
  double obj = dcc_mean_loss(&m, p, &train[0][0], n_train, grad);
  printf("train objective (MSE + lambda |w|^2): %.5f\n", obj);
  printf("train MSE: %.5f\n", mse(p, train, n_train));
  printf("held-out MSE: %.5f\n", mse(p, test, N_TEST));
  printf("noise variance (the best possible MSE): %.5f\n", NOISE * NOISE);

  /* The same training for a range of penalties: the weights shrink as
   * lambda grows, the bias does not, and the held-out error is lowest at
   * a moderate lambda. */
  static const double sweep[] = {0, 0.01, 0.03, 0.1, 0.3, 1, 3};
  printf("\nsweep: %-8s %10s %13s %8s %8s\n", "lambda", "train MSE", "held-out MSE", "|w|", "b");
  for (size_t k = 0; k < sizeof sweep / sizeof sweep[0]; k++) {
    for (int i = 0; i < n_train; i++)
      train[i][RIDGE_IN_lam] = sweep[k];
    ridge_init(p, (uint32_t)seed);
    o.rate = safe_rate(train, n_train, sweep[k]);
    dcc_sgd(&m, p, &train[0][0], n_train, &o, &ws);
    double norm = 0;
    for (int j = 0; j < D; j++)
      norm += p[RIDGE_PARAM_w + j] * p[RIDGE_PARAM_w + j];
    printf("sweep: %-8g %10.5f %13.5f %8.4f %8.4f\n", sweep[k], mse(p, train, n_train), mse(p, test, N_TEST),
           sqrt(norm), p[RIDGE_PARAM_b]);
  }
  return 0;
}
