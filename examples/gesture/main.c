/* gesture — a 1-D convolutional network over windows of a 3-axis
 * accelerometer (gesture.expr: two depthwise-separable blocks, a depthwise
 * convolution then a pointwise one, the mean over time, 6 logits),
 * trained on synthetic gestures that the program makes from its seed with
 * the runtime's generator (dcc_rng_uniform, dcc_rng_normal), and scored on
 * other windows made from another seed.
 *
 * A window is 64 samples of x, y and z (in g, 50 samples a second: 1.28
 * s): gravity, tilted at random, plus noise, plus the gesture:
 *   0 rest     nothing
 *   1 shake x  a sine on x, 3-6 Hz
 *   2 shake y  a sine on y, 3-6 Hz
 *   3 circle   a cosine on x and a sine on y, 1-2 Hz
 *   4 tap      a sharp pulse on z (a Gaussian of 1-2 samples)
 *   5 lift     a slow bump on z (half a sine, 20-40 samples long)
 * with amplitudes, frequencies, phases and times drawn at random (the
 * README has the ranges).  Window i is gesture i % 6.
 *
 * Usage: gesture [--seed N] [--epochs N] [--quiet]
 *   --seed N    the training windows, initial weights and shuffling
 *               (default 1); the held-out windows come from seed xor 2^31
 *   --epochs N  epochs of training (default 30)
 *   --quiet     no progress line on standard error
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dcc_host.h"
#include "dcc_train.h"
#include "progress.h"

#include "gesture.h"

#define EPOCHS 30     /* the default */
#define N_TRAIN 1200  /* training windows, 200 of each gesture */
#define N_TEST 600    /* held-out windows */
#define BATCH 16
#define RATE 0.005    /* Adam's */
#define N_CLASSES 6
#define LEN 64        /* samples a window */
#define HZ 50.0       /* samples a second */
#define TILT 0.15     /* std of gravity's x and y components, in g */
#define NOISE 0.08    /* std of each sample's noise, in g */

static const double PI = 3.14159265358979323846;
static const char *const NAMES[N_CLASSES] = {"rest", "shake x", "shake y", "circle", "tap", "lift"};

/* The model is emitted with loops: its workspace is static (DCC_MODEL_WS
 * hands it to gesture_loss_grad_ws) rather than on the stack. */
static dcc_real ws[GESTURE_WORKSPACE_SIZE];

static void outputs(const dcc_real *in, const dcc_real *p, dcc_real *out) { gesture_outputs_ws(in, p, out, ws); }

static double uniform(uint32_t *rng, double lo, double hi) { return lo + (hi - lo) * dcc_rng_uniform(rng); }

/* Window i (gesture i % 6) into row[GESTURE_N_IN]: s[3][64], then t[6]. */
static void make_window(uint32_t *rng, int i, dcc_real *row) {
  int g = i % N_CLASSES;
  double *x = malloc(3 * LEN * sizeof *x);
  if (!x) {
    fprintf(stderr, "gesture: out of memory\n");
    exit(1);
  }
  double gx = TILT * dcc_rng_normal(rng), gy = TILT * dcc_rng_normal(rng);
  double gz = sqrt(1 - gx * gx - gy * gy);
  double amp = 0, f = 0, phase = 0, t0 = 0, width = 0;
  switch (g) {
  case 1:
  case 2:
    amp = uniform(rng, 0.5, 1.0), f = uniform(rng, 3, 6), phase = uniform(rng, 0, 2 * PI);
    break;
  case 3:
    amp = uniform(rng, 0.4, 0.8), f = uniform(rng, 1, 2), phase = uniform(rng, 0, 2 * PI);
    break;
  case 4:
    amp = uniform(rng, 1.5, 3.0), width = uniform(rng, 1, 2), t0 = uniform(rng, 8, LEN - 8);
    break;
  case 5:
    amp = uniform(rng, 0.3, 0.6), width = uniform(rng, 20, 40), t0 = uniform(rng, 0, LEN - width);
    break;
  }
  for (int k = 0; k < LEN; k++) {
    double w = 2 * PI * f * k / HZ + phase, ax = gx, ay = gy, az = gz;
    if (g == 1)
      ax += amp * sin(w);
    else if (g == 2)
      ay += amp * sin(w);
    else if (g == 3)
      ax += amp * cos(w), ay += amp * sin(w);
    else if (g == 4)
      az += amp * exp(-((k - t0) / width) * ((k - t0) / width));
    else if (g == 5 && k >= t0 && k <= t0 + width)
      az += amp * sin(PI * (k - t0) / width);
    x[k] = ax + NOISE * dcc_rng_normal(rng);
    x[LEN + k] = ay + NOISE * dcc_rng_normal(rng);
    x[2 * LEN + k] = az + NOISE * dcc_rng_normal(rng);
  }
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < LEN; k++)
      row[GESTURE_IN_s + c * LEN + k] = (dcc_real)x[c * LEN + k];
  for (int c = 0; c < N_CLASSES; c++)
    row[GESTURE_IN_t + c] = c == g;
  free(x);
}

static dcc_real *make_windows(uint32_t seed, int n) {
  dcc_real *rows = malloc((size_t)n * GESTURE_N_IN * sizeof *rows);
  if (!rows) {
    fprintf(stderr, "gesture: out of memory\n");
    exit(1);
  }
  uint32_t rng = seed;
  for (int i = 0; i < n; i++)
    make_window(&rng, i, rows + (size_t)i * GESTURE_N_IN);
  return rows;
}

static double accuracy(const dcc_real *p, const dcc_real *rows, int n, int *confusion) {
  double a = dcc_accuracy(outputs, GESTURE_N_OUT, p, rows, n, GESTURE_N_IN, GESTURE_IN_t, GESTURE_OUT_prob,
                          N_CLASSES, confusion);
  if (a < 0) {
    fprintf(stderr, "gesture: out of memory\n");
    exit(1);
  }
  return a;
}

static int usage(void) {
  fprintf(stderr, "usage: gesture [--seed N] [--epochs N] [--quiet]\n");
  return 2;
}

int main(int argc, char **argv) {
  uint32_t seed = 1;
  int epochs = EPOCHS, quiet = 0;
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
    } else {
      return usage();
    }
  }

  dcc_real *train = make_windows(seed, N_TRAIN), *test = make_windows(seed ^ 0x80000000u, N_TEST);
  printf("gesture: synthetic 3-axis windows of %d samples, 6 gestures; %d training windows (seed %lu), "
         "%d held-out (seed %lu)\n",
         LEN, N_TRAIN, (unsigned long)seed, N_TEST, (unsigned long)(seed ^ 0x80000000u));
  printf("gesture: 2 x (depthwise conv 5, pointwise conv to 16, relu, max pool 2), mean over time, dense 16-6; "
         "%d params\n",
         GESTURE_N_PARAMS);
  printf("gesture: %d epochs, Adam, mini-batches of %d, rate %g, shuffled\n", epochs, BATCH, RATE);

  static dcc_real p[GESTURE_N_PARAMS], grad[GESTURE_N_GRAD], acc[GESTURE_N_GRAD],
      state[DCC_ADAM_STATE(GESTURE_N_GRAD)];
  int order[N_TRAIN];
  dcc_model m = DCC_MODEL_WS(gesture, GESTURE, ws);
  dcc_workspace w = {grad, acc, state, order};
  dcc_sgd_options o = dcc_sgd_defaults(epochs, RATE);
  o.optimizer = &dcc_adam;
  o.batch_size = BATCH;
  o.shuffle = 1;
  o.seed = seed;
  progress_ctx pc = {stderr, epochs, 0};
  if (!quiet) {
    o.on_epoch = progress_on_epoch;
    o.ctx = &pc;
  }

  gesture_init(p, seed);
  int run = dcc_sgd(&m, p, train, N_TRAIN, &o, &w);
  if (!quiet)
    progress_end(stderr, run, epochs, pc.last_loss);
  if (run < 0) {
    fprintf(stderr, "gesture: dcc_sgd: %s\n", dcc_strerror(run));
    return 1;
  }

  int confusion[N_CLASSES * N_CLASSES] = {0};
  double a_train = accuracy(p, train, N_TRAIN, NULL), a_test = accuracy(p, test, N_TEST, confusion);
  printf("gesture: train loss %.4f, held-out loss %.4f\n", (double)dcc_mean_loss(&m, p, train, N_TRAIN, grad),
         (double)dcc_mean_loss(&m, p, test, N_TEST, grad));
  printf("gesture: train accuracy %.4f (%d/%d)\n", a_train, (int)(a_train * N_TRAIN + 0.5), N_TRAIN);
  printf("gesture: held-out accuracy %.4f (%d/%d)\n", a_test, (int)(a_test * N_TEST + 0.5), N_TEST);
  printf("gesture: held-out confusion (rows: true gesture, columns: predicted)\n");
  printf("gesture:         ");
  for (int k = 0; k < N_CLASSES; k++)
    printf(" %7s", NAMES[k]);
  printf("\n");
  for (int t = 0; t < N_CLASSES; t++) {
    printf("gesture: %-7s ", NAMES[t]);
    for (int k = 0; k < N_CLASSES; k++)
      printf(" %7d", confusion[t * N_CLASSES + k]);
    printf("\n");
  }
  free(train);
  free(test);
  return 0;
}
