/* emit_text.c — what dcc prints for people: --emit expr (the loss and its
 * derivatives as infix text in the language's own syntax), --emit dot (the
 * DAG for Graphviz) and --stats (operation counts). */
#include "dcc.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- leaves' names ------------------------------------------------------ */

static char *value_name(Sym *s, int k) {
  char sfx[64];
  if (s->shape.rank == 0 || k < 0)
    return xstrdup(s->name);
  return xprintf("%s%s", s->name, elem_suffix(s->shape, k, sfx, sizeof sfx, true));
}

/* "x1", "v[3]", "W[0][1]": the source name of an input or param scalar. */
static char *leaf_name(Model *m, Node *nd) {
  SymList *list = nd->op == OP_INPUT ? &m->inputs : &m->params;
  for (int i = 0; i < list->n; i++) {
    Sym *s = list->v[i];
    int k = nd->index - s->offset;
    if (k < 0 || k >= shape_size(s->shape))
      continue;
    return value_name(s, nd->shape.rank ? -1 : k); /* a scalar, or the tensor whole */
  }
  return xprintf("?%d", nd->index);
}

static void text_const(Buf *b, double v) {
  char buf[64];
  format_shortest(buf, sizeof buf, v, false);
  buf_puts(b, buf);
}

/* ---- --emit expr -------------------------------------------------------- */

typedef struct {
  Built *b;
  char **name; /* per node: its let-name, or NULL to print inline */
} Text;

/* Precedence in the language: + - (1), * / @ (2), unary - (3), ^ (4),
 * calls and names (5). */
static int text_prec(Text *T, int id) {
  Node *nd = &T->b->dag->nodes[id];
  if (T->name[id])
    return 5;
  if (nd->op == OP_CONST)
    return nd->val < 0 ? 3 : 5;
  if (nd->op == OP_MATMUL) /* the tensor op the language writes infix */
    return 2;
  return op_info[nd->op].prec;
}

static void text_expr(Text *T, int id, Buf *b);

static void text_operand(Text *T, int id, int min_prec, Buf *b) {
  bool paren = text_prec(T, id) < min_prec;
  if (paren)
    buf_putc(b, '(');
  text_expr(T, id, b);
  if (paren)
    buf_putc(b, ')');
}

/* a op b, left-associative */
static void text_infix(Text *T, int id, const char *op, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  int p = text_prec(T, id);
  text_operand(T, nd->a[0], p, b);
  buf_printf(b, " %s ", op);
  text_operand(T, nd->a[1], p + 1, b);
}

/* f(a, b, ...) */
static void text_call(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  buf_printf(b, "%s(", op_info[nd->op].print);
  for (int i = 0; i < nd->nops; i++) {
    if (i)
      buf_puts(b, ", ");
    text_expr(T, nd->a[i], b);
  }
  buf_putc(b, ')');
}

/* ---- each tensor op's spelling ----------------------------------------- */

static void text_MATMUL(Text *T, int id, Buf *b) { text_infix(T, id, "@", b); }
#define text_OUTER text_call     /* outer(u, v) */
#define text_TRANSPOSE text_call /* transpose(M) */
#define text_SUM text_call       /* sum(t) */
#define text_MAXR text_call      /* max(t) */

/* t[i][j], M[r] */
static void text_element(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  Shape as = T->b->dag->nodes[nd->a[0]].shape;
  char sfx[64];
  text_operand(T, nd->a[0], 5, b);
  if (nd->op == OP_INDEX)
    buf_puts(b, elem_suffix(as, nd->index, sfx, sizeof sfx, true));
  else
    buf_printf(b, "[%d]", nd->index);
}
#define text_INDEX text_element
#define text_ROW text_element

/* fill(s, [2][3]), scatter(s, 4, [8]), scatrow(v, 1, [2][3]) */
static void text_shaped(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  buf_printf(b, "%s(", op_info[nd->op].print);
  text_expr(T, nd->a[0], b);
  if (nd->op == OP_SCATTER || nd->op == OP_SCATROW)
    buf_printf(b, ", %d", nd->index);
  buf_printf(b, ", %s)", shape_str(nd->shape));
}
#define text_FILL text_shaped
#define text_SCATTER text_shaped
#define text_SCATROW text_shaped
#define text_BCAST text_shaped /* broadcast(v, [2][3]) */
#define text_CONCAT text_call  /* concat(a, b) */
#define text_UNMAX text_call   /* unmax(t, g): a's shape, g at t's first largest */

/* conv(x, K, stride, pad), conv_x(dY, K, stride, pad), ...; pools with
 * their window */
static void text_conv(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  text_call(T, id, b);
  b->len--; /* the ')' */
  b->s[b->len] = 0;
  if (op_info[nd->op].arity == 2 && (nd->op == OP_WMAX || nd->op == OP_UNWMAX))
    buf_printf(b, ", %d)", nd->index);
  else if (nd->op == OP_AVGPOOL || nd->op == OP_AVGPOOL_X)
    buf_printf(b, ", %d)", nd->index);
  else
    buf_printf(b, ", %d, %d)", nd->index, nd->aux);
}
#define text_CONV text_conv
#define text_CONV_X text_conv
#define text_CONV_K text_conv
#define text_DWCONV text_conv
#define text_DWCONV_X text_conv
#define text_DWCONV_K text_conv
#define text_AVGPOOL text_conv
#define text_AVGPOOL_X text_conv
#define text_WMAX text_conv
#define text_UNWMAX text_conv

/* amax(t, k), or atmax(t, x, k): x's element at t's first largest */
static void text_ATMAX(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  buf_puts(b, nd->a[0] == nd->a[1] ? "amax(" : "atmax(");
  text_expr(T, nd->a[0], b);
  if (nd->a[0] != nd->a[1]) {
    buf_puts(b, ", ");
    text_expr(T, nd->a[1], b);
  }
  buf_printf(b, ", %d)", nd->index);
}

/* slice(t, 2, [3][4]): rows 2 .. 4 of t */
static void text_SLICE(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  buf_puts(b, "slice(");
  text_expr(T, nd->a[0], b);
  buf_printf(b, ", %d, %s)", nd->index, shape_str(nd->shape));
}

/* reshape(t, 2, 3), as the language writes it */
static void text_RESHAPE(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  buf_puts(b, "reshape(");
  text_expr(T, nd->a[0], b);
  for (int i = 0; i < nd->shape.rank; i++)
    buf_printf(b, ", %d", nd->shape.dim[i]);
  buf_putc(b, ')');
}

/* sum(t, k) */
static void text_SUMD(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  buf_puts(b, "sum(");
  text_expr(T, nd->a[0], b);
  buf_printf(b, ", %d)", nd->index);
}

/* A loop's parts, with the loop's number (a region, loop.c):
 * fold#1(init, body, 8) (the body on carry#1 and step#1), step#1(xs) (the
 * row of xs at the step), and a reverse sweep's: bptt#2(fold, seed,
 * d carry), adj#2 (the state's adjoint after the step), loopsum#2(sweep,
 * x) (x summed over the steps), loopstack#2(sweep, x) (x of each step). */
static void text_loop(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  buf_printf(b, "%s#%d", op_info[nd->op].print, nd->index + 1);
  if (!nd->nops)
    return;
  buf_putc(b, '(');
  for (int i = 0; i < nd->nops; i++) {
    if (i)
      buf_puts(b, ", ");
    text_expr(T, nd->a[i], b);
  }
  if (nd->op == OP_FOLD || nd->op == OP_SCAN)
    buf_printf(b, ", %d", nd->aux);
  buf_putc(b, ')');
}
#define text_CARRY text_loop
#define text_STEP text_loop
#define text_FOLD text_loop
#define text_SCAN text_loop
#define text_ADJ text_loop
#define text_BPTT text_loop
#define text_LOOPSUM text_loop
#define text_LOOPSTACK text_loop

static void text_leaf(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  if (nd->op == OP_CONST) {
    text_const(b, nd->val);
    return;
  }
  char *n = leaf_name(T->b->m, nd);
  buf_puts(b, n);
  free(n);
}

/* a scalar op, by its kind */
static void text_scalar(Text *T, int id, Buf *b) {
  Node *nd = &T->b->dag->nodes[id];
  const OpInfo *oi = &op_info[nd->op];
  if (oi->kind == KIND_INFIX) {
    text_infix(T, id, oi->print, b);
  } else if (oi->kind == KIND_PREFIX) {
    buf_puts(b, oi->print);
    text_operand(T, nd->a[0], 4, b);
  } else if (oi->prec == 4) { /* a^b: right-associative; the exponent may be signed */
    text_operand(T, nd->a[0], 5, b);
    buf_puts(b, "^");
    text_operand(T, nd->a[1], 3, b);
  } else {
    text_call(T, id, b);
  }
}

typedef void TextFn(Text *T, int id, Buf *b);
static TextFn *const text_fn[OP_COUNT] = {
#define LEAF(name, ...) [OP_##name] = text_leaf,
#define SCALAR(name, ...) [OP_##name] = text_scalar,
#define TENSOR(name, ...) [OP_##name] = text_##name,
    DCC_LEAF_OPS(LEAF) DCC_SCALAR_OPS(SCALAR) DCC_TENSOR_OPS(TENSOR)
#undef LEAF
#undef SCALAR
#undef TENSOR
};

static void text_expr(Text *T, int id, Buf *b) {
  if (T->name[id])
    buf_puts(b, T->name[id]);
  else
    text_fn[T->b->dag->nodes[id].op](T, id, b);
}

typedef struct {
  int node;
  char *label;
} Line;
typedef VEC(Line) Lines;

/* The roots every textual form shows: the loss, its derivatives, the
 * outputs. */
static void text_roots(Built *b, Lines *out) {
  Model *m = b->m;
  if (b->loss >= 0) {
    vec_push(out, ((Line){b->loss, xstrdup("loss")}));
    for (int i = 0; i < b->diff_syms.n; i++) {
      Sym *s = b->diff_syms.v[i];
      for (int k = 0; k < value_count(b, s); k++) {
        char *n = value_name(s, b->loops ? -1 : k);
        vec_push(out, ((Line){grad_nodes(b, s)[k], xprintf("dloss/d%s", n)}));
        free(n);
      }
    }
  }
  for (int i = 0; i < m->outputs.n; i++) {
    Sym *s = m->outputs.v[i];
    for (int k = 0; k < value_count(b, s); k++)
      vec_push(out, ((Line){b->out_ids[s->offset + k], value_name(s, b->loops ? -1 : k)}));
  }
}

void emit_expr(Buf *out, Built *b) {
  Dag *d = b->dag;
  Lines roots = {0};
  text_roots(b, &roots);
  int n = d->n;
  int *uses = xcalloc((size_t)n, sizeof *uses);
  int *depth = xcalloc((size_t)n, sizeof *depth);
  bool *live = xcalloc((size_t)n, sizeof *live);
  Text T = {b, xcalloc((size_t)n, sizeof(char *))};
  for (int r = 0; r < roots.n; r++) {
    int id = roots.v[r].node;
    dag_reach(d, &id, 1, live, NULL);
  }
  for (int id = 0; id < n; id++) /* uses by live users only: roots are printed anyway */
    for (int i = 0; live[id] && i < d->nodes[id].nops; i++)
      uses[d->nodes[id].a[i]]++;
  /* A node shared by several users, or named in the source, or too deep to
   * print inline, is printed once as "name = ..." before its first use. */
  int t = 0;
  for (int id = 0; id < n; id++) {
    Node *nd = &d->nodes[id];
    if (!live[id] || op_info[nd->op].kind == KIND_LEAF)
      continue;
    int dep = 0;
    for (int i = 0; i < nd->nops; i++)
      if (depth[nd->a[i]] > dep)
        dep = depth[nd->a[i]];
    dep++;
    Sym *sym = id < b->names_cap ? b->node_sym[id] : NULL;
    if (!sym && uses[id] < 2 && dep <= 12) {
      depth[id] = dep;
      continue;
    }
    Buf line = {0};
    text_expr(&T, id, &line);
    if (sym) {
      T.name[id] = value_name(sym, b->node_elem[id]);
    } else {
      for (T.name[id] = xprintf("t%d", ++t); model_lookup(b->m, T.name[id]); T.name[id] = xprintf("t%d", ++t))
        free(T.name[id]); /* a user's own name: skip it */
    }
    buf_printf(out, "%s = %s\n", T.name[id], line.s);
    free(line.s);
  }
  for (int r = 0; r < roots.n; r++) {
    Buf line = {0};
    int id = roots.v[r].node;
    if (T.name[id] && !strcmp(T.name[id], roots.v[r].label)) {
      free(roots.v[r].label);
      continue; /* an output already printed as its own definition */
    }
    text_expr(&T, id, &line);
    buf_printf(out, "%s = %s\n", roots.v[r].label, line.s);
    free(line.s);
    free(roots.v[r].label);
  }
  for (int id = 0; id < n; id++)
    free(T.name[id]);
  free(T.name);
  free(roots.v);
  free(uses);
  free(depth);
  free(live);
}

/* ---- --emit dot -------------------------------------------------------- */

void emit_dot(Buf *out, Built *b) {
  Dag *d = b->dag;
  Lines roots = {0};
  text_roots(b, &roots);
  bool *live = xcalloc((size_t)d->n, sizeof *live);
  for (int r = 0; r < roots.n; r++) {
    int id = roots.v[r].node;
    dag_reach(d, &id, 1, live, NULL);
  }
  buf_puts(out, "digraph dcc {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n");
  for (int id = 0; id < d->n; id++) {
    if (!live[id])
      continue;
    Node *nd = &d->nodes[id];
    Buf label = {0};
    if (nd->op == OP_CONST)
      text_const(&label, nd->val);
    else if (nd->op == OP_INPUT || nd->op == OP_PARAM) {
      char *n = leaf_name(b->m, nd);
      buf_puts(&label, n);
      free(n);
    } else {
      buf_puts(&label, op_info[nd->op].print);
      if (id < b->names_cap && b->node_sym[id]) {
        char *n = value_name(b->node_sym[id], b->node_elem[id]);
        buf_printf(&label, "\\n%s", n);
        free(n);
      }
    }
    if (nd->shape.rank) /* a tensor node: its shape under it */
      buf_printf(&label, "\\n%s", shape_str(nd->shape));
    buf_printf(out, "  n%d [label=\"%s\"%s];\n", id, label.s,
               op_info[nd->op].kind == KIND_LEAF ? ", shape=ellipse" : "");
    free(label.s);
    for (int i = 0; i < nd->nops; i++)
      buf_printf(out, "  n%d -> n%d;\n", nd->a[i], id);
  }
  for (int r = 0; r < roots.n; r++) {
    buf_printf(out, "  r%d [label=\"%s\", shape=plaintext];\n  n%d -> r%d;\n", r, roots.v[r].label,
               roots.v[r].node, r);
    free(roots.v[r].label);
  }
  buf_puts(out, "}\n");
  free(roots.v);
  free(live);
}

/* ---- --stats and -O0's tree limits ---------------------------------------- */

/* The counts are doubles: an expanded tree's pass 2^64 (issue 15: a
 * saturated count printed as 18446744073709551615), and a double keeps
 * their magnitude; counts of what dcc emits are exact (below 2^53). */
static void count(OpCounts *c, Op op, double mult, double n) {
  if (n > 0) /* never inf * 0 */
    c->ops[op] += mult * n;
}

char *count_text(double n, char buf[32]) {
  if (n <= 1e15)
    snprintf(buf, 32, "%.0f", n);
  else if (n <= DBL_MAX)
    snprintf(buf, 32, "%.3g", n);
  else
    snprintf(buf, 32, "more than %.3g", DBL_MAX);
  return buf;
}

/* ---- each tensor op's scalar operations --------------------------------- */

static void count_MATMUL(Dag *d, const Node *nd, double mult, OpCounts *c) {
  double n = shape_size(nd->shape), k = d->nodes[nd->a[0]].shape.dim[1];
  count(c, OP_MUL, mult, n * k);
  count(c, OP_ADD, mult, n * (k - 1));
}

static void count_OUTER(Dag *d, const Node *nd, double mult, OpCounts *c) {
  (void)d;
  count(c, OP_MUL, mult, (double)shape_size(nd->shape));
}

static void count_SUM(Dag *d, const Node *nd, double mult, OpCounts *c) {
  count(c, OP_ADD, mult, (double)shape_size(d->nodes[nd->a[0]].shape) - 1);
}

static void count_MAXR(Dag *d, const Node *nd, double mult, OpCounts *c) {
  count(c, OP_IFGE, mult, (double)shape_size(d->nodes[nd->a[0]].shape) - 1);
}

/* views, scatters and leaves: no arithmetic */
static void count_none(Dag *d, const Node *nd, double mult, OpCounts *c) { (void)d, (void)nd, (void)mult, (void)c; }
#define count_TRANSPOSE count_none
#define count_FILL count_none
#define count_INDEX count_none
#define count_ROW count_none
#define count_SCATTER count_none
#define count_SCATROW count_none
#define count_BCAST count_none
#define count_RESHAPE count_none
#define count_SLICE count_none
#define count_CONCAT count_none

/* a select per comparison */
static void count_ATMAX(Dag *d, const Node *nd, double mult, OpCounts *c) {
  count(c, OP_IFGE, mult, (double)(shape_size(d->nodes[nd->a[0]].shape) - shape_size(nd->shape)));
}

/* a multiply and an add per term (pooling: an add, or a select, per element of a window) */
static void count_conv(Dag *d, const Node *nd, double mult, OpCounts *c) {
  ConvGeom g = conv_geom(d, nd);
  double terms = (double)g.O * g.OH * g.OW * (g.depthwise ? 1 : g.C) * g.KH * g.KW;
  if (nd->op == OP_WMAX || nd->op == OP_UNWMAX) {
    count(c, OP_IFGE, mult, terms);
    return;
  }
  if (nd->op == OP_AVGPOOL || nd->op == OP_AVGPOOL_X) {
    count(c, nd->op == OP_AVGPOOL ? OP_ADD : OP_DIV, mult, nd->op == OP_AVGPOOL ? terms : (double)g.O * g.OH * g.OW);
    return;
  }
  count(c, OP_MUL, mult, terms);
  count(c, OP_ADD, mult, terms);
}
#define count_CONV count_conv
#define count_CONV_X count_conv
#define count_CONV_K count_conv
#define count_DWCONV count_conv
#define count_DWCONV_X count_conv
#define count_DWCONV_K count_conv
#define count_AVGPOOL count_conv
#define count_AVGPOOL_X count_conv
#define count_WMAX count_conv
#define count_UNWMAX count_conv

/* a loop's parts: the adds that sum a contribution over the steps and
 * that add a scan's seed to the state's adjoint (the region's nodes are
 * counted once per step by count_dag) */
static void count_loop(Dag *d, const Node *nd, double mult, OpCounts *c) {
  if (nd->op == OP_LOOPSUM)
    count(c, OP_ADD, mult, (double)shape_size(nd->shape) * loop_steps(d, nd->a[0]));
  else if (nd->op == OP_BPTT && d->nodes[nd->a[0]].op == OP_SCAN)
    count(c, OP_ADD, mult, (double)shape_size(nd->shape) * (loop_steps(d, nd->a[0]) - 1));
}
#define count_CARRY count_loop
#define count_STEP count_loop
#define count_FOLD count_loop
#define count_SCAN count_loop
#define count_ADJ count_loop
#define count_BPTT count_loop
#define count_LOOPSUM count_loop
#define count_LOOPSTACK count_loop

static void count_UNMAX(Dag *d, const Node *nd, double mult, OpCounts *c) {
  (void)d;
  count(c, OP_IFGE, mult, (double)shape_size(nd->shape));
}

static void count_SUMD(Dag *d, const Node *nd, double mult, OpCounts *c) {
  count(c, OP_ADD, mult, (double)(shape_size(d->nodes[nd->a[0]].shape) - shape_size(nd->shape)));
}

/* an elementwise op, once per element */
static void count_scalar(Dag *d, const Node *nd, double mult, OpCounts *c) {
  (void)d;
  count(c, (Op)nd->op, mult, (double)shape_size(nd->shape));
}

typedef void CountFn(Dag *d, const Node *nd, double mult, OpCounts *c);
static CountFn *const count_fn[OP_COUNT] = {
#define LEAF(name, ...) [OP_##name] = count_none,
#define SCALAR(name, ...) [OP_##name] = count_scalar,
#define TENSOR(name, ...) [OP_##name] = count_##name,
    DCC_LEAF_OPS(LEAF) DCC_SCALAR_OPS(SCALAR) DCC_TENSOR_OPS(TENSOR)
#undef LEAF
#undef SCALAR
#undef TENSOR
};

/* Count node id, mult times, as the scalar operations it performs: an
 * elementwise op once per element, a matrix product its multiplies and
 * adds, a sum its adds, a max its selects; views (fill, index, row,
 * transpose) and scatters none. */
static void count_node(Dag *d, int id, double mult, OpCounts *c) {
  c->nodes += mult;
  count_fn[d->nodes[id].op](d, &d->nodes[id], mult, c);
}

/* Counts of the expanded trees of roots: a node reached along k paths
 * counts k times (what naive, unshared evaluation computes). */
void count_tree(Dag *d, const int *roots, int n, OpCounts *c) {
  memset(c, 0, sizeof *c);
  int top = -1;
  for (int r = 0; r < n; r++)
    if (roots[r] > top)
      top = roots[r];
  double *mult = xcalloc((size_t)top + 2, sizeof *mult);
  for (int r = 0; r < n; r++)
    mult[roots[r]] += 1;
  for (int id = top; id >= 0; id--) {
    if (!mult[id])
      continue;
    Node *nd = &d->nodes[id];
    count_node(d, id, mult[id], c);
    for (int i = 0; i < nd->nops; i++)
      mult[nd->a[i]] += mult[id];
  }
  free(mult);
}

/* Counts of the distinct nodes roots reach (what the emitted code computes). */
void count_dag(Dag *d, const int *roots, int n, OpCounts *c) {
  memset(c, 0, sizeof *c);
  bool *live = xcalloc((size_t)d->n, sizeof *live);
  dag_reach(d, roots, n, live, NULL);
  Regions R = regions_find(d);
  for (int id = 0; id < d->n; id++) {
    int r = R.of[id];
    if (live[id]) /* a loop's node once per step */
      count_node(d, id, r < 0 ? 1 : (double)loop_steps(d, R.anchor[r]), c);
  }
  regions_free(&R);
  free(live);
}

void tree_measure(Dag *d, int root, double *size, int *depth) {
  OpCounts c;
  count_tree(d, &root, 1, &c);
  *size = c.nodes;
  int *dep = xcalloc((size_t)root + 1, sizeof *dep);
  for (int id = 0; id <= root; id++) {
    Node *nd = &d->nodes[id];
    int m = 0;
    for (int i = 0; i < nd->nops; i++)
      if (dep[nd->a[i]] > m)
        m = dep[nd->a[i]];
    dep[id] = m + 1;
  }
  *depth = dep[root];
  free(dep);
}

static void print_stats(FILE *f, const char *what, OpCounts *before, OpCounts *after) {
  fprintf(f, "dcc: operation counts for %s\n", what);
  fprintf(f, "  %-12s %14s %10s\n", "", "before", "after");
  char b1[32], b2[32];
  fprintf(f, "  %-12s %14s %10s\n", "nodes", count_text(before->nodes, b1), count_text(after->nodes, b2));
  struct {
    const char *name;
    Op a, b;
  } rows[] = {
      {"add/sub", OP_ADD, OP_SUB}, {"mul", OP_MUL, OP_MUL}, {"div", OP_DIV, OP_DIV},
      {"neg", OP_NEG, OP_NEG},     {"select", OP_IFGT, OP_IFGE},
  };
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    double x = before->ops[rows[i].a] + (rows[i].a == rows[i].b ? 0 : before->ops[rows[i].b]);
    double y = after->ops[rows[i].a] + (rows[i].a == rows[i].b ? 0 : after->ops[rows[i].b]);
    fprintf(f, "  %-12s %14s %10s\n", rows[i].name, count_text(x, b1), count_text(y, b2));
  }
  for (int op = 0; op < OP_COUNT; op++) {
    if (op_info[op].kind != KIND_CALL || (!before->ops[op] && !after->ops[op]))
      continue;
    fprintf(f, "  %-12s %14s %10s\n", op_info[op].print, count_text(before->ops[op], b1),
            count_text(after->ops[op], b2));
  }
}

/* --stats' "before" for an unrolled model: the expanded trees of the
 * naive computation, the loss and one forward-mode derivative per param,
 * counted one param at a time (each derivative is dropped from the DAG
 * once counted). */
static void naive_counts(Built *raw, OpCounts *c) {
  Model *m = raw->m;
  Dag *d = raw->dag;
  count_tree(d, &raw->loss, 1, c);
  for (int j = 0; j < m->n_params; j++) {
    if (model_frozen_scalar(m, j))
      continue; /* frozen: no derivative */
    int mark = d->n;
    int g = diff_forward(d, raw->loss, raw->param_leaf[j]);
    OpCounts one;
    count_tree(d, &g, 1, &one);
    c->nodes += one.nodes;
    for (int op = 0; op < OP_COUNT; op++)
      c->ops[op] += one.ops[op];
    d->n = mark; /* nothing since mark is in the hash table: -O0 shares only leaves */
  }
}

/* The loss and its gradient with respect to every param: b's roots. */
static void loss_grad_roots(Built *b, IntVec *roots) {
  vec_push(roots, b->loss);
  for (int j = 0; j < b->m->n_params; j++)
    if (b->param_grad[j] >= 0)
      vec_push(roots, b->param_grad[j]);
}

void print_operation_counts(FILE *f, Built *opt, const char *prefix) {
  Model *m = opt->m;
  if (opt->loss < 0)
    return;
  Built *naive = build(m, dag_new(false));
  OpCounts cb, ca;
  if (opt->loops) {
    naive->loops = true;
    bool *none = xcalloc((size_t)m->inputs.n + 1, sizeof *none);
    differentiate(naive, none);
    IntVec before = {0};
    loss_grad_roots(naive, &before);
    count_tree(naive->dag, before.v, before.n, &cb);
    free(before.v);
    free(none);
  } else {
    unroll(naive);
    naive_counts(naive, &cb);
  }
  IntVec after = {0};
  loss_grad_roots(opt, &after);
  count_dag(opt->dag, after.v, after.n, &ca);
  free(after.v);
  char *what = xprintf("%s_loss_grad (the loss and %d gradient components)", prefix, m->n_grad);
  print_stats(f, what, &cb, &ca);
  free(what);
  struct rusage ru;
  if (!getrusage(RUSAGE_SELF, &ru)) /* Linux: kilobytes */
    fprintf(f, "dcc: peak memory %ld KiB\n", (long)ru.ru_maxrss);
}
