/* The params multiclass --export wrote for iris, compiled into a float
 * build of the model as firmware would (iris_params.h: iris_params,
 * iris_mean, iris_std), scored on the held-out rows of iris.csv (every 5th
 * data row, standardised with the exported mean and std) with the float
 * runtime's host helpers.  usage: iris_exported IRIS.CSV */
#include <stdio.h>
#include <stdlib.h>

#include "dcc_host.h"
#include "iris.h"
#include "iris_params.h"

int main(int argc, char **argv) {
  dcc_csv csv;
  char err[256];
  if (argc < 2 || dcc_csv_load(argv[1], 1, &csv, err, sizeof err)) {
    fprintf(stderr, "%s\n", argc < 2 ? "usage: iris_exported IRIS.CSV" : err);
    return 2;
  }
  static dcc_real rows[150 * IRIS_N_IN], test[30 * IRIS_N_IN];
  if (csv.rows != 150 || dcc_csv_columns(&csv, 0, 4, rows + IRIS_IN_x, IRIS_N_IN) ||
      dcc_one_hot(&csv, 4, 3, rows + IRIS_IN_t, IRIS_N_IN, err, sizeof err))
    return 2;
  int n = 0;
  for (int i = 4; i < 150; i += 5, n++)
    for (int j = 0; j < IRIS_N_IN; j++)
      test[n * IRIS_N_IN + j] = rows[i * IRIS_N_IN + j];
  dcc_standardize_apply(test + IRIS_IN_x, n, IRIS_N_IN, 4, iris_mean, iris_std);
  double a = dcc_accuracy(iris_outputs, IRIS_N_OUT, iris_params, test, n, IRIS_N_IN, IRIS_IN_t, IRIS_OUT_prob, 3,
                          NULL);
  printf("float firmware: %d params, held-out accuracy %.4f (%d/%d)\n",
         (int)(sizeof iris_params / sizeof iris_params[0]), a, (int)(a * n + 0.5), n);
  dcc_csv_free(&csv);
  return 0;
}
