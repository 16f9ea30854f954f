/* Gradient descent on the input (homework 1, "Gradient Descent": find the
 * input a trained classifier scores highest for a class).
 *
 * 1. Make a data set in the plane: class 1 is a Gaussian blob around
 *    CENTRE, class 0 a ring around it.  Train classifier.expr (2-16-1,
 *    tanh, sigmoid, BCE) on it with dcc_sgd.
 * 2. Freeze the weights and move the point x instead, with the gradient
 *    d loss / d x that dcc emitted because classifier.dccflags says
 *    --wrt x.  With the label set to the class wanted, lowering the BCE
 *    raises that class's score.  x stays in the box [-BOX, BOX]^2
 *    (projected gradient descent), so the search is bounded even for
 *    class 0, whose score keeps growing away from the ring's centre.
 *
 * The BCE's gradient in x is (score - y) d logit / d x: minus it points
 * the way the wanted class's logit grows, but its length vanishes as that
 * class's score nears 1.  So each step goes a distance `step` against the
 * gradient's direction, and a step that does not raise the class's logit
 * (which, unlike the score, does not round to 1) is undone and halved:
 * the search ends at a point where the score cannot be raised (a local
 * maximum, or the box's edge), not where the gradient merely became
 * small.  Several
 * starting points guard against local maxima; the best result is kept,
 * and compared with the best point of a fine grid over the box.
 *
 * Usage: input_gradient [--seed N] [--epochs N] [--svg DIR] [--quiet]
 *   --svg DIR   write DIR/input_gradient_boundary.svg: the classifier's
 *               score over the plane with the training points
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "args.h"
#include "plot.h"
#include "progress.h"
#include "dcc_train.h"

#define N_TRAIN 400
#define N_TEST 400
#define BOX 4.0         /* the search box: [-BOX, BOX]^2 */
#define MAX_EPOCHS 100000
#define GRID 400        /* the brute-force check: (GRID + 1)^2 points */
#define PI 3.14159265358979323846

typedef classifier_real real;

static const double CENTRE[2] = {1.0, 0.5};
static const double BLOB_STD = 0.5, RING_RADIUS = 2.2, RING_STD = 0.3;

static real train[N_TRAIN][CLASSIFIER_N_IN], test[N_TEST][CLASSIFIER_N_IN];

/* Even rows: class 1, the blob; odd rows: class 0, the ring. */
static void make_data(real (*rows)[CLASSIFIER_N_IN], int n, uint32_t seed) {
  uint32_t rng = seed;
  for (int i = 0; i < n; i++) {
    real *x = rows[i] + CLASSIFIER_IN_x;
    if (i % 2 == 0) {
      x[0] = CENTRE[0] + BLOB_STD * dcc_rng_normal(&rng);
      x[1] = CENTRE[1] + BLOB_STD * dcc_rng_normal(&rng);
      rows[i][CLASSIFIER_IN_y] = 1;
    } else {
      double angle = 2 * PI * dcc_rng_uniform(&rng), r = RING_RADIUS + RING_STD * dcc_rng_normal(&rng);
      x[0] = CENTRE[0] + r * cos(angle);
      x[1] = CENTRE[1] + r * sin(angle);
      rows[i][CLASSIFIER_IN_y] = 0;
    }
  }
}

static double score_at(const real *p, double x1, double x2, double *logit) {
  real in[CLASSIFIER_N_IN] = {0}, out[CLASSIFIER_N_OUT];
  in[CLASSIFIER_IN_x] = x1;
  in[CLASSIFIER_IN_x + 1] = x2;
  classifier_outputs(in, p, out);
  if (logit)
    *logit = out[CLASSIFIER_OUT_logit];
  return out[CLASSIFIER_OUT_score];
}

static double accuracy(const real *p, real (*rows)[CLASSIFIER_N_IN], int n) {
  int right = 0;
  for (int i = 0; i < n; i++) {
    double s = score_at(p, rows[i][CLASSIFIER_IN_x], rows[i][CLASSIFIER_IN_x + 1], NULL);
    right += (s > 0.5) == (rows[i][CLASSIFIER_IN_y] == 1);
  }
  return (double)right / n;
}

static double clamp(double v) { return v < -BOX ? -BOX : v > BOX ? BOX : v; }

/* The score of class `cls` at x: score for class 1, 1 - score for 0. */
static double class_score(const real *p, int cls, const real *x) {
  double s = score_at(p, x[0], x[1], NULL);
  return cls ? s : 1 - s;
}

/* The logit of class `cls` at x (logit for class 1, -logit for 0): it
 * grows with the class's score but, unlike the score, does not round to 1
 * when the classifier is sure, so the search compares logits. */
static double class_logit(const real *p, int cls, const real *x) {
  double logit;
  score_at(p, x[0], x[1], &logit);
  return cls ? logit : -logit;
}

/* Projected, normalised gradient descent on the input from x0; returns the
 * number of gradient evaluations and leaves the point in x. */
static int optimise_input(const real *p, int cls, const real *x0, real *x) {
  real in[CLASSIFIER_N_IN];
  int evals = 0;
  double step = 0.25;
  in[CLASSIFIER_IN_x] = x0[0];
  in[CLASSIFIER_IN_x + 1] = x0[1];
  in[CLASSIFIER_IN_y] = cls; /* the label to move towards */
  double best = class_logit(p, cls, in + CLASSIFIER_IN_x);
  while (step > 1e-9 && evals < 10000) {
    real g[2];
    classifier_grad_x(in, p, g);
    evals++;
    double norm = sqrt(g[0] * g[0] + g[1] * g[1]);
    if (!(norm > 0))
      break;
    real trial[CLASSIFIER_N_IN];
    memcpy(trial, in, sizeof trial);
    trial[CLASSIFIER_IN_x] = clamp(in[CLASSIFIER_IN_x] - step * g[0] / norm);
    trial[CLASSIFIER_IN_x + 1] = clamp(in[CLASSIFIER_IN_x + 1] - step * g[1] / norm);
    double s = class_logit(p, cls, trial + CLASSIFIER_IN_x);
    if (s > best) {
      memcpy(in, trial, sizeof in);
      best = s;
    } else {
      step /= 2;
    }
  }
  x[0] = in[CLASSIFIER_IN_x];
  x[1] = in[CLASSIFIER_IN_x + 1];
  return evals;
}

typedef struct {
  progress_ctx progress;
  int quiet;
} epoch_ctx;

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  epoch_ctx *c = ctx;
  if (!c->quiet)
    progress_on_epoch(&c->progress, r);
}

static double predict(void *ctx, double x1, double x2) { return score_at(ctx, x1, x2, NULL); }

static int usage(void) {
  fprintf(stderr, "usage: input_gradient [--seed N] [--epochs N] [--svg DIR] [--quiet]\n");
  return 2;
}

int main(int argc, char **argv) {
  unsigned long seed = 1;
  int epochs = 200, quiet = 0;
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

  /* 1. The classifier.  Training data from the seed, held-out data from
   *    seed xor 2^31. */
  make_data(train, N_TRAIN, (uint32_t)seed);
  make_data(test, N_TEST, (uint32_t)seed ^ 0x80000000u);
  static real p[CLASSIFIER_N_PARAMS], grad[CLASSIFIER_N_PARAMS], acc[CLASSIFIER_N_PARAMS];
  static int order[N_TRAIN];
  dcc_model m = DCC_MODEL(classifier, CLASSIFIER);
  classifier_init(p, (uint32_t)seed);
  /* A little weight decay keeps the logits moderate: without it the
   * network grows sure of itself (logits past 15) far from the data. */
  double rate = 0.05, decay = 0.001;
  dcc_sgd_options o = dcc_sgd_defaults(epochs, rate);
  o.weight_decay = decay;
  o.shuffle = 1;
  o.seed = (uint32_t)seed;
  epoch_ctx ec = {{stderr, epochs, 0}, quiet};
  o.on_epoch = on_epoch;
  o.ctx = &ec;
  dcc_workspace w = {grad, acc, NULL, order};
  printf("input_gradient: class 1 ~ N((%g, %g), %g^2 I), class 0 a ring of radius %g (std %g) around it; seed %lu\n",
         CENTRE[0], CENTRE[1], BLOB_STD, RING_RADIUS, RING_STD, seed);
  printf("classifier: 2-16-1, tanh, sigmoid, BCE; %d training samples, %d held-out; %d epochs, per-sample SGD, "
         "rate %g, weight decay %g\n",
         N_TRAIN, N_TEST, epochs, rate, decay);
  int run = dcc_sgd(&m, p, &train[0][0], N_TRAIN, &o, &w);
  if (!quiet)
    progress_end(stderr, run, epochs, ec.progress.last_loss);
  printf("classifier: train loss %.4f, held-out loss %.4f\n", dcc_mean_loss(&m, p, &train[0][0], N_TRAIN, grad),
         dcc_mean_loss(&m, p, &test[0][0], N_TEST, grad));
  printf("classifier: train accuracy %.4f, held-out accuracy %.4f\n", accuracy(p, train, N_TRAIN),
         accuracy(p, test, N_TEST));

  /* 2. The input that each class scores highest, in the box. */
  static const real starts[][2] = {{0, 0}, {-3, -3}, {-3, 3}, {3, -3}, {3, 3}};
  const int n_starts = (int)(sizeof starts / sizeof starts[0]);
  printf("\nsearch: in [-%g, %g]^2, from %d starting points\n", BOX, BOX, n_starts);
  for (int cls = 1; cls >= 0; cls--) {
    real best_x[2] = {0, 0};
    double best = -HUGE_VAL;
    for (int k = 0; k < n_starts; k++) {
      real x[2];
      int evals = optimise_input(p, cls, starts[k], x);
      double logit = class_logit(p, cls, x);
      printf("class %d: from (%5.2f, %5.2f): x = (%8.4f, %8.4f), score %.6f, class logit %8.4f, %d gradients\n",
             cls, starts[k][0], starts[k][1], x[0], x[1], class_score(p, cls, x), logit, evals);
      if (logit > best) {
        best = logit;
        best_x[0] = x[0];
        best_x[1] = x[1];
      }
    }
    printf("class %d: best input (%.4f, %.4f), score %.6f, class logit %.4f\n", cls, best_x[0], best_x[1],
           class_score(p, cls, best_x), best);
    /* A check by brute force: the best logit on a grid over the box. */
    double grid_best = -HUGE_VAL, gx = 0, gy = 0;
    for (int i = 0; i <= GRID; i++)
      for (int j = 0; j <= GRID; j++) {
        real x[2] = {-BOX + 2 * BOX * i / GRID, -BOX + 2 * BOX * j / GRID};
        double l = class_logit(p, cls, x);
        if (l > grid_best) {
          grid_best = l;
          gx = x[0];
          gy = x[1];
        }
      }
    printf("class %d: grid of %d x %d points: best (%.4f, %.4f), class logit %.4f; the search is %.2e higher\n", cls,
           GRID + 1, GRID + 1, gx, gy, grid_best, best - grid_best);
    if (cls == 1) {
      double d = hypot(best_x[0] - CENTRE[0], best_x[1] - CENTRE[1]);
      printf("class 1: distance from the blob's centre (%g, %g): %.4f\n", CENTRE[0], CENTRE[1], d);
    } else {
      double d = hypot(best_x[0] - CENTRE[0], best_x[1] - CENTRE[1]);
      printf("class 0: distance from the blob's centre: %.4f (the ring's radius is %g)\n", d, RING_RADIUS);
    }
  }

  if (svg_dir) {
    int labels[N_TRAIN];
    for (int i = 0; i < N_TRAIN; i++)
      labels[i] = train[i][CLASSIFIER_IN_y] == 1;
    plot_boundary b;
    memset(&b, 0, sizeof b);
    b.title = "input_gradient: the classifier's score for class 1, and its training points";
    b.predict = predict;
    b.ctx = p;
    b.n_classes = 2;
    b.x1_min = -BOX, b.x1_max = BOX, b.x2_min = -BOX, b.x2_max = BOX;
    b.resolution = 100;
    b.points = &train[0][CLASSIFIER_IN_x];
    b.stride = CLASSIFIER_N_IN;
    b.labels = labels;
    b.n_points = N_TRAIN;
    char *path = malloc(strlen(svg_dir) + 40);
    if (!path) {
      fprintf(stderr, "input_gradient: out of memory\n");
      return 1;
    }
    sprintf(path, "%s/input_gradient_boundary.svg", svg_dir);
    int bad = plot_decision_boundary(path, &b) != 0;
    if (bad)
      fprintf(stderr, "input_gradient: cannot write %s\n", path);
    else
      printf("picture: %s\n", path);
    free(path);
    if (bad)
      return 1;
  }
  return 0;
}
