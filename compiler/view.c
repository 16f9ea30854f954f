/* view.c — reading a tensor through its views.
 *
 * A view (transpose, a row, an element, a scalar filled out: the ops of
 * form VIEW and ELEMENT) is a way of reading another tensor, never a copy.
 * view_elem() is the one place that says which element of its operand an
 * element of a view is; the emitter (C text over loop variables), the
 * evaluator, unroll.c and the simplifier (numbers) all call it.
 *
 * Indices are Ix: a number, or C text.  Arithmetic on two numbers folds;
 * text is written as the emitted C has always spelt it ("2080 + 64 + i",
 * "k * 32 + i"), so that the output stays byte-identical. */
#include "dcc.h"

#include <stdlib.h>
#include <string.h>

Ix ix_num(long k) { return (Ix){.k = k}; }

/* Text that is a whole number is the number: it folds. */
Ix ix_text(const char *text) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text && !*end)
    return ix_num(v);
  return (Ix){.text = xstrdup(text)};
}

Ix ix_split(const char *hi, long split, const char *lo) {
  return (Ix){0, xprintf("%s * %ld + %s", hi, split, lo), xstrdup(hi), xstrdup(lo), split};
}

Ix ix_copy(Ix x) {
  Ix r = {x.k, x.text ? xstrdup(x.text) : NULL, NULL, NULL, x.split};
  if (x.split)
    r.hi = xstrdup(x.hi), r.lo = xstrdup(x.lo);
  return r;
}

void ix_free(Ix x) {
  free(x.text);
  free(x.hi);
  free(x.lo);
}

char *ix_str(Ix x) { return x.text ? xstrdup(x.text) : xprintf("%ld", x.k); }

/* base + x (consumes x) */
Ix ix_plus(long base, Ix x) {
  if (!x.text)
    return ix_num(base + x.k);
  if (!base)
    return x;
  Ix r = {.text = xprintf("%ld + %s", base, x.text)};
  ix_free(x);
  return r;
}

/* row * ncols + col, the flat index of an element of a matrix (consumes
 * row and col) */
Ix ix_rowcol(Ix row, long ncols, Ix col) {
  if (!row.text)
    return ix_plus(row.k * ncols, col);
  char *rc = xprintf(strchr(row.text, ' ') ? "(%s) * %ld" : "%s * %ld", row.text, ncols); /* "k + 2" */
  Ix r;
  if (!col.text && col.k == 0) {
    r = (Ix){.text = rc};
  } else {
    char *c = ix_str(col);
    r = (Ix){.text = xprintf("%s + %s", rc, c)};
    free(c);
    free(rc);
  }
  ix_free(row);
  ix_free(col);
  return r;
}

/* Whether text has a + or - outside parentheses (then it needs them
 * before a *, / or %). */
static bool additive(const char *t) {
  int depth = 0;
  for (; *t; t++) {
    depth += *t == '(' ? 1 : *t == ')' ? -1 : 0;
    if (!depth && (t[0] == '+' || t[0] == '-') && t[1] == ' ')
      return true;
  }
  return false;
}

/* x op c, for op one of * / %, c > 0 (consumes x) */
static Ix ix_arith(Ix x, char op, long c) {
  if (!x.text)
    return ix_num(op == '*' ? x.k * c : op == '/' ? x.k / c : x.k % c);
  if (c == 1 && op != '%')
    return x;
  Ix r = {0};
  if (x.split && op == '/' && c % x.split == 0) /* (hi s + lo) / (m s) = hi / m */
    r = ix_arith(ix_text(x.hi), '/', c / x.split);
  else if (x.split && op == '%' && x.split % c == 0) /* (hi s + lo) % c = lo % c */
    r = ix_arith(ix_text(x.lo), '%', c);
  else
    r.text = xprintf(additive(x.text) ? "(%s) %c %ld" : "%s %c %ld", x.text, op, c);
  ix_free(x);
  return r;
}

Ix ix_mul(Ix x, long c) { return c == 0 ? (ix_free(x), ix_num(0)) : ix_arith(x, '*', c); }
Ix ix_div(Ix x, long c) { return ix_arith(x, '/', c); }
Ix ix_mod(Ix x, long c) { return c == 1 ? (ix_free(x), ix_num(0)) : ix_arith(x, '%', c); }

/* a + b (consumes both) */
Ix ix_sum(Ix a, Ix b) {
  if (!a.text)
    return ix_plus(a.k, b);
  if (!b.text && b.k == 0)
    return a;
  char *bt = ix_str(b);
  Ix r = {.text = xprintf("%s + %s", a.text, bt)};
  free(bt);
  ix_free(a);
  ix_free(b);
  return r;
}

Elem elem_flat(Ix x) { return (Elem){1, {x}}; }

Elem elem_2d(Ix row, Ix col) { return (Elem){2, {row, col}}; }

void elem_free(Elem e) {
  for (int i = 0; i < e.n; i++)
    ix_free(e.at[i]);
}

/* The flat row-major index of e in a tensor of shape s (consumes e). */
Ix elem_offset(Shape s, Elem e) {
  Ix off = e.at[0];
  for (int i = 1; i < e.n; i++)
    off = ix_rowcol(off, s.dim[i], e.at[i]);
  return off;
}

/* Index i of element e of a tensor of shape s: its own, or worked out
 * from the flat index (e stays whole). */
static Ix elem_dim(Shape s, const Elem *e, int i) {
  if (e->n > 1)
    return ix_copy(e->at[i]);
  long stride = 1;
  for (int j = i + 1; j < s.rank; j++)
    stride *= s.dim[j];
  Ix x = ix_div(ix_copy(e->at[0]), stride);
  return i == 0 ? x : ix_mod(x, s.dim[i]); /* the first index needs no wrap */
}

Elem view_elem(const Dag *d, int id, Elem e) {
  const Node *nd = &d->nodes[id];
  Shape as = d->nodes[nd->a[0]].shape;
  switch ((Op)nd->op) {
  case OP_TRANSPOSE: { /* element (r, c) of M^T is M's (c, r); M is [m][n] */
    if (e.n == 2)
      return elem_2d(e.at[1], e.at[0]);
    Ix x = e.at[0];
    long m = as.dim[0], n = as.dim[1];
    if (!x.text)
      return elem_flat(ix_num(x.k % m * n + x.k / m));
    Ix r = {.text = xprintf("(%s) %% %ld * %ld + (%s) / %ld", x.text, m, n, x.text, m)};
    ix_free(x);
    return elem_flat(r);
  }
  case OP_ROW: /* element j of row r of M[m][n] is M's r n + j (of X[c], X's c h w + j) */
    return elem_flat(ix_plus((long)nd->index * shape_inner(as), elem_offset(nd->shape, e)));
  case OP_FILL: /* every element of a filled scalar is the scalar */
    elem_free(e);
    return elem_flat(ix_num(0));
  case OP_INDEX: /* the scalar that is element k */
    elem_free(e);
    return elem_flat(ix_num(nd->index));
  case OP_SLICE: /* rows from r: element j is the operand's r inner + j */
    return elem_flat(ix_plus((long)nd->index * shape_inner(as), elem_offset(nd->shape, e)));
  case OP_STEP: { /* this step's row of the sequence: the loop's variable `step` */
    long inner = shape_size(nd->shape);
    Ix row = inner == 1 ? ix_text("step") : ix_mul(ix_text("step"), inner);
    return elem_flat(ix_sum(row, elem_offset(nd->shape, e)));
  }
  case OP_RESHAPE: /* the same elements, row-major */
    return elem_flat(elem_offset(nd->shape, e));
  case OP_BCAST: { /* a stretched dimension is read at index 0: stride 0 */
    Shape s = nd->shape;
    Ix off = ix_num(0);
    long stride = 1;
    for (int q = as.rank - 1; q >= 0; q--) {
      if (as.dim[q] != 1)
        off = ix_sum(ix_mul(elem_dim(s, &e, q + s.rank - as.rank), stride), off);
      stride *= as.dim[q];
    }
    elem_free(e);
    return elem_flat(off);
  }
  case OP_MATMUL: case OP_OUTER: case OP_SUM: case OP_MAXR: case OP_SCATTER: case OP_SCATROW: case OP_SUMD:
  case OP_CONCAT: case OP_ATMAX: case OP_UNMAX: case OP_CONV: case OP_CONV_X: case OP_CONV_K: case OP_DWCONV:
  case OP_DWCONV_X: case OP_DWCONV_K: case OP_AVGPOOL: case OP_AVGPOOL_X: case OP_WMAX: case OP_UNWMAX:
  case OP_CARRY: case OP_FOLD: case OP_SCAN: case OP_ADJ: case OP_BPTT: case OP_LOOPSUM: case OP_LOOPSTACK:
#define OTHER(name, ...) case OP_##name:
    DCC_LEAF_OPS(OTHER)
    DCC_SCALAR_OPS(OTHER)
#undef OTHER
  case OP_COUNT:
    break;
  }
  abort(); /* not a view */
}

long view_elem_num(const Dag *d, int id, long k) {
  Elem e = view_elem(d, id, elem_flat(ix_num(k)));
  return elem_offset(d->nodes[d->nodes[id].a[0]].shape, e).k;
}

/* Element k of a tensor of shape sh as a suffix: "[0][1]" (brackets: a
 * param's name, the language's indexing), "_0_1" (a C local's name). */
const char *elem_suffix(Shape sh, int k, char *buf, size_t n, bool brackets) {
  int idx[DCC_MAX_RANK];
  for (int i = sh.rank - 1; i >= 0; i--) {
    idx[i] = k % sh.dim[i];
    k /= sh.dim[i];
  }
  size_t len = 0;
  buf[0] = 0;
  for (int i = 0; i < sh.rank && len < n; i++)
    len += (size_t)snprintf(buf + len, n - len, brackets ? "[%d]" : "_%d", idx[i]);
  return buf;
}

/* Slice o of a reduction along dimension k of a tensor of shape xs: its
 * element t is the tensor's first + t * stride, t < n (the elements before
 * k are o's quotient by stride, those after it o's remainder). */
void slice_at(Shape xs, int k, int o, int *first, int *n, int *stride) {
  int inner = 1;
  for (int i = k + 1; i < xs.rank; i++)
    inner *= xs.dim[i];
  *n = xs.dim[k];
  *stride = inner;
  *first = o / inner * *n * inner + o % inner;
}
