/* digits_cnn — a small convolutional network on the 8x8 handwritten digits
 * (digits_cnn.expr: a 3x3 convolution to 8 maps with zero padding, relu,
 * 2x2 max pooling, a dense layer, softmax + cross-entropy), trained with
 * the runtime's dcc_sgd on the split of examples/multiclass's digits MLP
 * (every 5th row of digits.csv held out, pixels / 16), so that the two
 * can be compared: the CNN has fewer params (1370 against 2410) and a
 * higher held-out accuracy.
 *
 * Usage: digits_cnn [--seed N] [--epochs N] [--data DIR] [--quiet]
 *   --seed N    initial weights and shuffling (default 1)
 *   --epochs N  epochs of training (default 30)
 *   --data DIR  where digits.csv is (default: the folder of this program,
 *               where `make` copies it)
 *   --quiet     no progress line on standard error
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dcc_host.h"
#include "dcc_train.h"
#include "progress.h"

#include "digits_cnn.h"

#define EPOCHS 30     /* the default */
#define BATCH 16      /* mini-batches of 16 samples, gradients averaged */
#define RATE 0.05     /* the learning rate */
#define MOMENTUM 0.9
#define N_CLASSES 10

/* The model is emitted with loops: its functions run in a workspace, here
 * static rather than DIGITS_CNN_WORKSPACE_SIZE reals on the stack at every
 * call (DCC_MODEL_WS hands it to digits_cnn_loss_grad_ws). */
static dcc_real ws[DIGITS_CNN_WORKSPACE_SIZE];

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "digits_cnn: out of memory\n");
    exit(1);
  }
  return p;
}

static void outputs(const dcc_real *in, const dcc_real *p, dcc_real *out) { digits_cnn_outputs_ws(in, p, out, ws); }

/* digits.csv (64 pixels, then the digit) into rows of the model's input,
 * every 5th row (4, 9, 14, ... counting from 0) into test, the others into
 * train, in file order; pixels / 16.  Returns the number of rows, or -1
 * after a message. */
static int load(const char *path, dcc_real **train, int *n_train, dcc_real **test, int *n_test) {
  dcc_csv csv;
  char err[512];
  if (dcc_csv_load(path, 0, &csv, err, sizeof err) != 0) {
    fprintf(stderr, "digits_cnn: %s\n", err);
    return -1;
  }
  if (csv.cols != 65) {
    fprintf(stderr, "digits_cnn: %s: %d columns, expected 64 pixels and a digit\n", path, csv.cols);
    dcc_csv_free(&csv);
    return -1;
  }
  int rows = csv.rows;
  dcc_real *all = xmalloc((size_t)rows * DIGITS_CNN_N_IN * sizeof *all);
  dcc_csv_columns(&csv, 0, 64, all + DIGITS_CNN_IN_x, DIGITS_CNN_N_IN);
  if (dcc_one_hot(&csv, 64, N_CLASSES, all + DIGITS_CNN_IN_t, DIGITS_CNN_N_IN, err, sizeof err) != 0) {
    fprintf(stderr, "digits_cnn: %s: %s\n", path, err);
    dcc_csv_free(&csv);
    free(all);
    return -1;
  }
  dcc_csv_free(&csv);
  *n_test = rows / 5;
  *n_train = rows - *n_test;
  *train = xmalloc((size_t)*n_train * DIGITS_CNN_N_IN * sizeof **train);
  *test = xmalloc((size_t)*n_test * DIGITS_CNN_N_IN * sizeof **test);
  int a = 0, b = 0;
  for (int i = 0; i < rows; i++) {
    dcc_real *row = i % 5 == 4 ? *test + (size_t)b++ * DIGITS_CNN_N_IN : *train + (size_t)a++ * DIGITS_CNN_N_IN;
    memcpy(row, all + (size_t)i * DIGITS_CNN_N_IN, DIGITS_CNN_N_IN * sizeof *row);
    for (int j = 0; j < 64; j++)
      row[DIGITS_CNN_IN_x + j] /= 16;
  }
  free(all);
  return rows;
}

static double accuracy(const dcc_real *p, const dcc_real *rows, int n, int *confusion) {
  double a = dcc_accuracy(outputs, DIGITS_CNN_N_OUT, p, rows, n, DIGITS_CNN_N_IN, DIGITS_CNN_IN_t,
                          DIGITS_CNN_OUT_prob, N_CLASSES, confusion);
  if (a < 0) {
    fprintf(stderr, "digits_cnn: out of memory\n");
    exit(1);
  }
  return a;
}

static int usage(void) {
  fprintf(stderr, "usage: digits_cnn [--seed N] [--epochs N] [--data DIR] [--quiet]\n");
  return 2;
}

int main(int argc, char **argv) {
  uint32_t seed = 1;
  int epochs = EPOCHS, quiet = 0;
  const char *data_dir = NULL;
  for (int i = 1; i < argc; i++) {
    long long v;
    if (!strcmp(argv[i], "--quiet")) {
      quiet = 1;
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      if (arg_integer(argv[++i], 0, 4294967295LL, &v))
        return usage();
      seed = (uint32_t)v;
    } else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) {
      if (arg_integer(argv[++i], 1, 1000000, &v))
        return usage();
      epochs = (int)v;
    } else if (!strcmp(argv[i], "--data") && i + 1 < argc) {
      data_dir = argv[++i];
    } else {
      return usage();
    }
  }

  /* digits.csv: in --data DIR, else beside this program. */
  const char *dir = data_dir;
  size_t dlen;
  if (dir) {
    dlen = strlen(dir);
  } else {
    const char *slash = strrchr(argv[0], '/');
    dir = slash ? argv[0] : ".";
    dlen = slash ? (size_t)(slash - argv[0]) : 1;
  }
  char *path = xmalloc(dlen + sizeof "/digits.csv");
  memcpy(path, dir, dlen);
  strcpy(path + dlen, "/digits.csv");

  dcc_real *train, *test;
  int n_train, n_test;
  int rows = load(path, &train, &n_train, &test, &n_test);
  if (rows < 0) {
    free(path);
    return 1;
  }
  printf("digits_cnn: %s, %d rows; every 5th row held out; pixels / 16\n", path, rows);
  printf("digits_cnn: conv 3x3 (8 maps, padding 1), relu, max pool 2x2, dense 128-10, softmax + cross-entropy\n");
  printf("digits_cnn: %d params; %d training samples, %d held-out\n", DIGITS_CNN_N_PARAMS, n_train, n_test);
  printf("digits_cnn: %d epochs, mini-batches of %d, rate %g, momentum %g, shuffled, seed %lu\n", epochs, BATCH,
         RATE, MOMENTUM, (unsigned long)seed);

  static dcc_real p[DIGITS_CNN_N_PARAMS], grad[DIGITS_CNN_N_GRAD], acc[DIGITS_CNN_N_GRAD],
      vel[DCC_SGD_STATE(DIGITS_CNN_N_GRAD)];
  int *order = xmalloc((size_t)n_train * sizeof *order);
  dcc_model m = DCC_MODEL_WS(digits_cnn, DIGITS_CNN, ws);
  dcc_workspace w = {grad, acc, vel, order};
  dcc_sgd_options o = dcc_sgd_defaults(epochs, RATE);
  o.batch_size = BATCH;
  o.momentum = MOMENTUM;
  o.shuffle = 1;
  o.seed = seed;
  progress_ctx pc = {stderr, epochs, 0};
  if (!quiet) {
    o.on_epoch = progress_on_epoch;
    o.ctx = &pc;
  }

  digits_cnn_init(p, seed);
  int run = dcc_sgd(&m, p, train, n_train, &o, &w);
  if (!quiet)
    progress_end(stderr, run, epochs, pc.last_loss);
  if (run < 0) {
    fprintf(stderr, "digits_cnn: dcc_sgd: %s\n", dcc_strerror(run));
    return 1;
  }

  int confusion[N_CLASSES * N_CLASSES] = {0};
  double a_train = accuracy(p, train, n_train, NULL), a_test = accuracy(p, test, n_test, confusion);
  printf("digits_cnn: train loss %.4f, held-out loss %.4f\n", (double)dcc_mean_loss(&m, p, train, n_train, grad),
         (double)dcc_mean_loss(&m, p, test, n_test, grad));
  printf("digits_cnn: train accuracy %.4f (%d/%d)\n", a_train, (int)(a_train * n_train + 0.5), n_train);
  printf("digits_cnn: held-out accuracy %.4f (%d/%d)\n", a_test, (int)(a_test * n_test + 0.5), n_test);
  printf("digits_cnn: held-out confusion (rows: true class, columns: predicted)\n");
  printf("digits_cnn:     ");
  for (int k = 0; k < N_CLASSES; k++)
    printf(" %3d", k);
  printf("\n");
  for (int t = 0; t < N_CLASSES; t++) {
    printf("digits_cnn: %3d ", t);
    for (int k = 0; k < N_CLASSES; k++)
      printf(" %3d", confusion[t * N_CLASSES + k]);
    printf("\n");
  }
  free(order);
  free(train);
  free(test);
  free(path);
  return 0;
}
