/* diff.c — symbolic differentiation over the DAG.
 *
 * diff_reverse: reverse mode, the seeds' backprop done on symbols.  Walk
 * the nodes that root reaches in decreasing id order (ids are a topological
 * order), and push each node's adjoint to its operands with the op's rule.
 * Adjoints are DAG nodes made through the simplifying, hash-consing
 * constructors, so all gradients together cost a small constant times the
 * loss, and each rule reuses the node it differentiates where it can:
 * d tanh(u) = (1 - t*t) du with t the node tanh(u) itself, so the gradient
 * calls no transcendental beyond the loss's own.  Accumulation is always a
 * sum (+=).
 *
 * diff_forward: -O0's forward mode, one derivative per parameter, with the
 * rules of the seeds (d(u*v) = du*v + u*dv ...): no simplification and no
 * sharing, kept for comparison. */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>

#define TWO_OVER_SQRT_PI 1.12837916709551257390

static bool is_zero(Dag *d, int id) {
  Node *nd = &d->nodes[id];
  return dag_is_const(d, id, 0) || (nd->op == OP_FILL && dag_is_const(d, nd->a[0], 0));
}

/* adj[target] += contribution.  A scalar operand broadcast against a
 * tensor receives the sum of the contributions of all elements. */
static void accumulate(Dag *d, int *adj, int target, int contribution) {
  if (d->nodes[target].op == OP_CONST || is_zero(d, contribution))
    return;
  Shape ts = d->nodes[target].shape, cs = d->nodes[contribution].shape;
  if (!ts.rank && cs.rank)
    contribution = dag_un(d, OP_SUM, contribution);
  else if (ts.rank && !cs.rank)
    contribution = dag_fill(d, contribution, ts);
  adj[target] = adj[target] < 0 ? contribution : dag_bin(d, OP_ADD, adj[target], contribution);
}

static int shaped(Dag *d, Op op, int a, int index, Shape shape) {
  int ops[1] = {a};
  return dag_node(d, op, ops, index, shape);
}

int *diff_reverse(Dag *d, int root) {
  int n = d->n;
  int *adj = xmalloc((size_t)n * sizeof *adj);
  bool *reach = xcalloc((size_t)n, sizeof *reach);
  for (int i = 0; i < n; i++)
    adj[i] = -1;
  reach[root] = true;
  for (int id = root; id >= 0; id--) {
    if (!reach[id] || d->nodes[id].op == OP_NOGRAD || d->nodes[id].op == OP_MAXR)
      continue;
    for (int i = 0; i < d->nodes[id].nops; i++)
      reach[d->nodes[id].a[i]] = true;
  }
  int saved_loc = d->loc;
  adj[root] = dag_const(d, 1);
  for (int id = root; id >= 0; id--) {
    if (!reach[id] || adj[id] < 0)
      continue;
    Node nd = d->nodes[id]; /* a copy: constructors may move the array */
    int g = adj[id], a = nd.a[0], b = nd.a[1];
    d->loc = nd.loc;
#define ADD(x, y) dag_bin(d, OP_ADD, x, y)
#define SUB(x, y) dag_bin(d, OP_SUB, x, y)
#define MUL(x, y) dag_bin(d, OP_MUL, x, y)
#define DIV(x, y) dag_bin(d, OP_DIV, x, y)
#define NEG(x) dag_un(d, OP_NEG, x)
#define C(v) dag_const(d, v)
    switch ((Op)nd.op) {
    case OP_CONST: case OP_INPUT: case OP_PARAM: case OP_NOGRAD: case OP_MAXR:
      break;
    /* The tensor ops, the seeds' vectorised backprop (lab 4). */
    case OP_MATMUL: /* C = A B: dA = dC B^T (dC b^T for a vector b), dB = A^T dC */
      if (d->nodes[b].shape.rank == 1)
        accumulate(d, adj, a, dag_bin(d, OP_OUTER, g, b));
      else
        accumulate(d, adj, a, dag_bin(d, OP_MATMUL, g, dag_un(d, OP_TRANSPOSE, b)));
      accumulate(d, adj, b, dag_bin(d, OP_MATMUL, dag_un(d, OP_TRANSPOSE, a), g));
      break;
    case OP_OUTER: /* O = u v^T: du = dO v, dv = dO^T u */
      accumulate(d, adj, a, dag_bin(d, OP_MATMUL, g, b));
      accumulate(d, adj, b, dag_bin(d, OP_MATMUL, dag_un(d, OP_TRANSPOSE, g), a));
      break;
    case OP_TRANSPOSE: /* d(M^T) = (dM)^T */
      accumulate(d, adj, a, dag_un(d, OP_TRANSPOSE, g));
      break;
    case OP_SUM: /* d sum(t) = ds in every element */
      accumulate(d, adj, a, dag_fill(d, g, d->nodes[a].shape));
      break;
    case OP_FILL: /* a scalar broadcast: ds = sum(dT) */
      accumulate(d, adj, a, dag_un(d, OP_SUM, g));
      break;
    case OP_INDEX: /* dt = ds at element k, 0 elsewhere */
      accumulate(d, adj, a, shaped(d, OP_SCATTER, g, nd.index, d->nodes[a].shape));
      break;
    case OP_ROW: /* dM = dv in row r, 0 elsewhere */
      accumulate(d, adj, a, shaped(d, OP_SCATROW, g, nd.index, d->nodes[a].shape));
      break;
    case OP_SCATTER: /* ds = dT[k] */
      accumulate(d, adj, a, dag_index(d, g, nd.index));
      break;
    case OP_SCATROW: /* dv = row r of dT */
      accumulate(d, adj, a, dag_row(d, g, nd.index));
      break;
    case OP_ADD: /* d(a + b) = da + db */
      accumulate(d, adj, a, g);
      accumulate(d, adj, b, g);
      break;
    case OP_SUB: /* d(a - b) = da - db */
      accumulate(d, adj, a, g);
      accumulate(d, adj, b, NEG(g));
      break;
    case OP_MUL: /* d(a b) = b da + a db */
      accumulate(d, adj, a, MUL(g, b));
      accumulate(d, adj, b, MUL(g, a));
      break;
    case OP_DIV: /* d(a / b) = da / b - (a / b) db / b */
      accumulate(d, adj, a, DIV(g, b));
      accumulate(d, adj, b, NEG(DIV(MUL(g, id), b)));
      break;
    case OP_NEG: /* d(-a) = -da */
      accumulate(d, adj, a, NEG(g));
      break;
    case OP_POW: /* d(a^b) = b a^(b-1) da + a^b log(a) db */
      if (d->nodes[a].op != OP_CONST)
        accumulate(d, adj, a, MUL(g, MUL(b, dag_bin(d, OP_POW, a, SUB(b, C(1))))));
      if (d->nodes[b].op != OP_CONST)
        accumulate(d, adj, b, MUL(g, MUL(id, dag_un(d, OP_LOG, a))));
      break;
    case OP_EXP: /* d exp(a) = e da, e the node itself */
      accumulate(d, adj, a, MUL(g, id));
      break;
    case OP_LOG: /* d log(a) = da / a */
      accumulate(d, adj, a, DIV(g, a));
      break;
    case OP_LOG1P: /* d log1p(a) = da / (1 + a) */
      accumulate(d, adj, a, DIV(g, ADD(a, C(1))));
      break;
    case OP_EXPM1: /* d expm1(a) = (e + 1) da, e the node itself */
      accumulate(d, adj, a, MUL(g, ADD(id, C(1))));
      break;
    case OP_SQRT: /* d sqrt(a) = da / (2 s), s the node itself */
      accumulate(d, adj, a, DIV(g, MUL(C(2), id)));
      break;
    case OP_ABS: /* d abs(a) = sign(a) da, abs'(0) = 0 */
      accumulate(d, adj, a, dag_op(d, OP_IFGT, a, C(0), g, dag_op(d, OP_IFGT, C(0), a, NEG(g), C(0))));
      break;
    case OP_TANH: /* d tanh(a) = (1 - t t) da, t the node itself */
      accumulate(d, adj, a, MUL(g, SUB(C(1), MUL(id, id))));
      break;
    case OP_SIN: /* d sin(a) = cos(a) da */
      accumulate(d, adj, a, MUL(g, dag_un(d, OP_COS, a)));
      break;
    case OP_COS: /* d cos(a) = -sin(a) da */
      accumulate(d, adj, a, NEG(MUL(g, dag_un(d, OP_SIN, a))));
      break;
    case OP_ERF: /* d erf(a) = 2/sqrt(pi) exp(-a a) da */
      accumulate(d, adj, a, MUL(g, MUL(C(TWO_OVER_SQRT_PI), dag_un(d, OP_EXP, NEG(MUL(a, a))))));
      break;
    case OP_SIGMOID: /* d sigmoid(a) = s (1 - s) da, s the node itself; 1 - s becomes sigmoid(-a) */
      accumulate(d, adj, a, MUL(g, MUL(id, SUB(C(1), id))));
      break;
    case OP_SOFTPLUS: /* d softplus(a) = sigmoid(a) da */
      accumulate(d, adj, a, MUL(g, dag_un(d, OP_SIGMOID, a)));
      break;
    case OP_IFGT: /* d (a > b ? x : y) = a > b ? dx : dy */
    case OP_IFGE:
      accumulate(d, adj, nd.a[2], dag_op(d, (Op)nd.op, a, b, g, C(0)));
      accumulate(d, adj, nd.a[3], dag_op(d, (Op)nd.op, a, b, C(0), g));
      break;
    case OP_COUNT:
      break;
    }
  }
  d->loc = saved_loc;
  free(reach);
  /* The caller indexes adj by ids that existed at the call. */
  return adj;
}

int diff_forward(Dag *d, int root, int leaf) {
  int n = root + 1;
  int *dv = xmalloc((size_t)n * sizeof *dv);
  bool *reach = xcalloc((size_t)n, sizeof *reach);
  reach[root] = true;
  for (int id = root; id >= 0; id--)
    if (reach[id])
      for (int i = 0; i < d->nodes[id].nops; i++)
        reach[d->nodes[id].a[i]] = true;
  /* dep: depends on leaf.  A subexpression that does not gets the
   * derivative 0 outright: the chain rule through it could only make a
   * NaN (0 / (2 sqrt(0))) that the formula does not contain. */
  bool *dep = xcalloc((size_t)n, sizeof *dep);
  for (int id = 0; id <= root; id++) {
    if (!reach[id])
      continue;
    Node nd = d->nodes[id];
    dep[id] = id == leaf;
    for (int i = 0; i < nd.nops; i++)
      dep[id] |= dep[nd.a[i]];
    int a = nd.a[0], b = nd.a[1];
    int da = nd.nops > 0 ? dv[a] : -1, db = nd.nops > 1 ? dv[b] : -1;
    int r;
    if (!dep[id]) {
      dv[id] = C(0);
      continue;
    }
    switch ((Op)nd.op) {
    case OP_CONST: r = C(0); break;
    case OP_INPUT: case OP_PARAM: r = C(id == leaf ? 1 : 0); break;
    case OP_ADD: r = ADD(da, db); break;
    case OP_SUB: r = SUB(da, db); break;
    case OP_MUL: r = ADD(MUL(da, b), MUL(a, db)); break;
    case OP_DIV: r = DIV(SUB(MUL(da, b), MUL(db, a)), MUL(b, b)); break;
    case OP_NEG: r = NEG(da); break;
    case OP_POW: /* d(a^c) = c a^(c-1) da for an exponent free of the variable */
      r = MUL(MUL(b, dag_bin(d, OP_POW, a, SUB(b, C(1)))), da);
      if (dep[b])
        r = ADD(r, MUL(MUL(id, dag_un(d, OP_LOG, a)), db));
      break;
    case OP_EXP: r = MUL(id, da); break;
    case OP_LOG: r = DIV(da, a); break;
    case OP_LOG1P: r = DIV(da, ADD(C(1), a)); break;
    case OP_EXPM1: r = MUL(ADD(id, C(1)), da); break;
    case OP_SQRT: r = DIV(da, MUL(C(2), id)); break;
    case OP_ABS: r = dag_op(d, OP_IFGT, a, C(0), da, dag_op(d, OP_IFGT, C(0), a, NEG(da), C(0))); break;
    case OP_TANH: r = MUL(SUB(C(1), MUL(id, id)), da); break;
    case OP_SIN: r = MUL(dag_un(d, OP_COS, a), da); break;
    case OP_COS: r = MUL(NEG(dag_un(d, OP_SIN, a)), da); break;
    case OP_ERF: r = MUL(MUL(C(TWO_OVER_SQRT_PI), dag_un(d, OP_EXP, NEG(MUL(a, a)))), da); break;
    case OP_SIGMOID: r = MUL(MUL(id, SUB(C(1), id)), da); break;
    case OP_SOFTPLUS: r = MUL(dag_un(d, OP_SIGMOID, a), da); break;
    case OP_IFGT: case OP_IFGE: r = dag_op(d, (Op)nd.op, a, b, dv[nd.a[2]], dv[nd.a[3]]); break;
    case OP_NOGRAD: r = C(0); break;
    default: r = C(0); break;
    }
    dv[id] = r;
  }
  int r = dv[root];
  free(dv);
  free(dep);
  free(reach);
  return r;
}
