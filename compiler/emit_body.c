/* emit_body.c — the body of each emitted function: C expressions, loop
 * nests and statements.
 *
 * Requires: a lowered DAG (every live op has a C spelling) and a function's
 * roots.  Guarantees: C99 statements that compile with -std=c99 -Wall
 * -Wextra -Werror -pedantic, allocate nothing and keep no state; the same
 * text for the same DAG (every order is an id or declaration order).  With
 * loops (Built.loops) a stored tensor's statement is a loop nest over fixed
 * bounds, one function per tensor op (emit_MATMUL, ...); views are read
 * inside their readers' loops through view.c.  Each body is written once
 * (plan_body), and what it declares (values, loop variables, accumulators,
 * pointers) is counted as it is declared: the function's stack by dcc's
 * accounting comes from those counts and the schedule's workspace. */
#include "dcc.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A row group sums at most this many products in one loop: each keeps two
 * accumulators a row, and more would not stay in registers. */
#define ROW_GROUP_PRODUCTS 6

/* The state of writing one body. */
typedef struct {
  const Emit *E;
  Schedule *s;
  Dag *d;
  Buf *out;
  int acc_node;   /* a product whose row sum is in acc where it is read, or -1 */
  int outer_node; /* an outer product read as outer_text, or -1 */
  const char *outer_text;
  /* a sum along a dimension: its term kk is its operand's element
   * outer + kk * stride + inner (emit_SUMD) */
  Ix sumd_outer, sumd_inner;
  long sumd_stride;
  /* what the body has declared so far (for its stack) */
  int reals;      /* scalar values: temporaries, locals, accumulators */
  int loops;      /* loop variables */
  int pointers;   /* pointers to stored tensors */
  /* the function's roots, the names taken, the last temporary's number */
  const Root *roots;
  int nroots;
  StrMap *used;
  int temps;
  /* a row group's loop (emit_row_group): the row being written ("i",
   * "i + 1"; NULL: "i"), and the products whose row sums are in
   * accumulators there, with the accumulators' names */
  const char *row;
  int nacc;
  int acc_ids[2 * ROW_GROUP_PRODUCTS];
  const char *acc_names[2 * ROW_GROUP_PRODUCTS];
  bool row_ptr; /* a lone product's row is read through `row` (reduce_terms) */
  bool pieces;  /* the function is written in parts (emit_in_pieces) */
  /* loops written as static functions of their own (emit_kernel) */
  const char *fname; /* the function's name after the prefix */
  Buf kernels;       /* their definitions */
  int nkernels;
  int kernel_params; /* the most parameters one takes */
} Body;

/* ---- names ------------------------------------------------------------ */

/* Identifiers a local variable of the emitted code must not take: C's
 * keywords, what <math.h> and <stdint.h> declare or may define, and the
 * emitted functions' own parameter names. */
static const char *const reserved_words[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "bool", "true", "false", "asm", "typeof", "fortran", "NAN", "INFINITY", "EOF",
    "NULL", "errno", "signgam", "in", "p", "grad", "out", "i", "j", "k", "ws", "acc", "acc1", "lr", "row",
    /* the nests' own locals: amax's, a convolution's and a pooling's */
    "at", "best", "o", "oy", "ox", "ci", "g", "ai", "aj", "i0", "i1", "oy0", "oy1", "oyn", "ox0", "ox1", "oxn",
    /* a recurrence's: its step, the state before and after it */
    "step", "carry", "next",
    /* a long function's: the values its parts pass on (emit_in_pieces) */
    "sc",
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
  if (name[0] == 'k' && len > 1 && strspn(name + 1, "0123456789") == len - 1)
    return true; /* a convolution's taps: k0, k1, ... */
  if (!strncmp(name, "acc", 3) && strspn(name + 3, "0123456789") == len - 3)
    return true; /* a loop's accumulators: acc, acc1, acc2, ... (a convolution's sums) */
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
char *local_name(StrMap *used, const char *user, const char *prefix) {
  char *name = user[0] == '_' ? xprintf("v%s", user) : xstrdup(user);
  for (int k = 1; reserved(name, prefix) || strmap_get(used, name); k++) {
    char *next = k == 1 ? xprintf("%s_", name) : xprintf("v%d_%s_", k, user);
    free(name);
    name = next;
  }
  strmap_put(used, name, name);
  return name;
}

/* ---- constants ---------------------------------------------------------- */

/* The shortest decimal that reads back as the same value (of the real
 * type), spelt as a floating constant: 4.0, 0.5, 1e-07, 2.5f. */
void emit_real_const(Buf *out, double v, bool is_float) {
  char buf[64];
  if (is_float && fabs(v) >= 0x1.ffffffp+127) { /* rounds to float's infinity */
    buf_puts(out, v < 0 ? "-HUGE_VALF" : "HUGE_VALF");
    return;
  }
  if (is_float && fabs(v) <= 0x1p-150) /* rounds to 0: 1e-50f is an error under -Werror */
    v = v < 0 ? -0.0 : 0.0;
  format_shortest(buf, sizeof buf, v, is_float);
  buf_puts(out, buf);
  if (!strpbrk(buf, ".eE"))
    buf_puts(out, ".0");
  if (is_float)
    buf_putc(out, 'f');
}

/* ---- expressions ---------------------------------------------------------- */

static Elem elem_copy(const Elem *e) {
  Elem c = *e;
  for (int i = 0; i < e->n; i++)
    c.at[i] = ix_copy(e->at[i]);
  return c;
}

/* The accumulator that holds node id's row sum where it is read (a
 * product summed in the loop being written), or NULL. */
static const char *acc_of(const Body *B, int id) {
  if (id == B->acc_node)
    return "acc";
  for (int k = 0; k < B->nacc; k++)
    if (B->acc_ids[k] == id)
      return B->acc_names[k];
  return NULL;
}

/* C's precedence of node id as rendered: 4 for a primary. */
static int prec_of(Body *B, int id) {
  const Node *nd = &B->d->nodes[id];
  const OpInfo *oi = &op_info[nd->op];
  if (B->s->name[id] || acc_of(B, id))
    return 4;
  if (id == B->outer_node)
    return op_info[OP_MUL].prec;
  if (oi->kind == KIND_INFIX)
    return oi->prec;
  if (oi->kind == KIND_PREFIX)
    return 3;
  if (nd->op == OP_CONST)
    return nd->val < 0 ? 3 : 4;
  if (oi->form == FORM_VIEW) /* read as its operand */
    return prec_of(B, nd->a[0]);
  return 4;
}

static void render(Body *B, int id, Buf *b, bool top, const Elem *e);

static void operand(Body *B, int id, int min_prec, Buf *b, const Elem *e) {
  if (prec_of(B, id) < min_prec) {
    buf_putc(b, '(');
    render(B, id, b, true, e);
    buf_putc(b, ')');
  } else {
    render(B, id, b, false, e);
  }
}

/* Where param scalar j of the model is read: p[] at its place there, or
 * with --weights and --train/--freeze a frozen param's constant array
 * (emit_api.c defines P_frozen_NAME); *at gets the index into it. */
const char *param_array(const Emit *E, int j, int *at, char *buf, size_t size) {
  Sym *s = model_param_at(E->b->m, j);
  if (!s) { /* not a param: unreachable */
    *at = j;
    return "p";
  }
  *at = j - s->offset + (s->p_offset >= 0 ? s->p_offset : 0);
  if (s->p_offset >= 0)
    return "p";
  snprintf(buf, size, "%s_frozen_%s", E->P, s->name);
  return buf;
}

/* Node id's operation on its operands' values (element e of it for a
 * tensor): what its statement defines, with the parentheses C needs to
 * keep the DAG's association (a + (b + c) stays so: floating point is not
 * associative). */
static void render_def(Body *B, int id, Buf *b, bool top, const Elem *e) {
  const Node *nd = &B->d->nodes[id];
  const OpInfo *oi = &op_info[nd->op];
  bool is_float = B->E->is_float;
  switch (oi->kind) {
  case KIND_LEAF:
    if (nd->op == OP_CONST) {
      if (nd->val < 0 && !top) {
        buf_putc(b, '(');
        emit_real_const(b, nd->val, is_float);
        buf_putc(b, ')');
      } else {
        emit_real_const(b, nd->val, is_float);
      }
    } else {
      char name[DCC_MAX_NAME_LEN + 64];
      const char *arr = "in";
      int base = nd->index;
      if (nd->op == OP_PARAM)
        arr = param_array(B->E, nd->index, &base, name, sizeof name);
      if (e) {
        char *at = ix_str(ix_plus(base, elem_offset(nd->shape, elem_copy(e))));
        buf_printf(b, "%s[%s]", arr, at);
        free(at);
      } else {
        buf_printf(b, "%s[%d]", arr, base);
      }
    }
    return;
  case KIND_INFIX:
    operand(B, nd->a[0], oi->prec, b, e);
    buf_printf(b, " %s ", oi->c);
    operand(B, nd->a[1], oi->prec + 1, b, e);
    return;
  case KIND_PREFIX:
    buf_puts(b, oi->c);
    operand(B, nd->a[0], 4, b, e);
    return;
  case KIND_CALL:
    if (!*oi->c) { /* lower.c missed it: never print a call without a name */
      fprintf(stderr, "dcc: internal error: %s reached the C emitter unlowered\n", oi->print);
      abort();
    }
    buf_printf(b, "%s%s(", oi->c, is_float ? "f" : "");
    for (int i = 0; i < nd->nops; i++) {
      if (i)
        buf_puts(b, ", ");
      render(B, nd->a[i], b, true, e);
    }
    buf_putc(b, ')');
    return;
  case KIND_SELECT:
    buf_putc(b, '(');
    render(B, nd->a[0], b, true, e);
    buf_printf(b, " %s ", oi->c);
    render(B, nd->a[1], b, true, e);
    buf_puts(b, " ? ");
    render(B, nd->a[2], b, true, e);
    buf_puts(b, " : ");
    render(B, nd->a[3], b, true, e);
    buf_putc(b, ')');
    return;
  case KIND_WRAP:
    render(B, nd->a[0], b, top, e);
    return;
  case KIND_TENSOR:
    if (oi->form == FORM_VIEW || oi->form == FORM_ELEMENT) { /* read through the view */
      Elem at = view_elem(B->d, id, e ? elem_copy(e) : elem_flat(ix_num(0)));
      render(B, nd->a[0], b, top, &at);
      elem_free(at);
      return;
    }
    buf_puts(b, "?"); /* stored by the schedule: never rendered inline */
    return;
  }
}

/* The C expression of node id (of its element e for a tensor): its name if
 * it has one, else its definition. */
static void render(Body *B, int id, Buf *b, bool top, const Elem *e) {
  const Node *nd = &B->d->nodes[id];
  if (!nd->shape.rank)
    e = NULL; /* every element of a scalar is the scalar */
  const char *acc = acc_of(B, id);
  if (acc) { /* the row sum of a product fused into this loop */
    buf_puts(b, acc);
    return;
  }
  if (id == B->outer_node) { /* the element of the outer product whose loop this is */
    buf_puts(b, B->outer_text);
    return;
  }
  if (B->s->name[id]) {
    buf_puts(b, B->s->name[id]);
    if (e) {
      char *at = ix_str(elem_offset(nd->shape, elem_copy(e)));
      buf_printf(b, "[%s]", at);
      free(at);
    }
    return;
  }
  render_def(B, id, b, top, e);
}

/* render() at a flat index given as text ("i", "k + 2") */
static void render_at(Body *B, int id, Buf *b, bool top, const char *ix) {
  Elem e = elem_flat(ix_text(ix));
  render(B, id, b, top, &e);
  elem_free(e);
}

/* render() at a matrix element given as text (row, col) */
static void render_2d(Body *B, int id, const char *row, const char *col, Buf *b) {
  Elem e = elem_2d(ix_text(row), ix_text(col));
  render(B, id, b, false, &e);
  elem_free(e);
}

/* ---- loops ----------------------------------------------------------------- */

/* A loop variable, an accumulator, a pointer: declared, and counted. */
static void loop_var(Body *B) { B->loops++; }

/* The term A[i][kk] B[kk][j] (B[kk] for a vector B) of matrix product nd. */
static void matmul_term(Body *B, const Node *nd, const char *kk, Buf *b) {
  if (B->row_ptr)
    buf_printf(b, "row[%s]", kk);
  else
    render_2d(B, nd->a[0], B->row ? B->row : "i", kk, b);
  buf_puts(b, " * ");
  if (nd->shape.rank == 1)
    render_at(B, nd->a[1], b, false, kk);
  else
    render_2d(B, nd->a[1], kk, "j", b);
}

/* Term kk of reduction nd: a product's A[i][kk] B[kk][j], or a sum's
 * operand element kk (in parentheses if it is itself a sum). */
static void reduce_term(Body *B, const Node *nd, const char *kk, Buf *b) {
  if (nd->op == OP_MATMUL) {
    matmul_term(B, nd, kk, b);
    return;
  }
  Ix at = ix_text(kk);
  if (nd->op == OP_SUMD)
    at = ix_sum(ix_copy(B->sumd_outer), ix_sum(ix_mul(at, B->sumd_stride), ix_copy(B->sumd_inner)));
  Elem e = elem_flat(at);
  operand(B, nd->a[0], 2, b, &e);
  elem_free(e);
}

/* Whether the row of matrix-vector product nd is read through a pointer
 * to its first element, `row`: its matrix is stored row by row (a param,
 * an input or a stored tensor, not a view).  `row[k]` rather than
 * `p[2080 + i * 32 + k]`, whose int index clang's vectoriser prices as a
 * gather: with it, the 64-32-10's 10x32 product stayed a row at a time
 * even as a function of its own (emit_kernel). */
static bool row_pointer(Body *B, const Node *nd) {
  if (nd->op != OP_MATMUL || nd->shape.rank != 1 || B->row)
    return false;
  int a = nd->a[0];
  Op op = (Op)B->d->nodes[a].op;
  return op == OP_PARAM || op == OP_INPUT || B->s->name[a];
}

/* The K terms of reduction nd (a matrix product's row, a sum of 8 or
 * more) are added in two chains, even and odd k, eight terms per step as
 * a small tree ((t0 + t2) + (t4 + t6)): with one running sum, every add
 * waits for the one before it, and the compiler may not reorder
 * floating-point adds itself.  Two chains of independent pairs fill the
 * two lanes of a vector register and halve the instructions per term
 * (make bench).  The sum is the same to rounding, not bit for bit, as the
 * serial one; K < 8 keeps the serial sum.  Leaves the sum in acc. */
static void reduce_terms(Body *B, const Node *nd, int K, const char *in) {
  const char *R = B->E->R;
  Buf *out = B->out;
  Buf t[8] = {{0}};
  if (row_pointer(B, nd)) {
    render_2d(B, nd->a[0], "i", "0", &t[0]);
    buf_printf(out, "%s        const %s *row = &%s;\n", in, R, t[0].s);
    t[0].len = 0;
    B->row_ptr = true;
    B->pointers++;
  }
  if (K < 8) {
    reduce_term(B, nd, "0", &t[0]);
    reduce_term(B, nd, "k", &t[1]);
    buf_printf(out, "%s        %s acc = %s;\n", in, R, t[0].s);
    buf_printf(out, "%s        for (int k = 1; k < %d; k++)\n", in, K);
    buf_printf(out, "%s            acc += %s;\n", in, t[1].s);
    B->reals++, loop_var(B);
  } else {
    int K8 = K / 8 * 8;
    for (int q = 0; q < 8; q++) {
      char kk[16];
      snprintf(kk, sizeof kk, "%d", q);
      reduce_term(B, nd, kk, &t[q]);
    }
    buf_printf(out, "%s        %s acc = (%s + %s) + (%s + %s);\n", in, R, t[0].s, t[2].s, t[4].s, t[6].s);
    buf_printf(out, "%s        %s acc1 = (%s + %s) + (%s + %s);\n", in, R, t[1].s, t[3].s, t[5].s, t[7].s);
    B->reals += 2;
    if (K8 > 8) {
      for (int q = 0; q < 8; q++) {
        char kk[16];
        snprintf(kk, sizeof kk, q ? "k + %d" : "k", q);
        t[q].len = 0;
        reduce_term(B, nd, kk, &t[q]);
      }
      buf_printf(out, "%s        for (int k = 8; k < %d; k += 8) {\n", in, K8);
      buf_printf(out, "%s            acc += (%s + %s) + (%s + %s);\n", in, t[0].s, t[2].s, t[4].s, t[6].s);
      buf_printf(out, "%s            acc1 += (%s + %s) + (%s + %s);\n", in, t[1].s, t[3].s, t[5].s, t[7].s);
      buf_printf(out, "%s        }\n", in);
      loop_var(B);
    }
    if (K - K8 == 1) {
      t[0].len = 0;
      char kk[16];
      snprintf(kk, sizeof kk, "%d", K8);
      reduce_term(B, nd, kk, &t[0]);
      buf_printf(out, "%s        acc += %s;\n", in, t[0].s);
    } else if (K > K8) {
      t[0].len = 0;
      reduce_term(B, nd, "k", &t[0]);
      buf_printf(out, "%s        for (int k = %d; k < %d; k++)\n", in, K8, K);
      buf_printf(out, "%s            acc += %s;\n", in, t[0].s);
      loop_var(B);
    }
    buf_printf(out, "%s        acc += acc1;\n", in);
  }
  B->row_ptr = false;
  for (int q = 0; q < 8; q++)
    free(t[q].s);
}

/* ---- each tensor op's statement: a loop nest over fixed bounds --------------
 *
 * The statement of a stored tensor, or of a reduction to a scalar.  A
 * product's rows and long sums are added as reduce_terms says, shorter
 * sums and maxima left to right: as unroll.c associates them (other sums
 * may still differ in the canonical order of +; the two lowerings agree to
 * about 1e-13).  N is the C name of the node's storage.  With update
 * (_sgd_step), N is a param and each value v is applied as N -= lr * v,
 * rounded as _loss_grad's gradient and the update after it would be. */

/* N[i][j] = sum over k of A[i][k] B[k][j] */
static void emit_MATMUL(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  Shape as = B->d->nodes[nd->a[0]].shape;
  int m = as.dim[0], K = as.dim[1];
  bool vec = nd->shape.rank == 1;
  int cols = vec ? 1 : nd->shape.dim[1];
  const char *in = vec ? "" : "    ";
  buf_printf(B->out, "    for (int i = 0; i < %d; i++) {\n", m);
  loop_var(B);
  if (!vec) {
    buf_printf(B->out, "        for (int j = 0; j < %d; j++) {\n", cols);
    loop_var(B);
  }
  reduce_terms(B, nd, K, in);
  const char *op = update ? "-= lr *" : "=";
  if (vec)
    buf_printf(B->out, "        %s[i] %s acc;\n", N, op);
  else
    buf_printf(B->out, "            %s[i * %d + j] %s acc;\n", N, cols, op);
  if (!vec)
    buf_puts(B->out, "        }\n");
  buf_puts(B->out, "    }\n");
}

/* N[i][j] = u[i] v[j] */
/* "-= lr * (g)" for the deferred gradient g that outer product id's loop
 * updates: g at element (i, col), its outer product's element acc * y. */
static char *epilogue_value(Body *B, int id, int g, const char *y, int cols, const char *col) {
  char *text = xprintf("acc * %s", y), *at = xprintf("i * %d + %s", cols, col);
  Buf v = {0};
  B->outer_node = id;
  B->outer_text = text;
  Elem e = elem_flat(ix_text(at));
  render_def(B, g, &v, true, &e);
  elem_free(e);
  B->outer_node = -1;
  char *r = xprintf("-= lr * (%s)", v.s);
  free(v.s);
  free(text);
  free(at);
  return r;
}

/* Row i of outer product id, its element (i, j) acc * v[j] with the row's
 * u[i] in accumulator acc (a C name), at indent in (more than the loop
 * over i's). */
static void emit_outer_row(Body *B, int id, const char *N, bool update, const char *acc, const char *in) {
  const Node *nd = &B->d->nodes[id];
  int cols = nd->shape.dim[1], cols16 = cols / 16 * 16;
  Buf y = {0};
  /* Blocks of 16 columns, each a fixed-count loop the compiler unrolls
   * whole: a row in one loop pays the loop's count and test every vector
   * or two (make bench: 1.9 against 1.7 instructions per element). */
  char *assign = xprintf(update ? "-= lr * (%s * %%s)" : B->s->sum_into[id] >= 0 ? "+= %s * %%s" : "= %s * %%s", acc);
  int epi = B->s->epilogue[id];
  if (cols16) {
    render_at(B, nd->a[1], &y, false, "j + k");
    char *value = epi >= 0 ? epilogue_value(B, id, epi, y.s, cols, "j + k") : xprintf(assign, y.s);
    buf_printf(B->out, "%sfor (int j = 0; j < %d; j += 16)\n", in, cols16);
    buf_printf(B->out, "%s    for (int k = 0; k < 16; k++)\n", in);
    buf_printf(B->out, "%s        %s[i * %d + j + k] %s;\n", in, N, cols, value);
    loop_var(B), loop_var(B);
    free(value);
  }
  if (cols > cols16) {
    y.len = 0;
    render_at(B, nd->a[1], &y, false, "j");
    char *value = epi >= 0 ? epilogue_value(B, id, epi, y.s, cols, "j") : xprintf(assign, y.s);
    buf_printf(B->out, "%sfor (int j = %d; j < %d; j++)\n", in, cols16, cols);
    buf_printf(B->out, "%s    %s[i * %d + j] %s;\n", in, N, cols, value);
    loop_var(B);
    free(value);
  }
  free(assign);
  free(y.s);
}

static void emit_OUTER(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  Buf x = {0};
  render_at(B, nd->a[0], &x, true, "i");
  buf_printf(B->out, "    for (int i = 0; i < %d; i++) {\n", B->d->nodes[nd->a[0]].shape.dim[0]);
  buf_printf(B->out, "        const %s acc = %s;\n", B->E->R, x.s);
  loop_var(B), B->reals++;
  emit_outer_row(B, id, N, update, "acc", "        ");
  buf_puts(B->out, "    }\n");
  free(x.s);
}

/* zeros but one element or row (an update touches only that) */
static void emit_scatter(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  const char *op = update ? "-= lr *" : "=";
  Buf x = {0};
  if (!update) {
    buf_printf(B->out, "    for (int i = 0; i < %d; i++)\n        %s[i] = ", shape_size(nd->shape), N);
    emit_real_const(B->out, 0, B->E->is_float);
    buf_puts(B->out, ";\n");
    loop_var(B);
  }
  if (nd->op == OP_SCATTER) {
    render(B, nd->a[0], &x, !update, NULL);
    buf_printf(B->out, "    %s[%d] %s %s;\n", N, nd->index, op, x.s);
  } else {
    int cols = shape_inner(nd->shape);
    render_at(B, nd->a[0], &x, !update, "j");
    buf_printf(B->out, "    for (int j = 0; j < %d; j++)\n        %s[%d + j] %s %s;\n", cols, N, nd->index * cols, op,
               x.s);
    loop_var(B);
  }
  free(x.s);
}
#define emit_SCATTER emit_scatter
#define emit_SCATROW emit_scatter

/* a scalar sum or maximum of a tensor's elements */
static void emit_reduce(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  const char *R = B->E->R;
  int len = shape_size(B->d->nodes[nd->a[0]].shape);
  (void)update;
  if (nd->op == OP_SUM && len >= 8) { /* as a product's row, and as unroll.c adds it */
    buf_printf(B->out, "    %s %s;\n    {\n", R, N);
    reduce_terms(B, nd, len, "");
    buf_printf(B->out, "        %s = acc;\n    }\n", N);
    return;
  }
  Buf x = {0}, y = {0};
  render_at(B, nd->a[0], &x, true, "0");
  render_at(B, nd->a[0], &y, true, "i");
  buf_printf(B->out, "    %s %s = %s;\n", R, N, x.s);
  buf_printf(B->out, "    for (int i = 1; i < %d; i++)", len);
  loop_var(B);
  if (nd->op == OP_SUM) {
    buf_printf(B->out, "\n        %s += %s;\n", N, y.s);
  } else {
    buf_printf(B->out, " {\n        const %s acc = %s;\n        %s = acc > %s ? acc : %s;\n    }\n", R, y.s, N, N, N);
    B->reals++;
  }
  free(x.s);
  free(y.s);
}
#define emit_SUM emit_reduce
#define emit_MAXR emit_reduce

/* ---- along one dimension: the slices of a reduction -------------------------
 *
 * A reduction along dimension k of x (SUMD, ATMAX) and UNMAX, its
 * adjoint, visit x's slices: a loop over the elements before k (i) and
 * one over those after it (j), either left out when it has one element;
 * element t of the slice is x's outer + t * stride + inner. */

typedef struct {
  int n, inner, outer;
  const char *in; /* the extra indent of the loops' body */
  char *out_ix;   /* the reduction's element: "i * 4 + j", "i" */
} Slices;

static Slices slices_open(Body *B, Shape xs, int k) {
  Slices sl = {xs.dim[k], 1, 1, "", NULL};
  for (int i = k + 1; i < xs.rank; i++)
    sl.inner *= xs.dim[i];
  sl.outer = shape_size(xs) / sl.n / sl.inner;
  B->sumd_stride = sl.inner;
  if (sl.outer > 1 && sl.inner > 1) {
    B->sumd_outer = ix_mul(ix_text("i"), (long)sl.n * sl.inner);
    B->sumd_inner = ix_text("j");
    buf_printf(B->out, "    for (int i = 0; i < %d; i++) {\n        for (int j = 0; j < %d; j++) {\n", sl.outer, sl.inner);
    loop_var(B), loop_var(B);
    sl.in = "    ";
    sl.out_ix = xprintf("i * %d + j", sl.inner);
  } else {
    B->sumd_outer = sl.outer > 1 ? ix_mul(ix_text("i"), sl.n) : ix_num(0);
    B->sumd_inner = sl.outer > 1 ? ix_num(0) : ix_text("i");
    buf_printf(B->out, "    for (int i = 0; i < %d; i++) {\n", sl.outer > 1 ? sl.outer : sl.inner);
    loop_var(B);
    sl.out_ix = xstrdup("i");
  }
  return sl;
}

static void slices_close(Body *B, Slices *sl) {
  buf_puts(B->out, *sl->in ? "        }\n    }\n" : "    }\n");
  ix_free(B->sumd_outer);
  ix_free(B->sumd_inner);
  free(sl->out_ix);
}

/* x's element t of the slice (t C text: "k", "at") */
static void render_slice(Body *B, int x, const char *t, Buf *b) {
  Ix at = ix_sum(ix_copy(B->sumd_outer), ix_sum(ix_mul(ix_text(t), B->sumd_stride), ix_copy(B->sumd_inner)));
  Elem e = elem_flat(at);
  render(B, x, b, true, &e);
  elem_free(e);
}

/* int at = the index of the slice's first largest element of t */
static void emit_first_largest(Body *B, int t, int n, const char *in) {
  Buf a = {0}, b = {0};
  render_slice(B, t, "k", &a);
  render_slice(B, t, "at", &b);
  buf_printf(B->out, "%s        int at = 0;\n", in);
  buf_printf(B->out, "%s        for (int k = 1; k < %d; k++)\n", in, n);
  buf_printf(B->out, "%s            if (%s > %s)\n%s                at = k;\n", in, a.s, b.s, in);
  loop_var(B), loop_var(B); /* k, at */
  free(a.s);
  free(b.s);
}

/* N[o][q] = sum over k of X[o][k][q], each sum as a product's row */
static void emit_SUMD(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  (void)update;
  Slices sl = slices_open(B, B->d->nodes[nd->a[0]].shape, nd->index);
  reduce_terms(B, nd, sl.n, sl.in);
  buf_printf(B->out, "%s        %s[%s] = acc;\n", sl.in, N, sl.out_ix);
  slices_close(B, &sl);
}

/* N = b at the first largest of a along a dimension; amax (b is a) keeps
 * the running largest, as MAXR does */
static void emit_ATMAX(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  const char *R = B->E->R;
  Shape xs = B->d->nodes[nd->a[0]].shape;
  bool amax = nd->a[0] == nd->a[1], scalar = !nd->shape.rank;
  Slices sl = {xs.dim[0], 1, 1, "", NULL};
  (void)update;
  if (scalar) { /* of a vector: a scalar, in a block of its own */
    buf_printf(B->out, "    %s %s;\n    {\n", R, N);
    B->sumd_outer = ix_num(0), B->sumd_inner = ix_num(0), B->sumd_stride = 1;
  } else {
    sl = slices_open(B, xs, nd->index);
  }
  const char *in = scalar ? "" : sl.in;
  Buf x = {0};
  if (amax) {
    Buf t0 = {0};
    render_slice(B, nd->a[0], "0", &t0);
    render_slice(B, nd->a[0], "k", &x);
    buf_printf(B->out, "%s        %s best = %s;\n", in, R, t0.s);
    buf_printf(B->out, "%s        for (int k = 1; k < %d; k++) {\n", in, sl.n);
    buf_printf(B->out, "%s            const %s acc = %s;\n", in, R, x.s);
    buf_printf(B->out, "%s            best = acc > best ? acc : best;\n%s        }\n", in, in);
    B->reals += 2, loop_var(B);
    free(t0.s);
  } else {
    emit_first_largest(B, nd->a[0], sl.n, in);
    render_slice(B, nd->a[1], "at", &x);
  }
  if (scalar) {
    buf_printf(B->out, "        %s = %s;\n    }\n", N, amax ? "best" : x.s);
    ix_free(B->sumd_outer), ix_free(B->sumd_inner);
  } else {
    buf_printf(B->out, "%s        %s[%s] = %s;\n", in, N, sl.out_ix, amax ? "best" : x.s);
    slices_close(B, &sl);
  }
  free(x.s);
}

/* N = zeros but g at each slice's first largest of t */
static void emit_UNMAX(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  (void)update;
  Slices sl = slices_open(B, nd->shape, nd->index);
  Buf g = {0};
  render_at(B, nd->a[1], &g, true, sl.out_ix);
  emit_first_largest(B, nd->a[0], sl.n, sl.in);
  Ix k = ix_sum(ix_copy(B->sumd_outer), ix_sum(ix_mul(ix_text("k"), B->sumd_stride), ix_copy(B->sumd_inner)));
  char *ks = ix_str(k);
  ix_free(k);
  buf_printf(B->out, "%s        for (int k = 0; k < %d; k++)\n", sl.in, sl.n);
  buf_printf(B->out, "%s            %s[%s] = k == at ? %s : ", sl.in, N, ks, g.s);
  emit_real_const(B->out, 0, B->E->is_float);
  buf_puts(B->out, ";\n");
  loop_var(B);
  slices_close(B, &sl);
  free(ks);
  free(g.s);
}

/* ---- convolutions and pooling (conv.c's geometry) --------------------------
 *
 * One nest over the output (o, y, x), the kernel's or window's offsets
 * (i, j) and, unless depthwise, the input channels c.  Padding bounds the
 * offsets (i0 .. i1, j0 .. j1, from oy and ox): no padded copy is made and
 * no element is tested.  The adjoints scatter into their result, zeroed
 * first: conv_x's dx[ci][iy][ix] += dY[o][oy][ox] K[o][ci][i][j], conv_k's
 * dK[o][ci][i][j] += dY[o][oy][ox] x[ci][iy][ix].  These names are
 * reserved (with g, acc, best, ai, aj): a model's value never takes one
 * and is then hidden by the nest's int. */

/* A line of the nest at depth (0: the function's own indent). */
static void nest_line(Body *B, int depth, const char *fmt, ...) {
  va_list ap;
  buf_printf(B->out, "%*s", 4 * (depth + 1), "");
  va_start(ap, fmt);
  buf_vprintf(B->out, fmt, ap);
  va_end(ap);
  buf_putc(B->out, '\n');
}

/* An input's (or output's) row or column: oy * s + i - p ("oy + i" at
 * stride 1 without padding). */
static char *conv_coord(const char *out, const char *off, int stride, int pad) {
  char *scaled = stride == 1 ? xstrdup(out) : xprintf("%s * %d", out, stride);
  char *base = strcmp(off, "0") ? xprintf("%s + %s", scaled, off) : xstrdup(scaled);
  free(scaled);
  char *r = pad ? xprintf("%s - %d", base, pad) : xstrdup(base);
  free(base);
  return r;
}

/* The shape of a convolution's or pooling's output: [O][OH][OW], or
 * [O][OW] in 1-D. */
static Shape conv_out_shape(const ConvGeom *g) {
  return g->dims == 2 ? (Shape){3, {g->O, g->OH, g->OW, 1}} : shape2(g->O, g->OW);
}

/* x[ci][row][col] (1-D: x[ci][col]) of node id, rendered into b */
static void render_chw(Body *B, int id, const ConvGeom *g, const char *c, const char *row, const char *col, Buf *b) {
  Elem e = {g->dims + 1, {ix_text(c)}};
  if (g->dims == 2)
    e.at[1] = ix_text(row);
  e.at[g->dims] = ix_text(col);
  render(B, id, b, false, &e);
  elem_free(e);
}

/* The kernel's index variables, per dimension, into at; returns their
 * number. */
static int kernel_at(const ConvGeom *g, const char *at[4]) {
  int n = 0;
  at[n++] = "o";
  if (!g->depthwise)
    at[n++] = "ci";
  if (g->dims == 2)
    at[n++] = "i";
  at[n++] = "j";
  return n;
}

/* K[o][ci][i][j] (depthwise: K[o][i][j]; 1-D without i) of node id */
static void render_kernel(Body *B, int id, const ConvGeom *g, Buf *b) {
  const char *at[4];
  Elem e = {kernel_at(g, at), {{0}}};
  for (int i = 0; i < e.n; i++)
    e.at[i] = ix_text(at[i]);
  render(B, id, b, false, &e);
  elem_free(e);
}

/* N's flat index of an element given per dimension */
static char *flat_index(Shape s, int n, const char *const *at) {
  Elem e = {n, {{0}}};
  for (int i = 0; i < n; i++)
    e.at[i] = ix_text(at[i]);
  return ix_str(elem_offset(s, e));
}

/* for (int i = 0; i < n; i++) N[i] = 0; */
static void emit_zero(Body *B, const char *N, int n) {
  buf_printf(B->out, "    for (int i = 0; i < %d; i++)\n        %s[i] = ", n, N);
  emit_real_const(B->out, 0, B->E->is_float);
  buf_puts(B->out, ";\n");
  loop_var(B);
}

/* Opens the loops over the output (o, y, x) and the offsets' bounds;
 * returns the depth inside them. */
static int conv_open(Body *B, const ConvGeom *g) {
  int depth = 0;
  nest_line(B, depth++, "for (int o = 0; o < %d; o++) {", g->O);
  loop_var(B);
  if (g->dims == 2) {
    nest_line(B, depth++, "for (int oy = 0; oy < %d; oy++) {", g->OH);
    loop_var(B);
    if (g->ph) {
      char *ys = conv_coord("oy", "0", g->stride, 0);
      nest_line(B, depth, "const int i0 = %s < %d ? %d - %s : 0;", ys, g->ph, g->ph, ys);
      nest_line(B, depth, "const int i1 = %d - %s < %d ? %d - %s : %d;", g->H + g->ph, ys, g->KH, g->H + g->ph, ys,
                g->KH);
      loop_var(B), loop_var(B);
      free(ys);
    }
  }
  nest_line(B, depth++, "for (int ox = 0; ox < %d; ox++) {", g->OW);
  loop_var(B);
  if (g->pw) {
    char *xs = conv_coord("ox", "0", g->stride, 0);
    nest_line(B, depth, "const int j0 = %s < %d ? %d - %s : 0;", xs, g->pw, g->pw, xs);
    nest_line(B, depth, "const int j1 = %d - %s < %d ? %d - %s : %d;", g->W + g->pw, xs, g->KW, g->W + g->pw, xs,
              g->KW);
    loop_var(B), loop_var(B);
    free(xs);
  }
  return depth;
}

/* Opens the loops over the channels (unless depthwise) and offsets;
 * returns the depth inside them. */
static int conv_open_terms(Body *B, const ConvGeom *g, int depth) {
  if (!g->depthwise) {
    nest_line(B, depth++, "for (int ci = 0; ci < %d; ci++)", g->C);
    loop_var(B);
  }
  if (g->dims == 2) {
    nest_line(B, depth++, g->ph ? "for (int i = i0; i < i1; i++)" : "for (int i = 0; i < %d; i++)", g->KH);
    loop_var(B);
  }
  nest_line(B, depth++, g->pw ? "for (int j = j0; j < j1; j++)" : "for (int j = 0; j < %d; j++)", g->KW);
  loop_var(B);
  return depth;
}

static void conv_close(Body *B, int depth) {
  while (depth > 0)
    nest_line(B, --depth, "}");
}

/* The output positions (oy or ox) whose window reads kernel offset k (i
 * or j) inside the input of n rows (or columns) padded by pad: oy0 <= oy
 * < oy1, from oy * stride + k - pad >= 0 and < n.  Constants without padding. */
static void conv_range(Body *B, int depth, const char *y, const char *k, int n, int pad, int stride, int out) {
  if (!pad) {
    nest_line(B, depth, "const int %s0 = 0, %s1 = %d;", y, y, out);
  } else {
    /* the first: ceil((pad - k) / stride) when k < pad; the last + 1:
     * floor((n - 1 + pad - k) / stride) + 1, at most out, 0 when negative */
    nest_line(B, depth, "const int %s0 = %s < %d ? (%d - %s) / %d : 0;", y, k, pad, pad + stride - 1, k, stride);
    nest_line(B, depth, "const int %sn = %d - %s < 0 ? 0 : (%d - %s) / %d + 1;", y, n - 1 + pad, k, n - 1 + pad, k,
              stride);
    nest_line(B, depth, "const int %s1 = %sn < %d ? %sn : %d;", y, y, out, y, out);
    loop_var(B);
  }
  loop_var(B), loop_var(B);
}

/* Opens the loop over a kernel offset v of n taps, from the last when
 * backwards; returns the depth inside it. */
static int tap_loop(Body *B, int depth, const char *v, int n, bool backwards) {
  if (backwards)
    nest_line(B, depth, "for (int %s = %d; %s >= 0; %s--) {", v, n - 1, v, v);
  else
    nest_line(B, depth, "for (int %s = 0; %s < %d; %s++) {", v, v, n, v);
  loop_var(B);
  return depth + 1;
}

static void emit_conv_taps(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  const char *R = B->E->R;
  ConvGeom g = conv_geom(B->d, nd);
  bool fwd = nd->op == OP_CONV || nd->op == OP_DWCONV, dx = nd->op == OP_CONV_X || nd->op == OP_DWCONV_X;
  const char *c = g.depthwise ? "o" : "ci";
  char *iy = conv_coord("oy", "i", g.stride, g.ph), *ix = conv_coord("ox", "j", g.stride, g.pw);
  const char *out_at[3] = {"o", "oy", "ox"}, *in_at[3] = {c, iy, ix};
  if (g.dims == 1)
    out_at[1] = "ox", in_at[1] = ix;
  const char *kk[4];
  char *kat = flat_index(nd->shape, kernel_at(&g, kk), kk);
  Buf a = {0}, b = {0};
  if (fwd || dx) /* sums of terms added in place; conv_k's are whole sums */
    emit_zero(B, N, shape_size(nd->shape));
  /* One kernel tap at a time, the output positions that read it innermost:
   * the rows' inner loop runs along a row of the output and of the input
   * with the tap's weight in a register, padding as the loop's bounds
   * (make bench: the tap loops innermost, with bounds computed at each
   * output position, cost 11-17 instructions a multiply-add).  Each sum
   * still adds its terms in the order the first nest did: the output's
   * (and conv_k's) over (ci, i, j), conv_x's over (o, oy, ox), so from
   * the last tap to the first.  With update (_sgd_step, conv_k and
   * dwconv_k only), each kernel element's sum updates it in place, N -=
   * lr * sum: the same sum, so _loss_grad's gradient and the update after
   * it, bit for bit. */
  int depth = 0;
  nest_line(B, depth++, "for (int o = 0; o < %d; o++) {", g.O);
  loop_var(B);
  if (!g.depthwise) {
    nest_line(B, depth++, "for (int ci = 0; ci < %d; ci++) {", g.C);
    loop_var(B);
  }
  if (g.dims == 2) {
    depth = tap_loop(B, depth, "i", g.KH, dx);
    conv_range(B, depth, "oy", "i", g.H, g.ph, g.stride, g.OH);
  }
  depth = tap_loop(B, depth, "j", g.KW, dx);
  conv_range(B, depth, "ox", "j", g.W, g.pw, g.stride, g.OW);
  Elem ye = {g.dims + 1, {ix_text("o"), ix_text(out_at[1]), ix_text("ox")}};
  if (fwd || dx) { /* the tap's weight, read once */
    render_kernel(B, nd->a[1], &g, &b);
    nest_line(B, depth, "const %s k = %s;", R, b.s);
  } else {
    nest_line(B, depth, "%s acc = %s;", R, B->E->is_float ? "0.0f" : "0.0");
  }
  B->reals++;
  int inner = depth;
  if (g.dims == 2) {
    nest_line(B, inner++, "for (int oy = oy0; oy < oy1; oy++)");
    loop_var(B);
  }
  nest_line(B, inner++, update ? "for (int ox = ox0; ox < ox1; ox++) {" : "for (int ox = ox0; ox < ox1; ox++)");
  loop_var(B);
  if (fwd) {
    render_chw(B, nd->a[0], &g, c, iy, ix, &a);
    char *o = flat_index(nd->shape, g.dims + 1, out_at);
    nest_line(B, inner, "%s[%s] += %s * k;", N, o, a.s);
    free(o);
  } else if (dx) {
    render(B, nd->a[0], &a, true, &ye);
    char *at = flat_index(nd->shape, g.dims + 1, in_at);
    nest_line(B, inner, "%s[%s] += %s * k;", N, at, a.s);
    free(at);
  } else if (update) { /* dY's element named g, then the term */
    render(B, nd->a[1], &a, true, &ye);
    nest_line(B, inner, "const %s g = %s;", R, a.s);
    B->reals++;
    render_chw(B, nd->a[0], &g, c, iy, ix, &b);
    nest_line(B, inner, "acc += g * %s;", b.s);
    nest_line(B, inner - 1, "}");
    nest_line(B, depth, "%s[%s] -= lr * acc;", N, kat);
  } else {
    render(B, nd->a[1], &a, true, &ye);
    render_chw(B, nd->a[0], &g, c, iy, ix, &b);
    nest_line(B, inner, "acc += %s * %s;", a.s, b.s);
    nest_line(B, depth, "%s[%s] = acc;", N, kat);
  }
  elem_free(ye);
  conv_close(B, depth);
  free(kat);
  free(a.s);
  free(b.s);
  free(iy);
  free(ix);
}

/* ---- convolutions as row sweeps ------------------------------------------ */

/* Kernels of at most this many taps are written out tap by tap, in sweeps
 * along the output's rows (emit_conv_rows); larger ones are looped over a
 * tap at a time (emit_conv_taps). */
enum { CONV_UNROLLED_TAPS = 25 };

/* Output positions along one side, from..to: the interior (every tap
 * inside the input) as one loop, each border position on its own. */
typedef struct {
  int from, to;
  bool loop;
} Span;

/* One convolution written as row sweeps: the node, its geometry, which of
 * the three it computes, and the output position being written (a
 * constant, or -1: the loop variable oy or ox). */
typedef struct {
  Body *B;
  const Node *nd;
  const char *N;
  ConvGeom g;
  enum { SWEEP_OUT, SWEEP_X, SWEEP_K } what; /* the output, dX, or dK */
  const char *c;                              /* the input's channel: "ci", "o" depthwise */
  bool first;                                 /* the output's one sum: written, not added to */
  bool skip_zero;                             /* dY is mostly zeros: skip them */
  int oy, ox;
} Sweep;

/* Side n of the input (kernel k, padding pad) in spans: the borders, each
 * position alone, and the interior, in order; returns their number. */
static int conv_spans(int n, int k, int pad, int stride, int out, Span *s) {
  int lo = (pad + stride - 1) / stride, last = n - k + pad < 0 ? -1 : (n - k + pad) / stride;
  if (lo > out)
    lo = out;
  int hi = last + 1 < lo ? lo : last + 1 > out ? out : last + 1, m = 0;
  for (int v = 0; v < lo; v++)
    s[m++] = (Span){v, v + 1, false};
  if (lo < hi)
    s[m++] = (Span){lo, hi, true};
  for (int v = hi; v < out; v++)
    s[m++] = (Span){v, v + 1, false};
  return m;
}

/* An output coordinate (the loop's variable v, or the constant at) times
 * stride plus off, as C text: "ox - 1", "oy * 2", "5". */
static char *coord_at(const char *v, int at, int stride, int off) {
  if (at >= 0)
    return xprintf("%d", at * stride + off);
  char *s = stride == 1 ? xstrdup(v) : xprintf("%s * %d", v, stride);
  if (!off)
    return s;
  char *r = xprintf("%s %c %d", s, off < 0 ? '-' : '+', off < 0 ? -off : off);
  free(s);
  return r;
}

/* Does tap offset t stay inside a side of n at output position at (-1:
 * the interior's loop, where every tap does)? */
static bool tap_inside(int at, int t, int stride, int pad, int n) {
  int v = at * stride + t - pad;
  return at < 0 || (v >= 0 && v < n);
}

/* The output's flat index at the position (dY's for dX and dK). */
static char *sweep_out(const Sweep *w) {
  char *oy = coord_at("oy", w->oy, 1, 0), *ox = coord_at("ox", w->ox, 1, 0);
  const char *at[3] = {"o", w->g.dims == 2 ? oy : ox, ox};
  const ConvGeom *g = &w->g;
  char *ix = flat_index(conv_out_shape(g), g->dims + 1, at);
  free(oy);
  free(ox);
  return ix;
}

/* The input's element that tap (i, j) meets at the position: the
 * operand's, or N's for dX. */
static void tap_input(const Sweep *w, int i, int j, Buf *b) {
  const ConvGeom *g = &w->g;
  char *row = coord_at("oy", w->oy, g->stride, i - g->ph), *col = coord_at("ox", w->ox, g->stride, j - g->pw);
  if (w->what == SWEEP_X) {
    const char *at[3] = {w->c, row, col};
    if (g->dims == 1)
      at[1] = col;
    char *ix = flat_index(w->nd->shape, g->dims + 1, at);
    buf_printf(b, "%s[%s]", w->N, ix);
    free(ix);
  } else {
    render_chw(w->B, w->nd->a[0], g, w->c, row, col, b);
  }
  free(row);
  free(col);
}

/* Whether derivative dY is mostly zeros: a max pooling's adjoint (one
 * element of a window), or relu's (x > 0 ? g : 0), or a view of one. */
static bool mostly_zero(const Dag *d, int id) {
  const Node *nd = &d->nodes[id];
  switch ((Op)nd->op) {
  case OP_UNWMAX:
    return true;
  case OP_IFGT: case OP_IFGE:
    return dag_is_const(d, nd->a[2], 0) || dag_is_const(d, nd->a[3], 0);
  case OP_BCAST: case OP_RESHAPE:
    return mostly_zero(d, nd->a[0]);
  default:
    return false;
  }
}

/* The taps of the output position, those inside the input written out:
 * the output's element adds them in (i, j) order in one statement (C adds
 * left to right, as a nest that takes one tap at a time: the same bits).
 * Where dY is mostly zeros (skip_zero), dX and dK skip a position whose
 * derivative g is zero: their sums start at +0 and never hold -0, so a
 * zero term could change them only through an infinite or NaN factor.  A
 * dense dY would pay a test per position for nothing (on the Cortex-M4F
 * the gesture CNN's step took 21% more instructions), and so does a
 * one-tap kernel, whose position is a single multiply-add (the gesture's
 * pointwise convolutions: 404,607 instructions a step with the test,
 * 291,232 without). */
static void sweep_position(const Sweep *w, int depth) {
  Body *B = w->B;
  const ConvGeom *g = &w->g;
  int kh = g->dims == 2 ? g->KH : 1, n = 0, taps[CONV_UNROLLED_TAPS];
  for (int i = 0; i < kh; i++)
    for (int j = 0; j < g->KW; j++)
      if ((g->dims == 1 || tap_inside(w->oy, i, g->stride, g->ph, g->H)) && tap_inside(w->ox, j, g->stride, g->pw, g->W))
        taps[n++] = i * g->KW + j;
  char *at = sweep_out(w);
  if (w->what == SWEEP_OUT && (n || w->first)) { /* (the padding alone: nothing to add) */
    /* the element's sum starts from its value, or from +0 (first) */
    bool one_line = n == 1 && !w->first;
    if (!one_line) {
      Buf start = {0};
      if (w->first)
        emit_real_const(&start, 0, B->E->is_float);
      else
        buf_printf(&start, "%s[%s]", w->N, at);
      nest_line(B, depth, "%s[%s] = %s%s", w->N, at, start.s, n ? "" : ";");
      free(start.s);
    }
    for (int t = 0; t < n; t++) {
      Buf x = {0};
      tap_input(w, taps[t] / g->KW, taps[t] % g->KW, &x);
      if (!one_line)
        nest_line(B, depth + 1, "+ %s * k%d%s", x.s, taps[t], t == n - 1 ? ";" : "");
      else
        nest_line(B, depth, "%s[%s] += %s * k%d;", w->N, at, x.s, taps[t]);
      free(x.s);
    }
  } else if (w->what != SWEEP_OUT && n) {
    Buf y = {0};
    render_at(B, w->nd->a[w->what == SWEEP_X ? 0 : 1], &y, true, at);
    nest_line(B, depth, "const %s g = %s;", B->E->R, y.s);
    if (w->skip_zero)
      nest_line(B, depth, "if (g != 0) {");
    B->reals++;
    free(y.s);
    for (int t = 0; t < n; t++) {
      Buf x = {0};
      tap_input(w, taps[t] / g->KW, taps[t] % g->KW, &x);
      if (w->what == SWEEP_X)
        nest_line(B, depth + w->skip_zero, "%s += g * k%d;", x.s, taps[t]);
      else
        nest_line(B, depth + w->skip_zero, "acc%d += g * %s;", taps[t], x.s);
      free(x.s);
    }
    if (w->skip_zero)
      nest_line(B, depth, "}");
  }
  free(at);
}

/* Whether some output position reads tap t inside the input (a padding
 * wider than the kernel less one leaves a tap only zeros to read). */
static bool tap_read(const ConvGeom *g, int t) {
  int i = t / g->KW, j = t % g->KW;
  bool row = g->dims == 1, col = false;
  for (int oy = 0; oy < g->OH && !row; oy++)
    row = tap_inside(oy, i, g->stride, g->ph, g->H);
  for (int ox = 0; ox < g->OW && !col; ox++)
    col = tap_inside(ox, j, g->stride, g->pw, g->W);
  return row && col;
}

/* Opens span s of the output's side v (oy or ox) at depth: a loop, or a
 * block at one position; returns the position (-1 for the loop's). */
static int open_span(Body *B, int depth, const char *v, Span s) {
  if (s.loop) {
    nest_line(B, depth, "for (int %s = %d; %s < %d; %s++) {", v, s.from, v, s.to, v);
    loop_var(B);
    return -1;
  }
  nest_line(B, depth, "{ /* %s = %d */", v, s.from);
  return s.from;
}

/* A convolution, its input's adjoint or its kernels' adjoint, as sweeps
 * along the output's rows, per (output channel, input channel): the
 * kernel's taps in k0, k1, ... (dK's sums in acc0, acc1, ...); the
 * border rows and columns (where the padding cuts taps off) each on its
 * own with the taps that remain, the interior as loops with every tap,
 * in the output's order.  Every sum adds its terms in the order of a
 * nest that takes one tap at a time: the output's over (ci, i, j), dX's
 * and dK's over the output's positions (o, oy, ox).  With update
 * (_sgd_step; dK only), dK's sums update the kernels in place,
 * N -= lr * acc0 and so on. */
static void emit_conv_rows(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  const char *R = B->E->R;
  Sweep w = {B, nd, N, conv_geom(B->d, nd), SWEEP_OUT, NULL, false, false, -1, -1};
  const ConvGeom *g = &w.g;
  Op op = (Op)nd->op;
  w.what = op == OP_CONV_X || op == OP_DWCONV_X ? SWEEP_X : op == OP_CONV_K || op == OP_DWCONV_K ? SWEEP_K : SWEEP_OUT;
  w.c = g->depthwise ? "o" : "ci";
  int ntaps = (g->dims == 2 ? g->KH : 1) * g->KW;
  /* one input channel per output element (depthwise, or a single one):
   * each output element's sum is written whole, from +0 as if zeroed */
  w.first = w.what == SWEEP_OUT && (g->depthwise || g->C == 1);
  w.skip_zero = ntaps > 1 && w.what != SWEEP_OUT && mostly_zero(B->d, nd->a[w.what == SWEEP_X ? 0 : 1]);
  if (w.what != SWEEP_K && !w.first)
    emit_zero(B, N, shape_size(nd->shape));
  int depth = 0;
  nest_line(B, depth++, "for (int o = 0; o < %d; o++) {", g->O);
  loop_var(B);
  if (!g->depthwise) {
    nest_line(B, depth++, "for (int ci = 0; ci < %d; ci++) {", g->C);
    loop_var(B);
  }
  /* one local per tap, not an array: gcc -Os kept a small array on the
   * Cortex-M4F's stack, a load at every use (the gesture CNN's step took
   * 14% more instructions than a tap at a time) */
  B->reals += ntaps;
  if (w.what == SWEEP_K) {
    Buf zeros = {0};
    for (int t = 0; t < ntaps; t++) {
      buf_printf(&zeros, "%sacc%d = ", t ? ", " : "", t);
      emit_real_const(&zeros, 0, B->E->is_float);
    }
    nest_line(B, depth, "%s %s;", R, zeros.s);
    free(zeros.s);
  } else { /* the kernel's taps that some position reads, read once */
    for (int t = 0; t < ntaps; t++) {
      if (!tap_read(g, t))
        continue;
      const char *at[4];
      int n = kernel_at(g, at);
      Elem e = {n, {{0}}};
      for (int q = 0; q < n - g->dims; q++)
        e.at[q] = ix_text(at[q]);
      if (g->dims == 2)
        e.at[n - 2] = ix_num(t / g->KW);
      e.at[n - 1] = ix_num(t % g->KW);
      Buf b = {0};
      render(B, nd->a[1], &b, false, &e);
      elem_free(e);
      nest_line(B, depth, "const %s k%d = %s;", R, t, b.s);
      free(b.s);
    }
  }
  Span *rows = xcalloc((size_t)g->OH + 1, sizeof *rows), *cols = xcalloc((size_t)g->OW + 1, sizeof *cols);
  int nrows = g->dims == 2 ? conv_spans(g->H, g->KH, g->ph, g->stride, g->OH, rows) : 1;
  int ncols = conv_spans(g->W, g->KW, g->pw, g->stride, g->OW, cols);
  for (int r = 0; r < nrows; r++) {
    int d = depth;
    if (g->dims == 2)
      w.oy = open_span(B, d++, "oy", rows[r]);
    for (int c = 0; c < ncols; c++) {
      w.ox = open_span(B, d, "ox", cols[c]);
      sweep_position(&w, d + 1);
      nest_line(B, d, "}");
    }
    if (g->dims == 2)
      nest_line(B, depth, "}");
  }
  free(rows);
  free(cols);
  if (w.what == SWEEP_K) {
    const char *at[4];
    int n = kernel_at(g, at);
    if (g->dims == 2)
      at[n - 2] = "0";
    for (int t = 0; t < ntaps; t++) {
      char tap[16];
      snprintf(tap, sizeof tap, "%d", t);
      at[n - 1] = tap;
      char *kat = flat_index(nd->shape, n, at);
      nest_line(B, depth, update ? "%s[%s] -= lr * acc%d;" : "%s[%s] = acc%d;", N, kat, t);
      free(kat);
    }
  }
  conv_close(B, depth);
}

/* A convolution of its family: as row sweeps, or a tap at a time. */
static void emit_conv(Body *B, int id, const char *N, bool update) {
  ConvGeom g = conv_geom(B->d, &B->d->nodes[id]);
  if ((g.dims == 2 ? g.KH : 1) * g.KW <= CONV_UNROLLED_TAPS)
    emit_conv_rows(B, id, N, update);
  else
    emit_conv_taps(B, id, N, update);
}
#define emit_CONV emit_conv
#define emit_CONV_X emit_conv
#define emit_CONV_K emit_conv
#define emit_DWCONV emit_conv
#define emit_DWCONV_X emit_conv
#define emit_DWCONV_K emit_conv

/* Pooling: windows of KH x KW with stride the window; a window's mean, its
 * share back, its first largest, or the derivative routed to it. */
static void emit_pool(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  const char *R = B->E->R;
  ConvGeom g = conv_geom(B->d, nd);
  char *iy = conv_coord("oy", "i", g.stride, 0), *ix = conv_coord("ox", "j", g.stride, 0);
  const char *out_at[3] = {"o", "oy", "ox"}, *in_at[3] = {"o", iy, ix};
  if (g.dims == 1)
    out_at[1] = "ox", in_at[1] = ix;
  char *out = flat_index(conv_out_shape(&g), g.dims + 1, out_at);
  Buf a = {0}, b = {0};
  (void)update;
  /* the input's adjoints: where the windows tile the input, each element
   * is written in its window (unwmax: zero but the largest), else zeroed
   * first */
  bool to_input = nd->op == OP_AVGPOOL_X || nd->op == OP_UNWMAX;
  bool tiled = g.OH * g.KH == g.H && g.OW * g.KW == g.W;
  if (to_input && !tiled)
    emit_zero(B, N, shape_size(nd->shape));
  int depth = conv_open(B, &g);
  if (nd->op == OP_AVGPOOL || nd->op == OP_AVGPOOL_X) {
    if (nd->op == OP_AVGPOOL) {
      nest_line(B, depth, "%s acc = %s;", R, B->E->is_float ? "0.0f" : "0.0");
    } else {
      render_at(B, nd->a[0], &a, false, out);
      nest_line(B, depth, "const %s g = %s / %d;", R, a.s, g.KH * g.KW);
      a.len = 0;
    }
    B->reals++;
    int inner = conv_open_terms(B, &g, depth);
    if (nd->op == OP_AVGPOOL) {
      render_chw(B, nd->a[0], &g, "o", iy, ix, &a);
      nest_line(B, inner, "acc += %s;", a.s);
      nest_line(B, depth, "%s[%s] = acc / %d;", N, out, g.KH * g.KW);
    } else {
      char *at = flat_index(nd->shape, g.dims + 1, in_at);
      nest_line(B, inner, "%s[%s] = g;", N, at);
      free(at);
    }
  } else { /* WMAX, UNWMAX: the first largest of the window, in row-major order */
    char *first_y = conv_coord("oy", "0", g.stride, 0), *first_x = conv_coord("ox", "0", g.stride, 0);
    render_chw(B, nd->a[0], &g, "o", first_y, first_x, &a);
    /* where the largest is, unless only its value is wanted */
    bool where = nd->op == OP_UNWMAX || nd->a[1] != nd->a[0];
    nest_line(B, depth, "%s best = %s;", R, a.s);
    B->reals++;
    if (where) {
      nest_line(B, depth, g.dims == 2 ? "int ai = 0, aj = 0;" : "int aj = 0;");
      loop_var(B), loop_var(B);
    }
    int inner = conv_open_terms(B, &g, depth);
    a.len = 0;
    render_chw(B, nd->a[0], &g, "o", iy, ix, &a);
    if (where) {
      nest_line(B, inner, "if (%s > best) {", a.s);
      nest_line(B, inner + 1, "best = %s;", a.s);
      if (g.dims == 2)
        nest_line(B, inner + 1, "ai = i;");
      nest_line(B, inner + 1, "aj = j;");
      nest_line(B, inner, "}");
    } else {
      nest_line(B, inner, "if (%s > best)", a.s);
      nest_line(B, inner + 1, "best = %s;", a.s);
    }
    char *ay = conv_coord("oy", "ai", g.stride, 0), *ax = conv_coord("ox", "aj", g.stride, 0);
    b.len = 0;
    if (nd->op == OP_WMAX) {
      if (nd->a[1] == nd->a[0])
        buf_puts(&b, "best");
      else
        render_chw(B, nd->a[1], &g, "o", ay, ax, &b);
      nest_line(B, depth, "%s[%s] = %s;", N, out, b.s);
    } else {
      if (tiled) {
        char *at = flat_index(nd->shape, g.dims + 1, in_at);
        Buf zero = {0};
        emit_real_const(&zero, 0, B->E->is_float);
        nest_line(B, conv_open_terms(B, &g, depth), "%s[%s] = %s;", N, at, zero.s);
        free(at);
        free(zero.s);
      }
      const char *at_at[3] = {"o", ay, ax};
      if (g.dims == 1)
        at_at[1] = ax;
      char *at = flat_index(nd->shape, g.dims + 1, at_at);
      render_at(B, nd->a[1], &b, true, out);
      nest_line(B, depth, "%s[%s] = %s;", N, at, b.s);
      free(at);
    }
    free(ay);
    free(ax);
    free(first_y);
    free(first_x);
  }
  conv_close(B, depth);
  free(out);
  free(a.s);
  free(b.s);
  free(iy);
  free(ix);
}
#define emit_AVGPOOL emit_pool
#define emit_AVGPOOL_X emit_pool
#define emit_WMAX emit_pool
#define emit_UNWMAX emit_pool

/* a's elements, then b's */
static void emit_CONCAT(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  (void)update;
  for (int i = 0, at = 0; i < 2; i++) {
    int n = shape_size(B->d->nodes[nd->a[i]].shape);
    Buf x = {0};
    render_at(B, nd->a[i], &x, true, "i");
    if (at)
      buf_printf(B->out, "    for (int i = 0; i < %d; i++)\n        %s[%d + i] = %s;\n", n, N, at, x.s);
    else
      buf_printf(B->out, "    for (int i = 0; i < %d; i++)\n        %s[i] = %s;\n", n, N, x.s);
    loop_var(B);
    at += n;
    free(x.s);
  }
}

/* A view or a leaf is read inside its readers' loops, never stored
 * (sched.c), but for one case: in _sgd_step, a param's gradient that is
 * another param, or a view of one (the gradient of sum(a * b) with
 * respect to a is b), is copied before the updates change it. */
static void emit_view(Body *B, int id, const char *N, bool update) {
  Buf x = {0};
  (void)update;
  Elem e = elem_flat(ix_text("i"));
  render_def(B, id, &x, true, &e);
  elem_free(e);
  buf_printf(B->out, "    for (int i = 0; i < %d; i++)\n        %s[i] = %s;\n", shape_size(B->d->nodes[id].shape), N, x.s);
  loop_var(B);
  free(x.s);
}
#define emit_TRANSPOSE emit_view
#define emit_FILL emit_view
#define emit_INDEX emit_view
#define emit_ROW emit_view
#define emit_BCAST emit_view
#define emit_STEP emit_view

/* A recurrence's parts: the anchors' statements emit their loops
 * (emit_loop_anchor); the rest is named by them. */
static void emit_loop_part(Body *B, int id, const char *N, bool update) { (void)B, (void)id, (void)N, (void)update; }
#define emit_CARRY emit_loop_part
#define emit_FOLD emit_loop_part
#define emit_SCAN emit_loop_part
#define emit_ADJ emit_loop_part
#define emit_BPTT emit_loop_part
#define emit_LOOPSUM emit_loop_part
#define emit_LOOPSTACK emit_loop_part
#define emit_RESHAPE emit_view
#define emit_SLICE emit_view

/* The trailing elements of shape s (a block) over which every broadcast
 * that node id's expression reads inline is constant, at most block: 1
 * where one stretches a trailing dimension (or one of another shape). */
static long broadcast_block(Body *B, int id, Shape s, long block) {
  const Node *nd = &B->d->nodes[id];
  for (int k = 0; k < nd->nops && block > 1; k++) {
    int a = nd->a[k];
    const Node *an = &B->d->nodes[a];
    if (!an->shape.rank || B->s->name[a])
      continue; /* a scalar, or stored: read at the element's own index */
    if (an->op == OP_BCAST) {
      Shape from = B->d->nodes[an->a[0]].shape;
      long t = 1;
      for (int q = s.rank - 1; q >= 0 && (q < s.rank - from.rank || from.dim[q - s.rank + from.rank] == 1); q--)
        t *= s.dim[q];
      if (!shape_eq(an->shape, s))
        return 1;
      if (t < block)
        block = t;
    } else if (op_is_elementwise((Op)an->op)) {
      block = broadcast_block(B, a, s, block);
    }
  }
  return block;
}

/* elementwise, with the single-use operands fused in, and perhaps a
 * matrix-vector product's row sums (the product's own loop).  Where a
 * broadcast is read (a per-channel bias), the loop runs over blocks that
 * it holds constant, so that its index is the outer loop's and the inner
 * loop is the plain one C compilers vectorise (a flat loop divided the
 * index: the digits CNN's bias, 5.5 instructions an element). */
static void emit_elementwise(Body *B, int id, const char *N, bool update) {
  const Node *nd = &B->d->nodes[id];
  int n = shape_size(nd->shape), product = B->s->fused_product[id];
  long block = product < 0 && nd->shape.rank > 1 ? broadcast_block(B, id, nd->shape, n) : n;
  bool blocks = block > 1 && block < n;
  Buf x = {0};
  (void)update;
  B->acc_node = product;
  Elem e = elem_flat(blocks ? ix_split("i", block, "j") : ix_text("i"));
  render_def(B, id, &x, true, &e);
  elem_free(e);
  B->acc_node = -1;
  if (blocks) {
    buf_printf(B->out, "    for (int i = 0; i < %ld; i++)\n        for (int j = 0; j < %ld; j++)\n", n / block, block);
    buf_printf(B->out, "            %s[i * %ld + j] = %s;\n", N, block, x.s);
    loop_var(B), loop_var(B);
    free(x.s);
    return;
  }
  buf_printf(B->out, "    for (int i = 0; i < %d; i++)%s", n, product >= 0 ? " {\n" : "\n");
  loop_var(B);
  if (product >= 0) {
    const Node *pn = &B->d->nodes[product];
    reduce_terms(B, pn, B->d->nodes[pn->a[0]].shape.dim[1], "");
    buf_printf(B->out, "        %s[i] = %s;\n    }\n", N, x.s);
  } else {
    buf_printf(B->out, "        %s[i] = %s;\n", N, x.s);
  }
  free(x.s);
}

typedef void EmitFn(Body *B, int id, const char *N, bool update);
static EmitFn *const emit_fn[OP_COUNT] = {
#define LEAF(name, ...) [OP_##name] = emit_view,
#define SCALAR(name, ...) [OP_##name] = emit_elementwise,
#define TENSOR(name, ...) [OP_##name] = emit_##name,
    DCC_LEAF_OPS(LEAF) DCC_SCALAR_OPS(SCALAR) DCC_TENSOR_OPS(TENSOR)
#undef LEAF
#undef SCALAR
#undef TENSOR
};

static void emit_loop(Body *B, int id, const char *N, bool update) { emit_fn[B->d->nodes[id].op](B, id, N, update); }

/* The emitters above that apply update: a product's row, an outer
 * product's element and a scatter's element are each written once, so
 * each can be N -= lr * v; a kernel's adjoint is then summed element by
 * element (emit_conv_k_update).  The others accumulate into N (the input's
 * and a pooling's adjoints: zeroed, then +=) or ignore update: their
 * gradient is stored, and updated from there. */
bool emit_updates_in_place(Op op) {
  return op == OP_MATMUL || op == OP_OUTER || op == OP_SCATTER || op == OP_SCATROW || op == OP_CONV_K ||
         op == OP_DWCONV_K;
}

/* ---- function bodies --------------------------------------------------- */

/* The C name of scheduled node id: named after its value in the source,
 * or the root it is, or t1, t2, ... */
static char *statement_name(Body *B, int id, const Root *roots, StrMap *used, int *t) {
  Built *b = B->E->b;
  Sym *sym = id < b->names_cap ? b->node_sym[id] : NULL;
  int r = B->s->root_of[id];
  char sfx[48];
  if (!sym && r >= 0 && roots[r].name)
    return local_name(used, roots[r].name, B->E->P);
  if (sym) {
    int elem = b->node_elem[id];
    char *base = elem < 0 ? xstrdup(sym->name)
                          : xprintf("%s%s", sym->name, elem_suffix(sym->shape, elem, sfx, sizeof sfx, false));
    char *name = local_name(used, base, B->E->P);
    free(base);
    return name;
  }
  char *name = xprintf("t%d", ++*t);
  strmap_put(used, name, name);
  return name;
}

static void emit_anchor(Body *B, int id, const char *line);

/* base + step * stride, as C text */
static char *step_at(long base, long stride) {
  char *st = stride == 1 ? xstrdup("step") : xprintf("step * %ld", stride);
  char *r = base ? xprintf("%ld + %s", base, st) : xstrdup(st);
  free(st);
  return r;
}

/* Whether stored tensor id is a loop's body, stored where the next state
 * goes (`next`). */
static bool is_loop_body(const Body *B, int id) {
  const Schedule *s = B->s;
  int reg = s->R.n ? s->R.of[id] : -1;
  return reg >= 0 && s->rp[reg].body_in_next && id == B->d->nodes[s->R.anchor[reg]].a[1];
}

/* Where stored tensor id lives: its root's destination, or the workspace
 * (a taped value of a loop: this step's record). */
static char *storage(Body *B, int id) {
  Schedule *s = B->s;
  int r = s->root_of[id], reg = s->R.n ? s->R.of[id] : -1;
  if (r >= 0)
    return xstrdup(B->roots[r].dst);
  if (s->in_place[id] >= 0) /* its reader's storage */
    return storage(B, s->in_place[id]);
  if (s->sum_into[id] >= 0) /* the sweep's sum it adds itself into */
    return storage(B, s->sum_into[id]);
  if (reg >= 0 && s->slot[id] >= 0) {
    char *at = step_at(s->rp[reg].tape + s->slot[id], s->rp[reg].stride), *r = xprintf("ws + %s", at);
    free(at);
    return r;
  }
  return xprintf("ws + %ld", s->ws_off[id]);
}

/* Declare name, a pointer to stored tensor id's storage. */
static void declare_storage(Body *B, int id, const char *name, const char *line) {
  char *at = storage(B, id);
  buf_printf(B->out, "    %s *const %s = %s;%s\n", B->E->R, name, at, line);
  free(at);
  B->pointers++;
}

/* The comment " line N " where node id is a value the user named (its
 * statement's source line), else nothing. */
static void line_comment(const Body *B, int id, char line[48]) {
  const Built *b = B->E->b;
  Sym *sym = id < b->names_cap ? b->node_sym[id] : NULL;
  line[0] = 0;
  if (sym)
    snprintf(line, 48, " /* line %d */", sym->line);
}

/* Names stored tensor id and declares its storage. */
static void name_and_declare(Body *B, int id) {
  char line[48];
  line_comment(B, id, line);
  B->s->name[id] = statement_name(B, id, B->roots, B->used, &B->temps);
  declare_storage(B, id, B->s->name[id], line);
}

/* ---- a loop as a function of its own ----------------------------------------
 *
 * A loop over a product's rows (a row group's, a lone matrix-vector
 * product's) stores into the workspace and reads its vector from the
 * workspace.  For all the C compiler knows, a store may change the vector
 * the next row reads: it loads the vector again every row and cannot make
 * two rows in one register.  dcc knows better: what such a loop writes
 * never meets what it reads (no member is stored where its group reads,
 * first_clash; none shares its storage with another value).  So the loop
 * is a static function of the arrays it names, each a restrict pointer,
 * and the scalars it reads, called once where the loop stood: C compilers
 * inline it and keep what restrict says.  (make bench, _loss_grad
 * instructions a call, rows read through `row` (row_pointer): the
 * 64-32-10's from 12,500 to 12,258, two rows of its 10x32 product in one
 * register; the GRU's from 193,524 to 192,008.  Not elementwise loops,
 * each of whose elements is read once: as functions too, the GRU's took
 * 256 more.) */

typedef struct {
  char *name;
  bool array;   /* read as name[...] */
  bool written; /* name[...] =, +=, -= */
  bool local;   /* declared by the loop itself */
} KernelName;

typedef VEC(KernelName) KernelNames;

static KernelName *kernel_name(KernelNames *v, const char *name, size_t len) {
  for (int i = 0; i < v->n; i++)
    if (strlen(v->v[i].name) == len && !strncmp(v->v[i].name, name, len))
      return &v->v[i];
  vec_push(v, ((KernelName){xprintf("%.*s", (int)len, name), false, false, false}));
  return &v->v[v->n - 1];
}

/* The names loop text reads and writes, in the order they first appear:
 * what it declares itself marked local; C's words, the real type and
 * the functions it calls left out. */
static KernelNames kernel_names(Body *B, const char *text) {
  static const char *const words[] = {"for", "int", "const", "if", "else", "return", "sizeof", "restrict"};
  KernelNames v = {0};
  bool declares = false; /* after a type: the next name is declared */
  for (const char *c = text; *c;) {
    if (c[0] == '/' && c[1] == '*') { /* a comment */
      const char *end = strstr(c + 2, "*/");
      c = end ? end + 2 : c + strlen(c);
      continue;
    }
    if (isdigit((unsigned char)*c) || (*c == '.' && isdigit((unsigned char)c[1]))) { /* a number */
      while (isalnum((unsigned char)*c) || *c == '.' || *c == '_' ||
             ((*c == '+' || *c == '-') && (c[-1] == 'e' || c[-1] == 'E') && !isalpha((unsigned char)c[-2])))
        c++;
      declares = false;
      continue;
    }
    if (!isalpha((unsigned char)*c) && *c != '_') {
      if (*c != '*' && !isspace((unsigned char)*c))
        declares = false;
      c++;
      continue;
    }
    const char *start = c;
    while (isalnum((unsigned char)*c) || *c == '_')
      c++;
    size_t len = (size_t)(c - start);
    bool type = (len == strlen(B->E->R) && !strncmp(start, B->E->R, len)) || (len == 3 && !strncmp(start, "int", 3));
    bool word = type;
    for (size_t w = 0; w < sizeof words / sizeof *words; w++)
      word |= len == strlen(words[w]) && !strncmp(start, words[w], len);
    const char *after = c;
    while (*after == ' ')
      after++;
    if (word || *after == '(') { /* C's, or a function's */
      declares = type || (declares && len == 5 && !strncmp(start, "const", 5));
      continue;
    }
    KernelName *k = kernel_name(&v, start, len);
    k->local |= declares;
    declares = false;
    if (*after == '[') {
      k->array = true;
      int depth = 0;
      const char *e = after;
      for (; *e; e++)
        if (*e == '[')
          depth++;
        else if (*e == ']' && --depth == 0)
          break;
      if (*e) {
        e++;
        while (*e == ' ')
          e++;
        k->written |= (e[0] == '=' && e[1] != '=') || ((e[0] == '+' || e[0] == '-') && e[1] == '=');
      }
    }
  }
  return v;
}

/* Whether a loop that writes stored tensors writes[0..nw) may be a
 * function with restrict parameters: none of them holds another value
 * too (stored in its place, or summed into it). */
static bool kernel_ok(Body *B, const int *writes, int nw) {
  Schedule *s = B->s;
  if (B->pieces || B->E->o0)
    return false;
  for (int k = 0; k < s->nids; k++)
    for (int j = 0; j < nw; j++)
      if (s->in_place[s->ids[k]] == writes[j] || s->sum_into[s->ids[k]] == writes[j])
        return false;
  return true;
}

/* Loop text, which writes stored tensors writes[0..nw): as a static
 * function and a call to it where kernel_ok allows, else as it is. */
static void emit_kernel(Body *B, const char *text, const int *writes, int nw) {
  if (!kernel_ok(B, writes, nw)) {
    buf_puts(B->out, text);
    return;
  }
  const char *R = B->E->R;
  KernelNames v = kernel_names(B, text);
  Buf params = {0}, args = {0};
  int np = 0;
  for (int i = 0; i < v.n; i++) {
    KernelName *k = &v.v[i];
    if (!k->local) {
      const char *sep = np++ ? ", " : "";
      if (k->array)
        buf_printf(&params, "%s%s%s *restrict %s", sep, k->written ? "" : "const ", R, k->name);
      else
        buf_printf(&params, "%s%s %s", sep, strcmp(k->name, "step") ? R : "int", k->name);
      buf_printf(&args, "%s%s", sep, k->name);
    }
    free(k->name);
  }
  free(v.v);
  B->nkernels++;
  buf_printf(&B->kernels, "\n/* A loop of %s_%s%s over a product's rows: no two of its arrays overlap. */\n",
             B->E->P, B->fname, B->E->b->loops ? "_ws" : "");
  buf_printf(&B->kernels, "static void %s_rows_%s_%d(%s)\n{\n%s}\n", B->E->P, B->fname, B->nkernels,
             params.s ? params.s : "void", text);
  buf_printf(B->out, "    %s_rows_%s_%d(%s);\n", B->E->P, B->fname, B->nkernels, args.s ? args.s : "");
  if (np > B->kernel_params)
    B->kernel_params = np;
  free(params.s);
  free(args.s);
}

/* ---- row groups ---------------------------------------------------------------
 *
 * Consecutive statements that each sum the rows of a matrix-vector
 * product (the product itself, or an elementwise loop with its product
 * fused in: sched.c's fused_product) over the same rows are written as one
 * loop over the rows: a GRU step's three input and three recurrent
 * products make a row's six sums together.  Their sums are made as
 * reduce_terms makes one (the same sums, bit for bit), interleaved eight
 * terms at a time, so that the C compiler loads an element of a vector
 * they share once a row; every store comes after the row's sums.  A
 * product read by nothing but a later statement of its group, element by
 * element, is not stored: that statement reads its accumulator.  Where
 * the rows are short (16 terms or fewer: nothing is left of the loop over
 * k once the C compiler unrolls it, so its vectoriser finds no two chains
 * to pair) and even in number, the loop makes two rows at a time, and the
 * vectoriser puts the two in one register.  (make bench, instructions a
 * call: the GRU's _loss from 116,803 to 102,589, its _loss_grad from
 * 218,314 to 204,088; fused without the pairs, _loss took 118,061; two
 * rows at a time for a lone product, the sweep's Mᵀ v, _loss_grad took
 * 209,580.) */

typedef struct {
  int id;      /* the statement */
  int product; /* the product it sums: itself, or the one fused into it */
  bool stored; /* a product statement: its sums are stored, not only read */
} RowMember;

typedef VEC(long) Spans; /* [lo, hi) pairs of workspace */

/* The product statement id sums in a row group's loop, or -1 if it
 * cannot join one. */
static int row_product(Body *B, int id) {
  Schedule *s = B->s;
  const Node *nd = &B->d->nodes[id];
  if (!nd->shape.rank || op_is_loop((Op)nd->op) || s->root_of[id] >= 0 || s->in_place[id] >= 0 ||
      s->sum_into[id] >= 0 || s->deferred[id] || s->epilogue[id] >= 0 || is_loop_body(B, id))
    return -1;
  if (nd->op == OP_MATMUL)
    return nd->shape.rank == 1 && B->d->nodes[nd->a[0]].shape.rank == 2 ? id : -1;
  if (op_is_elementwise((Op)nd->op) && s->fused_product[id] >= 0)
    return s->fused_product[id];
  return -1;
}

/* Where stored tensor id lives in the workspace during one step: [*lo,
 * *hi); false if it lives elsewhere (a root's destination, a loop's
 * states), where no member of a group is written. */
static bool ws_span(Body *B, int id, long *lo, long *hi) {
  Schedule *s = B->s;
  int reg = s->R.n ? s->R.of[id] : -1;
  if (s->root_of[id] >= 0)
    return false;
  if (s->in_place[id] >= 0)
    return ws_span(B, s->in_place[id], lo, hi);
  if (s->sum_into[id] >= 0)
    return ws_span(B, s->sum_into[id], lo, hi);
  if (reg >= 0 && s->slot[id] >= 0)
    *lo = s->rp[reg].tape + s->slot[id];
  else if (s->ws_off[id] >= 0)
    *lo = s->ws_off[id];
  else
    return false;
  *hi = *lo + shape_size(B->d->nodes[id].shape);
  return true;
}

static int member_at(const RowMember *m, int n, int id) {
  for (int j = 0; j < n; j++)
    if (m[j].id == id)
      return j;
  return -1;
}

/* What rendering node id in member `self`'s part of the loop reads
 * (direct: element i of id at the row's element i): the stored tensors
 * into spans, the members of m reached directly counted in seen[].  False
 * if it reads a member any other way (a product's operand, through a
 * view), or something the loop cannot read. */
static bool group_reads(Body *B, int id, bool direct, const RowMember *m, int nm, int self, Spans *spans, int *seen) {
  const Node *nd = &B->d->nodes[id];
  int j = member_at(m, nm, id);
  if (j >= 0) {
    if (!direct || j >= self)
      return false;
    seen[j]++;
    return true;
  }
  if (B->s->name[id]) {
    long lo, hi;
    if (nd->shape.rank && ws_span(B, id, &lo, &hi)) {
      vec_push(spans, lo);
      vec_push(spans, hi);
    }
    return true;
  }
  if (op_info[nd->op].kind == KIND_LEAF || op_is_loop((Op)nd->op))
    return true;
  bool elementwise = op_is_elementwise((Op)nd->op) && id != m[self].product;
  if (!elementwise && nd->shape.rank && id != m[self].product && op_info[nd->op].form != FORM_VIEW &&
      op_info[nd->op].form != FORM_ELEMENT)
    return false; /* a stored tensor without its statement: not here */
  for (int i = 0; i < nd->nops; i++) {
    int a = nd->a[i];
    bool same = elementwise && direct && shape_eq(B->d->nodes[a].shape, nd->shape);
    if (!group_reads(B, a, same, m, nm, self, spans, seen))
      return false;
  }
  return true;
}

/* The rows and terms of product statement-or-fused product pr. */
static int product_rows(Body *B, int pr) { return B->d->nodes[B->d->nodes[pr].a[0]].shape.dim[0]; }
static int product_terms(Body *B, int pr) { return B->d->nodes[B->d->nodes[pr].a[0]].shape.dim[1]; }

/* Whether ws ranges [a, b) and [c, e) meet. */
static bool spans_meet(long a, long b, long c, long e) { return a < e && c < b; }

/* The first member of m[0..nm) whose stored result meets what its group
 * reads (spans) or an earlier member's stored result, or nm: the group
 * must end before it. */
static int first_clash(Body *B, const RowMember *m, int nm, const Spans *spans) {
  for (int j = 0; j < nm; j++) {
    long lo, hi;
    if (!m[j].stored || !ws_span(B, m[j].id, &lo, &hi))
      continue;
    bool meets = false;
    for (int k = 0; k + 1 < spans->n; k += 2)
      meets |= spans_meet(lo, hi, spans->v[k], spans->v[k + 1]);
    for (int k = 0; k < j; k++) {
      long lo2, hi2;
      meets |= m[k].stored && ws_span(B, m[k].id, &lo2, &hi2) && spans_meet(lo, hi, lo2, hi2);
    }
    if (meets)
      return j;
  }
  return nm;
}

/* The row group that starts at ids[0], at most n statements: its members
 * into m (at most ROW_GROUP_PRODUCTS); returns how many (0 or 1: none). */
static int row_group(Body *B, const int *ids, int n, RowMember *m) {
  int nm = 0;
  Spans spans = {0};
  int seen[ROW_GROUP_PRODUCTS];
  while (nm < n && nm < ROW_GROUP_PRODUCTS) {
    int id = ids[nm], pr = row_product(B, id);
    if (pr < 0 || (nm && product_rows(B, pr) != product_rows(B, m[0].product)))
      break;
    m[nm] = (RowMember){id, pr, true};
    int before = spans.n;
    memset(seen, 0, sizeof seen);
    const Node *nd = &B->d->nodes[id];
    bool ok = true;
    for (int i = 0; ok && i < nd->nops; i++)
      ok = group_reads(B, nd->a[i], pr != id, m, nm + 1, nm, &spans, seen);
    if (!ok) {
      spans.n = before;
      break;
    }
    nm++;
  }
  /* a product read only by the group, element by element, is not stored */
  int users[ROW_GROUP_PRODUCTS] = {0};
  for (int k = 0; nm > 1 && k < B->s->nids; k++) {
    const Node *x = &B->d->nodes[B->s->ids[k]];
    for (int i = 0; i < x->nops; i++) {
      int j = member_at(m, nm, x->a[i]);
      if (j >= 0)
        users[j]++;
    }
  }
  int direct[ROW_GROUP_PRODUCTS] = {0};
  for (int self = 0; nm > 1 && self < nm; self++) {
    Spans ignore = {0};
    memset(seen, 0, sizeof seen);
    const Node *nd = &B->d->nodes[m[self].id];
    for (int i = 0; i < nd->nops; i++)
      group_reads(B, nd->a[i], m[self].product != m[self].id, m, nm, self, &ignore, seen);
    for (int j = 0; j < nm; j++)
      direct[j] += seen[j];
    free(ignore.v);
  }
  for (int j = 0; j < nm; j++) {
    int id = m[j].id, reg = B->s->R.n ? B->s->R.of[id] : -1;
    m[j].stored = m[j].product != id || users[j] != 1 || direct[j] != 1 || (reg >= 0 && B->s->slot[id] >= 0);
  }
  /* no member written where the group reads or another member is written */
  int j = first_clash(B, m, nm, &spans);
  free(spans.v);
  if (j < nm)
    return j > 1 ? row_group(B, ids, j, m) : 0;
  return nm;
}

/* Accumulator k of a row group's loop: acc, acc1, acc2, ... */
static void acc_name(char *buf, size_t size, int k) {
  if (k)
    snprintf(buf, size, "acc%d", k);
  else
    snprintf(buf, size, "acc");
}

/* The rows a row group's loop makes at once, as C: i, and i + 1 where it
 * makes two. */
static const char *const group_rows[2] = {"i", "i + 1"};

/* Accumulator c (0 or 1) of row r, of the rows made at once, of the
 * group's product number num: acc, acc1, ... in the order (num, r, c). */
static void group_acc(char buf[24], int num, int rows, int r, int c) {
  acc_name(buf, 24, 2 * (num * rows + r) + c);
}

/* For each product pr[j] and row: term kk of its row into its first
 * accumulator, a line each at indent in; declare: the line starts it. */
static void group_terms(Body *B, const int *pr, const int *num, int np, int rows, const char *kk, bool declare,
                        const char *in) {
  Buf t = {0};
  char a[24];
  for (int j = 0; j < np; j++)
    for (int r = 0; r < rows; r++) {
      B->row = group_rows[r];
      t.len = 0;
      reduce_term(B, &B->d->nodes[pr[j]], kk, &t);
      group_acc(a, num[j], rows, r, 0);
      if (declare)
        buf_printf(B->out, "%s%s %s = %s;\n", in, B->E->R, a, t.s), B->reals++;
      else
        buf_printf(B->out, "%s%s += %s;\n", in, a, t.s);
    }
  free(t.s);
}

/* The products pr[0..np) of one length K, rows rows at a time: their sums
 * as reduce_terms makes each, interleaved; accumulators from acc number
 * 2 * (first + j) * rows on. */
static void emit_group_sums(Body *B, const int *pr, const int *num, int np, int K, int rows) {
  const char *R = B->E->R;
  Buf *out = B->out;
  char a[24], a1[24];
  Buf t[8] = {{0}};
  int K8 = K < 8 ? 0 : K / 8 * 8;
  if (K < 8) {
    group_terms(B, pr, num, np, rows, "0", true, "        ");
  } else {
    for (int j = 0; j < np; j++)
      for (int c = 0; c < 2; c++)
        for (int r = 0; r < rows; r++) {
          B->row = group_rows[r];
          for (int q = c; q < 8; q += 2) {
            char kk[16];
            snprintf(kk, sizeof kk, "%d", q);
            t[q].len = 0;
            reduce_term(B, &B->d->nodes[pr[j]], kk, &t[q]);
          }
          group_acc(a, num[j], rows, r, c);
          buf_printf(out, "        %s %s = (%s + %s) + (%s + %s);\n", R, a, t[c].s, t[c + 2].s, t[c + 4].s, t[c + 6].s);
          B->reals++;
        }
    if (K8 > 8) {
      buf_printf(out, "        for (int k = 8; k < %d; k += 8) {\n", K8);
      loop_var(B);
      for (int j = 0; j < np; j++)
        for (int c = 0; c < 2; c++)
          for (int r = 0; r < rows; r++) {
            B->row = group_rows[r];
            for (int q = c; q < 8; q += 2) {
              char kk[16];
              snprintf(kk, sizeof kk, q ? "k + %d" : "k", q);
              t[q].len = 0;
              reduce_term(B, &B->d->nodes[pr[j]], kk, &t[q]);
            }
            group_acc(a, num[j], rows, r, c);
            buf_printf(out, "            %s += (%s + %s) + (%s + %s);\n", a, t[c].s, t[c + 2].s, t[c + 4].s, t[c + 6].s);
          }
      buf_puts(out, "        }\n");
    }
  }
  if (K - K8 == 1 && K8) {
    char kk[16];
    snprintf(kk, sizeof kk, "%d", K8);
    group_terms(B, pr, num, np, rows, kk, false, "        ");
  } else if (K > (K8 ? K8 : 1)) {
    buf_printf(out, "        for (int k = %d; k < %d; k++) {\n", K8 ? K8 : 1, K);
    loop_var(B);
    group_terms(B, pr, num, np, rows, "k", false, "            ");
    buf_puts(out, "        }\n");
  }
  if (K8)
    for (int j = 0; j < np; j++)
      for (int r = 0; r < rows; r++) {
        group_acc(a, num[j], rows, r, 0);
        group_acc(a1, num[j], rows, r, 1);
        buf_printf(out, "        %s += %s;\n", a, a1);
      }
  B->row = NULL;
  for (int q = 0; q < 8; q++)
    free(t[q].s);
}

/* Whether row group m[0..nm) makes its rows two at a time: they are even
 * in number and short. */
static bool group_pairs(Body *B, const RowMember *m, int nm) {
  bool pairs = product_rows(B, m[0].product) % 2 == 0;
  for (int j = 0; j < nm; j++)
    pairs &= product_terms(B, m[j].product) <= 16;
  return pairs;
}

/* The row group m[0..nm): one loop over the rows (two at a time where
 * they are short and even in number). */
static void emit_row_group(Body *B, const RowMember *m, int nm) {
  Schedule *s = B->s;
  int rows_n = product_rows(B, m[0].product), pr[ROW_GROUP_PRODUCTS];
  bool pairs = group_pairs(B, m, nm);
  for (int j = 0; j < nm; j++) {
    pr[j] = m[j].product;
    int id = m[j].id;
    if (!m[j].stored)
      continue;
    name_and_declare(B, id);
  }
  int rows = pairs ? 2 : 1;
  Buf loop = {0}, *out = B->out;
  B->out = &loop;
  buf_printf(B->out, "    for (int i = 0; i < %d; i%s) {\n", rows_n, pairs ? " += 2" : "++");
  loop_var(B);
  /* the sums, the products of one length together, in the order of their first */
  bool done[ROW_GROUP_PRODUCTS] = {false};
  for (int j = 0; j < nm; j++) {
    if (done[j])
      continue;
    int K = product_terms(B, pr[j]), same[ROW_GROUP_PRODUCTS], snum[ROW_GROUP_PRODUCTS], ns = 0;
    for (int k = j; k < nm; k++)
      if (!done[k] && product_terms(B, pr[k]) == K) {
        done[k] = true;
        same[ns] = pr[k];
        snum[ns++] = k;
      }
    emit_group_sums(B, same, snum, ns, K, rows);
  }
  /* the stores, row by row, in the statements' order */
  char names[2 * ROW_GROUP_PRODUCTS][24];
  for (int r = 0; r < rows; r++) {
    B->nacc = 0;
    for (int j = 0; j < nm; j++) {
      group_acc(names[B->nacc], j, rows, r, 0);
      B->acc_ids[B->nacc] = pr[j];
      B->acc_names[B->nacc] = names[B->nacc];
      B->nacc++;
    }
    for (int j = 0; j < nm; j++) {
      int id = m[j].id;
      if (!m[j].stored)
        continue;
      Buf x = {0};
      if (id == pr[j]) {
        buf_puts(&x, acc_of(B, id));
      } else {
        Elem e = elem_flat(ix_text(group_rows[r]));
        render_def(B, id, &x, true, &e);
        elem_free(e);
      }
      buf_printf(B->out, "        %s[%s] = %s;\n", s->name[id], group_rows[r], x.s);
      free(x.s);
    }
  }
  B->nacc = 0;
  buf_puts(B->out, "    }\n");
  B->out = out;
  int writes[ROW_GROUP_PRODUCTS], nw = 0;
  for (int j = 0; j < nm; j++)
    if (m[j].stored)
      writes[nw++] = m[j].id;
  emit_kernel(B, loop.s, writes, nw);
  free(loop.s);
}

/* ---- outer groups -------------------------------------------------------------
 *
 * A sweep's outer products that add themselves into their sums over the
 * steps (sched.c's sum_into: dW += da hᵀ at every step) over the same
 * rows are made in one loop over the rows, where the last of them stands:
 * a GRU's sweep makes its three recurrent and three input weights'
 * gradients in one pass, which loads the state and the input once a row
 * and pays one loop's count (the expert's hand-written sweep does the
 * same).  Each element is added as before, the same bits.  A product
 * moves down past the statements between only if none of them writes
 * what it reads or reads or writes its sum.  (callgrind, the GRU's
 * _loss_grad: from 204,211 instructions a call to 197,469.) */

/* A statement an outer group may take. */
static bool outer_member(Body *B, int id) {
  const Schedule *s = B->s;
  const Node *nd = &B->d->nodes[id];
  return nd->op == OP_OUTER && s->R.n && s->R.of[id] >= 0 && s->sum_into[id] >= 0 && s->epilogue[id] < 0 &&
         !s->deferred[id] && s->root_of[id] < 0 && s->in_place[id] < 0;
}

typedef VEC(int) Ids;

/* What rendering node id reads: the stored tensors, their ids into reads
 * and their workspace into spans. */
static void reads_of(Body *B, int id, Ids *reads, Spans *spans) {
  const Node *nd = &B->d->nodes[id];
  if (B->s->name[id] || B->s->ws_off[id] >= 0 || (B->s->R.n && B->s->R.of[id] >= 0 && B->s->slot[id] >= 0)) {
    long lo, hi;
    vec_push(reads, id);
    if (nd->shape.rank && ws_span(B, id, &lo, &hi)) {
      vec_push(spans, lo);
      vec_push(spans, hi);
    }
    return;
  }
  if (op_info[nd->op].kind == KIND_LEAF || op_is_loop((Op)nd->op))
    return;
  for (int i = 0; i < nd->nops; i++)
    reads_of(B, nd->a[i], reads, spans);
}

static bool ids_have(const Ids *v, int id) {
  for (int k = 0; k < v->n; k++)
    if (v->v[k] == id)
      return true;
  return false;
}

/* Whether statement t, between an outer group's member mem and the
 * group's loop, lets mem move past it: t writes nothing mem reads and
 * neither reads nor writes mem's sum. */
static bool moves_past(Body *B, int mem, int t) {
  Schedule *s = B->s;
  const Node *nd = &B->d->nodes[mem], *tn = &B->d->nodes[t];
  int sum = s->sum_into[mem];
  Ids reads = {0}, treads = {0};
  Spans spans = {0}, tspans = {0};
  for (int i = 0; i < nd->nops; i++)
    reads_of(B, nd->a[i], &reads, &spans);
  for (int i = 0; i < tn->nops; i++)
    reads_of(B, tn->a[i], &treads, &tspans);
  bool ok = t != sum && !ids_have(&treads, sum) && !ids_have(&reads, t) &&
            (s->sum_into[t] < 0 || (s->sum_into[t] != sum && !ids_have(&reads, s->sum_into[t]))) &&
            (s->in_place[t] < 0 || !ids_have(&reads, s->in_place[t])) && !op_is_loop((Op)tn->op);
  long lo, hi;
  if (ok && tn->shape.rank && ws_span(B, t, &lo, &hi))
    for (int k = 0; k + 1 < spans.n; k += 2)
      ok &= !spans_meet(lo, hi, spans.v[k], spans.v[k + 1]);
  free(reads.v), free(treads.v), free(spans.v), free(tspans.v);
  return ok;
}

/* The outer group that starts at ids[0] (an outer_member): the indices
 * in ids of its members into at[], at most ROW_GROUP_PRODUCTS; returns
 * how many. */
static int outer_group(Body *B, const int *ids, int n, const bool *taken, int *at) {
  int nm = 1, rows = B->d->nodes[ids[0]].shape.dim[0];
  at[0] = 0;
  for (int k = 1; k < n && nm < ROW_GROUP_PRODUCTS; k++) {
    int id = ids[k];
    if (!taken[k] && outer_member(B, id) && B->d->nodes[id].shape.dim[0] == rows) {
      at[nm++] = k;
      continue;
    }
    bool ok = true;
    for (int j = 0; ok && j < nm; j++)
      ok = moves_past(B, ids[at[j]], id);
    if (!ok)
      break;
  }
  return nm;
}

/* The outer group ids[at[0..nm)): one loop over the rows. */
static void emit_outer_group(Body *B, const int *ids, const int *at, int nm) {
  Schedule *s = B->s;
  for (int j = 0; j < nm; j++)
    name_and_declare(B, ids[at[j]]);
  buf_printf(B->out, "    for (int i = 0; i < %d; i++) {\n", B->d->nodes[ids[at[0]]].shape.dim[0]);
  loop_var(B);
  char acc[ROW_GROUP_PRODUCTS][24];
  for (int j = 0; j < nm; j++) {
    Buf x = {0};
    render_at(B, B->d->nodes[ids[at[j]]].a[0], &x, true, "i");
    acc_name(acc[j], sizeof acc[j], j);
    buf_printf(B->out, "        const %s %s = %s;\n", B->E->R, acc[j], x.s);
    B->reals++;
    free(x.s);
  }
  /* the rows that read one vector together, in the order of its first
   * reader: the C compiler keeps its elements in registers from one to
   * the next (the GRU's sweep: 2,400 instructions a call fewer than in
   * the statements' order, where the state and the input alternate) */
  Buf v[ROW_GROUP_PRODUCTS] = {{0}};
  for (int j = 0; j < nm; j++) {
    render_at(B, B->d->nodes[ids[at[j]]].a[1], &v[j], false, "j");
    buf_printf(&v[j], "[%d]", B->d->nodes[ids[at[j]]].shape.dim[1]);
  }
  bool done[ROW_GROUP_PRODUCTS] = {false};
  for (int j = 0; j < nm; j++)
    for (int k = j; k < nm; k++)
      if (!done[k] && !strcmp(v[k].s, v[j].s)) {
        emit_outer_row(B, ids[at[k]], s->name[ids[at[k]]], false, acc[k], "        ");
        done[k] = true;
      }
  for (int j = 0; j < nm; j++)
    free(v[j].s);
  buf_puts(B->out, "    }\n");
}

/* ---- elementwise groups ---------------------------------------------------------
 *
 * Consecutive elementwise statements of one shape that call no function
 * are one loop: a GRU step's r = s / (1 + e) after 1 + e, and its 1 - z,
 * next state and z (1 - z) after that, each a loop of its own, paid a
 * count and a test apiece and loaded again what the one before had just
 * stored; clang still vectorises the loop, which a call would prevent (a
 * group with the step's exp and tanh calls in it took more instructions:
 * the loops around them lose their vectors).  A statement joins only if
 * it reads no member but element by element, and nothing a member writes
 * meets what the group reads, as in a row group.  Each value is computed
 * as before.  (callgrind, the GRU's _loss_grad: 1,720 instructions a call
 * fewer.) */

/* Whether rendering node id, a stored statement's definition (top) or
 * an operand fused into it, calls a function. */
static bool renders_call(Body *B, int id, bool top) {
  const Node *nd = &B->d->nodes[id];
  if (!top && (B->s->name[id] || op_info[nd->op].kind == KIND_LEAF || op_is_loop((Op)nd->op)))
    return false;
  if (op_info[nd->op].kind == KIND_CALL)
    return true;
  for (int i = 0; i < nd->nops; i++)
    if (renders_call(B, nd->a[i], false))
      return true;
  return false;
}

/* A statement an elementwise group may take. */
static bool elementwise_member(Body *B, int id) {
  const Schedule *s = B->s;
  const Node *nd = &B->d->nodes[id];
  return nd->shape.rank && op_is_elementwise((Op)nd->op) && s->fused_product[id] < 0 && s->root_of[id] < 0 &&
         s->in_place[id] < 0 && s->sum_into[id] < 0 && s->epilogue[id] < 0 && !s->deferred[id] &&
         !renders_call(B, id, true);
}

/* The elementwise group that starts at ids[0], at most n statements and
 * ROW_GROUP_PRODUCTS: its members into m; returns how many. */
static int elementwise_group(Body *B, const int *ids, int n, RowMember *m) {
  int nm = 0;
  Spans spans = {0};
  int seen[ROW_GROUP_PRODUCTS];
  while (nm < n && nm < ROW_GROUP_PRODUCTS) {
    int id = ids[nm];
    if (!elementwise_member(B, id) || (nm && !shape_eq(B->d->nodes[id].shape, B->d->nodes[m[0].id].shape)))
      break;
    m[nm] = (RowMember){id, -1, true};
    int before = spans.n;
    const Node *nd = &B->d->nodes[id];
    bool ok = true;
    for (int i = 0; ok && i < nd->nops; i++)
      ok = group_reads(B, nd->a[i], shape_eq(B->d->nodes[nd->a[i]].shape, nd->shape), m, nm + 1, nm, &spans, seen);
    if (!ok) {
      spans.n = before;
      break;
    }
    nm++;
  }
  int j = first_clash(B, m, nm, &spans); /* every member is stored */
  free(spans.v);
  if (j < nm)
    return j > 1 ? elementwise_group(B, ids, j, m) : 0;
  return nm;
}

/* The elementwise group m[0..nm): one loop, each member's element i
 * stored in turn. */
static void emit_elementwise_group(Body *B, const RowMember *m, int nm) {
  Schedule *s = B->s;
  for (int j = 0; j < nm; j++) {
    int id = m[j].id;
    if (is_loop_body(B, id)) {
      s->name[id] = xstrdup("next");
      continue;
    }
    name_and_declare(B, id);
  }
  buf_printf(B->out, "    for (int i = 0; i < %d; i++) {\n", (int)shape_size(B->d->nodes[m[0].id].shape));
  loop_var(B);
  for (int j = 0; j < nm; j++) {
    Buf x = {0};
    Elem e = elem_flat(ix_text("i"));
    render_def(B, m[j].id, &x, true, &e);
    elem_free(e);
    buf_printf(B->out, "        %s[i] = %s;\n", s->name[m[j].id], x.s);
    free(x.s);
  }
  buf_puts(B->out, "    }\n");
}

/* One statement per scheduled node in ids: a `const` scalar, or a loop
 * nest writing a stored tensor (its pointer declared first) or a
 * reduction; a loop's anchor, the loop. */
static void emit_statements(Body *B, const int *ids, int n) {
  Schedule *s = B->s;
  bool *taken = NULL; /* made in an outer group's loop */
  int *first = NULL;  /* the index of that group's first member */
  bool groups = B->E->b->loops && !B->E->o0; /* statements may share a loop (not -O0's) */
  for (int i = 0; i < n; i++) {
    int id = ids[i];
    const Node *nd = &B->d->nodes[id];
    int reg = s->R.n ? s->R.of[id] : -1;
    if (taken && taken[i]) {
      bool lastone = true;
      for (int k = i + 1; k < n; k++)
        lastone &= !taken[k] || first[k] != first[i];
      if (lastone) { /* the group's loop, where its last member stands */
        int at[ROW_GROUP_PRODUCTS], nm = 0;
        for (int k = first[i]; k <= i; k++)
          if (taken[k] && first[k] == first[i])
            at[nm++] = k;
        emit_outer_group(B, ids, at, nm);
      }
      continue;
    }
    if (groups && outer_member(B, id)) {
      if (!taken) {
        taken = xcalloc(n, sizeof *taken);
        first = xmalloc(n * sizeof *first);
      }
      int at[ROW_GROUP_PRODUCTS], nm = outer_group(B, ids + i, n - i, taken + i, at);
      if (nm > 1) {
        for (int j = 0; j < nm; j++) {
          taken[i + at[j]] = true;
          first[i + at[j]] = i;
        }
        continue;
      }
    }
    RowMember m[ROW_GROUP_PRODUCTS];
    int group = groups ? row_group(B, ids + i, n - i, m) : 0;
    if (group > 1) {
      emit_row_group(B, m, group);
      i += group - 1;
      continue;
    }
    group = groups ? elementwise_group(B, ids + i, n - i, m) : 0;
    if (group > 1) {
      emit_elementwise_group(B, m, group);
      i += group - 1;
      continue;
    }
    if (is_loop_body(B, id)) {
      s->name[id] = xstrdup("next");
      emit_loop(B, id, "next", false);
      continue;
    }
    s->name[id] = statement_name(B, id, B->roots, B->used, &B->temps);
    char line[48];
    line_comment(B, id, line);
    if (op_is_loop((Op)nd->op)) {
      emit_anchor(B, id, line);
      continue;
    }
    if (nd->shape.rank) {
      declare_storage(B, id, s->name[id], line);
      if (row_product(B, id) >= 0 && !B->E->o0) { /* a product's rows: a function of their own */
        Buf loop = {0}, *out = B->out;
        B->out = &loop;
        emit_loop(B, id, s->name[id], false);
        B->out = out;
        emit_kernel(B, loop.s, &id, 1);
        free(loop.s);
        continue;
      }
      emit_loop(B, id, s->name[id], false);
      continue;
    }
    if (op_info[nd->op].form == FORM_REDUCE) {
      if (*line)
        buf_printf(B->out, "   %s\n", line);
      emit_loop(B, id, s->name[id], false);
      continue;
    }
    Buf expr = {0};
    render_def(B, id, &expr, true, NULL);
    buf_printf(B->out, "    const %s %s = %s;%s\n", B->E->R, s->name[id], expr.s, line);
    if (reg >= 0 && s->slot[id] >= 0) { /* kept for the sweep */
      char *at = step_at(s->rp[reg].tape + s->slot[id], s->rp[reg].stride);
      buf_printf(B->out, "    ws[%s] = %s;\n", at, s->name[id]);
      free(at);
    }
    free(expr.s);
  }
  free(taken);
  free(first);
}

/* ---- recurrence: a loop per anchor (sched.c's RegionPlan) ------------------
 *
 * A fold or scan is one C loop over its steps, `step`, with the state
 * before the step in `carry` and where the state after it goes in `next`;
 * its region's statements are the loop's body.  A reverse sweep is one
 * loop from the last step to the first, reading back what the forward
 * loop kept of each step (the states, and the saved values' records on
 * the tape) and carrying the adjoint of the state in its BPTT's storage. */

/* text, each of its lines one more level of indent, then freed */
static void put_indented(Body *B, char *text) {
  for (const char *c = text ? text : ""; *c;) {
    const char *nl = strchr(c, '\n');
    size_t len = nl ? (size_t)(nl - c) + 1 : strlen(c);
    if (len > 1)
      buf_puts(B->out, "    ");
    buf_printf(B->out, "%.*s", (int)len, c);
    c += len;
  }
  free(text);
}

/* Region r's statements, into the loop at one more level of indent. */
static void emit_region(Body *B, int r) {
  Buf *outer = B->out, inner = {0};
  B->out = &inner;
  RegionPlan *p = &B->s->rp[r];
  emit_statements(B, p->order.v, p->order.n);
  B->out = outer;
  put_indented(B, inner.s);
}

/* The C text of a state slot: a pointer for a tensor, an element for a
 * scalar (k == 1 and scalar). */
static char *state_at(long base, const char *slot, long k, bool scalar) {
  char *b = base ? xprintf("%ld + ", base) : xstrdup(""), *r;
  if (scalar)
    r = xprintf("ws[%s%s]", b, slot);
  else
    r = k == 1 ? xprintf("ws + %s%s", b, slot)
               : xprintf(strchr(slot, ' ') ? "ws + %s(%s) * %ld" : "ws + %s%s * %ld", b, slot, k);
  free(b);
  return r;
}

/* Declare the carry (the state before this step) of forward loop anchor
 * when region r's loop reads it. */
static void declare_carry(Body *B, int anchor, int r, const char *before) {
  Schedule *s = B->s;
  int carry = s->R.leaf[B->d->nodes[anchor].index];
  if (carry < 0 || !s->rp[r].reads_carry)
    return;
  if (!s->name[carry])
    s->name[carry] = xstrdup("carry"); /* reserved: no value of the model is named so */
  bool scalar = !B->d->nodes[carry].shape.rank;
  if (scalar) {
    buf_printf(B->out, "        const %s %s = %s;\n", B->E->R, s->name[carry], before);
    B->reals++;
  } else {
    buf_printf(B->out, "        const %s *const %s = %s;\n", B->E->R, s->name[carry], before);
    B->pointers++;
  }
}

/* The state before step `step` and after it, of forward loop anchor (for
 * its own loop, or read back by a sweep). */
static void state_texts(Body *B, int anchor, char **before, char **after) {
  Schedule *s = B->s;
  const Node *nd = &B->d->nodes[anchor];
  int r = nd->index;
  RegionPlan *p = &s->rp[r];
  long k = shape_size(loop_state(B->d, anchor));
  bool scalar = !loop_state(B->d, anchor).rank;
  if (nd->op == OP_SCAN) {
    const char *S = s->name[anchor];
    if (scalar) {
      *before = xprintf("step ? %s[step - 1] : ws[%ld]", S, p->states);
      *after = xprintf("%s[step]", S);
    } else {
      *before = k == 1 ? xprintf("step ? %s + step - 1 : ws + %ld", S, p->states)
                       : xprintf("step ? %s + (step - 1) * %ld : ws + %ld", S, k, p->states);
      *after = k == 1 ? xprintf("%s + step", S) : xprintf("%s + step * %ld", S, k);
    }
    return;
  }
  bool taped = p->taped;
  *before = state_at(p->states, taped ? "step" : "step % 2", k, scalar);
  *after = state_at(p->states, taped ? "step + 1" : "(step + 1) % 2", k, scalar);
}

/* operand() at a flat index given as text (NULL: a scalar) */
static void operand_at(Body *B, int id, int min_prec, Buf *b, const char *ix) {
  Elem e = elem_flat(ix_text(ix ? ix : "0"));
  operand(B, id, min_prec, b, ix ? &e : NULL);
  elem_free(e);
}

/* Copy n reals: to = from, element i of each rendered by the callers. */
static void copy_loop(Body *B, const char *in, long n, const char *to, const char *from) {
  buf_printf(B->out, "%s    for (int i = 0; i < %ld; i++)\n%s        %s = %s;\n", in, n, in, to, from);
  loop_var(B);
}

/* Whether anything but its reverse sweeps reads loop anchor's value. */
static bool result_read(Body *B, int anchor) {
  for (int r = 0; r < B->nroots; r++)
    if (B->roots[r].node == anchor)
      return true;
  for (int k = schedule_live_after(B->s, anchor); k < B->s->nids; k++) {
    const Node *x = &B->d->nodes[B->s->ids[k]];
    for (int i = 0; x->op != OP_BPTT && i < x->nops; i++)
      if (x->a[i] == anchor)
        return true;
  }
  return false;
}

/* FOLD, SCAN: the initial state in place, the loop, the result. */
static void emit_forward_loop(Body *B, int id, const char *line) {
  Schedule *s = B->s;
  const Node *nd = &B->d->nodes[id];
  const char *R = B->E->R;
  int r = nd->index, n = nd->aux;
  RegionPlan *p = &s->rp[r];
  Shape st = loop_state(B->d, id);
  long k = shape_size(st);
  bool scalar = !st.rank, scan = nd->op == OP_SCAN;
  const char *N = s->name[id];
  if (nd->shape.rank && (scan || result_read(B, id)))
    declare_storage(B, id, N, line);
  /* the initial state: slot 0 */
  Buf init = {0};
  if (scalar) {
    render(B, nd->a[0], &init, true, NULL);
    buf_printf(B->out, "    ws[%ld] = %s;\n", p->states, init.s);
  } else {
    char *slot0 = xprintf("ws[%ld + i]", p->states);
    render_at(B, nd->a[0], &init, true, "i");
    copy_loop(B, "", k, slot0, init.s);
    free(slot0);
  }
  free(init.s);
  char *before, *after;
  state_texts(B, id, &before, &after);
  buf_printf(B->out, "    for (int step = 0; step < %d; step++) {\n", n);
  loop_var(B);
  declare_carry(B, id, r, before);
  int body = nd->a[1];
  if (!scalar) { /* where the next state goes */
    buf_printf(B->out, "        %s *const next = %s;\n", R, after);
    B->pointers++;
  }
  emit_region(B, r); /* the body's statement, if it has one, writes next */
  if (!p->body_in_next) {
    Buf v = {0};
    if (scalar) {
      render(B, body, &v, true, NULL);
      buf_printf(B->out, "        %s = %s;\n", after, v.s);
    } else {
      render_at(B, body, &v, true, "i");
      copy_loop(B, "    ", k, "next[i]", v.s);
    }
    free(v.s);
  }
  buf_puts(B->out, "    }\n");
  free(before);
  free(after);
  if (!scan && result_read(B, id)) { /* the last state */
    long last = p->taped ? (long)n * k : (long)(n % 2) * k;
    if (scalar) {
      buf_printf(B->out, "    const %s %s = ws[%ld];%s\n", R, N, p->states + last, line);
    } else {
      char *to = xprintf("%s[i]", N), *from = xprintf("ws[%ld + i]", p->states + last);
      copy_loop(B, "", k, to, from);
      free(to);
      free(from);
    }
  }
}

/* The sweep's LOOPSUM and LOOPSTACK nodes, in id order. */
static IntVec sweep_outputs(Body *B, int bptt) {
  IntVec v = {0};
  for (int k = schedule_live_after(B->s, bptt); k < B->s->nids; k++) {
    const Node *x = &B->d->nodes[B->s->ids[k]];
    if ((x->op == OP_LOOPSUM || x->op == OP_LOOPSTACK) && x->a[0] == bptt)
      vec_push(&v, B->s->ids[k]);
  }
  return v;
}

/* BPTT: the adjoint of the state from the seed, then from the last step
 * to the first: the step's saved values read back, its backward region,
 * the sums and stacks, and the adjoint of the state before it. */
static void emit_sweep(Body *B, int id, const char *line) {
  Schedule *s = B->s;
  Dag *d = B->d;
  const Node *nd = &d->nodes[id];
  const char *R = B->E->R;
  int K = nd->index, fwd = nd->aux, loop = nd->a[0], n = loop_steps(d, id);
  RegionPlan *p = &s->rp[K];
  bool scan = d->nodes[loop].op == OP_SCAN, scalar = !nd->shape.rank;
  long k = shape_size(nd->shape);
  const char *A = s->name[id];
  if (!scalar)
    declare_storage(B, id, A, line);
  /* the adjoint of the last state: the seed (a scan's, its last row) */
  Buf seed = {0};
  if (scalar) {
    char last[32];
    snprintf(last, sizeof last, "%d", n - 1);
    if (scan)
      render_at(B, nd->a[1], &seed, true, last);
    else
      render(B, nd->a[1], &seed, true, NULL);
    buf_printf(B->out, "    %s %s = %s;%s\n", R, A, seed.s, line);
  } else {
    char ix[64];
    snprintf(ix, sizeof ix, scan ? "%ld + i" : "i", (long)(n - 1) * k);
    render_at(B, nd->a[1], &seed, true, ix);
    char *to = xprintf("%s[i]", A);
    copy_loop(B, "", k, to, seed.s);
    free(to);
  }
  free(seed.s);
  int adj = s->R.leaf[K];
  if (adj >= 0)
    s->name[adj] = xstrdup(A);
  /* the sums (zeroed) and stacks */
  IntVec outs = sweep_outputs(B, id);
  for (int i = 0; i < outs.n; i++) {
    int o = outs.v[i];
    const Node *x = &d->nodes[o];
    s->name[o] = statement_name(B, o, B->roots, B->used, &B->temps);
    if (!x->shape.rank) {
      buf_printf(B->out, "    %s %s = %s;\n", R, s->name[o], B->E->is_float ? "0.0f" : "0.0");
      continue;
    }
    declare_storage(B, o, s->name[o], "");
    if (x->op == OP_LOOPSUM) {
      buf_printf(B->out, "    for (int i = 0; i < %ld; i++)\n        %s[i] = %s;\n", shape_size(x->shape),
                 s->name[o], B->E->is_float ? "0.0f" : "0.0");
      loop_var(B);
    }
  }
  buf_printf(B->out, "    for (int step = %d; step >= 0; step--) {\n", n - 1);
  loop_var(B);
  char *before, *after;
  state_texts(B, loop, &before, &after);
  declare_carry(B, loop, K, before);
  /* the forward step's values this sweep reads: the state after the step
   * (the body), and the saved values' records */
  int body = d->nodes[loop].a[1];
  RegionPlan *fp = &s->rp[fwd];
  for (int i = 0; i < p->loads.n; i++) {
    int v = p->loads.v[i];
    bool vs = !d->nodes[v].shape.rank;
    char *name = s->name[v] ? s->name[v] : statement_name(B, v, B->roots, B->used, &B->temps);
    s->name[v] = name;
    char *rec = v == body ? NULL : step_at(fp->tape + s->slot[v], fp->stride);
    char *at = v == body ? xstrdup(after) : vs ? xprintf("ws[%s]", rec) : xprintf("ws + %s", rec);
    free(rec);
    if (vs) {
      buf_printf(B->out, "        const %s %s = %s;\n", R, name, at);
      B->reals++;
    } else {
      buf_printf(B->out, "        const %s *const %s = %s;\n", R, name, at);
      B->pointers++;
    }
    free(at);
  }
  emit_region(B, K);
  for (int i = 0; i < outs.n; i++) {
    int o = outs.v[i];
    const Node *x = &d->nodes[o];
    Buf v = {0};
    if (!x->shape.rank) {
      render(B, x->a[1], &v, false, NULL);
      buf_printf(B->out, "        %s += %s;\n", s->name[o], v.s);
    } else if (x->op == OP_LOOPSUM && s->sum_into[x->a[1]] == o) {
      /* the outer product's loop added itself in */
    } else if (x->op == OP_LOOPSUM) {
      render_at(B, x->a[1], &v, false, "i");
      char *to = xprintf("%s[i]", s->name[o]);
      buf_printf(B->out, "        for (int i = 0; i < %ld; i++)\n            %s += %s;\n", shape_size(x->shape), to,
                 v.s);
      loop_var(B);
      free(to);
    } else { /* a stack's row */
      long m = shape_size(d->nodes[x->a[1]].shape);
      render_at(B, x->a[1], &v, true, "i");
      if (m == 1) {
        Buf one = {0};
        render(B, x->a[1], &one, true, NULL);
        buf_printf(B->out, "        %s[step] = %s;\n", s->name[o], one.s);
        free(one.s);
      } else {
        buf_printf(B->out, "        for (int i = 0; i < %ld; i++)\n            %s[step * %ld + i] = %s;\n", m,
                   s->name[o], m, v.s);
        loop_var(B);
      }
    }
    free(v.s);
  }
  /* the adjoint of the state before the step, plus a scan's seed row */
  Buf dc = {0};
  int plus = op_info[OP_ADD].prec;
  if (scalar) {
    if (scan)
      operand_at(B, nd->a[2], plus, &dc, NULL);
    else
      render(B, nd->a[2], &dc, true, NULL);
    if (scan) {
      Buf sd = {0};
      operand_at(B, nd->a[1], plus + 1, &sd, "step - 1");
      buf_printf(B->out, "        %s = step ? %s + %s : %s;\n", A, dc.s, sd.s, dc.s);
      free(sd.s);
    } else {
      buf_printf(B->out, "        %s = %s;\n", A, dc.s);
    }
  } else {
    if (scan)
      operand_at(B, nd->a[2], plus, &dc, "i");
    else
      render_at(B, nd->a[2], &dc, true, "i");
    if (scan) {
      Buf sd = {0};
      char ix[64];
      snprintf(ix, sizeof ix, "(step - 1) * %ld + i", k);
      operand_at(B, nd->a[1], plus + 1, &sd, ix);
      buf_printf(B->out, "        for (int i = 0; i < %ld; i++)\n            %s[i] = step ? %s + %s : %s;\n", k, A,
                 dc.s, sd.s, dc.s);
      free(sd.s);
    } else {
      buf_printf(B->out, "        for (int i = 0; i < %ld; i++)\n            %s[i] = %s;\n", k, A, dc.s);
    }
    loop_var(B);
  }
  free(dc.s);
  buf_puts(B->out, "    }\n");
  free(before);
  free(after);
  free(outs.v);
}

static void emit_anchor(Body *B, int id, const char *line) {
  if (B->d->nodes[id].op == OP_BPTT)
    emit_sweep(B, id, line);
  else
    emit_forward_loop(B, id, line);
}

/* The roots: assignments (a copy loop for a tensor stored elsewhere),
 * _sgd_step's updates in place, and last the return of the root with no
 * destination. */
static void emit_roots(Body *B, const Root *roots, int nroots, StrMap *used) {
  Schedule *s = B->s;
  Buf ret = {0};
  VEC(char *) update_names = {0};
  for (int r = 0; r < nroots; r++) {
    int id = roots[r].node;
    int n = shape_size(B->d->nodes[id].shape);
    Buf expr = {0};
    if (roots[r].param && B->d->nodes[id].shape.rank) { /* _sgd_step: a tensor param, in place */
      char *ptr = local_name(used, roots[r].param, B->E->P); /* used keeps it: freed below */
      buf_printf(B->out, "    %s *const %s = %s;\n", B->E->R, ptr, roots[r].dst);
      B->pointers++;
      if (s->deferred[id]) {
        int o = -1; /* an outer product whose loop makes this update */
        for (int k = 0; k < B->d->nodes[id].nops; k++)
          if (s->epilogue[B->d->nodes[id].a[k]] == id)
            o = B->d->nodes[id].a[k];
        emit_loop(B, o >= 0 ? o : id, ptr, true); /* the update loop writes the param */
      } else {
        render_at(B, id, &expr, false, "i");
        buf_printf(B->out, "    for (int i = 0; i < %d; i++)\n        %s[i] -= lr * %s;\n", n, ptr, expr.s);
        loop_var(B);
      }
      vec_push(&update_names, ptr);
    } else if (B->d->nodes[id].shape.rank) {
      if (s->root_of[id] != r) {
        render_at(B, id, &expr, true, "i");
        buf_printf(B->out, "    for (int i = 0; i < %d; i++)\n        (%s)[i] = %s;\n", n, roots[r].dst, expr.s);
        loop_var(B);
      }
    } else if (roots[r].param) { /* _sgd_step: a scalar, its gradient a temporary already */
      render(B, id, &expr, false, NULL);
      buf_printf(B->out, "    %s -= lr * %s;\n", roots[r].dst, expr.s);
    } else {
      render(B, id, &expr, true, NULL);
      if (roots[r].dst)
        buf_printf(B->out, "    %s = %s;\n", roots[r].dst, expr.s);
      else
        buf_printf(&ret, "    return %s;\n", expr.s);
    }
    free(expr.s);
  }
  if (ret.s)
    buf_puts(B->out, ret.s);
  free(ret.s);
  for (int i = 0; i < update_names.n; i++)
    free(update_names.v[i]);
  free(update_names.v);
}

/* ---- a long function in pieces --------------------------------------------
 *
 * C compilers take time superlinear in a function's size: a Gaussian
 * mixture written point by point (0.87 MB of C, six functions of 3,000-
 * 4,000 lines) took gcc -O2 43 s, and the issue's determinant by minors
 * 611 s (issue 15); in parts of 128 statements, gcc took 9.6 s.  A
 * function of more than --split-limit statements (DCC_SPLIT_LIMIT) is
 * written as static functions of half as many statements each, called in
 * turn, then the roots: their one-line stores in parts of their own when
 * there are many (a model of 4,000 scalar params: gcc 50.6 s with them in
 * the function, 28.1 s in parts), the rest in the function.  A piece is the
 * statements' text as it would have been: what it reads from before it is
 * declared again at its top, from the text (its identifiers): a scalar
 * input or param as the function's own local, a stored tensor's pointer as
 * its declaration, and a scalar value through sc[], an array of the
 * function's, written after the statement that computes it. */

typedef struct {
  const char *name;
  char *decl;  /* a local's or a pointer's declaration line; NULL: a scalar value */
  int stmt;    /* the statement that defines it, -1 for a local */
  long sc;     /* a scalar value read by a later part: its place in sc[], or -1 */
} PieceDef;
typedef VEC(PieceDef *) PieceDefs;

/* The defined names text reads, each once, in the order it first names
 * them (not inside comments or numbers), from stmt < before. */
static void names_read(const char *text, StrMap *defs, int before, PieceDefs *out, StrMap *seen) {
  for (const char *c = text; *c;) {
    if (c[0] == '/' && c[1] == '*') {
      const char *e = strstr(c + 2, "*/");
      c = e ? e + 2 : c + strlen(c);
    } else if (isdigit((unsigned char)*c) || (*c == '.' && isdigit((unsigned char)c[1]))) {
      while (isalnum((unsigned char)*c) || *c == '.' || *c == '_' ||
             ((*c == '+' || *c == '-') && (c[-1] == 'e' || c[-1] == 'E')))
        c++;
    } else if (isalpha((unsigned char)*c) || *c == '_') {
      const char *b = c;
      while (isalnum((unsigned char)*c) || *c == '_')
        c++;
      char *id = xprintf("%.*s", (int)(c - b), b);
      PieceDef *d = strmap_get(defs, id);
      if (d && d->stmt < before && !strmap_get(seen, id)) {
        strmap_put(seen, d->name, d);
        vec_push(out, d);
      }
      free(id);
    } else {
      c++;
    }
  }
}

/* What a part declares again at its top, for what text reads from before
 * statement `before`; new sc[] places from *nsc. */
static char *piece_preamble(Body *B, const char *text, StrMap *defs, int before, long *nsc) {
  PieceDefs read = {0};
  StrMap seen = {0};
  names_read(text, defs, before, &read, &seen);
  Buf pre = {0};
  for (int i = 0; i < read.n; i++) {
    PieceDef *d = read.v[i];
    if (d->decl) {
      buf_puts(&pre, d->decl);
    } else {
      if (d->sc < 0)
        d->sc = (*nsc)++;
      buf_printf(&pre, "    const %s %s = sc[%ld];\n", B->E->R, d->name, d->sc);
    }
    B->reals += !d->decl || d->stmt < 0;
    B->pointers += d->decl && d->stmt >= 0;
  }
  free(read.v);
  free(seen.keys);
  free(seen.vals);
  return pre.s ? pre.s : xstrdup("");
}

/* Whether text names identifier name (a parameter a part may not read). */
static bool text_names(const char *text, const char *name) {
  size_t n = strlen(name);
  for (const char *c = strstr(text, name); c; c = strstr(c + 1, name))
    if ((c == text || !(isalnum((unsigned char)c[-1]) || c[-1] == '_')) && !(isalnum((unsigned char)c[n]) || c[n] == '_'))
      return true;
  return false;
}

/* The length of the run of one-line stores to an array element (`NAME[...]
 * = ...;`, `-=`, `+=`) that text starts with; their number in *n. */
static size_t root_stores(const char *text, int *n) {
  const char *c = text;
  *n = 0;
  for (;;) {
    const char *nl = strchr(c, '\n'), *t = c + 4;
    if (!nl || strncmp(c, "    ", 4) || !(isalpha((unsigned char)*t) || *t == '_'))
      break;
    while (isalnum((unsigned char)*t) || *t == '_')
      t++;
    const char *close = memchr(t, ']', (size_t)(nl - t));
    if (*t != '[' || !close || memchr(c, '{', (size_t)(nl - c)) || nl[-1] != ';' ||
        !(!strncmp(close, "] = ", 4) || !strncmp(close, "] -= ", 5) || !strncmp(close, "] += ", 5)))
      break;
    c = nl + 1;
    ++*n;
  }
  return (size_t)(c - text);
}

/* The function's statements (ids, after the locals in head) in parts:
 * the parts' bodies into f->pieces, and into out the calls, then the
 * roots.  args are the function's arguments as it passes them on ("in, p,
 * grad"). */
static void emit_in_pieces(Body *B, FuncBody *f, const char *head, PieceDef *locals, int nlocals, const char *fname,
                           const char *args, const Root *roots, int nroots, StrMap *used) {
  Schedule *s = B->s;
  Buf *out = B->out, all = {0};
  int n = s->norder, piece = (int)(B->E->split_limit / 2);
  long *start = xmalloc(((size_t)n + 1) * sizeof *start);
  PieceDef *defs = xcalloc((size_t)n + 1, sizeof *defs);
  StrMap bydef = {0};
  for (int i = 0; i < nlocals; i++)
    strmap_put(&bydef, locals[i].name, &locals[i]);
  B->out = &all;
  for (int i = 0; i < n; i++) {
    int id = s->order[i];
    start[i] = all.len;
    emit_statements(B, &s->order[i], 1);
    defs[i] = (PieceDef){s->name[id], NULL, i, -1};
    if (B->d->nodes[id].shape.rank) { /* its pointer's declaration: the statement's first line */
      const char *nl = strchr(all.s + start[i], '\n');
      defs[i].decl = xprintf("%.*s\n", (int)(nl - (all.s + start[i])), all.s + start[i]);
    }
    if (s->name[id])
      strmap_put(&bydef, s->name[id], &defs[i]);
  }
  start[n] = all.len;
  /* the parts: what each reads from before it */
  int nparts = (n + piece - 1) / piece;
  char **pre = xcalloc((size_t)nparts + 1, sizeof *pre);
  long nsc = 0;
  for (int k = 0; k < nparts; k++) {
    int a = k * piece, e = a + piece < n ? a + piece : n;
    char *text = xprintf("%.*s", (int)(start[e] - start[a]), all.s + start[a]);
    pre[k] = piece_preamble(B, text, &bydef, a, &nsc);
    free(text);
  }
  /* the roots: a run of one-line stores at their start (grad[k] = t,
   * p[k] -= lr * t: a model of thousands of scalar params has thousands)
   * in parts of their own, called after the others; the rest in the
   * function itself */
  Buf rtext = {0};
  B->out = &rtext;
  emit_roots(B, roots, nroots, used);
  const char *rt = rtext.s ? rtext.s : "";
  int nstores = 0;
  size_t stores = root_stores(rt, &nstores);
  int nrparts = nstores > piece ? (nstores + piece - 1) / piece : 0;
  char **rparts = xcalloc((size_t)nrparts + 1, sizeof *rparts);
  for (int k = 0, at = 0; k < nrparts; k++) { /* at: where part k's lines start in rt */
    int end = at;
    for (int line = 0; line < piece && (size_t)end < stores; line++)
      end += (int)(strchr(rt + end, '\n') - (rt + end)) + 1;
    char *text = xprintf("%.*s", end - at, rt + at);
    char *p = piece_preamble(B, text, &bydef, n, &nsc);
    rparts[k] = xprintf("%s%s", p, text);
    free(p);
    free(text);
    at = end;
  }
  if (!nrparts)
    stores = 0;
  char *rpre = piece_preamble(B, rt + stores, &bydef, n, &nsc);
  /* each part's text, with the values later parts read put in sc[] */
  char **names = NULL; /* the parts' parameters */
  int nargs = 0;
  char *list = xprintf("%s, ws, sc", args);
  for (char *tok = strtok(list, ", "); tok; tok = strtok(NULL, ", ")) {
    names = xrealloc(names, ((size_t)nargs + 1) * sizeof *names);
    names[nargs++] = xstrdup(tok);
  }
  free(list);
  f->pieces = xcalloc((size_t)(nparts + nrparts) + 1, sizeof *f->pieces);
  f->npieces = nparts + nrparts;
  for (int k = 0; k < nparts + nrparts; k++) {
    int a = k * piece, e = a + piece < n ? a + piece : n;
    Buf text = {0};
    if (k < nparts) {
      buf_puts(&text, pre[k]);
      for (int i = a; i < e; i++) {
        buf_printf(&text, "%.*s", (int)(start[i + 1] - start[i]), all.s + start[i]);
        if (defs[i].sc >= 0)
          buf_printf(&text, "    sc[%ld] = %s;\n", defs[i].sc, defs[i].name);
      }
      free(pre[k]);
    } else {
      buf_puts(&text, rparts[k - nparts]);
      free(rparts[k - nparts]);
    }
    Buf body = {0};
    for (int j = 0; j < nargs; j++) /* what this part does not read */
      if ((strcmp(names[j], "ws") || B->E->b->loops) && (strcmp(names[j], "sc") || nsc) &&
          !text_names(text.s, names[j]))
        buf_printf(&body, "    (void)%s;\n", names[j]);
    buf_puts(&body, text.s);
    f->pieces[k] = body.s;
    free(text.s);
  }
  free(rparts);
  B->out = out;
  buf_puts(out, head);
  if (nsc)
    buf_printf(out, "    %s sc[%ld]; /* the values a later part reads */\n", B->E->R, nsc);
  for (int k = 0; k < f->npieces; k++)
    buf_printf(out, "    %s_part_%s_%d(%s%s%s);\n", B->E->P, fname, k + 1, args, B->E->b->loops ? ", ws" : "",
               nsc ? ", sc" : "");
  buf_puts(out, rpre);
  buf_puts(out, rt + stores);
  f->sc_size = nsc;
  B->reals += (int)nsc;
  for (int j = 0; j < nargs; j++)
    free(names[j]);
  free(names);
  free(rpre);
  free(rtext.s);
  free(pre);
  for (int i = 0; i < n; i++)
    free(defs[i].decl);
  free(defs);
  free(start);
  free(bydef.keys);
  free(bydef.vals);
  free(all.s);
}

FuncBody plan_body(const Emit *E, Root *roots, int nroots, const char *outparam, const char *fname, const char *args) {
  Built *b = E->b;
  Model *m = b->m;
  FuncBody f = {.s = schedule_make(b, roots, nroots, E->o0)};
  Buf out = {0};
  StrMap used = {0};
  Body B = {.E = E, .s = f.s, .d = b->dag, .out = &out, .acc_node = -1, .outer_node = -1, .reals = f.s->ntemps,
            .roots = roots, .nroots = nroots, .used = &used, .fname = fname};
  if (!f.s->uses_in)
    buf_puts(&out, "    (void)in;\n");
  bool reads_p = false; /* not only frozen params' constant arrays */
  for (int k = 0; k < f.s->nids && f.s->uses_p && !reads_p; k++)
    if (b->dag->nodes[f.s->ids[k]].op == OP_PARAM) {
      int id = f.s->ids[k];
      Sym *s = model_param_at(m, b->dag->nodes[id].index);
      reads_p = !s || s->p_offset >= 0;
    }
  if (!reads_p)
    buf_puts(&out, "    (void)p;\n");
  if (outparam) /* the caller knows the function writes nothing there */
    buf_printf(&out, "    (void)%s;\n", outparam);
  if (b->loops && !f.s->ws_size)
    buf_puts(&out, "    (void)ws;\n");
  /* Scalar inputs and params get a local named after them (in a long
   * function, in each part that reads them). */
  bool split = !E->o0 && !f.s->R.n && E->split_limit > 1 && f.s->norder > E->split_limit;
  PieceDef *locals = xcalloc((size_t)f.s->locals.n + 1, sizeof *locals);
  for (int i = 0; i < f.s->locals.n; i++) {
    int id = f.s->locals.v[i];
    Sym *sym = f.s->leaf_sym[id];
    f.s->name[id] = local_name(&used, sym->name, E->P);
    char name[DCC_MAX_NAME_LEN + 64];
    int at = sym->offset;
    const char *arr = sym->kind == SYM_PARAM ? param_array(E, sym->offset, &at, name, sizeof name) : "in";
    locals[i] = (PieceDef){f.s->name[id], xprintf("    const %s %s = %s[%d];\n", E->R, f.s->name[id], arr, at), -1, -1};
    if (!split) {
      buf_puts(&out, locals[i].decl);
      B.reals++;
    }
  }
  f.locals = B.reals;
  if (split) {
    B.pieces = true;
    char *head = out.s ? out.s : xstrdup("");
    out = (Buf){0};
    emit_in_pieces(&B, &f, head, locals, f.s->locals.n, fname, args, roots, nroots, &used);
    free(head);
  } else {
    emit_statements(&B, f.s->order, f.s->norder);
    emit_roots(&B, roots, nroots, &used);
  }
  for (int i = 0; i < f.s->locals.n; i++)
    free(locals[i].decl);
  free(locals);
  free(used.keys);
  free(used.vals);
  f.text = out.s ? out.s : xstrdup("");
  f.kernels = B.kernels.s;
  /* The stack by dcc's accounting: every value, loop variable and pointer
   * the body declares (an unoptimised build gives each its own slot), the
   * plain function's workspace, and DCC_FRAME_BYTES per call level for
   * saved registers and the return address; not the stack of the libm
   * functions it calls. */
  f.stack = (B.reals + f.s->ws_size) * (E->is_float ? 4 : 8) + B.loops * 4L + B.pointers * 8L +
            DCC_FRAME_BYTES * ((b->loops ? 2 : 1) + (f.npieces > 0)); /* the plain function calls its _ws body,
                                                                         which calls its parts */
  if (B.nkernels) /* a loop's function, where not inlined: a frame, and its parameters kept there */
    f.stack += DCC_FRAME_BYTES + B.kernel_params * 8L;
  return f;
}

void body_free(FuncBody *f) {
  schedule_free(f->s);
  free(f->text);
  free(f->kernels);
  for (int k = 0; k < f->npieces; k++)
    free(f->pieces[k]);
  free(f->pieces);
}
