/* The data helpers of dcc_host.h, each on inputs whose right answer is
 * known by hand:
 *   data_driver prep FILE      columns and one-hot labels of FILE (x1, x2,
 *                              class) into rows [99 | x1 x2 | t0 t1 t2]
 *   data_driver standardize    two columns and a constant one, train and
 *                              test rows
 *   data_driver split          10 rows [i, 10 i, 100 i]: seeded shuffles
 *   data_driver accuracy       a fake model that outputs its inputs
 *   data_driver carray F.h D.h values written as float and double arrays
 *   data_driver carray-errors  what dcc_write_c_array refuses */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "carray_values.h"
#include "dcc_host.h"

static void print_rows(const dcc_real *rows, int n, int len) {
  for (int r = 0; r < n; r++) {
    for (int j = 0; j < len; j++)
      printf("%s%g", j ? " " : "", (double)rows[r * len + j]);
    printf("\n");
  }
}

/* A "model" whose outputs are its first three inputs, after a first output
 * that is not a class score. */
static void echo_outputs(const dcc_real *in, const dcc_real *p, dcc_real *out) {
  out[0] = p[0];
  for (int k = 0; k < 3; k++)
    out[1 + k] = in[k];
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  char err[256];
  if (!strcmp(mode, "prep") && argc > 2) {
    dcc_csv csv;
    if (dcc_csv_load(argv[2], 1, &csv, err, sizeof err)) {
      printf("%s\n", err);
      return 1;
    }
    dcc_real rows[8 * 6];
    for (int i = 0; i < 8 * 6; i++)
      rows[i] = 99;
    int a = dcc_csv_columns(&csv, 0, 2, rows + 1, 6);
    int b = dcc_one_hot(&csv, 2, 3, rows + 3, 6, err, sizeof err);
    printf("columns %d, one_hot %d%s%s\n", a, b, b ? ": " : "", b ? err : "");
    print_rows(rows, csv.rows, 6);
    printf("columns 2..3 (past the table): %d\n", dcc_csv_columns(&csv, 2, 2, rows, 6));
    printf("columns, stride 1: %d\n", dcc_csv_columns(&csv, 0, 2, rows, 1));
    printf("one_hot, 2 classes: %d, %s\n", dcc_one_hot(&csv, 2, 2, rows, 6, err, sizeof err), err);
    dcc_csv_free(&csv);
    return 0;
  }
  if (!strcmp(mode, "standardize")) {
    /* column 0: 1 2 3 4 (mean 2.5, std sqrt(1.25) = 1.1180339887498949);
     * column 1: 10 10 10 10 (constant: std 1); column 2: -2 0 0 2 (mean 0,
     * std sqrt(2)); a 4th column (stride 4) untouched.  Test rows: 2.5 and
     * 2.5 + sqrt(1.25) give 0 and 1. */
    dcc_real train[4][4] = {{1, 10, -2, 7}, {2, 10, 0, 7}, {3, 10, 0, 7}, {4, 10, 2, 7}};
    dcc_real test[2][4] = {{2.5, 11, 1, 7}, {(dcc_real)(2.5 + sqrt(1.25)), 9, 0, 7}};
    dcc_real mean[3], std[3];
    printf("standardize %d\n", dcc_standardize(&train[0][0], 4, 4, 3, mean, std));
    for (int j = 0; j < 3; j++)
      printf("column %d: mean %.17g std %.17g\n", j, (double)mean[j], (double)std[j]);
    print_rows(&train[0][0], 4, 4);
    /* independently: every standardised column but the constant one has
     * mean 0 and population variance 1 */
    for (int j = 0; j < 3; j += 2) {
      double m = 0, v = 0;
      for (int r = 0; r < 4; r++)
        m += (double)train[r][j] / 4;
      for (int r = 0; r < 4; r++)
        v += ((double)train[r][j] - m) * ((double)train[r][j] - m) / 4;
      printf("column %d after: mean 0: %s, variance 1: %s\n", j, fabs(m) < 1e-6 ? "yes" : "no",
             fabs(v - 1) < 1e-6 ? "yes" : "no");
    }
    printf("apply %d\n", dcc_standardize_apply(&test[0][0], 2, 4, 3, mean, std));
    print_rows(&test[0][0], 2, 4);
    printf("standardize, no rows: %d\n", dcc_standardize(&train[0][0], 0, 4, 3, mean, std));
    printf("standardize, stride 2 < 3 columns: %d\n", dcc_standardize(&train[0][0], 4, 2, 3, mean, std));
    printf("apply, no rows: %d\n", dcc_standardize_apply(&test[0][0], 0, 4, 3, mean, std));
    return 0;
  }
  if (!strcmp(mode, "split")) {
    enum { N = 10, L = 3 };
    dcc_real rows[N][L], first[N][L];
    static const double fractions[] = {0.25, 0.2, 0, 1, 0.05};
    for (int f = 0; f < 5; f++) {
      for (int i = 0; i < N; i++)
        rows[i][0] = (dcc_real)i, rows[i][1] = (dcc_real)(10 * i), rows[i][2] = (dcc_real)(100 * i);
      int n_train = dcc_split(&rows[0][0], N, L, fractions[f], 7);
      int seen[N] = {0}, intact = 1, moved = 0;
      for (int i = 0; i < N; i++) {
        int k = (int)rows[i][0];
        intact &= k >= 0 && k < N && !seen[k]++ && rows[i][1] == 10 * k && rows[i][2] == 100 * k;
        moved |= k != i;
      }
      printf("fraction %g: %d train, %d test; a permutation of whole rows: %s; reordered: %s\n", fractions[f],
             n_train, N - n_train, intact ? "yes" : "no", moved ? "yes" : "no");
      if (f == 0)
        memcpy(first, rows, sizeof rows);
    }
    for (int i = 0; i < N; i++)
      rows[i][0] = (dcc_real)i, rows[i][1] = (dcc_real)(10 * i), rows[i][2] = (dcc_real)(100 * i);
    dcc_split(&rows[0][0], N, L, 0.25, 7);
    printf("seed 7 again: same order: %s\n", memcmp(first, rows, sizeof rows) ? "no" : "yes");
    for (int i = 0; i < N; i++)
      rows[i][0] = (dcc_real)i, rows[i][1] = (dcc_real)(10 * i), rows[i][2] = (dcc_real)(100 * i);
    dcc_split(&rows[0][0], N, L, 0.25, 8);
    printf("seed 8: same order: %s\n", memcmp(first, rows, sizeof rows) ? "no" : "yes");
    printf("fraction 1.5: %d, -0.1: %d, NaN: %d\n", dcc_split(&rows[0][0], N, L, 1.5, 1),
           dcc_split(&rows[0][0], N, L, -0.1, 1), dcc_split(&rows[0][0], N, L, NAN, 1));
    printf("data NULL: %d\n", dcc_split(NULL, N, L, 0.2, 1));
    static dcc_real big[150];
    printf("150 rows, 0.2: %d train\n", dcc_split(big, 150, 1, 0.2, 1));
    return 0;
  }
  if (!strcmp(mode, "accuracy")) {
    /* rows: three scores (what the model outputs), then the one-hot class */
    static const dcc_real data[5][6] = {
        {0.7, 0.2, 0.1, 1, 0, 0}, /* right: 0 */
        {0.1, 0.8, 0.1, 0, 1, 0}, /* right: 1 */
        {0.5, 0.4, 0.1, 0, 0, 1}, /* wrong: 2 taken for 0 */
        {0.3, 0.3, 0.4, 0, 0, 1}, /* right: 2 */
        {0.4, 0.4, 0.2, 0, 1, 0}, /* a tie 0/1: the first wins, 0: wrong */
    };
    dcc_real p[1] = {-5};
    int confusion[9] = {0};
    double a = dcc_accuracy(echo_outputs, 4, p, &data[0][0], 5, 6, 3, 1, 3, confusion);
    printf("accuracy %.2f\n", a);
    for (int t = 0; t < 3; t++)
      printf("true %d: %d %d %d\n", t, confusion[t * 3], confusion[t * 3 + 1], confusion[t * 3 + 2]);
    printf("no rows: %g\n", dcc_accuracy(echo_outputs, 4, p, &data[0][0], 0, 6, 3, 1, 3, NULL));
    printf("out_col past n_out: %g\n", dcc_accuracy(echo_outputs, 3, p, &data[0][0], 5, 6, 3, 1, 3, NULL));
    static const dcc_real nan_first[3] = {NAN, 1, 2}, all_nan[2] = {NAN, NAN};
    printf("argmax: %d %d %d %d\n", dcc_argmax(nan_first, 3), dcc_argmax(all_nan, 2), dcc_argmax(nan_first, 0),
           dcc_argmax(NULL, 3));
    return 0;
  }
  if (!strcmp(mode, "carray") && argc > 3) {
    dcc_real v[CARRAY_N_FLOAT + CARRAY_N_DOUBLE_ONLY];
    carray_values(v);
    FILE *f = fopen(argv[2], "w"), *d = fopen(argv[3], "w");
    if (!f || !d)
      return 1;
    printf("float %d\n", dcc_write_c_array(f, "float", "params_f", v, CARRAY_N_FLOAT));
    printf("double %d\n", dcc_write_c_array(d, "double", "params_d", v, CARRAY_N_FLOAT + CARRAY_N_DOUBLE_ONLY));
    return fclose(f) || fclose(d);
  }
  if (!strcmp(mode, "carray-errors")) {
    static const dcc_real ok[2] = {1, 2}, bad_nan[2] = {1, NAN}, bad_inf[1] = {-INFINITY};
    static const double huge[1] = {1e39};
    FILE *f = fopen("/dev/null", "w");
#define TRY(what, call)                                                                                        \
  do {                                                                                                         \
    errno = 0;                                                                                                 \
    int r = (call);                                                                                            \
    printf("%s: %d%s\n", what, r, errno == EINVAL ? " EINVAL" : errno ? " (other errno)" : "");             \
  } while (0)
    TRY("ok", dcc_write_c_array(f, "float", "w", ok, 2));
    TRY("NaN", dcc_write_c_array(f, "float", "w", bad_nan, 2));
    TRY("-inf", dcc_write_c_array(f, "double", "w", bad_inf, 1));
    if (sizeof(dcc_real) == sizeof(double))
      TRY("1e39 as float", dcc_write_c_array(f, "float", "w", (const dcc_real *)huge, 1));
    else
      printf("1e39 as float: -1 EINVAL\n");
    TRY("name 2x", dcc_write_c_array(f, "float", "2x", ok, 2));
    TRY("name a-b", dcc_write_c_array(f, "float", "a-b", ok, 2));
    TRY("type int", dcc_write_c_array(f, "int", "w", ok, 2));
    TRY("n 0", dcc_write_c_array(f, "float", "w", ok, 0));
    TRY("stream NULL", dcc_write_c_array(NULL, "float", "w", ok, 2));
    fclose(f);
    f = fopen("/dev/full", "w");
    if (f) {
      setvbuf(f, NULL, _IONBF, 0);
      TRY("/dev/full", dcc_write_c_array(f, "float", "w", ok, 2));
      fclose(f);
    }
    return 0;
  }
  fprintf(stderr, "usage: data_driver prep FILE | standardize | split | accuracy | carray F.h D.h | carray-errors\n");
  return 2;
}
