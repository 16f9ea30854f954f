/* lower.c — stable builtins into C-expressible primitives.
 *
 * Requires: a model after differentiation.  Guarantees: no SIGMOID,
 * SOFTPLUS or NOGRAD among the nodes its roots reach.  Both sigmoid(x)
 * and softplus(x) are written with E = exp(-|x|), which never overflows, and
 * since E depends on |x| only, sigmoid(x), sigmoid(-x) and softplus(+-x)
 * all share one exp call (the loss of a logistic output and its gradient
 * call exp once):
 *   sigmoid(x)  = (x >= 0 ? 1 : E) / (1+E)
 *   softplus(x) = max(x, 0) + log1p(E)
 * where log1p(E) is taken as log(U) + (E - (U - 1)), U = 1+E the rounded
 * sum the sigmoid divides by: E - (U - 1) is exactly the rounding error
 * of 1+E (E <= 1, so U - 1 is exact), and log(U) + that error is within
 * about 2 ulp of log1p(E) for every E in [0, 1] (the error's share of
 * log(1 + err/U) is err*E/U, at most half an ulp of log1p(E) >= E/(1+E)).
 * It is E itself where 1+E rounds to 1.  A libm's log is much cheaper
 * than its log1p (glibc: about 20 instructions fewer, and a shorter
 * latency), and the sum is the one the sigmoid needs anyway.  A C
 * compiler may not fold E - ((1+E) - 1) to 0 (that takes -ffast-math:
 * then it is log(1+E), which loses the tail of softplus(x) for x below
 * about -37, but still never overflows or makes a NaN).
 *
 * A softplus that a sum or difference alone reads is added into it term
 * by term, the log last: softplus(x) - c as ((max(x, 0) - c) + err) +
 * log(U).  bce_logits is softplus(z) - z*y, and for y = 1 and a large z
 * the first two cancel exactly (z - z) where log(U) + max(z, 0) - z*y
 * rounded log(U), about e^-z, away against z (at z = 40: 0 for 4e-18).
 * And the log, the slowest term (exp, then log), comes last with one add
 * after it rather than two.
 *
 * sigmoid's derivative s(x) (1 - s(x)) is s(x) s(-x) once 1 - s(x) is
 * rewritten, and the two numerators are 1 and E whatever the sign of x:
 * where nothing else reads s(-x) the product is E / (U U), one division
 * and no select (the GRU's reset gate in its backward sweep), within an
 * ulp of the two quotients' product. */
#include "dcc.h"

#include <stdlib.h>

/* How many nodes and roots read each node (the nodes below n). */
static void count_table(Built *b, SymList *syms, const int *table, int *uses) {
  for (int i = 0; i < syms->n; i++)
    for (int k = 0; k < value_count(b, syms->v[i]); k++)
      if (table[syms->v[i]->offset + k] >= 0)
        uses[table[syms->v[i]->offset + k]]++;
}

static int *count_uses(Built *b, int n) {
  Dag *d = b->dag;
  int *uses = xcalloc((size_t)n, sizeof *uses);
  for (int id = 0; id < n; id++)
    for (int i = 0; i < d->nodes[id].nops; i++)
      uses[d->nodes[id].a[i]]++;
  if (b->loss >= 0)
    uses[b->loss]++;
  count_table(b, &b->m->outputs, b->out_ids, uses);
  count_table(b, &b->m->params, b->param_grad, uses);
  count_table(b, &b->m->inputs, b->input_grad, uses);
  return uses;
}

/* E = exp(-|x|), which never overflows: one node for sigmoid(x),
 * sigmoid(-x) and softplus(+-x) alike, so they share one exp call. */
static int exp_neg_abs(Dag *d, int x) { return dag_un(d, OP_EXP, dag_un(d, OP_NEG, dag_un(d, OP_ABS, x))); }

/* softplus(x)'s terms: max(x, 0), log(U) and U's rounding error */
typedef struct {
  int max, err, log;
} Softplus;

static Softplus softplus_terms(Dag *d, int x, Shape shape) {
  Softplus s;
  int E = exp_neg_abs(d, x);
  int U = dag_bin(d, OP_ADD, dag_const(d, 1), E);
  /* dag_make, not dag_op: the rules would turn log(E + 1) into
   * log1p(E), (E + 1) - 1 into E and E - E into 0. */
  int U_1[2] = {U, dag_const(d, 1)};
  int err[2] = {E, dag_make(d, OP_SUB, U_1, 0, 0, shape)};
  s.err = dag_make(d, OP_SUB, err, 0, 0, shape);
  s.max = dag_op(d, OP_IFGT, x, dag_const(d, 0), x, dag_const(d, 0));
  s.log = dag_make(d, OP_LOG, &U, 0, 0, shape);
  return s;
}

void lower(Built *b) {
  Dag *d = b->dag;
  int n = d->n;
  int *map = xmalloc((size_t)n * sizeof *map);
  int *uses = count_uses(b, n);
  int saved_loc = d->loc;
  for (int id = 0; id < n; id++) {
    Node nd = d->nodes[id];
    int ops[4] = {0, 0, 0, 0};
    bool changed = false;
    for (int i = 0; i < nd.nops; i++) {
      ops[i] = map[nd.a[i]];
      changed |= ops[i] != nd.a[i];
    }
    d->loc = nd.loc;
    int x = ops[0];
    /* a + softplus(u), softplus(u) +- a, a - softplus(u): the softplus's
     * terms into the sum, the log last (see the top of the file) */
    int sp = -1;
    if (nd.op == OP_ADD || nd.op == OP_SUB)
      for (int i = 1; i >= 0 && sp < 0; i--)
        if (d->nodes[nd.a[i]].op == OP_SOFTPLUS && uses[nd.a[i]] == 1 &&
            shape_eq(d->nodes[nd.a[i]].shape, nd.shape)) /* not a scalar added to each element */
          sp = i;
    if (sp >= 0) {
      Softplus s = softplus_terms(d, map[d->nodes[nd.a[sp]].a[0]], d->nodes[nd.a[sp]].shape);
      Op op = (Op)nd.op, sign = sp == 1 ? op : OP_ADD; /* how the terms go in */
      int rest = sp == 0 ? dag_bin(d, op, s.max, ops[1]) : dag_bin(d, op, ops[0], s.max);
      map[id] = dag_bin(d, sign, dag_bin(d, sign, rest, s.err), s.log);
      continue;
    }
    /* sigmoid(u) sigmoid(-u), where the second is read by this product
     * alone (sigmoid's derivative, s (1 - s)): E / (U U), whatever u's sign
     * (the numerators are 1 and E): no select and no second division */
    int pair = -1;
    if (nd.op == OP_MUL)
      for (int i = 0; i < 2 && pair < 0; i++) {
        const Node *s = &d->nodes[nd.a[i]], *t = &d->nodes[nd.a[1 - i]];
        if (s->op == OP_SIGMOID && t->op == OP_SIGMOID && uses[nd.a[1 - i]] == 1 &&
            d->nodes[t->a[0]].op == OP_NEG && d->nodes[t->a[0]].a[0] == s->a[0] && shape_eq(s->shape, nd.shape))
          pair = map[s->a[0]];
      }
    if (pair >= 0) {
      int E = exp_neg_abs(d, pair);
      int U = dag_bin(d, OP_ADD, dag_const(d, 1), E);
      int q_ops[2] = {E, dag_bin(d, OP_MUL, U, U)};
      map[id] = dag_make(d, OP_DIV, q_ops, 0, 0, nd.shape);
      continue;
    }
    switch ((Op)nd.op) {
    case OP_SIGMOID: {
      int E = exp_neg_abs(d, x);
      /* One division of the chosen numerator, not 1/(1+E) and E times it:
       * one rounding fewer, and a multiplication fewer.  dag_make, not
       * dag_op: the rules would turn 1 / (1 + exp(u)) back into a sigmoid.
       * The numerator x >= 0 ? 1 : E as max(x >= 0 ? 1 : 0, E), the same
       * value (E <= 1; E, a NaN, where x is one): s > E ? s : E is one
       * maxsd on x86, and s a mask and-ed with 1, where the select blended
       * 1 and E with two instructions more.  A tensor's s, read twice, is
       * stored by its loop; still fewer instructions (callgrind, the
       * GRU's _loss_grad: 192,234 a call with the select, 190,534). */
      int step = dag_op(d, OP_IFGE, x, dag_const(d, 0), dag_const(d, 1), dag_const(d, 0));
      int num = dag_op(d, OP_IFGT, step, E, step, E);
      int q_ops[2] = {num, dag_bin(d, OP_ADD, dag_const(d, 1), E)};
      map[id] = dag_make(d, OP_DIV, q_ops, 0, 0, nd.shape);
      break;
    }
    case OP_SOFTPLUS: {
      Softplus s = softplus_terms(d, x, nd.shape);
      map[id] = dag_bin(d, OP_ADD, dag_bin(d, OP_ADD, s.max, s.err), s.log);
      break;
    }
    case OP_NOGRAD:
      map[id] = x;
      break;
    default:
      map[id] = changed ? dag_make_aux(d, (Op)nd.op, ops, nd.val, nd.index, nd.aux, nd.shape) : id;
      break;
    }
  }
  d->loc = saved_loc;
  built_remap(b, map);
  free(uses);
  free(map);
}
