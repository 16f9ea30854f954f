/* Deeper networks on the five points of examples/five_points: tanh hidden
 * layers, a sigmoid output and the mean squared error, trained by full-batch
 * gradient descent for 2500 epochs at rate 0.25; the final loss, the
 * predictions, the loss curve and the decision boundary.  (The settings are
 * those of a machine-learning course's lab 4, which this reproduces.)
 *
 * The language has fixed shapes, so each architecture is a model of its
 * own: mlp_DxW.expr has D hidden layers of W units (make_model.sh D W writes
 * it).  All of them are linked in; --model picks one, --all trains each.
 *
 * usage: deep_mlp [--model DxW | --all] [--seed N] [--epochs N] [--rate R]
 *                 [--every K] [OUTDIR]
 *   --model DxW   the architecture (default 2x4; see --list)
 *   --all         train every architecture, one summary line each
 *   --list        list the architectures
 *   --seed N      the init seed (default 1)
 *   --epochs N    epochs, each one full-batch step (default 2500)
 *   --rate R      the learning rate (default 0.25)
 *   --every K     print every K-th epoch's loss, and the last (default 250)
 * OUTDIR (default: the current directory) receives deep_mlp_DxW_loss.svg and
 * deep_mlp_DxW_boundary.svg for each model trained. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "plot.h"
#include "dcc_train.h"
#include "mlp_1x2.h"
#include "mlp_2x4.h"
#include "mlp_3x8.h"
#include "mlp_5x5.h"

#define N_SAMPLES 5
#define MAX_EPOCHS 1000000
#define MAX_PARAMS 512

/* x1, x2, label: every model's in[] is x[2] then y[1] */
static const dcc_real data[N_SAMPLES][3] = {
    {0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0},
};

typedef struct {
  const char *name; /* "DxW": depth x width */
  dcc_model m;
  void (*outputs)(const dcc_real *in, const dcc_real *p, dcc_real *out);
} mlp;

/* Every model's yhat is its only output, out[0]. */
static const mlp models[] = {
    {"1x2", DCC_MODEL(mlp_1x2, MLP_1X2), mlp_1x2_outputs},
    {"2x4", DCC_MODEL(mlp_2x4, MLP_2X4), mlp_2x4_outputs},
    {"3x8", DCC_MODEL(mlp_3x8, MLP_3X8), mlp_3x8_outputs},
    {"5x5", DCC_MODEL(mlp_5x5, MLP_5X5), mlp_5x5_outputs},
};
#define N_MODELS ((int)(sizeof models / sizeof models[0]))

typedef struct {
  int every, epochs, quiet;
  double *curve; /* the mean loss at the start of each epoch */
} run_log;

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  run_log *log = ctx;
  log->curve[r->epoch] = (double)r->loss_mean;
  if (!log->quiet && ((r->epoch + 1) % log->every == 0 || r->epoch + 1 == log->epochs))
    printf("EPOCH: %5d  LOSS: %.6f\n", r->epoch + 1, (double)r->loss_mean);
}

typedef struct {
  const mlp *net;
  const dcc_real *p;
} predictor;

static double predict(void *ctx, double x1, double x2) {
  const predictor *pr = ctx;
  dcc_real in[3] = {(dcc_real)x1, (dcc_real)x2, 0}, out[1];
  pr->net->outputs(in, pr->p, out);
  return (double)out[0];
}

static void check(int rc, const char *path) {
  if (rc != 0) {
    fprintf(stderr, "deep_mlp: cannot write %s\n", path);
    exit(1);
  }
  printf("picture: %s\n", path);
}

/* Train one architecture; print its epochs (unless quiet), final loss and
 * predictions (or one summary line), and draw it. */
static void train(const mlp *net, uint32_t seed, int epochs, double rate, int every, int quiet,
                  const char *outdir) {
  dcc_real p[MAX_PARAMS], grad[MAX_PARAMS], acc[MAX_PARAMS];
  dcc_workspace w = {grad, acc, NULL, NULL};
  run_log log = {every, epochs, quiet, malloc((size_t)epochs * sizeof(double))};
  if (!log.curve) {
    fprintf(stderr, "deep_mlp: out of memory\n");
    exit(1);
  }
  dcc_sgd_options o = dcc_sgd_defaults(epochs, (dcc_real)rate);
  o.batch_size = 0; /* full batch: every step uses all five points */
  o.on_epoch = on_epoch;
  o.ctx = &log;
  net->m.init(p, seed);
  if (!quiet)
    printf("Deep MLP: %s tanh hidden layers (depth x width), sigmoid output, MSE; %d params, init seed %u\n"
           "full batch, %d epochs, rate %g\n",
           net->name, net->m.n_params, (unsigned)seed, epochs, rate);
  dcc_sgd(&net->m, p, &data[0][0], N_SAMPLES, &o, &w);
  double loss = (double)dcc_mean_loss(&net->m, p, &data[0][0], N_SAMPLES, grad);
  dcc_real pred[N_SAMPLES];
  for (int i = 0; i < N_SAMPLES; i++)
    net->outputs(data[i], p, &pred[i]);
  if (quiet) {
    printf("%-4s %4d params  final loss %.6f  PRED:", net->name, net->m.n_params, loss);
    for (int i = 0; i < N_SAMPLES; i++)
      printf(" %.3f", (double)pred[i]);
    printf("\n");
  } else {
    printf("Final loss: %.6f\n", loss);
    for (int i = 0; i < N_SAMPLES; i++)
      printf("SAMPLE: %d  TRUE: %d  PRED: %.3f\n", i, (int)data[i][2], (double)pred[i]);
  }

  char path[4096], title[128];
  static const char *const names[1] = {"mean loss"};
  snprintf(path, sizeof path, "%s/deep_mlp_%s_loss.svg", outdir, net->name);
  snprintf(title, sizeof title, "Deep MLP %s: the loss of full-batch gradient descent", net->name);
  check(plot_loss_curves(path, title, log.curve, 1, epochs, names), path);
  free(log.curve);

  static const int labels[N_SAMPLES] = {1, 0, 0, 0, 0};
  predictor pr = {net, p};
  plot_boundary b;
  memset(&b, 0, sizeof b);
  snprintf(title, sizeof title, "Deep MLP %s: the decision boundary", net->name);
  b.title = title;
  b.predict = predict;
  b.ctx = &pr;
  b.n_classes = 2;
  b.x1_min = b.x2_min = -2;
  b.x1_max = b.x2_max = 2;
  b.resolution = 100;
  b.points = &data[0][0];
  b.stride = 3;
  b.labels = labels;
  b.n_points = N_SAMPLES;
  snprintf(path, sizeof path, "%s/deep_mlp_%s_boundary.svg", outdir, net->name);
  check(plot_decision_boundary(path, &b), path);
}

static void usage(void) {
  fprintf(stderr, "usage: deep_mlp [--model DxW | --all | --list] [--seed N] [--epochs N] [--rate R] [--every K]"
                  " [OUTDIR]\n");
  exit(2);
}

static long long number(const char *s, long long lo, long long hi) {
  long long v;
  if (arg_integer(s, lo, hi, &v))
    usage();
  return v;
}

int main(int argc, char **argv) {
  uint32_t seed = 1;
  int epochs = 2500, every = 250, all = 0;
  double rate = 0.25;
  const char *outdir = ".", *model = "2x4";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--model") && i + 1 < argc)
      model = argv[++i];
    else if (!strcmp(a, "--all"))
      all = 1;
    else if (!strcmp(a, "--list")) {
      for (int k = 0; k < N_MODELS; k++)
        printf("%s  %d params\n", models[k].name, models[k].m.n_params);
      return 0;
    } else if (!strcmp(a, "--seed") && i + 1 < argc)
      seed = (uint32_t)number(argv[++i], 0, 4294967295LL);
    else if (!strcmp(a, "--epochs") && i + 1 < argc)
      epochs = (int)number(argv[++i], 1, MAX_EPOCHS);
    else if (!strcmp(a, "--every") && i + 1 < argc)
      every = (int)number(argv[++i], 1, MAX_EPOCHS);
    else if (!strcmp(a, "--rate") && i + 1 < argc) {
      char *end;
      rate = strtod(argv[++i], &end);
      if (*end || !(rate > 0) || !isfinite(rate))
        usage();
    } else if (a[0] == '-' && a[1])
      usage();
    else
      outdir = a;
  }
  for (int k = 0; k < N_MODELS; k++)
    if (models[k].m.n_params > MAX_PARAMS) {
      fprintf(stderr, "deep_mlp: model %s has more than %d params\n", models[k].name, MAX_PARAMS);
      return 1;
    }
  if (all) {
    printf("Deep MLP: every architecture (depth x width), init seed %u, full batch, %d epochs, rate %g\n",
           (unsigned)seed, epochs, rate);
    for (int k = 0; k < N_MODELS; k++)
      train(&models[k], seed, epochs, rate, every, 1, outdir);
    return 0;
  }
  for (int k = 0; k < N_MODELS; k++)
    if (!strcmp(models[k].name, model)) {
      train(&models[k], seed, epochs, rate, every, 0, outdir);
      return 0;
    }
  fprintf(stderr, "deep_mlp: no model '%s' (--list shows them)\n", model);
  return 2;
}
