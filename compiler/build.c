/* build.c — the checked AST to the tensor-level DAG.
 *
 * Requires: a Model that check() passed without errors.  Guarantees: every
 * Sym has its DAG node (sym->node, a scalar or a whole tensor), the loss
 * is a node, and the per-scalar tables of Built hold the node of each
 * input, param and output at its first scalar's offset.  The builtins are
 * expanded into DAG ops here, and only here (losses into their
 * definitions, softmax and friends into stable forms).  Tensors stay whole:
 * unroll.c decides whether they become scalars. */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A call of a function being inlined: its arguments' nodes, and its
 * locals' as they are built. */
typedef struct {
  const int *args;
  int *locals;
} Inlining;

typedef struct {
  Built *b;
  Dag *d;
  Model *m;
  Program *prog;
  Inlining *call; /* in a function's body, or NULL */
} Builder;

static void blame(Builder *B, int tok) { B->d->loc = B->prog->toks[tok].off; }

static Shape node_shape(Dag *d, int id) { return d->nodes[id].shape; }

/* ---- reductions and tensor operations -------------------------------- */

/* sum(t), and of a scalar the scalar itself */
static int sum_of(Dag *d, int t) { return is_tensor(d, t) ? dag_un(d, OP_SUM, t) : t; }

static int mean_of(Dag *d, int t) {
  return dag_bin(d, OP_DIV, sum_of(d, t), dag_const(d, shape_size(node_shape(d, t))));
}

/* The stable pieces of softmax, log_softmax and logsumexp along the last
 * dimension of v: m = max(v) (along it), shifted = v - m, e =
 * exp(shifted), S = sum(e) (along it).  m carries no derivative (nograd):
 * every function built from these is invariant under the shift, so its
 * exact derivative ignores m.  Of a matrix, row by row: m and S have one
 * element per row, and are read back as [rows][1] (a broadcast). */
typedef struct {
  int m, S, shifted, e;
  Shape kept; /* v's shape with the last dimension 1: m's and S's */
} Stable;

static Stable stable(Dag *d, int v) {
  Stable s;
  Shape vs = node_shape(d, v);
  s.kept = vs;
  if (vs.rank <= 1) {
    s.m = dag_un(d, OP_NOGRAD, is_tensor(d, v) ? dag_un(d, OP_MAXR, v) : v);
    s.shifted = dag_bin(d, OP_SUB, v, s.m);
  } else {
    s.kept.dim[vs.rank - 1] = 1;
    s.m = dag_un(d, OP_NOGRAD, dag_atmax(d, v, v, vs.rank - 1));
    s.shifted = dag_bin(d, OP_SUB, v, dag_reshape(d, s.m, s.kept));
  }
  s.e = dag_un(d, OP_EXP, s.shifted);
  s.S = vs.rank <= 1 ? sum_of(d, s.e) : dag_sumd(d, s.e, vs.rank - 1);
  return s;
}

/* S (or log S) read against every element of its row */
static int per_row(Dag *d, Stable *s, int x) { return s->kept.rank > 1 ? dag_reshape(d, x, s->kept) : x; }

static int log_softmax(Dag *d, int v) {
  Stable s = stable(d, v);
  return dag_bin(d, OP_SUB, s.shifted, per_row(d, &s, dag_un(d, OP_LOG, s.S)));
}

/* ---- expressions ----------------------------------------------------- */

static int build_expr(Builder *B, Expr *e);

/* The op of a binary operator of the language. */
static Op binary_op(char c) {
  return c == '+' ? OP_ADD : c == '-' ? OP_SUB : c == '*' ? OP_MUL : c == '/' ? OP_DIV : c == '^' ? OP_POW : OP_MATMUL;
}

/* t (of shape sh) indexed by idx[0 .. n-1]: an element when every
 * dimension is indexed, else the tensor left (each index drops the first
 * dimension: X[c] of X[3][8][8] is an [8][8]). */
static int indexed(Dag *d, int t, Shape sh, const int *idx, int n) {
  if (n == 0)
    return t;
  if (n == sh.rank) {
    int k = 0;
    for (int i = 0; i < n; i++)
      k = k * sh.dim[i] + idx[i];
    return dag_index(d, t, k);
  }
  for (int i = 0; i < n; i++)
    t = dag_row(d, t, idx[i]);
  return t;
}

/* The part of t (a whole tensor of v's symbol's shape) that the diff()
 * variable v names: all of it, a row or an element. */
static int diff_var_part(Dag *d, Expr *v, int t) {
  if (v->kind != EX_INDEX)
    return t;
  return indexed(d, t, v->sym->shape, v->idx, v->nidx);
}

/* diff(e, v1, ..., vn): reverse mode once per variable, each on the
 * previous derivative (diff.c). */
static int build_diff(Builder *B, Expr *e) {
  Dag *d = B->d;
  int node = build_expr(B, e->args[0]);
  for (int i = 1; i < e->nargs; i++) {
    Expr *v = e->args[i];
    int leaf = v->sym->node;
    int *adj = diff_reverse(d, node);
    int whole = adj[leaf] >= 0 ? adj[leaf] : dag_fill(d, dag_const(d, 0), v->sym->shape);
    free(adj);
    node = diff_var_part(d, v, whole);
  }
  return node;
}

/* ---- each builtin's definition (DCC_BUILTINS), on its arguments' nodes --- */

/* relu(x) = x > 0 ? x : 0, so that relu'(0) = 0 */
static int build_RELU(Builder *B, Expr *e, const int *a) {
  (void)e;
  return dag_op(B->d, OP_IFGT, a[0], 0, a[0], 0);
}

/* (x / 2) (1 + erf(x / sqrt(2))), the exact form, halved first so that it
 * stays finite up to the largest double (PyTorch's order) */
static int build_GELU(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  (void)e;
  int half_x = dag_bin(d, OP_MUL, dag_const(d, 0.5), a[0]);
  return dag_bin(d, OP_MUL, half_x,
                 dag_bin(d, OP_ADD, dag_const(d, 1),
                         dag_un(d, OP_ERF, dag_bin(d, OP_MUL, dag_const(d, 0.70710678118654752440), a[0]))));
}

static int build_LEAKY_RELU(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  /* checked on the simplified DAG only: unfolded, -0.1 is not a constant node */
  if (d->simplify && NODE(d, a[1])->op != OP_CONST) {
    Token *t = &B->prog->toks[e->arg_tok[1]];
    diag_at(DIAG_ERROR, t->off, t->len, "the slope of leaky_relu must be a constant");
  }
  return dag_op(d, OP_IFGT, a[0], 0, a[0], dag_bin(d, OP_MUL, a[1], a[0]));
}

/* max'(a) when a >= b */
static int build_MAX(Builder *B, Expr *e, const int *a) {
  (void)e;
  return dag_op(B->d, OP_IFGE, a[0], a[1], a[0], a[1]);
}

/* min'(a) when a <= b */
static int build_MIN(Builder *B, Expr *e, const int *a) {
  (void)e;
  return dag_op(B->d, OP_IFGE, a[1], a[0], a[0], a[1]);
}

/* Argument 1 of e, the dimension of a reduction, or -1 without one. */
static int dim_arg(Builder *B, Expr *e) { return e->nargs > 1 ? B->prog->toks[e->args[1]->tok].ival : -1; }

static int build_SUM(Builder *B, Expr *e, const int *a) {
  int k = dim_arg(B, e);
  return k < 0 ? sum_of(B->d, a[0]) : dag_sumd(B->d, a[0], k);
}

static int build_MEAN(Builder *B, Expr *e, const int *a) {
  int k = dim_arg(B, e);
  if (k < 0)
    return mean_of(B->d, a[0]);
  return dag_bin(B->d, OP_DIV, dag_sumd(B->d, a[0], k), dag_const(B->d, node_shape(B->d, a[0]).dim[k]));
}

/* amax(t): the largest element of all, amax(t, k) along k; the first
 * largest takes the derivative */
static int build_AMAX(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  int k = dim_arg(B, e), t = a[0];
  if (!is_tensor(d, t))
    return t;
  if (k < 0) {
    t = dag_reshape(d, t, shape1(shape_size(node_shape(d, t))));
    k = 0;
  }
  return dag_atmax(d, t, t, k);
}

static int build_DOT(Builder *B, Expr *e, const int *a) {
  (void)e;
  return sum_of(B->d, dag_bin(B->d, OP_MUL, a[0], a[1]));
}

static int build_TRANSPOSE(Builder *B, Expr *e, const int *a) {
  (void)e;
  return dag_un(B->d, OP_TRANSPOSE, a[0]);
}

static int build_SOFTMAX(Builder *B, Expr *e, const int *a) {
  (void)e;
  Stable s = stable(B->d, a[0]);
  return dag_bin(B->d, OP_DIV, s.e, per_row(B->d, &s, s.S));
}

static int build_LOG_SOFTMAX(Builder *B, Expr *e, const int *a) {
  (void)e;
  return log_softmax(B->d, a[0]);
}

/* logsumexp(t): of all the elements; logsumexp(t, k): along k, as the
 * last dimension of t with k moved last would be (m + log(sum(exp(t - m)))) */
static int build_LOGSUMEXP(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  int k = dim_arg(B, e), t = a[0];
  Shape ts = node_shape(d, t);
  if (k < 0 && ts.rank > 1)
    t = dag_reshape(d, t, shape1(shape_size(ts)));
  if (k < 0 || ts.rank == 1) {
    Stable s = stable(d, t);
    return dag_bin(d, OP_ADD, s.m, dag_un(d, OP_LOG, s.S));
  }
  Shape kept = ts;
  kept.dim[k] = 1;
  int m = dag_un(d, OP_NOGRAD, dag_atmax(d, t, t, k));
  int S = dag_sumd(d, dag_un(d, OP_EXP, dag_bin(d, OP_SUB, t, dag_reshape(d, m, kept))), k);
  return dag_bin(d, OP_ADD, m, dag_un(d, OP_LOG, S));
}

/* mean((pred - target)^2) */
static int build_MSE(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  (void)e;
  int diff = dag_bin(d, OP_SUB, a[0], a[1]);
  return mean_of(d, dag_bin(d, OP_MUL, diff, diff));
}

/* mean(-y*log(p) - (1-y)*log(1-p)); log(sigmoid(z)) is rewritten stably */
static int build_BCE(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  (void)e;
  int one = dag_const(d, 1), p = a[0], y = a[1];
  int t1 = dag_un(d, OP_NEG, dag_bin(d, OP_MUL, y, dag_un(d, OP_LOG, p)));
  int t2 = dag_bin(d, OP_MUL, dag_bin(d, OP_SUB, one, y), dag_un(d, OP_LOG, dag_bin(d, OP_SUB, one, p)));
  return mean_of(d, dag_bin(d, OP_SUB, t1, t2));
}

/* mean(softplus(z) - z*y) */
static int build_BCE_LOGITS(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  (void)e;
  return mean_of(d, dag_bin(d, OP_SUB, dag_un(d, OP_SOFTPLUS, a[0]), dag_bin(d, OP_MUL, a[0], a[1])));
}

/* -sum(t * log_softmax(z)); of a batch, log_softmax row by row */
static int build_CROSS_ENTROPY(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  (void)e;
  return dag_un(d, OP_NEG, sum_of(d, dag_bin(d, OP_MUL, a[1], log_softmax(d, a[0]))));
}

/* sum(w^2) */
static int build_L2(Builder *B, Expr *e, const int *a) {
  (void)e;
  return sum_of(B->d, dag_bin(B->d, OP_MUL, a[0], a[0]));
}

/* Argument i of call e, an integer literal (check.c has made sure). */
static int int_arg(Builder *B, Expr *e, int i) { return B->prog->toks[e->args[i]->tok].ival; }

static Shape sizes_arg(Builder *B, Expr *e, int first) {
  Shape s = SCALAR;
  for (int i = first; i < e->nargs; i++)
    s.dim[s.rank++] = int_arg(B, e, i);
  return s;
}

static int build_RESHAPE(Builder *B, Expr *e, const int *a) { return dag_reshape(B->d, a[0], sizes_arg(B, e, 1)); }

static int build_FLATTEN(Builder *B, Expr *e, const int *a) {
  (void)e;
  return dag_reshape(B->d, a[0], shape1(shape_size(node_shape(B->d, a[0]))));
}

/* a chain of two-way joins */
static int build_CONCAT(Builder *B, Expr *e, const int *a) {
  int r = a[0];
  for (int i = 1; i < e->nargs; i++)
    r = dag_bin(B->d, OP_CONCAT, r, a[i]);
  return r;
}

static int build_FULL(Builder *B, Expr *e, const int *a) {
  Dag *d = B->d;
  /* checked on the simplified DAG only: unfolded, -1 is not a constant node */
  if (d->simplify && NODE(d, a[0])->op != OP_CONST) {
    Token *t = &B->prog->toks[e->arg_tok[0]];
    diag_at(DIAG_ERROR, t->off, t->len, "full() fills with a constant");
  }
  return dag_fill(d, a[0], sizes_arg(B, e, 1));
}

/* a convolution: the kernels' stride and padding, and its shape from
 * conv.c's geometry */
static int build_conv(Builder *B, Expr *e, const int *a, Op op) {
  int stride = e->nargs > 2 ? int_arg(B, e, 2) : 1, pad = e->nargs > 3 ? int_arg(B, e, 3) : 0;
  Shape x = node_shape(B->d, a[0]), k = node_shape(B->d, a[1]), r = x;
  if (op == OP_CONV)
    r.dim[0] = k.dim[0];
  for (int i = 1; i < x.rank; i++)
    r.dim[i] = conv_out_size(x.dim[i], k.dim[k.rank - x.rank + i], stride, pad);
  return dag_conv(B->d, op, a[0], a[1], stride, pad, r);
}

static int build_CONV1D(Builder *B, Expr *e, const int *a) { return build_conv(B, e, a, OP_CONV); }
#define build_CONV2D build_CONV1D
static int build_DWCONV1D(Builder *B, Expr *e, const int *a) { return build_conv(B, e, a, OP_DWCONV); }
#define build_DWCONV2D build_DWCONV1D

/* a pooling: windows of k, stride k.  maxpool(relu(x)) is built as
 * relu(maxpool(x)): relu is monotone, so a window's first largest is the
 * same element, or the window holds nothing positive and relu's
 * derivative is 0 there either way: the same values and derivatives, but
 * relu and its derivative's select run on the pooled values, a quarter
 * of them after 2x2 pooling (the expert CNN's order, make bench).  A NaN
 * first in a window gives 0 where relu would have dropped it. */
static int build_pool(Builder *B, Expr *e, const int *a, bool max) {
  Dag *d = B->d;
  int k = int_arg(B, e, 1);
  Shape r = node_shape(d, a[0]);
  for (int i = 1; i < r.rank; i++)
    r.dim[i] /= k;
  if (!max)
    return dag_conv(d, OP_AVGPOOL, a[0], -1, k, 0, r);
  const Node *x = &d->nodes[a[0]];
  if (d->simplify && x->op == OP_IFGT && x->a[0] == x->a[2] && dag_is_const(d, x->a[1], 0) && dag_is_const(d, x->a[3], 0)) {
    int zero = x->a[1], m = dag_conv(d, OP_WMAX, x->a[0], x->a[0], k, 0, r);
    return dag_op(d, OP_IFGT, m, zero, m, zero);
  }
  return dag_conv(d, OP_WMAX, a[0], a[0], k, 0, r);
}

static int build_MAXPOOL1D(Builder *B, Expr *e, const int *a) { return build_pool(B, e, a, true); }
#define build_MAXPOOL2D build_MAXPOOL1D
static int build_AVGPOOL1D(Builder *B, Expr *e, const int *a) { return build_pool(B, e, a, false); }
#define build_AVGPOOL2D build_AVGPOOL1D

/* built by build_diff and build_loop, from their unbuilt arguments */
static int build_DIFF(Builder *B, Expr *e, const int *a) {
  (void)B, (void)e, (void)a;
  return 0;
}
#define build_FOLD build_DIFF
#define build_SCAN build_DIFF

typedef int BuildFn(Builder *B, Expr *e, const int *a);
static BuildFn *const build_fn[FN_COUNT] = {
#define BUILTIN(name, ...) [FN_##name] = build_##name,
    DCC_BUILTINS(BUILTIN)
#undef BUILTIN
};

/* A call of a function of the user's: its body built on the arguments'
 * nodes, as if written out at the call (hash-consing makes two calls on
 * the same arguments one computation). */
static int inline_body(Builder *B, Sym *f, int tok, const int *a);

static int build_user_call(Builder *B, Expr *e, const int *a) { return inline_body(B, e->sym, e->tok, a); }

/* f's body on the argument nodes a, for the call at token tok */
static int inline_body(Builder *B, Sym *f, int tok, const int *a) {
  Def *d = f->def->def;
  Token *t = &B->prog->toks[tok];
  Inlining *outer = B->call, here = {a, xcalloc((size_t)d->nlocals + 1, sizeof(int))};
  diag_push_call(t->off, t->len, f->name);
  B->call = &here;
  for (int i = 0; i < d->nlocals; i++) {
    Stmt *l = &d->locals[i];
    here.locals[i] = build_expr(B, l->e);
    /* a Sym of its own, so that the C names the value after it */
    Sym *v = xcalloc(1, sizeof *v);
    Token *lt = &B->prog->toks[l->name_tok];
    int col;
    v->name = l->name;
    v->kind = SYM_VALUE;
    v->shape = node_shape(B->d, here.locals[i]);
    v->tok = l->name_tok;
    v->node = here.locals[i];
    source_line_col(B->prog->src, lt->off, &v->line, &col);
    vec_push(&B->b->locals, v);
  }
  int r = build_expr(B, d->ret);
  B->call = outer;
  diag_pop_call();
  free(here.locals);
  return r;
}

/* Whether node x depends on node a or node b, both made after every
 * node that x does not depend on through them (a loop's CARRY and STEP,
 * made just before its body). */
static bool depends_on(Dag *d, int x, int a, int b) {
  int lo = a < b ? a : b;
  if (x < lo)
    return false;
  bool *dep = xcalloc((size_t)(x - lo) + 1, sizeof *dep);
  for (int id = lo; id <= x; id++) {
    const Node *nd = &d->nodes[id];
    dep[id - lo] = id == a || id == b;
    for (int i = 0; i < nd->nops && !dep[id - lo]; i++)
      dep[id - lo] = nd->a[i] >= lo && dep[nd->a[i] - lo];
  }
  bool r = dep[x - lo];
  free(dep);
  return r;
}

/* [n] and the dimensions of s */
static Shape shape_prepend(int n, Shape s) {
  Shape r = {s.rank + 1, {n, 1, 1, 1}};
  for (int i = 0; i < s.rank; i++)
    r.dim[i + 1] = s.dim[i];
  return r;
}

/* fold(f, init, xs) and scan(f, init, xs): f's body built once, on the
 * state (CARRY) and the step's row of xs (STEP), under a FOLD or SCAN
 * node that runs it n times (loop.c).  A body that reads neither is the
 * same at every step.  Without optimisation (-O0, the naive reference)
 * the loop is written out: f inlined n times. */
static int build_loop(Builder *B, Expr *e) {
  Dag *d = B->d;
  bool scan = e->fn == FN_SCAN;
  Sym *f = e->args[0]->sym;
  int ftok = e->args[0]->tok;
  int init = build_expr(B, e->args[1]), xs = build_expr(B, e->args[2]);
  blame(B, e->tok);
  Shape state = node_shape(d, init), xss = node_shape(d, xs);
  int n = xss.dim[0];
  Shape steps = shape_prepend(n, state), row = shape_prepend(1, state);
  if (!d->simplify) {
    int s = init, all = -1;
    for (int t = 0; t < n; t++) {
      int args[2] = {s, xss.rank == 1 ? dag_index(d, xs, t) : dag_row(d, xs, t)};
      s = inline_body(B, f, ftok, args);
      blame(B, e->tok);
      if (scan) {
        int r = dag_reshape(d, s, row);
        all = all < 0 ? r : dag_bin(d, OP_CONCAT, all, r);
      }
    }
    return scan ? all : s;
  }
  int L = d->nloops++;
  int carry = dag_make_aux(d, OP_CARRY, NULL, 0, L, 0, state);
  int xs_op[1] = {xs};
  int step = dag_make_aux(d, OP_STEP, xs_op, 0, L, 0, shape_drop_first(xss));
  int args[2] = {carry, step};
  int body = inline_body(B, f, ftok, args);
  blame(B, e->tok);
  if (!depends_on(d, body, carry, step)) /* every step the same */
    return scan ? dag_bcast(d, dag_reshape(d, body, row), steps) : body;
  int ops[2] = {init, body};
  return dag_make_aux(d, scan ? OP_SCAN : OP_FOLD, ops, 0, L, n, scan ? steps : state);
}

static int build_call(Builder *B, Expr *e) {
  Dag *d = B->d;
  if (e->fn == FN_DIFF)
    return build_diff(B, e);
  if (e->fn == FN_FOLD || e->fn == FN_SCAN)
    return build_loop(B, e);
  int *a = xcalloc((size_t)e->nargs + 4, sizeof *a);
  for (int i = 0; i < e->nargs; i++)
    a[i] = build_expr(B, e->args[i]);
  blame(B, e->tok);
  int op = e->fn < 0 ? -1 : builtin_op(e->fn), r;
  if (e->fn < 0)
    r = build_user_call(B, e, a);
  else if (op >= 0) /* a builtin that is one op */
    r = dag_op(d, (Op)op, a[0], a[1], a[2], a[3]);
  else
    r = build_fn[e->fn](B, e, a);
  free(a);
  return r;
}

/* A name's node: an argument's or a local's at this call, or a global's. */
static int build_name(Builder *B, Expr *e) {
  int node = B->call && e->arg >= 0 ? B->call->args[e->arg] : B->call && e->local >= 0 ? B->call->locals[e->local]
                                                                                        : e->sym->node;
  if (e->kind == EX_NAME)
    return node;
  return indexed(B->d, node, node_shape(B->d, node), e->idx, e->nidx);
}

/* Left-associative chains are walked with a loop, like check.c does. */
static int build_expr(Builder *B, Expr *e) {
  Dag *d = B->d;
  switch (e->kind) {
  case EX_NUM:
    return dag_const(d, B->prog->toks[e->tok].num);
  case EX_NAME:
  case EX_INDEX:
    return build_name(B, e);
  case EX_CALL:
    return build_call(B, e);
  case EX_POS:
    return build_expr(B, e->a);
  case EX_NEG: {
    int a = build_expr(B, e->a);
    blame(B, e->tok);
    return dag_un(d, OP_NEG, a);
  }
  case EX_BIN: {
    if (e->op == '^') {
      int l = build_expr(B, e->a), r = build_expr(B, e->b);
      blame(B, e->tok);
      return dag_bin(d, OP_POW, l, r);
    }
    VEC(Expr *) spine = {0};
    Expr *x = e;
    while (x->kind == EX_BIN && x->op != '^') {
      vec_push(&spine, x);
      x = x->a;
    }
    int acc = build_expr(B, x);
    for (int i = spine.n - 1; i >= 0; i--) {
      Expr *bin = spine.v[i];
      int r = build_expr(B, bin->b);
      blame(B, bin->tok);
      acc = dag_bin(d, binary_op(bin->op), acc, r);
    }
    free(spine.v);
    return acc;
  }
  }
  return 0;
}

/* Remember which named value each node is, for readable output: the first
 * value (in source order) that is the node names it.  Leaves and constants
 * keep their own spelling.  After unroll(), each scalar of a value (elem k
 * of sym->ids); before, or with loops, the value's node whole (elem -1). */
void built_name_nodes(Built *b) {
  Dag *d = b->dag;
  free(b->node_sym);
  free(b->node_elem);
  b->names_cap = d->n;
  b->node_sym = xcalloc((size_t)d->n, sizeof *b->node_sym);
  b->node_elem = xcalloc((size_t)d->n, sizeof *b->node_elem);
  for (int i = 0; i < built_syms(b); i++) {
    Sym *s = built_sym(b, i);
    if ((s->kind != SYM_VALUE && s->kind != SYM_OUTPUT) || s->node < 0)
      continue;
    int n = s->ids ? shape_size(s->shape) : 1;
    for (int k = 0; k < n; k++) {
      int id = s->ids ? s->ids[k] : s->node;
      Op op = (Op)d->nodes[id].op;
      if (op == OP_CONST || op == OP_INPUT || op == OP_PARAM || op == OP_FILL || b->node_sym[id])
        continue;
      b->node_sym[id] = s;
      b->node_elem[id] = s->ids && s->shape.rank ? k : -1;
    }
  }
}

int built_syms(const Built *b) { return b->m->syms.n + b->locals.n; }

Sym *built_sym(const Built *b, int i) { return i < b->m->syms.n ? b->m->syms.v[i] : b->locals.v[i - b->m->syms.n]; }

int value_count(const Built *b, const Sym *s) { return b->loops ? 1 : shape_size(s->shape); }

int *leaf_nodes(Built *b, const Sym *s) {
  return (s->kind == SYM_INPUT ? b->input_leaf : b->param_leaf) + s->offset;
}

int *grad_nodes(Built *b, const Sym *s) {
  return (s->kind == SYM_INPUT ? b->input_grad : b->param_grad) + s->offset;
}

/* Every table of one kind of Sym (inputs, params, outputs), through map. */
static void remap_table(Built *b, SymList *syms, int *table, const int *map) {
  for (int i = 0; i < syms->n; i++) {
    int *t = table + syms->v[i]->offset;
    for (int k = 0; k < value_count(b, syms->v[i]); k++)
      if (t[k] >= 0)
        t[k] = map[t[k]];
  }
}

void built_remap(Built *b, const int *map) {
  Model *m = b->m;
  if (b->loss >= 0)
    b->loss = map[b->loss];
  remap_table(b, &m->outputs, b->out_ids, map);
  remap_table(b, &m->params, b->param_grad, map);
  remap_table(b, &m->inputs, b->input_grad, map);
  remap_table(b, &m->params, b->param_leaf, map);
  remap_table(b, &m->inputs, b->input_leaf, map);
  for (int i = 0; i < built_syms(b); i++) {
    Sym *s = built_sym(b, i);
    if (s->node >= 0)
      s->node = map[s->node];
    for (int k = 0; s->ids && k < shape_size(s->shape); k++)
      s->ids[k] = map[s->ids[k]];
  }
  built_name_nodes(b);
}

/* Whether check() left statement st whole, so that building it is safe.
 * After errors elsewhere, build() still runs on the statements that are
 * whole, to report the errors only simplification finds. */
static bool buildable(Model *m, Stmt *st, const char *name, int tok) {
  if (st->broken || st->kind == ST_DEF)
    return false;
  if (st->kind == ST_LOSS)
    return st == m->loss;
  Sym *s = model_lookup(m, name);
  return s && s->tok == tok && !s->broken;
}

Built *build(Model *m, Dag *d) {
  Built *b = xcalloc(1, sizeof *b);
  b->m = m;
  b->dag = d;
  b->loss = -1;
  b->param_leaf = xmalloc((size_t)(m->n_params + 1) * sizeof(int));
  b->input_leaf = xmalloc((size_t)(m->n_in + 1) * sizeof(int));
  b->out_ids = xmalloc((size_t)(m->n_out + 1) * sizeof(int));
  b->param_grad = xmalloc((size_t)(m->n_params + 1) * sizeof(int));
  b->input_grad = xmalloc((size_t)(m->n_in + 1) * sizeof(int));
  for (int j = 0; j < m->n_params; j++)
    b->param_grad[j] = -1;
  for (int j = 0; j < m->n_in; j++)
    b->input_grad[j] = -1;
  for (int i = 0; i < m->syms.n; i++) {
    m->syms.v[i]->node = -1;
    m->syms.v[i]->ids = NULL;
  }
  Builder B = {b, d, m, m->prog, NULL};
  for (int i = 0; i < m->prog->stmts.n; i++) {
    Stmt *st = &m->prog->stmts.v[i];
    if (st->kind != ST_INPUT && st->kind != ST_PARAM && !buildable(m, st, st->name, st->name_tok))
      continue;
    switch (st->kind) {
    case ST_INPUT:
    case ST_PARAM:
      for (int j = 0; j < st->ndecls; j++) {
        Sym *s = model_lookup(m, st->decls[j].name);
        if (!s || s->tok != st->decls[j].tok || s->broken)
          continue;
        Op op = s->kind == SYM_INPUT ? OP_INPUT : OP_PARAM;
        s->node = dag_tensor_leaf(d, op, s->offset, s->shape);
        (s->kind == SYM_INPUT ? b->input_leaf : b->param_leaf)[s->offset] = s->node;
      }
      break;
    case ST_ASSIGN:
    case ST_OUTPUT: {
      Sym *s = model_lookup(m, st->name);
      s->node = build_expr(&B, st->e);
      if (st->kind == ST_OUTPUT)
        b->out_ids[s->offset] = s->node;
      break;
    }
    case ST_LOSS:
      if (st == m->loss)
        b->loss = build_expr(&B, st->e);
      break;
    case ST_DEF: /* built at each call */
      break;
    }
  }
  d->loc = -1;
  built_name_nodes(b);
  return b;
}
