/* build.c — the checked AST to DAG values.
 *
 * Requires: a Model that check() passed without errors.  Guarantees: every
 * Sym has the DAG node of each of its scalars (sym->ids), the loss and the
 * outputs are nodes; the builtins are expanded into DAG ops here, and only
 * here (losses into their definitions, softmax and friends into stable
 * forms).  Tensors are unrolled into scalars at this point: a Value is a
 * shape and one node per element.  This is the one place that decides it;
 * a later loop-emitting back end replaces these helpers, not the parser. */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  Built *b;
  Dag *d;
  Model *m;
  Program *prog;
} Builder;

static Value value_new(Shape s) {
  Value v = {s, xmalloc((size_t)shape_size(s) * sizeof(int))};
  return v;
}

static Value scalar(int id) {
  Value v = value_new((Shape){0, {1, 1}});
  v.ids[0] = id;
  return v;
}

static void blame(Builder *B, int tok) { B->d->loc = B->prog->toks[tok].off; }

/* ---- elementwise ----------------------------------------------------- */

static const Op unary_ops[FN_COUNT] = {
    [FN_EXP] = OP_EXP,   [FN_LOG] = OP_LOG,   [FN_LOG1P] = OP_LOG1P, [FN_EXPM1] = OP_EXPM1,
    [FN_SQRT] = OP_SQRT, [FN_ABS] = OP_ABS,   [FN_TANH] = OP_TANH,   [FN_SIGMOID] = OP_SIGMOID,
    [FN_SOFTPLUS] = OP_SOFTPLUS, [FN_SIN] = OP_SIN, [FN_COS] = OP_COS, [FN_ERF] = OP_ERF,
};

/* One builtin of one argument on one scalar. */
static int apply1(Dag *d, int fn, int x) {
  switch (fn) {
  case FN_RELU: /* relu(x) = x > 0 ? x : 0, so that relu'(0) = 0 */
    return dag_op(d, OP_IFGT, x, 0, x, 0);
  case FN_GELU: /* x * (1 + erf(x / sqrt(2))) / 2, the exact form */
    return dag_bin(d, OP_MUL, dag_const(d, 0.5),
                   dag_bin(d, OP_MUL, x,
                           dag_bin(d, OP_ADD, dag_const(d, 1),
                                   dag_un(d, OP_ERF, dag_bin(d, OP_MUL, dag_const(d, 0.70710678118654752440), x)))));
  default:
    return dag_un(d, unary_ops[fn], x);
  }
}

/* A binary operation on two scalars: '+', '-', '*', '/', '^', or a builtin
 * of two arguments (pow, max, min, leaky_relu with y its slope). */
static int apply2(Dag *d, int what, int x, int y) {
  switch (what) {
  case '+': return dag_bin(d, OP_ADD, x, y);
  case '-': return dag_bin(d, OP_SUB, x, y);
  case '*': return dag_bin(d, OP_MUL, x, y);
  case '/': return dag_bin(d, OP_DIV, x, y);
  case '^':
  case 256 + FN_POW: return dag_bin(d, OP_POW, x, y);
  case 256 + FN_MAX: return dag_op(d, OP_IFGE, x, y, x, y); /* max'(a) when a >= b */
  case 256 + FN_MIN: return dag_op(d, OP_IFGE, y, x, x, y); /* min'(a) when a <= b */
  case 256 + FN_LEAKY_RELU: return dag_op(d, OP_IFGT, x, 0, x, dag_bin(d, OP_MUL, y, x));
  default: return 0;
  }
}

static Value map1(Builder *B, int fn, Value a) {
  Value r = value_new(a.shape);
  for (int i = 0; i < shape_size(a.shape); i++)
    r.ids[i] = apply1(B->d, fn, a.ids[i]);
  return r;
}

/* Elementwise with a scalar broadcast against a tensor. */
static Value map2(Builder *B, int what, Value a, Value b) {
  Shape s = a.shape.rank ? a.shape : b.shape;
  Value r = value_new(s);
  for (int i = 0; i < shape_size(s); i++)
    r.ids[i] = apply2(B->d, what, a.ids[a.shape.rank ? i : 0], b.ids[b.shape.rank ? i : 0]);
  return r;
}

/* ---- reductions and tensor operations -------------------------------- */

static int sum_ids(Dag *d, const int *ids, int n, int stride) {
  int s = ids[0];
  for (int i = 1; i < n; i++)
    s = dag_bin(d, OP_ADD, s, ids[i * stride]);
  return s;
}

static int mean_ids(Dag *d, const int *ids, int n) {
  return dag_bin(d, OP_DIV, sum_ids(d, ids, n, 1), dag_const(d, n));
}

static int dot_ids(Dag *d, const int *a, int astride, const int *b, int bstride, int n) {
  int s = dag_bin(d, OP_MUL, a[0], b[0]);
  for (int i = 1; i < n; i++)
    s = dag_bin(d, OP_ADD, s, dag_bin(d, OP_MUL, a[i * astride], b[i * bstride]));
  return s;
}

static Value matmul(Builder *B, Value a, Value b) {
  int m = a.shape.dim[0], k = a.shape.dim[1];
  int n = b.shape.rank == 1 ? 1 : b.shape.dim[1];
  Value r = value_new(b.shape.rank == 1 ? (Shape){1, {m, 1}} : (Shape){2, {m, n}});
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      /* past the node limit (reported once), stop: m n k can be huge */
      r.ids[i * n + j] = B->d->overflow ? 0 : dot_ids(B->d, a.ids + i * k, 1, b.ids + j, n, k);
  return r;
}

/* The stable pieces of softmax, log_softmax and logsumexp: m = max(v),
 * shifted[i] = v[i] - m, e[i] = exp(shifted[i]), S = sum(e).  m carries no
 * derivative (nograd): every function built from these is invariant under
 * the shift, so its exact derivative ignores m. */
typedef struct {
  int m, S;
  int *shifted, *e;
} Stable;

static Stable stable(Dag *d, Value v) {
  int n = shape_size(v.shape);
  Stable s = {0, 0, xmalloc((size_t)n * sizeof(int)), xmalloc((size_t)n * sizeof(int))};
  int m = v.ids[0];
  for (int i = 1; i < n; i++)
    m = dag_op(d, OP_IFGE, m, v.ids[i], m, v.ids[i]);
  s.m = dag_un(d, OP_NOGRAD, m);
  for (int i = 0; i < n; i++) {
    s.shifted[i] = dag_bin(d, OP_SUB, v.ids[i], s.m);
    s.e[i] = dag_un(d, OP_EXP, s.shifted[i]);
  }
  s.S = sum_ids(d, s.e, n, 1);
  return s;
}

static Value log_softmax(Dag *d, Value v) {
  Stable s = stable(d, v);
  int logS = dag_un(d, OP_LOG, s.S);
  Value r = value_new(v.shape);
  for (int i = 0; i < shape_size(v.shape); i++)
    r.ids[i] = dag_bin(d, OP_SUB, s.shifted[i], logS);
  return r;
}

/* ---- expressions ----------------------------------------------------- */

static Value build_expr(Builder *B, Expr *e);

/* The leaf node of diff()'s variable argument v, element k. */
static int diff_var_leaf(Expr *v, int k) {
  Sym *s = v->sym;
  int base = 0;
  if (v->kind == EX_INDEX)
    base = v->nidx == 2 ? v->idx[0] * s->shape.dim[1] + v->idx[1]
                        : v->idx[0] * (s->shape.rank == 2 ? s->shape.dim[1] : 1);
  return s->ids[base + k];
}

/* diff(e, v1, ..., vn): reverse mode once per variable, each on the
 * previous derivative (diff.c). */
static Value build_diff(Builder *B, Expr *e) {
  Dag *d = B->d;
  int node = build_expr(B, e->args[0]).ids[0];
  for (int i = 1; i < e->nargs; i++) {
    Expr *v = e->args[i];
    int n = shape_size(v->shape);
    int *adj = diff_reverse(d, node);
    if (i == e->nargs - 1) {
      Value r = value_new(v->shape);
      for (int k = 0; k < n; k++) {
        int leaf = diff_var_leaf(v, k);
        r.ids[k] = adj[leaf] >= 0 ? adj[leaf] : dag_const(d, 0);
      }
      free(adj);
      return r;
    }
    int leaf = diff_var_leaf(v, 0);
    node = adj[leaf] >= 0 ? adj[leaf] : dag_const(d, 0);
    free(adj);
  }
  return scalar(node);
}

static Value build_call(Builder *B, Expr *e) {
  Dag *d = B->d;
  if (e->fn == FN_DIFF)
    return build_diff(B, e);
  Value a[2];
  for (int i = 0; i < e->nargs && i < 2; i++)
    a[i] = build_expr(B, e->args[i]);
  blame(B, e->tok);
  int n = shape_size(a[0].shape);
  switch ((Builtin)e->fn) {
  case FN_LEAKY_RELU:
    /* checked on the simplified DAG only: unfolded, -0.1 is not a constant node */
    if (d->simplify && NODE(d, a[1].ids[0])->op != OP_CONST) {
      Token *t = &B->prog->toks[e->arg_tok[1]];
      diag_at(DIAG_ERROR, t->off, t->len, "the slope of leaky_relu must be a constant");
    }
    /* fallthrough */
  case FN_POW:
  case FN_MAX:
  case FN_MIN:
    return map2(B, 256 + e->fn, a[0], a[1]);
  case FN_SUM:
    return scalar(sum_ids(d, a[0].ids, n, 1));
  case FN_MEAN:
    return scalar(mean_ids(d, a[0].ids, n));
  case FN_DOT:
    return scalar(dot_ids(d, a[0].ids, 1, a[1].ids, 1, n));
  case FN_TRANSPOSE: {
    int r = a[0].shape.dim[0], c = a[0].shape.dim[1];
    Value t = value_new((Shape){2, {c, r}});
    for (int i = 0; i < r; i++)
      for (int j = 0; j < c; j++)
        t.ids[j * r + i] = a[0].ids[i * c + j];
    return t;
  }
  case FN_SOFTMAX: {
    Stable s = stable(d, a[0]);
    Value r = value_new(a[0].shape);
    for (int i = 0; i < n; i++)
      r.ids[i] = dag_bin(d, OP_DIV, s.e[i], s.S);
    return r;
  }
  case FN_LOG_SOFTMAX:
    return log_softmax(d, a[0]);
  case FN_LOGSUMEXP: {
    Stable s = stable(d, a[0]);
    return scalar(dag_bin(d, OP_ADD, s.m, dag_un(d, OP_LOG, s.S)));
  }
  case FN_MSE: { /* mean((pred - target)^2) */
    Value diff = map2(B, '-', a[0], a[1]);
    Value sq = map2(B, '*', diff, diff);
    return scalar(mean_ids(d, sq.ids, n));
  }
  case FN_BCE: { /* mean(-y*log(p) - (1-y)*log(1-p)); log(sigmoid(z)) is rewritten stably */
    int *terms = xmalloc((size_t)n * sizeof(int));
    int one = dag_const(d, 1);
    for (int i = 0; i < n; i++) {
      int p = a[0].ids[i], y = a[1].ids[i];
      int t1 = dag_un(d, OP_NEG, dag_bin(d, OP_MUL, y, dag_un(d, OP_LOG, p)));
      int t2 = dag_bin(d, OP_MUL, dag_bin(d, OP_SUB, one, y), dag_un(d, OP_LOG, dag_bin(d, OP_SUB, one, p)));
      terms[i] = dag_bin(d, OP_SUB, t1, t2);
    }
    return scalar(mean_ids(d, terms, n));
  }
  case FN_BCE_LOGITS: { /* mean(softplus(z) - z*y) */
    int *terms = xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) {
      int z = a[0].ids[i], y = a[1].ids[i];
      terms[i] = dag_bin(d, OP_SUB, dag_un(d, OP_SOFTPLUS, z), dag_bin(d, OP_MUL, z, y));
    }
    return scalar(mean_ids(d, terms, n));
  }
  case FN_CROSS_ENTROPY: { /* -sum(t * log_softmax(z)); a matrix row by row, a scalar as [1] */
    int rows = a[0].shape.rank == 2 ? a[0].shape.dim[0] : 1, len = n / rows;
    int total = -1;
    for (int r = 0; r < rows; r++) {
      Value row = {{1, {len, 1}}, a[0].ids + r * len};
      Value ls = log_softmax(d, row);
      int term = dot_ids(d, a[1].ids + r * len, 1, ls.ids, 1, len);
      total = total < 0 ? term : dag_bin(d, OP_ADD, total, term);
    }
    return scalar(dag_un(d, OP_NEG, total));
  }
  case FN_L2: { /* sum(w^2) */
    Value sq = map2(B, '*', a[0], a[0]);
    return scalar(sum_ids(d, sq.ids, n, 1));
  }
  case FN_DIFF:
  case FN_COUNT:
    break;
  default:
    return map1(B, e->fn, a[0]);
  }
  return scalar(0);
}

static Value build_name(Expr *e) {
  Sym *s = e->sym;
  if (e->kind == EX_NAME || e->nidx == 0) {
    Value v = {s->shape, s->ids};
    return v;
  }
  if (e->nidx == s->shape.rank)
    return scalar(s->ids[e->nidx == 2 ? e->idx[0] * s->shape.dim[1] + e->idx[1] : e->idx[0]]);
  /* a row of a matrix */
  Value v = {{1, {s->shape.dim[1], 1}}, s->ids + e->idx[0] * s->shape.dim[1]};
  return v;
}

/* Left-associative chains are walked with a loop, like check.c does. */
static Value build_expr(Builder *B, Expr *e) {
  Dag *d = B->d;
  switch (e->kind) {
  case EX_NUM:
    return scalar(dag_const(d, B->prog->toks[e->tok].num));
  case EX_NAME:
  case EX_INDEX:
    return build_name(e);
  case EX_CALL:
    return build_call(B, e);
  case EX_POS:
    return build_expr(B, e->a);
  case EX_NEG: {
    Value a = build_expr(B, e->a);
    Value r = value_new(a.shape);
    blame(B, e->tok);
    for (int i = 0; i < shape_size(a.shape); i++)
      r.ids[i] = dag_un(d, OP_NEG, a.ids[i]);
    return r;
  }
  case EX_BIN: {
    if (e->op == '^') {
      Value l = build_expr(B, e->a), r = build_expr(B, e->b);
      blame(B, e->tok);
      return map2(B, '^', l, r);
    }
    VEC(Expr *) spine = {0};
    Expr *x = e;
    while (x->kind == EX_BIN && x->op != '^') {
      vec_push(&spine, x);
      x = x->a;
    }
    Value acc = build_expr(B, x);
    for (int i = spine.n - 1; i >= 0; i--) {
      Expr *bin = spine.v[i];
      Value r = build_expr(B, bin->b);
      blame(B, bin->tok);
      acc = bin->op == '@' ? matmul(B, acc, r) : map2(B, bin->op, acc, r);
    }
    free(spine.v);
    return acc;
  }
  }
  return scalar(0);
}

/* Remember which named value each node is, for readable output: the first
 * value (in source order) that is the node names it.  Leaves and constants
 * keep their own spelling. */
void built_name_nodes(Built *b) {
  Dag *d = b->dag;
  free(b->node_sym);
  free(b->node_elem);
  b->names_cap = d->n;
  b->node_sym = xcalloc((size_t)d->n, sizeof *b->node_sym);
  b->node_elem = xcalloc((size_t)d->n, sizeof *b->node_elem);
  Model *m = b->m;
  for (int i = 0; i < m->syms.n; i++) {
    Sym *s = m->syms.v[i];
    if ((s->kind != SYM_VALUE && s->kind != SYM_OUTPUT) || !s->ids)
      continue;
    for (int k = 0; k < shape_size(s->shape); k++) {
      int id = s->ids[k];
      Op op = (Op)d->nodes[id].op;
      if (op == OP_CONST || op == OP_INPUT || op == OP_PARAM || b->node_sym[id])
        continue;
      b->node_sym[id] = s;
      b->node_elem[id] = k;
    }
  }
}

/* Whether check() left statement st whole, so that building it is safe.
 * After errors elsewhere, build() still runs on the statements that are
 * whole, to report the errors only simplification finds. */
static bool buildable(Model *m, Stmt *st, const char *name, int tok) {
  if (st->broken)
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
  Builder B = {b, d, m, m->prog};
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
        int n = shape_size(s->shape);
        s->ids = xmalloc((size_t)n * sizeof(int));
        for (int k = 0; k < n; k++) {
          s->ids[k] = dag_leaf(d, s->kind == SYM_INPUT ? OP_INPUT : OP_PARAM, s->offset + k);
          if (s->kind == SYM_INPUT)
            b->input_leaf[s->offset + k] = s->ids[k];
          else
            b->param_leaf[s->offset + k] = s->ids[k];
        }
      }
      break;
    case ST_ASSIGN:
    case ST_OUTPUT: {
      Sym *s = model_lookup(m, st->name);
      Value v = build_expr(&B, st->e);
      s->ids = v.ids;
      if (st->kind == ST_OUTPUT)
        for (int k = 0; k < shape_size(v.shape); k++)
          b->out_ids[s->offset + k] = v.ids[k];
      break;
    }
    case ST_LOSS:
      if (st == m->loss)
        b->loss = build_expr(&B, st->e).ids[0];
      break;
    }
  }
  d->loc = -1;
  built_name_nodes(b);
  return b;
}
