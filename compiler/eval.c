/* eval.c — dcc's own evaluator: the loss and its symbolic gradient,
 * evaluated on the DAG in double at given in[] and p[], with each op's
 * value from ops.h (no C compiler; --check and --eval use it, gradcheck.c). */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>

/* Where each node's value lives in the evaluator's array, and how much
 * work evaluating it is (scalar operations, about). */
typedef struct {
  long *off;     /* per node, -1 if not evaluated */
  long total;    /* reals */
  double work;
} Layout;

static Layout layout(Dag *d, const bool *live) {
  Layout L = {xmalloc((size_t)d->n * sizeof(long) + 1), 0, 0};
  for (int id = 0; id < d->n; id++) {
    L.off[id] = -1;
    if (!live[id])
      continue;
    Node *nd = &d->nodes[id];
    L.off[id] = L.total;
    L.total += shape_size(nd->shape);
    double w = shape_size(nd->shape);
    if (nd->op == OP_MATMUL)
      w *= d->nodes[nd->a[0]].shape.dim[1];
    else if (op_info[nd->op].form == FORM_REDUCE)
      w = shape_size(d->nodes[nd->a[0]].shape);
    else if (op_is_conv((Op)nd->op)) { /* a term per output and kernel element */
      ConvGeom g = conv_geom(d, nd);
      w = (double)g.O * g.OH * g.OW * (g.depthwise ? 1 : g.C) * g.KH * g.KW;
    }
    L.work += w;
  }
  return L;
}

/* ---- each op's evaluation: r, the node's values, from its operands' ---- */

typedef struct {
  const Dag *d;
  int id;
  const Node *nd;
  double *r;          /* the node's values */
  const double *x, *y; /* its first two operands' */
  const double *in, *p;
  uint64_t *branches; /* the sides of the kinks taken so far, hashed */
} EvalAt;

static void eval_leaf(const EvalAt *e) {
  const Node *nd = e->nd;
  if (nd->op == OP_CONST)
    e->r[0] = nd->val;
  else
    for (int k = 0; k < shape_size(nd->shape); k++)
      e->r[k] = (nd->op == OP_INPUT ? e->in : e->p)[nd->index + k];
}

/* elementwise, a scalar operand broadcast (ops.h: each op's value) */
static void eval_elementwise(const EvalAt *e, const double *const *ops) {
  const Node *nd = e->nd;
  for (int k = 0; k < shape_size(nd->shape); k++) {
    double v[4];
    for (int i = 0; i < nd->nops; i++)
      v[i] = ops[i][e->d->nodes[nd->a[i]].shape.rank ? k : 0];
    e->r[k] = op_value((Op)nd->op, v);
    if (nd->op == OP_IFGT || nd->op == OP_IFGE || nd->op == OP_ABS) /* a kink: which side */
      *e->branches = (*e->branches ^ (uint64_t)(nd->op == OP_IFGT   ? v[0] > v[1]
                                                : nd->op == OP_IFGE ? v[0] >= v[1]
                                                                    : (v[0] > 0) + 2 * (v[0] < 0))) *
                     0x100000001B3u;
  }
}

/* Sums go left to right from element 0. */
static void eval_MATMUL(const EvalAt *e) {
  Shape xs = e->d->nodes[e->nd->a[0]].shape;
  int K = xs.dim[1], cols = e->nd->shape.rank == 2 ? e->nd->shape.dim[1] : 1;
  for (int i = 0; i < xs.dim[0]; i++)
    for (int j = 0; j < cols; j++) {
      double acc = e->x[i * K] * e->y[j];
      for (int k = 1; k < K; k++)
        acc += e->x[i * K + k] * e->y[k * cols + j];
      e->r[i * cols + j] = acc;
    }
}

static void eval_OUTER(const EvalAt *e) {
  int cols = e->nd->shape.dim[1];
  for (int k = 0; k < shape_size(e->nd->shape); k++)
    e->r[k] = e->x[k / cols] * e->y[k % cols];
}

static void eval_SUM(const EvalAt *e) {
  double acc = e->x[0];
  for (int k = 1; k < shape_size(e->d->nodes[e->nd->a[0]].shape); k++)
    acc += e->x[k];
  e->r[0] = acc;
}

static void eval_MAXR(const EvalAt *e) {
  double acc = e->x[0];
  for (int k = 1; k < shape_size(e->d->nodes[e->nd->a[0]].shape); k++)
    acc = e->x[k] > acc ? e->x[k] : acc;
  e->r[0] = acc;
}

/* a view: each element is an element of the operand (view.c) */
static void eval_view(const EvalAt *e) {
  for (int k = 0; k < shape_size(e->nd->shape); k++)
    e->r[k] = e->x[view_elem_num(e->d, e->id, k)];
}
#define eval_TRANSPOSE eval_view
#define eval_FILL eval_view
#define eval_INDEX eval_view
#define eval_ROW eval_view
#define eval_BCAST eval_view
#define eval_RESHAPE eval_view
#define eval_SLICE eval_view

/* the index in a slice of its first largest */
static int first_largest(const double *t, int first, int n, int stride) {
  int at = 0;
  for (int i = 1; i < n; i++)
    if (t[first + i * stride] > t[first + at * stride])
      at = i;
  return at;
}

static void eval_ATMAX(const EvalAt *e) {
  Shape xs = e->d->nodes[e->nd->a[0]].shape;
  for (int o = 0; o < shape_size(e->nd->shape); o++) {
    int first, n, stride;
    slice_at(xs, e->nd->index, o, &first, &n, &stride);
    e->r[o] = e->y[first + first_largest(e->x, first, n, stride) * stride];
  }
}

static void eval_UNMAX(const EvalAt *e) {
  Shape xs = e->d->nodes[e->nd->a[0]].shape;
  bool scalar = !e->d->nodes[e->nd->a[1]].shape.rank;
  for (int k = 0; k < shape_size(xs); k++)
    e->r[k] = 0;
  for (int o = 0; o < shape_size(xs) / xs.dim[e->nd->index]; o++) {
    int first, n, stride;
    slice_at(xs, e->nd->index, o, &first, &n, &stride);
    e->r[first + first_largest(e->x, first, n, stride) * stride] = e->y[scalar ? 0 : o];
  }
}

/* ---- convolutions and pooling, term by term (conv.c) ---- */

static void eval_conv_term(void *ctx, const ConvGeom *g, int o, int y, int x, int c, int i, int j, int iy, int ix) {
  const EvalAt *e = ctx;
  int in = conv_in_at(g, c, iy, ix), out = conv_out_at(g, o, y, x), k = conv_k_at(g, o, c, i, j);
  switch ((Op)e->nd->op) {
  case OP_CONV: case OP_DWCONV: e->r[out] += e->x[in] * e->y[k]; break;
  case OP_CONV_X: case OP_DWCONV_X: e->r[in] += e->x[out] * e->y[k]; break;
  case OP_CONV_K: case OP_DWCONV_K: e->r[k] += e->x[in] * e->y[out]; break;
  case OP_AVGPOOL: e->r[out] += e->x[in]; break;
  case OP_AVGPOOL_X: e->r[in] = e->x[out] / (g->KH * g->KW); break;
  default: break;
  }
}

static void eval_conv(const EvalAt *e) {
  ConvGeom g = conv_geom(e->d, e->nd);
  for (int k = 0; k < shape_size(e->nd->shape); k++)
    e->r[k] = 0;
  conv_each(&g, eval_conv_term, (void *)e);
  if (e->nd->op == OP_AVGPOOL)
    for (int k = 0; k < shape_size(e->nd->shape); k++)
      e->r[k] /= g.KH * g.KW;
}
#define eval_CONV eval_conv
#define eval_CONV_X eval_conv
#define eval_CONV_K eval_conv
#define eval_DWCONV eval_conv
#define eval_DWCONV_X eval_conv
#define eval_DWCONV_K eval_conv
#define eval_AVGPOOL eval_conv
#define eval_AVGPOOL_X eval_conv

/* The input element of window (o, y, x) of pooling g where t is first
 * largest, in row-major order. */
static int window_first_largest(const ConvGeom *g, const double *t, int o, int y, int x) {
  int at = conv_in_at(g, o, y * g->stride, x * g->stride);
  for (int i = 0; i < g->KH; i++)
    for (int j = 0; j < g->KW; j++) {
      int k = conv_in_at(g, o, y * g->stride + i, x * g->stride + j);
      if (t[k] > t[at])
        at = k;
    }
  return at;
}

static void eval_WMAX(const EvalAt *e) {
  ConvGeom g = conv_geom(e->d, e->nd);
  bool un = e->nd->op == OP_UNWMAX;
  for (int k = 0; un && k < shape_size(e->nd->shape); k++)
    e->r[k] = 0;
  for (int o = 0; o < g.O; o++)
    for (int y = 0; y < g.OH; y++)
      for (int x = 0; x < g.OW; x++) {
        int at = window_first_largest(&g, e->x, o, y, x), out = conv_out_at(&g, o, y, x);
        if (un)
          e->r[at] = e->y[out];
        else
          e->r[out] = e->y[at];
      }
}
#define eval_UNWMAX eval_WMAX

static void eval_CONCAT(const EvalAt *e) {
  int na = shape_size(e->d->nodes[e->nd->a[0]].shape);
  for (int k = 0; k < shape_size(e->nd->shape); k++)
    e->r[k] = k < na ? e->x[k] : e->y[k - na];
}

/* a sum along dimension k, left to right */
static void eval_SUMD(const EvalAt *e) {
  Shape xs = e->d->nodes[e->nd->a[0]].shape;
  for (int o = 0; o < shape_size(e->nd->shape); o++) {
    int first, n, stride;
    slice_at(xs, e->nd->index, o, &first, &n, &stride);
    double acc = e->x[first];
    for (int t = 1; t < n; t++)
      acc += e->x[first + t * stride];
    e->r[o] = acc;
  }
}

static void eval_SCATTER(const EvalAt *e) {
  for (int k = 0; k < shape_size(e->nd->shape); k++)
    e->r[k] = k == e->nd->index ? e->x[0] : 0;
}

static void eval_SCATROW(const EvalAt *e) {
  int cols = shape_inner(e->nd->shape);
  for (int k = 0; k < shape_size(e->nd->shape); k++)
    e->r[k] = k / cols == e->nd->index ? e->x[k % cols] : 0;
}

/* ---- recurrence: each anchor runs its region (loop.c) ------------------ */

/* the loop's parts, evaluated by their anchors */
static void eval_loop_part(const EvalAt *e) { (void)e; }
#define eval_CARRY eval_loop_part
#define eval_FOLD eval_loop_part
#define eval_SCAN eval_loop_part
#define eval_ADJ eval_loop_part
#define eval_BPTT eval_loop_part
#define eval_LOOPSUM eval_loop_part
#define eval_LOOPSTACK eval_loop_part
#define eval_STEP eval_loop_part

/* What evaluating a DAG with loops needs beyond the values: the regions,
 * and each forward region's state before each step (n + 1 states), which
 * its reverse sweeps read to run the step again. */
typedef struct {
  Dag *d;
  const bool *live;
  const Layout *L;
  const double *in, *p;
  double *vals;
  uint64_t *branches;
  Regions R;
  double **states; /* per forward region */
} Run;

static void eval_node(Run *u, int id) {
  Dag *d = u->d;
  Node *nd = &d->nodes[id];
  const double *ops[4] = {NULL, NULL, NULL, NULL};
  for (int i = 0; i < nd->nops; i++)
    ops[i] = u->vals + u->L->off[nd->a[i]];
  EvalAt e = {d, id, nd, u->vals + u->L->off[id], ops[0], ops[1], u->in, u->p, u->branches};
  switch ((Op)nd->op) {
#define LEAF(name, ...) case OP_##name:
    DCC_LEAF_OPS(LEAF)
#undef LEAF
    eval_leaf(&e);
    break;
#define SCALAR(name, ...) case OP_##name:
    DCC_SCALAR_OPS(SCALAR)
#undef SCALAR
    eval_elementwise(&e, ops);
    break;
#define TENSOR(name, ...)                                                                             \
  case OP_##name:                                                                                     \
    eval_##name(&e);                                                                                  \
    break;
    DCC_TENSOR_OPS(TENSOR)
#undef TENSOR
  case OP_COUNT:
    break;
  }
}

static double *val(Run *u, int id) { return u->vals + u->L->off[id]; }

static void copy_vals(double *to, const double *from, long n) {
  for (long k = 0; k < n; k++)
    to[k] = from[k];
}

/* Forward region r at step t: its CARRY the state before the step, its
 * STEP row t of the sequence, then its live nodes in id order. */
static void run_step(Run *u, int r, int t) {
  Dag *d = u->d;
  int anchor = u->R.anchor[r], carry = u->R.leaf[r], step = u->R.step[r];
  long k = shape_size(loop_state(d, anchor));
  if (carry >= 0 && u->live[carry])
    copy_vals(val(u, carry), u->states[r] + (long)t * k, k);
  if (step >= 0 && u->live[step]) {
    long m = shape_size(d->nodes[step].shape);
    copy_vals(val(u, step), val(u, d->nodes[step].a[0]) + (long)t * m, m);
  }
  for (int id = 0; id < d->n; id++) /* with those diff.c made after the anchor */
    if (u->R.of[id] == r && u->live[id] && id != carry && id != step)
      eval_node(u, id);
}

/* FOLD, SCAN: n steps from the initial state, every state kept */
static void run_loop(Run *u, int anchor) {
  Dag *d = u->d;
  Node *nd = &d->nodes[anchor];
  int r = nd->index, n = nd->aux;
  long k = shape_size(loop_state(d, anchor));
  free(u->states[r]);
  u->states[r] = xmalloc(((size_t)n + 1) * (size_t)k * sizeof(double));
  copy_vals(u->states[r], val(u, nd->a[0]), k);
  for (int t = 0; t < n; t++) {
    run_step(u, r, t);
    copy_vals(u->states[r] + (long)(t + 1) * k, val(u, nd->a[1]), k);
  }
  copy_vals(val(u, anchor), u->states[r] + (nd->op == OP_SCAN ? k : (long)n * k), nd->op == OP_SCAN ? (long)n * k : k);
}

/* BPTT: from the last step to the first, each step run again and its
 * backward region after it; the sums and stacks of the sweep filled */
static void run_sweep(Run *u, int bptt) {
  Dag *d = u->d;
  Node *nd = &d->nodes[bptt];
  int K = nd->index, fwd = nd->aux, loop = nd->a[0], n = loop_steps(d, bptt);
  bool scan = d->nodes[loop].op == OP_SCAN;
  long k = shape_size(nd->shape);
  double *A = val(u, u->R.leaf[K] >= 0 ? u->R.leaf[K] : bptt), *seed = val(u, nd->a[1]);
  copy_vals(A, seed + (scan ? (long)(n - 1) * k : 0), k);
  for (int id = bptt + 1; id < d->n; id++) {
    Node *x = &d->nodes[id];
    if (u->live[id] && (x->op == OP_LOOPSUM || x->op == OP_LOOPSTACK) && x->a[0] == bptt)
      for (long q = 0; q < shape_size(x->shape); q++)
        val(u, id)[q] = 0;
  }
  for (int t = n - 1; t >= 0; t--) {
    run_step(u, fwd, t);
    for (int id = 0; id < bptt; id++)
      if (u->R.of[id] == K && u->live[id] && id != u->R.leaf[K])
        eval_node(u, id);
    for (int id = bptt + 1; id < d->n; id++) {
      Node *x = &d->nodes[id];
      if (!u->live[id] || x->a[0] != bptt)
        continue;
      long m = shape_size(d->nodes[x->a[1]].shape);
      if (x->op == OP_LOOPSUM)
        for (long q = 0; q < m; q++)
          val(u, id)[q] += val(u, x->a[1])[d->nodes[x->a[1]].shape.rank ? q : 0];
      else if (x->op == OP_LOOPSTACK)
        copy_vals(val(u, id) + (long)t * m, val(u, x->a[1]), m);
    }
    const double *dc = val(u, nd->a[2]);
    bool dc_scalar = !d->nodes[nd->a[2]].shape.rank;
    for (long q = 0; q < k; q++)
      A[q] = dc[dc_scalar ? 0 : q] + (scan && t > 0 ? seed[(long)(t - 1) * k + q] : 0);
  }
  copy_vals(val(u, bptt), A, k);
}

/* Evaluate the nodes marked live, in id order, into vals at L's offsets;
 * a region's nodes when its anchor runs them. */
static void eval_nodes(Dag *d, const bool *live, const Layout *L, const double *in, const double *p, double *vals,
                       uint64_t *branches) {
  Run u = {d, live, L, in, p, vals, branches, regions_find(d), NULL};
  u.states = xcalloc((size_t)u.R.n + 1, sizeof *u.states);
  for (int id = 0; id < d->n; id++) {
    if (!live[id] || u.R.of[id] >= 0)
      continue;
    Op op = (Op)d->nodes[id].op;
    if (op == OP_FOLD || op == OP_SCAN)
      run_loop(&u, id);
    else if (op == OP_BPTT)
      run_sweep(&u, id);
    else
      eval_node(&u, id);
  }
  for (int r = 0; r < u.R.n; r++)
    free(u.states[r]);
  free(u.states);
  regions_free(&u.R);
}

/* ---- the evaluator: the loss, and its gradient, at given in[] and p[] ---- */

struct Evaluator {
  Built *b;
  bool *live, *live_loss; /* the nodes the loss and gradient need; the loss alone */
  Layout L, LL;           /* LL: the loss alone, at L's offsets */
  double *vals;
  uint64_t branches;
};

/* The gradient of param scalar j: where its value is (a node and an
 * element of it). */
static void grad_at(Built *b, int j, int *node, int *elem) {
  int *grads = b->param_grad;
  *node = grads[j];
  *elem = 0;
  if (!b->loops)
    return;
  Model *m = b->m;
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (j >= s->offset && j < s->offset + shape_size(s->shape)) {
      *node = grads[s->offset];
      *elem = b->dag->nodes[*node].shape.rank ? j - s->offset : 0;
    }
  }
}

Evaluator *evaluator_new(Built *b) {
  Model *m = b->m;
  Dag *d = b->dag;
  Evaluator *ev = xcalloc(1, sizeof *ev);
  ev->b = b;
  ev->live = xcalloc((size_t)d->n + 1, sizeof *ev->live);
  ev->live_loss = xcalloc((size_t)d->n + 1, sizeof *ev->live_loss);
  if (b->loss >= 0) {
    int *roots = xmalloc((size_t)(m->n_params + 1) * sizeof *roots);
    int nroots = 0;
    roots[nroots++] = b->loss;
    for (int j = 0; j < m->n_params; j++)
      if (b->param_grad[j] >= 0)
        roots[nroots++] = b->param_grad[j];
    dag_reach(d, roots, nroots, ev->live, NULL);
    dag_reach(d, &b->loss, 1, ev->live_loss, NULL);
    free(roots);
  }
  ev->L = layout(d, ev->live);
  ev->LL = layout(d, ev->live_loss);
  for (int id = 0; id < d->n; id++) /* the loss alone, in the same array */
    ev->LL.off[id] = ev->L.off[id];
  ev->vals = xmalloc((size_t)ev->L.total * sizeof *ev->vals + 1);
  return ev;
}

double evaluator_run(Evaluator *ev, const double *in, const double *p, double *grad) {
  Built *b = ev->b;
  if (b->loss < 0)
    return NAN;
  ev->branches = 14695981039346656037u;
  eval_nodes(b->dag, grad ? ev->live : ev->live_loss, grad ? &ev->L : &ev->LL, in, p, ev->vals, &ev->branches);
  for (int j = 0; grad && j < b->m->n_params; j++) {
    int node, elem;
    grad_at(b, j, &node, &elem);
    grad[j] = node >= 0 ? ev->vals[ev->L.off[node] + elem] : 0;
  }
  return ev->vals[ev->L.off[b->loss]];
}

double evaluator_loss_work(const Evaluator *ev) { return ev->LL.work; }

uint64_t evaluator_branches(const Evaluator *ev) { return ev->branches; }

void evaluator_free(Evaluator *ev) {
  free(ev->live);
  free(ev->live_loss);
  free(ev->L.off);
  free(ev->LL.off);
  free(ev->vals);
  free(ev);
}
