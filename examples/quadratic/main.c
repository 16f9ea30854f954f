/* Gradient descent on a function of two variables (a course's lab 3),
 *     f(x1, x2) = (x1 - 6)^2 + x2^2 - x1*x2
 * with the gradient that dcc derived from quadratic.expr.
 *
 * 1. The pen-and-paper table: three steps from (6, 6) with step sizes 1/2,
 *    1/3 and 1/4, each row the point, f, the gradient and the next point.
 * 2. The lab's optimiser: constant rate 0.1, at most 10 steps, stop as soon
 *    as f improves by less than 1e-4.  That is dcc_sgd on one "sample" (the
 *    model has no inputs) in full batch with a tolerance; it ends at
 *    7.943505 4.056495, as the lab's R function does.
 *
 * usage: quadratic [--rate R] [--steps N] [--tolerance T] [--start X1,X2] [OUTDIR]
 * OUTDIR (default: the current directory) receives quadratic_loss.svg: f at
 * the start of each step of part 2 and where the last one arrived. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "dcc_train.h"
#include "quadratic.h"

#define MAX_STEPS 100000

typedef struct {
  dcc_real *p;            /* the point being optimised */
  dcc_real before[QUADRATIC_N_PARAMS];
  double f[MAX_STEPS + 1]; /* f at the start of each step, for the plot */
  int n;
} trace;

static void print_point(const char *open, const dcc_real *x, const char *close) {
  printf("%s%g, %g%s", open, (double)x[0], (double)x[1], close);
}

/* Part 1: the table of the lab's solution. */
static void pen_and_paper(void) {
  static const int denominators[3] = {2, 3, 4};
  dcc_real x[QUADRATIC_N_PARAMS], g[QUADRATIC_N_PARAMS], next[QUADRATIC_N_PARAMS];
  quadratic_init(x, 0); /* (6, 6) */
  printf("Pen and paper: three steps from (6, 6), step sizes 1/2, 1/3, 1/4\n");
  printf("%-3s %-10s %8s  %-10s %-5s %s\n", "t", "x(t)", "f(x(t))", "grad f", "step", "x(t+1)");
  for (int t = 0; t < 3; t++) {
    dcc_real f = quadratic_loss_grad(NULL, x, g);
    for (int j = 0; j < QUADRATIC_N_PARAMS; j++)
      next[j] = x[j] - (dcc_real)1 / denominators[t] * g[j];
    char point[64], grad[64];
    snprintf(point, sizeof point, "(%g, %g)", (double)x[0], (double)x[1]);
    snprintf(grad, sizeof grad, "(%g, %g)", (double)g[0] + 0.0, (double)g[1] + 0.0); /* + 0.0: no "-0" */
    printf("%-3d %-10s %8g  %-10s 1/%-3d ", t + 1, point, (double)f + 0.0, grad, denominators[t]);
    print_point("(", next, ")\n");
    memcpy(x, next, sizeof x);
  }
  printf("The gradient at (8, 4) is zero: further steps stay there, at the minimum f = -12.\n\n");
}

/* Part 2: one line per step. */
static void on_step(void *ctx, const dcc_epoch_report *r) {
  trace *t = ctx;
  if (t->n <= MAX_STEPS)
    t->f[t->n++] = (double)r->loss_mean;
  int moved = t->p[0] != t->before[0] || t->p[1] != t->before[1];
  printf("%4d  %10.6f  ", r->epoch + 1, (double)r->loss_mean);
  if (moved)
    printf("(%.6f, %.6f)\n", (double)t->p[0], (double)t->p[1]);
  else
    printf("stop: f improved by less than the tolerance\n");
  memcpy(t->before, t->p, sizeof t->before);
}

static void usage(void) {
  fprintf(stderr, "usage: quadratic [--rate R] [--steps N] [--tolerance T] [--start X1,X2] [OUTDIR]\n");
  exit(2);
}

int main(int argc, char **argv) {
  double rate = 0.1, tolerance = 1e-4;
  int steps = 10;
  const char *outdir = ".";
  dcc_real x[QUADRATIC_N_PARAMS];
  quadratic_init(x, 0);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    char *end;
    if (!strcmp(a, "--rate") && i + 1 < argc) {
      rate = strtod(argv[++i], &end);
      if (*end || rate <= 0) usage();
    } else if (!strcmp(a, "--steps") && i + 1 < argc) {
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > MAX_STEPS) usage();
      steps = (int)n;
    } else if (!strcmp(a, "--tolerance") && i + 1 < argc) {
      tolerance = strtod(argv[++i], &end);
      if (*end || tolerance < 0) usage();
    } else if (!strcmp(a, "--start") && i + 1 < argc) {
      x[0] = (dcc_real)strtod(argv[++i], &end);
      if (*end != ',') usage();
      x[1] = (dcc_real)strtod(end + 1, &end);
      if (*end) usage();
    } else if (a[0] == '-' && a[1]) {
      usage();
    } else {
      outdir = a;
    }
  }

  pen_and_paper();

  static trace t;
  t.p = x;
  memcpy(t.before, x, sizeof t.before);
  dcc_model m = DCC_MODEL(quadratic, QUADRATIC);
  dcc_real grad[QUADRATIC_N_PARAMS], acc[QUADRATIC_N_PARAMS];
  dcc_workspace w = {grad, acc, NULL, NULL};
  static const dcc_real no_data[1] = {0}; /* one sample of zero inputs */
  dcc_sgd_options o = dcc_sgd_defaults(steps, (dcc_real)rate);
  o.batch_size = 0; /* full batch */
  o.tolerance = (dcc_real)tolerance;
  o.on_epoch = on_step;
  o.ctx = &t;
  printf("Gradient descent from (%g, %g): rate %g, at most %d steps, stop when f improves by less than %g\n",
         (double)x[0], (double)x[1], rate, steps, tolerance);
  printf("%4s  %10s  %s\n", "step", "f before", "x after");
  dcc_sgd(&m, x, no_data, 1, &o, &w);
  dcc_real f = quadratic_loss(NULL, x);
  printf("x: %f %f\n", (double)x[0], (double)x[1]);
  printf("f(x): %f (minimum: f(8, 4) = -12)\n", (double)f);

  if (t.n <= MAX_STEPS && (t.n == 0 || t.f[t.n - 1] != (double)f))
    t.f[t.n++] = (double)f; /* where the last step arrived (unless it stopped) */

  char path[4096];
  snprintf(path, sizeof path, "%s/quadratic_loss.svg", outdir);
  static const char *const names[1] = {"f(x)"};
  if (plot_loss_curves(path, "Gradient descent on f(x1, x2) = (x1 - 6)^2 + x2^2 - x1 x2", t.f, 1, t.n,
                          names) != 0) {
    fprintf(stderr, "quadratic: cannot write %s\n", path);
    return 1;
  }
  printf("picture: %s\n", path);
  return 0;
}
