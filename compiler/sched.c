/* sched.c — what one emitted function computes, in what order, in which
 * temporaries, loops and workspace.
 *
 * Requires: a lowered DAG (every op has a C spelling) and the function's
 * roots.  Guarantees: live[] marks the nodes the roots reach; order[] lists,
 * in id order (operands before users), the nodes that get a statement.
 * Scalars: a `const` temporary for those used more than once, the costly
 * ones (calls, selects), the named ones, those read inside a loop, any
 * whose inlined expression would grow deeper than INLINE_DEPTH, and the
 * loss _loss_grad returns where it adds a call's value (softplus's
 * log(1 + E)): computed right after the call, not after the gradient's
 * stores (the five-point net's _loss_grad runs 2% faster so; elsewhere,
 * a 4-8-8-1 MLP's squared error, it costs a spill); every other node is
 * inlined into its single user.  Tensors (with loops): a matrix
 * product, an outer product or a scatter is stored, and so is an
 * elementwise node read more than once or by anything but an elementwise
 * op, a sum or a max; any other elementwise node is fused into its one
 * reader's loop; leaves, fills, rows and transposes are ways of reading
 * another tensor, never stored; a matrix-vector product M v (not Mᵀ v) read once by a
 * stored elementwise loop without calls is summed inside that loop
 * (fused_product[]), never stored either.  A stored tensor that is a root's value is
 * stored at the root's destination (grad + offset), the others get
 * ws_off[] in a workspace of ws_size reals, reused between tensors whose
 * lives do not overlap.  With o0 (-O0) nothing but the scalar inputs and
 * params gets a name: each root is printed as its whole expanded tree
 * (_sgd_step's as a temporary, before the updates).
 *
 * _sgd_step (roots with a param to update): every read of the params must
 * come before the first update.  So every statement keeps its place, the
 * loss and the scalar gradients become temporaries, and the updates come
 * last: a tensor gradient read by nothing else and whose own loop reads no
 * param is deferred[] and becomes the update loop itself (no gradient is
 * stored: dW = dh x^T goes straight into W); any other is stored in the
 * workspace first. */
#include "dcc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INLINE_DEPTH 4
#define FUSE_DEPTH 6     /* loops: elementwise ops fused into one loop body */

/* The per-node arrays every schedule borrows ("the pool", below). */
typedef struct SchedPool {
  const Dag *d;
  int n;
  bool busy;       /* a schedule holds the arrays */
  Regions R;       /* the DAG's alone: found once */
  Sym **leaf_sym;  /* the scalar inputs' and params' leaves */
  int *local_key;  /* and where they come in declaration order */
  int *stack;      /* live_nodes' work list */
  /* the schedule's tables */
  bool *live, *deferred;
  char **name;
  long *ws_off, *slot;
  int *root_of, *in_place, *epilogue, *sum_into, *fused_product;
  /* schedule_make's own */
  int *uses, *depth, *reader, *last_use, *mark;
  bool *in_loop, *fusable, *update_root, *stmt, *in_region, *saved;
} SchedPool;

/* A tensor node that is only a way of reading another: rendered inside
 * its users' loops, never stored. */
static bool is_view(Dag *d, int id) {
  Op op = (Op)d->nodes[id].op;
  return op == OP_INPUT || op == OP_PARAM || op_info[op].form == FORM_VIEW;
}

/* Whether reading id where it is used reads the params (p[]): a param, or
 * a view or an element (INDEX, inlined when used once) of one. */
static bool view_of_param(Dag *d, int id) {
  for (;;) {
    Node *nd = &d->nodes[id];
    if (nd->op == OP_PARAM)
      return true;
    if ((!is_view(d, id) && op_info[nd->op].form != FORM_ELEMENT) || nd->op == OP_INPUT || !nd->nops)
      return false;
    id = nd->a[0];
  }
}

/* Whether node id reads nothing but constants and the param leaf own
 * (inputs too): an update loop of own may read it at the element it
 * writes, before writing it. */
static bool reads_only(Dag *d, int id, int own, int depth) {
  const Node *nd = &d->nodes[id];
  if (nd->op == OP_CONST || nd->op == OP_INPUT || id == own)
    return true;
  if (!depth || !op_is_elementwise((Op)nd->op) || nd->op == OP_PARAM)
    return false;
  for (int i = 0; i < nd->nops; i++)
    if (!reads_only(d, nd->a[i], own, depth - 1))
      return false;
  return true;
}

/* _sgd_step: a param's elementwise gradient g made of an outer product
 * and terms of the param itself (dW = 2 lambda W + dh x^T, an L2
 * penalty's) is deferred, and the outer product's loop computes it and
 * makes the update, W -= lr * (2 lambda W + acc x[j]): no gradient of W's
 * size is stored. */
static void outer_epilogue(Built *b, Schedule *s, int g, const char *param, const int *uses) {
  Dag *d = b->dag;
  const Node *nd = &d->nodes[g];
  Sym *sym = model_lookup(b->m, param);
  int own = sym ? leaf_nodes(b, sym)[0] : -1, outer = -1;
  for (int i = 0; i < nd->nops; i++) {
    int a = nd->a[i];
    const Node *an = &d->nodes[a];
    if (an->op == OP_OUTER && outer < 0 && uses[a] == 1 && shape_eq(an->shape, nd->shape) &&
        !view_of_param(d, an->a[0]) && !view_of_param(d, an->a[1]))
      outer = a;
    else if (own < 0 || !reads_only(d, a, own, 4))
      return;
  }
  if (outer < 0)
    return;
  s->deferred[g] = true;
  s->epilogue[outer] = g;
}

/* Whether a scalar node reads a call's value (log(1 + E) in softplus). */
static bool reads_call(Dag *d, int id) {
  for (int i = 0; i < d->nodes[id].nops; i++)
    if (op_info[d->nodes[d->nodes[id].a[i]].op].kind == KIND_CALL)
      return true;
  return false;
}

/* Something to place in a function's workspace: size reals, alive from
 * position start to end (node ids: a statement's position is its node's). */
typedef struct {
  int start, end;
  long size;
  long *off; /* where its offset goes */
  int seq;   /* the order items were listed in, among those of one start */
} Item;
typedef VEC(Item) Items;

static void add_item(Items *v, int start, int end, long size, long *off) {
  vec_push(v, ((Item){start, end, size, off, v->n}));
}

static int item_cmp(const void *a, const void *b) {
  const Item *x = a, *y = b;
  return x->start != y->start ? (x->start > y->start) - (x->start < y->start) : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Place items in a workspace, first fit in the order of their starts, so
 * that items whose lives do not overlap share storage; returns its size
 * (past DCC_MAX_WORKSPACE, main.c reports it: placing stops). */
static long place(Item *items, int n) {
  if (n == 0)
    return 0;
  qsort(items, (size_t)n, sizeof *items, item_cmp);
  long size = 0;
  VEC(int) alive = {0}; /* the items placed and not yet dead, by offset */
  for (int i = 0; i < n; i++) {
    Item *it = &items[i];
    /* the items placed so far that end before this one starts are dead
     * for every item after it too (they come in the order of their
     * starts): drop them, so that a long program's placement stays near
     * linear in its size */
    int kept = 0;
    for (int j = 0; j < alive.n; j++)
      if (items[alive.v[j]].end >= it->start)
        alive.v[kept++] = alive.v[j];
    alive.n = kept;
    /* the lowest offset that fits between the items still alive: one
     * sweep in the order of their offsets, past each that overlaps */
    long off = 0;
    int at = 0; /* where it goes in alive */
    for (; at < alive.n; at++) {
      Item *o = &items[alive.v[at]];
      if (*o->off >= off + it->size)
        break;
      if (*o->off + o->size > off)
        off = *o->off + o->size;
    }
    if (off + it->size > DCC_MAX_WORKSPACE) {
      size = off + it->size;
      break;
    }
    *it->off = off;
    if (off + it->size > size)
      size = off + it->size;
    vec_push(&alive, i); /* then moved to its place in the order */
    for (int j = alive.n - 1; j > 0 && *items[alive.v[j - 1]].off > off; j--) {
      int t = alive.v[j];
      alive.v[j] = alive.v[j - 1];
      alive.v[j - 1] = t;
    }
  }
  free(alive.v);
  return size;
}

/* Whether the loop body of stored tensor id calls a function (or selects):
 * its own op or one fused into it.  A product's row sum is not computed in
 * such a loop: a call clobbers the vector registers the sum lives in (make
 * bench: the digits MLP's tanh(W1 @ x + b1) fused took 11% more
 * instructions than storing W1 @ x and reading it back). */
static bool calls_in_loop(Dag *d, const bool *stmt, int id) {
  Node *nd = &d->nodes[id];
  OpKind k = op_info[nd->op].kind;
  if (k == KIND_CALL || k == KIND_SELECT)
    return true;
  if (!op_is_elementwise((Op)nd->op))
    return false;
  for (int i = 0; i < nd->nops; i++)
    if (!stmt[nd->a[i]] && calls_in_loop(d, stmt, nd->a[i]))
      return true;
  return false;
}

/* ---- recurrence: each region's statements, what its loop keeps, where
 * it all lives ------------------------------------------------------------- */

/* The position where region r's loop ends: its anchor's; for a forward
 * region, the last live sweep that runs its steps again. */
static int region_end(const Schedule *s, int r) {
  int end = s->R.anchor[r];
  if (s->R.fwd[r] < 0)
    for (int k = 0; k < s->R.n; k++)
      if (s->R.fwd[k] == r && s->rp[k].live && s->R.anchor[k] > end)
        end = s->R.anchor[k];
  return end;
}

/* What rendering node id inside region r's loop reads: the state (CARRY),
 * and, r being a sweep, the statements of the forward region it reverses,
 * which become saved values (kept per step, read back by the sweep).
 * Statements of r itself and nodes outside every region are read by
 * name. */
static void render_walk(Dag *d, Schedule *s, const bool *stmt, int r, int id, int *mark, bool *saved) {
  int o = s->R.of[id];
  if (o < 0 || mark[id] == r + 1)
    return;
  mark[id] = r + 1;
  if (d->nodes[id].op == OP_CARRY) {
    s->rp[r].reads_carry = true;
    return;
  }
  if (stmt[id]) {
    if (o != r) { /* a forward statement read by a sweep */
      saved[id] = true;
      vec_push(&s->rp[r].loads, id);
    }
    return;
  }
  for (int i = 0; i < d->nodes[id].nops; i++)
    render_walk(d, s, stmt, r, d->nodes[id].a[i], mark, saved);
}

static int id_cmp(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Each region's statements out of order[] into its plan; the saved
 * values and the record they are kept in. */
static void plan_regions(Dag *d, Schedule *s, const bool *stmt) {
  int nr = s->R.n;
  s->rp = xcalloc((size_t)nr + 1, sizeof *s->rp);
  if (!nr)
    return;
  for (int r = 0; r < nr; r++)
    s->rp[r].live = s->R.anchor[r] >= 0 && s->live[s->R.anchor[r]];
  int kept = 0;
  for (int i = 0; i < s->norder; i++) {
    int id = s->order[i], r = s->R.of[id];
    if (r < 0)
      s->order[kept++] = id;
    else
      vec_push(&s->rp[r].order, id);
  }
  s->norder = kept;
  int *mark = s->pool->mark;
  bool *saved = s->pool->saved;
  for (int r = 0; r < nr; r++) {
    RegionPlan *p = &s->rp[r];
    if (!p->live)
      continue;
    const Node *an = &d->nodes[s->R.anchor[r]];
    for (int i = 0; i < p->order.n; i++) {
      const Node *x = &d->nodes[p->order.v[i]];
      for (int j = 0; j < x->nops; j++)
        render_walk(d, s, stmt, r, x->a[j], mark, saved);
      if (s->fused_product[p->order.v[i]] >= 0) {
        const Node *pr = &d->nodes[s->fused_product[p->order.v[i]]];
        for (int j = 0; j < pr->nops; j++)
          render_walk(d, s, stmt, r, pr->a[j], mark, saved);
      }
    }
    if (an->op == OP_BPTT) { /* what the sweep's anchor renders at each step */
      render_walk(d, s, stmt, r, an->a[2], mark, saved);
      for (int k = schedule_live_after(s, s->R.anchor[r]); k < s->nids; k++) {
        const Node *x = &d->nodes[s->ids[k]];
        if ((x->op == OP_LOOPSUM || x->op == OP_LOOPSTACK) && x->a[0] == s->R.anchor[r])
          render_walk(d, s, stmt, r, x->a[1], mark, saved);
      }
      if (p->loads.n)
        qsort(p->loads.v, (size_t)p->loads.n, sizeof *p->loads.v, id_cmp);
    } else {
      render_walk(d, s, stmt, r, an->a[1], mark, saved);
      p->body_in_next = stmt[an->a[1]] && d->nodes[an->a[1]].shape.rank;
    }
  }
  /* a forward region read back by a live sweep keeps its steps: the body
   * in the states, every other saved value in a record per step */
  for (int r = 0; r < nr; r++) {
    RegionPlan *p = &s->rp[r];
    if (!p->live || s->R.fwd[r] >= 0)
      continue;
    for (int k = 0; k < nr; k++)
      p->taped |= s->R.fwd[k] == r && s->rp[k].live;
    int body = d->nodes[s->R.anchor[r]].a[1];
    for (int i = 0; p->taped && i < p->order.n; i++) {
      int id = p->order.v[i];
      if (saved[id] && id != body) {
        s->slot[id] = p->stride;
        p->stride += shape_size(d->nodes[id].shape);
      }
    }
  }
}

/* Where everything that a function stores lives: its stored tensors,
 * each from its statement to its last reader; a loop's per-step storage
 * (its region's tensors, placed among themselves, and the states) at its
 * anchor; a taped loop's states and records from its anchor to the end
 * of its last sweep; a sweep's sums and stacks from the sweep on. */
static void place_all(Dag *d, Schedule *s, const int *last_use) {
  Items items = {0};
  for (int i = 0; i < s->norder; i++) {
    int id = s->order[i];
    if (d->nodes[id].shape.rank && s->root_of[id] < 0 && s->in_place[id] < 0) {
      int start = id; /* from the statement of what is written in its storage first */
      for (int k = 0; k < d->nodes[id].nops; k++)
        if (s->in_place[d->nodes[id].a[k]] == id)
          start = d->nodes[id].a[k];
      add_item(&items, start, last_use[id], shape_size(d->nodes[id].shape), &s->ws_off[id]);
    }
  }
  for (int k = 0; k < s->nids; k++) {
    int id = s->ids[k];
    const Node *x = &d->nodes[id];
    if ((x->op == OP_LOOPSUM || x->op == OP_LOOPSTACK) && x->shape.rank && s->root_of[id] < 0)
      add_item(&items, x->a[0], last_use[id], shape_size(x->shape), &s->ws_off[id]);
  }
  long *local = xcalloc((size_t)s->R.n + 1, sizeof *local); /* per region: its scratch's size */
  for (int r = 0; r < s->R.n; r++) {
    RegionPlan *p = &s->rp[r];
    if (!p->live)
      continue;
    int anchor = s->R.anchor[r], body = d->nodes[anchor].a[1];
    /* positions within a step are the region's ids (those diff.c made
     * after the anchor too): a value lives to its last reader in the
     * region, the body to the step's end, where it becomes the state */
    int last = 0;
    for (int i = 0; i < p->order.n; i++)
      last = p->order.v[i] > last ? p->order.v[i] : last;
    Items mine = {0};
    for (int i = 0; i < p->order.n; i++) {
      int id = p->order.v[i], end = id == body || last_use[id] > last ? last : last_use[id];
      if (d->nodes[id].shape.rank && s->slot[id] < 0 && !(p->body_in_next && id == body) && !(id == body && p->taped) &&
          s->sum_into[id] < 0)
        add_item(&mine, id, end > id ? end : id, shape_size(d->nodes[id].shape), &s->ws_off[id]);
    }
    local[r] = place(mine.v, mine.n);
    free(mine.v);
    if (s->R.fwd[r] < 0) {
      long k = shape_size(loop_state(d, anchor)), n = loop_steps(d, anchor);
      bool scan = d->nodes[anchor].op == OP_SCAN;
      if (p->taped) /* states (a scan's initial one) then records, to the last sweep */
        add_item(&items, anchor, region_end(s, r), (scan ? k : (n + 1) * k) + n * p->stride, &p->states);
      else { /* the states after the scratch */
        p->states = local[r];
        local[r] += scan ? k : 2 * k;
      }
    }
    add_item(&items, anchor, anchor, local[r], &p->scratch);
  }
  s->ws_size = place(items.v, items.n);
  for (int r = 0; r < s->R.n; r++) { /* region offsets were relative to the scratch */
    RegionPlan *p = &s->rp[r];
    if (!p->live)
      continue;
    for (int i = 0; i < p->order.n; i++)
      if (s->ws_off[p->order.v[i]] >= 0)
        s->ws_off[p->order.v[i]] += p->scratch;
    if (p->taped) {
      bool scan = d->nodes[s->R.anchor[r]].op == OP_SCAN;
      long k = shape_size(loop_state(d, s->R.anchor[r])), n = loop_steps(d, s->R.anchor[r]);
      p->tape = p->states + (scan ? k : (n + 1) * k);
    } else if (s->R.fwd[r] < 0) {
      p->states += p->scratch;
    }
  }
  free(local);
  free(items.v);
}

/* ---- the pool of per-node arrays ------------------------------------------
 *
 * A schedule's tables are indexed by node id, but a function reaches only
 * part of the DAG: a model of 100,000 scalar params has 100,000 _grad_
 * functions of a few nodes each.  Allocating and clearing arrays the size
 * of the DAG for each of them made dcc's time quadratic in the model's
 * size (issue 15).  So the arrays are made once per Built, handed to one
 * schedule at a time, and each schedule walks its live nodes (ids[]) only;
 * schedule_free puts back the defaults at those nodes, the only ones a
 * schedule writes (a function's nodes are what its roots reach: every
 * table entry is a live node's).  Building with DCC_CHECK_POOL (the
 * sanitizer build) checks that claim on every reuse. */

/* The defaults of node id's entries: what a schedule finds. */
static void pool_reset(SchedPool *P, int id) {
  P->live[id] = P->deferred[id] = false;
  P->name[id] = NULL;
  P->ws_off[id] = P->slot[id] = -1;
  P->root_of[id] = P->in_place[id] = P->epilogue[id] = P->sum_into[id] = P->fused_product[id] = -1;
  P->uses[id] = P->depth[id] = P->last_use[id] = P->mark[id] = 0;
  P->reader[id] = -1;
  P->in_loop[id] = P->update_root[id] = P->stmt[id] = P->in_region[id] = P->saved[id] = false;
  P->fusable[id] = true;
}

#ifdef DCC_CHECK_POOL
static void pool_check(const SchedPool *P) {
  for (int id = 0; id < P->n; id++)
    if (P->live[id] || P->deferred[id] || P->name[id] || P->ws_off[id] != -1 || P->slot[id] != -1 ||
        P->root_of[id] != -1 || P->in_place[id] != -1 || P->epilogue[id] != -1 || P->sum_into[id] != -1 ||
        P->fused_product[id] != -1 || P->uses[id] || P->depth[id] || P->last_use[id] || P->mark[id] ||
        P->reader[id] != -1 || P->in_loop[id] || P->update_root[id] || P->stmt[id] || P->in_region[id] ||
        P->saved[id] || !P->fusable[id]) {
      fprintf(stderr, "dcc: internal error: node %d's schedule entries outlived their function\n", id);
      abort();
    }
}
#endif

static void pool_free(SchedPool *P) {
  regions_free(&P->R);
  void *arrays[] = {P->leaf_sym, P->local_key, P->stack, P->live, P->deferred, P->name, P->ws_off, P->slot,
                    P->root_of, P->in_place, P->epilogue, P->sum_into, P->fused_product, P->uses, P->depth,
                    P->reader, P->last_use, P->mark, P->in_loop, P->fusable, P->update_root, P->stmt,
                    P->in_region, P->saved};
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
    free(arrays[i]);
  free(P);
}

static SchedPool *pool_make(Built *b) {
  Dag *d = b->dag;
  int n = d->n;
  size_t k = (size_t)n + 1;
  SchedPool *P = xcalloc(1, sizeof *P);
  P->d = d;
  P->n = n;
  P->R = regions_find(d);
  P->leaf_sym = xcalloc(k, sizeof *P->leaf_sym);
  P->local_key = xmalloc(k * sizeof *P->local_key);
  P->stack = xmalloc(k * sizeof *P->stack);
  P->live = xmalloc(k * sizeof *P->live);
  P->deferred = xmalloc(k * sizeof *P->deferred);
  P->name = xmalloc(k * sizeof *P->name);
  P->ws_off = xmalloc(k * sizeof *P->ws_off);
  P->slot = xmalloc(k * sizeof *P->slot);
  P->root_of = xmalloc(k * sizeof *P->root_of);
  P->in_place = xmalloc(k * sizeof *P->in_place);
  P->epilogue = xmalloc(k * sizeof *P->epilogue);
  P->sum_into = xmalloc(k * sizeof *P->sum_into);
  P->fused_product = xmalloc(k * sizeof *P->fused_product);
  P->uses = xmalloc(k * sizeof *P->uses);
  P->depth = xmalloc(k * sizeof *P->depth);
  P->reader = xmalloc(k * sizeof *P->reader);
  P->last_use = xmalloc(k * sizeof *P->last_use);
  P->mark = xmalloc(k * sizeof *P->mark);
  P->in_loop = xmalloc(k * sizeof *P->in_loop);
  P->fusable = xmalloc(k * sizeof *P->fusable);
  P->update_root = xmalloc(k * sizeof *P->update_root);
  P->stmt = xmalloc(k * sizeof *P->stmt);
  P->in_region = xmalloc(k * sizeof *P->in_region);
  P->saved = xmalloc(k * sizeof *P->saved);
  for (int id = 0; id < n; id++) {
    pool_reset(P, id);
    P->local_key[id] = -1;
  }
  /* A scalar input or param of its own gets a local at the top of each
   * function that reads it: inputs first, then params, each in the order
   * they were declared. */
  int key = 0;
  for (int pass = 0; pass < 2; pass++) {
    SymList *list = pass ? &b->m->params : &b->m->inputs;
    for (int i = 0; i < list->n; i++, key++) {
      Sym *sym = list->v[i];
      int id = leaf_nodes(b, sym)[0];
      if (sym->shape.rank == 0 && id >= 0 && id < n) {
        P->leaf_sym[id] = sym;
        P->local_key[id] = key;
      }
    }
  }
  return P;
}

/* The nodes the roots reach, in id order, into s->ids; live[] and uses[]
 * (how many readers each has: one per operand of each live node, and one
 * per root) filled in at those nodes only. */
static void live_nodes(Dag *d, Schedule *s, SchedPool *P, const Root *roots, int nroots) {
  IntVec v = {0};
  int top = 0;
  for (int r = 0; r < nroots; r++) {
    int id = roots[r].node;
    P->uses[id]++;
    if (!P->live[id]) {
      P->live[id] = true;
      P->stack[top++] = id;
    }
  }
  while (top) {
    int id = P->stack[--top];
    vec_push(&v, id);
    for (int i = 0; i < d->nodes[id].nops; i++) {
      int a = d->nodes[id].a[i];
      P->uses[a]++;
      if (!P->live[a]) {
        P->live[a] = true;
        P->stack[top++] = a;
      }
    }
  }
  if (v.n > 1)
    qsort(v.v, (size_t)v.n, sizeof *v.v, id_cmp);
  s->ids = v.v;
  s->nids = v.n;
}

/* The scalar leaves of the function read into locals, in declaration
 * order (by their keys). */
static void local_leaves(Schedule *s, const SchedPool *P) {
  for (int k = 0; k < s->nids; k++)
    if (P->leaf_sym[s->ids[k]])
      vec_push(&s->locals, s->ids[k]);
  /* insertion sort by key: a function reads few scalar leaves, and they
   * mostly come in order already */
  for (int i = 1; i < s->locals.n; i++) {
    int x = s->locals.v[i], j = i;
    for (; j > 0 && P->local_key[s->locals.v[j - 1]] > P->local_key[x]; j--)
      s->locals.v[j] = s->locals.v[j - 1];
    s->locals.v[j] = x;
  }
}

int schedule_live_after(const Schedule *s, int id) {
  int lo = 0, hi = s->nids; /* the first k with ids[k] > id */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (s->ids[mid] > id)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

Schedule *schedule_make(Built *b, Root *roots, int nroots, bool o0) {
  Dag *d = b->dag;
  int n = d->n;
  SchedPool *P = b->sched_pool;
  if (P && P->busy) {
    fprintf(stderr, "dcc: internal error: a second schedule while one is planned\n");
    abort();
  }
  if (P && (P->d != d || P->n != n)) { /* a DAG that grew since */
    pool_free(P);
    P = NULL;
  }
  if (!P)
    P = b->sched_pool = pool_make(b);
#ifdef DCC_CHECK_POOL
  pool_check(P);
#endif
  P->busy = true;
  Schedule *s = xcalloc(1, sizeof *s);
  s->pool = P;
  s->R = P->R;
  s->leaf_sym = P->leaf_sym;
  s->live = P->live;
  s->name = P->name;
  s->ws_off = P->ws_off;
  s->slot = P->slot;
  s->root_of = P->root_of;
  s->in_place = P->in_place;
  s->epilogue = P->epilogue;
  s->sum_into = P->sum_into;
  s->deferred = P->deferred;
  s->fused_product = P->fused_product;
  int *uses = P->uses, *depth = P->depth;
  bool *in_loop = P->in_loop;         /* read inside a loop body */
  bool *fusable = P->fusable;         /* every reader takes it element by element */
  bool *update_root = P->update_root; /* the value of a param update */
  bool sgd = false;
  int returned = -1; /* the scalar a function with other roots returns */
  for (int r = 0; r < nroots; r++) {
    if (!roots[r].dst && !roots[r].param && nroots > 1)
      returned = roots[r].node;
    if (roots[r].param) {
      update_root[roots[r].node] = sgd = true;
      continue; /* placed below */
    }
    if (roots[r].dst && d->nodes[roots[r].node].shape.rank) {
      fusable[roots[r].node] = false;
      if (s->root_of[roots[r].node] < 0 && !is_view(d, roots[r].node))
        s->root_of[roots[r].node] = r;
    }
  }
  live_nodes(d, s, P, roots, nroots);
  local_leaves(s, P);
  const int *region = s->R.of;
  bool *in_region = P->in_region; /* read by a node of a region it is not in */
  for (int k = 0; k < s->nids; k++) {
    int id = s->ids[k];
    Node *nd = &d->nodes[id];
    bool reduce = op_info[nd->op].form == FORM_REDUCE, element = op_info[nd->op].form == FORM_ELEMENT;
    bool loop = nd->shape.rank || reduce;
    for (int i = 0; i < nd->nops; i++) {
      int a = nd->a[i];
      in_loop[a] |= loop && !element;
      in_region[a] |= region[id] >= 0 && region[a] < 0;
      if (!(op_is_elementwise((Op)nd->op) && nd->shape.rank) && !reduce)
        fusable[a] = false;
    }
  }
  /* _sgd_step: a gradient read by nothing else is deferred (its loop
   * becomes the update) when that loop reads no param: its operands are
   * stored, inputs, or views of them; and when its emitter can make the
   * update (emit_updates_in_place: not a convolution's kernel adjoint,
   * which accumulates).  An elementwise gradient, whose loop would fuse
   * operands in, is stored instead. */
  if (sgd)
    for (int r = 0; r < nroots; r++) {
      int g = roots[r].node;
      if (roots[r].param && b->loops && !o0 && d->nodes[g].shape.rank && uses[g] == 1 && !is_view(d, g) &&
          op_is_elementwise((Op)d->nodes[g].op)) {
        outer_epilogue(b, s, g, roots[r].param, uses);
        continue;
      }
      if (!roots[r].param || !d->nodes[g].shape.rank || uses[g] != 1 || is_view(d, g) ||
          op_is_elementwise((Op)d->nodes[g].op) || !emit_updates_in_place((Op)d->nodes[g].op))
        continue;
      /* an operand is read in g's loop when it is a leaf or a view of one:
       * a stored operand was computed before the updates */
      bool direct = false;
      for (int i = 0; i < d->nodes[g].nops; i++)
        direct |= view_of_param(d, d->nodes[g].a[i]);
      s->deferred[g] = !direct;
    }
  VEC(int) order = {0};
  bool *stmt = P->stmt;
  for (int k = 0; k < s->nids; k++) {
    int id = s->ids[k];
    Node *nd = &d->nodes[id];
    s->uses_in |= nd->op == OP_INPUT;
    s->uses_p |= nd->op == OP_PARAM;
    OpKind k = op_info[nd->op].kind;
    if (sgd && update_root[id] && view_of_param(d, id) && (nd->shape.rank ? is_view(d, id) : k == KIND_LEAF) &&
        !s->leaf_sym[id]) {
      vec_push(&order, id); /* a param's gradient that is another param: copied before the updates */
      stmt[id] = true;
      continue;
    }
    if (k == KIND_LEAF || (nd->shape.rank && is_view(d, id)) || nd->op == OP_STEP || s->epilogue[id] >= 0) {
      depth[id] = 0;
      continue;
    }
    if (op_is_loop((Op)nd->op)) { /* the anchors' statements; the rest is theirs */
      depth[id] = 0;
      if (nd->op == OP_FOLD || nd->op == OP_SCAN || nd->op == OP_BPTT) {
        vec_push(&order, id);
        stmt[id] = true;
        s->ntemps += !nd->shape.rank;
      } else if (nd->op == OP_LOOPSUM) {
        s->ntemps += !nd->shape.rank;
      }
      continue;
    }
    if (o0) { /* whole trees; but _sgd_step's roots before any update, as below */
      if (sgd && !nd->shape.rank && (update_root[id] || roots[0].node == id)) {
        vec_push(&order, id);
        stmt[id] = true;
        s->ntemps++;
      }
      continue;
    }
    int dep = 0;
    for (int i = 0; i < nd->nops; i++)
      if (depth[nd->a[i]] > dep)
        dep = depth[nd->a[i]];
    dep++;
    bool named = id < b->names_cap && b->node_sym[id];
    bool temp;
    if (s->deferred[id]) /* the update loop of _sgd_step, at the end */
      temp = false;
    else if (nd->shape.rank) /* a tensor: stored, or fused into its one reader's loop */
      temp = !op_is_elementwise((Op)nd->op) || uses[id] > 1 || !fusable[id] || dep > FUSE_DEPTH || update_root[id];
    else if (op_info[nd->op].form == FORM_ELEMENT) /* an element of a stored tensor or a view */
      temp = named || uses[id] > 1;
    else
      temp = named || uses[id] > 1 || k == KIND_CALL || k == KIND_SELECT || k == KIND_TENSOR ||
             dep > INLINE_DEPTH || in_loop[id];
    if (sgd && !nd->shape.rank && (update_root[id] || roots[0].node == id))
      temp = true; /* the loss and the scalar gradients: before any update */
    if (id == returned && !nd->shape.rank && reads_call(d, id))
      temp = true; /* _loss_grad's loss: where its operands are, not after the stores */
    if (in_region[id])
      temp = true; /* read in a loop: computed once, before it */
    if (op_info[nd->op].form == FORM_ELEMENT && !temp)
      dep = 0;
    depth[id] = temp ? 0 : dep;
    if (temp) {
      vec_push(&order, id);
      stmt[id] = true;
      s->ntemps += !nd->shape.rank;
    }
  }
  /* A matrix-vector product read once, through elementwise ops fused into
   * a stored elementwise tensor of its shape (h = tanh(W @ x + b)), is not
   * stored either: its row sums are computed in that tensor's loop, which
   * writes h[i] = tanh(b[i] + acc) (no store and reload of W @ x). */
  int *reader = P->reader;
  if (b->loops && !o0) {
    for (int k = 0; k < s->nids; k++)
      for (int i = 0; i < d->nodes[s->ids[k]].nops; i++)
        reader[d->nodes[s->ids[k]].a[i]] = s->ids[k];
    for (int k = 0; k < s->nids; k++) {
      int id = s->ids[k];
      Node *nd = &d->nodes[id];
      if (nd->op != OP_MATMUL || nd->shape.rank != 1 || uses[id] != 1 || s->root_of[id] >= 0 ||
          s->deferred[id] || update_root[id] || d->nodes[nd->a[0]].op == OP_TRANSPOSE)
        continue; /* (Mᵀ v fused, the digits MLP took 4% more instructions: make bench) */
      int r = reader[id];
      while (r >= 0 && !stmt[r] && op_is_elementwise((Op)d->nodes[r].op) && d->nodes[r].shape.rank)
        r = reader[r];
      if (r < 0 || !stmt[r] || !op_is_elementwise((Op)d->nodes[r].op) || d->nodes[r].shape.rank != 1 ||
          region[r] != region[id] ||
          s->fused_product[r] >= 0 || s->deferred[r] || update_root[r] || calls_in_loop(d, stmt, r))
        continue;
      s->fused_product[r] = id;
      stmt[id] = false;
    }
    int kept = 0;
    for (int i = 0; i < order.n; i++)
      if (stmt[order.v[i]])
        order.v[kept++] = order.v[i];
    order.n = kept;
  }
  /* An elementwise statement written in a root's destination that reads
   * a stored tensor of its own shape, read by nothing else (dW = 2 lambda
   * W + dh x^T: the outer product), reads it in place from there: its
   * loop writes element i after reading element i only, and the
   * workspace holds no second tensor of the weights' size.  (In the
   * workspace itself the first fit packs better without it.)  Only an
   * outer product: a matrix product written into grad[] (W2^T dz, in
   * d_b1's place) made clang reload the product's other operand, read
   * from grad[] too (d_b2), at every row, since both come from one
   * restrict pointer (make bench: the 64-32-10 MLP's _loss_grad went
   * from 12,540 to 13,047 instructions). */
  for (int i = 0; b->loops && i < order.n; i++) {
    int id = order.v[i];
    const Node *nd = &d->nodes[id];
    if (!stmt[id] || !op_is_elementwise((Op)nd->op) || !nd->shape.rank || s->fused_product[id] >= 0 ||
        region[id] >= 0 || s->deferred[id] || s->root_of[id] < 0)
      continue;
    for (int k = 0; k < nd->nops; k++) {
      int a = nd->a[k];
      if (stmt[a] && uses[a] == 1 && s->root_of[a] < 0 && s->in_place[a] < 0 && region[a] < 0 &&
          d->nodes[a].op == OP_OUTER && shape_eq(d->nodes[a].shape, nd->shape)) {
        s->in_place[a] = id;
        break;
      }
    }
  }
  s->order = order.v;
  s->norder = order.n;
  plan_regions(d, s, stmt);
  /* A sweep's outer product read only by its sum over the steps (dW +=
   * dh x^T at every step) adds itself into the sum: no scratch tensor of
   * W's size, no second loop (a GRU's sweep: 9% fewer instructions). */
  for (int k = 0; s->R.n && k < s->nids; k++) {
    int id = s->ids[k];
    const Node *nd = &d->nodes[id];
    int c = nd->nops > 1 ? nd->a[1] : -1;
    if (nd->op == OP_LOOPSUM && c >= 0 && stmt[c] && d->nodes[c].op == OP_OUTER && uses[c] == 1 &&
        region[c] == d->nodes[nd->a[0]].index && shape_eq(d->nodes[c].shape, nd->shape))
      s->sum_into[c] = id;
  }
  /* The last statement that reads each node, through the nodes rendered
   * inside their readers; the roots' nodes live to the end; what a region
   * reads from outside it, to the end of its loop. */
  int *last_use = P->last_use;
  for (int r = 0; r < nroots; r++)
    last_use[roots[r].node] = n;
  for (int k = s->nids - 1; k >= 0; k--) {
    int id = s->ids[k];
    int at = s->deferred[id] ? n : stmt[id] ? id : last_use[id];
    if (region[id] >= 0 && at < region_end(s, region[id]))
      at = region_end(s, region[id]);
    for (int i = 0; i < d->nodes[id].nops; i++) {
      int a = d->nodes[id].a[i], a_at = region[a] == region[id] ? (stmt[id] ? id : last_use[id]) : at;
      if (region[a] >= 0 && region[a] != region[id] && region[id] >= 0)
        a_at = region_end(s, region[id]); /* a forward value read by a sweep: kept per step */
      if (last_use[a] < a_at)
        last_use[a] = a_at;
    }
  }
  if (b->loops)
    place_all(d, s, last_use);
  return s;
}

void schedule_free(Schedule *s) {
  if (!s)
    return;
  for (int r = 0; r < s->R.n; r++) {
    free(s->rp[r].order.v);
    free(s->rp[r].loads.v);
  }
  free(s->rp);
  for (int k = 0; k < s->nids; k++) {
    free(s->name[s->ids[k]]);
    pool_reset(s->pool, s->ids[k]);
  }
  s->pool->busy = false;
  free(s->ids);
  free(s->locals.v);
  free(s->order);
  free(s);
}
