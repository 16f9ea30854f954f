/* eval.c — dcc's own evaluator, and --check.
 *
 * --check needs no C compiler: it evaluates the loss and its symbolic
 * gradient on the DAG at random points and compares each component with a
 * central finite difference of the loss. */
#include "dcc.h"

#include <math.h>
#include <stdlib.h>

void eval_dag(Dag *d, int upto, const double *in, const double *p, double *vals) {
  for (int id = 0; id <= upto; id++) {
    Node *nd = &d->nodes[id];
    double v[4];
    switch ((Op)nd->op) {
    case OP_CONST: vals[id] = nd->val; break;
    case OP_INPUT: vals[id] = in[nd->index]; break;
    case OP_PARAM: vals[id] = p[nd->index]; break;
    default:
      for (int i = 0; i < nd->nops; i++)
        v[i] = vals[nd->a[i]];
      vals[id] = fold((Op)nd->op, v);
    }
  }
}

/* A small deterministic generator (a Weyl sequence through a 32-bit mixer):
 * the same points on every run. */
static uint32_t rng_next(uint32_t *s) {
  uint32_t z = (*s += 0x9E3779B9u);
  z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
  z = (z ^ (z >> 13)) * 0xC2B2AE35u;
  return z ^ (z >> 16);
}

static double rng_uniform(uint32_t *s, double lo, double hi) {
  return lo + (hi - lo) * (rng_next(s) >> 8) * (1.0 / 16777216.0);
}

#define CHECK_POINTS 8
#define CHECK_TRIES 200
#define CHECK_MAX_PARAMS 256   /* components checked per point, at most */
#define CHECK_TOLERANCE 1e-5
#define CHECK_MAX_EVALS 5e7   /* node evaluations per point, about */

bool check_gradients(Built *b, int *grads, FILE *out) {
  Model *m = b->m;
  Dag *d = b->dag;
  if (b->loss < 0) {
    fprintf(out, "dcc: --check: there is no loss to check\n");
    return true;
  }
  int upto = b->loss;
  for (int j = 0; j < m->n_params; j++)
    if (grads[j] > upto)
      upto = grads[j];
  double *vals = xmalloc((size_t)(upto + 1) * sizeof *vals);
  double *in = xcalloc((size_t)m->n_in + 1, sizeof *in);
  double *p = xcalloc((size_t)m->n_params + 1, sizeof *p);
  uint32_t seed = 12345;
  /* At most CHECK_MAX_PARAMS components per point, and at most about
   * CHECK_MAX_EVALS node evaluations per point: --check must end soon on
   * any model. */
  int per_point = CHECK_MAX_PARAMS;
  if ((double)per_point * 2 * (upto + 1) > CHECK_MAX_EVALS)
    per_point = (int)(CHECK_MAX_EVALS / (2.0 * (upto + 1))) + 1;
  int stride = m->n_params > per_point ? (m->n_params + per_point - 1) / per_point : 1;
  double worst = 0;
  int worst_param = -1, points = 0, checked = 0;
  for (int attempt = 0; attempt < CHECK_TRIES && points < CHECK_POINTS; attempt++) {
    /* Half the points in [-1, 1], half in (0, 2] for logs and roots. */
    double lo = attempt % 2 ? 0.05 : -1, hi = attempt % 2 ? 2 : 1;
    for (int i = 0; i < m->n_in; i++)
      in[i] = rng_uniform(&seed, lo, hi);
    for (int j = 0; j < m->n_params; j++)
      p[j] = rng_uniform(&seed, lo, hi);
    eval_dag(d, upto, in, p, vals);
    bool finite = isfinite(vals[b->loss]);
    for (int j = 0; j < m->n_params && finite; j++)
      finite = isfinite(vals[grads[j]]);
    if (!finite)
      continue;
    double *g = xmalloc((size_t)m->n_params * sizeof *g + 1);
    for (int j = 0; j < m->n_params; j++)
      g[j] = vals[grads[j]];
    bool usable = true;
    double point_worst = 0;
    int point_param = -1;
    for (int j = attempt % stride; j < m->n_params && usable; j += stride) {
      double x = p[j], h = 1e-6 * fmax(1, fabs(x));
      p[j] = x + h;
      eval_dag(d, b->loss, in, p, vals);
      double fp = vals[b->loss];
      p[j] = x - h;
      eval_dag(d, b->loss, in, p, vals);
      double fm = vals[b->loss];
      p[j] = x;
      if (!isfinite(fp) || !isfinite(fm)) {
        usable = false;
        break;
      }
      double fd = (fp - fm) / (2 * h);
      double err = fabs(g[j] - fd) / fmax(1, fmax(fabs(g[j]), fabs(fd)));
      if (err > point_worst) {
        point_worst = err;
        point_param = j;
      }
    }
    free(g);
    if (!usable)
      continue;
    points++;
    checked += (m->n_params + stride - 1) / stride;
    if (point_worst >= worst) {
      worst = point_worst;
      worst_param = point_param;
    }
  }
  free(vals);
  free(in);
  free(p);
  if (points == 0) {
    fprintf(out, "dcc: --check: found no point where the loss and its gradient are finite\n");
    return false;
  }
  const char *name = "";
  if (worst_param >= 0)
    for (int i = 0; i < m->params.n; i++) {
      Sym *s = m->params.v[i];
      if (worst_param >= s->offset && worst_param < s->offset + shape_size(s->shape))
        name = s->name;
    }
  bool ok = worst <= CHECK_TOLERANCE;
  fprintf(out, "dcc: --check: %d points, %d gradient components against central differences: worst relative error %.3g%s%s%s (tolerance %g): %s\n",
          points, checked, worst, *name ? " (d loss / d " : "", name, *name ? ")" : "", CHECK_TOLERANCE,
          ok ? "ok" : "FAILED");
  return ok;
}
