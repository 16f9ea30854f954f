/* dcc_host.h — host-only helpers for training dcc's models on a PC: a CSV
 * loader, the data preparation every driver needs (columns into the
 * model's rows, one-hot labels, standardisation, a seeded train/test
 * split), argmax accuracy, and the trained params written as a C array for
 * firmware.  Unlike dcc_train.[ch] this file uses stdio and malloc; leave
 * dcc_host.c out of firmware builds.
 *
 * C99.  Every symbol starts with dcc_.  Nothing depends on the locale: the
 * CSV loader reads '.' as the decimal point and dcc_write_c_array writes
 * it, whatever the locale says. */
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

/* ---- Preparing the data -------------------------------------------------
 *
 * The model's data are rows of n_in reals (NET_N_IN), each input at its
 * offset (NET_IN_x).  These helpers fill and transform such rows in place;
 * `dst`/`data` points at the first column concerned in row 0 (rows +
 * NET_IN_x) and `stride` is the row length (NET_N_IN).  Each returns 0, or
 * -1 when an argument is invalid (NULL, a negative count, columns outside
 * the table, stride smaller than the columns written) and then writes
 * nothing.  With iris.csv (4 features, then the class 0..2):
 *
 *     dcc_real *rows = malloc(csv.rows * IRIS_N_IN * sizeof *rows);
 *     dcc_csv_columns(&csv, 0, 4, rows + IRIS_IN_x, IRIS_N_IN);
 *     dcc_one_hot(&csv, 4, 3, rows + IRIS_IN_t, IRIS_N_IN, err, sizeof err);
 *     int n_train = dcc_split(rows, csv.rows, IRIS_N_IN, 0.2, seed);
 *     dcc_real mean[4], std[4];       // keep them: firmware needs them too
 *     dcc_standardize(rows + IRIS_IN_x, n_train, IRIS_N_IN, 4, mean, std);
 *     dcc_standardize_apply(rows + n_train * IRIS_N_IN + IRIS_IN_x,
 *                           csv.rows - n_train, IRIS_N_IN, 4, mean, std);
 */

/* n_cols columns of the table, from first_col: dst[r * stride + j] =
 * column first_col + j of row r, for every row. */
int dcc_csv_columns(const dcc_csv *csv, int first_col, int n_cols, dcc_real *dst, int stride);

/* The one-hot encoding of a label column: dst[r * stride + k] = 1 if row r's
 * label is k, else 0, for k < n_classes.  A label that is not an integer in
 * 0 .. n_classes - 1 is an error: -1, nothing written, and one line in err
 * (as dcc_csv_load's), e.g. "data row 7: class 3.5 is not one of 0 .. 2"
 * (data rows counted from 1). */
int dcc_one_hot(const dcc_csv *csv, int label_col, int n_classes, dcc_real *dst, int stride, char *err,
                size_t errlen);

/* Standardise n_cols columns of rows rows: each column's mean and
 * population standard deviation (divided by rows, as NumPy's std and
 * scikit-learn's StandardScaler) go into mean[] and std[] (a constant
 * column gets std 1), then every value becomes (x - mean) / std.  Keep
 * mean and std: the test set and the firmware's inputs need the same
 * transformation (dcc_standardize_apply; dcc_write_c_array bakes them into
 * C).  rows >= 1. */
int dcc_standardize(dcc_real *data, int rows, int stride, int n_cols, dcc_real *mean, dcc_real *std);

/* (x - mean[j]) / std[j] on n_cols columns of rows rows (rows may be 0). */
int dcc_standardize_apply(dcc_real *data, int rows, int stride, int n_cols, const dcc_real *mean,
                          const dcc_real *std);

/* A seeded train/test split: the rows (row_len reals each) are put in a
 * random order (Fisher and Yates, with dcc_rng_next from seed: the same
 * seed, the same order), in place; the first rows - n_test are the training
 * set and the last n_test the test set, n_test = ceil(test_fraction * rows)
 * as scikit-learn's train_test_split.  Returns the number of training rows,
 * or -1 (test_fraction outside [0, 1], ...). */
int dcc_split(dcc_real *data, int rows, int row_len, double test_fraction, uint32_t seed);

/* ---- Scoring ------------------------------------------------------------ */

/* The index of the largest of v[0 .. n) (the first one on ties; NaN never
 * wins unless every value is NaN: then 0); -1 if n < 1 or v is NULL. */
int dcc_argmax(const dcc_real *v, int n);

/* The fraction of rows a classifier gets right: row r (n_in reals of data)
 * has the class argmax(row[label_col .. label_col + n_classes)) (its one-hot
 * label); the model predicts argmax(out[out_col .. out_col + n_classes))
 * where outputs(row, p, out) fills out[n_out] (the model's _outputs,
 * NET_N_OUT, NET_OUT_prob).  With confusion (n_classes * n_classes ints,
 * which it adds to), confusion[true * n_classes + predicted] counts the
 * rows.  0 for no rows; -1 if an argument is invalid or out of memory. */
double dcc_accuracy(void (*outputs)(const dcc_real *in, const dcc_real *p, dcc_real *out), int n_out,
                    const dcc_real *p, const dcc_real *data, int rows, int n_in, int label_col, int out_col,
                    int n_classes, int *confusion);

/* ---- Firmware ----------------------------------------------------------- */

/* Write n reals as a C array definition for firmware, to be compiled into
 * flash:
 *
 *     static const float name[3] = {
 *       0.123456791f, -2.5f, 1e-07f,
 *     };
 *
 * type is "float" (the values are rounded to float first: the firmware of
 * a --real float model) or "double".  Each value is written with the
 * digits that give it back exactly (9 significant digits for float, 17 for
 * double), so the firmware's params are the host's, bit for bit.  Returns
 * 0, or -1 with errno set: EINVAL for a NULL argument, n < 1, a name that
 * is not a C identifier, another type, or a value that is infinite or NaN
 * (or, for float, beyond float's range); the stream's error if writing
 * failed. */
int dcc_write_c_array(FILE *f, const char *type, const char *name, const dcc_real *v, int n);

#ifdef __cplusplus
}
#endif

#endif
