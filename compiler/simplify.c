/* simplify.c — the rewrite rules that dag_op() applies before it makes a
 * node.
 *
 * Each rule is exact for finite reals: both sides have the same value in
 * exact arithmetic (in floating point they may round differently).  The
 * rules that are not exact outside the finite reals, and where:
 *   0 * x -> 0, 0 / x -> 0, x - x -> 0   (x infinite or NaN)
 *   exp(log(x)) -> x                     (x <= 0, where log is NaN or -inf)
 *   x ^ 0.5 -> sqrt(x)                   (x = -0 or -inf)
 *   sqrt(x * x) -> abs(x)                (x * x overflowing)
 *   exp(u) / (exp(u) + 1) -> sigmoid(u)  (exp(u) overflowing: NaN becomes 1;
 *                                         -O0 keeps the NaN)
 * Constant folding happens only when the result is finite: exp(1000) stays
 * a call.  A division by the constant zero and the log of a constant that
 * is not positive are errors, reported at the operation. */
#include "dcc.h"

#include <math.h>

#define N(id) (&d->nodes[(id)])
#define IS(id, o) (N(id)->op == OP_##o)
#define ISC(id) (N(id)->op == OP_CONST)
#define CV(id) (N(id)->val)
#define A0(id) (N(id)->a[0])
#define A1(id) (N(id)->a[1])

/* 1/c is exact when c is a power of two (and 1/c is normal). */
static bool reciprocal_exact(double c) {
  int e;
  double m = frexp(c, &e);
  return fabs(m) == 0.5 && e > -1020 && e < 1020;
}

static int cst(Dag *d, double v) { return dag_const(d, v); }

/* Rules for the tensor ops: what a tensor of zeros, a filled tensor or a
 * one-element scatter makes of them. */
static int simplify_tensor(Dag *d, Op op, const int *a, int index) {
  int x = a[0];
  Shape xs = N(x)->shape;
  bool zero = (ISC(x) && CV(x) == 0) || (IS(x, FILL) && ISC(A0(x)) && CV(A0(x)) == 0);
  switch (op) {
  case OP_SUM:
    if (!xs.rank) return x;                                   /* sum(s) -> s */
    if (IS(x, FILL))                                          /* sum(fill(s)) -> n * s */
      return dag_bin(d, OP_MUL, cst(d, shape_size(xs)), A0(x));
    if (IS(x, SCATTER)) return A0(x);                         /* sum(scatter(s)) -> s */
    if (IS(x, SCATROW)) return dag_un(d, OP_SUM, A0(x));      /* sum(scatrow(v)) -> sum(v) */
    break;
  case OP_MAXR:
    if (IS(x, FILL)) return A0(x);                            /* max(fill(s)) -> s */
    break;
  case OP_INDEX:
    if (IS(x, FILL)) return A0(x);                            /* fill(s)[k] -> s */
    if (IS(x, SCATTER))                                       /* scatter(s, j)[k] -> k == j ? s : 0 */
      return N(x)->index == index ? A0(x) : cst(d, 0);
    if (op_info[N(x)->op].form == FORM_VIEW && !IS(x, STEP))  /* view(t)[k] -> t[the view's element k] */
      return dag_index(d, A0(x), (int)view_elem_num(d, x, index));
    break;
  case OP_ROW:
    if (IS(x, FILL)) return A0(x);                            /* row(fill(s)) -> s */
    if (IS(x, SCATROW))                                       /* row(scatrow(v, j), r) -> r == j ? v : 0 */
      return N(x)->index == index ? A0(x) : cst(d, 0);
    break;
  case OP_TRANSPOSE:
    if (IS(x, TRANSPOSE)) return A0(x);                       /* (M^T)^T -> M */
    if (IS(x, FILL)) return A0(x);                            /* fill(s)^T -> s */
    break;
  case OP_MATMUL:
  case OP_OUTER:
  case OP_CONV: case OP_CONV_X: case OP_CONV_K: case OP_DWCONV: case OP_DWCONV_X: case OP_DWCONV_K: {
    int y = a[1];
    bool yzero = (ISC(y) && CV(y) == 0) || (IS(y, FILL) && ISC(A0(y)) && CV(A0(y)) == 0);
    if (zero || yzero) return cst(d, 0);                      /* 0 @ B, A @ 0 -> 0 */
    break;
  }
  case OP_SCATTER:
  case OP_SCATROW:
  case OP_AVGPOOL:
  case OP_AVGPOOL_X:
    if (zero) return cst(d, 0);                               /* scatter(0), avgpool(0) -> 0 */
    break;
  case OP_UNWMAX:
    if (IS(a[1], FILL) && ISC(A0(a[1])) && CV(A0(a[1])) == 0)
      return cst(d, 0);                                       /* unwmax(t, 0) -> 0 */
    break;
  case OP_BCAST:
  case OP_RESHAPE:
    if (IS(x, FILL)) return A0(x);                            /* broadcast(fill(s)) -> s, filled */
    break;
  case OP_SLICE:
    if (IS(x, FILL)) return A0(x);                            /* slice(fill(s)) -> s, filled */
    break;
  case OP_SUMD:                                               /* sum(fill(s), k) -> n_k s, filled */
    if (IS(x, FILL)) return dag_bin(d, OP_MUL, cst(d, xs.dim[index]), A0(x));
    break;
  default:
    break;
  }
  return -1;
}

int simplify(Dag *d, Op op, const int *a, int index) {
  int ar = op_info[op].arity;
  if (ar == 0)
    return -1;
  if (op_info[op].kind == KIND_TENSOR)
    return simplify_tensor(d, op, a, index);

  /* Errors found while simplifying: they are errors whatever else folds. */
  if (op == OP_DIV && ISC(a[1]) && CV(a[1]) == 0) {
    diag_at(DIAG_ERROR, d->loc, 1, "division by zero");
    return 0;
  }
  if (op == OP_LOG && ISC(a[0]) && !(CV(a[0]) > 0)) {
    diag_at(DIAG_ERROR, d->loc, 3, "log of a constant that is not positive (%g)", CV(a[0]));
    return 0;
  }
  if (op == OP_LOG1P && ISC(a[0]) && !(CV(a[0]) > -1)) {
    diag_at(DIAG_ERROR, d->loc, 5, "log1p of a constant not greater than -1 (%g)", CV(a[0]));
    return 0;
  }

  /* Constant folding, when the result is finite. */
  if (op != OP_IFGT && op != OP_IFGE) {
    bool all = true;
    double v[4];
    for (int i = 0; i < ar; i++) {
      all = all && ISC(a[i]);
      v[i] = all ? CV(a[i]) : 0;
    }
    if (all) {
      double r = op_value(op, v);
      if (isfinite(r))
        return cst(d, r);
    }
  }

  int x = a[0], y = a[1];
  switch (op) {
  case OP_ADD:
    if (ISC(x) && CV(x) == 0) return y;                       /* 0 + y -> y */
    if (ISC(y) && CV(y) == 0) return x;                       /* x + 0 -> x */
    if (x == y) return dag_bin(d, OP_MUL, cst(d, 2), x);      /* x + x -> 2 * x */
    if (IS(y, NEG)) return dag_bin(d, OP_SUB, x, A0(y));      /* x + -y -> x - y */
    if (IS(x, NEG)) return dag_bin(d, OP_SUB, y, A0(x));      /* -x + y -> y - x */
    if (ISC(y) && IS(x, ADD) && ISC(A1(x)))                   /* (u + c1) + c2 -> u + (c1 + c2) */
      return dag_bin(d, OP_ADD, A0(x), cst(d, CV(A1(x)) + CV(y)));
    /* u + softplus(-u) -> softplus(u), exactly (softplus(u) - softplus(-u)
     * = u), also with u the first term of a sum or difference: the
     * logistic loss written by hand, fin - fin*y + log(1 + exp(-fin)),
     * becomes softplus(fin) - fin*y, whose derivative is sigmoid(fin) - y
     * rather than 1 - y - sigmoid(-fin). */
    for (int swap = 0; swap < 2; swap++) {
      int u = swap ? y : x, sp = swap ? x : y;
      if (!IS(sp, SOFTPLUS) || !IS(A0(sp), NEG))
        continue;
      int v = A0(A0(sp));
      if (u == v)
        return dag_un(d, OP_SOFTPLUS, v);                     /* u + softplus(-u) */
      if ((IS(u, SUB) || IS(u, ADD)) && A0(u) == v)           /* (u -+ r) + softplus(-u) */
        return dag_bin(d, (Op)N(u)->op, dag_un(d, OP_SOFTPLUS, v), A1(u));
    }
    break;
  case OP_SUB:
    if (ISC(y) && CV(y) == 0) return x;                       /* x - 0 -> x */
    if (ISC(x) && CV(x) == 0) return dag_un(d, OP_NEG, y);    /* 0 - y -> -y */
    if (x == y) return cst(d, 0);                             /* x - x -> 0 */
    if (IS(y, NEG)) return dag_bin(d, OP_ADD, x, A0(y));      /* x - -y -> x + y */
    if (IS(x, ADD) && A1(x) == y) return A0(x);               /* (u + y) - y -> u */
    if (IS(x, ADD) && A0(x) == y) return A1(x);               /* (y + u) - y -> u */
    if (ISC(x) && CV(x) == 1 && IS(y, SIGMOID))               /* 1 - sigmoid(u) -> sigmoid(-u) */
      return dag_un(d, OP_SIGMOID, dag_un(d, OP_NEG, A0(y)));
    if (ISC(y) && CV(y) == 1 && IS(x, EXP))                   /* exp(u) - 1 -> expm1(u) */
      return dag_un(d, OP_EXPM1, A0(x));
    break;
  case OP_MUL:
    /* canonical order puts a constant first */
    if (ISC(x) && CV(x) == 0) return cst(d, 0);               /* 0 * y -> 0 */
    if (ISC(y) && CV(y) == 0) return cst(d, 0);
    if (ISC(x) && CV(x) == 1) return y;                       /* 1 * y -> y */
    if (ISC(y) && CV(y) == 1) return x;
    if (ISC(x) && CV(x) == -1) return dag_un(d, OP_NEG, y);   /* -1 * y -> -y */
    if (ISC(y) && CV(y) == -1) return dag_un(d, OP_NEG, x);
    if (ISC(x) && IS(y, NEG))                                 /* c * -u -> (-c) * u */
      return dag_bin(d, OP_MUL, cst(d, -CV(x)), A0(y));
    if (ISC(x) && IS(y, MUL) && ISC(A0(y)))                   /* c1 * (c2 * u) -> (c1 c2) * u */
      return dag_bin(d, OP_MUL, cst(d, CV(x) * CV(A0(y))), A1(y));
    if (ISC(x) && IS(y, DIV) && ISC(A0(y)))                   /* c1 * (c2 / u) -> (c1 c2) / u */
      return dag_bin(d, OP_DIV, cst(d, CV(x) * CV(A0(y))), A1(y));
    if (IS(x, NEG) && IS(y, NEG))                             /* -u * -v -> u * v */
      return dag_bin(d, OP_MUL, A0(x), A0(y));
    if (!ISC(x) && IS(x, NEG))                                /* -u * v -> -(u * v) */
      return dag_un(d, OP_NEG, dag_bin(d, OP_MUL, A0(x), y));
    if (!ISC(x) && IS(y, NEG))                                /* u * -v -> -(u * v) */
      return dag_un(d, OP_NEG, dag_bin(d, OP_MUL, x, A0(y)));
    break;
  case OP_DIV:
    if (ISC(x) && CV(x) == 0) return cst(d, 0);               /* 0 / y -> 0 */
    if (ISC(y) && CV(y) == 1) return x;                       /* x / 1 -> x */
    if (ISC(y) && CV(y) == -1) return dag_un(d, OP_NEG, x);   /* x / -1 -> -x */
    if (ISC(y) && reciprocal_exact(CV(y)))                    /* x / 2^k -> 2^-k * x */
      return dag_bin(d, OP_MUL, cst(d, 1 / CV(y)), x);
    if (IS(y, ADD) && ISC(A1(y)) && CV(A1(y)) == 1 && IS(A0(y), EXP)) {
      if (ISC(x) && CV(x) == 1)                               /* 1 / (1 + exp(u)) -> sigmoid(-u) */
        return dag_un(d, OP_SIGMOID, dag_un(d, OP_NEG, A0(A0(y))));
      if (x == A0(y))                                         /* exp(u) / (exp(u) + 1) -> sigmoid(u) */
        return dag_un(d, OP_SIGMOID, A0(x));
    }
    if (IS(x, NEG))                                           /* -u / v -> -(u / v) */
      return dag_un(d, OP_NEG, dag_bin(d, OP_DIV, A0(x), y));
    if (IS(y, NEG))                                           /* u / -v -> -(u / v) */
      return dag_un(d, OP_NEG, dag_bin(d, OP_DIV, x, A0(y)));
    break;
  case OP_NEG:
    if (IS(x, NEG)) return A0(x);                             /* -(-u) -> u */
    if (IS(x, SUB)) return dag_bin(d, OP_SUB, A1(x), A0(x));  /* -(u - v) -> v - u */
    if (IS(x, MUL) && ISC(A0(x)))                             /* -(c * u) -> (-c) * u */
      return dag_bin(d, OP_MUL, cst(d, -CV(A0(x))), A1(x));
    break;
  case OP_POW:
    if (ISC(y) && CV(y) == 0) return cst(d, 1);               /* u ^ 0 -> 1 */
    if (ISC(y) && CV(y) == 1) return x;                       /* u ^ 1 -> u */
    if (ISC(y) && CV(y) == 2) return dag_bin(d, OP_MUL, x, x); /* u ^ 2 -> u * u */
    if (ISC(y) && CV(y) == 0.5) return dag_un(d, OP_SQRT, x); /* u ^ 0.5 -> sqrt(u) */
    if (ISC(y) && CV(y) == -1) return dag_bin(d, OP_DIV, cst(d, 1), x); /* u ^ -1 -> 1 / u */
    if (ISC(x) && CV(x) == 1) return cst(d, 1);               /* 1 ^ v -> 1 */
    break;
  case OP_EXP:
    if (IS(x, LOG)) return A0(x);                             /* exp(log(u)) -> u */
    break;
  case OP_LOG:
    if (IS(x, EXP)) return A0(x);                             /* log(exp(u)) -> u */
    if (IS(x, ADD) && ISC(A1(x)) && CV(A1(x)) == 1) {
      if (IS(A0(x), EXP))                                     /* log(exp(u) + 1) -> softplus(u) */
        return dag_un(d, OP_SOFTPLUS, A0(A0(x)));
      return dag_un(d, OP_LOG1P, A0(x));                      /* log(u + 1) -> log1p(u) */
    }
    if (IS(x, SUB) && ISC(A0(x)) && CV(A0(x)) == 1)           /* log(1 - u) -> log1p(-u) */
      return dag_un(d, OP_LOG1P, dag_un(d, OP_NEG, A1(x)));
    if (IS(x, SIGMOID))                                       /* log(sigmoid(u)) -> -softplus(-u) */
      return dag_un(d, OP_NEG, dag_un(d, OP_SOFTPLUS, dag_un(d, OP_NEG, A0(x))));
    break;
  case OP_LOG1P:
    if (IS(x, EXP)) return dag_un(d, OP_SOFTPLUS, A0(x));     /* log1p(exp(u)) -> softplus(u) */
    break;
  case OP_SQRT:
    if (IS(x, MUL) && A0(x) == A1(x)) return dag_un(d, OP_ABS, A0(x)); /* sqrt(u * u) -> abs(u) */
    break;
  case OP_ABS:
    if (IS(x, NEG)) return dag_un(d, OP_ABS, A0(x));          /* abs(-u) -> abs(u) */
    if (IS(x, ABS) || IS(x, EXP) || IS(x, SIGMOID) || IS(x, SOFTPLUS) || IS(x, SQRT))
      return x;                                               /* abs(u) -> u when u >= 0 */
    if (IS(x, MUL) && A0(x) == A1(x)) return x;               /* abs(u * u) -> u * u */
    break;
  case OP_TANH:
  case OP_SIN:
  case OP_ERF:
    if (IS(x, NEG)) return dag_un(d, OP_NEG, dag_un(d, op, A0(x))); /* odd: f(-u) -> -f(u) */
    break;
  case OP_COS:
    if (IS(x, NEG)) return dag_un(d, OP_COS, A0(x));          /* even: cos(-u) -> cos(u) */
    break;
  case OP_IFGT:
  case OP_IFGE:
    if (ISC(x) && ISC(y))                                     /* decided by constants */
      return (op == OP_IFGT ? CV(x) > CV(y) : CV(x) >= CV(y)) ? a[2] : a[3];
    if (a[2] == a[3]) return a[2];                            /* c ? u : u -> u */
    break;
  case OP_NOGRAD:
    if (ISC(x) || IS(x, NOGRAD)) return x;
    break;
  default:
    break;
  }
  return -1;
}
