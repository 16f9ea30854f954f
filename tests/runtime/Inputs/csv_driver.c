/* dcc_csv_load on a file: csv_driver FILE [SKIP [ERRLEN]].  Prints the table
 * ("rows R cols C", then one line per row) and exits 0, or prints the error
 * message on standard output and exits 1.  ERRLEN: the size of the error
 * buffer (default 512). */
#include <stdio.h>
#include <stdlib.h>

#include "dcc_host.h"

int main(int argc, char **argv) {
  char err[512];
  dcc_csv t = {7, 7, (double *)err}; /* garbage: dcc_csv_load must reset it */
  int skip = argc > 2 ? atoi(argv[2]) : 0;
  size_t errlen = argc > 3 ? (size_t)atoi(argv[3]) : sizeof err;
  if (argc < 2 || errlen > sizeof err) {
    fprintf(stderr, "usage: csv_driver FILE [SKIP [ERRLEN]]\n");
    return 2;
  }
  if (dcc_csv_load(argv[1], skip, &t, err, errlen)) {
    printf("%s\n", err);
    printf("after the error: rows %d cols %d values %s\n", t.rows, t.cols, t.values ? "set" : "NULL");
    dcc_csv_free(&t);
    return 1;
  }
  printf("rows %d cols %d\n", t.rows, t.cols);
  dcc_real *r = malloc((size_t)t.rows * (size_t)t.cols * sizeof *r);
  if (!r)
    return 3;
  dcc_csv_to_reals(&t, r);
  for (int i = 0; i < t.rows; i++) {
    for (int j = 0; j < t.cols; j++)
      printf("%s%.17g", j ? " " : "", t.values[i * t.cols + j]);
    printf("\n");
  }
  int same = 1;
  for (int k = 0; k < t.rows * t.cols; k++)
    same &= r[k] == (dcc_real)t.values[k];
  printf("as reals: %s\n", same ? "same" : "different");
  free(r);
  dcc_csv_free(&t);
  dcc_csv_free(&t); /* twice: harmless */
  printf("after free: rows %d cols %d values %s\n", t.rows, t.cols, t.values ? "set" : "NULL");
  return 0;
}
