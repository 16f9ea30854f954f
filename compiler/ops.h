/* ops.h — the one table of DAG operations.
 *
 * X(NAME, arity, print name, C function (double; float appends 'f'), kind)
 *
 * Every pass that needs to know something per op (the printer, the C
 * emitter, the DOT writer, the evaluator's names, --stats) reads this table;
 * grep for DCC_OPS to find them all.  The derivative of each op is one case
 * of diff.c, its simplification rules are in simplify.c.
 *
 * Kinds: LEAF (no operands), INFIX (a op b), PREFIX (op a), CALL (f(a, ...)),
 * SELECT (a > b ? x : y and a >= b ? x : y), WRAP (emitted as its operand),
 * TENSOR (an operation on whole tensors, emitted as a loop or a view).
 *
 * Every op of the kinds INFIX to WRAP is elementwise: on tensor operands it
 * applies to each element, a scalar operand broadcast.  The TENSOR ops keep
 * a tensor whole so that it can become a loop; an index or a shape they
 * need is n->index and n->shape.
 */
#ifndef DCC_OPS_H
#define DCC_OPS_H

#define DCC_OPS(X)                                                           \
  X(CONST,    0, "const",    "",      LEAF)   /* a real constant, n->val */ \
  X(INPUT,    0, "input",    "",      LEAF)   /* in[n->index] */            \
  X(PARAM,    0, "param",    "",      LEAF)   /* p[n->index] */             \
  X(ADD,      2, "+",        "",      INFIX)  /* a + b */                   \
  X(SUB,      2, "-",        "",      INFIX)  /* a - b */                   \
  X(MUL,      2, "*",        "",      INFIX)  /* a * b */                   \
  X(DIV,      2, "/",        "",      INFIX)  /* a / b */                   \
  X(NEG,      1, "-",        "",      PREFIX) /* -a */                      \
  X(POW,      2, "pow",      "pow",   CALL)   /* a ^ b, C's pow */          \
  X(EXP,      1, "exp",      "exp",   CALL)                                 \
  X(LOG,      1, "log",      "log",   CALL)                                 \
  X(LOG1P,    1, "log1p",    "log1p", CALL)   /* log(1 + a) */              \
  X(EXPM1,    1, "expm1",    "expm1", CALL)   /* exp(a) - 1 */              \
  X(SQRT,     1, "sqrt",     "sqrt",  CALL)                                 \
  X(ABS,      1, "abs",      "fabs",  CALL)                                 \
  X(TANH,     1, "tanh",     "tanh",  CALL)                                 \
  X(SIN,      1, "sin",      "sin",   CALL)                                 \
  X(COS,      1, "cos",      "cos",   CALL)                                 \
  X(ERF,      1, "erf",      "erf",   CALL)                                 \
  X(SIGMOID,  1, "sigmoid",  "",      CALL)   /* lowered before emission */ \
  X(SOFTPLUS, 1, "softplus", "",      CALL)   /* lowered before emission */ \
  X(IFGT,     4, "if_gt",    "",      SELECT) /* a > b ? x : y */           \
  X(IFGE,     4, "if_ge",    "",      SELECT) /* a >= b ? x : y */          \
  X(NOGRAD,   1, "nograd",   "",      WRAP)   /* a, with derivative 0 */   \
  X(MATMUL,   2, "matmul",   "",      TENSOR) /* a @ b: [m][k] @ [k] or [k][n] */ \
  X(OUTER,    2, "outer",    "",      TENSOR) /* a[m] b[n]^T: [m][n] */     \
  X(TRANSPOSE,1, "transpose","",      TENSOR) /* [m][n] -> [n][m] */        \
  X(SUM,      1, "sum",      "",      TENSOR) /* the scalar sum of a tensor */ \
  X(MAXR,     1, "max",      "",      TENSOR) /* the largest element (no derivative) */ \
  X(FILL,     1, "fill",     "",      TENSOR) /* scalar a in every element of n->shape */ \
  X(INDEX,    1, "index",    "",      TENSOR) /* element n->index of a, row-major */ \
  X(ROW,      1, "row",      "",      TENSOR) /* row n->index of the matrix a */ \
  X(SCATTER,  1, "scatter",  "",      TENSOR) /* n->shape, zero but a at n->index */ \
  X(SCATROW,  1, "scatrow",  "",      TENSOR) /* n->shape, zero but row n->index = a */

typedef enum {
#define X(name, arity, print, cfn, kind) OP_##name,
  DCC_OPS(X)
#undef X
  OP_COUNT
} Op;

typedef enum { KIND_LEAF, KIND_INFIX, KIND_PREFIX, KIND_CALL, KIND_SELECT, KIND_WRAP, KIND_TENSOR } OpKind;

typedef struct {
  const char *name;  /* enum name, for debugging */
  int arity;
  const char *print; /* how --emit expr and DOT spell it */
  const char *cfn;   /* the C math function, "" if none */
  OpKind kind;
} OpInfo;

extern const OpInfo op_info[OP_COUNT];

#endif
