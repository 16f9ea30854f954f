/* The SVG writers on fixed inputs: svg_driver DIR writes into DIR
 *   curves.svg     3 loss curves of 50 points; names with XML specials and
 *                  one NULL name
 *   gap.svg        2 curves, one with a NaN in the middle (two stretches)
 *   long.svg       1 curve of 100000 points (drawn from 1000 buckets)
 *   boundary.svg   two classes: P(class 1) = sigmoid(8 (0.5 - x1^2 - x2^2))
 *                  and the five points of lab 5, view from the points
 *   multi.svg      three classes by region, 9 points, view given
 *   flat.svg       two classes, predict always 0.2: no boundary
 *   series.svg     2 signed series over x = 900 .. 999, axes named
 * and prints each writer's return value, then the return values of bad
 * calls. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

static double circle(void *ctx, double x1, double x2) {
  int *calls = ctx;
  ++*calls;
  return 1 / (1 + exp(-8 * (0.5 - x1 * x1 - x2 * x2)));
}

static double regions(void *ctx, double x1, double x2) {
  (void)ctx;
  return x1 < 0 ? 0 : x2 < 0 ? 1 : 2;
}

static double flat(void *ctx, double x1, double x2) {
  (void)ctx;
  (void)x1;
  (void)x2;
  return 0.2;
}

static double big[100000];

int main(int argc, char **argv) {
  char path[4096];
  const char *dir = argc > 1 ? argv[1] : ".";
  enum { S = 3, N = 50 };
  static double curves[S * N];
  for (int s = 0; s < S; s++)
    for (int i = 0; i < N; i++)
      curves[s * N + i] = (s + 1) * exp(-0.1 * (s + 1) * i) + 0.01 * (i % 3);
  const char *const names[S] = {"sample 0", "a<b & \"c\" 'd' > e", NULL};
  snprintf(path, sizeof path, "%s/curves.svg", dir);
  printf("curves %d\n", plot_loss_curves(path, "Loss per sample <lab 5>", curves, S, N, names));

  double gap[2 * N];
  memcpy(gap, curves, sizeof gap);
  gap[10] = NAN;
  snprintf(path, sizeof path, "%s/gap.svg", dir);
  printf("gap %d\n", plot_loss_curves(path, NULL, gap, 2, N, NULL));

  for (int i = 0; i < 100000; i++)
    big[i] = 1.0 / (1 + i) + 0.1 * sin(i);
  snprintf(path, sizeof path, "%s/long.svg", dir);
  printf("long %d\n", plot_loss_curves(path, "long", big, 1, 100000, NULL));

  /* x1, x2, label: as lab 5's data, label separate */
  static const double five[5][3] = {{0, 0, 1}, {1, 0, 0}, {0, -1, 0}, {-1, 0, 0}, {0, 1, 0}};
  static const int five_labels[5] = {1, 0, 0, 0, 0};
  int calls = 0;
  plot_boundary b;
  memset(&b, 0, sizeof b);
  b.title = "five points";
  b.predict = circle;
  b.ctx = &calls;
  b.n_classes = 2;
  b.resolution = 40;
  b.points = &five[0][0];
  b.stride = 3;
  b.labels = five_labels;
  b.n_points = 5;
  snprintf(path, sizeof path, "%s/boundary.svg", dir);
  printf("boundary %d (predict called %d times)\n", plot_decision_boundary(path, &b), calls);

  static const double pts[9][2] = {{-1, -1}, {-1, 1}, {-0.5, 0.2}, {1, -1}, {0.5, -0.2},
                                   {0.7, -0.9}, {1, 1}, {0.3, 0.4}, {0.9, 0.1}};
  static const int pts_labels[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};
  plot_boundary mc;
  memset(&mc, 0, sizeof mc);
  mc.predict = regions;
  mc.n_classes = 3;
  mc.x1_min = -1.5;
  mc.x1_max = 1.5;
  mc.x2_min = -1.5;
  mc.x2_max = 1.5;
  mc.resolution = 30;
  mc.points = &pts[0][0];
  mc.labels = pts_labels;
  mc.n_points = 9;
  snprintf(path, sizeof path, "%s/multi.svg", dir);
  printf("multi %d\n", plot_decision_boundary(path, &mc));

  plot_boundary fl = mc;
  fl.predict = flat;
  fl.n_classes = 2;
  snprintf(path, sizeof path, "%s/flat.svg", dir);
  printf("flat %d\n", plot_decision_boundary(path, &fl));

  /* a signed series over time steps 900 .. 999, named axes */
  double wave[2 * 100];
  for (int i = 0; i < 100; i++) {
    wave[i] = sin(2 * 3.14159265358979323846 * i / 20);
    wave[100 + i] = 0.9 * wave[i];
  }
  static const char *const wave_names[2] = {"truth", "prediction"};
  snprintf(path, sizeof path, "%s/series.svg", dir);
  printf("series %d\n", plot_series(path, "a wave", "time step", "value", 900, wave, 2, 100, wave_names));

  /* bad calls: -1, and no file */
  plot_boundary bad = mc;
  bad.resolution = 1;
  snprintf(path, sizeof path, "%s/bad.svg", dir);
  printf("resolution 1: %d\n", plot_decision_boundary(path, &bad));
  bad = mc;
  bad.predict = NULL;
  printf("no predict: %d\n", plot_decision_boundary(path, &bad));
  printf("negative series: %d\n", plot_loss_curves(path, NULL, curves, -1, N, NULL));
  printf("x_first NaN: %d\n", plot_series(path, NULL, NULL, NULL, NAN, curves, S, N, NULL));
  snprintf(path, sizeof path, "%s/no/such/dir/x.svg", dir);
  printf("unwritable: %d\n", plot_loss_curves(path, NULL, curves, S, N, NULL));
  return 0;
}
