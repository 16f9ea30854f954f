/* ops.h — the DAG's operations, each defined once.
 *
 * Three tables, one row per op; the op enum, op_info[] and every per-op
 * dispatch in the passes are generated from them, so an op that lacks a
 * piece does not compile (grep an op's name to find all of it).
 *
 * DCC_LEAF_OPS(X):   X(NAME, spelling)
 *   Operands none: a constant or an element of in[] / p[].
 *
 * DCC_SCALAR_OPS(X): X(NAME, arity, spelling, C, kind, prec, lang, value, adjoint)
 *   Elementwise operations: on tensor operands they apply to each element,
 *   a scalar operand broadcast.  The whole definition is the row:
 *   - spelling: how --emit expr and --emit dot print it;
 *   - C: the C operator or <math.h> function (double; float appends 'f'),
 *     "" for an op that lower.c rewrites before emission;
 *   - kind: INFIX (a op b), PREFIX (op a), CALL (f(a, ...)), SELECT
 *     (a > b ? x : y), WRAP (emitted as its operand);
 *   - prec: its precedence in the language (1 + -, 2 * / @, 3 unary -,
 *     4 ^, 5 a call or a name); C's precedence follows for INFIX and PREFIX;
 *   - lang: the name of the language's builtin function that is this op
 *     ("" if none): check.c and build.c take these from here;
 *   - value: its value, in terms of the operands' values V0 .. V3 (the
 *     constant folder and dcc's evaluator: simplify.c, op_value());
 *   - adjoint: what operand I receives from an incoming derivative G, a
 *     DAG expression in the operands A0 .. A3 and the node itself Y, or
 *     NONE (diff.c; the rule is linear in G, so it serves reverse mode, G
 *     the node's adjoint, and -O0's forward mode, G operand I's tangent).
 *   A new scalar builtin is one row here, and its line in the language
 *   reference (README.md, "How dcc works", says where).
 *
 * DCC_TENSOR_OPS(X): X(NAME, arity, spelling, form)
 *   Operations on whole tensors, kept whole so that they become loops (or
 *   are unrolled).  form says how the back end treats the node:
 *   VIEW (a way of reading another tensor, never stored: fill, row,
 *   transpose), ELEMENT (one element of a tensor, a scalar), REDUCE (a
 *   scalar made by a loop: sum, max), STORE (a loop that writes a stored
 *   tensor: products, scatters) or LOOP (a recurrence's parts, which
 *   loop.c, sched.c and the emitter handle as a whole; a scalar or a
 *   tensor).  Their index or shape is n->index and
 *   n->shape.  Each pass that handles tensor ops has one function per op,
 *   named after it (shape_MATMUL in dag.c, adjoint_MATMUL in diff.c,
 *   unroll_MATMUL, eval_MATMUL, count_MATMUL, text_MATMUL, emit_MATMUL),
 *   gathered by DCC_TENSOR_OPS into that pass's table: a missing one is a
 *   compile error.
 */
#ifndef DCC_OPS_H
#define DCC_OPS_H

#define DCC_LEAF_OPS(X)                                                                              \
  X(CONST, "const") /* a real constant, n->val */                                                    \
  X(INPUT, "input") /* in[n->index], the first scalar of an input */                                 \
  X(PARAM, "param") /* p[n->index], the first scalar of a param */

#define DCC_SCALAR_OPS(X)                                                                            \
  X(ADD,      2, "+",        "+",     INFIX,  1, "",         V0 + V1,            G)                  \
  X(SUB,      2, "-",        "-",     INFIX,  1, "",         V0 - V1,            I == 0 ? G : NEG(G)) \
  X(MUL,      2, "*",        "*",     INFIX,  2, "",         V0 * V1,            MUL(G, I == 0 ? A1 : A0)) \
  X(DIV,      2, "/",        "/",     INFIX,  2, "",         V0 / V1,                                \
    I == 0 ? DIV(G, A1) : NEG(DIV(MUL(G, Y), A1)))              /* d(a/b) = da/b - (a/b) db/b */     \
  X(NEG,      1, "-",        "-",     PREFIX, 3, "",         -V0,                NEG(G))             \
  X(POW,      2, "pow",      "pow",   CALL,   4, "pow",      pow(V0, V1),                            \
    adjoint_pow(d, I, G, Y, A0, A1))          /* b a^(b-1) da + a^b log(a) db: diff.c */              \
  X(EXP,      1, "exp",      "exp",   CALL,   5, "exp",      exp(V0),            MUL(G, Y))          \
  X(LOG,      1, "log",      "log",   CALL,   5, "log",      log(V0),            DIV(G, A0))         \
  X(LOG1P,    1, "log1p",    "log1p", CALL,   5, "log1p",    log1p(V0),          DIV(G, ADD(A0, K(1)))) \
  X(EXPM1,    1, "expm1",    "expm1", CALL,   5, "expm1",    expm1(V0),          MUL(G, ADD(Y, K(1)))) \
  X(SQRT,     1, "sqrt",     "sqrt",  CALL,   5, "sqrt",     sqrt(V0),           DIV(G, MUL(K(2), Y))) \
  X(ABS,      1, "abs",      "fabs",  CALL,   5, "abs",      fabs(V0),           /* abs'(0) = 0 */  \
    SEL(IFGT, A0, K(0), G, SEL(IFGT, K(0), A0, NEG(G), K(0))))                                      \
  X(TANH,     1, "tanh",     "tanh",  CALL,   5, "tanh",     tanh(V0),           MUL(G, SUB(K(1), MUL(Y, Y)))) \
  X(SIN,      1, "sin",      "sin",   CALL,   5, "sin",      sin(V0),            MUL(G, UN(COS, A0))) \
  X(COS,      1, "cos",      "cos",   CALL,   5, "cos",      cos(V0),            NEG(MUL(G, UN(SIN, A0)))) \
  X(ERF,      1, "erf",      "erf",   CALL,   5, "erf",      erf(V0),            /* 2/sqrt(pi) e^(-a^2) */ \
    MUL(G, MUL(K(1.12837916709551257390), UN(EXP, NEG(MUL(A0, A0))))))                               \
  X(ATAN,     1, "atan",     "atan",  CALL,   5, "atan",     atan(V0),           DIV(G, ADD(K(1), MUL(A0, A0)))) \
  X(SIGMOID,  1, "sigmoid",  "",      CALL,   5, "sigmoid",  sigmoid_of(V0),     /* s (1 - s) */    \
    MUL(G, MUL(Y, SUB(K(1), Y))))                                                                    \
  X(SOFTPLUS, 1, "softplus", "",      CALL,   5, "softplus", softplus_of(V0),    MUL(G, UN(SIGMOID, A0))) \
  X(IFGT,     4, "if_gt",    ">",     SELECT, 5, "",         V0 > V1 ? V2 : V3,  /* a > b ? x : y */ \
    I < 2 ? NONE : SEL(IFGT, A0, A1, I == 2 ? G : K(0), I == 2 ? K(0) : G))                          \
  X(IFGE,     4, "if_ge",    ">=",    SELECT, 5, "",         V0 >= V1 ? V2 : V3, /* a >= b ? x : y */ \
    I < 2 ? NONE : SEL(IFGE, A0, A1, I == 2 ? G : K(0), I == 2 ? K(0) : G))                          \
  X(NOGRAD,   1, "nograd",   "",      WRAP,   5, "",         V0,                 NONE) /* a, derivative 0 */

#define DCC_TENSOR_OPS(X)                                                                            \
  X(MATMUL,    2, "matmul",    STORE)   /* a @ b: [m][k] @ [k] or [k][n] */                          \
  X(OUTER,     2, "outer",     STORE)   /* a[m] b[n]^T: [m][n] */                                    \
  X(TRANSPOSE, 1, "transpose", VIEW)    /* [m][n] -> [n][m] */                                       \
  X(SUM,       1, "sum",       REDUCE)  /* the scalar sum of a tensor */                             \
  X(MAXR,      1, "max",       REDUCE)  /* its largest element (no derivative) */                    \
  X(FILL,      1, "fill",      VIEW)    /* scalar a in every element of n->shape */                  \
  X(INDEX,     1, "index",     ELEMENT) /* element n->index of a, row-major */                       \
  X(ROW,       1, "row",       VIEW)    /* row n->index of the matrix a */                           \
  X(SCATTER,   1, "scatter",   STORE)   /* n->shape, zero but a at n->index */                       \
  X(SCATROW,   1, "scatrow",   STORE)   /* n->shape, zero but row n->index = a */                    \
  X(BCAST,     1, "broadcast", VIEW)    /* a stretched to n->shape (NumPy's rule) */                 \
  X(RESHAPE,   1, "reshape",   VIEW)    /* a's elements, row-major, in n->shape */                   \
  X(SUMD,      1, "sum",       REDUCE)  /* a summed along dimension n->index */                      \
  X(CONCAT,    2, "concat",    STORE)   /* a then b, along the first dimension */                    \
  X(SLICE,     1, "slice",     VIEW)    /* n->shape's rows of a, from row n->index */                \
  X(ATMAX,     2, "atmax",     REDUCE)  /* b where a is largest along dimension n->index (the first) */ \
  X(UNMAX,     2, "unmax",     STORE)   /* a's shape: b at a's first largest along n->index, else 0 */ \
  /* convolutions (conv.c: stride n->index, padding n->aux; 1-D or 2-D by     \
   * the input's rank) and their adjoints, each the other two's */             \
  X(CONV,      2, "conv",      STORE)   /* input a correlated with kernels b */                      \
  X(CONV_X,    2, "conv_x",    STORE)   /* in the input's shape: dY a spread back through kernels b */ \
  X(CONV_K,    2, "conv_k",    STORE)   /* in the kernels' shape: input a correlated with dY b */    \
  X(DWCONV,    2, "dwconv",    STORE)   /* depthwise: channel c of a with kernel b[c] */             \
  X(DWCONV_X,  2, "dwconv_x",  STORE)                                                                \
  X(DWCONV_K,  2, "dwconv_k",  STORE)                                                                \
  /* pooling over windows of n->index (per side), stride n->index */          \
  X(AVGPOOL,   1, "avgpool",   STORE)   /* each window's mean */                                     \
  X(AVGPOOL_X, 1, "avgpool_x", STORE)   /* in the input's shape: a's share for each element */      \
  X(WMAX,      2, "wmax",      STORE)   /* b at a's first largest of each window (maxpool: a = b) */ \
  X(UNWMAX,    2, "unwmax",    STORE)   /* a's shape: b at a's first largest of each window, else 0 */ \
  /* recurrence (loop.c): a loop's body is the nodes that depend on its     \
   * CARRY or STEP (the forward region), a reverse sweep's the nodes that    \
   * depend on its ADJ (the backward region); n->index is the region's id,  \
   * n->aux the number of steps (BPTT: the forward region it reverses) */    \
  X(CARRY,     0, "carry",     LOOP)    /* the state at this step */                                 \
  X(STEP,      1, "step",      VIEW)    /* a[step]: this step's row of the sequence a */             \
  X(FOLD,      2, "fold",      LOOP)    /* state a, then b (of CARRY) n times: the last state */     \
  X(SCAN,      2, "scan",      LOOP)    /* the same, every state after each step: [n] + state */     \
  X(ADJ,       0, "adj",       LOOP)    /* a reverse sweep: the state's adjoint after this step */   \
  X(BPTT,      3, "bptt",      LOOP)    /* the sweep over loop a from seed b, c the CARRY's adjoint at \
                                           each step: the adjoint of a's initial state */             \
  X(LOOPSUM,   2, "loopsum",   LOOP)    /* sweep a: b summed over the steps */                       \
  X(LOOPSTACK, 2, "loopstack", LOOP)    /* sweep a: b of each step, as the rows of [n] + b's shape */

/* DCC_BUILTINS(X): X(NAME, name, min_args, max_args)
 *   The language's builtin functions that are not one op (those are the
 *   scalar ops whose lang column names them): each has check_<NAME> in
 *   check.c (its arguments' shapes -> its shape) and build_<NAME> in
 *   build.c (its definition in DAG ops).  max_args -1: no limit. */
#define DCC_BUILTINS(X)                                                                              \
  X(RELU,          "relu",          1, 1)  /* x > 0 ? x : 0 */                                      \
  X(GELU,          "gelu",          1, 1)  /* x (1 + erf(x / sqrt(2))) / 2 */                       \
  X(LEAKY_RELU,    "leaky_relu",    2, 2)  /* x > 0 ? x : slope x */                                \
  X(MAX,           "max",           2, 2)  /* elementwise */                                        \
  X(MIN,           "min",           2, 2)                                                           \
  X(SUM,           "sum",           1, 2)  /* sum(t) or sum(t, d) */                                \
  X(MEAN,          "mean",          1, 2)                                                           \
  X(AMAX,          "amax",          1, 2)  /* the largest element, or along d */                    \
  X(DOT,           "dot",           2, 2)                                                           \
  X(TRANSPOSE,     "transpose",     1, 1)                                                           \
  X(SOFTMAX,       "softmax",       1, 1)                                                           \
  X(LOG_SOFTMAX,   "log_softmax",   1, 1)                                                           \
  X(LOGSUMEXP,     "logsumexp",     1, 2)                                                           \
  X(MSE,           "mse",           2, 2)                                                           \
  X(BCE,           "bce",           2, 2)                                                           \
  X(BCE_LOGITS,    "bce_logits",    2, 2)                                                           \
  X(CROSS_ENTROPY, "cross_entropy", 2, 2)                                                           \
  X(L2,            "l2",            1, 1)                                                           \
  X(RESHAPE,       "reshape",       2, 5)  /* reshape(t, d1, ...) */                                \
  X(FLATTEN,       "flatten",       1, 1)                                                           \
  X(CONCAT,        "concat",        2, -1) /* along the first dimension */                          \
  X(FULL,          "full",          2, 5)  /* full(v, d1, ...) */                                   \
  X(CONV1D,        "conv1d",        2, 4)  /* conv1d(x, K[, stride[, pad]]) */                      \
  X(CONV2D,        "conv2d",        2, 4)                                                           \
  X(DWCONV1D,      "dwconv1d",      2, 4)  /* an extension: depthwise in 1-D */                     \
  X(DWCONV2D,      "dwconv2d",      2, 4)                                                           \
  X(MAXPOOL1D,     "maxpool1d",     2, 2)  /* maxpool1d(x, k) */                                    \
  X(MAXPOOL2D,     "maxpool2d",     2, 2)                                                           \
  X(AVGPOOL1D,     "avgpool1d",     2, 2)                                                           \
  X(AVGPOOL2D,     "avgpool2d",     2, 2)                                                           \
  X(FOLD,          "fold",          3, 3)  /* fold(f, init, xs) */                                  \
  X(SCAN,          "scan",          3, 3)  /* scan(f, init, xs) */                                  \
  X(DIFF,          "diff",          2, -1) /* diff(e, v1, v2, ...) */

typedef enum {
#define LEAF(name, spelling) OP_##name,
#define SCALAR(name, arity, spelling, c, kind, prec, lang, value, adjoint) OP_##name,
#define TENSOR(name, arity, spelling, form) OP_##name,
  DCC_LEAF_OPS(LEAF) DCC_SCALAR_OPS(SCALAR) DCC_TENSOR_OPS(TENSOR)
#undef LEAF
#undef SCALAR
#undef TENSOR
  OP_COUNT
} Op;

typedef enum { KIND_LEAF, KIND_INFIX, KIND_PREFIX, KIND_CALL, KIND_SELECT, KIND_WRAP, KIND_TENSOR } OpKind;

/* How the back end treats a tensor op (see DCC_TENSOR_OPS). */
typedef enum { FORM_NONE, FORM_VIEW, FORM_ELEMENT, FORM_REDUCE, FORM_STORE, FORM_LOOP } OpForm;

typedef struct {
  const char *name;  /* the enum's name, for debugging */
  int arity;
  const char *print; /* how --emit expr and DOT spell it */
  const char *c;     /* the C operator or function, "" if none */
  OpKind kind;
  int prec;          /* precedence in the language, 5 for a primary */
  const char *lang;  /* the language's builtin function that is this op, or "" */
  OpForm form;       /* tensor ops: how the back end treats them */
} OpInfo;

extern const OpInfo op_info[OP_COUNT];

/* The value of scalar op op at operand values v (the constant folder's
 * and the evaluator's arithmetic: each row's value). */
double op_value(Op op, const double *v);

#endif
