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
 * The rules: a scalar op's is the adjoint column of its row in ops.h; a
 * tensor op's is its adjoint_<OP> function below.  A rule gives what
 * operand i receives from a derivative g flowing into the node, and is
 * linear in g; so -O0's forward mode (diff_forward: the seeds' one
 * derivative per parameter, no simplification and no sharing, kept for
 * comparison) uses the scalar rules too, with g the operand's tangent. */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>

static bool is_zero(Dag *d, int id) {
  Node *nd = &d->nodes[id];
  return dag_is_const(d, id, 0) || (nd->op == OP_FILL && dag_is_const(d, nd->a[0], 0));
}

/* adj[target] += contribution.  A scalar operand broadcast against a
 * tensor receives the sum of the contributions of all elements. */
static void accumulate(Dag *d, int *adj, int target, int contribution) {
  if (contribution < 0 || d->nodes[target].op == OP_CONST || is_zero(d, contribution))
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

/* The vocabulary of the rules (ops.h's adjoint column and the functions
 * below): G the incoming derivative, Y the node, A0 .. A3 its operands, I
 * the operand that receives. */
#define ADD(x, y) dag_bin(d, OP_ADD, x, y)
#define SUB(x, y) dag_bin(d, OP_SUB, x, y)
#define MUL(x, y) dag_bin(d, OP_MUL, x, y)
#define DIV(x, y) dag_bin(d, OP_DIV, x, y)
#define POW(x, y) dag_bin(d, OP_POW, x, y)
#define NEG(x) dag_un(d, OP_NEG, x)
#define UN(op, x) dag_un(d, OP_##op, x)
#define SEL(op, a, b, x, y) dag_op(d, OP_##op, a, b, x, y)
#define K(v) dag_const(d, v)
#define IS_CONST(x) (d->nodes[x].op == OP_CONST)
#define NONE (-1)

/* ---- a scalar rule too long for its row in ops.h -------------------------- */

/* pow: d(a^b) = b a^(b-1) da + a^b log(a) db, with PyTorch's values at
 * the edges, where the formulas multiply 0 by an infinity that the
 * derivative does not have: d/da is 0 where b = 0 (0 * 0^-1 at a = 0),
 * d/db is 0 where a = 0 and b >= 0 (0^b log(0)).  The selects are only
 * made where the operand can be 0: not for a constant exponent (x^0 is
 * folded to 1) or a positive constant base.  One constructor call a
 * statement, so that node ids do not depend on the order in which the C
 * compiler evaluates arguments. */
static int adjoint_pow(Dag *d, int I, int G, int Y, int A0, int A1) {
  if (I == 0) {
    if (IS_CONST(A0))
      return NONE;
    int e = SUB(A1, K(1));
    int r = POW(A0, e);
    r = MUL(A1, r);
    if (!IS_CONST(A1)) { /* 0 >= |b| ? 0 : b a^(b-1) */
      int zero = K(0);
      int abs_b = UN(ABS, A1);
      r = SEL(IFGE, zero, abs_b, zero, r);
    }
    return MUL(G, r);
  }
  if (IS_CONST(A1))
    return NONE;
  if (IS_CONST(A0) && d->nodes[A0].val == 0) { /* 0^b: 0 for b >= 0, else -inf (that is -0^b) */
    int zero = K(0);
    int minus_y = NEG(Y);
    return MUL(G, SEL(IFGE, A1, zero, zero, minus_y));
  }
  int t = UN(LOG, A0);
  t = MUL(Y, t);
  if (!IS_CONST(A0)) { /* 0 >= |a| ? (b >= 0 ? 0 : t) : t */
    int zero = K(0);
    int at_zero = SEL(IFGE, A1, zero, zero, t);
    int abs_a = UN(ABS, A0);
    t = SEL(IFGE, zero, abs_a, at_zero, t);
  }
  return MUL(G, t);
}

/* ---- the tensor ops' rules (lab 4's vectorised backprop) ----------------- */

/* C = A B: dA = dC B^T (dC b^T for a vector b), dB = A^T dC */
static int adjoint_MATMUL(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  int A0 = nd->a[0], A1 = nd->a[1];
  if (I == 1)
    return dag_bin(d, OP_MATMUL, UN(TRANSPOSE, A0), G);
  if (d->nodes[A1].shape.rank == 1)
    return dag_bin(d, OP_OUTER, G, A1);
  return dag_bin(d, OP_MATMUL, G, UN(TRANSPOSE, A1));
}

/* O = u v^T: du = dO v, dv = dO^T u */
static int adjoint_OUTER(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  return I == 0 ? dag_bin(d, OP_MATMUL, G, nd->a[1]) : dag_bin(d, OP_MATMUL, UN(TRANSPOSE, G), nd->a[0]);
}

/* d(M^T) = (dM)^T */
static int adjoint_TRANSPOSE(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y, (void)nd;
  return UN(TRANSPOSE, G);
}

/* d sum(t) = ds in every element */
static int adjoint_SUM(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return dag_fill(d, G, d->nodes[nd->a[0]].shape);
}

/* the largest element carries no derivative (the softmax family's shift) */
static int adjoint_MAXR(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)d, (void)I, (void)G, (void)Y, (void)nd;
  return NONE;
}

/* a scalar broadcast: ds = sum(dT) */
static int adjoint_FILL(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y, (void)nd;
  return UN(SUM, G);
}

/* dt = ds at element k, 0 elsewhere */
static int adjoint_INDEX(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return shaped(d, OP_SCATTER, G, nd->index, d->nodes[nd->a[0]].shape);
}

/* dM = dv in row r, 0 elsewhere */
static int adjoint_ROW(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return shaped(d, OP_SCATROW, G, nd->index, d->nodes[nd->a[0]].shape);
}

/* ds = dT[k] */
static int adjoint_SCATTER(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return dag_index(d, G, nd->index);
}

/* dv = row r of dT */
static int adjoint_SCATROW(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return dag_row(d, G, nd->index);
}

/* a broadcast: the sum over the stretched dimensions */
static int adjoint_BCAST(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return dag_sum_to(d, G, d->nodes[nd->a[0]].shape);
}

/* the same elements in the operand's shape */
static int adjoint_RESHAPE(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return dag_reshape(d, G, d->nodes[nd->a[0]].shape);
}

/* a sum along dimension k: dG broadcast back along it */
static int adjoint_SUMD(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  Shape xs = d->nodes[nd->a[0]].shape, kept = xs;
  kept.dim[nd->index] = 1;
  return dag_bcast(d, dag_reshape(d, G, kept), xs);
}

/* the rows of dG that are each operand's */
static int adjoint_CONCAT(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  int rows0 = d->nodes[nd->a[0]].shape.dim[0];
  return I == 0 ? dag_slice(d, G, 0, rows0) : dag_slice(d, G, rows0, d->nodes[nd->a[1]].shape.dim[0]);
}

/* dG in the slice's rows, zeros around them */
static int adjoint_SLICE(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  Shape xs = d->nodes[nd->a[0]].shape, zeros = xs;
  int r = G, end = nd->index + nd->shape.dim[0];
  if (nd->index > 0) {
    zeros.dim[0] = nd->index;
    r = dag_bin(d, OP_CONCAT, dag_fill(d, K(0), zeros), r);
  }
  if (end < xs.dim[0]) {
    zeros.dim[0] = xs.dim[0] - end;
    r = dag_bin(d, OP_CONCAT, r, dag_fill(d, K(0), zeros));
  }
  return r;
}

/* the selected element's: the first largest passes the derivative on (the
 * selector, a, none) */
static int adjoint_ATMAX(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  return I == 0 ? NONE : dag_unmax(d, nd->a[0], G, nd->index);
}

/* routed back: the element at the first largest, of the incoming derivative */
static int adjoint_UNMAX(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  return I == 0 ? NONE : dag_atmax(d, nd->a[0], G, nd->index);
}

/* ---- convolutions: each op's adjoints are the other two of its family
 * (conv.c), with its stride and padding: Y = conv(x, K) gives dx =
 * conv_x(dY, K) and dK = conv_k(x, dY) ---------------------------------- */

static int conv_family(Dag *d, Op op, int a, int b, const Node *nd, Shape shape) {
  return dag_conv(d, op, a, b, nd->index, nd->aux, shape);
}

static int conv_adjoint(Dag *d, int I, int G, const Node *nd, Op conv, Op conv_x, Op conv_k) {
  Shape a = d->nodes[nd->a[0]].shape, b = d->nodes[nd->a[1]].shape;
  if (nd->op == conv) /* input a, kernels b */
    return I == 0 ? conv_family(d, conv_x, G, nd->a[1], nd, a) : conv_family(d, conv_k, nd->a[0], G, nd, b);
  if (nd->op == conv_x) /* dY a, kernels b: linear in each */
    return I == 0 ? conv_family(d, conv, G, nd->a[1], nd, a) : conv_family(d, conv_k, G, nd->a[0], nd, b);
  /* conv_k: input a, dY b */
  return I == 0 ? conv_family(d, conv_x, nd->a[1], G, nd, a) : conv_family(d, conv, nd->a[0], G, nd, b);
}

static int adjoint_CONV(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  return conv_adjoint(d, I, G, nd, OP_CONV, OP_CONV_X, OP_CONV_K);
}
#define adjoint_CONV_X adjoint_CONV
#define adjoint_CONV_K adjoint_CONV

static int adjoint_DWCONV(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  return conv_adjoint(d, I, G, nd, OP_DWCONV, OP_DWCONV_X, OP_DWCONV_K);
}
#define adjoint_DWCONV_X adjoint_DWCONV
#define adjoint_DWCONV_K adjoint_DWCONV

/* a window's mean: each element a share of the window's derivative */
static int adjoint_AVGPOOL(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)Y;
  return dag_conv(d, nd->op == OP_AVGPOOL ? OP_AVGPOOL_X : OP_AVGPOOL, G, -1, nd->index, 0,
                  d->nodes[nd->a[0]].shape);
}
#define adjoint_AVGPOOL_X adjoint_AVGPOOL

/* a window's first largest passes the derivative on (a, the selector, none) */
static int adjoint_WMAX(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)Y;
  if (I == 0)
    return NONE;
  return dag_conv(d, nd->op == OP_WMAX ? OP_UNWMAX : OP_WMAX, nd->a[0], G, nd->index, 0,
                  nd->op == OP_WMAX ? d->nodes[nd->a[0]].shape : d->nodes[nd->a[1]].shape);
}
#define adjoint_UNWMAX adjoint_WMAX

/* ---- recurrence: the reverse sweep of a loop is made whole, by
 * reverse_loop below; these nodes are its parts ----------------------------- */

/* A step's row passes nothing to the sequence outside a sweep (a diff()
 * inside a step function sees the row as given). */
static int adjoint_STEP(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)d, (void)I, (void)G, (void)Y, (void)nd;
  return NONE;
}

static int adjoint_loop_part(Dag *d, int I, int G, int Y, const Node *nd) {
  (void)I, (void)G, (void)Y;
  if ((nd->op == OP_BPTT || nd->op == OP_LOOPSUM || nd->op == OP_LOOPSTACK) && !d->rediff) {
    diag_at(DIAG_ERROR, nd->loc, 0, "dcc cannot differentiate the derivative of a fold() or scan() again");
    d->rediff = true;
  }
  return NONE;
}
#define adjoint_CARRY adjoint_loop_part
#define adjoint_FOLD adjoint_loop_part
#define adjoint_SCAN adjoint_loop_part
#define adjoint_ADJ adjoint_loop_part
#define adjoint_BPTT adjoint_loop_part
#define adjoint_LOOPSUM adjoint_loop_part
#define adjoint_LOOPSTACK adjoint_loop_part

/* What operand I of node Y (nd) receives from derivative G: NONE, or a
 * node.  Rules that create several nodes make them in one order, from
 * the outside in, so that the DAG's ids do not depend on the C compiler's
 * order of evaluating arguments. */
static int adjoint(Dag *d, int I, int G, int Y, const Node *nd) {
  int A0 = nd->a[0], A1 = nd->a[1];
  (void)A0, (void)A1;
  switch ((Op)nd->op) {
#define SCALAR(name, arity, spelling, c, kind, prec, lang, value, rule) \
  case OP_##name:                                                       \
    return rule;
    DCC_SCALAR_OPS(SCALAR)
#undef SCALAR
#define TENSOR(name, arity, spelling, form) \
  case OP_##name:                           \
    return adjoint_##name(d, I, G, Y, nd);
    DCC_TENSOR_OPS(TENSOR)
#undef TENSOR
#define LEAF(name, spelling) case OP_##name:
    DCC_LEAF_OPS(LEAF)
#undef LEAF
  case OP_COUNT:
    break;
  }
  return NONE;
}

/* The nodes of loop anchor's forward region that its body reaches
 * (indexed by id, up to anchor's). */
static bool *loop_body(Dag *d, const Regions *R, int anchor) {
  const Node *nd = &d->nodes[anchor];
  bool *in = xcalloc((size_t)anchor + 1, sizeof *in);
  in[nd->a[1]] = R->of[nd->a[1]] == nd->index;
  for (int x = nd->a[1]; x >= 0; x--)
    if (in[x])
      for (int i = 0; i < d->nodes[x].nops; i++)
        in[d->nodes[x].a[i]] |= R->of[d->nodes[x].a[i]] == nd->index;
  return in;
}

/* Backpropagation through time, at a FOLD or SCAN node whose adjoint is
 * known: the body differentiated once, with respect to the state after a
 * step (a new ADJ), into a backward region; its BPTT node runs it from
 * the last step to the first and gives the adjoint of the initial state;
 * what the body passes to the nodes outside (the params, values computed
 * before the loop) is summed over the steps (LOOPSUM), what it passes to
 * the step's row is kept per step (LOOPSTACK, the sequence's adjoint). */
static void reverse_loop(Dag *d, const Regions *R, int *adj, int anchor) {
  Node nd = d->nodes[anchor];
  int L = nd.index, body = nd.a[1];
  Shape state = loop_state(d, anchor);
  bool *in = loop_body(d, R, anchor);
  int *outside = xmalloc(((size_t)anchor + 1) * sizeof *outside);
  for (int i = 0; i <= anchor; i++)
    outside[i] = -1;
  int K = d->nloops++;
  adj[body] = dag_make_aux(d, OP_ADJ, NULL, 0, K, L, state);
  int dstep = -1;
  for (int x = body; x >= 0; x--) {
    if (!in[x] || adj[x] < 0)
      continue;
    Node xn = d->nodes[x];
    d->loc = xn.loc;
    if (xn.op == OP_STEP) { /* the row's adjoint, at each step */
      dstep = adj[x];
      continue;
    }
    for (int i = 0; i < xn.nops; i++)
      accumulate(d, in[xn.a[i]] ? adj : outside, xn.a[i], adjoint(d, i, adj[x], x, &xn));
  }
  d->loc = nd.loc;
  int carry = R->leaf[L];
  int ops[3] = {anchor, adj[anchor], carry >= 0 && adj[carry] >= 0 ? adj[carry] : dag_fill(d, K(0), state)};
  int bptt = dag_make_aux(d, OP_BPTT, ops, 0, K, L, state);
  accumulate(d, adj, nd.a[0], bptt);
  if (dstep >= 0) {
    int xs = d->nodes[R->step[L]].a[0], o[2] = {bptt, dstep};
    accumulate(d, adj, xs, dag_make_aux(d, OP_LOOPSTACK, o, 0, K, 0, d->nodes[xs].shape));
  }
  for (int v = 0; v < anchor; v++)
    if (outside[v] >= 0) {
      int o[2] = {bptt, outside[v]};
      accumulate(d, adj, v, dag_make_aux(d, OP_LOOPSUM, o, 0, K, 0, d->nodes[outside[v]].shape));
    }
  free(in);
  free(outside);
}

/* The sweep of diff_reverse and diff_reverse_to.  With want, a node gets
 * an adjoint only if a wanted leaf lies below it (below[]): the sweep
 * stops where nothing wanted is below, so training the last layer of a
 * network makes no adjoint of the layers under it. */
static int *sweep(Dag *d, int root, const bool *want) {
  int n = d->n;
  int *adj = xmalloc((size_t)n * sizeof *adj);
  bool *reach = xcalloc((size_t)n, sizeof *reach);
  bool *below = NULL;
  Regions R = regions_find(d);
  for (int i = 0; i < n; i++)
    adj[i] = -1;
  if (want) { /* ids are a topological order: operands (a loop's body too) first */
    below = xcalloc((size_t)n, sizeof *below);
    for (int id = 0; id <= root; id++) {
      below[id] = want[id];
      if (d->nodes[id].op == OP_NOGRAD || d->nodes[id].op == OP_MAXR)
        continue;
      for (int i = 0; i < d->nodes[id].nops && !below[id]; i++)
        below[id] = below[d->nodes[id].a[i]];
    }
  }
#define WANTED(x) (!below || below[x])
  reach[root] = WANTED(root);
  for (int id = root; id >= 0; id--) {
    Node *nd = &d->nodes[id];
    if (!reach[id] || nd->op == OP_NOGRAD || nd->op == OP_MAXR)
      continue;
    if (nd->op == OP_FOLD || nd->op == OP_SCAN) { /* the initial state, and what the body reads outside */
      bool *in = loop_body(d, &R, id);
      reach[nd->a[0]] |= WANTED(nd->a[0]);
      for (int x = 0; x < id; x++)
        for (int i = 0; in[x] && i < d->nodes[x].nops; i++)
          reach[d->nodes[x].a[i]] |= !in[d->nodes[x].a[i]] && WANTED(d->nodes[x].a[i]);
      free(in);
      continue;
    }
    for (int i = 0; i < nd->nops; i++)
      reach[nd->a[i]] |= WANTED(nd->a[i]);
  }
#undef WANTED
  int saved_loc = d->loc;
  if (reach[root])
    adj[root] = dag_const(d, 1);
  for (int id = root; id >= 0; id--) {
    if (!reach[id] || adj[id] < 0)
      continue;
    Node nd = d->nodes[id]; /* a copy: constructors may move the array */
    d->loc = nd.loc;
    if (nd.op == OP_FOLD || nd.op == OP_SCAN) {
      reverse_loop(d, &R, adj, id);
      continue;
    }
    for (int i = 0; i < nd.nops; i++)
      if (reach[nd.a[i]])
        accumulate(d, adj, nd.a[i], adjoint(d, i, adj[id], id, &nd));
  }
  d->loc = saved_loc;
  regions_free(&R);
  free(reach);
  free(below);
  /* The caller indexes adj by ids that existed at the call. */
  return adj;
}

int *diff_reverse(Dag *d, int root) { return sweep(d, root, NULL); }

int *diff_reverse_to(Dag *d, int root, const bool *want) { return sweep(d, root, want); }

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
   * derivative 0 outright, and passes nothing on: the chain rule through
   * it could only make a NaN (0 / (2 sqrt(0))) that the formula does not
   * contain. */
  bool *dep = xcalloc((size_t)n, sizeof *dep);
  for (int id = 0; id <= root; id++) {
    if (!reach[id])
      continue;
    Node nd = d->nodes[id];
    dep[id] = id == leaf;
    for (int i = 0; i < nd.nops; i++)
      dep[id] |= dep[nd.a[i]];
    if (!dep[id] || id == leaf) {
      dv[id] = K(id == leaf ? 1 : 0);
      continue;
    }
    int r = -1;
    for (int i = 0; i < nd.nops; i++) {
      int term = dep[nd.a[i]] ? adjoint(d, i, dv[nd.a[i]], id, &nd) : NONE;
      if (term >= 0)
        r = r < 0 ? term : ADD(r, term);
    }
    dv[id] = r < 0 ? K(0) : r;
  }
  int r = dv[root];
  free(dv);
  free(dep);
  free(reach);
  return r;
}

/* ---- the model's gradient ------------------------------------------------ */

/* What gets a gradient: every param not frozen, then the inputs wrt[]
 * marks. */
static void list_diff_syms(Built *b, const bool *wrt) {
  Model *m = b->m;
  b->diff_syms.n = 0;
  for (int i = 0; i < m->params.n; i++)
    if (!m->params.v[i]->frozen)
      vec_push(&b->diff_syms, m->params.v[i]);
  for (int i = 0; i < m->inputs.n; i++)
    if (wrt[i])
      vec_push(&b->diff_syms, m->inputs.v[i]);
}

void differentiate(Built *b, const bool *wrt) {
  Dag *d = b->dag;
  list_diff_syms(b, wrt);
  if (b->loss < 0)
    return;
  /* only what lies above a wanted leaf gets an adjoint */
  bool *want = xcalloc((size_t)d->n, sizeof *want);
  for (int i = 0; i < b->diff_syms.n; i++) {
    Sym *s = b->diff_syms.v[i];
    for (int k = 0; k < value_count(b, s); k++)
      want[leaf_nodes(b, s)[k]] = true;
  }
  int *adj = diff_reverse_to(d, b->loss, want);
  free(want);
  for (int i = 0; i < b->diff_syms.n; i++) {
    Sym *s = b->diff_syms.v[i];
    int *leaf = leaf_nodes(b, s), *g = grad_nodes(b, s);
    for (int k = 0; k < value_count(b, s); k++)
      g[k] = adj[leaf[k]] >= 0 ? adj[leaf[k]] : dag_fill(d, K(0), d->nodes[leaf[k]].shape);
  }
  free(adj);
}

/* -O0 prints every root as one expanded tree: false, after a diagnostic,
 * for a tree past the size or depth limit; *total gains its size. */
static bool o0_tree_fits(Dag *d, int root, const char *what, double *total) {
  double size;
  int depth;
  char n[32];
  tree_measure(d, root, &size, &depth);
  *total += size;
  if (size <= DCC_O0_MAX_TREE && depth <= DCC_O0_MAX_DEPTH)
    return true;
  fprintf(stderr, "%s: error: -O0: %s has %s nodes and depth %d; the limits are %d and %d (compile without -O0)\n",
          diags.src->path, what, count_text(size, n), depth, DCC_O0_MAX_TREE, DCC_O0_MAX_DEPTH);
  return false;
}

Built *naive_model(Model *m, const bool *wrt) {
  Built *b = build(m, dag_new(false));
  unroll(b); /* -O0 is the seeds' scalar code */
  list_diff_syms(b, wrt);
  double total = 0; /* nodes of every tree: the emitted C's size, before it is written */
  if (b->loss >= 0)
    for (int i = 0; i < b->diff_syms.n; i++) {
      Sym *s = b->diff_syms.v[i];
      int *leaf = leaf_nodes(b, s), *g = grad_nodes(b, s);
      for (int k = 0; k < value_count(b, s); k++) {
        g[k] = diff_forward(b->dag, b->loss, leaf[k]);
        if (!o0_tree_fits(b->dag, g[k], "the derivative tree of the loss", &total))
          return NULL;
      }
    }
  for (int r = -1; r < m->n_out; r++) {
    int root = r < 0 ? b->loss : b->out_ids[r];
    if (root >= 0 && !o0_tree_fits(b->dag, root, "an expression tree", &total))
      return NULL;
  }
  /* Each tree is printed about three times (_loss_grad, the _grad_
   * functions, _sgd_step) at about 4 bytes a node: 12 bytes a node of
   * the total, measured on the 4-5-3 and 4-8-8-3 networks. */
  if (total > DCC_O0_MAX_TOTAL) {
    char n[32];
    fprintf(stderr, "%s: error: -O0: the naive loss, derivatives and outputs have %s nodes in all (about %.0f MB of C); the limit is %d (compile without -O0)\n",
            diags.src->path, count_text(total, n), total * 12 / 1e6, DCC_O0_MAX_TOTAL);
    return NULL;
  }
  lower(b);
  return b;
}

void warn_independent_params(Built *b) {
  Model *m = b->m;
  if (b->loss < 0)
    return;
  Dag *d = b->dag;
  bool *live = xcalloc((size_t)d->n, sizeof *live);
  live[b->loss] = true;
  for (int id = b->loss; id >= 0; id--)
    if (live[id] && d->nodes[id].op != OP_NOGRAD)
      for (int i = 0; i < d->nodes[id].nops; i++)
        live[d->nodes[id].a[i]] = true;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (!s->used)
      continue; /* already warned: unused */
    bool any = false;
    for (int k = 0; k < value_count(b, s); k++)
      any |= live[leaf_nodes(b, s)[k]];
    if (!any) {
      Token *t = &m->prog->toks[s->tok];
      diag_at(DIAG_WARNING, t->off, t->len, "the loss does not depend on param '%s'", s->name);
    }
  }
  /* ... and, when none is declared (the one case no warning above covers,
   * unless --wrt asks for an input's gradient), one for the loss, saying
   * what that leaves of the C. */
  bool wrt_input = false;
  for (int i = 0; i < b->diff_syms.n; i++)
    wrt_input |= b->diff_syms.v[i]->kind == SYM_INPUT;
  if (!m->n_params && !wrt_input) {
    Token *t = &m->prog->toks[m->loss->name_tok];
    diag_at(DIAG_WARNING, t->off, t->len,
            "the loss depends on no param (none is declared): _loss_grad has no gradient to write, and there "
            "are no _grad_ or _sgd_step functions");
  }
  free(live);
}
