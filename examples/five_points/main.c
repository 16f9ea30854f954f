/* The five-point network: a 2-2-1 tanh network learns to tell the origin
 * (class 1) from its four neighbours (class 0), trained with the runtime's
 * dcc_sgd on the C that dcc generated.  Two parts:
 *
 * Per-sample SGD (five_points.expr: glorot weights, zero biases): 250
 * epochs, rate 2.5 for the first 100 epochs and 0.5 after; the epoch
 * losses (sums over the five samples), the predictions table, the
 * per-sample loss curves and the decision boundary.
 *
 * Random restarts (five_points_normal.expr: every param standard normal):
 * 10 runs of full-batch gradient descent, rate 1, at most 100 steps,
 * stopping when the mean loss improves by less than 1e-4; each run's final
 * loss, starred below 0.1, the best one, its decision boundary and every
 * run's loss curve.
 *
 * The settings and the numbers they give are those of two exercises of a
 * machine-learning course (labs 5 and 3), which this example reproduces.
 *
 * usage: five_points [--seed N] [--epochs N] [--every K] [--restart-seed N]
 *                    [--restarts N] [--part sgd|restarts|both] [OUTDIR]
 *   --seed N          per-sample SGD's init seed (default 15: the original run)
 *   --epochs N        per-sample SGD's epochs (default 250)
 *   --every K         print every K-th epoch's loss, and the last (default 10)
 *   --restart-seed N  the first restart's init seed (default 1)
 *   --restarts N      the number of restarts (default 10)
 *   --part P          which part to run (default both); --lab 5|3|both, the
 *                     course's names, is the same
 * OUTDIR (default: the current directory) receives five_points_loss.svg
 * and five_points_boundary.svg (per-sample SGD),
 * five_points_restarts_loss.svg and five_points_restarts_boundary.svg
 * (random restarts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "plot.h"
#include "dcc_train.h"
#include "five_points.h"
#include "five_points_normal.h"

#define N_SAMPLES 5
#define MAX_EPOCHS 100000

/* x1, x2, label: the same layout as both models' in[] */
static const dcc_real data[N_SAMPLES][3] = {
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

/* Per-sample SGD's schedule: rate 2.5 for epochs 1 to 100, 0.5 after. */
#define FAST_EPOCHS 100

typedef struct {
  int every;                   /* print every k-th epoch (and the last) */
  int epochs;
  double *curves;              /* sample i's loss at epoch e: curves[i * epochs + e] */
  double first, end_fast, last; /* the epoch losses at epoch 1, 100 and the last */
} sgd_log;

static void sgd_epoch(void *ctx, const dcc_epoch_report *r) {
  sgd_log *log = ctx;
  if (r->epoch == 0)
    log->first = (double)r->loss_sum;
  if (r->epoch + 1 == FAST_EPOCHS)
    log->end_fast = (double)r->loss_sum;
  log->last = (double)r->loss_sum;
  if ((r->epoch + 1) % log->every == 0 || r->epoch + 1 == log->epochs)
    printf("EPOCH: %5d  LOSS: %.5f\n", r->epoch + 1, (double)r->loss_sum);
}

static void sgd_sample(void *ctx, int epoch, int sample, dcc_real loss) {
  sgd_log *log = ctx;
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

static double five_points_normal_predict(void *ctx, double x1, double x2) {
  dcc_real in[FIVE_POINTS_NORMAL_N_IN] = {0}, out[FIVE_POINTS_NORMAL_N_OUT];
  in[FIVE_POINTS_NORMAL_IN_x1] = (dcc_real)x1;
  in[FIVE_POINTS_NORMAL_IN_x2] = (dcc_real)x2;
  five_points_normal_outputs(in, ctx, out);
  return (double)out[FIVE_POINTS_NORMAL_OUT_fout];
}

/* The decision boundary: predictions on [-2, 2]^2 in steps of 1/25, the
 * five points on top. */
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

/* Per-sample SGD with the rate schedule. */
static void sgd(uint32_t seed, int epochs, int every, const char *outdir) {
  dcc_real p[FIVE_POINTS_N_PARAMS], grad[FIVE_POINTS_N_PARAMS], acc[FIVE_POINTS_N_PARAMS];
  /* 2.5 while epoch < 100 (0-based), then 0.5: two rates, one boundary */
  static const int until[] = {FAST_EPOCHS};
  static const dcc_real rates[] = {2.5, 0.5};
  dcc_model m = DCC_MODEL(five_points, FIVE_POINTS);
  dcc_workspace w = {grad, acc, NULL, NULL};
  sgd_log log;
  log.every = every;
  log.epochs = epochs;
  log.first = log.end_fast = log.last = 0;
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
  o.on_epoch = sgd_epoch;
  o.on_sample = sgd_sample;
  o.ctx = &log;
  five_points_init(p, seed);
  printf("Per-sample SGD: %d epochs, rate 2.5, 0.5 from epoch 101; init seed %u\n", epochs, (unsigned)seed);
  printf("(EPOCH lines: the sum of the five samples' losses during the epoch)\n");
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
  check(plot_loss_curves(path, "Per-sample SGD: the loss of each sample", log.curves, N_SAMPLES, epochs, names),
        path);
  free(log.curves);
  snprintf(path, sizeof path, "%s/five_points_boundary.svg", outdir);
  boundary(path, "Per-sample SGD: the decision boundary", five_points_predict, p);
  /* Why the loss went up: the rate, not a bug. */
  if (epochs > FAST_EPOCHS && log.end_fast > log.first)
    printf("Why the loss rose, from %.5f at epoch 1 to %.5f at epoch %d: the rate was 2.5, as in the\n"
           "original run, too large for this network: its updates overshoot. At rate 0.5, from epoch %d,\n"
           "the loss fell to %.5f by epoch %d.\n",
           log.first, log.end_fast, FAST_EPOCHS, FAST_EPOCHS + 1, log.last, epochs);
}

/* Random restarts: the mean loss at each step of each run (NaN after it
 * stopped), and whether the last epoch was the tolerance stop. */
#define RESTART_STEPS 100
#define RESTART_TOLERANCE 1e-4

typedef struct {
  double *curve; /* RESTART_STEPS values */
  double previous, last;
  int epochs;
} restart_log;

static void restart_epoch(void *ctx, const dcc_epoch_report *r) {
  restart_log *log = ctx;
  log->curve[r->epoch] = (double)r->loss_mean;
  log->previous = log->last;
  log->last = (double)r->loss_mean;
  log->epochs = r->epoch + 1;
}

/* Random restarts of full-batch gradient descent from normal inits. */
static void restarts_run(uint32_t seed, int restarts, const char *outdir) {
  dcc_real p[FIVE_POINTS_NORMAL_N_PARAMS], best[FIVE_POINTS_NORMAL_N_PARAMS];
  dcc_real grad[FIVE_POINTS_NORMAL_N_PARAMS], acc[FIVE_POINTS_NORMAL_N_PARAMS];
  dcc_model m = DCC_MODEL(five_points_normal, FIVE_POINTS_NORMAL);
  dcc_workspace w = {grad, acc, NULL, NULL};
  double *curves = malloc((size_t)restarts * RESTART_STEPS * sizeof *curves);
  char (*names)[32] = malloc((size_t)restarts * sizeof *names);
  const char **name_ptrs = malloc((size_t)restarts * sizeof *name_ptrs);
  if (!curves || !names || !name_ptrs) {
    fprintf(stderr, "five_points: out of memory\n");
    exit(1);
  }
  restart_log log;
  dcc_sgd_options o = dcc_sgd_defaults(RESTART_STEPS, 1);
  o.batch_size = 0;                /* full batch: gradients averaged over the five points */
  o.tolerance = RESTART_TOLERANCE; /* stop when the mean loss improves by less */
  o.on_epoch = restart_epoch;
  o.ctx = &log;
  double min_loss = 10;
  int below = 0, best_restart = 0;
  printf("Random restarts: %d runs (init seeds %u..%u), full batch, rate 1, at most %d steps, tolerance %g\n",
         restarts, (unsigned)seed, (unsigned)(seed + (uint32_t)restarts - 1), RESTART_STEPS, RESTART_TOLERANCE);
  for (int r = 0; r < restarts; r++) {
    uint32_t s = seed + (uint32_t)r;
    log.curve = curves + (size_t)r * RESTART_STEPS;
    for (int i = 0; i < RESTART_STEPS; i++)
      log.curve[i] = (double)NAN;
    log.previous = log.last = 0;
    log.epochs = 0;
    five_points_normal_init(p, s);
    dcc_sgd(&m, p, &data[0][0], N_SAMPLES, &o, &w);
    /* The last epoch made no update if it was the tolerance stop. */
    int stopped = log.epochs > 1 && log.previous - log.last < RESTART_TOLERANCE;
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
    dcc_real out[FIVE_POINTS_NORMAL_N_OUT];
    five_points_normal_outputs(data[i], best, out);
    printf("SAMPLE: %d  TRUE: %d  PRED: %.3f\n", i, (int)data[i][2], (double)out[FIVE_POINTS_NORMAL_OUT_fout]);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/five_points_restarts_loss.svg", outdir);
  check(plot_loss_curves(path, "Random restarts: the mean loss of each run, full-batch gradient descent", curves,
                         restarts, RESTART_STEPS, name_ptrs),
        path);
  free(curves);
  free(names);
  free(name_ptrs);
  snprintf(path, sizeof path, "%s/five_points_restarts_boundary.svg", outdir);
  boundary(path, "Random restarts: the decision boundary of the best run", five_points_normal_predict, best);
}

static void usage(void) {
  fprintf(stderr, "usage: five_points [--seed N] [--epochs N] [--every K] [--restart-seed N] [--restarts N]\n"
                  "                   [--part sgd|restarts|both] [OUTDIR]\n");
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
  int epochs = 250, every = 10, restarts = 10, run_sgd = 1, run_restarts = 1;
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
    else if ((!strcmp(a, "--part") || !strcmp(a, "--lab")) && i + 1 < argc) {
      /* --lab 5|3|both: the course's names for the two parts */
      const char *v = argv[++i];
      run_sgd = !strcmp(v, a[2] == 'p' ? "sgd" : "5") || !strcmp(v, "both");
      run_restarts = !strcmp(v, a[2] == 'p' ? "restarts" : "3") || !strcmp(v, "both");
      if (!run_sgd && !run_restarts)
        usage();
    } else if (a[0] == '-' && a[1])
      usage();
    else
      outdir = a;
  }
  if (run_sgd)
    sgd(seed, epochs, every, outdir);
  if (run_sgd && run_restarts)
    printf("\n");
  if (run_restarts)
    restarts_run(restart_seed, restarts, outdir);
  return 0;
}
