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

int shape_size(Shape s) { return (int)shape_count(s); }

long long shape_count(Shape s) {
  long long n = 1;
  for (int i = 0; i < s.rank; i++)
    n *= s.dim[i];
  return n;
}

Shape shape_make(int rank, const int *dims) {
  Shape s = {rank, {1, 1, 1, 1}};
  for (int i = 0; i < rank; i++)
    s.dim[i] = dims[i];
  return s;
}

Shape shape1(int n) { return shape_make(1, &n); }

Shape shape2(int m, int n) {
  int d[2] = {m, n};
  return shape_make(2, d);
}

Shape shape_drop_first(Shape s) { return s.rank ? shape_make(s.rank - 1, s.dim + 1) : s; }

int shape_inner(Shape s) { return shape_size(shape_drop_first(s)); }

bool shape_broadcast(Shape a, Shape b, Shape *out) {
  if (a.rank < b.rank) {
    Shape t = a;
    a = b;
    b = t;
  }
  *out = a;
  for (int i = 1; i <= b.rank; i++) { /* aligned at the last dimension */
    int da = a.dim[a.rank - i], db = b.dim[b.rank - i];
    if (da != db && da != 1 && db != 1)
      return false;
    out->dim[a.rank - i] = da == 1 ? db : da;
  }
  return true;
}

bool shape_eq(Shape a, Shape b) {
  if (a.rank != b.rank)
    return false;
  for (int i = 0; i < a.rank; i++)
    if (a.dim[i] != b.dim[i])
      return false;
  return true;
}

const char *shape_str(Shape s) {
  static char buf[4][96];
  static int k;
  char *b = buf[k++ & 3];
  if (s.rank == 0) {
    snprintf(b, 96, "scalar");
    return b;
  }
  int n = 0;
  for (int i = 0; i < s.rank; i++)
    n += snprintf(b + n, (size_t)(96 - n), "[%d]", s.dim[i]);
  return b;
}

static const Shape BAD = {-1, {1, 1, 1, 1}};

/* ---- builtins -------------------------------------------------------- */

static const struct {
  const char *name;
  int min, max;
} builtins[FN_COUNT] = {
#define BUILTIN(name, spelling, min, max) [FN_##name] = {spelling, min, max},
    DCC_BUILTINS(BUILTIN)
#undef BUILTIN
};

int builtin_op(int fn) { return fn >= FN_COUNT ? fn - FN_COUNT : -1; }

const char *builtin_name(int fn) { return fn < FN_COUNT ? builtins[fn].name : op_info[fn - FN_COUNT].lang; }

int builtin_lookup(const char *name) {
  for (int i = 0; i < FN_COUNT; i++)
    if (!strcmp(builtins[i].name, name))
      return i;
  for (int op = 0; op < OP_COUNT; op++)
    if (*op_info[op].lang && !strcmp(op_info[op].lang, name))
      return FN_COUNT + op;
  return -1;
}

/* Every builtin's name, for "did you mean". */
static int builtin_names(const char **names) {
  int n = 0;
  for (int i = 0; i < FN_COUNT; i++)
    names[n++] = builtins[i].name;
  for (int op = 0; op < OP_COUNT; op++)
    if (*op_info[op].lang)
      names[n++] = op_info[op].lang;
  return n;
}

/* ---- the checker ----------------------------------------------------- */

/* A function's body: its names, being resolved at its def, or its shapes,
 * being checked at a call. */
typedef struct {
  Stmt *def;
  int nlocals;       /* resolving: the locals defined so far */
  int *uses;         /* resolving: the reads of each local */
  Shape *args, *locals; /* checking: their shapes at this call */
} Scope;

typedef struct {
  Model *m;
  Program *prog;
  StrMap first_def;  /* name -> the Stmt index + 1 of its first definition */
  int cur_stmt;
  Stmt *first_loss;
  Scope *scope;      /* in a function's body, or NULL */
  long inlined;      /* calls of functions checked, against DCC_MAX_INLINED */
  int in_step;       /* checking the step function of a fold() or scan() */
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

Sym *model_param_at(const Model *m, int j) {
  /* params take their offsets in declaration order (add_offset): the
   * last one that starts at or before j (a search, not a scan: the
   * emitter asks once per param read, in each of a model's functions) */
  int lo = 0, hi = m->params.n;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (m->params.v[mid]->offset <= j)
      lo = mid + 1;
    else
      hi = mid;
  }
  Sym *s = lo ? m->params.v[lo - 1] : NULL;
  return s && j >= s->offset && j < s->offset + shape_size(s->shape) ? s : NULL;
}

bool model_frozen_scalar(const Model *m, int j) {
  Sym *s = model_param_at(m, j);
  return s && s->frozen;
}

void model_place_params(Model *m) {
  m->n_p = m->n_grad = 0;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (m->weights && s->frozen) {
      s->p_offset = -1;
    } else {
      s->p_offset = m->n_p;
      m->n_p += shape_size(s->shape);
    }
    s->g_offset = s->frozen ? -1 : m->n_grad;
    m->n_grad += s->frozen ? 0 : shape_size(s->shape);
  }
}

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

/* The shape a name has where it is read: an argument's or a local's at
 * this call, else its Sym's (a function: an error). */
static Shape name_shape(Checker *c, Expr *e) {
  Token *t = tk(c, e->tok);
  if (c->scope) { /* resolved at the def */
    if (e->arg >= 0)
      return c->scope->args[e->arg];
    if (e->local >= 0)
      return c->scope->locals[e->local];
  } else {
    e->sym = model_lookup(c->m, t->name);
    if (!e->sym) {
      unknown_name(c, e->tok, t->name);
      return BAD;
    }
    e->sym->used = true;
  }
  Sym *s = e->sym;
  if (!s || s->broken)
    return BAD;
  if (s->kind == SYM_FUNC) {
    error_tok(c, e->tok, "'%s' is a function, not a value; call it: %s(...)", s->name, s->name);
    return BAD;
  }
  return s->shape;
}

static Shape check_name(Checker *c, Expr *e) {
  Shape sh = name_shape(c, e);
  const char *name = tk(c, e->tok)->name;
  if (sh.rank < 0 || e->kind == EX_NAME)
    return sh;
  /* EX_INDEX */
  if (sh.rank == 0) {
    error_tok(c, e->tok, "'%s' is a scalar and cannot be indexed", name);
    return BAD;
  }
  if (e->nidx > sh.rank) {
    error_tok(c, e->idx_tok[sh.rank], "too many indices: '%s' has shape %s", name, shape_str(sh));
    return BAD;
  }
  for (int i = 0; i < e->nidx; i++) {
    if (e->idx[i] >= sh.dim[i]) {
      Token *it = tk(c, e->idx_tok[i]);
      error_tok(c, e->idx_tok[i], "index %.*s is out of range for '%s' of shape %s", it->len,
                c->prog->src->text + it->off, name, shape_str(sh));
      return BAD;
    }
  }
  for (int i = 0; i < e->nidx; i++) /* each index drops the first dimension left */
    sh = shape_drop_first(sh);
  return sh;
}

/* Elementwise: NumPy's broadcasting (shapes aligned at their last
 * dimension, a missing or size-1 dimension stretched; a scalar against
 * anything).  t is the token to blame. */
static Shape broadcast(Checker *c, int t, const char *what, Shape a, Shape b) {
  Shape r;
  if (a.rank < 0 || b.rank < 0)
    return BAD;
  if (!shape_broadcast(a, b, &r)) {
    error_tok(c, t, "shape mismatch: %s of %s and %s", what, shape_str(a), shape_str(b));
    return BAD;
  }
  if (shape_count(r) > DCC_MAX_SCALARS) {
    error_tok(c, t, "%s of %s and %s is too large (the limit is %d scalars)", what, shape_str(a), shape_str(b),
              DCC_MAX_SCALARS);
    return BAD;
  }
  return r;
}

static Shape check_binary(Checker *c, Expr *e, Shape a, Shape b) {
  if (a.rank < 0 || b.rank < 0)
    return BAD;
  if (e->op != '@') {
    char what[32];
    snprintf(what, sizeof what, "'%c'", e->op);
    return broadcast(c, e->tok, what, a, b);
  }
  if (a.rank != 2 || b.rank == 0 || b.rank > 2) {
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
  return b.rank == 1 ? shape1(a.dim[0]) : shape2(a.dim[0], b.dim[1]);
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
    if (v->arg >= 0 || v->local >= 0) { /* in a function's body */
      Token *vt = tk(c, v->tok);
      error_tok(c, v->tok, "diff() is with respect to an input or a param, and '%.*s' is %s of the function",
                vt->len, c->prog->src->text + vt->off, v->arg >= 0 ? "an argument" : "a named value");
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

/* ---- functions ------------------------------------------------------- */

static Shape check_expr(Checker *c, Expr *e);
static Sym *define(Checker *c, int tok, SymKind kind, Shape shape);

/* A call of function f with arguments of shapes a: its body checked with
 * them, as if it were written out at the call (each error in it followed
 * by a note at the call). */
static Shape check_inlined(Checker *c, int tok, Sym *f, Shape *a);

static Shape check_user_call(Checker *c, Expr *e, Sym *f, Shape *a) {
  Def *d = f->def->def;
  if (e->nargs != d->nargs) {
    int spot = e->nargs ? e->arg_tok[0] : e->idx_tok[0];
    error_tok(c, spot, "'%s' takes %d argument%s, but %d %s given", f->name, d->nargs, d->nargs == 1 ? "" : "s",
              e->nargs, e->nargs == 1 ? "was" : "were");
    return BAD;
  }
  return check_inlined(c, e->tok, f, a);
}

/* f's body with arguments of shapes a, for the call at token tok */
static Shape check_inlined(Checker *c, int tok, Sym *f, Shape *a) {
  Def *d = f->def->def;
  if (f->broken)
    return BAD;
  if (++c->inlined > DCC_MAX_INLINED) {
    if (c->inlined == DCC_MAX_INLINED + 1)
      error_tok(c, tok, "too many calls of functions to inline (the limit is %d)", DCC_MAX_INLINED);
    return BAD;
  }
  Token *t = tk(c, tok);
  Scope *outer = c->scope, here = {f->def, d->nlocals, NULL, a, xcalloc((size_t)d->nlocals + 1, sizeof(Shape))};
  diag_push_call(t->off, t->len, f->name);
  c->scope = &here;
  Shape r = BAD;
  bool bad = false;
  for (int i = 0; i < d->nlocals && !bad; i++)
    bad = (here.locals[i] = check_expr(c, d->locals[i].e)).rank < 0;
  if (!bad)
    r = check_expr(c, d->ret);
  c->scope = outer;
  diag_pop_call();
  free(here.locals);
  return r;
}

static void resolve_expr(Checker *c, Expr *e);

/* Name e in the body being resolved: a local defined above it, an
 * argument, or a global name defined above the def. */
static void resolve_name(Checker *c, Expr *e) {
  Scope *sc = c->scope;
  Def *d = sc->def->def;
  const char *name = tk(c, e->tok)->name;
  for (int i = sc->nlocals - 1; i >= 0; i--)
    if (!strcmp(d->locals[i].name, name)) {
      e->local = i;
      sc->uses[i]++;
      return;
    }
  for (int i = 0; i < d->nargs; i++)
    if (!strcmp(tk(c, d->arg_tok[i])->name, name)) {
      e->arg = i;
      return;
    }
  for (int i = sc->nlocals; i < d->nlocals; i++)
    if (!strcmp(d->locals[i].name, name)) {
      error_tok(c, e->tok, "'%s' is used before its definition", name);
      note_tok(c, d->locals[i].name_tok, "'%s' is defined here", name);
      return;
    }
  e->sym = model_lookup(c->m, name);
  if (!e->sym)
    unknown_name(c, e->tok, name);
  else
    e->sym->used = true;
}

/* A call in the body being resolved: a builtin, or a function defined
 * above this one. */
static void resolve_call(Checker *c, Expr *e) {
  const char *name = tk(c, e->tok)->name;
  Stmt *self = c->scope->def;
  e->fn = builtin_lookup(name);
  if (e->fn < 0) {
    e->fn = -1;
    e->sym = model_lookup(c->m, name);
    if (!strcmp(name, self->name)) {
      error_tok(c, e->tok, "'%s' calls itself: a function calls only functions defined above it", name);
      e->sym = NULL;
    } else if (e->sym && e->sym->kind != SYM_FUNC) {
      error_tok(c, e->tok, "'%s' is not a function", name);
      e->sym = NULL;
    } else if (e->sym) {
      e->sym->used = true;
    } else if ((intptr_t)strmap_get(&c->first_def, name) > c->cur_stmt + 1) {
      error_tok(c, e->tok, "'%s' is defined below '%s': a function calls only functions defined above it", name,
                self->name);
    } else {
      const char *names[FN_COUNT + OP_COUNT];
      const char *sugg = closest(name, names, builtin_names(names));
      if (sugg)
        error_tok(c, e->tok, "unknown function '%s'; did you mean '%s'?", name, sugg);
      else
        error_tok(c, e->tok, "unknown function '%s'", name);
    }
  }
  for (int i = 0; i < e->nargs; i++)
    resolve_expr(c, e->args[i]);
}

/* Names resolved, once, at the def; chains of left-associative operators
 * walked with a loop, as check_expr does. */
static void resolve_expr(Checker *c, Expr *e) {
  while (e) {
    switch (e->kind) {
    case EX_NUM:
      return;
    case EX_NAME:
    case EX_INDEX:
      resolve_name(c, e);
      return;
    case EX_CALL:
      resolve_call(c, e);
      return;
    case EX_NEG:
    case EX_POS:
      e = e->a;
      break;
    case EX_BIN:
      resolve_expr(c, e->b);
      e = e->a;
      break;
    }
  }
}

/* def f(a, ...): f is a name of its own; its body's names are resolved
 * here, once (errors about them reported once, without a call), its
 * shapes at each call. */
static void check_def(Checker *c, Stmt *s) {
  if (s->name_tok < 0) /* 'def' without a name: the parser said so */
    return;
  Sym *f = define(c, s->name_tok, SYM_FUNC, SCALAR);
  if (!f)
    return;
  f->def = s;
  f->broken = s->broken;
  if (s->broken)
    return;
  Def *d = s->def;
  int errors = diags.errors;
  for (int i = 0; i < d->nargs; i++) {
    Token *a = tk(c, d->arg_tok[i]);
    if (builtin_lookup(a->name) >= 0)
      error_tok(c, d->arg_tok[i], "'%s' is a builtin function and cannot be an argument", a->name);
    for (int j = 0; j < i; j++)
      if (!strcmp(tk(c, d->arg_tok[j])->name, a->name))
        error_tok(c, d->arg_tok[i], "'%s' is two arguments of '%s'", a->name, s->name);
  }
  Scope sc = {s, 0, xcalloc((size_t)d->nlocals + 1, sizeof(int)), NULL, NULL};
  c->scope = &sc;
  for (int i = 0; i < d->nlocals; i++) {
    Stmt *l = &d->locals[i];
    resolve_expr(c, l->e);
    if (builtin_lookup(l->name) >= 0)
      error_tok(c, l->name_tok, "'%s' is a builtin function and cannot be assigned", l->name);
    for (int j = 0; j < d->nargs; j++)
      if (!strcmp(tk(c, d->arg_tok[j])->name, l->name)) {
        error_tok(c, l->name_tok, "redefinition of '%s'", l->name);
        note_tok(c, d->arg_tok[j], "'%s' is an argument of '%s'", l->name, s->name);
      }
    for (int j = 0; j < i; j++)
      if (!strcmp(d->locals[j].name, l->name)) {
        error_tok(c, l->name_tok, "redefinition of '%s'", l->name);
        note_tok(c, d->locals[j].name_tok, "'%s' was first defined here", l->name);
      }
    sc.nlocals = i + 1;
  }
  resolve_expr(c, d->ret);
  c->scope = NULL;
  f->broken = diags.errors > errors;
  for (int i = 0; i < d->nlocals && !f->broken; i++) /* what the body defines and never reads */
    if (!sc.uses[i]) {
      Token *t = tk(c, d->locals[i].name_tok);
      diag_at(DIAG_WARNING, t->off, t->len, "unused value '%s' in '%s'", d->locals[i].name, s->name);
    }
  free(sc.uses);
}

/* fold(f, init, xs) and scan(f, init, xs): f is a function of two
 * arguments, the state (init's shape) and a step (xs without its first
 * dimension), that returns the next state; its body is checked once with
 * those shapes, its errors noted at f's name in the call.  One loop at a
 * time: a fold inside a step function is an error. */
static Shape check_loop(Checker *c, Expr *e) {
  const char *what = builtin_name(e->fn);
  if (e->nargs != 3) {
    int spot = e->nargs ? e->arg_tok[0] : e->idx_tok[0];
    error_tok(c, spot, "'%s' takes 3 arguments, but %d %s given", what, e->nargs, e->nargs == 1 ? "was" : "were");
    return BAD;
  }
  Expr *fe = e->args[0];
  Sym *f = NULL;
  if (fe->kind == EX_NAME)
    f = c->scope ? (fe->arg < 0 && fe->local < 0 ? fe->sym : NULL) : model_lookup(c->m, tk(c, fe->tok)->name);
  bool bad = false;
  if (!f || f->kind != SYM_FUNC) {
    error_tok(c, e->arg_tok[0], "%s() takes the name of a function (a def) as its first argument", what);
    bad = true;
  } else {
    f->used = true;
    fe->sym = f;
  }
  Shape init = check_expr(c, e->args[1]), xs = check_expr(c, e->args[2]);
  if (bad || init.rank < 0 || xs.rank < 0)
    return BAD;
  if (c->in_step) {
    error_tok(c, e->tok, "%s() inside the step function of another fold() or scan(): dcc runs one loop at a time",
              what);
    return BAD;
  }
  Def *d = f->def->def;
  if (d->nargs != 2) {
    error_tok(c, e->arg_tok[0], "%s() calls '%s' with two arguments, the state and a step, but it takes %d", what,
              f->name, d->nargs);
    return BAD;
  }
  if (xs.rank < 1) {
    error_tok(c, e->arg_tok[2], "%s() steps through the first dimension of a tensor, and this is a scalar", what);
    return BAD;
  }
  if (e->fn == FN_SCAN && init.rank >= DCC_MAX_RANK) {
    error_tok(c, e->arg_tok[1], "scan() of a state of shape %s: its result, one state per step, would have rank %d "
              "(the limit is %d)", shape_str(init), init.rank + 1, DCC_MAX_RANK);
    return BAD;
  }
  Shape a[2] = {init, shape_drop_first(xs)};
  c->in_step++;
  Shape r = check_inlined(c, fe->tok, f, a);
  c->in_step--;
  if (r.rank < 0)
    return BAD;
  if (!shape_eq(r, init)) {
    error_tok(c, e->arg_tok[0], "'%s' returns %s, but the state is %s: a step function returns the next state",
              f->name, shape_str(r), shape_str(init));
    return BAD;
  }
  if (e->fn == FN_FOLD)
    return init;
  Shape s = {init.rank + 1, {xs.dim[0], 1, 1, 1}};
  for (int i = 0; i < init.rank; i++)
    s.dim[i + 1] = init.dim[i];
  return s;
}

/* ---- each builtin's shape, from its arguments' (DCC_BUILTINS) ---------- */

/* Argument i of call e, an integer literal at least lo (a size, a
 * dimension, a stride), or -1 after an error that says so. */
static int int_arg(Checker *c, Expr *e, int i, int lo, const char *what) {
  Expr *a = e->args[i];
  Token *t = tk(c, a->tok);
  if (a->kind != EX_NUM || !t->is_int || t->ival < lo || t->ival > DCC_MAX_DIM) {
    error_tok(c, e->arg_tok[i], "%s() takes %s as an integer literal, %d or more", builtin_name(e->fn), what, lo);
    return -1;
  }
  return t->ival;
}

/* elementwise, one argument */
static Shape check_elementwise(Checker *c, Expr *e, Shape *a) {
  (void)c, (void)e;
  return a[0];
}
#define check_RELU check_elementwise
#define check_GELU check_elementwise

static Shape check_LEAKY_RELU(Checker *c, Expr *e, Shape *a) {
  if (a[1].rank != 0) {
    error_tok(c, e->arg_tok[1], "the slope of leaky_relu must be a scalar constant");
    return BAD;
  }
  return a[0];
}

/* elementwise, two arguments */
static Shape check_elementwise2(Checker *c, Expr *e, Shape *a) {
  return broadcast(c, e->tok, builtin_name(e->fn), a[0], a[1]);
}
#define check_MAX check_elementwise2
#define check_MIN check_elementwise2

/* Argument 1 of e, if it is there: the dimension to reduce a along (0 ..
 * rank - 1), else -1; -2 after an error. */
static int dim_arg(Checker *c, Expr *e, Shape a) {
  if (e->nargs < 2)
    return -1;
  int d = int_arg(c, e, 1, 0, "the dimension");
  if (d >= 0 && d >= a.rank) {
    if (a.rank)
      error_tok(c, e->arg_tok[1], "%s() along dimension %d of %s, whose dimensions are 0 to %d", builtin_name(e->fn), d,
                shape_str(a), a.rank - 1);
    else
      error_tok(c, e->arg_tok[1], "%s() along a dimension needs a tensor, not a scalar", builtin_name(e->fn));
    return -2;
  }
  return d < 0 ? -2 : d;
}

/* a reduction of anything to a scalar, or of a tensor along a dimension */
static Shape check_reduction(Checker *c, Expr *e, Shape *a) {
  int d = dim_arg(c, e, a[0]);
  return d == -2 ? BAD : d < 0 ? SCALAR : shape_without(a[0], d);
}
#define check_SUM check_reduction
#define check_MEAN check_reduction
#define check_AMAX check_reduction
#define check_LOGSUMEXP check_reduction
#define check_L2 check_reduction

static Shape check_DOT(Checker *c, Expr *e, Shape *a) {
  if (a[0].rank != 1 || !shape_eq(a[0], a[1])) {
    error_tok(c, e->tok, "dot() needs two vectors of one length, not %s and %s", shape_str(a[0]), shape_str(a[1]));
    return BAD;
  }
  return SCALAR;
}

static Shape check_TRANSPOSE(Checker *c, Expr *e, Shape *a) {
  if (a[0].rank != 2) {
    error_tok(c, e->arg_tok[0], "transpose() needs a matrix, not %s", shape_str(a[0]));
    return BAD;
  }
  return shape2(a[0].dim[1], a[0].dim[0]);
}

/* softmax, log_softmax: of a tensor, along its last dimension (a matrix
 * is a batch of rows) */
static Shape check_softmax(Checker *c, Expr *e, Shape *a) {
  if (a[0].rank < 1) {
    error_tok(c, e->arg_tok[0], "%s() needs a tensor (it works along its last dimension), not a scalar",
              builtin_name(e->fn));
    return BAD;
  }
  return a[0];
}
#define check_SOFTMAX check_softmax
#define check_LOG_SOFTMAX check_softmax

/* mse, bce, bce_logits: of two tensors of one shape */
static Shape check_loss(Checker *c, Expr *e, Shape *a) {
  if (!shape_eq(a[0], a[1])) {
    error_tok(c, e->tok, "shape mismatch: %s() of %s and %s", builtin_name(e->fn), shape_str(a[0]), shape_str(a[1]));
    return BAD;
  }
  return SCALAR;
}
#define check_MSE check_loss
#define check_BCE check_loss
#define check_BCE_LOGITS check_loss

/* a matrix is a batch: one distribution per row */
static Shape check_CROSS_ENTROPY(Checker *c, Expr *e, Shape *a) {
  if (!shape_eq(a[0], a[1])) {
    error_tok(c, e->tok, "cross_entropy() needs logits and a target of one shape, not %s and %s",
              shape_str(a[0]), shape_str(a[1]));
    return BAD;
  }
  return SCALAR;
}

/* The shape that arguments first .. nargs-1 of e give as sizes, or BAD. */
static Shape sizes_arg(Checker *c, Expr *e, int first) {
  Shape s = SCALAR;
  for (int i = first; i < e->nargs; i++) {
    int n = int_arg(c, e, i, 1, "each size");
    if (n < 0)
      return BAD;
    s.dim[s.rank++] = n;
  }
  if (shape_count(s) > DCC_MAX_SCALARS) {
    error_tok(c, e->arg_tok[first], "%s() of shape %s is too large (the limit is %d scalars)", builtin_name(e->fn),
              shape_str(s), DCC_MAX_SCALARS);
    return BAD;
  }
  return s;
}

static Shape check_RESHAPE(Checker *c, Expr *e, Shape *a) {
  Shape s = sizes_arg(c, e, 1);
  if (s.rank >= 0 && shape_count(s) != shape_count(a[0])) {
    error_tok(c, e->arg_tok[1], "reshape() of %s (%lld values) to %s (%lld values): the counts differ", shape_str(a[0]),
              shape_count(a[0]), shape_str(s), shape_count(s));
    return BAD;
  }
  return s;
}

static Shape check_FLATTEN(Checker *c, Expr *e, Shape *a) {
  (void)c, (void)e;
  return shape1(shape_size(a[0]));
}

/* tensors of one rank, joined along their first dimension (the others
 * equal) */
static Shape check_CONCAT(Checker *c, Expr *e, Shape *a) {
  Shape r = a[0];
  for (int i = 0; i < e->nargs; i++) {
    bool fits = a[i].rank == a[0].rank;
    for (int j = 1; fits && j < a[i].rank; j++)
      fits = a[i].dim[j] == a[0].dim[j];
    if (!a[i].rank) {
      error_tok(c, e->arg_tok[i], "concat() joins tensors, not a scalar");
      return BAD;
    }
    if (!fits) {
      error_tok(c, e->arg_tok[i], "concat() joins tensors along their first dimension, the others equal: %s and %s",
                shape_str(a[0]), shape_str(a[i]));
      return BAD;
    }
    if (i)
      r.dim[0] += a[i].dim[0];
    if (shape_count(r) > DCC_MAX_SCALARS) {
      error_tok(c, e->tok, "concat() is too large (the limit is %d scalars)", DCC_MAX_SCALARS);
      return BAD;
    }
  }
  return r;
}

static Shape check_FULL(Checker *c, Expr *e, Shape *a) {
  if (a[0].rank != 0) {
    error_tok(c, e->arg_tok[0], "full() fills with a scalar constant, not %s", shape_str(a[0]));
    return BAD;
  }
  return sizes_arg(c, e, 1);
}

/* conv1d, conv2d, dwconv1d, dwconv2d: an input of rank `rank` ([c][l] or
 * [c][h][w]), kernels ([o][c][k...], depthwise [c][k...]), an optional
 * stride and padding; PyTorch's shapes (rounding down). */
static Shape check_conv(Checker *c, Expr *e, Shape *a, int rank, bool depthwise) {
  static const char *const inputs[] = {"", "", "[c][l]", "[c][h][w]"};
  static const char *const kernels[2][4] = {{"", "", "[o][c][k]", "[o][c][kh][kw]"}, {"", "", "[c][k]", "[c][kh][kw]"}};
  const char *name = builtin_name(e->fn);
  Shape x = a[0], k = a[1];
  if (x.rank != rank) {
    error_tok(c, e->arg_tok[0], "%s() takes an input of shape %s, not %s", name, inputs[rank], shape_str(x));
    return BAD;
  }
  if (k.rank != (depthwise ? rank : rank + 1)) {
    error_tok(c, e->arg_tok[1], "%s() takes kernels of shape %s, not %s", name, kernels[depthwise][rank], shape_str(k));
    return BAD;
  }
  int kc = depthwise ? k.dim[0] : k.dim[1];
  if (kc != x.dim[0]) {
    error_tok(c, e->arg_tok[1], "%s(): the kernels are for %d channels, the input has %d", name, kc, x.dim[0]);
    return BAD;
  }
  int stride = e->nargs > 2 ? int_arg(c, e, 2, 1, "the stride") : 1;
  int pad = e->nargs > 3 ? int_arg(c, e, 3, 0, "the padding") : 0;
  if (stride < 0 || pad < 0)
    return BAD;
  Shape r = {rank, {depthwise ? x.dim[0] : k.dim[0], 1, 1, 1}};
  for (int i = 1; i < rank; i++) {
    int n = x.dim[i], kn = k.dim[k.rank - rank + i];
    if ((long long)n + 2LL * pad < kn) {
      error_tok(c, e->arg_tok[1], "%s(): a kernel of %d is larger than the input's %d%s", name, kn, n,
                pad ? " and its padding" : "");
      return BAD;
    }
    r.dim[i] = conv_out_size(n, kn, stride, pad);
  }
  return r;
}

static Shape check_CONV1D(Checker *c, Expr *e, Shape *a) { return check_conv(c, e, a, 2, false); }
static Shape check_CONV2D(Checker *c, Expr *e, Shape *a) { return check_conv(c, e, a, 3, false); }
static Shape check_DWCONV1D(Checker *c, Expr *e, Shape *a) { return check_conv(c, e, a, 2, true); }
static Shape check_DWCONV2D(Checker *c, Expr *e, Shape *a) { return check_conv(c, e, a, 3, true); }

/* maxpool1d, avgpool2d, ...: windows of k (per side), stride k; the
 * elements past the last whole window are left out, as PyTorch's */
static Shape check_pool(Checker *c, Expr *e, Shape *a, int rank) {
  static const char *const inputs[] = {"", "", "[c][l]", "[c][h][w]"};
  if (a[0].rank != rank) {
    error_tok(c, e->arg_tok[0], "%s() takes an input of shape %s, not %s", builtin_name(e->fn), inputs[rank],
              shape_str(a[0]));
    return BAD;
  }
  int k = int_arg(c, e, 1, 1, "the window");
  if (k < 0)
    return BAD;
  Shape r = a[0];
  for (int i = 1; i < rank; i++) {
    if (k > a[0].dim[i]) {
      error_tok(c, e->arg_tok[1], "%s(): a window of %d is larger than the input's %d", builtin_name(e->fn), k,
                a[0].dim[i]);
      return BAD;
    }
    r.dim[i] = a[0].dim[i] / k;
  }
  return r;
}

static Shape check_MAXPOOL1D(Checker *c, Expr *e, Shape *a) { return check_pool(c, e, a, 2); }
static Shape check_MAXPOOL2D(Checker *c, Expr *e, Shape *a) { return check_pool(c, e, a, 3); }
#define check_AVGPOOL1D check_MAXPOOL1D
#define check_AVGPOOL2D check_MAXPOOL2D

#define check_DIFF check_diff
#define check_FOLD check_loop_args
#define check_SCAN check_loop_args
/* not called: check_call hands fold and scan to check_loop whole */
static Shape check_loop_args(Checker *c, Expr *e, Shape *a) {
  (void)a;
  return check_loop(c, e);
}

typedef Shape CheckFn(Checker *c, Expr *e, Shape *a);
static CheckFn *const check_fn[FN_COUNT] = {
#define BUILTIN(name, ...) [FN_##name] = check_##name,
    DCC_BUILTINS(BUILTIN)
#undef BUILTIN
};

static Shape check_call(Checker *c, Expr *e) {
  Token *t = tk(c, e->tok);
  int fn = builtin_lookup(t->name);
  Shape args[64];
  Shape *a = e->nargs <= 64 ? args : xcalloc((size_t)e->nargs, sizeof *a);
  bool bad = false;
  Sym *f = c->scope ? e->sym : model_lookup(c->m, t->name); /* in a body: resolved at the def */
  if (fn < 0 && (c->scope ? e->fn == -1 && f : f && f->kind == SYM_FUNC)) {
    for (int i = 0; i < e->nargs; i++)
      if ((a[i] = check_expr(c, e->args[i])).rank < 0)
        bad = true;
    e->fn = -1;
    e->sym = f;
    f->used = true;
    return bad ? BAD : check_user_call(c, e, f, a);
  }
  if (fn < 0 && c->scope) { /* reported at the def */
    for (int i = 0; i < e->nargs; i++)
      check_expr(c, e->args[i]);
    return BAD;
  }
  if (fn == FN_FOLD || fn == FN_SCAN) {
    e->fn = fn;
    return check_loop(c, e);
  }
  if (fn < 0) {
    /* report the function before its arguments: errors in source order */
    if (model_lookup(c->m, t->name))
      error_tok(c, e->tok, "'%s' is not a function", t->name);
    else {
      const char *names[FN_COUNT + OP_COUNT];
      const char *sugg = closest(t->name, names, builtin_names(names));
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
  int op = builtin_op(fn);
  int min = op >= 0 ? op_info[op].arity : builtins[fn].min, max = op >= 0 ? min : builtins[fn].max;
  if (e->nargs < min || (max >= 0 && e->nargs > max)) {
    int spot = e->nargs ? e->arg_tok[0] : e->idx_tok[0];
    char takes[48];
    if (min == max)
      snprintf(takes, sizeof takes, "%d argument%s", min, min == 1 ? "" : "s");
    else if (max < 0)
      snprintf(takes, sizeof takes, "at least %d argument%s", min, min == 1 ? "" : "s");
    else
      snprintf(takes, sizeof takes, "%d to %d arguments", min, max);
    error_tok(c, spot, "'%s' takes %s, but %d %s given", t->name, takes, e->nargs, e->nargs == 1 ? "was" : "were");
    return BAD;
  }
  if (fn == FN_DIFF)
    return check_diff(c, e, a);
  if (bad)
    return BAD;
  if (op >= 0) /* elementwise */
    return op_info[op].arity == 1 ? a[0] : broadcast(c, e->tok, t->name, a[0], a[1]);
  return check_fn[fn](c, e, a);
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
    if (d->shape.rank < 2)
      error_tok(c, in->tok,
                "bare 'glorot' takes its fans from a matrix or kernel shape, and '%s' is a %s; write "
                "glorot(fan_in, fan_out)",
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
      bool too_large = shape_count(d->shape) > DCC_MAX_SCALARS;
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
  case ST_DEF:
    check_def(c, s);
    break;
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
  Checker c = {m, prog, {0}, 0, NULL, NULL, 0, false};
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
    const char *what = s->kind == SYM_INPUT   ? "input"
                       : s->kind == SYM_PARAM ? "param"
                       : s->kind == SYM_FUNC  ? "function"
                                              : "value";
    Token *t = tk(&c, s->tok);
    diag_at(DIAG_WARNING, t->off, t->len, "unused %s '%s'", what, s->name);
  }
  model_place_params(m); /* every param trained (main.c may change it) */
  return m;
}
