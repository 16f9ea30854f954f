/* Compiles the arrays dcc_write_c_array wrote (params_f.h, params_d.h) and
 * compares each element, bit for bit, with the value it was written from
 * (carray_values.h; rounded to float for the float array). */
#include <stdio.h>
#include <string.h>

#include "carray_values.h"
#include "params_d.h"
#include "params_f.h"

int main(void) {
  dcc_real v[CARRAY_N_FLOAT + CARRAY_N_DOUBLE_ONLY];
  carray_values(v);
  int bad_f = 0, bad_d = 0;
  for (int i = 0; i < CARRAY_N_FLOAT; i++) {
    float want = (float)v[i];
    bad_f += memcmp(&want, &params_f[i], sizeof want) != 0;
  }
  for (int i = 0; i < CARRAY_N_FLOAT + CARRAY_N_DOUBLE_ONLY; i++) {
    double want = (double)v[i];
    bad_d += memcmp(&want, &params_d[i], sizeof want) != 0;
  }
  printf("float: %d values, %d differ\n", (int)(sizeof params_f / sizeof params_f[0]), bad_f);
  printf("double: %d values, %d differ\n", (int)(sizeof params_d / sizeof params_d[0]), bad_d);
  return bad_f || bad_d;
}
