/* Multiclass classification with a softmax + cross-entropy MLP (homework 7,
 * problems 12-14) on three data sets:
 *
 *   blobs   three Gaussian blobs in the plane, made here from the seed;
 *           a 2-8-3 network (blobs.expr), with a decision-boundary picture
 *   iris    Fisher's iris (iris.csv): a 4-8-3 network (iris.expr)
 *   digits  8x8 handwritten digits (digits.csv): a 64-32-10 network
 *           (digits.expr)
 *
 * Each is trained with dcc_sgd, shuffled, and scored on held-out data: for
 * blobs a second sample drawn from the same blobs, for iris and digits
 * every 5th row of the file (rows 4, 9, 14, ... counting from 0), the
 * other rows being the training set.
 *
 * Usage: multiclass [options] [blobs|iris|digits ...]   (default: all three)
 *   --seed N      initial weights, shuffling and the blobs (default 1)
 *   --epochs N    train every data set for N epochs instead of its default
 *   --data DIR    where iris.csv and digits.csv are (default: the folder of
 *                 this program, where `make` copies them)
 *   --svg DIR     write the pictures there: loss curves for each data set,
 *                 the decision boundary for blobs
 *   --export DIR  write the trained params there as C for firmware,
 *                 DIR/NAME_params.h (dcc_write_c_array: static const float
 *                 NAME_params[N]; for iris also iris_mean[4] and
 *                 iris_std[4], the inputs' standardisation)
 *   --quiet       no progress line on standard error
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dcc_host.h"
#include "plot.h"
#include "progress.h"
#include "dcc_train.h"

#include "blobs.h"
#include "digits.h"
#include "iris.h"

/* What the driver needs of one of the three generated models. */
typedef struct {
  const char *name;
  const char *shape; /* e.g. "2-8-3" */
  dcc_model m;
  void (*outputs)(const dcc_real *in, const dcc_real *p, dcc_real *out);
  int n_in, in_x, in_t, out_prob, n_out;
  int n_features, n_classes;
} model_info;

static const model_info blobs_info = {
    "blobs", "2-8-3", DCC_MODEL(blobs, BLOBS), blobs_outputs,
    BLOBS_N_IN, BLOBS_IN_x, BLOBS_IN_t, BLOBS_OUT_prob, BLOBS_N_OUT, 2, 3};
static const model_info iris_info = {
    "iris", "4-8-3", DCC_MODEL(iris, IRIS), iris_outputs,
    IRIS_N_IN, IRIS_IN_x, IRIS_IN_t, IRIS_OUT_prob, IRIS_N_OUT, 4, 3};
/* The digits model is emitted with loops (its W1 has 2048 weights): it
 * trains through digits_loss_grad_ws in this static workspace, rather than
 * with DIGITS_WORKSPACE_SIZE reals on the stack at every call. */
static dcc_real digits_ws[DIGITS_WORKSPACE_SIZE];
static const model_info digits_info = {
    "digits", "64-32-10", DCC_MODEL_WS(digits, DIGITS, digits_ws), digits_outputs,
    DIGITS_N_IN, DIGITS_IN_x, DIGITS_IN_t, DIGITS_OUT_prob, DIGITS_N_OUT, 64, 10};

/* How one data set is trained. */
typedef struct {
  int epochs;
  int batch_size;
  dcc_real rate;
  dcc_real momentum;
} train_plan;

typedef struct {
  unsigned long seed;
  int epochs;            /* > 0: overrides every plan's epochs */
  const char *data_dir;
  const char *svg_dir;
  const char *export_dir;
  int quiet;
} settings;

/* A data set in the model's input layout: n rows of info->n_in reals. */
typedef struct {
  dcc_real *rows;
  int n;
} dataset;

/* Set when a picture or an export could not be written: the exit status is
 * then 1. */
static int write_failed;

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "multiclass: out of memory\n");
    exit(1);
  }
  return p;
}

static char *join(const char *dir, const char *file) {
  char *s = xmalloc(strlen(dir) + strlen(file) + 2);
  sprintf(s, "%s/%s", dir, file);
  return s;
}

static void set_row(const model_info *info, dcc_real *row, const double *features, int label) {
  for (int j = 0; j < info->n_features; j++)
    row[info->in_x + j] = features[j];
  for (int k = 0; k < info->n_classes; k++)
    row[info->in_t + k] = k == label;
}

static int label_of(const model_info *info, const dcc_real *row) {
  return dcc_argmax(row + info->in_t, info->n_classes);
}

/* Room for the outputs of any of the three models. */
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define MAX_OUT MAX2(BLOBS_N_OUT, MAX2(IRIS_N_OUT, DIGITS_N_OUT))

static int predict_row(const model_info *info, const dcc_real *p, const dcc_real *row) {
  dcc_real out[MAX_OUT];
  info->outputs(row, p, out);
  return dcc_argmax(out + info->out_prob, info->n_classes);
}

/* Number of rows classified correctly (dcc_accuracy); counts the confusion
 * matrix (confusion[true * n_classes + predicted]) when it is not NULL. */
static int correct(const model_info *info, const dcc_real *p, const dataset *d, int *confusion) {
  double a = dcc_accuracy(info->outputs, info->n_out, p, d->rows, d->n, info->n_in, info->in_t, info->out_prob,
                          info->n_classes, confusion);
  if (a < 0) {
    fprintf(stderr, "multiclass: out of memory\n");
    exit(1);
  }
  return (int)(a * d->n + 0.5);
}

/* The on_epoch callback: the progress line, and the curves for the SVG. */
typedef struct {
  const model_info *info;
  const dcc_real *p;
  const dataset *test;
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
    c->curves[c->epochs + r->epoch] = dcc_mean_loss(&c->info->m, c->p, c->test->rows, c->test->n, c->scratch);
  }
  if (!c->quiet)
    progress_on_epoch(&c->progress, r);
}

/* Train a freshly initialised network on train, report, and return its
 * params (the caller frees them). */
static dcc_real *train_and_report(const model_info *info, const train_plan *plan_in, const settings *s,
                                  const dataset *train, const dataset *test) {
  train_plan plan = *plan_in;
  if (s->epochs > 0)
    plan.epochs = s->epochs;
  int np = info->m.n_params;
  dcc_real *p = xmalloc((size_t)np * sizeof *p);
  dcc_real *grad = xmalloc((size_t)np * sizeof *grad), *acc = xmalloc((size_t)np * sizeof *acc);
  dcc_real *vel = xmalloc((size_t)np * sizeof *vel), *scratch = xmalloc((size_t)np * sizeof *scratch);
  int *order = xmalloc((size_t)train->n * sizeof *order);
  double *curves = s->svg_dir ? xmalloc(2 * (size_t)plan.epochs * sizeof *curves) : NULL;

  info->m.init(p, (uint32_t)s->seed);
  dcc_sgd_options o = dcc_sgd_defaults(plan.epochs, plan.rate);
  o.batch_size = plan.batch_size;
  o.momentum = plan.momentum;
  o.shuffle = 1;
  o.seed = (uint32_t)s->seed;
  epoch_ctx ec = {info, p, test, scratch, curves, plan.epochs, {stderr, plan.epochs, 0}, s->quiet};
  o.on_epoch = on_epoch;
  o.ctx = &ec;
  dcc_workspace w = {grad, acc, vel, order};

  printf("%s: %s tanh MLP, softmax + cross-entropy; %d training samples, %d held-out\n", info->name, info->shape,
         train->n, test->n);
  printf("%s: %d epochs, ", info->name, plan.epochs);
  if (plan.batch_size == 1)
    printf("per-sample SGD");
  else
    printf("mini-batches of %d", plan.batch_size);
  printf(", rate %g", plan.rate);
  if (plan.momentum != 0)
    printf(", momentum %g", plan.momentum);
  printf(", shuffled\n");

  int run = dcc_sgd(&info->m, p, train->rows, train->n, &o, &w);
  if (!s->quiet)
    progress_end(stderr, run, plan.epochs, ec.progress.last_loss);

  int right_train = correct(info, p, train, NULL);
  int *confusion = calloc((size_t)(info->n_classes * info->n_classes), sizeof *confusion);
  if (!confusion) {
    fprintf(stderr, "multiclass: out of memory\n");
    exit(1);
  }
  int right_test = correct(info, p, test, confusion);
  printf("%s: train loss %.4f, held-out loss %.4f\n", info->name,
         dcc_mean_loss(&info->m, p, train->rows, train->n, scratch),
         dcc_mean_loss(&info->m, p, test->rows, test->n, scratch));
  printf("%s: train accuracy %.4f (%d/%d)\n", info->name, (double)right_train / train->n, right_train, train->n);
  printf("%s: held-out accuracy %.4f (%d/%d)\n", info->name, (double)right_test / test->n, right_test, test->n);
  if (info->n_classes > 3) {
    printf("%s: held-out confusion (rows: true class, columns: predicted)\n", info->name);
    printf("%s:     ", info->name);
    for (int k = 0; k < info->n_classes; k++)
      printf(" %3d", k);
    printf("\n");
    for (int t = 0; t < info->n_classes; t++) {
      printf("%s: %3d ", info->name, t);
      for (int k = 0; k < info->n_classes; k++)
        printf(" %3d", confusion[t * info->n_classes + k]);
      printf("\n");
    }
  }
  free(confusion);

  if (curves) {
    char file[64], title[128];
    sprintf(file, "%s_loss.svg", info->name);
    sprintf(title, "%s: %s MLP, mean cross-entropy per epoch", info->name, info->shape);
    static const char *const names[] = {"training (during the epoch)", "held-out (after the epoch)"};
    char *path = join(s->svg_dir, file);
    if (plot_loss_curves(path, title, curves, 2, run, names) != 0) {
      fprintf(stderr, "multiclass: cannot write %s\n", path);
      write_failed = 1;
    } else {
      printf("picture: %s\n", path);
    }
    free(path);
  }
  free(grad);
  free(acc);
  free(vel);
  free(scratch);
  free(order);
  free(curves);
  return p;
}

/* --export: the params (and the inputs' standardisation, when there is
 * one) as float arrays in DIR/NAME_params.h, to compile into the firmware
 * of a --real float build of the model. */
static void export_params(const settings *s, const model_info *info, const dcc_real *p, const dcc_real *mean,
                          const dcc_real *std, int n_std) {
  if (!s->export_dir)
    return;
  char file[64], name[64];
  sprintf(file, "%s_params.h", info->name);
  char *path = join(s->export_dir, file);
  FILE *f = fopen(path, "w");
  int bad = !f;
  if (f) {
    fprintf(f, "/* %s: the %s MLP's params as multiclass trained them (seed %lu)%s. */\n", info->name,
            info->shape, s->seed, n_std ? ", and the standardisation of its inputs" : "");
    sprintf(name, "%s_params", info->name);
    bad |= dcc_write_c_array(f, "float", name, p, info->m.n_params) != 0;
    if (n_std) {
      sprintf(name, "%s_mean", info->name);
      bad |= dcc_write_c_array(f, "float", name, mean, n_std) != 0;
      sprintf(name, "%s_std", info->name);
      bad |= dcc_write_c_array(f, "float", name, std, n_std) != 0;
    }
    bad |= fclose(f) != 0;
  }
  if (bad) {
    fprintf(stderr, "multiclass: cannot write %s\n", path);
    write_failed = 1;
  } else {
    printf("params: %s\n", path);
  }
  free(path);
}

/* ---- blobs ------------------------------------------------------------ */

#define BLOB_RADIUS 2.0 /* distance of each blob's centre from the origin */
#define BLOB_STD 0.7    /* standard deviation of each blob, both axes */

/* Point i belongs to blob i % 3, centred at angle 90 + 120 k degrees. */
static void make_blobs(dataset *d, int n, uint32_t seed) {
  uint32_t rng = seed;
  d->n = n;
  d->rows = xmalloc((size_t)n * BLOBS_N_IN * sizeof *d->rows);
  for (int i = 0; i < n; i++) {
    int k = i % 3;
    double angle = (90.0 + 120.0 * k) * 3.14159265358979323846 / 180.0, x[2];
    x[0] = BLOB_RADIUS * cos(angle) + BLOB_STD * dcc_rng_normal(&rng);
    x[1] = BLOB_RADIUS * sin(angle) + BLOB_STD * dcc_rng_normal(&rng);
    set_row(&blobs_info, d->rows + (size_t)i * BLOBS_N_IN, x, k);
  }
}

static double blobs_predict(void *ctx, double x1, double x2) {
  dcc_real row[BLOBS_N_IN] = {0};
  row[BLOBS_IN_x] = x1;
  row[BLOBS_IN_x + 1] = x2;
  return predict_row(&blobs_info, ctx, row);
}

static int run_blobs(const settings *s) {
  dataset train, test;
  /* The held-out points come from a generator seeded with seed xor 2^31:
   * a stream far from the training one. */
  make_blobs(&train, 300, (uint32_t)s->seed);
  make_blobs(&test, 300, (uint32_t)s->seed ^ 0x80000000u);
  printf("blobs: 3 Gaussian blobs, centres at radius %g and angles 90, 210, 330 degrees, std %g\n", BLOB_RADIUS,
         BLOB_STD);
  static const train_plan plan = {100, 1, 0.05, 0};
  dcc_real *p = train_and_report(&blobs_info, &plan, s, &train, &test);
  export_params(s, &blobs_info, p, NULL, NULL, 0);
  if (s->svg_dir) {
    int *labels = xmalloc((size_t)train.n * sizeof *labels);
    for (int i = 0; i < train.n; i++)
      labels[i] = label_of(&blobs_info, train.rows + (size_t)i * BLOBS_N_IN);
    plot_boundary b;
    memset(&b, 0, sizeof b);
    b.title = "blobs: 2-8-3 MLP, decision regions and the training points";
    b.predict = blobs_predict;
    b.ctx = p;
    b.n_classes = 3;
    b.x1_min = -4.5, b.x1_max = 4.5, b.x2_min = -4, b.x2_max = 4.5;
    b.resolution = 120;
    b.points = train.rows + BLOBS_IN_x;
    b.stride = BLOBS_N_IN;
    b.labels = labels;
    b.n_points = train.n;
    char *path = join(s->svg_dir, "blobs_boundary.svg");
    if (plot_decision_boundary(path, &b) != 0) {
      fprintf(stderr, "multiclass: cannot write %s\n", path);
      write_failed = 1;
    } else {
      printf("picture: %s\n", path);
    }
    free(path);
    free(labels);
  }
  free(p);
  free(train.rows);
  free(test.rows);
  return 0;
}

/* ---- the two files ---------------------------------------------------- */

/* Load a CSV of n_features columns and a class column in 0 .. n_classes-1
 * into train (the rows whose index i, from 0, has i % 5 != 4) and test
 * (i % 5 == 4), in file order.  Returns 0, or -1 after a message on
 * standard error. */
static int load_split(const model_info *info, const char *path, int skip, dataset *train, dataset *test,
                      int *n_rows) {
  dcc_csv csv;
  char err[512];
  if (dcc_csv_load(path, skip, &csv, err, sizeof err) != 0) {
    fprintf(stderr, "multiclass: %s\n", err);
    return -1;
  }
  if (csv.cols != info->n_features + 1) {
    fprintf(stderr, "multiclass: %s: %d columns, expected %d features and a class\n", path, csv.cols,
            info->n_features);
    dcc_csv_free(&csv);
    return -1;
  }
  /* every row in the model's layout: the features at IN_x, the class
   * one-hot at IN_t (dcc_one_hot checks that each is a class) */
  dcc_real *all = xmalloc((size_t)csv.rows * info->n_in * sizeof *all);
  dcc_csv_columns(&csv, 0, info->n_features, all + info->in_x, info->n_in);
  if (dcc_one_hot(&csv, info->n_features, info->n_classes, all + info->in_t, info->n_in, err, sizeof err) != 0) {
    fprintf(stderr, "multiclass: %s: %s\n", path, err);
    dcc_csv_free(&csv);
    free(all);
    return -1;
  }
  int n_test = csv.rows / 5;
  train->n = csv.rows - n_test;
  test->n = n_test;
  train->rows = xmalloc((size_t)train->n * info->n_in * sizeof *train->rows);
  test->rows = xmalloc((size_t)(test->n ? test->n : 1) * info->n_in * sizeof *test->rows);
  int a = 0, b = 0;
  for (int i = 0; i < csv.rows; i++) {
    dcc_real *row = i % 5 == 4 ? test->rows + (size_t)b++ * info->n_in : train->rows + (size_t)a++ * info->n_in;
    memcpy(row, all + (size_t)i * info->n_in, (size_t)info->n_in * sizeof *row);
  }
  *n_rows = csv.rows;
  dcc_csv_free(&csv);
  free(all);
  return 0;
}

static int run_iris(const settings *s) {
  dataset train, test;
  int n;
  char *path = join(s->data_dir, "iris.csv");
  int status = load_split(&iris_info, path, 1, &train, &test, &n);
  if (status == 0) {
    /* Standardise each measurement with the training rows' mean and
     * standard deviation, the held-out rows with the same. */
    dcc_real mean[4], std[4];
    dcc_standardize(train.rows + IRIS_IN_x, train.n, IRIS_N_IN, 4, mean, std);
    dcc_standardize_apply(test.rows + IRIS_IN_x, test.n, IRIS_N_IN, 4, mean, std);
    printf("iris: %s, %d rows; every 5th row held out; features standardised\n", path, n);
    static const train_plan plan = {100, 1, 0.02, 0};
    dcc_real *p = train_and_report(&iris_info, &plan, s, &train, &test);
    export_params(s, &iris_info, p, mean, std, 4);
    free(p);
    free(train.rows);
    free(test.rows);
  }
  free(path);
  return status;
}

static int run_digits(const settings *s) {
  dataset train, test;
  int n;
  char *path = join(s->data_dir, "digits.csv");
  int status = load_split(&digits_info, path, 0, &train, &test, &n);
  if (status == 0) {
    for (int i = 0; i < train.n; i++)
      for (int j = 0; j < 64; j++)
        train.rows[(size_t)i * DIGITS_N_IN + DIGITS_IN_x + j] /= 16;
    for (int i = 0; i < test.n; i++)
      for (int j = 0; j < 64; j++)
        test.rows[(size_t)i * DIGITS_N_IN + DIGITS_IN_x + j] /= 16;
    printf("digits: %s, %d rows; every 5th row held out; pixels / 16\n", path, n);
    static const train_plan plan = {20, 16, 0.05, 0.9};
    dcc_real *p = train_and_report(&digits_info, &plan, s, &train, &test);
    export_params(s, &digits_info, p, NULL, NULL, 0);
    free(p);
    free(train.rows);
    free(test.rows);
  }
  free(path);
  return status;
}

static int usage(void) {
  fprintf(stderr, "usage: multiclass [--seed N] [--epochs N] [--data DIR] [--svg DIR] [--export DIR] [--quiet] "
                  "[blobs|iris|digits ...]\n");
  return 2;
}

int main(int argc, char **argv) {
  settings s = {1, 0, NULL, NULL, NULL, 0};
  int want[3] = {0, 0, 0}, any = 0;
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
      if (arg_integer(argv[++i], 1, 1000000, &v))
        return usage();
      s.epochs = (int)v;
    } else if (!strcmp(a, "--data") && i + 1 < argc) {
      s.data_dir = argv[++i];
    } else if (!strcmp(a, "--svg") && i + 1 < argc) {
      s.svg_dir = argv[++i];
    } else if (!strcmp(a, "--export") && i + 1 < argc) {
      s.export_dir = argv[++i];
    } else if (!strcmp(a, "blobs") || !strcmp(a, "iris") || !strcmp(a, "digits")) {
      want[a[0] == 'b' ? 0 : a[0] == 'i' ? 1 : 2] = any = 1;
    } else {
      return usage();
    }
  }
  if (!any)
    want[0] = want[1] = want[2] = 1;

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
  if (want[0] && run_blobs(&s) != 0)
    status = 1;
  if (want[1] && run_iris(&s) != 0)
    status = 1;
  if (want[2] && run_digits(&s) != 0)
    status = 1;
  free(dir);
  return status || write_failed;
}
