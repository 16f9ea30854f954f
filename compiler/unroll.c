/* unroll.c — tensors into scalars, for models small enough that
 * straight-line code beats loops.
 *
 * Requires: a Built from build() (tensors whole).  Guarantees: every node
 * of the DAG has a scalar node for each of its elements, made through the
 * simplifying, hash-consing constructors (so CSE and the rules see every
 * scalar); every Sym has sym->ids; the per-scalar tables of Built have a
 * node per scalar; b->loops is false.  A scalar node whose operands stay
 * the same keeps its id, so a model without tensors comes out unchanged.
 *
 * Whether a model is unrolled is decided in main.c by largest_tensor()
 * against --unroll-limit, and nowhere else; a model with a fold or scan
 * never is. */
#include "dcc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int largest_tensor(Built *b) {
  Dag *d = b->dag;
  int most = 1;
  for (int id = 0; id < d->n; id++)
    if (shape_size(d->nodes[id].shape) > most)
      most = shape_size(d->nodes[id].shape);
  return most;
}

typedef struct {
  Dag *d;
  int *first;          /* per old node: where its scalars start in pool */
  VEC(int) pool;
} Unroller;

#define EL(id, k) (U->pool.v[U->first[id] + (k)])

/* The sum of n terms, associated as the loop back end adds a reduction
 * (emit_c.c, reduce_terms), so that both lowerings compute the same sums:
 * n < 8 left to right; else two chains, even and odd t, eight terms a step
 * as ((t0 + t2) + (t4 + t6)), the rest onto the even chain, then even +
 * odd.  Independent chains are also what the C compiler's vectoriser pairs
 * up (make bench). */
static int paired_sum(Dag *d, const int *term, int n) {
  int n8 = n / 8 * 8, chain[2] = {-1, -1}, s;
  for (int t = 0; t < n8 && !d->overflow; t += 8)
    for (int c = 0; c < 2; c++) {
      int step = dag_bin(d, OP_ADD, dag_bin(d, OP_ADD, term[t + c], term[t + c + 2]),
                         dag_bin(d, OP_ADD, term[t + c + 4], term[t + c + 6]));
      chain[c] = chain[c] < 0 ? step : dag_bin(d, OP_ADD, chain[c], step);
    }
  s = chain[0];
  for (int t = n8; t < n && !d->overflow; t++)
    s = s < 0 ? term[t] : dag_bin(d, OP_ADD, s, term[t]);
  if (chain[1] >= 0)
    s = dag_bin(d, OP_ADD, s, chain[1]);
  return s < 0 ? 0 : s;
}

/* The scalars of an operand at element k: a scalar broadcasts. */
static int elem(Unroller *U, int id, int k) {
  return U->d->nodes[id].shape.rank ? EL(id, k) : EL(id, 0);
}

/* ---- each tensor op's scalars: r[k] for each element k of node nd ---- */

/* r[i][j] = sum over t of A[i][t] B[t][j] */
static void unroll_MATMUL(Unroller *U, int id, const Node *nd, int *r) {
  Dag *d = U->d;
  (void)id;
  Shape as = d->nodes[nd->a[0]].shape;
  int m = as.dim[0], kk = as.dim[1], cols = nd->shape.rank == 2 ? nd->shape.dim[1] : 1;
  int *terms = xmalloc((size_t)kk * sizeof *terms);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < cols; j++) {
      for (int t = 0; t < kk; t++)
        terms[t] = dag_bin(d, OP_MUL, EL(nd->a[0], i * kk + t), EL(nd->a[1], t * cols + j));
      r[i * cols + j] = paired_sum(d, terms, kk);
    }
  free(terms);
}

static void unroll_OUTER(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  int cols = nd->shape.dim[1];
  for (int k = 0; k < shape_size(nd->shape); k++)
    r[k] = dag_bin(U->d, OP_MUL, EL(nd->a[0], k / cols), EL(nd->a[1], k % cols));
}

static void unroll_SUM(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  int len = shape_size(U->d->nodes[nd->a[0]].shape);
  int *terms = xmalloc((size_t)len * sizeof *terms);
  for (int k = 0; k < len; k++)
    terms[k] = EL(nd->a[0], k);
  r[0] = paired_sum(U->d, terms, len);
  free(terms);
}

static void unroll_MAXR(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  int len = shape_size(U->d->nodes[nd->a[0]].shape);
  int s = EL(nd->a[0], 0);
  for (int k = 1; k < len; k++) {
    int v = EL(nd->a[0], k);
    s = dag_op(U->d, OP_IFGT, v, s, v, s);
  }
  r[0] = s;
}

/* a view: each element is an element of the operand (view.c) */
static void unroll_view(Unroller *U, int id, const Node *nd, int *r) {
  for (int k = 0; k < shape_size(nd->shape); k++)
    r[k] = EL(nd->a[0], view_elem_num(U->d, id, k));
}
#define unroll_TRANSPOSE unroll_view
#define unroll_FILL unroll_view
#define unroll_INDEX unroll_view
#define unroll_ROW unroll_view
#define unroll_BCAST unroll_view
#define unroll_RESHAPE unroll_view
#define unroll_SLICE unroll_view

/* Element o of amax along a dimension, or of the element of b there: a
 * chain of selects that keeps the first largest on ties (as MAXR does). */
static void unroll_ATMAX(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  for (int o = 0; o < shape_size(nd->shape); o++) {
    int n, stride, first;
    slice_at(U->d->nodes[nd->a[0]].shape, nd->index, o, &first, &n, &stride);
    int best = EL(nd->a[0], first), at = EL(nd->a[1], first);
    for (int t = 1; t < n; t++) {
      int v = EL(nd->a[0], first + t * stride), x = EL(nd->a[1], first + t * stride);
      if (nd->a[1] != nd->a[0])
        at = dag_op(U->d, OP_IFGE, best, v, at, x);
      best = dag_op(U->d, OP_IFGE, best, v, best, v);
    }
    r[o] = nd->a[1] == nd->a[0] ? best : at;
  }
}

/* Element t of a slice is g's when it is the first largest: larger than
 * every element before it, and no smaller than the largest. */
static void unroll_UNMAX(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  Dag *d = U->d;
  for (int o = 0; o < shape_size(nd->shape) / nd->shape.dim[nd->index]; o++) {
    int n, stride, first;
    slice_at(nd->shape, nd->index, o, &first, &n, &stride);
    int largest = EL(nd->a[0], first);
    for (int t = 1; t < n; t++) {
      int v = EL(nd->a[0], first + t * stride);
      largest = dag_op(d, OP_IFGE, largest, v, largest, v);
    }
    int before = -1, g = elem(U, nd->a[1], o);
    for (int t = 0; t < n; t++) {
      int v = EL(nd->a[0], first + t * stride);
      int here = dag_op(d, OP_IFGE, v, largest, g, dag_const(d, 0));
      r[first + t * stride] = before < 0 ? here : dag_op(d, OP_IFGT, v, before, here, dag_const(d, 0));
      before = before < 0 ? v : dag_op(d, OP_IFGE, before, v, before, v);
    }
  }
}

/* ---- convolutions and pooling: each element a sum of its terms (conv.c) ---- */

typedef struct {
  Unroller *U;
  const Node *nd;
  IntVec *terms; /* per element of the node: its terms */
} ConvUnroll;

static void unroll_conv_term(void *ctx, const ConvGeom *g, int o, int y, int x, int c, int i, int j, int iy, int ix) {
  ConvUnroll *cu = ctx;
  Unroller *U = cu->U;
  const Node *nd = cu->nd;
  int in = conv_in_at(g, c, iy, ix), out = conv_out_at(g, o, y, x), k = conv_k_at(g, o, c, i, j);
  int at, term;
  switch ((Op)nd->op) {
  case OP_CONV: case OP_DWCONV:
    at = out, term = dag_bin(U->d, OP_MUL, EL(nd->a[0], in), EL(nd->a[1], k));
    break;
  case OP_CONV_X: case OP_DWCONV_X:
    at = in, term = dag_bin(U->d, OP_MUL, EL(nd->a[0], out), EL(nd->a[1], k));
    break;
  case OP_CONV_K: case OP_DWCONV_K:
    at = k, term = dag_bin(U->d, OP_MUL, EL(nd->a[0], in), EL(nd->a[1], out));
    break;
  case OP_AVGPOOL:
    at = out, term = EL(nd->a[0], in);
    break;
  default: /* AVGPOOL_X: the window's derivative, shared */
    at = in, term = dag_bin(U->d, OP_DIV, EL(nd->a[0], out), dag_const(U->d, g->KH * g->KW));
    break;
  }
  vec_push(&cu->terms[at], term);
}

static void unroll_conv(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  ConvGeom g = conv_geom(U->d, nd);
  int n = shape_size(nd->shape);
  ConvUnroll cu = {U, nd, xcalloc((size_t)n, sizeof(IntVec))};
  conv_each(&g, unroll_conv_term, &cu);
  for (int k = 0; k < n; k++) {
    r[k] = cu.terms[k].n ? paired_sum(U->d, cu.terms[k].v, cu.terms[k].n) : dag_const(U->d, 0);
    if (nd->op == OP_AVGPOOL)
      r[k] = dag_bin(U->d, OP_DIV, r[k], dag_const(U->d, g.KH * g.KW));
    free(cu.terms[k].v);
  }
  free(cu.terms);
}
#define unroll_CONV unroll_conv
#define unroll_CONV_X unroll_conv
#define unroll_CONV_K unroll_conv
#define unroll_DWCONV unroll_conv
#define unroll_DWCONV_X unroll_conv
#define unroll_DWCONV_K unroll_conv
#define unroll_AVGPOOL unroll_conv
#define unroll_AVGPOOL_X unroll_conv

/* a window's first largest: the chain of selects of ATMAX over the window
 * in row-major order; UNWMAX as UNMAX */
static void unroll_WMAX(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  Dag *d = U->d;
  ConvGeom g = conv_geom(d, nd);
  bool un = nd->op == OP_UNWMAX;
  int n = g.KH * g.KW, *el = xmalloc((size_t)n * sizeof *el);
  for (int k = 0; un && k < shape_size(nd->shape); k++)
    r[k] = dag_const(d, 0);
  for (int o = 0; o < g.O; o++)
    for (int y = 0; y < g.OH; y++)
      for (int x = 0; x < g.OW; x++) {
        for (int i = 0; i < g.KH; i++)
          for (int j = 0; j < g.KW; j++)
            el[i * g.KW + j] = conv_in_at(&g, o, y * g.stride + i, x * g.stride + j);
        int out = conv_out_at(&g, o, y, x), largest = EL(nd->a[0], el[0]), at = EL(nd->a[1], el[0]);
        for (int t = 1; t < n; t++) {
          int v = EL(nd->a[0], el[t]);
          if (!un && nd->a[1] != nd->a[0])
            at = dag_op(d, OP_IFGE, largest, v, at, EL(nd->a[1], el[t]));
          largest = dag_op(d, OP_IFGE, largest, v, largest, v);
        }
        if (!un) {
          r[out] = nd->a[1] == nd->a[0] ? largest : at;
          continue;
        }
        int before = -1, gv = EL(nd->a[1], out);
        for (int t = 0; t < n; t++) {
          int v = EL(nd->a[0], el[t]);
          int here = dag_op(d, OP_IFGE, v, largest, gv, dag_const(d, 0));
          r[el[t]] = before < 0 ? here : dag_op(d, OP_IFGT, v, before, here, dag_const(d, 0));
          before = before < 0 ? v : dag_op(d, OP_IFGE, before, v, before, v);
        }
      }
  free(el);
}
#define unroll_UNWMAX unroll_WMAX

/* A model with a loop is never unrolled (main.c): its size must not
 * grow with the number of steps. */
static void unroll_loop(Unroller *U, int id, const Node *nd, int *r) {
  (void)U, (void)id, (void)nd, (void)r;
  fprintf(stderr, "dcc: internal error: a loop reached the unroller\n");
  abort();
}
#define unroll_CARRY unroll_loop
#define unroll_STEP unroll_loop
#define unroll_FOLD unroll_loop
#define unroll_SCAN unroll_loop
#define unroll_ADJ unroll_loop
#define unroll_BPTT unroll_loop
#define unroll_LOOPSUM unroll_loop
#define unroll_LOOPSTACK unroll_loop

static void unroll_CONCAT(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  int na = shape_size(U->d->nodes[nd->a[0]].shape);
  for (int k = 0; k < shape_size(nd->shape); k++)
    r[k] = k < na ? EL(nd->a[0], k) : EL(nd->a[1], k - na);
}

static void unroll_SUMD(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  int n, stride, first;
  slice_at(U->d->nodes[nd->a[0]].shape, nd->index, 0, &first, &n, &stride);
  int *terms = xmalloc((size_t)n * sizeof *terms);
  for (int o = 0; o < shape_size(nd->shape); o++) {
    slice_at(U->d->nodes[nd->a[0]].shape, nd->index, o, &first, &n, &stride);
    for (int t = 0; t < n; t++)
      terms[t] = EL(nd->a[0], first + t * stride);
    r[o] = paired_sum(U->d, terms, n);
  }
  free(terms);
}

static void unroll_SCATTER(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  for (int k = 0; k < shape_size(nd->shape); k++)
    r[k] = k == nd->index ? EL(nd->a[0], 0) : dag_const(U->d, 0);
}

static void unroll_SCATROW(Unroller *U, int id, const Node *nd, int *r) {
  (void)id;
  int cols = shape_inner(nd->shape);
  for (int k = 0; k < shape_size(nd->shape); k++)
    r[k] = k / cols == nd->index ? EL(nd->a[0], k % cols) : dag_const(U->d, 0);
}

/* An elementwise op, element by element; a scalar node whose operands did
 * not change keeps its id. */
static void unroll_elementwise(Unroller *U, int id, const Node *nd, int *r) {
  bool same = !nd->shape.rank;
  for (int i = 0; i < nd->nops; i++)
    same = same && EL(nd->a[i], 0) == nd->a[i];
  for (int k = 0; k < shape_size(nd->shape); k++) {
    if (same) {
      r[k] = id;
      continue;
    }
    int ops[4] = {0, 0, 0, 0};
    for (int i = 0; i < nd->nops; i++)
      ops[i] = elem(U, nd->a[i], k);
    r[k] = dag_op(U->d, (Op)nd->op, ops[0], ops[1], ops[2], ops[3]);
  }
}

static void unroll_leaf(Unroller *U, int id, const Node *nd, int *r) {
  for (int k = 0; k < shape_size(nd->shape); k++)
    r[k] = nd->shape.rank && nd->op != OP_CONST ? dag_leaf(U->d, (Op)nd->op, nd->index + k) : id;
}

typedef void UnrollFn(Unroller *U, int id, const Node *nd, int *r);
static UnrollFn *const unroll_fn[OP_COUNT] = {
#define LEAF(name, ...) [OP_##name] = unroll_leaf,
#define SCALAR(name, ...) [OP_##name] = unroll_elementwise,
#define TENSOR(name, ...) [OP_##name] = unroll_##name,
    DCC_LEAF_OPS(LEAF) DCC_SCALAR_OPS(SCALAR) DCC_TENSOR_OPS(TENSOR)
#undef LEAF
#undef SCALAR
#undef TENSOR
};

/* The scalars of one node, appended to the pool. */
static void unroll_node(Unroller *U, int id) {
  Dag *d = U->d;
  Node nd = d->nodes[id]; /* a copy: constructors may move the array */
  int n = shape_size(nd.shape);
  int *r = xmalloc((size_t)n * sizeof *r);
  d->loc = nd.loc;
  unroll_fn[nd.op](U, id, &nd, r);
  U->first[id] = U->pool.n;
  for (int k = 0; k < n; k++)
    vec_push(&U->pool, r[k]);
  free(r);
}

static int *copy_of(Unroller *U, int id) {
  int n = shape_size(U->d->nodes[id].shape);
  int *r = xmalloc((size_t)n * sizeof *r);
  memcpy(r, &EL(id, 0), (size_t)n * sizeof *r);
  return r;
}

void unroll(Built *b) {
  Dag *d = b->dag;
  int n0 = d->n;
  Unroller U0 = {d, xmalloc((size_t)n0 * sizeof(int)), {0}}, *U = &U0;
  int saved_loc = d->loc;
  for (int id = 0; id < n0; id++)
    unroll_node(U, id);
  d->loc = saved_loc;
  if (b->loss >= 0)
    b->loss = EL(b->loss, 0);
  for (int i = 0; i < built_syms(b); i++) {
    Sym *s = built_sym(b, i);
    if (s->node < 0)
      continue;
    s->ids = copy_of(U, s->node);
    int *table = s->kind == SYM_INPUT ? b->input_leaf : s->kind == SYM_PARAM ? b->param_leaf
               : s->kind == SYM_OUTPUT ? b->out_ids : NULL;
    if (table)
      memcpy(table + s->offset, s->ids, (size_t)shape_size(s->shape) * sizeof(int));
  }
  b->loops = false;
  free(U->first);
  free(U->pool.v);
  built_name_nodes(b);
}
