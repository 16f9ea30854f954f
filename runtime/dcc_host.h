/* dcc_host.h — host-only helpers for training dcc's models on a PC: a CSV
 * loader, a console progress line and two pictures as SVG (loss curves, a
 * two-input classifier's decision boundary).  Unlike dcc_train.[ch] this
 * file uses stdio and malloc; leave dcc_host.c out of firmware builds.
 *
 * C99.  Every symbol starts with dcc_.  Output never depends on the locale:
 * the CSV loader reads '.' as the decimal point and the SVG writers print
 * numbers with a fixed number of decimals, so the same inputs give a
 * byte-identical file on every run. */
#ifndef DCC_HOST_H
#define DCC_HOST_H

#include <stddef.h>
#include <stdio.h>

#include "dcc_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CSV ---------------------------------------------------------------
 *
 * A table of numbers: comma-separated fields, one row a line.  Lines end in
 * LF or CRLF (the last one may lack it); spaces and tabs around a field are
 * ignored, and so are blank lines and a UTF-8 byte order mark.  A field is
 * a decimal number ([+-]digits[.digits][e[+-]digits], "1.", ".5" included)
 * whose value is finite; every row has the first row's number of fields. */
typedef struct {
  int rows;
  int cols;
  double *values; /* rows * cols values, row-major: values[r * cols + c] */
} dcc_csv;

/* Read path, skipping its first skip_lines lines (a header) whatever they
 * hold.  Returns 0 and fills *out (free it with dcc_csv_free), or returns
 * -1, leaves *out empty ({0, 0, NULL}) and writes one line into err (if err
 * is not NULL and errlen > 0; truncated to errlen - 1 characters), e.g.
 *
 *     data.csv: error: cannot open: No such file or directory
 *     data.csv: error: empty file
 *     data.csv: error: no data rows
 *     data.csv:3:7: error: bad number 'abc'
 *     data.csv:3:7: error: empty field
 *     data.csv:3:7: error: number out of range '1e999'
 *     data.csv:4: error: 3 columns, expected 5
 *
 * In path:LINE:COL, LINE counts every line, skipped and blank ones too; COL is
 * 1-based, in characters, the first non-blank character of the field.
 * A bad field is quoted with at most 40 characters, then "...". */
int dcc_csv_load(const char *path, int skip_lines, dcc_csv *out, char *err, size_t errlen);

/* Free the values and empty *csv; safe on an empty or freed table. */
void dcc_csv_free(dcc_csv *csv);

/* Copy the whole table into dst (rows * cols reals, row-major), converting
 * to dcc_real: the data argument of dcc_sgd when the columns are in the
 * model's input order. */
void dcc_csv_to_reals(const dcc_csv *csv, dcc_real *dst);

/* ---- Progress ----------------------------------------------------------
 *
 * One console line that training rewrites in place:
 *
 *     epoch 120/250 [#########...........] loss     0.0123457
 *
 * Call it after every epoch (0-based, as in dcc_epoch_report) of a run of
 * at most `epochs`: it prints the first epoch, about every 20th of the run
 * and the last, each time going back to the start of the line with '\r',
 * and ends the line with '\n' at epoch epochs - 1.  So a run prints at most
 * 21 updates, whatever its length.  Nothing when f is NULL or epochs <= 0. */
void dcc_progress(FILE *f, int epoch, int epochs, double loss);

/* After a run that stopped early (epochs_run < epochs): print the last
 * epoch's line and end it with '\n'.  Nothing if epochs_run >= epochs (the
 * line is already ended) or epochs_run <= 0. */
void dcc_progress_end(FILE *f, int epochs_run, int epochs, double loss);

/* dcc_progress as a dcc_sgd on_epoch callback, showing the mean loss:
 *
 *     dcc_progress_ctx pc = {stderr, o.epochs, 0};
 *     o.on_epoch = dcc_progress_on_epoch; o.ctx = &pc;
 *     int run = dcc_sgd(...);
 *     dcc_progress_end(stderr, run, o.epochs, pc.last_loss);
 */
typedef struct {
  FILE *f;
  int epochs;
  double last_loss; /* set by each call: the last epoch's mean loss */
} dcc_progress_ctx;
void dcc_progress_on_epoch(void *ctx, const dcc_epoch_report *r);

/* ---- SVG pictures ------------------------------------------------------
 *
 * Both writers return 0, or -1 when the file cannot be written or an
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
int dcc_svg_loss_curves(const char *path, const char *title, const double *values, int n_series,
                        int n_points, const char *const *names);

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
} dcc_svg_boundary;

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
int dcc_svg_decision_boundary(const char *path, const dcc_svg_boundary *b);

/* ---- command lines ---- */

/* A whole decimal number in [lo, hi] from a command-line argument: 0 with
 * *out set, or -1 (and *out untouched) if s is not one. */
int dcc_arg_integer(const char *s, long long lo, long long hi, long long *out);

#ifdef __cplusplus
}
#endif

#endif
