/* plot.h — the examples' pictures: loss curves (and other series, such as
 * a signal and its prediction) and the decision boundary
 * of a two-input classifier, as SVG files.  Demo tooling beside the
 * examples (examples/common/), not part of dcc's runtime: C99 with stdio
 * and malloc.  Numbers are written without printf's locale, so the same
 * inputs give a byte-identical file on every run. */
#ifndef EXAMPLES_PLOT_H
#define EXAMPLES_PLOT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Both writers return 0, or -1 when the file cannot be written or an
 * argument is invalid (errno tells which for I/O errors).  Text (titles,
 * names) is escaped for XML; NULL means none.  Numbers are printed with a
 * fixed precision: same inputs, byte-identical file. */

/* Loss curves: n_series curves of n_points values each, series-major
 * (values[s * n_points + i] is series s at epoch i + 1), drawn as one
 * <polyline> per series (a series with non-finite values is broken into a
 * <polyline> per finite stretch; a stretch of one point is a short mark),
 * over axes with tick labels ("epoch" from 1, "loss"), and a legend of the
 * names (names may be NULL: "series 1", ...; at most 12 legend entries).
 * The loss axis starts at 0 when every value is >= 0 and the smallest is at
 * most half the largest. */
int plot_loss_curves(const char *path, const char *title, const double *values, int n_series,
                     int n_points, const char *const *names);

/* The same picture for any series over a whole-number axis: point i of
 * each series is drawn at x = x_first + i (plot_loss_curves is x_first 1),
 * the axes named x_label and y_label (NULL: no name).  -1 also when
 * x_first is not finite or beyond 1e15 in size. */
int plot_series(const char *path, const char *title, const char *x_label, const char *y_label, double x_first,
                const double *values, int n_series, int n_points, const char *const *names);

/* The decision boundary of a classifier of two inputs, over a grid. */
typedef struct {
  const char *title;
  /* n_classes <= 2: predict returns the probability of class 1 (values
   * outside [0, 1] are clamped); n_classes >= 3: predict returns a class
   * index 0 .. n_classes - 1 (rounded to the nearest integer; any other
   * value is drawn grey). */
  double (*predict)(void *ctx, double x1, double x2);
  void *ctx;
  int n_classes;
  /* The view: x1 across, x2 up.  x1_min >= x1_max (e.g. all four 0): the
   * points' x1 range with a 10% margin on each side ([-1.2, 1.2] without
   * points); the same for x2. */
  double x1_min, x1_max, x2_min, x2_max;
  int resolution; /* grid cells per axis, 2 .. 1000 (0: 60) */
  /* The data: point i is (points[i * stride], points[i * stride + 1]) with
   * class labels[i] (stride 0 means 2), one <circle> each. */
  const double *points;
  int stride;
  const int *labels;
  int n_points;
} plot_boundary;

/* Each grid cell is shaded by predict at its centre (two classes: white at
 * 0.5, deepening towards class 0's blue at 0 and class 1's red at 1, in 32
 * steps; more: a light tint of the class's colour; NaN or no class: grey),
 * runs of equal shade along a row being one <rect>.  The boundary is
 * one <path> (none if the view holds no boundary): two classes, the 0.5
 * contour of the predictions at the cell centres (marching squares,
 * linear interpolation); more, the cell edges between different classes.
 * Then the points, as circles in their class's colour (white for a label
 * that is not a class, or without labels), clipped to the view.  The legend
 * uses squares, so the file has exactly n_points <circle>s; other elements
 * are <rect>, <line>, <text>, <g> and one <clipPath>.  predict is called
 * resolution^2 times, row by row from the bottom left. */
int plot_decision_boundary(const char *path, const plot_boundary *b);

#ifdef __cplusplus
}
#endif

#endif
