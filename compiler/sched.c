/* sched.c — what one emitted function computes, in what order, in which
 * temporaries.
 *
 * Requires: a lowered DAG (every op has a C spelling) and the function's
 * roots.  Guarantees: live[] marks the nodes the roots reach; order[] lists,
 * in id order (operands before users), the nodes that get a `const`
 * temporary: those used more than once, the costly ones (calls, selects),
 * the named ones, and any whose inlined expression would grow deeper than
 * INLINE_DEPTH; every other node is inlined into its single user.  With
 * o0 (-O0) nothing but the scalar inputs and params gets a name: each root
 * is printed as its whole expanded tree. */
#include "dcc.h"

#include <stdlib.h>
#include <string.h>

#define INLINE_DEPTH 4

Schedule *schedule_make(Built *b, Root *roots, int nroots, bool o0) {
  Dag *d = b->dag;
  int n = d->n;
  Schedule *s = xcalloc(1, sizeof *s);
  s->live = xcalloc((size_t)n, sizeof *s->live);
  s->name = xcalloc((size_t)n, sizeof *s->name);
  int *uses = xcalloc((size_t)n, sizeof *uses);
  int *depth = xcalloc((size_t)n, sizeof *depth);
  int *ids = xmalloc((size_t)nroots * sizeof *ids + 1);
  for (int r = 0; r < nroots; r++)
    ids[r] = roots[r].node;
  dag_reach(d, ids, nroots, s->live, uses);
  free(ids);
  VEC(int) order = {0};
  for (int id = 0; id < n; id++) {
    if (!s->live[id])
      continue;
    Node *nd = &d->nodes[id];
    s->uses_in |= nd->op == OP_INPUT;
    s->uses_p |= nd->op == OP_PARAM;
    OpKind k = op_info[nd->op].kind;
    if (k == KIND_LEAF) {
      depth[id] = 0;
      continue;
    }
    if (o0)
      continue;
    int dep = 0;
    for (int i = 0; i < nd->nops; i++)
      if (depth[nd->a[i]] > dep)
        dep = depth[nd->a[i]];
    dep++;
    bool named = id < b->names_cap && b->node_sym[id];
    bool temp = named || uses[id] > 1 || k == KIND_CALL || k == KIND_SELECT || dep > INLINE_DEPTH;
    depth[id] = temp ? 0 : dep;
    if (temp) {
      vec_push(&order, id);
      s->ntemps++;
    }
  }
  s->order = order.v;
  s->norder = order.n;
  free(uses);
  free(depth);
  return s;
}

void schedule_free(Schedule *s) {
  if (!s)
    return;
  free(s->live);
  free(s->name);
  free(s->order);
  free(s);
}
