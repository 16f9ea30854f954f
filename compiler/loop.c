/* loop.c — the regions of recurrences (fold, scan and their reverse
 * sweeps) in a DAG.
 *
 * A region is not a separate graph: its nodes are ordinary nodes, told
 * apart by what they depend on.  CARRY (the state at a step) and STEP
 * (that step's row of the sequence) start loop L's forward region, ADJ
 * (the adjoint of the state after a step) a reverse sweep's backward
 * region; a node is in the region of its operands, a backward region
 * winning over the forward one it reverses (the adjoint of a step reads
 * that step's forward values).  The anchors (FOLD, SCAN, BPTT) and what a
 * sweep makes (LOOPSUM, LOOPSTACK) close a region: they are outside, and
 * so is every node that depends on no CARRY, STEP or ADJ: what a body
 * reads that does not change from step to step (the params, the values
 * computed before the loop) is computed once, before it.
 *
 * Requires: a DAG whose loops were made by build.c and diff.c.
 * Guarantees: every node in at most one region; a backward region's nodes
 * have smaller ids than its BPTT.  A forward region's nodes may come after
 * its anchor: diff.c makes some that read only the step's values (the cos
 * of a sin's derivative); they are computed in the step, as the others. */
#include "dcc.h"

#include <stdio.h>
#include <stdlib.h>

bool op_is_loop(Op op) { return op_info[op].form == FORM_LOOP || op == OP_STEP; }

bool dag_has_loops(const Dag *d) {
  for (int id = 0; id < d->n; id++)
    if (d->nodes[id].op == OP_FOLD || d->nodes[id].op == OP_SCAN)
      return true;
  return false;
}

int loop_steps(const Dag *d, int anchor) {
  const Node *nd = &d->nodes[anchor];
  return nd->op == OP_BPTT ? loop_steps(d, nd->a[0]) : nd->aux;
}

Shape loop_state(const Dag *d, int anchor) {
  const Node *nd = &d->nodes[anchor];
  return nd->op == OP_SCAN ? shape_drop_first(nd->shape) : nd->shape;
}

Regions regions_find(const Dag *d) {
  Regions R = {d->nloops, xmalloc((size_t)d->n * sizeof(int) + 1), NULL, NULL, NULL, NULL};
  size_t bytes = (size_t)d->nloops * sizeof(int) + 1;
  R.anchor = xmalloc(bytes);
  R.fwd = xmalloc(bytes);
  R.leaf = xmalloc(bytes);
  R.step = xmalloc(bytes);
  for (int r = 0; r < R.n; r++)
    R.anchor[r] = R.fwd[r] = R.leaf[r] = R.step[r] = -1;
  for (int id = 0; id < d->n; id++) {
    const Node *nd = &d->nodes[id];
    int r = -1;
    switch ((Op)nd->op) {
    case OP_CARRY:
      r = nd->index;
      R.leaf[r] = id;
      break;
    case OP_STEP:
      r = nd->index;
      R.step[r] = id;
      break;
    case OP_ADJ:
      r = nd->index;
      R.leaf[r] = id;
      R.fwd[r] = nd->aux;
      break;
    case OP_FOLD:
    case OP_SCAN:
    case OP_BPTT:
      R.anchor[nd->index] = id;
      break;
    case OP_LOOPSUM:
    case OP_LOOPSTACK:
      break;
    default:
      for (int i = 0; i < nd->nops; i++) {
        int o = R.of[nd->a[i]];
        if (o < 0 || o == r)
          continue;
        if (r < 0 || R.fwd[o] == r)
          r = o; /* a backward region over the forward one it reverses */
        else if (R.fwd[r] != o) {
          fprintf(stderr, "dcc: internal error: node %d is in two loops (%d and %d)\n", id, r, o);
          abort();
        }
      }
      break;
    }
    R.of[id] = r;
  }
  return R;
}

void regions_free(Regions *r) {
  free(r->of);
  free(r->anchor);
  free(r->fwd);
  free(r->leaf);
  free(r->step);
}
