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
 * against --unroll-limit, and nowhere else. */
#include "dcc.h"

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

/* The scalars of an operand at element k: a scalar broadcasts. */
static int elem(Unroller *U, int id, int k) {
  return U->d->nodes[id].shape.rank ? EL(id, k) : EL(id, 0);
}

/* The scalars of one node, appended to the pool. */
static void unroll_node(Unroller *U, int id) {
  Dag *d = U->d;
  Node nd = d->nodes[id]; /* a copy: constructors may move the array */
  int n = shape_size(nd.shape);
  int *r = xmalloc((size_t)n * sizeof *r);
  d->loc = nd.loc;
  switch ((Op)nd.op) {
  case OP_CONST:
    r[0] = id;
    break;
  case OP_INPUT:
  case OP_PARAM:
    for (int k = 0; k < n; k++)
      r[k] = nd.shape.rank ? dag_leaf(d, (Op)nd.op, nd.index + k) : id;
    break;
  case OP_MATMUL: { /* r[i][j] = sum over t of A[i][t] B[t][j], left to right */
    Shape as = d->nodes[nd.a[0]].shape;
    int m = as.dim[0], kk = as.dim[1], cols = nd.shape.rank == 2 ? nd.shape.dim[1] : 1;
    for (int i = 0; i < m; i++)
      for (int j = 0; j < cols; j++) {
        int s = -1;
        for (int t = 0; t < kk && !d->overflow; t++) {
          int term = dag_bin(d, OP_MUL, EL(nd.a[0], i * kk + t), EL(nd.a[1], t * cols + j));
          s = s < 0 ? term : dag_bin(d, OP_ADD, s, term);
        }
        r[i * cols + j] = s < 0 ? 0 : s;
      }
    break;
  }
  case OP_OUTER: {
    int cols = nd.shape.dim[1];
    for (int k = 0; k < n; k++)
      r[k] = dag_bin(d, OP_MUL, EL(nd.a[0], k / cols), EL(nd.a[1], k % cols));
    break;
  }
  case OP_TRANSPOSE: { /* r[j][i] = x[i][j]; r is [rows][cols] */
    int rows = nd.shape.dim[0], cols = nd.shape.dim[1];
    for (int k = 0; k < n; k++)
      r[k] = EL(nd.a[0], (k % cols) * rows + k / cols);
    break;
  }
  case OP_SUM:
  case OP_MAXR: {
    int len = shape_size(d->nodes[nd.a[0]].shape);
    int s = EL(nd.a[0], 0);
    for (int k = 1; k < len; k++) {
      int v = EL(nd.a[0], k);
      s = nd.op == OP_SUM ? dag_bin(d, OP_ADD, s, v) : dag_op(d, OP_IFGE, s, v, s, v);
    }
    r[0] = s;
    break;
  }
  case OP_FILL:
    for (int k = 0; k < n; k++)
      r[k] = EL(nd.a[0], 0);
    break;
  case OP_INDEX:
    r[0] = EL(nd.a[0], nd.index);
    break;
  case OP_ROW:
    for (int k = 0; k < n; k++)
      r[k] = EL(nd.a[0], nd.index * n + k);
    break;
  case OP_SCATTER:
    for (int k = 0; k < n; k++)
      r[k] = k == nd.index ? EL(nd.a[0], 0) : dag_const(d, 0);
    break;
  case OP_SCATROW: {
    int cols = nd.shape.dim[1];
    for (int k = 0; k < n; k++)
      r[k] = k / cols == nd.index ? EL(nd.a[0], k % cols) : dag_const(d, 0);
    break;
  }
  default: { /* elementwise */
    bool same = !nd.shape.rank;
    for (int i = 0; i < nd.nops; i++)
      same = same && EL(nd.a[i], 0) == nd.a[i];
    for (int k = 0; k < n; k++) {
      if (same) {
        r[k] = id;
        continue;
      }
      int ops[4] = {0, 0, 0, 0};
      for (int i = 0; i < nd.nops; i++)
        ops[i] = elem(U, nd.a[i], k);
      r[k] = dag_op(d, (Op)nd.op, ops[0], ops[1], ops[2], ops[3]);
    }
    break;
  }
  }
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
  Model *m = b->m;
  int n0 = d->n;
  Unroller U0 = {d, xmalloc((size_t)n0 * sizeof(int)), {0}}, *U = &U0;
  int saved_loc = d->loc;
  for (int id = 0; id < n0; id++)
    unroll_node(U, id);
  d->loc = saved_loc;
  if (b->loss >= 0)
    b->loss = EL(b->loss, 0);
  for (int i = 0; i < m->syms.n; i++) {
    Sym *s = m->syms.v[i];
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
