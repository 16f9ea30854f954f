/* emit_api.c — the model's C interface: which functions it has, the
 * header's declarations and macros, the source around the bodies
 * (emit_body.c writes those), _init and the param names.
 *
 * Requires: a lowered model (Built) and its gradient.  Guarantees: C99
 * that compiles alone with -std=c99 -Wall -Wextra -Werror -pedantic, needs
 * only <math.h> and <stdint.h>; byte-identical for the same input and
 * options.  plan_code() schedules and writes every function once; the
 * header, the source and the checks on its workspace and stack all read
 * that one plan. */
#include "dcc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One emitted function: what it computes, how it is declared, its body. */
struct Function {
  char *comment;
  const char *ret;      /* "void" or the real type */
  char *name;           /* after the prefix: "loss_grad" */
  char *params;         /* its parameter list: "const net_real *in, const net_real *p, net_real *grad" */
  char *args;           /* the same as arguments: "in, p, grad" */
  Root *roots;
  int nroots;
  const char *outparam; /* an output parameter it does not write, or NULL */
  FuncBody body;        /* its schedule freed once planned (body.s NULL) */
  long ws_size;         /* the schedule's workspace, in reals */
};

typedef struct {
  const Emit *E;
  Buf *out;
} Out;

static Root root(int node, char *dst, char *name, char *param) { return (Root){node, dst, name, param}; }

/* A function of (in, p) and the parameters in extra (", net_real *grad"),
 * passed on as extra_args (", grad"). */
static void add_function(Code *c, const char *comment, const char *ret, const char *name, const char *extra,
                         const char *extra_args, Root *roots, int nroots, const char *outparam) {
  const char *R = c->E.R;
  Function f = {xstrdup(comment), ret, xstrdup(name), xprintf("const %s *in, const %s *p%s", R, R, extra),
                xprintf("in, p%s", extra_args), roots, nroots, outparam, {0}, 0};
  vec_push(&c->fs, f);
}

/* The roots of a function that writes s's gradient, or updates it (sgd):
 * one whole tensor with loops, else a root per scalar; their destinations
 * are printf formats of base + k for scalar k (whole: of base). */
static void grad_roots(Code *c, Sym *s, RootVec *roots, int base, const char *whole, const char *scalar, bool sgd) {
  Built *b = c->E.b;
  int *g = grad_nodes(b, s);
  if (b->loops && s->shape.rank) {
    vec_push(roots, root(g[0], xprintf(whole, base), xprintf("d_%s", s->name), sgd ? xstrdup(s->name) : NULL));
    return;
  }
  for (int k = 0; k < value_count(b, s); k++)
    vec_push(roots, root(g[k], xprintf(scalar, base + k), NULL, sgd ? xstrdup(s->name) : NULL));
}

/* Every function of the model, in the order of the source: _loss,
 * _loss_grad, the _grad_ functions (params, then --wrt inputs),
 * _sgd_step, _outputs. */
static void list_functions(Code *c) {
  Built *b = c->E.b;
  Model *m = b->m;
  const char *R = c->E.R;
  char *extra;
  if (b->loss >= 0) {
    Root *loss = xmalloc(sizeof *loss);
    *loss = root(b->loss, NULL, NULL, NULL);
    add_function(c, "The loss for one sample.", R, "loss", "", "", loss, 1, NULL);
    RootVec all = {0};
    for (int i = 0; i < m->params.n; i++)
      if (!m->params.v[i]->frozen)
        grad_roots(c, m->params.v[i], &all, m->params.v[i]->g_offset, "grad + %d", "grad[%d]", false);
    vec_push(&all, root(b->loss, NULL, NULL, NULL));
    extra = xprintf(", %s *grad", R);
    add_function(c, m->subset ? "The loss, and its gradient with respect to every trainable param, in one pass."
                              : "The loss, and its gradient with respect to every param, in one pass.",
                 R, "loss_grad", extra, ", grad", all.v, all.n, m->n_grad ? NULL : "grad");
    free(extra);
    for (int i = 0; i < b->diff_syms.n; i++) {
      Sym *sym = b->diff_syms.v[i];
      char *comment = xprintf("d loss / d %s%s", sym->name, sym->shape.rank ? ", row-major" : ".");
      char *fname = xprintf("grad_%s", sym->name);
      RootVec rs = {0};
      if (sym->shape.rank == 0) {
        vec_push(&rs, root(grad_nodes(b, sym)[0], NULL, NULL, NULL));
        add_function(c, comment, R, fname, "", "", rs.v, rs.n, NULL);
      } else {
        char *whole = xprintf("grad_%s", sym->name), *scalar = xprintf("grad_%s[%%d]", sym->name);
        grad_roots(c, sym, &rs, 0, whole, scalar, false);
        extra = xprintf(", %s *grad_%s", R, sym->name);
        char *args = xprintf(", grad_%s", sym->name);
        add_function(c, comment, "void", fname, extra, args, rs.v, rs.n, NULL);
        free(extra);
        free(args);
        free(whole);
        free(scalar);
      }
      free(comment);
      free(fname);
    }
  }
  if (b->loss >= 0 && m->n_grad) {
    /* _sgd_step: the loss first (a temporary before the updates), then
     * every trainable param's update in place */
    RootVec step = {0};
    vec_push(&step, root(b->loss, NULL, NULL, NULL));
    for (int i = 0; i < m->params.n; i++)
      if (!m->params.v[i]->frozen)
        grad_roots(c, m->params.v[i], &step, m->params.v[i]->p_offset, "p + %d", "p[%d]", true);
    Function f = {xstrdup("One step of gradient descent on one sample: p -= lr * d loss / d p, in place,\n"
                          "   without a gradient array; the result is the loss before the step."),
                  R, xstrdup("sgd_step"), xprintf("%s *p, const %s *in, %s lr", R, R, R), xstrdup("p, in, lr"),
                  step.v, step.n, NULL, {0}, 0};
    vec_push(&c->fs, f);
  }
  RootVec outs = {0};
  for (int i = 0; i < m->outputs.n; i++) {
    Sym *sym = m->outputs.v[i];
    if (b->loops && sym->shape.rank)
      vec_push(&outs, root(b->out_ids[sym->offset], xprintf("out + %d", sym->offset), xstrdup(sym->name), NULL));
    else
      for (int k = 0; k < value_count(b, sym); k++)
        vec_push(&outs, root(b->out_ids[sym->offset + k], xprintf("out[%d]", sym->offset + k), NULL, NULL));
  }
  extra = xprintf(", %s *out", R);
  add_function(c, "The outputs, in declaration order, row-major.", "void", "outputs", extra, ", out", outs.v, outs.n,
               m->n_out ? NULL : "out");
  free(extra);
}

/* ---- what the real type cannot hold ------------------------------------ */

/* float's limits, as doubles: a value at or past FLT_OVERFLOW rounds to
 * infinity, one at or below FLT_UNDERFLOW (half the smallest subnormal)
 * to zero. */
#define FLT_OVERFLOW 0x1.ffffffp+127
#define FLT_UNDERFLOW 0x1p-150

/* v in the real type: its value, and what it becomes there (its "fate":
 * 0 it is held, 1 it is 0, 2 it is infinite). */
static int fate(double v, bool is_float) {
  if (!is_float || v == 0 || !isfinite(v))
    return isfinite(v) ? 0 : 2;
  return fabs(v) >= FLT_OVERFLOW ? 2 : fabs(v) <= FLT_UNDERFLOW ? 1 : 0;
}

/* The token of a number literal in an expression (not an initialiser)
 * whose magnitude is v, for the diagnostic's place; -1 if none (a
 * constant made by folding). */
static int literal_of(const Model *m, double v) {
  const Program *prog = m->prog;
  for (int i = 0; i < prog->stmts.n; i++) {
    const Stmt *st = &prog->stmts.v[i];
    if (st->kind == ST_INPUT || st->kind == ST_PARAM)
      continue;
    int end = i + 1 < prog->stmts.n ? prog->stmts.v[i + 1].tok : prog->ntoks;
    for (int k = st->tok; k < end && k < prog->ntoks; k++)
      if (prog->toks[k].kind == TK_NUM && fabs(prog->toks[k].num) == fabs(v))
        return k;
  }
  return -1;
}

static const char *num_str(char *buf, size_t n, double v) {
  format_shortest(buf, n, v, false);
  return buf;
}

/* A param's initialiser must be drawn in the real type: an error if a
 * value it computes overflows (uniform's b - a, normal's |mean| + 5.8
 * std: the largest Box-Muller draw of 24-bit uniforms is 5.77 std), in
 * double too; a warning if a float's bound is below float's range. */
static void check_init_range(const Model *m, const Sym *s, bool is_float) {
  Init in = s->init;
  if (in.kind == INIT_DEFAULT && s->shape.rank == 2)
    in.kind = INIT_GLOROT;
  const char *real = is_float ? "float" : "double";
  double largest = is_float ? 3.4028234663852886e38 : 1.7976931348623157e308;
  double lo = in.a, hi = in.b, reach;
  char text[200], a[32], b[32], f[32], r[32];
  switch (in.kind) {
  case INIT_CONST:
    lo = hi = reach = in.a;
    snprintf(text, sizeof text, "%s", num_str(a, sizeof a, in.a));
    break;
  case INIT_GLOROT:
  case INIT_GLOROT_FANS: {
    double fan_in = in.kind == INIT_GLOROT ? s->shape.dim[1] : in.a;
    double fan_out = in.kind == INIT_GLOROT ? s->shape.dim[0] : in.b;
    hi = sqrt(6.0 / (fan_in + fan_out));
    lo = -hi;
    reach = is_float && fate(hi, true) != 2 ? (double)((float)hi - (float)lo) : hi - lo;
    snprintf(text, sizeof text, "glorot(%s, %s): uniform in +-%s, b - a = %s", num_str(a, sizeof a, fan_in),
             num_str(b, sizeof b, fan_out), num_str(f, sizeof f, hi), num_str(r, sizeof r, reach));
    break;
  }
  case INIT_UNIFORM:
    reach = is_float && fate(lo, true) != 2 && fate(hi, true) != 2 ? (double)((float)hi - (float)lo) : hi - lo;
    snprintf(text, sizeof text, "uniform(%s, %s): b - a = %s", num_str(a, sizeof a, lo), num_str(b, sizeof b, hi),
             num_str(r, sizeof r, reach));
    break;
  case INIT_NORMAL:
    lo = in.a, hi = in.b;
    reach = is_float && fate(lo, true) != 2 && fate(hi, true) != 2
                ? (double)(fabsf((float)in.a) + 5.8f * (float)in.b)
                : fabs(in.a) + 5.8 * in.b;
    snprintf(text, sizeof text, "normal(%s, %s): a draw reaches |mean| + 5.8 std = %s", num_str(a, sizeof a, lo),
             num_str(b, sizeof b, hi), num_str(r, sizeof r, reach));
    break;
  default:
    return;
  }
  const Token *t = &m->prog->toks[in.tok >= 0 ? in.tok : s->tok];
  if (fate(lo, is_float) == 2 || fate(hi, is_float) == 2 || fate(reach, is_float) == 2)
    diag_at(DIAG_ERROR, t->off, t->len, "param '%s' = %s: beyond %s's range (its largest is %g)", s->name, text,
            real, largest);
  else if ((lo != 0 && fate(lo, is_float) == 1) || (hi != 0 && fate(hi, is_float) == 1))
    diag_at(DIAG_WARNING, t->off, t->len, "param '%s' = %s: %s below float's range, 0 in the float code", s->name,
            text, in.kind == INIT_CONST ? "this is" : "a bound is");
}

/* What the real type cannot hold: the initialisers (check_init_range),
 * and in a float model each constant outside float's range, which the C
 * has as 0 or infinity (emit_real_const writes it so, cleanly): a
 * warning, once a constant, at its literal. */
static void check_real_range(const EmitOpts *o) {
  Built *b = o->b;
  Model *m = b->m;
  Dag *d = b->dag;
  for (int i = 0; i < m->params.n; i++)
    check_init_range(m, m->params.v[i], o->is_float);
  if (!o->is_float)
    return;
  IntVec roots = {0};
  if (b->loss >= 0)
    vec_push(&roots, b->loss);
  for (int i = 0; i < b->diff_syms.n; i++) {
    Sym *s = b->diff_syms.v[i];
    for (int k = 0; k < value_count(b, s); k++)
      if (grad_nodes(b, s)[k] >= 0)
        vec_push(&roots, grad_nodes(b, s)[k]);
  }
  for (int i = 0; i < m->outputs.n; i++) {
    Sym *s = m->outputs.v[i];
    for (int k = 0; k < value_count(b, s); k++)
      if (b->out_ids[s->offset + k] >= 0)
        vec_push(&roots, b->out_ids[s->offset + k]);
  }
  bool *live = xcalloc((size_t)d->n + 1, sizeof *live);
  dag_reach(d, roots.v, roots.n, live, NULL);
  for (int id = 0; id < d->n; id++) {
    Node *nd = &d->nodes[id];
    int f = live[id] && nd->op == OP_CONST ? fate(nd->val, true) : 0;
    if (!f)
      continue;
    int tok = literal_of(m, nd->val);
    int off = tok >= 0 ? m->prog->toks[tok].off : nd->loc, len = tok >= 0 ? m->prog->toks[tok].len : 0;
    char num[32];
    diag_at(DIAG_WARNING, off, len, "%s %s%s %s float's range: the float code uses %s",
            tok >= 0 ? "the number" : "this folds to", num_str(num, sizeof num, nd->val), tok >= 0 ? " is" : ",",
            f == 1 ? "below" : "beyond",
            f == 1 ? (nd->val > 0 ? "0" : "-0") : nd->val > 0 ? "inf (HUGE_VALF)" : "-inf (-HUGE_VALF)");
  }
  free(live);
  free(roots.v);
}

Code *plan_code(EmitOpts *o) {
  check_real_range(o);
  Code *c = xcalloc(1, sizeof *c);
  c->o = o;
  c->E = (Emit){o->prefix, xstrdup(o->prefix), xprintf("%s_real", o->prefix), o->is_float, o->o0, o->b, o->split_limit};
  for (char *ch = c->E.PU; *ch; ch++)
    *ch = (char)toupper((unsigned char)*ch);
  list_functions(c);
  for (int i = 0; i < c->fs.n; i++) {
    Function *f = &c->fs.v[i];
    f->body = plan_body(&c->E, f->roots, f->nroots, f->outparam, f->name, f->args);
    f->ws_size = f->body.s->ws_size;
    /* A schedule has arrays the size of the whole DAG: kept for every
     * function, they grew as functions times nodes (issue 15: 16,000
     * scalar params, one _grad_ function each, took 24 GB). */
    schedule_free(f->body.s);
    f->body.s = NULL;
    if (f->ws_size > c->workspace)
      c->workspace = f->ws_size;
    if (f->body.stack > c->max_stack) {
      c->max_stack = f->body.stack;
      c->max_stack_fn = f->name;
    }
  }
  return c;
}

/* A parameter list with every pointer restrict-qualified: "const net_real
 * *restrict in, ...".  The function bodies are defined so (the header's
 * prototypes need not say it): without it the compiler must assume that a
 * store to grad may change the in or p it reads next, and cannot keep a
 * block of a row's products in registers (make bench: 452 against 432
 * thousand instructions for the 784-128-10 gradient).  The README states the rule this relies on: the
 * arrays of one call do not overlap. */
static char *restrict_params(const char *params) {
  Buf b = {0};
  for (const char *c = params; *c; c++) {
    buf_putc(&b, *c);
    if (*c == '*')
      buf_puts(&b, "restrict ");
  }
  return b.s;
}

static void emit_function(Out *O, Function *f) {
  const Emit *E = O->E;
  const char *P = E->P, *R = E->R;
  int locals = f->body.locals;
  if (f->body.kernels)
    buf_puts(O->out, f->body.kernels);
  for (int k = 0; k < f->body.npieces; k++) { /* a long function's parts, first */
    char *params = restrict_params(f->params);
    buf_printf(O->out, "\n/* Part %d of %d of %s_%s%s: a long function in parts that C compilers take in\n"
                       "   time near-linear in their size. */\n", k + 1, f->body.npieces, P, f->name,
               E->b->loops ? "_ws" : "");
    buf_printf(O->out, "static void %s_part_%s_%d(%s", P, f->name, k + 1, params);
    if (E->b->loops)
      buf_printf(O->out, ", %s *restrict ws", R);
    if (f->body.sc_size)
      buf_printf(O->out, ", %s *restrict sc", R);
    buf_printf(O->out, ")\n{\n%s}\n", f->body.pieces[k]);
    free(params);
  }
  if (!E->b->loops) {
    buf_printf(O->out, "\n/* %s\n   (%d local%s of type %s on the stack) */\n", f->comment, locals,
               locals == 1 ? "" : "s", R);
    char *params = restrict_params(f->params);
    buf_printf(O->out, "%s %s_%s(%s)\n{\n", f->ret, P, f->name, params);
    free(params);
  } else {
    buf_printf(O->out, "\n/* %s\n   (%d local%s of type %s on the stack; ws: %ld of them) */\n", f->comment, locals,
               locals == 1 ? "" : "s", R, f->ws_size);
    char *params = restrict_params(f->params);
    buf_printf(O->out, "%s %s_%s_ws(%s, %s *restrict ws)\n{\n", f->ret, P, f->name, params, R);
    free(params);
  }
  buf_puts(O->out, f->body.text);
  buf_puts(O->out, "}\n");
  if (E->b->loops) {
    /* the plain function: its workspace on the stack */
    buf_printf(O->out, "\n%s %s_%s(%s)\n{\n", f->ret, P, f->name, f->params);
    if (f->ws_size)
      buf_printf(O->out, "    %s ws[%ld];\n", R, f->ws_size);
    char *ws = f->ws_size ? xstrdup("ws") : xprintf("(%s *)0", R); /* none needed: a null pointer */
    buf_printf(O->out, "    %s%s_%s_ws(%s, %s);\n", strcmp(f->ret, "void") ? "return " : "", P, f->name, f->args, ws);
    free(ws);
    buf_puts(O->out, "}\n");
  }
}

/* ---- declarations (the header, or the top of a self-contained source) ---- */

static void banner(Out *O, const char *src_name, const char *what) {
  Buf b = {0};
  for (const char *c = src_name; *c; c++) {
    unsigned char ch = (unsigned char)*c;
    if (ch < 0x20 || ch >= 0x7f || (ch == '*' && c[1] == '/'))
      buf_putc(&b, '?');
    else
      buf_putc(&b, (char)ch);
  }
  buf_printf(O->out,
             "/* %s generated by dcc %s from %s.\n"
             "   Do not edit: it is generated; change %s and run dcc again. */\n",
             what, DCC_VERSION, b.s, b.s);
  free(b.s);
}

static void macro(Out *O, const char *name, int value) {
  int pad = 28 - (int)strlen(name);
  buf_printf(O->out, "#define %s%*s %d\n", name, pad > 0 ? pad : 0, "", value);
}

/* The resource contract: each function's stack, and the scalar operations
 * of _loss and _loss_grad by kind, as macros an embedded build can check
 * with #if or _Static_assert. */
static void emit_resources(Out *O, Code *c) {
  const Emit *E = O->E;
  Built *b = E->b;
  char name[600];
  buf_printf(O->out, "\n/* Resources, by dcc's own accounting.  %s_STACK_f: the bytes of stack function\n"
                     "   f takes (its locals, loop variables and, for the plain functions, the\n"
                     "   workspace, and 256 bytes of frame per call; not libm's).\n"
                     "   %s_OPS_LOSS_k, %s_OPS_LOSS_GRAD_k: the scalar operations of kind k that\n"
                     "   _loss and _loss_grad perform per call (ADD counts + and -). */\n", E->PU, E->PU, E->PU);
  for (int i = 0; i < c->fs.n; i++) {
    snprintf(name, sizeof name, "%s_STACK_%s", E->PU, c->fs.v[i].name);
    macro(O, name, (int)c->fs.v[i].body.stack);
  }
  snprintf(name, sizeof name, "%s_STACK_MAX", E->PU);
  macro(O, name, (int)c->max_stack);
  if (b->loss < 0)
    return;
  IntVec roots = {0};
  vec_push(&roots, b->loss);
  OpCounts loss, all;
  count_dag(b->dag, roots.v, roots.n, &loss);
  for (int j = 0; j < b->m->n_params; j++)
    if (b->param_grad[j] >= 0)
      vec_push(&roots, b->param_grad[j]);
  count_dag(b->dag, roots.v, roots.n, &all);
  free(roots.v);
  for (int pass = 0; pass < 2; pass++) {
    OpCounts *n = pass ? &all : &loss;
    const char *fn = pass ? "LOSS_GRAD" : "LOSS";
    struct { const char *kind; double n; } rows[] = {
        {"ADD", n->ops[OP_ADD] + n->ops[OP_SUB]}, {"MUL", n->ops[OP_MUL]}, {"DIV", n->ops[OP_DIV]},
        {"NEG", n->ops[OP_NEG]}, {"SELECT", n->ops[OP_IFGT] + n->ops[OP_IFGE]},
    };
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
      snprintf(name, sizeof name, "%s_OPS_%s_%s", E->PU, fn, rows[r].kind);
      macro(O, name, (int)rows[r].n);
    }
    for (int op = 0; op < OP_COUNT; op++) {
      if (op_info[op].kind != KIND_CALL || !all.ops[op])
        continue;
      char kind[32];
      snprintf(kind, sizeof kind, "%s", op_info[op].print);
      for (char *k = kind; *k; k++)
        *k = (char)toupper((unsigned char)*k);
      snprintf(name, sizeof name, "%s_OPS_%s_%s", E->PU, fn, kind);
      macro(O, name, (int)n->ops[op]);
    }
  }
}

/* PU_SIGNATURE: FNV-1a over the params in p[] (each name and shape, in
 * order) and the real type, so that saved weights name the model they fit:
 * "w11;W1[32][64];...;double". */
static uint32_t param_signature(const Emit *E) {
  Model *m = E->b->m;
  Buf b = {0};
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (s->p_offset < 0) /* not in p[] */
      continue;
    buf_puts(&b, s->name);
    for (int k = 0; k < s->shape.rank; k++)
      buf_printf(&b, "[%d]", s->shape.dim[k]);
    buf_putc(&b, ';');
  }
  buf_puts(&b, E->is_float ? "float" : "double");
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < b.len; i++)
    h = (h ^ (unsigned char)b.s[i]) * 16777619u;
  free(b.s);
  return h;
}

static int param_name_max(const Model *m);

/* The runs of p[] that grad[] holds, in grad[] order: their number (at
 * least 1: {0, 0} when nothing is trained), written to out if not NULL. */
static int grad_ranges(const Model *m, Buf *out) {
  int n = 0, off = -1, count = 0;
  for (int i = 0; i <= m->params.n; i++) {
    Sym *s = i < m->params.n ? m->params.v[i] : NULL;
    if (s && s->frozen)
      continue;
    if (s && off >= 0 && off + count == s->p_offset) {
      count += shape_size(s->shape);
      continue;
    }
    if (off >= 0 || (!s && !n)) {
      if (out)
        buf_printf(out, "%s{%d, %d}", n ? ", " : "", off < 0 ? 0 : off, count);
      n++;
    }
    if (s)
      off = s->p_offset, count = shape_size(s->shape);
  }
  return n;
}

static void emit_decls(Out *O, Code *c) {
  const Emit *E = O->E;
  Model *m = E->b->m;
  Buf *out = O->out;
  char name[600];
  buf_printf(out, "\ntypedef %s %s;\n\n", E->is_float ? "float" : "double", E->R);
  snprintf(name, sizeof name, "%s_N_IN", E->PU);
  macro(O, name, m->n_in);
  snprintf(name, sizeof name, "%s_N_PARAMS", E->PU);
  macro(O, name, m->n_p);
  snprintf(name, sizeof name, "%s_N_OUT", E->PU);
  macro(O, name, m->n_out);
  snprintf(name, sizeof name, "%s_N_GRAD", E->PU);
  macro(O, name, m->n_grad);
  for (int i = 0; i < m->inputs.n; i++) {
    snprintf(name, sizeof name, "%s_IN_%s", E->PU, m->inputs.v[i]->name);
    macro(O, name, m->inputs.v[i]->offset);
  }
  for (int i = 0; i < m->params.n; i++) {
    if (m->params.v[i]->p_offset < 0) /* a constant array (--weights) */
      continue;
    snprintf(name, sizeof name, "%s_PARAM_%s", E->PU, m->params.v[i]->name);
    macro(O, name, m->params.v[i]->p_offset);
  }
  for (int i = 0; i < m->outputs.n; i++) {
    snprintf(name, sizeof name, "%s_OUT_%s", E->PU, m->outputs.v[i]->name);
    macro(O, name, m->outputs.v[i]->offset);
  }
  for (int i = 0; i < m->params.n; i++) {
    if (m->params.v[i]->frozen)
      continue;
    snprintf(name, sizeof name, "%s_GRAD_%s", E->PU, m->params.v[i]->name);
    macro(O, name, m->params.v[i]->g_offset);
  }
  snprintf(name, sizeof name, "%s_SIGNATURE", E->PU);
  buf_printf(out, "#define %-28s 0x%08Xu\n", name, (unsigned)param_signature(E));
  if (m->n_p) {
    snprintf(name, sizeof name, "%s_N_GRAD_RANGES", E->PU);
    macro(O, name, grad_ranges(m, NULL));
  }
  if (E->b->loops) {
    snprintf(name, sizeof name, "%s_WORKSPACE_SIZE", E->PU);
    macro(O, name, (int)c->workspace); /* reals in ws[] of the _ws functions */
  }
  const char *P = E->P, *R = E->R;
  if (E->b->loss >= 0) {
    buf_printf(out, "\n/* The loss for one sample: in[%s_N_IN] the sample, p[%s_N_PARAMS] the params. */\n", E->PU, E->PU);
    buf_printf(out, "%s %s_loss(const %s *in, const %s *p);\n", R, P, R, R);
    buf_printf(out, "/* The loss, and its gradient with respect to every %sparam in grad[%s_N_%s], in one pass. */\n",
               m->subset ? "trainable " : "", E->PU, m->subset ? "GRAD" : "PARAMS"); /* equal without a subset */
    buf_printf(out, "%s %s_loss_grad(const %s *in, const %s *p, %s *grad);\n", R, P, R, R, R);
    for (int i = 0; i < E->b->diff_syms.n; i++) {
      Sym *sym = E->b->diff_syms.v[i];
      if (sym->shape.rank == 0) {
        buf_printf(out, "/* d loss / d %s */\n", sym->name);
        buf_printf(out, "%s %s_grad_%s(const %s *in, const %s *p);\n", R, P, sym->name, R, R);
      } else {
        buf_printf(out, "/* d loss / d %s, %d values, row-major */\n", sym->name, shape_size(sym->shape));
        buf_printf(out, "void %s_grad_%s(const %s *in, const %s *p, %s *grad_%s);\n", P, sym->name, R, R, R,
                   sym->name);
      }
    }
  }
  if (E->b->loss >= 0 && m->n_grad)
    buf_printf(out, "/* One step of gradient descent on one sample: p -= lr * d loss / d p, in place,\n"
                    "   without a gradient array; the result is the loss before the step. */\n"
                    "%s %s_sgd_step(%s *p, const %s *in, %s lr);\n", R, P, R, R, R);
  buf_printf(out, "\n/* The outputs, in declaration order, row-major, in out[%s_N_OUT]. */\n", E->PU);
  buf_printf(out, "void %s_outputs(const %s *in, const %s *p, %s *out);\n", P, R, R, R);
  if (m->weights)
    buf_printf(out, "/* The params' values that --weights gave (seed is not used). */\n");
  else
    buf_printf(out, "/* Initial params as the initialisers say; the same seed gives the same values. */\n");
  buf_printf(out, "void %s_init(%s *p, uint32_t seed);\n", P, R);
  if (m->n_p && m->n_p <= DCC_NAMES_TABLE_MAX)
    buf_printf(out, "/* The name of each param scalar: \"w\", \"v[3]\", \"W[0][1]\". */\n"
                    "extern const char *const %s_param_names[%s_N_PARAMS];\n", P, E->PU);
  else if (m->n_p)
    buf_printf(out, "/* The name of param scalar i (\"w\", \"v[3]\", \"W[0][1]\") written to buf, which\n"
                    "   holds %s_PARAM_NAME_MAX chars; returns buf, or a null pointer for an i\n"
                    "   outside 0..%s_N_PARAMS-1.  (Past %d param scalars there is no\n"
                    "   %s_param_names table: its strings would not compile in reasonable memory.) */\n"
                    "#define %s_PARAM_NAME_MAX %d\n"
                    "char *%s_param_name(int32_t i, char *buf);\n",
               E->PU, E->PU, DCC_NAMES_TABLE_MAX, P, E->PU, param_name_max(m), P);
  if (m->n_p) {
    buf_printf(out, "/* Where the gradient's values go in p[]: {offset, count} runs, in grad[] order. */\n"
                    "extern const int32_t %s_grad_ranges[%s_N_GRAD_RANGES][2];\n", P, E->PU);
  }
  if (E->b->loops) {
    buf_printf(out, "\n/* The same functions with the workspace their loops need supplied by the\n"
                    "   caller: ws[%s_WORKSPACE_SIZE] (the ones above keep it on the stack). */\n", E->PU);
    for (int i = 0; i < c->fs.n; i++)
      buf_printf(out, "%s %s_%s_ws(%s, %s *ws);\n", c->fs.v[i].ret, P, c->fs.v[i].name, c->fs.v[i].params, R);
  }
  emit_resources(O, c);
}

/* ---- _init ------------------------------------------------------------- */

/* A param's initialiser, the default made explicit: tensors of rank 2 to 4
 * are glorot, everything else zeros. */
static InitKind init_kind(const Sym *s) {
  if (s->init.kind != INIT_DEFAULT)
    return s->init.kind;
  return s->shape.rank >= 2 ? INIT_GLOROT : INIT_ZEROS;
}

/* Glorot's fans from a shape, as PyTorch counts them: [m][n] has fan_in n
 * and fan_out m; a kernel [o][c][k...] fan_in c k... and fan_out o k... */
static void glorot_fans(Shape sh, double *fan_in, double *fan_out) {
  double receptive = 1;
  for (int i = 2; i < sh.rank; i++)
    receptive *= sh.dim[i];
  *fan_in = sh.dim[1] * receptive;
  *fan_out = sh.dim[0] * receptive;
}

/* The values of param s that --weights gave, as C initialisers. */
static void emit_values(Out *O, const Sym *s) {
  int n = shape_size(s->shape);
  for (int k = 0; k < n; k++) {
    buf_puts(O->out, k % 4 ? " " : "\n    ");
    emit_real_const(O->out, s->weights[k], O->E->is_float);
    if (k + 1 < n)
      buf_putc(O->out, ',');
  }
  buf_putc(O->out, '\n');
}

/* --weights with --train/--freeze: each frozen param, a constant of the
 * model, as a constant array (flash on a microcontroller), row-major. */
static void emit_frozen(Out *O) {
  const Emit *E = O->E;
  Model *m = E->b->m;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (s->p_offset >= 0)
      continue;
    buf_printf(O->out, "\n/* %s%s, frozen: its values from --weights. */\n", s->name,
               s->shape.rank ? shape_str(s->shape) : "");
    buf_printf(O->out, "static const %s %s_frozen_%s[%d] = {", E->R, E->P, s->name, shape_size(s->shape));
    emit_values(O, s);
    buf_puts(O->out, "};\n");
  }
}

/* _init with --weights: the params in p[] from a constant table. */
static void emit_init_weights(Out *O) {
  const Emit *E = O->E;
  Model *m = E->b->m;
  const char *P = E->P, *R = E->R;
  if (m->n_p) {
    buf_printf(O->out, "\n/* The params in p[], from --weights. */\nstatic const %s %s_weights[%s_N_PARAMS] = {", R, P,
               E->PU);
    bool first = true;
    for (int i = 0; i < m->params.n; i++) {
      Sym *s = m->params.v[i];
      if (s->p_offset < 0)
        continue;
      buf_printf(O->out, "%s\n    /* %s */", first ? "" : ",", s->name);
      emit_values(O, s);
      O->out->len--; /* the values' newline: a comma may follow */
      first = false;
    }
    buf_puts(O->out, "\n};\n");
  }
  buf_printf(O->out, "\nvoid %s_init(%s *p, uint32_t seed)\n{\n", P, R);
  if (m->n_p)
    buf_printf(O->out,
               "    int i;\n    (void)seed;\n    for (i = 0; i < %s_N_PARAMS; i++)\n        p[i] = %s_weights[i];\n",
               E->PU, P);
  else
    buf_puts(O->out, "    (void)seed;\n    (void)p;\n");
  buf_puts(O->out, "}\n");
}

static void emit_init(Out *O) {
  const Emit *E = O->E;
  Model *m = E->b->m;
  Buf *out = O->out;
  if (m->weights) {
    emit_init_weights(O);
    return;
  }
  bool any_uniform = false, any_normal = false, any_loop = false;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    InitKind k = init_kind(s);
    any_uniform |= k == INIT_GLOROT || k == INIT_GLOROT_FANS || k == INIT_UNIFORM;
    any_normal |= k == INIT_NORMAL;
    any_loop |= shape_size(s->shape) > 1; /* a tensor of one value is one assignment */
  }
  const char *P = E->P, *R = E->R, *f = E->is_float ? "f" : "";
  if (any_uniform || any_normal) {
    buf_printf(out,
               "\n/* The generator behind %s_init: a Weyl sequence through a 32-bit\n"
               "   mixer, so every platform draws the same numbers. */\n"
               "static uint32_t %s_rng_next(uint32_t *s)\n{\n"
               "    uint32_t z = (*s += 0x9E3779B9u);\n"
               "    z = (z ^ (z >> 16)) * 0x85EBCA6Bu;\n"
               "    z = (z ^ (z >> 13)) * 0xC2B2AE35u;\n"
               "    return z ^ (z >> 16);\n}\n",
               P, P);
    buf_printf(out,
               "\n/* Uniform in [0, 1), 24 random bits: exact in float and double. */\n"
               "static %s %s_rng_unit(uint32_t *s)\n{\n"
               "    return (%s)(%s_rng_next(s) >> 8) * (%s)(1.0 / 16777216.0);\n}\n",
               R, P, R, P, R);
  }
  if (any_uniform)
    buf_printf(out,
               "\n/* Uniform in [lo, hi). */\n"
               "static %s %s_rng_uniform(uint32_t *s, %s lo, %s hi)\n{\n"
               "    return lo + (hi - lo) * %s_rng_unit(s);\n}\n",
               R, P, R, R, P);
  if (any_normal)
    buf_printf(out,
               "\n/* Normal(mean, std), by Box and Muller's transform (one draw per call). */\n"
               "static %s %s_rng_normal(uint32_t *s, %s mean, %s std)\n{\n"
               "    %s u1 = (%s)1 - %s_rng_unit(s); /* in (0, 1]: log(u1) is finite */\n"
               "    %s u2 = %s_rng_unit(s);\n"
               "    return mean + std * sqrt%s((%s)-2 * log%s(u1)) * cos%s((%s)6.283185307179586 * u2);\n}\n",
               R, P, R, R, R, R, P, R, P, f, R, f, f, R);
  buf_printf(out, "\nvoid %s_init(%s *p, uint32_t seed)\n{\n", P, R);
  if (any_uniform || any_normal)
    buf_puts(out, "    uint32_t s = seed;\n");
  else
    buf_puts(out, "    (void)seed;\n");
  if (any_loop)
    buf_puts(out, "    int i;\n");
  if (!m->n_params)
    buf_puts(out, "    (void)p;\n");
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    Init in = s->init;
    in.kind = init_kind(s);
    int n = shape_size(s->shape);
    Buf val = {0};
    switch (in.kind) {
    case INIT_CONST:
      emit_real_const(&val, in.a, E->is_float);
      break;
    case INIT_ZEROS:
    case INIT_DEFAULT:
      emit_real_const(&val, 0, E->is_float);
      break;
    case INIT_GLOROT:
    case INIT_GLOROT_FANS:
    case INIT_UNIFORM: {
      double lo = in.a, hi = in.b;
      if (in.kind != INIT_UNIFORM) {
        double fan_in = in.a, fan_out = in.b;
        if (in.kind == INIT_GLOROT)
          glorot_fans(s->shape, &fan_in, &fan_out);
        hi = sqrt(6.0 / (fan_in + fan_out));
        lo = -hi;
      }
      buf_printf(&val, "%s_rng_uniform(&s, ", P);
      emit_real_const(&val, lo, E->is_float);
      buf_puts(&val, ", ");
      emit_real_const(&val, hi, E->is_float);
      buf_putc(&val, ')');
      break;
    }
    case INIT_NORMAL:
      buf_printf(&val, "%s_rng_normal(&s, ", P);
      emit_real_const(&val, in.a, E->is_float);
      buf_puts(&val, ", ");
      emit_real_const(&val, in.b, E->is_float);
      buf_putc(&val, ')');
      break;
    }
    const char *kind = in.kind == INIT_CONST ? "constant" : in.kind == INIT_ZEROS ? "zeros"
                     : in.kind == INIT_NORMAL ? "normal" : in.kind == INIT_UNIFORM ? "uniform" : "glorot";
    buf_printf(out, "    /* %s: %s */\n", s->name, kind);
    if (n == 1)
      buf_printf(out, "    p[%d] = %s;\n", s->offset, val.s);
    else
      buf_printf(out, "    for (i = 0; i < %d; i++)\n        p[%d + i] = %s;\n", n, s->offset, val.s);
    free(val.s);
  }
  buf_puts(out, "}\n");
}

/* ---- _param_names ------------------------------------------------------- */

/* The longest param scalar name, plus its terminating null. */
static int param_name_max(const Model *m) {
  int most = 0;
  for (int i = 0; i < m->params.n; i++) {
    const Sym *s = m->params.v[i];
    int len = (int)strlen(s->name);
    for (int d = 0; d < s->shape.rank; d++) {
      char num[16];
      len += 2 + snprintf(num, sizeof num, "%d", s->shape.dim[d] - 1);
    }
    if (len > most)
      most = len;
  }
  return most + 1;
}

/* With loops, a tensor's element names are spelt by the preprocessor, so
 * that the source stays small however wide the layers: P_NAMES_C2(f, x,
 * "1") expands to f(x, "100"), ..., f(x, "199"), and a range 0..n-1 is a
 * few such blocks.  The R family enumerates rows (the first dimension),
 * the C family columns (the last), S and T the second and third of a
 * tensor of rank 3 or 4: a macro cannot expand inside itself, so each
 * dimension needs a family of its own. */
#define NAME_LEVELS 6 /* 10^6 numbers: DCC_MAX_DIM has 7 digits */

static void emit_name_macros(Out *O, int max_rank) {
  const Emit *E = O->E;
  buf_puts(O->out, "\n/* Element names by the preprocessor: ..._C<L>(f, x, d) is f(x, d followed by\n"
                   "   every L-digit string), the R macros the same for rows. */\n");
  for (int fam = 0; fam < 2 + (max_rank > 2) + (max_rank > 3); fam++)
    for (int level = 1; level <= NAME_LEVELS; level++) {
      char fc = "RCST"[fam];
      buf_printf(O->out, "#define %s_NAMES_%c%d(f, x, d)", E->PU, fc, level);
      for (int dgt = 0; dgt < 10; dgt++) {
        if (level == 1)
          buf_printf(O->out, "%s f(x, d \"%d\")", dgt ? "," : "", dgt);
        else
          buf_printf(O->out, "%s %s_NAMES_%c%d(f, x, d \"%d\")", dgt ? "," : "", E->PU, fc, level - 1, dgt);
      }
      buf_putc(O->out, '\n');
    }
  buf_printf(O->out, "#define %s_NAMES_EL(x, j) x j \"]\"\n", E->PU);
}

/* The numbers 0..n-1 as blocks of the family fam: f applied to x and each
 * number, with no leading zeros. */
static void emit_name_range(Out *O, char fam, const char *f, const char *x, long n) {
  const Emit *E = O->E;
  bool first = true;
  long len_lo = 0;
  for (int len = 1; len_lo < n; len++) {
    long len_hi = len_lo ? len_lo * 10 : 10; /* numbers of len digits: [len_lo, len_hi) */
    long hi = n < len_hi ? n : len_hi;
    for (long v = len_lo; v < hi;) {
      long block = 1;
      int level = 0;
      while (level + 1 <= NAME_LEVELS && v % (block * 10) == 0 && v + block * 10 <= hi &&
             (level + 1 < len || v == 0))
        block *= 10, level++;
      buf_puts(O->out, first ? "" : ", ");
      first = false;
      if (level == 0)
        buf_printf(O->out, "%s(%s, \"%ld\")", f, x, v);
      else if (v == 0)
        buf_printf(O->out, "%s_NAMES_%c%d(%s, %s, \"\")", E->PU, fam, level, f, x);
      else
        buf_printf(O->out, "%s_NAMES_%c%d(%s, %s, \"%ld\")", E->PU, fam, level, f, x, v / block);
      v += block;
    }
    len_lo = len_hi;
  }
}

/* The family that enumerates dimension l of a tensor of rank r. */
static char name_family(int l, int r) { return l == r - 1 ? 'C' : "RST"[l]; }

/* The macro that spells the names below index i of dimension l - 1 of s
 * (l >= 1): P_NAMES_ROW_W(x, i) for a matrix's row, P_NAMES_ROW2_K(x, i)
 * one level deeper. */
static char *name_row_macro(const Emit *E, const Sym *s, int l) {
  return l == 1 ? xprintf("%s_NAMES_ROW_%s", E->PU, s->name) : xprintf("%s_NAMES_ROW%d_%s", E->PU, l, s->name);
}

/* Past DCC_NAMES_TABLE_MAX param scalars, names computed when asked: a
 * table of every name costs the C compiler an initialiser per scalar
 * (clang -O0 took 21 s and 1.4 GB for 1,048,576 names, and was killed at
 * 6.3 GB for 4M: issue 15), P_param_name a few entries per param. */
static void emit_param_name_fn(Out *O) {
  const Emit *E = O->E;
  Model *m = E->b->m;
  Buf *out = O->out;
  /* the params in p[] (not the frozen ones that --weights put in flash) */
  VEC(const Sym *) ps = {0};
  for (int i = 0; i < m->params.n; i++)
    if (m->params.v[i]->p_offset >= 0)
      vec_push(&ps, m->params.v[i]);
  int n = ps.n;
  buf_printf(out, "\nchar *%s_param_name(int32_t i, char *buf)\n{\n", E->P);
  buf_printf(out, "    static const char *const name[%d] = {", n);
  for (int i = 0; i < n; i++)
    buf_printf(out, "%s\"%s\"", i ? ", " : "", ps.v[i]->name);
  buf_printf(out, "};\n    static const int32_t offset[%d] = {", n);
  for (int i = 0; i < n; i++)
    buf_printf(out, "%s%d", i ? ", " : "", ps.v[i]->p_offset);
  buf_printf(out, "};\n    static const int32_t rank[%d] = {", n);
  for (int i = 0; i < n; i++)
    buf_printf(out, "%s%d", i ? ", " : "", ps.v[i]->shape.rank);
  buf_printf(out, "};\n    static const int32_t dim[%d][%d] = {", n, DCC_MAX_RANK);
  for (int i = 0; i < n; i++) {
    Shape sh = ps.v[i]->shape;
    buf_puts(out, i ? ", {" : "{");
    for (int d = 0; d < DCC_MAX_RANK; d++)
      buf_printf(out, "%s%d", d ? ", " : "", d < sh.rank ? sh.dim[d] : 1);
    buf_putc(out, '}');
  }
  buf_printf(out, "};\n"
                  "    int32_t lo = 0, hi = %d, r, d, at[%d];\n"
                  "    char *o = buf;\n"
                  "    const char *c;\n"
                  "    if (i < 0 || i >= %s_N_PARAMS)\n"
                  "        return (char *)0;\n"
                  "    while (lo < hi) { /* the last param whose offset is at most i */\n"
                  "        int32_t mid = lo + (hi - lo + 1) / 2;\n"
                  "        if (offset[mid] <= i)\n"
                  "            lo = mid;\n"
                  "        else\n"
                  "            hi = mid - 1;\n"
                  "    }\n"
                  "    for (c = name[lo]; *c; c++)\n"
                  "        *o++ = *c;\n"
                  "    r = i - offset[lo];\n"
                  "    for (d = rank[lo] - 1; d >= 0; d--) { /* row-major */\n"
                  "        at[d] = r %% dim[lo][d];\n"
                  "        r /= dim[lo][d];\n"
                  "    }\n"
                  "    for (d = 0; d < rank[lo]; d++) {\n"
                  "        char digit[12];\n"
                  "        int nd = 0;\n"
                  "        do {\n"
                  "            digit[nd++] = (char)('0' + at[d] %% 10);\n"
                  "            at[d] /= 10;\n"
                  "        } while (at[d]);\n"
                  "        *o++ = '[';\n"
                  "        while (nd)\n"
                  "            *o++ = digit[--nd];\n"
                  "        *o++ = ']';\n"
                  "    }\n"
                  "    *o = '\\0';\n"
                  "    return buf;\n"
                  "}\n",
             n - 1, DCC_MAX_RANK, E->PU);
  free(ps.v);
  buf_printf(out, "\nconst int32_t %s_grad_ranges[%s_N_GRAD_RANGES][2] = {", E->P, E->PU);
  grad_ranges(m, out);
  buf_puts(out, "};\n");
}

static void emit_param_names(Out *O) {
  const Emit *E = O->E;
  Model *m = E->b->m;
  Buf *out = O->out;
  if (m->n_p > DCC_NAMES_TABLE_MAX) {
    emit_param_name_fn(O);
    return;
  }
  char sfx[64];
  int max_rank = 0;
  for (int i = 0; i < m->params.n; i++)
    if (E->b->loops && m->params.v[i]->shape.rank > max_rank)
      max_rank = m->params.v[i]->shape.rank;
  if (max_rank) {
    emit_name_macros(O, max_rank);
    for (int i = 0; i < m->params.n; i++) {
      Sym *s = m->params.v[i];
      for (int l = 1; l < s->shape.rank; l++) { /* dimension l, under an index of l - 1 */
        char *self = name_row_macro(E, s, l), *ctx = xprintf("x i \"][\"");
        char *inner = l == s->shape.rank - 1 ? xprintf("%s_NAMES_EL", E->PU) : name_row_macro(E, s, l + 1);
        buf_printf(out, "#define %s(x, i) ", self);
        emit_name_range(O, name_family(l, s->shape.rank), inner, ctx, s->shape.dim[l]);
        buf_putc(out, '\n');
        free(self);
        free(ctx);
        free(inner);
      }
    }
  }
  buf_printf(out, "\nconst char *const %s_param_names[%s_N_PARAMS] = {\n", E->P, E->PU);
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (s->p_offset < 0)
      continue;
    if (max_rank && s->shape.rank) {
      char *ctx = xprintf("\"%s[\"", s->name);
      char *f = s->shape.rank == 1 ? xprintf("%s_NAMES_EL", E->PU) : name_row_macro(E, s, 1);
      buf_puts(out, "    ");
      emit_name_range(O, name_family(0, s->shape.rank), f, ctx, s->shape.dim[0]);
      buf_puts(out, ",\n");
      free(ctx);
      free(f);
      continue;
    }
    for (int k = 0; k < shape_size(s->shape); k++)
      buf_printf(out, "    \"%s%s\",\n", s->name, elem_suffix(s->shape, k, sfx, sizeof sfx, true));
  }
  buf_puts(out, "};\n");
  buf_printf(out, "\nconst int32_t %s_grad_ranges[%s_N_GRAD_RANGES][2] = {", E->P, E->PU);
  grad_ranges(m, out);
  buf_puts(out, "};\n");
}

/* ---- the files ------------------------------------------------------------ */

/* FNV-1a, 64 bits: the header's hash. */
static uint64_t hash64(const char *s, size_t n) {
  uint64_t h = 14695981039346656037u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211u;
  return h;
}

/* The header ends with PU_HEADER_HASH, the hash of its lines from the
 * include guard on (the banner's path of the input aside: it does not
 * change what the header declares); the source that includes it checks
 * the value (emit_source), so that a source and a header of two different
 * runs (two runs writing the same files at once) do not compile together. */
void emit_header(Buf *out, Code *c) {
  Out O = {&c->E, out};
  banner(&O, c->o->src_name, "Header");
  size_t start = out->len;
  buf_printf(out, "#ifndef DCC_%s_H\n#define DCC_%s_H\n\n#include <stdint.h>\n\n", c->E.PU, c->E.PU);
  buf_puts(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
  emit_decls(&O, c);
  buf_puts(out, "\n#ifdef __cplusplus\n}\n#endif\n\n");
  c->header_hash = hash64(out->s + start, out->len - start);
  buf_printf(out, "/* A hash of the lines above from #ifndef on: the source written with this\n"
                  "   header checks it. */\n");
  buf_printf(out, "#define %s_HEADER_HASH 0x%016llXu\n\n", c->E.PU, (unsigned long long)c->header_hash);
  buf_printf(out, "#endif /* DCC_%s_H */\n", c->E.PU);
}

void emit_source(Buf *out, Code *c) {
  Out O = {&c->E, out};
  Model *m = c->E.b->m;
  banner(&O, c->o->src_name, "Source");
  if (c->o->header_name) {
    buf_printf(out, "#include \"%s\"\n", c->o->header_name);
    buf_printf(out, "#if !defined(%s_HEADER_HASH) || %s_HEADER_HASH != 0x%016llXu\n"
                    "#error \"this source and the header it includes come from different runs of dcc: run dcc again\"\n"
                    "#endif\n", c->E.PU, c->E.PU, (unsigned long long)c->header_hash);
    buf_puts(out, "\n#include <math.h>\n#include <stdint.h>\n");
  } else {
    buf_puts(out, "#include <math.h>\n#include <stdint.h>\n");
    emit_decls(&O, c);
  }
  if (m->n_p)
    emit_param_names(&O);
  emit_frozen(&O);
  for (int i = 0; i < c->fs.n; i++)
    emit_function(&O, &c->fs.v[i]);
  emit_init(&O);
}
