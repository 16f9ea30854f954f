/* ops.c — the op table (ops.h) made into data: op_info[] and op_value(). */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>

#define LEAF(name, spelling) {#name, 0, spelling, "", KIND_LEAF, 5, "", FORM_NONE},
#define SCALAR(name, arity, spelling, c, kind, prec, lang, value, adjoint) \
  {#name, arity, spelling, c, KIND_##kind, prec, lang, FORM_NONE},
#define TENSOR(name, arity, spelling, form) {#name, arity, spelling, "", KIND_TENSOR, 5, "", FORM_##form},
const OpInfo op_info[OP_COUNT] = {DCC_LEAF_OPS(LEAF) DCC_SCALAR_OPS(SCALAR) DCC_TENSOR_OPS(TENSOR)};
#undef LEAF
#undef SCALAR
#undef TENSOR

/* sigmoid and softplus through exp(-|x|), which never overflows. */
static double sigmoid_of(double x) {
  double e = exp(-fabs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

static double softplus_of(double x) { return fmax(x, 0) + log1p(exp(-fabs(x))); }

double op_value(Op op, const double *v) {
#define V0 v[0]
#define V1 v[1]
#define V2 v[2]
#define V3 v[3]
  switch (op) {
#define SCALAR(name, arity, spelling, c, kind, prec, lang, value, adjoint) \
  case OP_##name:                                                          \
    return value;
    DCC_SCALAR_OPS(SCALAR)
#undef SCALAR
#define OTHER(name, ...) case OP_##name:
    DCC_LEAF_OPS(OTHER)
    DCC_TENSOR_OPS(OTHER)
#undef OTHER
  case OP_COUNT:
    break;
  }
#undef V0
#undef V1
#undef V2
#undef V3
  abort(); /* leaves and tensor ops have no scalar value */
}
