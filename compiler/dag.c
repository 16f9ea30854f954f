/* dag.c — the expression DAG: one constructor, hash-consed.
 *
 * Every node is made by dag_make(), which first looks for an identical node
 * (same op, operands, constant): identical subexpressions are one node, and
 * that is the common-subexpression elimination.  Ids are given in creation
 * order, so operands always have smaller ids than their users: the ids are
 * a topological order, and every ordering dcc prints uses ids, never
 * pointers or hashes.  dag_op() applies the simplification rules first. */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool commutative(Op op) { return op == OP_ADD || op == OP_MUL; }

static uint32_t node_hash(const Node *n) {
  uint64_t bits;
  memcpy(&bits, &n->val, sizeof bits);
  uint32_t h = 2166136261u ^ n->op;
  for (int i = 0; i < n->nops; i++)
    h = (h ^ (uint32_t)n->a[i]) * 16777619u;
  h = (h ^ (uint32_t)n->index) * 16777619u;
  h = (h ^ (uint32_t)n->aux) * 16777619u;
  h = (h ^ (uint32_t)n->shape.rank) * 16777619u;
  for (int i = 0; i < n->shape.rank; i++)
    h = (h ^ (uint32_t)n->shape.dim[i]) * 16777619u;
  h = (h ^ (uint32_t)bits) * 16777619u;
  h = (h ^ (uint32_t)(bits >> 32)) * 16777619u;
  return h;
}

static bool node_eq(const Node *x, const Node *y) {
  if (x->op != y->op || x->nops != y->nops || x->index != y->index || x->aux != y->aux)
    return false;
  if (memcmp(&x->val, &y->val, sizeof x->val) || !shape_eq(x->shape, y->shape))
    return false;
  for (int i = 0; i < x->nops; i++)
    if (x->a[i] != y->a[i])
      return false;
  return true;
}

static void table_insert(Dag *d, int id) {
  uint32_t mask = (uint32_t)d->tcap - 1;
  uint32_t i = node_hash(&d->nodes[id]) & mask;
  while (d->table[i] >= 0)
    i = (i + 1) & mask;
  d->table[i] = id;
}

static void table_grow(Dag *d) {
  free(d->table);
  d->tcap = d->tcap ? 2 * d->tcap : 1024;
  d->table = xmalloc((size_t)d->tcap * sizeof *d->table);
  memset(d->table, 0xff, (size_t)d->tcap * sizeof *d->table);
  for (int i = 0; i < d->n; i++)
    table_insert(d, i);
}

Dag *dag_new(bool optimise) {
  Dag *d = xcalloc(1, sizeof *d);
  d->loc = -1;
  d->hashcons = true; /* so that the table exists even for -O0 (leaves use it) */
  dag_const(d, 0);    /* node 0: the answer after an error */
  dag_const(d, 1);
  d->hashcons = optimise;
  d->simplify = optimise;
  return d;
}

/* The one constructor below the rules: canonical operand order for
 * commutative ops (a constant first in *, last in +, else by id), then
 * hash-consing.  Returns the id of the node. */
int dag_make(Dag *d, Op op, const int *ops, double val, int index, Shape shape) {
  return dag_make_aux(d, op, ops, val, index, 0, shape);
}

int dag_make_aux(Dag *d, Op op, const int *ops, double val, int index, int aux, Shape shape) {
  Node n = {0};
  n.aux = aux;
  n.shape = shape.rank ? shape : SCALAR;
  n.op = (uint8_t)op;
  n.nops = (uint8_t)op_info[op].arity;
  n.index = index;
  n.val = val == 0 ? 0.0 : val; /* one zero: -0.0 is 0 for finite reals */
  n.loc = d->loc;
  for (int i = 0; i < n.nops; i++)
    n.a[i] = ops[i];
  if (commutative(op) && d->hashcons) {
    Node *x = &d->nodes[n.a[0]], *y = &d->nodes[n.a[1]];
    bool swap;
    if ((x->op == OP_CONST) != (y->op == OP_CONST))
      swap = op == OP_MUL ? y->op == OP_CONST : x->op == OP_CONST;
    else
      swap = n.a[1] < n.a[0];
    if (swap) {
      int t = n.a[0];
      n.a[0] = n.a[1];
      n.a[1] = t;
    }
  }
  bool share = d->hashcons || op == OP_INPUT || op == OP_PARAM;
  if (share && d->tcap) {
    uint32_t mask = (uint32_t)d->tcap - 1;
    for (uint32_t i = node_hash(&n) & mask; d->table[i] >= 0; i = (i + 1) & mask)
      if (node_eq(&d->nodes[d->table[i]], &n))
        return d->table[i];
  }
  if (d->n >= DCC_MAX_NODES) {
    if (!d->overflow)
      diag_at(DIAG_ERROR, d->loc, 0, "the model is too large: more than %d expression nodes", DCC_MAX_NODES);
    d->overflow = true;
    return 0;
  }
  if (d->n == d->cap) {
    d->cap = d->cap ? 2 * d->cap : 1024;
    d->nodes = xrealloc(d->nodes, (size_t)d->cap * sizeof *d->nodes);
  }
  int id = d->n++;
  d->nodes[id] = n;
  if (share) {
    if (2 * d->n > d->tcap)
      table_grow(d);
    else
      table_insert(d, id);
  }
  return id;
}

const Shape SCALAR = {0, {1, 1, 1, 1}};

int dag_const(Dag *d, double v) { return dag_make(d, OP_CONST, NULL, v, 0, SCALAR); }

int dag_leaf(Dag *d, Op op, int index) { return dag_make(d, op, NULL, 0, index, SCALAR); }

int dag_tensor_leaf(Dag *d, Op op, int index, Shape shape) { return dag_make(d, op, NULL, 0, index, shape); }

bool is_tensor(Dag *d, int id) { return d->nodes[id].shape.rank > 0; }

bool op_is_elementwise(Op op) {
  OpKind k = op_info[op].kind;
  return k != KIND_LEAF && k != KIND_TENSOR;
}

/* ---- each tensor op's shape, from its operands' ------------------------ */

static Shape shape_MATMUL(Dag *d, const int *ops) {
  Shape a = d->nodes[ops[0]].shape, b = d->nodes[ops[1]].shape;
  return b.rank == 1 ? shape1(a.dim[0]) : shape2(a.dim[0], b.dim[1]);
}

static Shape shape_OUTER(Dag *d, const int *ops) {
  return shape2(d->nodes[ops[0]].shape.dim[0], d->nodes[ops[1]].shape.dim[0]);
}

static Shape shape_TRANSPOSE(Dag *d, const int *ops) {
  Shape a = d->nodes[ops[0]].shape;
  return shape2(a.dim[1], a.dim[0]);
}

/* a row of a matrix, or more generally the tensor at one index of the first dimension */
static Shape shape_ROW(Dag *d, const int *ops) { return shape_drop_first(d->nodes[ops[0]].shape); }

static Shape shape_scalar(Dag *d, const int *ops) {
  (void)d, (void)ops;
  return SCALAR;
}
#define shape_SUM shape_scalar
#define shape_MAXR shape_scalar
#define shape_INDEX shape_scalar
/* made by dag_node with their shape given */
#define shape_FILL shape_scalar
#define shape_SCATTER shape_scalar
#define shape_SCATROW shape_scalar
#define shape_BCAST shape_scalar
#define shape_RESHAPE shape_scalar
#define shape_SUMD shape_scalar
#define shape_SLICE shape_scalar
#define shape_ATMAX shape_scalar
/* the convolution and pooling families: made by dag_conv with their shape */
#define shape_CONV shape_scalar
#define shape_CONV_X shape_scalar
#define shape_CONV_K shape_scalar
#define shape_DWCONV shape_scalar
#define shape_DWCONV_X shape_scalar
#define shape_DWCONV_K shape_scalar
#define shape_AVGPOOL shape_scalar
#define shape_AVGPOOL_X shape_scalar
#define shape_WMAX shape_scalar
#define shape_UNWMAX shape_scalar
/* a recurrence's parts: made by build.c and diff.c with their shape */
#define shape_CARRY shape_scalar
#define shape_STEP shape_scalar
#define shape_FOLD shape_scalar
#define shape_SCAN shape_scalar
#define shape_ADJ shape_scalar
#define shape_BPTT shape_scalar
#define shape_LOOPSUM shape_scalar
#define shape_LOOPSTACK shape_scalar

/* the shape of its first operand */
static Shape shape_UNMAX(Dag *d, const int *ops) { return d->nodes[ops[0]].shape; }

/* a's rows, then b's */
static Shape shape_CONCAT(Dag *d, const int *ops) {
  Shape r = d->nodes[ops[0]].shape;
  r.dim[0] += d->nodes[ops[1]].shape.dim[0];
  return r;
}

/* An elementwise op has its operands' shapes broadcast (check.c has
 * made sure that they do). */
static Shape shape_elementwise(Dag *d, Op op, const int *ops) {
  Shape r = SCALAR;
  for (int i = 0; i < op_info[op].arity; i++)
    shape_broadcast(r, d->nodes[ops[i]].shape, &r);
  return r;
}

Shape infer_shape(Dag *d, Op op, const int *ops) {
  switch (op) {
#define SCALAR_(name, ...) case OP_##name:
    DCC_SCALAR_OPS(SCALAR_)
#undef SCALAR_
    return shape_elementwise(d, op, ops);
#define TENSOR(name, ...) \
  case OP_##name:         \
    return shape_##name(d, ops);
    DCC_TENSOR_OPS(TENSOR)
#undef TENSOR
#define LEAF(name, ...) case OP_##name:
    DCC_LEAF_OPS(LEAF)
#undef LEAF
  case OP_COUNT:
    break;
  }
  return SCALAR;
}

int dag_node_aux(Dag *d, Op op, const int *in_ops, int index, int aux, Shape shape) {
  int ops[4] = {0, 0, 0, 0};
  for (int i = 0; i < op_info[op].arity; i++)
    ops[i] = in_ops[i];
  /* fill(x) as an operand of an elementwise op is x broadcast: the rules
   * below then see the scalar (1 * t -> t for a filled 1) */
  if (op_is_elementwise(op) && d->simplify)
    for (int i = 0; i < op_info[op].arity; i++)
      if (d->nodes[ops[i]].op == OP_FILL)
        ops[i] = d->nodes[ops[i]].a[0];
  int r = d->simplify ? simplify(d, op, ops, index) : -1;
  if (r < 0)
    r = dag_make_aux(d, op, ops, 0, index, aux, shape);
  if (shape.rank && !d->nodes[r].shape.rank && !d->overflow)
    r = dag_fill(d, r, shape); /* a rule's scalar where a tensor was asked for */
  return r;
}

int dag_node(Dag *d, Op op, const int *ops, int index, Shape shape) { return dag_node_aux(d, op, ops, index, 0, shape); }

int dag_op(Dag *d, Op op, int a, int b, int c, int e) {
  int ops[4] = {a, b, c, e};
  Shape shape = infer_shape(d, op, ops);
  /* An elementwise op's tensor operands all have its shape: one that is
   * stretched is read through a broadcast view.  (A scalar operand stays
   * a scalar: every back end broadcasts it.) */
  if (op_is_elementwise(op))
    for (int i = 0; i < op_info[op].arity; i++)
      if (d->nodes[ops[i]].shape.rank && !shape_eq(d->nodes[ops[i]].shape, shape))
        ops[i] = dag_bcast(d, ops[i], shape);
  return dag_node(d, op, ops, 0, shape);
}

int dag_un(Dag *d, Op op, int a) { return dag_op(d, op, a, 0, 0, 0); }
int dag_bin(Dag *d, Op op, int a, int b) { return dag_op(d, op, a, b, 0, 0); }

int dag_fill(Dag *d, int scalar, Shape shape) {
  int ops[1] = {scalar};
  if (!shape.rank)
    return scalar;
  return dag_node(d, OP_FILL, ops, 0, shape);
}

int dag_index(Dag *d, int tensor, int k) {
  int ops[1] = {tensor};
  if (!d->nodes[tensor].shape.rank)
    return tensor;
  return dag_node(d, OP_INDEX, ops, k, SCALAR);
}

int dag_row(Dag *d, int matrix, int r) {
  int ops[1] = {matrix};
  return dag_node(d, OP_ROW, ops, r, infer_shape(d, OP_ROW, ops));
}

int dag_bcast(Dag *d, int x, Shape shape) {
  int ops[1] = {x};
  if (shape_eq(d->nodes[x].shape, shape))
    return x;
  if (!d->nodes[x].shape.rank)
    return dag_fill(d, x, shape);
  return dag_node(d, OP_BCAST, ops, 0, shape);
}

int dag_reshape(Dag *d, int x, Shape shape) {
  int ops[1] = {x};
  if (shape_eq(d->nodes[x].shape, shape))
    return x;
  if (!d->nodes[x].shape.rank)
    return dag_fill(d, x, shape); /* a scalar as a tensor of one element */
  return dag_node(d, OP_RESHAPE, ops, 0, shape);
}

int dag_conv(Dag *d, Op op, int a, int b, int stride, int pad, Shape shape) {
  int ops[2] = {a, b < 0 ? 0 : b};
  return dag_node_aux(d, op, ops, stride, pad, shape);
}

int dag_slice(Dag *d, int x, int start, int rows) {
  int ops[1] = {x};
  Shape s = d->nodes[x].shape;
  if (start == 0 && rows == s.dim[0])
    return x;
  const Node *nd = &d->nodes[x];
  if (d->simplify && nd->op == OP_CONCAT) { /* concat(a, b)'s rows of a or of b: a or b */
    int rows_a = d->nodes[nd->a[0]].shape.dim[0];
    if (start == 0 && rows == rows_a)
      return nd->a[0];
    if (start == rows_a && rows == s.dim[0] - rows_a)
      return nd->a[1];
  }
  s.dim[0] = rows;
  return dag_node(d, OP_SLICE, ops, start, s);
}

Shape shape_without(Shape s, int dim) {
  Shape r = {s.rank - 1, {1, 1, 1, 1}};
  for (int i = 0, j = 0; i < s.rank; i++)
    if (i != dim)
      r.dim[j++] = s.dim[i];
  return r;
}

int dag_sumd(Dag *d, int x, int dim) {
  int ops[1] = {x};
  Shape xs = d->nodes[x].shape;
  if (xs.rank <= 1)
    return dag_un(d, OP_SUM, x);
  return dag_node(d, OP_SUMD, ops, dim, shape_without(xs, dim));
}

int dag_atmax(Dag *d, int t, int x, int dim) {
  int ops[2] = {t, x};
  return dag_node(d, OP_ATMAX, ops, dim, shape_without(d->nodes[t].shape, dim));
}

int dag_unmax(Dag *d, int t, int g, int dim) {
  int ops[2] = {t, g};
  return dag_node(d, OP_UNMAX, ops, dim, d->nodes[t].shape);
}

int dag_sum_to(Dag *d, int g, Shape shape) {
  Shape gs = d->nodes[g].shape;
  if (!shape.rank)
    return dag_un(d, OP_SUM, g);
  /* the dimensions shape lacks or has as 1, from the last, so that the
   * ones before keep their numbers */
  for (int i = gs.rank - 1; i >= 0; i--) {
    int j = i - (gs.rank - shape.rank); /* shape's dimension aligned with g's i */
    if (j < 0 || (shape.dim[j] == 1 && gs.dim[i] != 1))
      g = dag_sumd(d, g, i);
  }
  return dag_reshape(d, g, shape);
}

bool dag_is_const(const Dag *d, int id, double v) {
  return d->nodes[id].op == OP_CONST && d->nodes[id].val == v;
}

void dag_reach(Dag *d, const int *roots, int n, bool *live, int *uses) {
  int top = -1;
  for (int r = 0; r < n; r++) {
    live[roots[r]] = true;
    if (uses)
      uses[roots[r]]++;
    if (roots[r] > top)
      top = roots[r];
  }
  for (int id = top; id >= 0; id--) {
    if (!live[id])
      continue;
    for (int i = 0; i < d->nodes[id].nops; i++) {
      live[d->nodes[id].a[i]] = true;
      if (uses)
        uses[d->nodes[id].a[i]]++;
    }
  }
}
