/* The values data_driver writes as C arrays and carray_check compares, bit
 * for bit, with what the compiler made of them: special values, each
 * float's and double's extremes, and 200 values of every magnitude. */
#include <float.h>
#include <math.h>

#include "dcc_train.h"

#define CARRAY_N_FLOAT 220      /* within float's range */
#define CARRAY_N_DOUBLE_ONLY 4  /* only double holds them */

static void carray_values(dcc_real *v) {
  static const double special[20] = {0, -0.0, 1, -1, 0.1, 1.0 / 3, 2.0 / 3, 1e-7, 16777217, 0.5,
                                     (double)FLT_MAX, -(double)FLT_MAX, (double)FLT_MIN, 1.40129846e-45, 123456789, 3.14159265358979,
                                     2.718281828459045, 1e30, -1e-30, 65504};
  int k = 0;
  for (int i = 0; i < 20; i++)
    v[k++] = (dcc_real)special[i];
  uint32_t rng = 2024;
  for (int i = 0; i < 200; i++) /* magnitudes 1e-30 .. 1e30 */
    v[k++] = (dcc_real)(dcc_rng_normal(&rng) * pow(10, (int)(dcc_rng_uniform(&rng) * 60) - 30));
  if (sizeof(dcc_real) == sizeof(double)) {
    static const double only[CARRAY_N_DOUBLE_ONLY] = {DBL_MAX, -DBL_MIN, 4.9406564584124654e-324, 1e-300};
    for (int i = 0; i < CARRAY_N_DOUBLE_ONLY; i++)
      v[k++] = (dcc_real)only[i];
  }
}
