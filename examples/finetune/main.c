/* finetune: train the digits MLP on the host, then adapt it to digits
 * shifted two pixels to the right by training only a part of it.
 *
 *   digits  (digits.expr) every param: the pretraining, and a full
 *           fine-tune for comparison
 *   last    (last.expr, dcc --train W2,b2) the last layer only
 *   bias    (bias.expr, dcc --train b1,b2) the biases only
 *
 * The three are the same model; dcc compiled last and bias with --train,
 * so their _loss_grad computes the trainable params' gradient only (no
 * adjoint of the hidden layer for last, no weight gradient for bias) and
 * the runtime updates those params alone (LAST_grad_ranges).  The
 * program prints the accuracy on the held-out digits, plain and shifted,
 * before and after each fine-tune, and what each variant keeps in RAM.
 *
 * Usage: finetune [--data FILE] [--epochs N] [--export FILE] [--quiet]
 *   --data FILE    digits.csv (default examples/multiclass/digits.csv)
 *   --epochs N     fine-tuning epochs (default 10; pretraining takes 20)
 *   --export FILE  write the pretrained params as a dcc --weights file
 */
#include "bias.h"
#include "digits.h"
#include "last.h"

#include "args.h"
#include "dcc_host.h"
#include "dcc_train.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  dcc_real *rows;
  int n;
} dataset;

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "finetune: out of memory\n");
    exit(1);
  }
  return p;
}

/* The three compilations of the model share every layout but the
 * gradient's: the same inputs and the same p[] (no --weights here). */
#if DIGITS_N_PARAMS != LAST_N_PARAMS || DIGITS_N_PARAMS != BIAS_N_PARAMS || DIGITS_N_IN != LAST_N_IN
#error "digits.expr, last.expr and bias.expr are not the same model"
#endif

static dcc_real ws_digits[DIGITS_WORKSPACE_SIZE], ws_last[LAST_WORKSPACE_SIZE], ws_bias[BIAS_WORKSPACE_SIZE];

typedef struct {
  const char *name, *what;
  dcc_model m;
  int workspace, stack, muls; /* PU_WORKSPACE_SIZE, PU_STACK_loss_grad, PU_OPS_LOSS_GRAD_MUL */
} variant;

static variant variants[3] = {
    {"full", "every param", DCC_MODEL_WS(digits, DIGITS, ws_digits), DIGITS_WORKSPACE_SIZE,
     DIGITS_STACK_loss_grad, DIGITS_OPS_LOSS_GRAD_MUL},
    {"last", "--train W2,b2", DCC_MODEL_WS(last, LAST, ws_last), LAST_WORKSPACE_SIZE, LAST_STACK_loss_grad,
     LAST_OPS_LOSS_GRAD_MUL},
    {"bias", "--train b1,b2", DCC_MODEL_WS(bias, BIAS, ws_bias), BIAS_WORKSPACE_SIZE, BIAS_STACK_loss_grad,
     BIAS_OPS_LOSS_GRAD_MUL},
};

static double accuracy(const dcc_real *p, const dataset *d) {
  double a = dcc_accuracy(digits_outputs, DIGITS_N_OUT, p, d->rows, d->n, DIGITS_N_IN, DIGITS_IN_t,
                          DIGITS_OUT_prob, 10, NULL);
  if (a < 0) {
    fprintf(stderr, "finetune: out of memory\n");
    exit(1);
  }
  return a;
}

/* Each image moved right by `by` pixels, the columns it leaves blank. */
static dataset shifted(const dataset *d, int by) {
  dataset s = {xmalloc((size_t)d->n * DIGITS_N_IN * sizeof *s.rows), d->n};
  memcpy(s.rows, d->rows, (size_t)d->n * DIGITS_N_IN * sizeof *s.rows);
  for (int i = 0; i < d->n; i++) {
    const dcc_real *from = d->rows + (size_t)i * DIGITS_N_IN + DIGITS_IN_x;
    dcc_real *to = s.rows + (size_t)i * DIGITS_N_IN + DIGITS_IN_x;
    for (int r = 0; r < 8; r++)
      for (int c = 0; c < 8; c++)
        to[r * 8 + c] = c >= by ? from[r * 8 + c - by] : 0;
  }
  return s;
}

/* Trains p on d with SGD (mini-batches of 16, momentum 0.9, shuffled):
 * the gradient and the optimiser's velocity hold m->n_grad reals. */
static int train(const dcc_model *m, dcc_real *p, const dataset *d, int epochs, dcc_real rate, int quiet) {
  dcc_real *grad = xmalloc((size_t)m->n_grad * sizeof *grad), *acc = xmalloc((size_t)m->n_grad * sizeof *acc);
  dcc_real *vel = calloc((size_t)m->n_grad + 1, sizeof *vel);
  int *order = xmalloc((size_t)d->n * sizeof *order);
  if (!vel) {
    fprintf(stderr, "finetune: out of memory\n");
    exit(1);
  }
  dcc_sgd_options o = dcc_sgd_defaults(epochs, rate);
  o.batch_size = 16;
  o.momentum = (dcc_real)0.9;
  o.shuffle = 1;
  o.seed = 1;
  progress_ctx progress = {stderr, epochs, 0};
  if (!quiet) {
    o.on_epoch = progress_on_epoch;
    o.ctx = &progress;
  }
  dcc_workspace w = {grad, acc, vel, order};
  int run = dcc_sgd(m, p, d->rows, d->n, &o, &w);
  if (!quiet && run >= 0)
    progress_end(stderr, run, epochs, progress.last_loss);
  free(grad);
  free(acc);
  free(vel);
  free(order);
  return run;
}

/* p as a dcc --weights file: each param's name and dimensions, then its
 * values, with %.17g (every bit of a double). */
static int export_weights(const char *path, const dcc_real *p) {
  static const struct {
    const char *name;
    int offset, rows, cols;
  } params[] = {{"W1", DIGITS_PARAM_W1, 32, 64}, {"b1", DIGITS_PARAM_b1, 32, 0},
                {"W2", DIGITS_PARAM_W2, 10, 32}, {"b2", DIGITS_PARAM_b2, 10, 0}};
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return -1;
  }
  fprintf(f, "# The digits MLP, pretrained by examples/finetune (dcc --weights).\n");
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
    int n = params[i].rows * (params[i].cols ? params[i].cols : 1);
    if (params[i].cols)
      fprintf(f, "%s %d %d\n", params[i].name, params[i].rows, params[i].cols);
    else
      fprintf(f, "%s %d\n", params[i].name, params[i].rows);
    for (int k = 0; k < n; k++)
      fprintf(f, "%.17g%c", (double)p[params[i].offset + k], k % 8 == 7 || k == n - 1 ? '\n' : ' ');
  }
  if (fclose(f) != 0) {
    perror(path);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *data = "examples/multiclass/digits.csv", *export_path = NULL;
  long long epochs = 10;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc) {
      data = argv[++i];
    } else if (!strcmp(argv[i], "--export") && i + 1 < argc) {
      export_path = argv[++i];
    } else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) {
      if (arg_integer(argv[++i], 1, 100000, &epochs) != 0) {
        fprintf(stderr, "finetune: --epochs: '%s' is not a number of epochs\n", argv[i]);
        return 2;
      }
    } else if (!strcmp(argv[i], "--quiet")) {
      quiet = 1;
    } else {
      fprintf(stderr, "usage: finetune [--data FILE] [--epochs N] [--export FILE] [--quiet]\n");
      return 2;
    }
  }

  /* the data: every 5th row held out, pixels / 16 */
  dcc_csv csv;
  char err[512];
  if (dcc_csv_load(data, 0, &csv, err, sizeof err) != 0) {
    fprintf(stderr, "finetune: %s\n", err);
    return 1;
  }
  if (csv.cols != 65) {
    fprintf(stderr, "finetune: %s: %d columns, expected 64 pixels and a digit\n", data, csv.cols);
    return 1;
  }
  dcc_real *all = xmalloc((size_t)csv.rows * DIGITS_N_IN * sizeof *all);
  dcc_csv_columns(&csv, 0, 64, all + DIGITS_IN_x, DIGITS_N_IN);
  if (dcc_one_hot(&csv, 64, 10, all + DIGITS_IN_t, DIGITS_N_IN, err, sizeof err) != 0) {
    fprintf(stderr, "finetune: %s: %s\n", data, err);
    return 1;
  }
  dataset train_set = {xmalloc((size_t)csv.rows * DIGITS_N_IN * sizeof(dcc_real)), 0};
  dataset test_set = {xmalloc((size_t)csv.rows * DIGITS_N_IN * sizeof(dcc_real)), 0};
  for (int i = 0; i < csv.rows; i++) {
    dataset *d = i % 5 == 4 ? &test_set : &train_set;
    dcc_real *row = d->rows + (size_t)d->n++ * DIGITS_N_IN;
    memcpy(row, all + (size_t)i * DIGITS_N_IN, DIGITS_N_IN * sizeof *row);
    for (int j = 0; j < 64; j++)
      row[DIGITS_IN_x + j] /= 16;
  }
  dcc_csv_free(&csv);
  free(all);
  dataset train_shift = shifted(&train_set, 2), test_shift = shifted(&test_set, 2);

  /* pretraining: the whole model on the plain digits */
  static dcc_real pre[DIGITS_N_PARAMS], p[DIGITS_N_PARAMS];
  digits_init(pre, 1);
  if (train(&variants[0].m, pre, &train_set, 20, (dcc_real)0.05, quiet) < 0)
    return 1;
  printf("pretrained on %d plain digits, 20 epochs: held-out accuracy %.4f plain, %.4f shifted 2 pixels right\n",
         train_set.n, accuracy(pre, &test_set), accuracy(pre, &test_shift));
  if (export_path && export_weights(export_path, pre) != 0)
    return 1;

  /* fine-tuning on the shifted digits, from the pretrained params */
  printf("fine-tuned on %d shifted digits, %lld epochs:\n", train_shift.n, epochs);
  printf("  %-5s %-14s %7s %9s %9s  %s\n", "", "trains", "params", "shifted", "plain", "frozen params");
  for (int v = 0; v < 3; v++) {
    const dcc_model *m = &variants[v].m;
    memcpy(p, pre, sizeof p);
    if (train(m, p, &train_shift, (int)epochs, (dcc_real)0.05, quiet) < 0)
      return 1;
    /* the params outside the gradient's ranges kept their bits */
    static unsigned char trained[DIGITS_N_PARAMS];
    memset(trained, 0, sizeof trained);
    for (int r = 0; r < m->n_grad_ranges; r++)
      memset(trained + m->grad_ranges[r][0], 1, (size_t)m->grad_ranges[r][1]);
    int kept = 1, frozen = 0;
    for (int j = 0; j < DIGITS_N_PARAMS; j++)
      if (!trained[j]) {
        frozen++;
        kept &= memcmp(&p[j], &pre[j], sizeof p[j]) == 0;
      }
    printf("  %-5s %-14s %7d %9.4f %9.4f  %s\n", variants[v].name, variants[v].what, m->n_grad,
           accuracy(p, &test_shift), accuracy(p, &test_set),
           !frozen ? "-" : kept ? "unchanged, bit for bit" : "CHANGED");
  }

  /* what each keeps in RAM for training, in reals: the gradient and the
   * momentum (n_grad each), the workspace, and p[]: all of it, or with
   * dcc --weights the trainable params only (the rest in flash) */
  printf("RAM for training, in reals (stack: dcc's figure for _loss_grad, in bytes):\n");
  printf("  %-5s %5s %9s %9s %6s %6s %14s %6s %6s\n", "", "grad", "momentum", "workspace", "p[]", "total",
         "p[] --weights", "total", "stack");
  for (int v = 0; v < 3; v++) {
    const variant *x = &variants[v];
    int common = 2 * x->m.n_grad + x->workspace;
    printf("  %-5s %5d %9d %9d %6d %6d %14d %6d %6d\n", x->name, x->m.n_grad, x->m.n_grad, x->workspace,
           x->m.n_params, common + x->m.n_params, x->m.n_grad, common + x->m.n_grad, x->stack);
  }
  printf("multiplies per gradient (dcc's count for _loss_grad): full %d, last %d, bias %d\n", variants[0].muls,
         variants[1].muls, variants[2].muls);
  free(train_set.rows);
  free(test_set.rows);
  free(train_shift.rows);
  free(test_shift.rows);
  return 0;
}
