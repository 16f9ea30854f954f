/* emit_c.c — the C source and header.
 *
 * Requires: a lowered DAG (every live op has a C spelling), the roots of
 * each function (loss, gradients, outputs).  Guarantees: C99 that compiles
 * alone with -std=c99 -Wall -Wextra -Werror -pedantic, needs only <math.h>
 * and <stdint.h>, allocates nothing, keeps no state; byte-identical for the
 * same input and options (every order below is an id or declaration order).
 * The emitter knows nothing of parsing: it reads the Model's layout and the
 * DAG.  With loops (Built.loops), a tensor node's statement is a loop nest
 * over fixed bounds (emit_loop), every function gets a _ws variant that
 * takes the workspace sched.c sized, and the plain function keeps it on
 * the stack. */
#include "dcc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  EmitOpts *o;
  Buf *out;
  const char *P;  /* prefix of every symbol: "net" */
  char *PU;       /* the prefix upper-cased, for macros: "NET" */
  char *R;        /* the real type: "net_real" */
  int acc_node;   /* a product whose row sum is in acc where it is read, or -1 */
} Emitter;

static Emitter emitter(EmitOpts *o, Buf *out);

/* ---- names ------------------------------------------------------------ */

/* Identifiers a local variable of the emitted code must not take: C's
 * keywords, what <math.h> and <stdint.h> declare or may define, and the
 * emitted functions' own parameter names. */
static const char *const reserved_words[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "bool", "true", "false", "asm", "typeof", "fortran", "NAN", "INFINITY", "EOF",
    "NULL", "errno", "signgam", "in", "p", "grad", "out", "i", "j", "k", "ws", "acc", "acc1", "lr",
    /* math.h functions (their f and l forms are matched below) */
    "acos", "asin", "atan", "atan2", "cos", "sin", "tan", "acosh", "asinh", "atanh", "cosh", "sinh",
    "tanh", "exp", "exp2", "expm1", "frexp", "ilogb", "ldexp", "log", "log10", "log1p", "log2", "logb",
    "modf", "scalbn", "scalbln", "cbrt", "fabs", "hypot", "pow", "sqrt", "erf", "erfc", "lgamma",
    "tgamma", "ceil", "floor", "nearbyint", "rint", "lrint", "llrint", "round", "lround", "llround",
    "trunc", "fmod", "remainder", "remquo", "copysign", "nan", "nextafter", "nexttoward", "fdim",
    "fmax", "fmin", "fma", "gamma", "j0", "j1", "jn", "y0", "y1", "yn", "drem", "finite", "scalb",
    "significand", "exp10", "pow10", "sincos", "fpclassify", "isfinite", "isinf", "isnan", "isnormal",
    "signbit", "isgreater", "isgreaterequal", "isless", "islessequal", "islessgreater", "isunordered",
    "math_errhandling",
};

static bool reserved(const char *name, const char *prefix) {
  size_t len = strlen(name);
  if (name[0] == '_')
    return true; /* reserved for the implementation */
  if (len > 2 && !strcmp(name + len - 2, "_t"))
    return true; /* uint32_t and friends */
  if (!strncmp(name, "grad", 4))
    return true; /* grad, grad_W: parameters of gradient functions */
  if (name[0] == 't' && len > 1 && strspn(name + 1, "0123456789") == len - 1)
    return true; /* our temporaries */
  bool upper = true, underscore = false;
  for (const char *c = name; *c; c++) {
    if (islower((unsigned char)*c))
      upper = false;
    if (*c == '_')
      underscore = true;
  }
  if (upper && underscore)
    return true; /* macros: HUGE_VAL, M_PI, INT8_MAX, FP_NAN, and ours */
  size_t plen = strlen(prefix);
  if (!strncmp(name, prefix, plen) && name[plen] == '_')
    return true; /* our own symbols */
  for (size_t i = 0; i < sizeof reserved_words / sizeof *reserved_words; i++) {
    const char *w = reserved_words[i];
    size_t wl = strlen(w);
    if (!strcmp(name, w))
      return true;
    if (!strncmp(name, w, wl) && (name[wl] == 'f' || name[wl] == 'l') && name[wl + 1] == 0)
      return true;
  }
  return false;
}

/* A C name for a local named after `user`, unique in the function: the
 * name itself if it is free, else `name_`, else `v2_name_`, `v3_name_`, ...
 * (a lowercase letter first and an underscore last escape every reserved
 * pattern above, so the search ends). */
static char *local_name(StrMap *used, const char *user, const char *prefix) {
  char *name = user[0] == '_' ? xprintf("v%s", user) : xstrdup(user);
  for (int k = 1; reserved(name, prefix) || strmap_get(used, name); k++) {
    char *next = k == 1 ? xprintf("%s_", name) : xprintf("v%d_%s_", k, user);
    free(name);
    name = next;
  }
  strmap_put(used, name, name);
  return name;
}

/* ---- constants and expressions ----------------------------------------- */

/* The shortest decimal that reads back as the same value (of the real
 * type), spelt as a floating constant: 4.0, 0.5, 1e-07, 2.5f. */
void emit_real_const(Buf *out, double v, bool is_float) {
  char buf[64];
  if (is_float && fabs(v) > 3.4028234663852886e38) {
    buf_puts(out, v < 0 ? "-HUGE_VALF" : "HUGE_VALF");
    return;
  }
  format_shortest(buf, sizeof buf, v, is_float);
  buf_puts(out, buf);
  if (!strpbrk(buf, ".eE"))
    buf_puts(out, ".0");
  if (is_float)
    buf_putc(out, 'f');
}

/* ---- element indices ------------------------------------------------- */

/* An index expression: base + ix, folded when ix is a number. */
static char *ix_add(long base, const char *ix) {
  char *end;
  long v = strtol(ix, &end, 10);
  if (*ix && !*end)
    return xprintf("%ld", base + v);
  return base ? xprintf("%ld + %s", base, ix) : xstrdup(ix);
}

/* Element (row, col) of a matrix with ncols columns, as a flat index. */
static char *ix_2d(const char *row, long ncols, const char *col) {
  char *end;
  long r = strtol(row, &end, 10);
  if (*row && !*end)
    return ix_add(r * ncols, col);
  char *rc = xprintf(strchr(row, ' ') ? "(%s) * %ld" : "%s * %ld", row, ncols); /* "k + 2" */
  char *c = strcmp(col, "0") ? xprintf("%s + %s", rc, col) : xstrdup(rc);
  free(rc);
  return c;
}

static int prec_of(Emitter *E, Schedule *s, int id) {
  Node *nd = &E->o->b->dag->nodes[id];
  if (s->name[id])
    return 4;
  switch ((Op)nd->op) {
  case OP_ADD: case OP_SUB: return 1;
  case OP_MUL: case OP_DIV: return 2;
  case OP_NEG: return 3;
  case OP_CONST: return nd->val < 0 ? 3 : 4;
  case OP_FILL: return prec_of(E, s, nd->a[0]);
  default: return 4;
  }
}

static void render(Emitter *E, Schedule *s, int id, Buf *b, bool top, const char *ix);

static void operand(Emitter *E, Schedule *s, int id, int min_prec, Buf *b, const char *ix) {
  if (prec_of(E, s, id) < min_prec) {
    buf_putc(b, '(');
    render(E, s, id, b, true, ix);
    buf_putc(b, ')');
  } else {
    render(E, s, id, b, false, ix);
  }
}

/* Element (row, col) of a matrix node: a transpose reads its operand the
 * other way round, without being stored. */
static void render_2d(Emitter *E, Schedule *s, int id, const char *row, const char *col, Buf *b) {
  Node *nd = &E->o->b->dag->nodes[id];
  if (!s->name[id] && nd->op == OP_TRANSPOSE) {
    render_2d(E, s, nd->a[0], col, row, b);
    return;
  }
  char *ix = ix_2d(row, nd->shape.dim[1], col);
  render(E, s, id, b, false, ix);
  free(ix);
}

/* The C expression of node id (of element ix for a tensor): its name if
 * it has one, else its operation on its operands' expressions, with the
 * parentheses C needs to keep the DAG's association (a + (b + c) stays
 * so: floating point is not associative). */
static void render(Emitter *E, Schedule *s, int id, Buf *b, bool top, const char *ix) {
  Node *nd = &E->o->b->dag->nodes[id];
  bool is_float = E->o->is_float;
  if (!nd->shape.rank)
    ix = NULL;
  if (id == E->acc_node) { /* the row sum of a product fused into this loop */
    buf_puts(b, "acc");
    return;
  }
  if (s->name[id]) {
    buf_puts(b, s->name[id]);
    if (ix)
      buf_printf(b, "[%s]", ix);
    return;
  }
  switch (op_info[nd->op].kind) {
  case KIND_LEAF:
    if (nd->op == OP_CONST) {
      if (nd->val < 0 && !top) {
        buf_putc(b, '(');
        emit_real_const(b, nd->val, is_float);
        buf_putc(b, ')');
      } else {
        emit_real_const(b, nd->val, is_float);
      }
    } else if (ix) {
      char *at = ix_add(nd->index, ix);
      buf_printf(b, "%s[%s]", nd->op == OP_INPUT ? "in" : "p", at);
      free(at);
    } else {
      buf_printf(b, "%s[%d]", nd->op == OP_INPUT ? "in" : "p", nd->index);
    }
    return;
  case KIND_INFIX: {
    int p = nd->op == OP_ADD || nd->op == OP_SUB ? 1 : 2;
    operand(E, s, nd->a[0], p, b, ix);
    buf_printf(b, " %s ", op_info[nd->op].print);
    operand(E, s, nd->a[1], p + 1, b, ix);
    return;
  }
  case KIND_PREFIX:
    buf_putc(b, '-');
    operand(E, s, nd->a[0], 4, b, ix);
    return;
  case KIND_CALL:
    if (!*op_info[nd->op].c) { /* lower.c missed it: never print a call without a name */
      fprintf(stderr, "dcc: internal error: %s reached the C emitter unlowered\n", op_info[nd->op].print);
      abort();
    }
    buf_printf(b, "%s%s(", op_info[nd->op].c, is_float ? "f" : "");
    for (int i = 0; i < nd->nops; i++) {
      if (i)
        buf_puts(b, ", ");
      render(E, s, nd->a[i], b, true, ix);
    }
    buf_putc(b, ')');
    return;
  case KIND_SELECT:
    buf_putc(b, '(');
    render(E, s, nd->a[0], b, true, ix);
    buf_puts(b, nd->op == OP_IFGT ? " > " : " >= ");
    render(E, s, nd->a[1], b, true, ix);
    buf_puts(b, " ? ");
    render(E, s, nd->a[2], b, true, ix);
    buf_puts(b, " : ");
    render(E, s, nd->a[3], b, true, ix);
    buf_putc(b, ')');
    return;
  case KIND_WRAP:
    render(E, s, nd->a[0], b, top, ix);
    return;
  case KIND_TENSOR: {
    Shape as = E->o->b->dag->nodes[nd->a[0]].shape;
    char *at = NULL;
    switch ((Op)nd->op) {
    case OP_FILL:
      render(E, s, nd->a[0], b, top, NULL);
      return;
    case OP_INDEX: /* element k of a tensor */
      at = xprintf("%d", nd->index);
      render(E, s, nd->a[0], b, top, at);
      break;
    case OP_ROW:
      at = ix_add((long)nd->index * as.dim[1], ix);
      render(E, s, nd->a[0], b, top, at);
      break;
    case OP_TRANSPOSE: /* element ix of M^T, M [m][n]: M[ix % m][ix / m] */
      at = xprintf("(%s) %% %d * %d + (%s) / %d", ix, as.dim[0], as.dim[1], ix, as.dim[0]);
      render(E, s, nd->a[0], b, top, at);
      break;
    default: /* stored by the schedule: never rendered inline */
      buf_puts(b, "?");
      break;
    }
    free(at);
    return;
  }
  }
}

/* ---- functions ----------------------------------------------------------- */

static const char *elem_suffix(Shape sh, int k, char *buf, size_t n, bool brackets) {
  if (sh.rank == 0)
    buf[0] = 0;
  else if (sh.rank == 1)
    snprintf(buf, n, brackets ? "[%d]" : "_%d", k);
  else
    snprintf(buf, n, brackets ? "[%d][%d]" : "_%d_%d", k / sh.dim[1], k % sh.dim[1]);
  return buf;
}

/* ---- loops ------------------------------------------------------------- */

/* The term A[i][kk] B[kk][j] (B[kk] for a vector B) of matrix product nd. */
static void matmul_term(Emitter *E, Schedule *s, const Node *nd, const char *kk, Buf *b) {
  render_2d(E, s, nd->a[0], "i", kk, b);
  buf_puts(b, " * ");
  if (nd->shape.rank == 1)
    render(E, s, nd->a[1], b, false, kk);
  else
    render_2d(E, s, nd->a[1], kk, "j", b);
}

/* Term kk of reduction nd: a product's A[i][kk] B[kk][j], or a sum's
 * operand element kk (in parentheses if it is itself a sum). */
static void reduce_term(Emitter *E, Schedule *s, const Node *nd, const char *kk, Buf *b) {
  if (nd->op == OP_MATMUL)
    matmul_term(E, s, nd, kk, b);
  else
    operand(E, s, nd->a[0], 2, b, kk);
}

/* The K terms of reduction nd (a matrix product's row, a sum of 8 or
 * more) are added in two chains, even and odd k, eight terms per step as
 * a small tree ((t0 + t2) + (t4 + t6)): with one running sum, every add waits for the one before it, and the
 * compiler may not reorder floating-point adds itself.  Two chains of
 * independent pairs fill the two lanes of a vector register and halve the
 * instructions per term (make bench).  The sum is the same to rounding,
 * not bit for bit, as the serial one; K < 8 keeps the serial sum.  Leaves
 * the sum in acc. */
static void reduce_terms(Emitter *E, Schedule *s, const Node *nd, int K, const char *in, Buf *out) {
  const char *R = E->R;
  Buf t[8] = {{0}};
  if (K < 8) {
    reduce_term(E, s, nd, "0", &t[0]);
    reduce_term(E, s, nd, "k", &t[1]);
    buf_printf(out, "%s        %s acc = %s;\n", in, R, t[0].s);
    buf_printf(out, "%s        for (int k = 1; k < %d; k++)\n", in, K);
    buf_printf(out, "%s            acc += %s;\n", in, t[1].s);
  } else {
    int K8 = K / 8 * 8;
    for (int q = 0; q < 8; q++) {
      char kk[16];
      snprintf(kk, sizeof kk, "%d", q);
      reduce_term(E, s, nd, kk, &t[q]);
    }
    buf_printf(out, "%s        %s acc = (%s + %s) + (%s + %s);\n", in, R, t[0].s, t[2].s, t[4].s, t[6].s);
    buf_printf(out, "%s        %s acc1 = (%s + %s) + (%s + %s);\n", in, R, t[1].s, t[3].s, t[5].s, t[7].s);
    if (K8 > 8) {
      for (int q = 0; q < 8; q++) {
        char kk[16];
        snprintf(kk, sizeof kk, q ? "k + %d" : "k", q);
        t[q].len = 0;
        reduce_term(E, s, nd, kk, &t[q]);
      }
      buf_printf(out, "%s        for (int k = 8; k < %d; k += 8) {\n", in, K8);
      buf_printf(out, "%s            acc += (%s + %s) + (%s + %s);\n", in, t[0].s, t[2].s, t[4].s, t[6].s);
      buf_printf(out, "%s            acc1 += (%s + %s) + (%s + %s);\n", in, t[1].s, t[3].s, t[5].s, t[7].s);
      buf_printf(out, "%s        }\n", in);
    }
    if (K - K8 == 1) {
      t[0].len = 0;
      char kk[16];
      snprintf(kk, sizeof kk, "%d", K8);
      reduce_term(E, s, nd, kk, &t[0]);
      buf_printf(out, "%s        acc += %s;\n", in, t[0].s);
    } else if (K > K8) {
      t[0].len = 0;
      reduce_term(E, s, nd, "k", &t[0]);
      buf_printf(out, "%s        for (int k = %d; k < %d; k++)\n", in, K8, K);
      buf_printf(out, "%s            acc += %s;\n", in, t[0].s);
    }
    buf_printf(out, "%s        acc += acc1;\n", in);
  }
  for (int q = 0; q < 8; q++)
    free(t[q].s);
}

/* The statement of a stored tensor, or of a reduction to a scalar: one
 * loop (nest) over fixed bounds.  A product's rows and long sums are added
 * as reduce_terms says, shorter sums and maxima left to right: as unroll.c
 * associates them (other sums may still differ in the canonical order of
 * +; the two lowerings agree to about 1e-13).  With update
 * (_sgd_step), N is a param and each value v is applied as N -= lr * v,
 * rounded as _loss_grad's gradient and the update after it would be. */
static void emit_loop(Emitter *E, Buf *out, Schedule *s, int id, bool update) {
  Dag *d = E->o->b->dag;
  Node nd = d->nodes[id];
  const char *N = s->name[id], *R = E->R;
  int n = shape_size(nd.shape);
  Shape as = d->nodes[nd.a[0]].shape;
  Buf x = {0}, y = {0};
  switch ((Op)nd.op) {
  case OP_MATMUL: { /* N[i][j] = sum over k of A[i][k] B[k][j] */
    int m = as.dim[0], K = as.dim[1];
    bool vec = nd.shape.rank == 1;
    int cols = vec ? 1 : nd.shape.dim[1];
    const char *in = vec ? "" : "    ";
    buf_printf(out, "    for (int i = 0; i < %d; i++) {\n", m);
    if (!vec)
      buf_printf(out, "        for (int j = 0; j < %d; j++) {\n", cols);
    reduce_terms(E, s, &nd, K, in, out);
    const char *op = update ? "-= lr *" : "=";
    if (vec)
      buf_printf(out, "        %s[i] %s acc;\n", N, op);
    else
      buf_printf(out, "            %s[i * %d + j] %s acc;\n", N, cols, op);
    if (!vec)
      buf_puts(out, "        }\n");
    buf_puts(out, "    }\n");
    break;
  }
  case OP_OUTER: { /* N[i][j] = u[i] v[j] */
    int cols = nd.shape.dim[1], cols16 = cols / 16 * 16;
    render(E, s, nd.a[0], &x, true, "i");
    buf_printf(out, "    for (int i = 0; i < %d; i++) {\n", as.dim[0]);
    buf_printf(out, "        const %s acc = %s;\n", R, x.s);
    /* Blocks of 16 columns, each a fixed-count loop the compiler unrolls
     * whole: a row in one loop pays the loop's count and test every vector
     * or two (make bench: 1.9 against 1.7 instructions per element). */
    const char *assign = update ? "-= lr * (acc * %s)" : "= acc * %s";
    if (cols16) {
      render(E, s, nd.a[1], &y, false, "j + k");
      char *value = xprintf(assign, y.s);
      buf_printf(out, "        for (int j = 0; j < %d; j += 16)\n", cols16);
      buf_puts(out, "            for (int k = 0; k < 16; k++)\n");
      buf_printf(out, "                %s[i * %d + j + k] %s;\n", N, cols, value);
      free(value);
    }
    if (cols > cols16) {
      y.len = 0;
      render(E, s, nd.a[1], &y, false, "j");
      char *value = xprintf(assign, y.s);
      buf_printf(out, "        for (int j = %d; j < %d; j++)\n", cols16, cols);
      buf_printf(out, "            %s[i * %d + j] %s;\n", N, cols, value);
      free(value);
    }
    buf_puts(out, "    }\n");
    break;
  }
  case OP_SCATTER:
  case OP_SCATROW: { /* zeros but one element or row (an update touches only that) */
    const char *op = update ? "-= lr *" : "=";
    if (!update) {
      buf_printf(out, "    for (int i = 0; i < %d; i++)\n        %s[i] = ", n, N);
      emit_real_const(out, 0, E->o->is_float);
      buf_puts(out, ";\n");
    }
    if (nd.op == OP_SCATTER) {
      render(E, s, nd.a[0], &x, !update, NULL);
      buf_printf(out, "    %s[%d] %s %s;\n", N, nd.index, op, x.s);
    } else {
      int cols = nd.shape.dim[1];
      render(E, s, nd.a[0], &x, !update, "j");
      buf_printf(out, "    for (int j = 0; j < %d; j++)\n        %s[%d + j] %s %s;\n", cols, N, nd.index * cols, op,
                 x.s);
    }
    break;
  }
  case OP_SUM:
  case OP_MAXR: {
    int len = shape_size(as);
    if (nd.op == OP_SUM && len >= 8) { /* as a product's row, and as unroll.c adds it */
      buf_printf(out, "    %s %s;\n    {\n", R, N);
      reduce_terms(E, s, &nd, len, "", out);
      buf_printf(out, "        %s = acc;\n    }\n", N);
      break;
    }
    render(E, s, nd.a[0], &x, true, "0");
    render(E, s, nd.a[0], &y, true, "i");
    buf_printf(out, "    %s %s = %s;\n", R, N, x.s);
    buf_printf(out, "    for (int i = 1; i < %d; i++)", len);
    if (nd.op == OP_SUM)
      buf_printf(out, "\n        %s += %s;\n", N, y.s);
    else
      buf_printf(out, " {\n        const %s acc = %s;\n        %s = %s >= acc ? %s : acc;\n    }\n", R, y.s, N, N, N);
    break;
  }
  default: { /* elementwise, with the single-use operands fused in */
    char *name = s->name[id];
    int product = s->fused_product[id];
    s->name[id] = NULL; /* render the definition, not the name */
    if (product >= 0) { /* and a product's row sums: the product's loop */
      const Node *pn = &d->nodes[product];
      E->acc_node = product;
      render(E, s, id, &x, true, "i");
      E->acc_node = -1;
      s->name[id] = name;
      buf_printf(out, "    for (int i = 0; i < %d; i++) {\n", n);
      reduce_terms(E, s, pn, d->nodes[pn->a[0]].shape.dim[1], "", out);
      buf_printf(out, "        %s[i] = %s;\n    }\n", N, x.s);
      break;
    }
    render(E, s, id, &x, true, "i");
    s->name[id] = name;
    buf_printf(out, "    for (int i = 0; i < %d; i++)\n        %s[i] = %s;\n", n, N, x.s);
    break;
  }
  }
  free(x.s);
  free(y.s);
}

/* ---- function bodies --------------------------------------------------- */

/* The body of one function: locals for the scalar inputs and params it
 * reads, one `const` statement per scalar temporary and one loop per
 * stored tensor, in id order, then the roots: assignments (a copy loop for
 * a tensor stored elsewhere), and a return for the root with no
 * destination. */
static int emit_body(Emitter *E, Buf *out, Schedule *s, Root *roots, int nroots, const char *outparam) {
  Built *b = E->o->b;
  Model *m = b->m;
  Dag *d = b->dag;
  int locals = s->ntemps;
  StrMap used = {0};
  char sfx[48];

  if (!s->uses_in)
    buf_puts(out, "    (void)in;\n");
  if (!s->uses_p)
    buf_puts(out, "    (void)p;\n");
  if (outparam) /* the caller knows the function writes nothing there */
    buf_printf(out, "    (void)%s;\n", outparam);
  if (b->loops && !s->ws_size)
    buf_puts(out, "    (void)ws;\n");
  /* Scalar inputs and params get a local named after them. */
  VEC(Sym *) leaves = {0};
  for (int i = 0; i < m->inputs.n; i++)
    vec_push(&leaves, m->inputs.v[i]);
  for (int i = 0; i < m->params.n; i++)
    vec_push(&leaves, m->params.v[i]);
  for (int i = 0; i < leaves.n; i++) {
    Sym *sym = leaves.v[i];
    int id = sym->kind == SYM_INPUT ? b->input_leaf[sym->offset] : b->param_leaf[sym->offset];
    if (sym->shape.rank != 0 || !s->live[id])
      continue;
    s->name[id] = local_name(&used, sym->name, E->P);
    buf_printf(out, "    const %s %s = %s[%d];\n", E->R, s->name[id], sym->kind == SYM_INPUT ? "in" : "p",
               sym->offset);
    locals++;
  }
  free(leaves.v);
  /* Temporaries and loops. */
  int t = 0;
  for (int i = 0; i < s->norder; i++) {
    int id = s->order[i];
    Node *nd = &d->nodes[id];
    Sym *sym = id < b->names_cap ? b->node_sym[id] : NULL;
    int r = s->root_of[id];
    if (!sym && r >= 0 && roots[r].name) {
      s->name[id] = local_name(&used, roots[r].name, E->P);
    } else if (sym) {
      int elem = b->node_elem[id];
      char *base = elem < 0 ? xstrdup(sym->name)
                            : xprintf("%s%s", sym->name, elem_suffix(sym->shape, elem, sfx, sizeof sfx, false));
      s->name[id] = local_name(&used, base, E->P);
      free(base);
    } else {
      char base[32];
      snprintf(base, sizeof base, "t%d", ++t);
      s->name[id] = xstrdup(base);
      strmap_put(&used, s->name[id], s->name[id]);
    }
    char line[48] = "";
    if (sym)
      snprintf(line, sizeof line, " /* line %d */", sym->line);
    if (nd->shape.rank) {
      if (r >= 0)
        buf_printf(out, "    %s *const %s = %s;%s\n", E->R, s->name[id], roots[r].dst, line);
      else
        buf_printf(out, "    %s *const %s = ws + %ld;%s\n", E->R, s->name[id], s->ws_off[id], line);
      emit_loop(E, out, s, id, false);
      continue;
    }
    if (nd->op == OP_SUM || nd->op == OP_MAXR) {
      if (sym)
        buf_printf(out, "   %s\n", line);
      emit_loop(E, out, s, id, false);
      continue;
    }
    buf_printf(out, "    const %s %s = ", E->R, s->name[id]);
    char *name = s->name[id];
    s->name[id] = NULL; /* render the definition, not the name */
    Buf expr = {0};
    render(E, s, id, &expr, true, NULL);
    s->name[id] = name;
    buf_puts(out, expr.s);
    buf_printf(out, ";%s\n", line);
    free(expr.s);
  }
  /* Roots: the return comes last (_sgd_step's updates go before it). */
  Buf ret = {0};
  VEC(char *) update_names = {0};
  for (int r = 0; r < nroots; r++) {
    int id = roots[r].node;
    Buf expr = {0};
    if (roots[r].param && d->nodes[id].shape.rank) { /* _sgd_step: a tensor param, in place */
      char *ptr = local_name(&used, roots[r].param, E->P); /* used keeps it: freed below */
      buf_printf(out, "    %s *const %s = %s;\n", E->R, ptr, roots[r].dst);
      if (s->deferred[id]) {
        char *stored = s->name[id];
        s->name[id] = ptr; /* the update loop writes the param */
        emit_loop(E, out, s, id, true);
        s->name[id] = stored;
      } else {
        render(E, s, id, &expr, false, "i");
        buf_printf(out, "    for (int i = 0; i < %d; i++)\n        %s[i] -= lr * %s;\n", shape_size(d->nodes[id].shape),
                   ptr, expr.s);
      }
      vec_push(&update_names, ptr);
    } else if (d->nodes[id].shape.rank) {
      if (s->root_of[id] != r) {
        render(E, s, id, &expr, true, "i");
        buf_printf(out, "    for (int i = 0; i < %d; i++)\n        (%s)[i] = %s;\n", shape_size(d->nodes[id].shape),
                   roots[r].dst, expr.s);
      }
    } else if (roots[r].param) { /* _sgd_step: a scalar, its gradient a temporary already */
      render(E, s, id, &expr, false, NULL);
      buf_printf(out, "    %s -= lr * %s;\n", roots[r].dst, expr.s);
    } else {
      render(E, s, id, &expr, true, NULL);
      if (roots[r].dst)
        buf_printf(out, "    %s = %s;\n", roots[r].dst, expr.s);
      else
        buf_printf(&ret, "    return %s;\n", expr.s);
    }
    free(expr.s);
  }
  if (ret.s)
    buf_puts(out, ret.s);
  free(ret.s);
  for (int i = 0; i < update_names.n; i++)
    free(update_names.v[i]);
  free(update_names.v);
  free(used.keys);
  free(used.vals);
  for (int id = 0; id < d->n; id++)
    free(s->name[id]);
  return locals;
}

static Root root(int node, const char *dst, const char *name, const char *param) {
  Root r = {node, dst, name, param};
  return r;
}

/* One emitted function: what it computes and how it is declared. */
typedef struct {
  char *comment;
  const char *ret;      /* "void" or the real type */
  char *name;           /* after the prefix: "loss_grad" */
  char *params;         /* its parameter list: "const net_real *in, const net_real *p, net_real *grad" */
  char *args;           /* the same as arguments: "in, p, grad" */
  Root *roots;
  int nroots;
  const char *outparam; /* an output parameter it does not write, or NULL */
} Function;

typedef VEC(Function) Functions;

/* A function of (in, p) and the parameters in extra (", net_real *grad"),
 * passed on as extra_args (", grad"). */
static void add_function(Emitter *E, Functions *fs, const char *comment, const char *ret, const char *name,
                         const char *extra, const char *extra_args, Root *roots, int nroots, const char *outparam) {
  Function f = {xstrdup(comment), ret, xstrdup(name), xprintf("const %s *in, const %s *p%s", E->R, E->R, extra),
                xprintf("in, p%s", extra_args), roots, nroots, outparam};
  vec_push(fs, f);
}

/* Every function of the model, in the order of the source: _loss,
 * _loss_grad, the _grad_ functions (params, then --wrt inputs), _outputs. */
static Functions functions(Emitter *E) {
  EmitOpts *o = E->o;
  Built *b = o->b;
  Model *m = b->m;
  const char *R = E->R;
  Functions fs = {0};
  char *extra;
  if (b->loss >= 0) {
    Root *loss = xmalloc(sizeof *loss);
    *loss = root(b->loss, NULL, NULL, NULL);
    add_function(E, &fs, "The loss for one sample.", R, "loss", "", "", loss, 1, NULL);
    VEC(Root) all = {0};
    for (int i = 0; i < m->params.n; i++) {
      Sym *sym = m->params.v[i];
      if (b->loops && sym->shape.rank)
        vec_push(&all,
                 root(o->grads[sym->offset], xprintf("grad + %d", sym->offset), xprintf("d_%s", sym->name), NULL));
      else
        for (int k = 0; k < shape_size(sym->shape); k++)
          vec_push(&all, root(o->grads[sym->offset + k], xprintf("grad[%d]", sym->offset + k), NULL, NULL));
    }
    vec_push(&all, root(b->loss, NULL, NULL, NULL));
    extra = xprintf(", %s *grad", R);
    add_function(E, &fs, "The loss, and its gradient with respect to every param, in one pass.", R, "loss_grad",
                 extra, ", grad", all.v, all.n, m->n_params ? NULL : "grad");
    free(extra);
    for (int pass = 0; pass < 2; pass++) {
      SymList *list = pass ? &m->inputs : &m->params;
      for (int i = 0; i < list->n; i++) {
        Sym *sym = list->v[i];
        if (pass && !o->wrt[i])
          continue;
        int *g = pass ? o->wrt_grads : o->grads;
        char *comment = xprintf("d loss / d %s%s", sym->name, sym->shape.rank ? ", row-major" : ".");
        char *fname = xprintf("grad_%s", sym->name);
        if (sym->shape.rank == 0) {
          Root *r = xmalloc(sizeof *r);
          *r = root(g[sym->offset], NULL, NULL, NULL);
          add_function(E, &fs, comment, R, fname, "", "", r, 1, NULL);
        } else {
          int n = b->loops ? 1 : shape_size(sym->shape);
          Root *rs = xmalloc((size_t)n * sizeof *rs);
          for (int k = 0; k < n; k++)
            rs[k] = root(g[sym->offset + k],
                         b->loops ? xprintf("grad_%s", sym->name) : xprintf("grad_%s[%d]", sym->name, k),
                         b->loops ? xprintf("d_%s", sym->name) : NULL, NULL);
          extra = xprintf(", %s *grad_%s", R, sym->name);
          char *args = xprintf(", grad_%s", sym->name);
          add_function(E, &fs, comment, "void", fname, extra, args, rs, n, NULL);
          free(extra);
          free(args);
        }
        free(comment);
        free(fname);
      }
    }
  }
  if (b->loss >= 0 && m->n_params) {
    /* _sgd_step: the loss first (a temporary before the updates), then
     * every param's update in place */
    VEC(Root) step = {0};
    vec_push(&step, root(b->loss, NULL, NULL, NULL));
    for (int i = 0; i < m->params.n; i++) {
      Sym *sym = m->params.v[i];
      if (b->loops && sym->shape.rank)
        vec_push(&step, root(o->grads[sym->offset], xprintf("p + %d", sym->offset), xprintf("d_%s", sym->name),
                             xstrdup(sym->name)));
      else
        for (int k = 0; k < shape_size(sym->shape); k++)
          vec_push(&step, root(o->grads[sym->offset + k], xprintf("p[%d]", sym->offset + k), NULL, xstrdup(sym->name)));
    }
    Function f = {xstrdup("One step of gradient descent on one sample: p -= lr * d loss / d p, in place,\n"
                          "   without a gradient array; the result is the loss before the step."),
                  R, xstrdup("sgd_step"), xprintf("%s *p, const %s *in, %s lr", R, R, R), xstrdup("p, in, lr"),
                  step.v, step.n, NULL};
    vec_push(&fs, f);
  }
  VEC(Root) outs = {0};
  for (int i = 0; i < m->outputs.n; i++) {
    Sym *sym = m->outputs.v[i];
    if (b->loops && sym->shape.rank)
      vec_push(&outs, root(b->out_ids[sym->offset], xprintf("out + %d", sym->offset), xstrdup(sym->name), NULL));
    else
      for (int k = 0; k < shape_size(sym->shape); k++)
        vec_push(&outs, root(b->out_ids[sym->offset + k], xprintf("out[%d]", sym->offset + k), NULL, NULL));
  }
  extra = xprintf(", %s *out", R);
  add_function(E, &fs, "The outputs, in declaration order, row-major.", "void", "outputs", extra, ", out", outs.v,
               outs.n, m->n_out ? NULL : "out");
  free(extra);
  return fs;
}

static void functions_free(Functions *fs) {
  for (int i = 0; i < fs->n; i++) {
    Function *f = &fs->v[i];
    for (int r = 0; r < f->nroots; r++) {
      free((char *)f->roots[r].dst);
      free((char *)f->roots[r].name);
      free((char *)f->roots[r].param);
    }
    free(f->roots);
    free(f->comment);
    free(f->name);
    free(f->params);
    free(f->args);
  }
  free(fs->v);
}

/* The workspace the largest function needs, in reals (0 without loops). */
static long workspace_size(Emitter *E, Functions *fs) {
  long most = 0;
  if (!E->o->b->loops)
    return 0;
  for (int i = 0; i < fs->n; i++) {
    Schedule *s = schedule_make(E->o->b, fs->v[i].roots, fs->v[i].nroots, E->o->o0);
    if (s->ws_size > most)
      most = s->ws_size;
    schedule_free(s);
  }
  return most;
}

static long occurrences(const char *text, const char *what) {
  long n = 0;
  for (const char *at = text ? strstr(text, what) : NULL; at; at = strstr(at + 1, what))
    n++;
  return n;
}

/* The stack bytes of function f by dcc's own accounting: its locals, the
 * index and accumulator of every loop and the pointer of every stored
 * tensor (an unoptimised build gives each its own slot), (for the plain
 * function) its workspace, and DCC_FRAME_BYTES per call level for saved
 * registers and the return address; not the stack of the libm functions
 * it calls. */
static long stack_of(Emitter *E, const char *body, int locals, long ws) {
  long reals = locals + occurrences(body, " acc = ") + occurrences(body, " acc1 = ") + ws;
  return reals * (E->o->is_float ? 4 : 8) + occurrences(body, "for (int ") * 4 +
         occurrences(body, " *const ") * 8 /* a stored tensor's pointer, 64-bit at most */ +
         DCC_FRAME_BYTES * (E->o->b->loops ? 2 : 1); /* the plain function calls its _ws body */
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

static long emit_function(Emitter *E, Function *f) {
  /* The comment counts the function's locals, which bound its stack use:
   * the body is written first. */
  Schedule *s = schedule_make(E->o->b, f->roots, f->nroots, E->o->o0);
  Buf body = {0};
  int locals = emit_body(E, &body, s, f->roots, f->nroots, f->outparam);
  long stack = stack_of(E, body.s, locals, s->ws_size);
  const char *P = E->P, *R = E->R;
  if (!E->o->b->loops) {
    buf_printf(E->out, "\n/* %s\n   (%d local%s of type %s on the stack) */\n", f->comment, locals,
               locals == 1 ? "" : "s", R);
    char *params = restrict_params(f->params);
    buf_printf(E->out, "%s %s_%s(%s)\n{\n", f->ret, P, f->name, params);
    free(params);
  } else {
    buf_printf(E->out, "\n/* %s\n   (%d local%s of type %s on the stack; ws: %ld of them) */\n", f->comment, locals,
               locals == 1 ? "" : "s", R, s->ws_size);
    char *params = restrict_params(f->params);
    buf_printf(E->out, "%s %s_%s_ws(%s, %s *restrict ws)\n{\n", f->ret, P, f->name, params, R);
    free(params);
  }
  buf_puts(E->out, body.s ? body.s : "");
  buf_puts(E->out, "}\n");
  if (E->o->b->loops) {
    /* the plain function: its workspace on the stack */
    buf_printf(E->out, "\n%s %s_%s(%s)\n{\n", f->ret, P, f->name, f->params);
    if (s->ws_size)
      buf_printf(E->out, "    %s ws[%ld];\n", R, s->ws_size);
    char *ws = s->ws_size ? xstrdup("ws") : xprintf("(%s *)0", R); /* none needed: a null pointer */
    buf_printf(E->out, "    %s%s_%s_ws(%s, %s);\n", strcmp(f->ret, "void") ? "return " : "", P, f->name, f->args, ws);
    free(ws);
    buf_puts(E->out, "}\n");
  }
  free(body.s);
  schedule_free(s);
  return stack;
}

/* ---- declarations (the header, or the top of a self-contained source) ---- */

static void banner(Emitter *E, const char *what) {
  Buf b = {0};
  for (const char *c = E->o->src_name; *c; c++) {
    unsigned char ch = (unsigned char)*c;
    if (ch < 0x20 || ch >= 0x7f || (ch == '*' && c[1] == '/'))
      buf_putc(&b, '?');
    else
      buf_putc(&b, (char)ch);
  }
  buf_printf(E->out,
             "/* %s generated by dcc %s from %s.\n"
             "   Do not edit: it is generated; change %s and run dcc again. */\n",
             what, DCC_VERSION, b.s, b.s);
  free(b.s);
}

static void macro(Emitter *E, const char *name, int value) {
  int pad = 28 - (int)strlen(name);
  buf_printf(E->out, "#define %s%*s %d\n", name, pad > 0 ? pad : 0, "", value);
}

/* function i of the model (f): from what emit_source found, or by writing
 * its body aside */
static long function_stack(Emitter *E, Function *f, int i) {
  if (E->o->stack_bytes)
    return E->o->stack_bytes[i];
  Schedule *s = schedule_make(E->o->b, f->roots, f->nroots, E->o->o0);
  Buf scratch = {0};
  int locals = emit_body(E, &scratch, s, f->roots, f->nroots, f->outparam);
  long bytes = stack_of(E, scratch.s, locals, s->ws_size);
  free(scratch.s);
  schedule_free(s);
  return bytes;
}

long emit_max_stack(EmitOpts *o, char **which) {
  Buf none = {0};
  Emitter E = emitter(o, &none);
  Functions fs = functions(&E);
  long most = 0;
  for (int i = 0; i < fs.n; i++) {
    long bytes = function_stack(&E, &fs.v[i], i);
    if (bytes > most) {
      most = bytes;
      free(*which);
      *which = xprintf("%s_%s", E.P, fs.v[i].name);
    }
  }
  functions_free(&fs);
  free(E.PU);
  free(E.R);
  return most;
}

/* The resource contract: each function's stack, and the scalar operations
 * of _loss and _loss_grad by kind, as macros an embedded build can check
 * with #if or _Static_assert. */
static void emit_resources(Emitter *E) {
  EmitOpts *o = E->o;
  Built *b = o->b;
  Model *m = b->m;
  char name[600];
  buf_printf(E->out, "\n/* Resources, by dcc's own accounting.  %s_STACK_f: the bytes of stack function\n"
                     "   f takes (its locals, loop variables and, for the plain functions, the\n"
                     "   workspace, and 256 bytes of frame per call; not libm's).\n"
                     "   %s_OPS_LOSS_k, %s_OPS_LOSS_GRAD_k: the scalar operations of kind k that\n"
                     "   _loss and _loss_grad perform per call (ADD counts + and -). */\n", E->PU, E->PU, E->PU);
  Functions fs = functions(E);
  long most = 0;
  for (int i = 0; i < fs.n; i++) {
    long bytes = function_stack(E, &fs.v[i], i);
    snprintf(name, sizeof name, "%s_STACK_%s", E->PU, fs.v[i].name);
    macro(E, name, (int)bytes);
    if (bytes > most)
      most = bytes;
  }
  snprintf(name, sizeof name, "%s_STACK_MAX", E->PU);
  macro(E, name, (int)most);
  functions_free(&fs);
  if (b->loss < 0)
    return;
  VEC(int) roots = {0};
  vec_push(&roots, b->loss);
  OpCounts loss, all;
  count_dag(b->dag, roots.v, roots.n, &loss);
  for (int j = 0; j < m->n_params; j++)
    if (o->grads[j] >= 0)
      vec_push(&roots, o->grads[j]);
  count_dag(b->dag, roots.v, roots.n, &all);
  free(roots.v);
  for (int pass = 0; pass < 2; pass++) {
    OpCounts *c = pass ? &all : &loss;
    const char *fn = pass ? "LOSS_GRAD" : "LOSS";
    struct { const char *kind; uint64_t n; } rows[] = {
        {"ADD", c->ops[OP_ADD] + c->ops[OP_SUB]}, {"MUL", c->ops[OP_MUL]}, {"DIV", c->ops[OP_DIV]},
        {"NEG", c->ops[OP_NEG]}, {"SELECT", c->ops[OP_IFGT] + c->ops[OP_IFGE]},
    };
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
      snprintf(name, sizeof name, "%s_OPS_%s_%s", E->PU, fn, rows[r].kind);
      macro(E, name, (int)rows[r].n);
    }
    for (int op = 0; op < OP_COUNT; op++) {
      if (op_info[op].kind != KIND_CALL || !all.ops[op])
        continue;
      char kind[32];
      snprintf(kind, sizeof kind, "%s", op_info[op].print);
      for (char *k = kind; *k; k++)
        *k = (char)toupper((unsigned char)*k);
      snprintf(name, sizeof name, "%s_OPS_%s_%s", E->PU, fn, kind);
      macro(E, name, (int)c->ops[op]);
    }
  }
}

/* PU_SIGNATURE: FNV-1a over the params in p[] (each name and shape, in
 * order) and the real type, so that saved weights name the model they fit:
 * "w11;W1[32][64];...;double". */
static uint32_t param_signature(Emitter *E) {
  Model *m = E->o->b->m;
  Buf b = {0};
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    buf_puts(&b, s->name);
    for (int k = 0; k < s->shape.rank; k++)
      buf_printf(&b, "[%d]", s->shape.dim[k]);
    buf_putc(&b, ';');
  }
  buf_puts(&b, E->o->is_float ? "float" : "double");
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < b.len; i++)
    h = (h ^ (unsigned char)b.s[i]) * 16777619u;
  free(b.s);
  return h;
}

static void emit_decls(Emitter *E) {
  EmitOpts *o = E->o;
  Model *m = o->b->m;
  Buf *out = E->out;
  char name[600];
  buf_printf(out, "\ntypedef %s %s;\n\n", o->is_float ? "float" : "double", E->R);
  snprintf(name, sizeof name, "%s_N_IN", E->PU);
  macro(E, name, m->n_in);
  snprintf(name, sizeof name, "%s_N_PARAMS", E->PU);
  macro(E, name, m->n_params);
  snprintf(name, sizeof name, "%s_N_OUT", E->PU);
  macro(E, name, m->n_out);
  snprintf(name, sizeof name, "%s_N_GRAD", E->PU);
  macro(E, name, m->n_params);
  for (int i = 0; i < m->inputs.n; i++) {
    snprintf(name, sizeof name, "%s_IN_%s", E->PU, m->inputs.v[i]->name);
    macro(E, name, m->inputs.v[i]->offset);
  }
  for (int i = 0; i < m->params.n; i++) {
    snprintf(name, sizeof name, "%s_PARAM_%s", E->PU, m->params.v[i]->name);
    macro(E, name, m->params.v[i]->offset);
  }
  for (int i = 0; i < m->outputs.n; i++) {
    snprintf(name, sizeof name, "%s_OUT_%s", E->PU, m->outputs.v[i]->name);
    macro(E, name, m->outputs.v[i]->offset);
  }
  for (int i = 0; i < m->params.n; i++) {
    snprintf(name, sizeof name, "%s_GRAD_%s", E->PU, m->params.v[i]->name);
    macro(E, name, m->params.v[i]->offset);
  }
  snprintf(name, sizeof name, "%s_SIGNATURE", E->PU);
  buf_printf(out, "#define %-28s 0x%08Xu\n", name, (unsigned)param_signature(E));
  if (m->n_params) {
    snprintf(name, sizeof name, "%s_N_GRAD_RANGES", E->PU);
    macro(E, name, 1);
  }
  if (o->b->loops) {
    Functions fs = functions(E);
    snprintf(name, sizeof name, "%s_WORKSPACE_SIZE", E->PU);
    macro(E, name, (int)workspace_size(E, &fs)); /* reals in ws[] of the _ws functions */
    functions_free(&fs);
  }
  const char *P = E->P, *R = E->R;
  if (o->b->loss >= 0) {
    buf_printf(out, "\n/* The loss for one sample: in[%s_N_IN] the sample, p[%s_N_PARAMS] the params. */\n", E->PU, E->PU);
    buf_printf(out, "%s %s_loss(const %s *in, const %s *p);\n", R, P, R, R);
    buf_printf(out, "/* The loss, and its gradient with respect to every param in grad[%s_N_PARAMS], in one pass. */\n", E->PU);
    buf_printf(out, "%s %s_loss_grad(const %s *in, const %s *p, %s *grad);\n", R, P, R, R, R);
    for (int pass = 0; pass < 2; pass++) {
      SymList *list = pass ? &m->inputs : &m->params;
      for (int i = 0; i < list->n; i++) {
        Sym *sym = list->v[i];
        if (pass && !o->wrt[i])
          continue;
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
  }
  if (o->b->loss >= 0 && m->n_params)
    buf_printf(out, "/* One step of gradient descent on one sample: p -= lr * d loss / d p, in place,\n"
                    "   without a gradient array; the result is the loss before the step. */\n"
                    "%s %s_sgd_step(%s *p, const %s *in, %s lr);\n", R, P, R, R, R);
  buf_printf(out, "\n/* The outputs, in declaration order, row-major, in out[%s_N_OUT]. */\n", E->PU);
  buf_printf(out, "void %s_outputs(const %s *in, const %s *p, %s *out);\n", P, R, R, R);
  buf_printf(out, "/* Initial params as the initialisers say; the same seed gives the same values. */\n");
  buf_printf(out, "void %s_init(%s *p, uint32_t seed);\n", P, R);
  if (m->n_params) {
    buf_printf(out, "/* The name of each param scalar: \"w\", \"v[3]\", \"W[0][1]\". */\n"
                    "extern const char *const %s_param_names[%s_N_PARAMS];\n", P, E->PU);
    buf_printf(out, "/* Where the gradient's values go in p[]: {offset, count} runs, in grad[] order. */\n"
                    "extern const int32_t %s_grad_ranges[%s_N_GRAD_RANGES][2];\n", P, E->PU);
  }
  if (o->b->loops) {
    Functions fs = functions(E);
    buf_printf(out, "\n/* The same functions with the workspace their loops need supplied by the\n"
                    "   caller: ws[%s_WORKSPACE_SIZE] (the ones above keep it on the stack). */\n", E->PU);
    for (int i = 0; i < fs.n; i++)
      buf_printf(out, "%s %s_%s_ws(%s, %s *ws);\n", fs.v[i].ret, P, fs.v[i].name, fs.v[i].params, R);
    functions_free(&fs);
  }
  emit_resources(E);
}

static Emitter emitter(EmitOpts *o, Buf *out) {
  Emitter E = {o, out, o->prefix, xstrdup(o->prefix), xprintf("%s_real", o->prefix), -1};
  for (char *c = E.PU; *c; c++)
    *c = (char)toupper((unsigned char)*c);
  return E;
}

void emit_header(Buf *out, EmitOpts *o) {
  Emitter E = emitter(o, out);
  banner(&E, "Header");
  buf_printf(out, "#ifndef DCC_%s_H\n#define DCC_%s_H\n\n#include <stdint.h>\n\n", E.PU, E.PU);
  buf_puts(out, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n");
  emit_decls(&E);
  buf_puts(out, "\n#ifdef __cplusplus\n}\n#endif\n\n");
  buf_printf(out, "#endif /* DCC_%s_H */\n", E.PU);
  free(E.PU);
  free(E.R);
}

/* ---- _init ------------------------------------------------------------- */

static void emit_init(Emitter *E) {
  Model *m = E->o->b->m;
  Buf *out = E->out;
  bool any_uniform = false, any_normal = false, any_loop = false;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    InitKind k = s->init.kind;
    if (k == INIT_DEFAULT)
      k = s->shape.rank == 2 ? INIT_GLOROT : INIT_ZEROS;
    any_uniform |= k == INIT_GLOROT || k == INIT_GLOROT_FANS || k == INIT_UNIFORM;
    any_normal |= k == INIT_NORMAL;
    any_loop |= shape_size(s->shape) > 1; /* a tensor of one value is one assignment */
  }
  const char *P = E->P, *R = E->R, *f = E->o->is_float ? "f" : "";
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
    if (in.kind == INIT_DEFAULT)
      in.kind = s->shape.rank == 2 ? INIT_GLOROT : INIT_ZEROS;
    int n = shape_size(s->shape);
    Buf val = {0};
    switch (in.kind) {
    case INIT_CONST:
      emit_real_const(&val, in.a, E->o->is_float);
      break;
    case INIT_ZEROS:
    case INIT_DEFAULT:
      emit_real_const(&val, 0, E->o->is_float);
      break;
    case INIT_GLOROT:
    case INIT_GLOROT_FANS:
    case INIT_UNIFORM: {
      double lo = in.a, hi = in.b;
      if (in.kind != INIT_UNIFORM) {
        double fan_in = in.kind == INIT_GLOROT ? s->shape.dim[1] : in.a;
        double fan_out = in.kind == INIT_GLOROT ? s->shape.dim[0] : in.b;
        hi = sqrt(6.0 / (fan_in + fan_out));
        lo = -hi;
      }
      buf_printf(&val, "%s_rng_uniform(&s, ", P);
      emit_real_const(&val, lo, E->o->is_float);
      buf_puts(&val, ", ");
      emit_real_const(&val, hi, E->o->is_float);
      buf_putc(&val, ')');
      break;
    }
    case INIT_NORMAL:
      buf_printf(&val, "%s_rng_normal(&s, ", P);
      emit_real_const(&val, in.a, E->o->is_float);
      buf_puts(&val, ", ");
      emit_real_const(&val, in.b, E->o->is_float);
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

/* ---- the source ---------------------------------------------------------- */

long emit_workspace_size(EmitOpts *o) {
  Buf none = {0};
  Emitter E = emitter(o, &none);
  Functions fs = functions(&E);
  long n = workspace_size(&E, &fs);
  functions_free(&fs);
  free(E.PU);
  free(E.R);
  return n;
}

/* ---- _param_names ------------------------------------------------------- */

/* With loops, a tensor's element names are spelt by the preprocessor, so
 * that the source stays small however wide the layers: P_NAMES_C2(f, x,
 * "1") expands to f(x, "100"), ..., f(x, "199"), and a range 0..n-1 is a
 * few such blocks.  The R family enumerates rows, the C family columns (a
 * macro cannot expand inside itself, so rows and columns need their own). */
#define NAME_LEVELS 6 /* 10^6 numbers: DCC_MAX_DIM has 7 digits */

static void emit_name_macros(Emitter *E) {
  buf_puts(E->out, "\n/* Element names by the preprocessor: ..._C<L>(f, x, d) is f(x, d followed by\n"
                   "   every L-digit string), the R macros the same for rows. */\n");
  for (int fam = 0; fam < 2; fam++)
    for (int level = 1; level <= NAME_LEVELS; level++) {
      char fc = "RC"[fam];
      buf_printf(E->out, "#define %s_NAMES_%c%d(f, x, d)", E->PU, fc, level);
      for (int dgt = 0; dgt < 10; dgt++) {
        if (level == 1)
          buf_printf(E->out, "%s f(x, d \"%d\")", dgt ? "," : "", dgt);
        else
          buf_printf(E->out, "%s %s_NAMES_%c%d(f, x, d \"%d\")", dgt ? "," : "", E->PU, fc, level - 1, dgt);
      }
      buf_putc(E->out, '\n');
    }
  buf_printf(E->out, "#define %s_NAMES_EL(x, j) x j \"]\"\n", E->PU);
}

/* The numbers 0..n-1 as blocks of the family fam: f applied to x and each
 * number, with no leading zeros. */
static void emit_name_range(Emitter *E, char fam, const char *f, const char *x, long n) {
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
      buf_puts(E->out, first ? "" : ", ");
      first = false;
      if (level == 0)
        buf_printf(E->out, "%s(%s, \"%ld\")", f, x, v);
      else if (v == 0)
        buf_printf(E->out, "%s_NAMES_%c%d(%s, %s, \"\")", E->PU, fam, level, f, x);
      else
        buf_printf(E->out, "%s_NAMES_%c%d(%s, %s, \"%ld\")", E->PU, fam, level, f, x, v / block);
      v += block;
    }
    len_lo = len_hi;
  }
}

static void emit_param_names(Emitter *E) {
  Model *m = E->o->b->m;
  Buf *out = E->out;
  char sfx[48];
  bool macros = false;
  for (int i = 0; i < m->params.n; i++)
    macros |= E->o->b->loops && m->params.v[i]->shape.rank;
  if (macros) {
    emit_name_macros(E);
    for (int i = 0; i < m->params.n; i++) {
      Sym *s = m->params.v[i];
      if (s->shape.rank != 2)
        continue;
      buf_printf(out, "#define %s_NAMES_ROW_%s(x, i) ", E->PU, s->name);
      char *ctx = xprintf("x i \"][\"");
      char *el = xprintf("%s_NAMES_EL", E->PU);
      emit_name_range(E, 'C', el, ctx, s->shape.dim[1]);
      buf_putc(out, '\n');
      free(ctx);
      free(el);
    }
  }
  buf_printf(out, "\nconst char *const %s_param_names[%s_N_PARAMS] = {\n", E->P, E->PU);
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (macros && s->shape.rank) {
      char *ctx = xprintf("\"%s[\"", s->name);
      buf_puts(out, "    ");
      if (s->shape.rank == 1) {
        char *el = xprintf("%s_NAMES_EL", E->PU);
        emit_name_range(E, 'C', el, ctx, s->shape.dim[0]);
        free(el);
      } else {
        char *row = xprintf("%s_NAMES_ROW_%s", E->PU, s->name);
        emit_name_range(E, 'R', row, ctx, s->shape.dim[0]);
        free(row);
      }
      buf_puts(out, ",\n");
      free(ctx);
      continue;
    }
    for (int k = 0; k < shape_size(s->shape); k++)
      buf_printf(out, "    \"%s%s\",\n", s->name, elem_suffix(s->shape, k, sfx, sizeof sfx, true));
  }
  buf_puts(out, "};\n");
  buf_printf(out, "\nconst int32_t %s_grad_ranges[%s_N_GRAD_RANGES][2] = {{0, %d}};\n", E->P, E->PU, m->n_params);
}

/* ---- the source ---------------------------------------------------------- */

void emit_source(Buf *out, EmitOpts *o) {
  Emitter E = emitter(o, out);
  Model *m = o->b->m;
  banner(&E, "Source");
  if (o->header_name) {
    buf_printf(out, "#include \"%s\"\n\n#include <math.h>\n#include <stdint.h>\n", o->header_name);
  } else {
    buf_puts(out, "#include <math.h>\n#include <stdint.h>\n");
    emit_decls(&E);
  }
  if (m->n_params)
    emit_param_names(&E);
  Functions fs = functions(&E);
  long *stack = xmalloc((size_t)(fs.n + 1) * sizeof *stack);
  for (int i = 0; i < fs.n; i++)
    stack[i] = emit_function(&E, &fs.v[i]);
  free(o->stack_bytes);
  o->stack_bytes = stack; /* for the header, written next */
  functions_free(&fs);
  emit_init(&E);
  free(E.PU);
  free(E.R);
}
