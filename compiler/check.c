/* check.c — names resolved, shapes known, errors and warnings reported.
 *
 * Requires: a parsed Program (statements may be broken).  Guarantees: every
 * Expr of an unbroken statement has its shape, every name its Sym, every
 * call its builtin; inputs, params and outputs have their offsets in in[],
 * p[] and out[].  An expression with an error gets shape rank -1, which
 * silences further errors about it (no cascades), so that independent
 * errors are all reported. */
#include "dcc.h"

#include <stdlib.h>
#include <string.h>

/* ---- shapes ---------------------------------------------------------- */

int shape_size(Shape s) { return s.rank == 0 ? 1 : s.rank == 1 ? s.dim[0] : s.dim[0] * s.dim[1]; }

bool shape_eq(Shape a, Shape b) {
  if (a.rank != b.rank)
    return false;
  for (int i = 0; i < a.rank; i++)
    if (a.dim[i] != b.dim[i])
      return false;
  return true;
}

const char *shape_str(Shape s) {
  static char buf[4][48];
  static int k;
  char *b = buf[k++ & 3];
  if (s.rank == 0)
    snprintf(b, 48, "scalar");
  else if (s.rank == 1)
    snprintf(b, 48, "[%d]", s.dim[0]);
  else
    snprintf(b, 48, "[%d][%d]", s.dim[0], s.dim[1]);
  return b;
}


static const Shape BAD = {-1, {1, 1}};

/* ---- builtins -------------------------------------------------------- */

/* Parallel to the Builtin enum. */
const char *const builtin_names[FN_COUNT] = {
    [FN_EXP] = "exp",           [FN_LOG] = "log",
    [FN_LOG1P] = "log1p",       [FN_EXPM1] = "expm1",
    [FN_SQRT] = "sqrt",         [FN_ABS] = "abs",
    [FN_TANH] = "tanh",         [FN_SIGMOID] = "sigmoid",
    [FN_RELU] = "relu",         [FN_SOFTPLUS] = "softplus",
    [FN_SIN] = "sin",           [FN_COS] = "cos",
    [FN_ERF] = "erf",           [FN_GELU] = "gelu",
    [FN_LEAKY_RELU] = "leaky_relu", [FN_POW] = "pow",
    [FN_MAX] = "max",           [FN_MIN] = "min",
    [FN_SUM] = "sum",           [FN_MEAN] = "mean",
    [FN_DOT] = "dot",           [FN_TRANSPOSE] = "transpose",
    [FN_SOFTMAX] = "softmax",   [FN_LOG_SOFTMAX] = "log_softmax",
    [FN_LOGSUMEXP] = "logsumexp", [FN_MSE] = "mse",
    [FN_BCE] = "bce",           [FN_BCE_LOGITS] = "bce_logits",
    [FN_CROSS_ENTROPY] = "cross_entropy", [FN_L2] = "l2",
    [FN_DIFF] = "diff",
};

int builtin_lookup(const char *name) {
  for (int i = 0; i < FN_COUNT; i++)
    if (!strcmp(builtin_names[i], name))
      return i;
  return -1;
}

/* How many arguments each builtin takes (diff: at least 2). */
static int builtin_arity(int fn) {
  switch (fn) {
  case FN_LEAKY_RELU: case FN_POW: case FN_MAX: case FN_MIN: case FN_DOT:
  case FN_MSE: case FN_BCE: case FN_BCE_LOGITS: case FN_CROSS_ENTROPY:
    return 2;
  case FN_DIFF:
    return -2;
  default:
    return 1;
  }
}

/* ---- the checker ----------------------------------------------------- */

typedef struct {
  Model *m;
  Program *prog;
  StrMap first_def;  /* name -> the Stmt index + 1 of its first definition */
  int cur_stmt;
  Stmt *first_loss;
} Checker;

static Token *tk(Checker *c, int t) { return &c->prog->toks[t]; }

static void error_tok(Checker *c, int t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Token *tok = tk(c, t);
  vdiag_at(DIAG_ERROR, tok->off, tok->len, fmt, ap);
  va_end(ap);
}

static void note_tok(Checker *c, int t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Token *tok = tk(c, t);
  vdiag_at(DIAG_NOTE, tok->off, tok->len, fmt, ap);
  va_end(ap);
}

Sym *model_lookup(Model *m, const char *name) { return strmap_get(&m->by_name, name); }

/* The closest name to `name` among candidates, or NULL if none is close. */
static const char *closest(const char *name, const char *const *cands, int n) {
  const char *best = NULL;
  int bestd = (int)strlen(name) / 3 + 1;
  if (bestd > 2)
    bestd = 2;
  bestd++;
  for (int i = 0; i < n; i++) {
    int d = edit_distance(name, cands[i]);
    if (d < bestd) {
      bestd = d;
      best = cands[i];
    }
  }
  return best;
}

static const char *closest_sym(Checker *c, const char *name) {
  VEC(const char *) names = {0};
  for (int i = 0; i < c->m->syms.n; i++)
    vec_push(&names, c->m->syms.v[i]->name);
  const char *r = closest(name, names.v, names.n);
  free(names.v);
  return r;
}

static Shape check_expr(Checker *c, Expr *e);

/* Report a name that is not defined (yet): use before definition, a typo,
 * or a function used as a value. */
static void unknown_name(Checker *c, int t, const char *name) {
  intptr_t def = (intptr_t)strmap_get(&c->first_def, name);
  if (def > c->cur_stmt + 1) {
    error_tok(c, t, "'%s' is used before its definition", name);
    Stmt *s = &c->prog->stmts.v[def - 1];
    int where = s->name_tok >= 0 ? s->name_tok : s->tok;
    for (int i = 0; i < s->ndecls; i++)
      if (!strcmp(s->decls[i].name, name))
        where = s->decls[i].tok;
    note_tok(c, where, "'%s' is defined here", name);
    return;
  }
  if (builtin_lookup(name) >= 0) {
    error_tok(c, t, "'%s' is a builtin function, not a value; call it: %s(...)", name, name);
    return;
  }
  const char *sugg = closest_sym(c, name);
  if (sugg)
    error_tok(c, t, "unknown name '%s'; did you mean '%s'?", name, sugg);
  else
    error_tok(c, t, "unknown name '%s'", name);
}

static Shape check_name(Checker *c, Expr *e) {
  Token *t = tk(c, e->tok);
  Sym *s = model_lookup(c->m, t->name);
  if (!s) {
    unknown_name(c, e->tok, t->name);
    return BAD;
  }
  s->used = true;
  e->sym = s;
  if (s->broken)
    return BAD;
  if (e->kind == EX_NAME)
    return s->shape;
  /* EX_INDEX */
  Shape sh = s->shape;
  if (sh.rank == 0) {
    error_tok(c, e->tok, "'%s' is a scalar and cannot be indexed", s->name);
    return BAD;
  }
  if (e->nidx > sh.rank) {
    error_tok(c, e->idx_tok[sh.rank], "too many indices: '%s' has shape %s", s->name, shape_str(sh));
    return BAD;
  }
  for (int i = 0; i < e->nidx; i++) {
    if (e->idx[i] >= sh.dim[i]) {
      Token *it = tk(c, e->idx_tok[i]);
      error_tok(c, e->idx_tok[i], "index %.*s is out of range for '%s' of shape %s", it->len,
                c->prog->src->text + it->off, s->name, shape_str(sh));
      return BAD;
    }
  }
  if (e->nidx == sh.rank)
    return SCALAR;
  return (Shape){1, {sh.dim[1], 1}};
}

/* Elementwise: a scalar broadcasts against a tensor; two tensors must have
 * one shape.  t is the token to blame. */
static Shape broadcast(Checker *c, int t, const char *what, Shape a, Shape b) {
  if (a.rank < 0 || b.rank < 0)
    return BAD;
  if (a.rank == 0)
    return b;
  if (b.rank == 0 || shape_eq(a, b))
    return a;
  error_tok(c, t, "shape mismatch: %s of %s and %s", what, shape_str(a), shape_str(b));
  return BAD;
}

static Shape check_binary(Checker *c, Expr *e, Shape a, Shape b) {
  if (a.rank < 0 || b.rank < 0)
    return BAD;
  if (e->op != '@') {
    char what[32];
    snprintf(what, sizeof what, "'%c'", e->op);
    return broadcast(c, e->tok, what, a, b);
  }
  if (a.rank != 2 || b.rank == 0) {
    error_tok(c, e->tok, "'@' needs a matrix on the left and a vector or matrix on the right, not %s @ %s",
              shape_str(a), shape_str(b));
    return BAD;
  }
  if (a.dim[1] != b.dim[0]) {
    error_tok(c, e->tok, "shape mismatch: %s @ %s (inner sizes %d and %d differ)", shape_str(a), shape_str(b),
              a.dim[1], b.dim[0]);
    return BAD;
  }
  if (b.rank == 2 && (long long)a.dim[0] * b.dim[1] > DCC_MAX_SCALARS) {
    error_tok(c, e->tok, "the product %s @ %s is too large (the limit is %d scalars)", shape_str(a), shape_str(b),
              DCC_MAX_SCALARS);
    return BAD;
  }
  return b.rank == 1 ? (Shape){1, {a.dim[0], 1}} : (Shape){2, {a.dim[0], b.dim[1]}};
}

/* diff(e, v1, ..., vn): e scalar; each v an input or param (or an element
 * or row of one); only the last may be a tensor. */
static Shape check_diff(Checker *c, Expr *e, Shape *args) {
  bool bad = false;
  if (args[0].rank > 0) {
    error_tok(c, e->arg_tok[0], "diff() differentiates a scalar expression, but this one has shape %s",
              shape_str(args[0]));
    bad = true;
  }
  for (int i = 1; i < e->nargs; i++) {
    Expr *v = e->args[i];
    if (v->kind != EX_NAME && v->kind != EX_INDEX) {
      error_tok(c, e->arg_tok[i], "diff() is with respect to an input or a param, not an expression");
      bad = true;
      continue;
    }
    if (!v->sym || args[i].rank < 0) {
      bad = true;
      continue;
    }
    if (v->sym->kind != SYM_INPUT && v->sym->kind != SYM_PARAM) {
      error_tok(c, v->tok, "diff() is with respect to an input or a param, and '%s' is a named value",
                v->sym->name);
      bad = true;
    } else if (args[i].rank > 0 && i != e->nargs - 1) {
      error_tok(c, v->tok, "a tensor in diff() must be the last variable: '%s' has shape %s", v->sym->name,
                shape_str(args[i]));
      bad = true;
    }
  }
  return bad || args[0].rank < 0 ? BAD : args[e->nargs - 1];
}

static Shape check_call(Checker *c, Expr *e) {
  Token *t = tk(c, e->tok);
  int fn = builtin_lookup(t->name);
  Shape args[64];
  Shape *a = e->nargs <= 64 ? args : xcalloc((size_t)e->nargs, sizeof *a);
  bool bad = false;
  if (fn < 0) {
    /* report the function before its arguments: errors in source order */
    if (model_lookup(c->m, t->name))
      error_tok(c, e->tok, "'%s' is not a function", t->name);
    else {
      const char *sugg = closest(t->name, builtin_names, FN_COUNT);
      if (sugg)
        error_tok(c, e->tok, "unknown function '%s'; did you mean '%s'?", t->name, sugg);
      else
        error_tok(c, e->tok, "unknown function '%s'", t->name);
    }
    for (int i = 0; i < e->nargs; i++)
      check_expr(c, e->args[i]);
    return BAD;
  }
  for (int i = 0; i < e->nargs; i++)
    if ((a[i] = check_expr(c, e->args[i])).rank < 0)
      bad = true;
  e->fn = fn;
  int arity = builtin_arity(fn);
  if ((arity > 0 && e->nargs != arity) || (arity < 0 && e->nargs < -arity)) {
    int spot = e->nargs ? e->arg_tok[0] : e->idx_tok[0];
    error_tok(c, spot, "'%s' takes %s%d argument%s, but %d %s given", t->name, arity < 0 ? "at least " : "",
              arity < 0 ? -arity : arity, (arity == 1 || arity == -1) ? "" : "s", e->nargs,
              e->nargs == 1 ? "was" : "were");
    return BAD;
  }
  if (fn == FN_DIFF)
    return check_diff(c, e, a);
  if (bad)
    return BAD;
  const char *name = builtin_names[fn];
  switch ((Builtin)fn) {
  case FN_LEAKY_RELU:
    if (a[1].rank != 0) {
      error_tok(c, e->arg_tok[1], "the slope of leaky_relu must be a scalar constant");
      return BAD;
    }
    return a[0];
  case FN_POW: case FN_MAX: case FN_MIN:
    return broadcast(c, e->tok, name, a[0], a[1]);
  case FN_SUM: case FN_MEAN: case FN_L2:
    return SCALAR;
  case FN_DOT:
    if (a[0].rank != 1 || !shape_eq(a[0], a[1])) {
      error_tok(c, e->tok, "dot() needs two vectors of one length, not %s and %s", shape_str(a[0]), shape_str(a[1]));
      return BAD;
    }
    return SCALAR;
  case FN_TRANSPOSE:
    if (a[0].rank != 2) {
      error_tok(c, e->arg_tok[0], "transpose() needs a matrix, not %s", shape_str(a[0]));
      return BAD;
    }
    return (Shape){2, {a[0].dim[1], a[0].dim[0]}};
  case FN_SOFTMAX: case FN_LOG_SOFTMAX: case FN_LOGSUMEXP:
    if (a[0].rank != 1) {
      error_tok(c, e->arg_tok[0], "%s() needs a vector, not %s", name, shape_str(a[0]));
      return BAD;
    }
    return fn == FN_LOGSUMEXP ? SCALAR : a[0];
  case FN_MSE: case FN_BCE: case FN_BCE_LOGITS:
    if (!shape_eq(a[0], a[1])) {
      error_tok(c, e->tok, "shape mismatch: %s() of %s and %s", name, shape_str(a[0]), shape_str(a[1]));
      return BAD;
    }
    return SCALAR;
  case FN_CROSS_ENTROPY: /* a matrix is a batch: one distribution per row */
    if (!shape_eq(a[0], a[1])) {
      error_tok(c, e->tok, "cross_entropy() needs logits and a target of one shape, not %s and %s",
                shape_str(a[0]), shape_str(a[1]));
      return BAD;
    }
    return SCALAR;
  default: /* elementwise functions of one argument */
    return a[0];
  }
}

/* Chains of left-associative operators (a + b + c ...) are walked with a
 * loop, not recursion: a sum of a million terms must not overflow the
 * stack.  Recursion depth is bounded by the parser's nesting limit. */
static Shape check_expr(Checker *c, Expr *e) {
  switch (e->kind) {
  case EX_NUM:
    return e->shape = SCALAR;
  case EX_NAME:
  case EX_INDEX:
    return e->shape = check_name(c, e);
  case EX_CALL:
    return e->shape = check_call(c, e);
  case EX_NEG:
  case EX_POS:
    return e->shape = check_expr(c, e->a);
  case EX_BIN: {
    if (e->op == '^') {
      Shape l = check_expr(c, e->a), r = check_expr(c, e->b);
      return e->shape = check_binary(c, e, l, r);
    }
    VEC(Expr *) spine = {0};
    Expr *x = e;
    while (x->kind == EX_BIN && x->op != '^') {
      vec_push(&spine, x);
      x = x->a;
    }
    Shape acc = check_expr(c, x);
    for (int i = spine.n - 1; i >= 0; i--) {
      Expr *b = spine.v[i];
      Shape r = check_expr(c, b->b);
      acc = b->shape = check_binary(c, b, acc, r);
    }
    free(spine.v);
    return acc;
  }
  }
  return BAD;
}

/* Enter a new symbol, or report a redefinition. */
static Sym *define(Checker *c, int tok, SymKind kind, Shape shape) {
  Token *t = tk(c, tok);
  if (builtin_lookup(t->name) >= 0) {
    error_tok(c, tok, "'%s' is a builtin function and cannot be %s", t->name,
              kind == SYM_INPUT || kind == SYM_PARAM ? "declared" : "assigned");
    return NULL;
  }
  Sym *old = model_lookup(c->m, t->name);
  if (old) {
    error_tok(c, tok, "redefinition of '%s'", t->name);
    note_tok(c, old->tok, "'%s' was first defined here", t->name);
    return NULL;
  }
  Sym *s = xcalloc(1, sizeof *s);
  s->name = t->name;
  s->kind = kind;
  s->shape = shape;
  s->tok = tok;
  int col;
  source_line_col(c->prog->src, t->off, &s->line, &col);
  strmap_put(&c->m->by_name, s->name, s);
  vec_push(&c->m->syms, s);
  return s;
}

static void check_init(Checker *c, Decl *d) {
  Init *in = &d->init;
  switch (in->kind) {
  case INIT_GLOROT:
    if (d->shape.rank != 2)
      error_tok(c, in->tok, "bare 'glorot' takes its fans from a matrix shape, and '%s' is a %s; write glorot(fan_in, fan_out)",
                d->name, d->shape.rank == 0 ? "scalar" : "vector");
    break;
  case INIT_GLOROT_FANS:
    if (!(in->a > 0 && in->b > 0))
      error_tok(c, in->tok, "glorot(fan_in, fan_out) needs positive fans");
    break;
  case INIT_UNIFORM:
    if (!(in->a <= in->b))
      error_tok(c, in->tok, "uniform(a, b) needs a <= b");
    break;
  case INIT_NORMAL:
    if (!(in->b >= 0))
      error_tok(c, in->tok, "normal(mean, std) needs std >= 0");
    break;
  default:
    break;
  }
}

static int add_offset(Checker *c, int *count, Shape sh, int tok) {
  int off = *count;
  if ((long long)*count + shape_size(sh) > DCC_MAX_SCALARS) {
    error_tok(c, tok, "too many scalars (the limit is %d per vector)", DCC_MAX_SCALARS);
    return off;
  }
  *count += shape_size(sh);
  return off;
}

static void check_stmt(Checker *c, Stmt *s) {
  Model *m = c->m;
  switch (s->kind) {
  case ST_INPUT:
  case ST_PARAM:
    for (int i = 0; i < s->ndecls; i++) {
      Decl *d = &s->decls[i];
      bool too_large = d->shape.rank == 2 && (long long)d->shape.dim[0] * d->shape.dim[1] > DCC_MAX_SCALARS;
      if (too_large)
        error_tok(c, d->tok, "'%s' is too large (the limit is %d scalars)", d->name, DCC_MAX_SCALARS);
      Sym *sym = define(c, d->tok, s->kind == ST_INPUT ? SYM_INPUT : SYM_PARAM, d->shape);
      if (!sym)
        continue;
      if (too_large || s->broken) {
        /* known by name, so later uses raise no "unknown name", but never built */
        sym->broken = true;
        continue;
      }
      if (s->kind == ST_INPUT) {
        sym->offset = add_offset(c, &m->n_in, d->shape, d->tok);
        vec_push(&m->inputs, sym);
      } else {
        check_init(c, d);
        sym->init = d->init;
        sym->offset = add_offset(c, &m->n_params, d->shape, d->tok);
        vec_push(&m->params, sym);
      }
    }
    break;
  case ST_ASSIGN:
  case ST_OUTPUT: {
    Shape sh = s->broken ? BAD : check_expr(c, s->e);
    Sym *sym = s->name_tok >= 0 ? define(c, s->name_tok, s->kind == ST_ASSIGN ? SYM_VALUE : SYM_OUTPUT, sh) : NULL;
    if (!sym)
      break;
    sym->broken = sh.rank < 0;
    if (s->kind == ST_OUTPUT) {
      sym->used = true;
      if (!sym->broken)
        sym->offset = add_offset(c, &m->n_out, sh, s->name_tok);
      vec_push(&m->outputs, sym);
    }
    break;
  }
  case ST_LOSS: {
    Stmt *first = c->first_loss;
    if (first) {
      error_tok(c, s->name_tok, "a second 'loss': a file has at most one");
      note_tok(c, first->name_tok, "the first 'loss' is here");
      if (!s->broken)
        check_expr(c, s->e);
      break;
    }
    c->first_loss = s;
    if (s->broken)
      break;
    Shape sh = check_expr(c, s->e);
    if (sh.rank > 0)
      error_tok(c, s->tok + 2, "the loss must be a scalar, but this has shape %s; reduce it with sum() or mean()",
                shape_str(sh));
    else if (sh.rank == 0)
      m->loss = s;
    break;
  }
  }
}

Model *check(Program *prog) {
  Model *m = xcalloc(1, sizeof *m);
  m->prog = prog;
  Checker c = {m, prog, {0}, 0, NULL};
  /* Where each name is first defined, to tell "used before its definition"
   * from "unknown". */
  for (int i = 0; i < prog->stmts.n; i++) {
    Stmt *s = &prog->stmts.v[i];
    if (s->name && s->kind != ST_LOSS && !strmap_get(&c.first_def, s->name))
      strmap_put(&c.first_def, s->name, (void *)(intptr_t)(i + 1));
    for (int j = 0; j < s->ndecls; j++)
      if (!strmap_get(&c.first_def, s->decls[j].name))
        strmap_put(&c.first_def, s->decls[j].name, (void *)(intptr_t)(i + 1));
  }
  for (int i = 0; i < prog->stmts.n && !diags.stopped; i++) {
    c.cur_stmt = i;
    check_stmt(&c, &prog->stmts.v[i]);
  }
  /* Warnings: what nothing uses (not after errors: a broken statement's
   * uses are unknown). */
  for (int i = 0; i < m->syms.n && !diags.errors; i++) {
    Sym *s = m->syms.v[i];
    if (s->used || s->broken)
      continue;
    const char *what = s->kind == SYM_INPUT ? "input" : s->kind == SYM_PARAM ? "param" : "value";
    Token *t = tk(&c, s->tok);
    diag_at(DIAG_WARNING, t->off, t->len, "unused %s '%s'", what, s->name);
  }
  return m;
}
