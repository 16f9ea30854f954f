/* Recurrent networks (fold) on two kinds of sequence:
 *
 *   digits  the 8x8 handwritten digits (digits.csv) read row by row, 8
 *           steps of 8 pixels, by a GRU of 32 units (gru.expr); a dense
 *           layer + softmax on its last state gives the class
 *   signal  a noisy periodic signal made here from the seed; an LSTM of 8
 *           units (lstm.expr) reads a window of its 24 past values and
 *           predicts the next one
 *
 * Both models are emitted with loops (a fold always is) and trained by
 * dcc_sgd through their _ws functions, in static workspaces.  digits holds
 * out every 5th row of the file as examples/multiclass does (the same
 * split, the same training plan as its 64-32-10 MLP, for comparison);
 * signal holds out the last 300 steps of the signal.
 *
 * Usage: sequences [options] [digits|signal ...]   (default: both)
 *   --seed N      initial weights, shuffling and the signal (default 1)
 *   --epochs N    train for N epochs instead of each task's default
 *   --data DIR    where digits.csv is (default: the folder of this
 *                 program, where `make` copies it)
 *   --svg DIR     write the pictures there: the loss curves of each task
 *                 (digits_loss.svg, signal_loss.svg) and the held-out
 *                 signal with its prediction (signal_prediction.svg)
 *   --quiet       no progress line on standard error
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dcc_host.h"
#include "dcc_train.h"
#include "plot.h"
#include "progress.h"

#include "gru.h"
#include "lstm.h"

typedef struct {
  unsigned long seed;
  int epochs; /* > 0: overrides each task's epochs */
  const char *data_dir;
  const char *svg_dir;
  int quiet;
} settings;

/* Set when a picture could not be written: the exit status is then 1. */
static int write_failed;

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "sequences: out of memory\n");
    exit(1);
  }
  return p;
}

static char *join(const char *dir, const char *file) {
  char *s = xmalloc(strlen(dir) + strlen(file) + 2);
  sprintf(s, "%s/%s", dir, file);
  return s;
}

static void write_svg_done(const settings *s, const char *file, int status) {
  char *path = join(s->svg_dir, file);
  if (status != 0) {
    fprintf(stderr, "sequences: cannot write %s\n", path);
    write_failed = 1;
  } else {
    printf("picture: %s\n", path);
  }
  free(path);
}

/* ---- training, shared by both tasks ------------------------------------ */

typedef struct {
  int epochs;
  int batch_size;
  dcc_real rate;
  dcc_real momentum; /* SGD's; unused with Adam */
  int adam;
  int until;         /* > 0: the rate is `rate` for epochs 0 .. until - 1, then rate_after */
  dcc_real rate_after;
} train_plan;

/* The on_epoch callback: the progress line, and the curves for the SVG. */
typedef struct {
  const dcc_model *m;
  const dcc_real *p;
  const dcc_real *test;
  int n_test;
  dcc_real *scratch;
  double *curves; /* [0 .. epochs): training loss; [epochs .. 2 epochs): held-out */
  int epochs;
  progress_ctx progress;
  int quiet;
} epoch_ctx;

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  epoch_ctx *c = ctx;
  if (c->curves && r->epoch < c->epochs) {
    c->curves[r->epoch] = r->loss_mean;
    c->curves[c->epochs + r->epoch] = dcc_mean_loss(c->m, c->p, c->test, c->n_test, c->scratch);
  }
  if (!c->quiet)
    progress_on_epoch(&c->progress, r);
}

/* Train p (initialised from the seed) on train; print the plan and the
 * losses.  Returns the epochs run; with --svg, *curves is the loss curves
 * (2 series of that many epochs, for write_curves), else NULL. */
static int train(const char *name, const dcc_model *m, dcc_real *p, const train_plan *plan_in, const settings *s,
                 const dcc_real *train_rows, int n_train, const dcc_real *test_rows, int n_test, double **curves_out) {
  train_plan plan = *plan_in;
  if (s->epochs > 0)
    plan.epochs = s->epochs;
  size_t ng = (size_t)m->n_grad;
  dcc_real *grad = xmalloc(ng * sizeof *grad), *acc = xmalloc(ng * sizeof *acc);
  dcc_real *state = xmalloc((size_t)DCC_ADAM_STATE(ng) * sizeof *state);
  dcc_real *scratch = xmalloc(ng * sizeof *scratch);
  int *order = xmalloc((size_t)n_train * sizeof *order);
  double *curves = s->svg_dir ? xmalloc(2 * (size_t)plan.epochs * sizeof *curves) : NULL;
  memset(state, 0, (size_t)DCC_ADAM_STATE(ng) * sizeof *state);

  m->init(p, (uint32_t)s->seed);
  dcc_sgd_options o = dcc_sgd_defaults(plan.epochs, plan.rate);
  o.batch_size = plan.batch_size;
  o.shuffle = 1;
  o.seed = (uint32_t)s->seed;
  const int until[1] = {plan.until};
  const dcc_real rates[2] = {plan.rate, plan.rate_after};
  if (plan.until > 0 && plan.until < plan.epochs) {
    o.schedule_until = until;
    o.schedule_rate = rates;
    o.schedule_len = 2;
  }
  if (plan.adam)
    o.optimizer = &dcc_adam;
  else
    o.momentum = plan.momentum;
  epoch_ctx ec = {m, p, test_rows, n_test, scratch, curves, plan.epochs, {stderr, plan.epochs, 0}, s->quiet};
  o.on_epoch = on_epoch;
  o.ctx = &ec;
  dcc_workspace w = {grad, acc, state, order};

  printf("%s: %d epochs, mini-batches of %d, ", name, plan.epochs, plan.batch_size);
  printf("%srate %g", plan.adam ? "Adam, " : "", plan.rate);
  if (o.schedule_len)
    printf(" (%g from epoch %d)", plan.rate_after, plan.until + 1);
  if (!plan.adam)
    printf(", momentum %g", plan.momentum);
  printf(", shuffled\n");
  int run = dcc_sgd(m, p, train_rows, n_train, &o, &w);
  if (run < 0) {
    fprintf(stderr, "sequences: %s: %s\n", name, dcc_strerror(run));
    exit(1);
  }
  if (!s->quiet)
    progress_end(stderr, run, plan.epochs, ec.progress.last_loss);
  printf("%s: train loss %.4f, held-out loss %.4f\n", name, dcc_mean_loss(m, p, train_rows, n_train, scratch),
         dcc_mean_loss(m, p, test_rows, n_test, scratch));
  free(grad);
  free(acc);
  free(state);
  free(scratch);
  free(order);
  *curves_out = curves;
  return run;
}

/* --svg: NAME_loss.svg from train's curves, which it frees. */
static void write_curves(const settings *s, const char *name, const char *title, double *curves, int epochs) {
  if (!curves)
    return;
  char file[64];
  sprintf(file, "%s_loss.svg", name);
  static const char *const names[] = {"training (during the epoch)", "held-out (after the epoch)"};
  char *path = join(s->svg_dir, file);
  write_svg_done(s, file, plot_loss_curves(path, title, curves, 2, epochs, names));
  free(path);
  free(curves);
}

/* ---- digits ------------------------------------------------------------ */

/* The GRU's loops need GRU_WORKSPACE_SIZE reals (86 kB): a static buffer,
 * not the stack at every call. */
static dcc_real gru_ws[GRU_WORKSPACE_SIZE];

static int run_digits(const settings *s) {
  char *path = join(s->data_dir, "digits.csv");
  dcc_csv csv;
  char err[512];
  if (dcc_csv_load(path, 0, &csv, err, sizeof err) != 0) {
    fprintf(stderr, "sequences: %s\n", err);
    free(path);
    return 1;
  }
  if (csv.cols != 65) {
    fprintf(stderr, "sequences: %s: %d columns, expected 64 pixels and a class\n", path, csv.cols);
    dcc_csv_free(&csv);
    free(path);
    return 1;
  }
  /* Every row in the model's layout: the pixels at GRU_IN_x (row-major,
   * so x[t] is the image's row t), divided by 16; the class one-hot at
   * GRU_IN_t.  Every 5th row (i % 5 == 4) is held out. */
  dcc_real *all = xmalloc((size_t)csv.rows * GRU_N_IN * sizeof *all);
  dcc_csv_columns(&csv, 0, 64, all + GRU_IN_x, GRU_N_IN);
  if (dcc_one_hot(&csv, 64, 10, all + GRU_IN_t, GRU_N_IN, err, sizeof err) != 0) {
    fprintf(stderr, "sequences: %s: %s\n", path, err);
    dcc_csv_free(&csv);
    free(all);
    free(path);
    return 1;
  }
  int n = csv.rows, n_test = n / 5, n_train = n - n_test;
  dcc_csv_free(&csv);
  dcc_real *train_rows = xmalloc((size_t)n_train * GRU_N_IN * sizeof *train_rows);
  dcc_real *test_rows = xmalloc((size_t)(n_test ? n_test : 1) * GRU_N_IN * sizeof *test_rows);
  for (int i = 0, a = 0, b = 0; i < n; i++) {
    dcc_real *row = i % 5 == 4 ? test_rows + (size_t)b++ * GRU_N_IN : train_rows + (size_t)a++ * GRU_N_IN;
    memcpy(row, all + (size_t)i * GRU_N_IN, GRU_N_IN * sizeof *row);
    for (int j = 0; j < 64; j++)
      row[GRU_IN_x + j] /= 16;
  }
  free(all);
  printf("digits: %s, %d rows; every 5th row held out; pixels / 16\n", path, n);
  printf("digits: each image 8 steps of 8 pixels (its rows, top to bottom); %d training images, %d held-out\n",
         n_train, n_test);
  printf("digits: GRU of 32 units, its last state -> dense 10 -> softmax + cross-entropy; %d params\n",
         GRU_N_PARAMS);

  static dcc_real p[GRU_N_PARAMS];
  dcc_model m = DCC_MODEL_WS(gru, GRU, gru_ws);
  static const train_plan plan = {20, 16, 0.05, 0.9, 0, 0, 0};
  double *curves;
  int run = train("digits", &m, p, &plan, s, train_rows, n_train, test_rows, n_test, &curves);
  double a_train = dcc_accuracy(gru_outputs, GRU_N_OUT, p, train_rows, n_train, GRU_N_IN, GRU_IN_t, GRU_OUT_prob,
                                10, NULL);
  double a_test =
      dcc_accuracy(gru_outputs, GRU_N_OUT, p, test_rows, n_test, GRU_N_IN, GRU_IN_t, GRU_OUT_prob, 10, NULL);
  if (a_train < 0 || a_test < 0) {
    fprintf(stderr, "sequences: out of memory\n");
    exit(1);
  }
  printf("digits: train accuracy %.4f (%d/%d)\n", a_train, (int)(a_train * n_train + 0.5), n_train);
  printf("digits: held-out accuracy %.4f (%d/%d)\n", a_test, (int)(a_test * n_test + 0.5), n_test);
  write_curves(s, "digits", "digits: GRU of 32 units over the rows, mean cross-entropy per epoch", curves, run);
  free(train_rows);
  free(test_rows);
  free(path);
  return 0;
}

/* ---- signal ------------------------------------------------------------ */

#define PI 3.14159265358979323846
#define SIG_STEPS 1200 /* the whole signal, t = 0 .. 1199 */
#define SIG_TRAIN 900  /* targets t < 900 train, t >= 900 are held out */
#define SIG_NOISE 0.1
#define SIG_WINDOW 24 /* the model's input: xs[24] */
#define SIG_PLOT 100  /* held-out steps in the picture */

/* The clean signal at t, with phases a and b. */
static double signal_clean(int t, double a, double b) {
  return sin(2 * PI * t / 20 + a) + 0.5 * sin(2 * PI * t / 7 + b);
}

/* The window whose target is x[t]: x[t - 24 .. t - 1] at LSTM_IN_xs, x[t]
 * at LSTM_IN_y. */
static void signal_window(dcc_real *row, const double *x, int t) {
  for (int j = 0; j < SIG_WINDOW; j++)
    row[LSTM_IN_xs + j] = x[t - SIG_WINDOW + j];
  row[LSTM_IN_y] = x[t];
}

/* The linear baseline: the least-squares weights w[0 .. 24] (w[24] the
 * constant) of x(t) ~ w . (x(t-24) .. x(t-1), 1) over the training
 * windows, by the normal equations and Gaussian elimination with partial
 * pivoting.  Returns 0, or -1 if the system is singular. */
#define AR_N (SIG_WINDOW + 1)
static int fit_linear(const dcc_real (*rows)[LSTM_N_IN], int n, double *w) {
  static double a[AR_N][AR_N + 1];
  memset(a, 0, sizeof a);
  for (int r = 0; r < n; r++) {
    double v[AR_N];
    for (int j = 0; j < SIG_WINDOW; j++)
      v[j] = rows[r][LSTM_IN_xs + j];
    v[SIG_WINDOW] = 1;
    for (int i = 0; i < AR_N; i++) {
      for (int j = 0; j < AR_N; j++)
        a[i][j] += v[i] * v[j];
      a[i][AR_N] += v[i] * rows[r][LSTM_IN_y];
    }
  }
  for (int c = 0; c < AR_N; c++) {
    int best = c;
    for (int i = c + 1; i < AR_N; i++)
      if (fabs(a[i][c]) > fabs(a[best][c]))
        best = i;
    if (!(fabs(a[best][c]) > 1e-12))
      return -1;
    for (int j = 0; j <= AR_N; j++) {
      double t = a[c][j];
      a[c][j] = a[best][j];
      a[best][j] = t;
    }
    for (int i = c + 1; i < AR_N; i++) {
      double f = a[i][c] / a[c][c];
      for (int j = c; j <= AR_N; j++)
        a[i][j] -= f * a[c][j];
    }
  }
  for (int i = AR_N - 1; i >= 0; i--) {
    double t = a[i][AR_N];
    for (int j = i + 1; j < AR_N; j++)
      t -= a[i][j] * w[j];
    w[i] = t / a[i][i];
  }
  return 0;
}

static double predict_linear(const dcc_real *row, const double *w) {
  double y = w[SIG_WINDOW];
  for (int j = 0; j < SIG_WINDOW; j++)
    y += w[j] * row[LSTM_IN_xs + j];
  return y;
}

static dcc_real lstm_ws[LSTM_WORKSPACE_SIZE];

static int run_signal(const settings *s) {
  /* The generator, seeded with the seed, draws the two phases, then the
   * noise of each step in turn. */
  static double clean[SIG_STEPS], x[SIG_STEPS];
  uint32_t rng = (uint32_t)s->seed;
  double a = 2 * PI * dcc_rng_uniform(&rng), b = 2 * PI * dcc_rng_uniform(&rng);
  for (int t = 0; t < SIG_STEPS; t++) {
    clean[t] = signal_clean(t, a, b);
    x[t] = clean[t] + SIG_NOISE * dcc_rng_normal(&rng);
  }
  enum { N_TRAIN = SIG_TRAIN - SIG_WINDOW, N_TEST = SIG_STEPS - SIG_TRAIN };
  static dcc_real train_rows[N_TRAIN][LSTM_N_IN], test_rows[N_TEST][LSTM_N_IN];
  for (int i = 0; i < N_TRAIN; i++)
    signal_window(train_rows[i], x, SIG_WINDOW + i);
  for (int i = 0; i < N_TEST; i++)
    signal_window(test_rows[i], x, SIG_TRAIN + i);

  printf("signal: x(t) = sin(2 pi t / 20 + a) + 0.5 sin(2 pi t / 7 + b) + noise, noise ~ N(0, %g^2), seed %lu\n",
         SIG_NOISE, s->seed);
  printf("signal: a = %.4f, b = %.4f (uniform in [0, 2 pi)); t = 0 .. %d\n", a, b, SIG_STEPS - 1);
  printf("signal: windows of %d past values -> the next; %d training windows (t = %d .. %d), %d held-out (t = %d "
         ".. %d)\n",
         SIG_WINDOW, N_TRAIN, SIG_WINDOW, SIG_TRAIN - 1, N_TEST, SIG_TRAIN, SIG_STEPS - 1);
  printf("signal: LSTM of 8 units, its last output -> dense 1; square loss; %d params\n", LSTM_N_PARAMS);

  static dcc_real p[LSTM_N_PARAMS];
  dcc_model m = DCC_MODEL_WS(lstm, LSTM, lstm_ws);
  static const train_plan plan = {100, 8, 0.01, 0, 1, 60, 0.001};
  double *curves;
  int run = train("signal", &m, p, &plan, s, &train_rows[0][0], N_TRAIN, &test_rows[0][0], N_TEST, &curves);

  /* The held-out predictions, and two baselines: the last value again,
   * and the best linear function of the window. */
  static double pred[N_TEST];
  double w[AR_N];
  if (fit_linear(train_rows, N_TRAIN, w) != 0) {
    fprintf(stderr, "sequences: signal: the linear baseline's system is singular\n");
    return 1;
  }
  double mse = 0, mse_last = 0, mse_linear = 0, mse_clean = 0;
  for (int i = 0; i < N_TEST; i++) {
    dcc_real out[LSTM_N_OUT];
    lstm_outputs(test_rows[i], p, out);
    pred[i] = out[LSTM_OUT_pred];
    double y = test_rows[i][LSTM_IN_y], last = test_rows[i][LSTM_IN_xs + SIG_WINDOW - 1];
    mse += (pred[i] - y) * (pred[i] - y) / N_TEST;
    mse_last += (last - y) * (last - y) / N_TEST;
    mse_linear += (predict_linear(test_rows[i], w) - y) * (predict_linear(test_rows[i], w) - y) / N_TEST;
    mse_clean += (pred[i] - clean[SIG_TRAIN + i]) * (pred[i] - clean[SIG_TRAIN + i]) / N_TEST;
  }
  printf("\n%6s %9s %9s %9s %9s\n", "t", "clean", "x(t)", "LSTM", "x(t-1)");
  for (int i = 0; i < 5; i++)
    printf("%6d %9.4f %9.4f %9.4f %9.4f\n", SIG_TRAIN + i, clean[SIG_TRAIN + i], x[SIG_TRAIN + i], pred[i],
           x[SIG_TRAIN + i - 1]);
  printf("\n");
  printf("signal: held-out mean square error: LSTM %.4f\n", mse);
  printf("signal: baselines: the last value x(t-1) %.4f, least squares linear in the window %.4f\n", mse_last,
         mse_linear);
  printf("signal: noise variance (the best possible) %.4f; LSTM against the clean signal %.4f\n",
         SIG_NOISE * SIG_NOISE, mse_clean);
  write_curves(s, "signal", "signal: LSTM of 8 units, mean square error per epoch", curves, run);

  if (s->svg_dir) {
    static double series[3 * SIG_PLOT];
    for (int i = 0; i < SIG_PLOT; i++) {
      series[i] = x[SIG_TRAIN + i];
      series[SIG_PLOT + i] = clean[SIG_TRAIN + i];
      series[2 * SIG_PLOT + i] = pred[i];
    }
    static const char *const names[] = {"x(t), noisy", "the clean signal", "LSTM, from x(t-24 .. t-1)"};
    char *path = join(s->svg_dir, "signal_prediction.svg");
    write_svg_done(s, "signal_prediction.svg",
                   plot_series(path, "signal: held-out steps, the LSTM's prediction of each", "t", "x(t)",
                               SIG_TRAIN, series, 3, SIG_PLOT, names));
    free(path);
  }
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: sequences [--seed N] [--epochs N] [--data DIR] [--svg DIR] [--quiet] [digits|signal ...]\n");
  return 2;
}

int main(int argc, char **argv) {
  settings s = {1, 0, NULL, NULL, 0};
  int want_digits = 0, want_signal = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long long v;
    if (!strcmp(a, "--quiet")) {
      s.quiet = 1;
    } else if (!strcmp(a, "--seed") && i + 1 < argc) {
      if (arg_integer(argv[++i], 0, 4294967295LL, &v))
        return usage();
      s.seed = (uint32_t)v;
    } else if (!strcmp(a, "--epochs") && i + 1 < argc) {
      if (arg_integer(argv[++i], 1, 100000, &v))
        return usage();
      s.epochs = (int)v;
    } else if (!strcmp(a, "--data") && i + 1 < argc) {
      s.data_dir = argv[++i];
    } else if (!strcmp(a, "--svg") && i + 1 < argc) {
      s.svg_dir = argv[++i];
    } else if (!strcmp(a, "digits")) {
      want_digits = 1;
    } else if (!strcmp(a, "signal")) {
      want_signal = 1;
    } else {
      return usage();
    }
  }
  if (!want_digits && !want_signal)
    want_digits = want_signal = 1;

  /* The data folder: --data, else the folder of this program. */
  char *dir = NULL;
  if (!s.data_dir) {
    const char *slash = strrchr(argv[0], '/');
    size_t len = slash ? (size_t)(slash - argv[0]) : 1;
    dir = xmalloc(len + 1);
    memcpy(dir, slash ? argv[0] : ".", len);
    dir[len] = 0;
    s.data_dir = dir;
  }
  int status = 0;
  if (want_digits && run_digits(&s) != 0)
    status = 1;
  if (want_signal && run_signal(&s) != 0)
    status = 1;
  free(dir);
  return status || write_failed;
}
