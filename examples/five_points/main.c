/* The five-point network of labs 5 and 3 (seeds/000, seeds/002), trained
 * with the runtime's dcc_sgd on the C that dcc generated.
 *
 * Lab 5 (five_points.expr: glorot weights, zero biases): per-sample SGD for
 * 250 epochs, rate 2.5 for the first 100 epochs and 0.5 after; the epoch
 * losses (sums over the five samples, as the lab prints them), the
 * predictions table, the per-sample loss curves and the decision boundary.
 *
 * Lab 3 (five_points_lab3.expr: every param standard normal): 10 random
 * restarts of full-batch gradient descent, rate 1, at most 100 steps,
 * stopping when the mean loss improves by less than 1e-4 (the lab's
 * gradient_descent_optimizer); each restart's final loss, starred below 0.1,
 * the best one, its decision boundary and every restart's loss curve.
 *
 * usage: five_points [--seed N] [--epochs N] [--every K] [--restart-seed N]
 *                    [--restarts N] [--lab 5|3|both] [OUTDIR]
 *   --seed N          lab 5's init seed (default 15: the run the lab prints)
 *   --epochs N        lab 5's epochs (default 250)
 *   --every K         print every K-th epoch's loss, and the last (default 10)
 *   --restart-seed N  the first of lab 3's init seeds (default 1)
 *   --restarts N      lab 3's restarts (default 10)
 *   --lab 5|3|both    which lab to run (default both)
 * OUTDIR (default: the current directory) receives five_points_loss.svg
 * and five_points_boundary.svg (lab 5), five_points_lab3_loss.svg and
 * five_points_lab3_boundary.svg (lab 3). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "plot.h"
#include "dcc_train.h"
#include "five_points.h"
#include "five_points_lab3.h"

#define N_SAMPLES 5
#define MAX_EPOCHS 100000

/* x1, x2, label: the same layout as both models' in[] */
static const dcc_real data[N_SAMPLES][3] = {
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

typedef struct {
  int every;                   /* print every k-th epoch (and the last) */
  int epochs;
  double *curves;              /* sample i's loss at epoch e: curves[i * epochs + e] */
} lab5_log;

static void lab5_epoch(void *ctx, const dcc_epoch_report *r) {
  const lab5_log *log = ctx;
  if ((r->epoch + 1) % log->every == 0 || r->epoch + 1 == log->epochs)
    printf("EPOCH: %5d  LOSS: %.5f\n", r->epoch + 1, (double)r->loss_sum);
}

static void lab5_sample(void *ctx, int epoch, int sample, dcc_real loss) {
  lab5_log *log = ctx;
  log->curves[sample * log->epochs + epoch] = (double)loss;
}

/* A picture was written, or the program ends. */
static void check(int rc, const char *path) {
  if (rc != 0) {
    fprintf(stderr, "five_points: cannot write %s\n", path);
    exit(1);
  }
  printf("picture: %s\n", path);
}

/* The probability of class 1 at (x1, x2), for the decision boundaries;
 * ctx is the params. */
static double five_points_predict(void *ctx, double x1, double x2) {
  dcc_real in[FIVE_POINTS_N_IN] = {0}, out[FIVE_POINTS_N_OUT];
  in[FIVE_POINTS_IN_x1] = (dcc_real)x1;
  in[FIVE_POINTS_IN_x2] = (dcc_real)x2;
  five_points_outputs(in, ctx, out);
  return (double)out[FIVE_POINTS_OUT_fout];
}

static double five_points_lab3_predict(void *ctx, double x1, double x2) {
  dcc_real in[FIVE_POINTS_LAB3_N_IN] = {0}, out[FIVE_POINTS_LAB3_N_OUT];
  in[FIVE_POINTS_LAB3_IN_x1] = (dcc_real)x1;
  in[FIVE_POINTS_LAB3_IN_x2] = (dcc_real)x2;
  five_points_lab3_outputs(in, ctx, out);
  return (double)out[FIVE_POINTS_LAB3_OUT_fout];
}

/* The labs' plot: predictions on [-2, 2]^2 in steps of 1/25, the five
 * points on top. */
static void boundary(const char *path, const char *title, double (*predict)(void *, double, double), dcc_real *p) {
  static const int labels[N_SAMPLES] = {1, 0, 0, 0, 0};
  plot_boundary b;
  memset(&b, 0, sizeof b);
  b.title = title;
  b.predict = predict;
  b.ctx = p;
  b.n_classes = 2;
  b.x1_min = b.x2_min = -2;
  b.x1_max = b.x2_max = 2;
  b.resolution = 100;
  b.points = &data[0][0];
  b.stride = 3;
  b.labels = labels;
  b.n_points = N_SAMPLES;
  check(plot_decision_boundary(path, &b), path);
}

/* Lab 5: per-sample SGD with the rate schedule. */
static void lab5(uint32_t seed, int epochs, int every, const char *outdir) {
  dcc_real p[FIVE_POINTS_N_PARAMS], grad[FIVE_POINTS_N_PARAMS], acc[FIVE_POINTS_N_PARAMS];
  /* 2.5 while epoch < 100, then 0.5.  The second boundary is never
   * reached; it is there because dcc_rate_at reads schedule_until[i] for
   * every i < schedule_len (the header's "until {100}" example would read
   * past the array). */
  static const int until[] = {100, INT_MAX};
  static const dcc_real rates[] = {2.5, 0.5};
  dcc_model m = DCC_MODEL(five_points, FIVE_POINTS);
  dcc_workspace w = {grad, acc, NULL, NULL};
  lab5_log log;
  log.every = every;
  log.epochs = epochs;
  log.curves = malloc((size_t)N_SAMPLES * (size_t)epochs * sizeof *log.curves);
  if (!log.curves) {
    fprintf(stderr, "five_points: out of memory\n");
    exit(1);
  }

  dcc_sgd_options o = dcc_sgd_defaults(epochs, 0);
  o.batch_size = 1;
  o.schedule_until = until;
  o.schedule_rate = rates;
  o.schedule_len = 2;
  o.on_epoch = lab5_epoch;
  o.on_sample = lab5_sample;
  o.ctx = &log;
  five_points_init(p, seed);
  printf("Lab 5: per-sample SGD, %d epochs, rate 2.5, 0.5 from epoch 101; init seed %u\n", epochs,
         (unsigned)seed);
  dcc_sgd(&m, p, &data[0][0], N_SAMPLES, &o, &w);

  for (int i = 0; i < N_SAMPLES; i++) {
    dcc_real out[FIVE_POINTS_N_OUT];
    five_points_outputs(data[i], p, out);
    printf("SAMPLE: %d  TRUE: %d  PRED: %.3f\n", i, (int)data[i][2], (double)out[FIVE_POINTS_OUT_fout]);
  }

  static const char *const names[N_SAMPLES] = {"sample 0 (1)", "sample 1 (0)", "sample 2 (0)", "sample 3 (0)",
                                               "sample 4 (0)"};
  char path[4096];
  snprintf(path, sizeof path, "%s/five_points_loss.svg", outdir);
  check(plot_loss_curves(path, "Lab 5: the loss of each sample, per-sample SGD", log.curves, N_SAMPLES, epochs,
                            names),
        path);
  free(log.curves);
  snprintf(path, sizeof path, "%s/five_points_boundary.svg", outdir);
  boundary(path, "Lab 5: decision boundary after per-sample SGD", five_points_predict, p);
}

/* Lab 3: the mean loss at each step of each restart (NaN after it stopped),
 * and whether the last epoch was the tolerance stop. */
#define LAB3_STEPS 100
#define LAB3_TOLERANCE 1e-4

typedef struct {
  double *curve; /* LAB3_STEPS values */
  double previous, last;
  int epochs;
} lab3_log;

static void lab3_epoch(void *ctx, const dcc_epoch_report *r) {
  lab3_log *log = ctx;
  log->curve[r->epoch] = (double)r->loss_mean;
  log->previous = log->last;
  log->last = (double)r->loss_mean;
  log->epochs = r->epoch + 1;
}

/* Lab 3: restarts of full-batch gradient descent from normal inits. */
static void lab3(uint32_t seed, int restarts, const char *outdir) {
  dcc_real p[FIVE_POINTS_LAB3_N_PARAMS], best[FIVE_POINTS_LAB3_N_PARAMS];
  dcc_real grad[FIVE_POINTS_LAB3_N_PARAMS], acc[FIVE_POINTS_LAB3_N_PARAMS];
  dcc_model m = DCC_MODEL(five_points_lab3, FIVE_POINTS_LAB3);
  dcc_workspace w = {grad, acc, NULL, NULL};
  double *curves = malloc((size_t)restarts * LAB3_STEPS * sizeof *curves);
  char (*names)[32] = malloc((size_t)restarts * sizeof *names);
  const char **name_ptrs = malloc((size_t)restarts * sizeof *name_ptrs);
  if (!curves || !names || !name_ptrs) {
    fprintf(stderr, "five_points: out of memory\n");
    exit(1);
  }
  lab3_log log;
  dcc_sgd_options o = dcc_sgd_defaults(LAB3_STEPS, 1);
  o.batch_size = 0;             /* full batch: gradients averaged over the five points */
  o.tolerance = LAB3_TOLERANCE; /* the lab's stopping rule */
  o.on_epoch = lab3_epoch;
  o.ctx = &log;
  double min_loss = 10;
  int below = 0, best_restart = 0;
  printf("Lab 3: %d restarts (init seeds %u..%u), full batch, rate 1, at most %d steps, tolerance %g\n", restarts,
         (unsigned)seed, (unsigned)(seed + (uint32_t)restarts - 1), LAB3_STEPS, LAB3_TOLERANCE);
  for (int r = 0; r < restarts; r++) {
    uint32_t s = seed + (uint32_t)r;
    log.curve = curves + (size_t)r * LAB3_STEPS;
    for (int i = 0; i < LAB3_STEPS; i++)
      log.curve[i] = (double)NAN;
    log.previous = log.last = 0;
    log.epochs = 0;
    five_points_lab3_init(p, s);
    dcc_sgd(&m, p, &data[0][0], N_SAMPLES, &o, &w);
    /* The last epoch made no update if it was the tolerance stop. */
    int stopped = log.epochs > 1 && log.previous - log.last < LAB3_TOLERANCE;
    int steps = stopped ? log.epochs - 1 : log.epochs;
    double loss = (double)dcc_mean_loss(&m, p, &data[0][0], N_SAMPLES, grad);
    printf("Loss %.7g %s(seed %u, %d steps%s)\n", loss, loss < 0.1 ? "* " : "", (unsigned)s, steps,
           stopped ? ", stopped" : "");
    snprintf(names[r], sizeof names[r], "seed %u", (unsigned)s);
    name_ptrs[r] = names[r];
    below += loss < 0.1;
    if (loss < min_loss) {
      min_loss = loss;
      best_restart = r;
      memcpy(best, p, sizeof best);
    }
  }
  printf("Restarts below 0.1: %d of %d\n", below, restarts);
  printf("Best: restart %d (seed %u), loss %.7g\n", best_restart + 1, (unsigned)(seed + (uint32_t)best_restart),
         min_loss);
  for (int i = 0; i < N_SAMPLES; i++) {
    dcc_real out[FIVE_POINTS_LAB3_N_OUT];
    five_points_lab3_outputs(data[i], best, out);
    printf("SAMPLE: %d  TRUE: %d  PRED: %.3f\n", i, (int)data[i][2], (double)out[FIVE_POINTS_LAB3_OUT_fout]);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/five_points_lab3_loss.svg", outdir);
  check(plot_loss_curves(path, "Lab 3: mean loss of each restart, full-batch gradient descent", curves, restarts,
                            LAB3_STEPS, name_ptrs),
        path);
  free(curves);
  free(names);
  free(name_ptrs);
  snprintf(path, sizeof path, "%s/five_points_lab3_boundary.svg", outdir);
  boundary(path, "Lab 3: decision boundary of the best restart", five_points_lab3_predict, best);
}

static void usage(void) {
  fprintf(stderr, "usage: five_points [--seed N] [--epochs N] [--every K] [--restart-seed N] [--restarts N]\n"
                  "                   [--lab 5|3|both] [OUTDIR]\n");
  exit(2);
}

static long long number(const char *s, long long lo, long long hi) {
  long long v;
  if (arg_integer(s, lo, hi, &v))
    usage();
  return v;
}

int main(int argc, char **argv) {
  uint32_t seed = 15, restart_seed = 1;
  int epochs = 250, every = 10, restarts = 10, run5 = 1, run3 = 1;
  const char *outdir = ".";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--seed") && i + 1 < argc)
      seed = (uint32_t)number(argv[++i], 0, 4294967295LL);
    else if (!strcmp(a, "--restart-seed") && i + 1 < argc)
      restart_seed = (uint32_t)number(argv[++i], 0, 4294967295LL);
    else if (!strcmp(a, "--epochs") && i + 1 < argc)
      epochs = (int)number(argv[++i], 1, MAX_EPOCHS);
    else if (!strcmp(a, "--every") && i + 1 < argc)
      every = (int)number(argv[++i], 1, MAX_EPOCHS);
    else if (!strcmp(a, "--restarts") && i + 1 < argc)
      restarts = (int)number(argv[++i], 1, 100000);
    else if (!strcmp(a, "--lab") && i + 1 < argc) {
      const char *v = argv[++i];
      run5 = !strcmp(v, "5") || !strcmp(v, "both");
      run3 = !strcmp(v, "3") || !strcmp(v, "both");
      if (!run5 && !run3)
        usage();
    } else if (a[0] == '-' && a[1])
      usage();
    else
      outdir = a;
  }
  if (run5)
    lab5(seed, epochs, every, outdir);
  if (run5 && run3)
    printf("\n");
  if (run3)
    lab3(restart_seed, restarts, outdir);
  return 0;
}
