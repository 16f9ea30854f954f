/* gradcheck.c — --check: the symbolic gradient against finite differences
 * of the loss, with dcc's own evaluator (eval.c, no C compiler); and
 * --eval, the evaluator's loss and gradient at given points.
 *
 * Points.  CHECK_POINTS points where the loss and the gradient are finite,
 * from four families in turn: every input and param uniform in [-1, 1];
 * all in (0.05, 2] (logs and roots defined); the params at the scale of
 * their initialisers (a glorot matrix within its bound, a uniform(a, b)
 * param within max(|a|, |b|), ...), signs random, inputs in [-1, 1]; and
 * the same scale positive, inputs in (0.05, 2].  A deep network with every
 * weight in (0.05, 2] has a loss in the millions; at its own scale, about
 * one.
 *
 * Components.  At most CHECK_MAX_PARAMS gradient components per point (a
 * stride through p[]), each compared in the measure
 * |g - fd| / max(s, |g|, |fd|) <= CHECK_TOLERANCE, s = 1 or, if every
 * component is smaller, the largest (a loss of 1e-12 is checked relative
 * to its own scale, not to 1e-5 absolute):
 *   1. a central difference at h = 1e-6 max(1, |x|): where it agrees, the
 *      component agrees;
 *   2. else Ridders' extrapolation (C. J. F. Ridders, Adv. Eng. Software
 *      4(2), 1982): central differences at h0, h0/2, h0/4, ..., extrapolated
 *      to h = 0 in Neville's tableau (their error is a series in h^2), the
 *      entry whose difference to its neighbours is smallest winning; that
 *      difference, and the rounding of the loss at that step, is the
 *      estimate's error E.  Steps whose ends take another side of a kink
 *      than the point (relu, abs, max, ...: evaluator_branches) are not
 *      used.  Agreeing in the measure, the component agrees;
 *      off by more than CHECK_SAFETY E too, it disagrees: the gradient is
 *      wrong; else the finite differences cannot tell (the loss's rounding
 *      swamps the difference, or a kink sits inside every step).
 * The outcome, dcc's exit status: FAILED (1) if a component disagrees;
 * inconclusive (3) if none does but more than a tenth could not be told,
 * with the loss's magnitude and the digits its differences lose; else ok
 * (0), naming how many could not be told.
 *
 * DCC_CHECK_PERTURB=REL[:J] (a testing aid): the gradient dcc checks gets
 * REL max(s, |g|) added to component J of p[] (every component without J),
 * off by REL in the measure, so that the tests can show that --check
 * catches a wrong gradient. */
#include "dcc.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_POINTS 8
#define CHECK_TRIES 200
#define CHECK_MAX_PARAMS 256   /* components checked per point, at most */
#define CHECK_TOLERANCE 1e-5
#define CHECK_MAX_EVALS 5e7    /* node evaluations per point for step 1, about; as many for step 2 */
#define CHECK_SAFETY 100       /* a disagreement must exceed the error estimate this many times */
#define CHECK_UNDECIDED 0.1    /* more undecided components than this fraction: inconclusive */
#define RIDDERS_STEPS 12       /* h0, h0/2, ..., h0/2^11 */
#define RIDDERS_ORDER 6        /* extrapolation columns of the tableau, at most */

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

/* The scale of a param's values after its initialiser: the bound of a
 * glorot or uniform draw, a normal's |mean| + 2 std, a constant's
 * magnitude; 1 for zeros (a bias) or where that is 0. */
static double init_scale(const Sym *s) {
  Init in = s->init;
  InitKind k = in.kind;
  if (k == INIT_DEFAULT)
    k = s->shape.rank >= 2 ? INIT_GLOROT : INIT_ZEROS;
  double r = 0;
  switch (k) {
  case INIT_GLOROT: { /* fans as PyTorch counts them: [o][c][k...] has c k..., o k... */
    double receptive = 1;
    for (int i = 2; i < s->shape.rank; i++)
      receptive *= s->shape.dim[i];
    r = sqrt(6.0 / (s->shape.dim[1] * receptive + s->shape.dim[0] * receptive));
    break;
  }
  case INIT_GLOROT_FANS:
    r = sqrt(6.0 / (in.a + in.b));
    break;
  case INIT_UNIFORM:
    r = fmax(fabs(in.a), fabs(in.b));
    break;
  case INIT_NORMAL:
    r = fabs(in.a) + 2 * fabs(in.b);
    break;
  case INIT_CONST:
    r = fabs(in.a);
    break;
  case INIT_ZEROS:
  case INIT_DEFAULT:
    break;
  }
  if (!(r > 0) || !isfinite(r))
    return 1;
  return fmin(fmax(r, 1e-3), 1e3);
}

/* Point `attempt` of the check (see the families above). */
static void make_point(Built *b, int attempt, uint32_t *seed, double *in, double *p) {
  Model *m = b->m;
  int family = attempt % 4;
  bool positive = family % 2;
  double lo = positive ? 0.05 : -1, hi = positive ? 2 : 1;
  for (int i = 0; i < m->n_in; i++)
    in[i] = rng_uniform(seed, lo, hi);
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    double scale = family < 2 ? 1 : init_scale(s);
    for (int k = 0; k < shape_size(s->shape); k++)
      p[s->offset + k] = scale * rng_uniform(seed, lo, hi);
  }
}

typedef struct {
  Built *b;
  Evaluator *ev;
  double *in, *p;
  double evals;     /* node evaluations spent at this point */
  uint64_t sides;   /* the sides of the kinks the loss takes at the point */
} Ctx;

/* The loss with p[j] = x; *same: on the point's side of every kink. */
static double loss_at(Ctx *c, int j, double x, bool *same) {
  double saved = c->p[j];
  c->p[j] = x;
  double f = evaluator_run(c->ev, c->in, c->p, NULL);
  *same = evaluator_branches(c->ev) == c->sides;
  c->p[j] = saved;
  c->evals += evaluator_loss_work(c->ev) + 1;
  return f;
}

/* Ridders' extrapolation of d loss / d p[j] from steps h0, h0/2, ...: the
 * estimate and its error; false if fewer than two steps can be used.
 * Steps where the loss is not finite (a log's domain) or that straddle a
 * kink (the difference would be the mean of two slopes) are skipped until
 * one is not. */
static bool ridders(Ctx *c, int j, double h0, double *est, double *err) {
  double T[RIDDERS_STEPS][RIDDERS_ORDER + 1], noise[RIDDERS_STEPS];
  double x = c->p[j], h = h0, best = NAN, best_err = INFINITY;
  int rows = 0;
  for (int k = 0; k < RIDDERS_STEPS; k++, h /= 2) {
    double xp = x + h, xm = x - h; /* xp - xm is exact: the step as taken */
    bool same_p, same_m;
    double fp = loss_at(c, j, xp, &same_p), fm = loss_at(c, j, xm, &same_m);
    if (!isfinite(fp) || !isfinite(fm) || !same_p || !same_m) {
      if (rows)
        break;
      continue;
    }
    int r = rows++;
    T[r][0] = (fp - fm) / (xp - xm);
    /* the loss's own rounding, a few ulps of its size, through the step */
    noise[r] = 4 * DBL_EPSILON * fmax(fabs(fp), fabs(fm)) / (xp - xm);
    double fac = 1;
    for (int m = 1; m <= r && m <= RIDDERS_ORDER; m++) {
      fac *= 4; /* halving h divides the m-th error term by 4^m */
      T[r][m] = (fac * T[r][m - 1] - T[r - 1][m - 1]) / (fac - 1);
      double e = fmax(fabs(T[r][m] - T[r][m - 1]), fabs(T[r][m] - T[r - 1][m - 1]));
      e = fmax(e, 2 * noise[r]);
      if (e <= best_err) {
        best_err = e;
        best = T[r][m];
      }
    }
    if (r == 0)
      continue;
    /* higher orders getting worse: rounding has taken over */
    int top = r < RIDDERS_ORDER ? r : RIDDERS_ORDER;
    if (fabs(T[r][top] - T[r - 1][top - 1]) >= 2 * best_err)
      break;
  }
  if (!(best_err < INFINITY) || !isfinite(best))
    return false;
  *est = best;
  *err = best_err;
  return true;
}

/* The measure: relative, and absolute below the gradient's scale s. */
static double rel_err(double g, double fd, double s) { return fabs(g - fd) / fmax(s, fmax(fabs(g), fabs(fd))); }

/* The name of p[j]: "W1[3][4]". */
static char *param_elem_name(Model *m, int j) {
  for (int i = 0; i < m->params.n; i++) {
    Sym *s = m->params.v[i];
    if (j >= s->offset && j < s->offset + shape_size(s->shape)) {
      char sfx[48];
      return xprintf("%s%s", s->name, elem_suffix(s->shape, j - s->offset, sfx, sizeof sfx, true));
    }
  }
  return xstrdup("?");
}

/* DCC_CHECK_PERTURB=REL[:J]; false if unset. */
static bool perturbation(double *rel, long *only) {
  const char *v = getenv("DCC_CHECK_PERTURB");
  if (!v || !*v)
    return false;
  char *end;
  errno = 0;
  *rel = strtod(v, &end);
  *only = -1;
  bool ok = end != v && !errno && isfinite(*rel);
  if (ok && *end == ':') {
    const char *j = end + 1;
    *only = strtol(j, &end, 10);
    ok = end != j && *only >= 0;
  }
  if (!ok || *end) {
    fprintf(stderr, "dcc: error: DCC_CHECK_PERTURB must be REL or REL:INDEX, not '%s'\n", v);
    exit(2);
  }
  return true;
}

/* What --check found so far. */
typedef struct {
  int points, compared, agreed, undecided;
  double worst;            /* the largest error among agreeing components */
  int worst_j;
  double digits_lost;      /* the most digits a step-1 difference cancelled */
  double undecided_loss;   /* the largest |loss| where a component could not be told */
  bool failed;
  int fail_j, fail_point;
  double fail_g, fail_fd, fail_e;
} Tally;

/* Compare component j at the current point: g its symbolic value, gscale
 * the measure's scale; step 2 only while the point's evaluations stay
 * within budget.  False if the loss is not finite a step 1 away: the
 * point is not used. */
static bool compare(Ctx *c, int j, double g, double gscale, double loss, double budget, Tally *t) {
  double x = c->p[j], h = 1e-6 * fmax(1, fabs(x));
  double xp = x + h, xm = x - h;
  bool same_p, same_m;
  double fp = loss_at(c, j, xp, &same_p), fm = loss_at(c, j, xm, &same_m);
  if (!isfinite(fp) || !isfinite(fm))
    return false;
  double fd = (fp - fm) / (xp - xm), err = rel_err(g, fd, gscale);
  t->compared++;
  /* the digits of the loss that the difference cancels before the
   * tolerance's: the loss against the change the measure must resolve */
  double change = fmax(gscale, fabs(g)) * (xp - xm), big = fmax(fabs(fp), fabs(fm));
  if (big > change)
    t->digits_lost = fmax(t->digits_lost, fmin(log10(big / change), 16));
  bool agree = same_p && same_m && err <= CHECK_TOLERANCE;
  double est, est_err;
  if (!agree && c->evals < budget && ridders(c, j, 0.125 * fmax(1, fabs(x)), &est, &est_err)) {
    err = rel_err(g, est, gscale);
    agree = err <= CHECK_TOLERANCE;
    if (!agree && fabs(g - est) > CHECK_SAFETY * est_err) {
      t->failed = true;
      t->fail_j = j;
      t->fail_point = t->points;
      t->fail_g = g;
      t->fail_fd = est;
      t->fail_e = est_err;
      return true;
    }
  }
  if (agree) {
    t->agreed++;
    if (err >= t->worst) {
      t->worst = err;
      t->worst_j = j;
    }
  } else {
    t->undecided++;
    t->undecided_loss = fmax(t->undecided_loss, fabs(loss));
  }
  return true;
}

CheckResult check_gradients(Built *b, FILE *out) {
  Model *m = b->m;
  if (b->loss < 0) {
    fprintf(out, "dcc: --check: there is no loss to check\n");
    return CHECK_OK;
  }
  double perturb_rel = 0;
  long perturb_j = -1;
  bool perturbed = perturbation(&perturb_rel, &perturb_j);
  Evaluator *ev = evaluator_new(b);
  double *in = xcalloc((size_t)m->n_in + 1, sizeof *in);
  double *p = xcalloc((size_t)m->n_params + 1, sizeof *p);
  double *g = xmalloc((size_t)m->n_params * sizeof *g + 1);
  Ctx c = {b, ev, in, p, 0, 0};
  /* At most CHECK_MAX_PARAMS components per point, and at most about
   * CHECK_MAX_EVALS scalar operations per point: --check must end soon on
   * any model. */
  double work = evaluator_loss_work(ev) + 1;
  int per_point = CHECK_MAX_PARAMS;
  if ((double)per_point * 2 * work > CHECK_MAX_EVALS)
    per_point = (int)(CHECK_MAX_EVALS / (2.0 * work)) + 1;
  int stride = m->n_params > per_point ? (m->n_params + per_point - 1) / per_point : 1;
  Tally t = {0};
  t.worst_j = -1;
  uint32_t seed = 12345;
  for (int attempt = 0; attempt < CHECK_TRIES && t.points < CHECK_POINTS && !t.failed; attempt++) {
    make_point(b, attempt, &seed, in, p);
    double loss = evaluator_run(ev, in, p, g);
    bool finite = isfinite(loss);
    for (int j = 0; j < m->n_params && finite; j++)
      finite = isfinite(g[j]);
    if (!finite)
      continue;
    evaluator_run(ev, in, p, NULL);
    c.sides = evaluator_branches(ev);
    /* the measure's scale: 1, or the largest component if all are smaller */
    double gscale = 0;
    for (int j = 0; j < m->n_params; j++)
      gscale = fmax(gscale, fabs(g[j])); /* a frozen param's is 0 */
    gscale = fmax(fmin(1, gscale), DBL_MIN);
    if (perturbed) /* off by REL in the measure */
      for (int j = 0; j < m->n_params; j++)
        if ((perturb_j < 0 || perturb_j == j) && !model_frozen_scalar(m, j))
          g[j] += perturb_rel * fmax(gscale, fabs(g[j]));
    c.evals = 0;
    Tally pt = t; /* this point's findings, kept if it is used */
    pt.points++;
    bool usable = true;
    for (int j = attempt % stride; j < m->n_params && usable && !pt.failed; j += stride)
      if (!model_frozen_scalar(m, j)) /* --train/--freeze: no gradient */
        usable = compare(&c, j, g[j], gscale, loss, 2 * CHECK_MAX_EVALS, &pt);
    if (usable || pt.failed)
      t = pt;
  }
  free(g);
  free(in);
  free(p);
  evaluator_free(ev);
  const char *how = perturbed ? " (the gradient perturbed by DCC_CHECK_PERTURB)" : "";
  if (t.failed) {
    char *name = param_elem_name(m, t.fail_j);
    fprintf(out,
            "dcc: --check: d loss / d %s at point %d: the gradient is %.17g, finite differences give %.17g "
            "(error estimate %.3g)%s: FAILED\n",
            name, t.fail_point, t.fail_g, t.fail_fd, t.fail_e, how);
    free(name);
    return CHECK_FAILED;
  }
  if (t.points == 0) {
    fprintf(out, "dcc: --check: found no point where the loss and its gradient are finite: inconclusive\n");
    return CHECK_INCONCLUSIVE;
  }
  char *worst = t.worst_j >= 0 ? param_elem_name(m, t.worst_j) : NULL;
  fprintf(out, "dcc: --check: %d points, %d gradient components against finite differences: worst relative error %.3g",
          t.points, t.compared, t.worst);
  if (worst)
    fprintf(out, " (d loss / d %s)", worst);
  free(worst);
  fprintf(out, " (tolerance %g)%s", CHECK_TOLERANCE, how);
  if (t.undecided) {
    fprintf(out, "; %d could not be told from the finite differences' error (the loss is up to %.3g there, and "
                 "its differences lose up to %.0f of 16 digits)",
            t.undecided, t.undecided_loss, t.digits_lost);
  }
  bool inconclusive = t.undecided > CHECK_UNDECIDED * t.compared;
  fprintf(out, ": %s\n", inconclusive ? "inconclusive" : "ok");
  return inconclusive ? CHECK_INCONCLUSIVE : CHECK_OK;
}

/* ---- --eval --------------------------------------------------------------- */

bool eval_points(Built *b, const char *path, FILE *out) {
  Model *m = b->m;
  if (b->loss < 0) {
    fprintf(stderr, "dcc: error: --eval: the model has no loss\n");
    return false;
  }
  bool is_stdin = !strcmp(path, "-");
  FILE *f = is_stdin ? stdin : fopen(path, "r");
  if (!f) {
    fprintf(stderr, "dcc: error: cannot open '%s': %s\n", path, strerror(errno));
    return false;
  }
  const char *shown = is_stdin ? "<stdin>" : path;
  Evaluator *ev = evaluator_new(b);
  int n = m->n_in + m->n_params;
  double *v = xmalloc((size_t)n * sizeof *v + 1);
  double *g = xmalloc((size_t)m->n_params * sizeof *g + 1);
  char *line = NULL;
  size_t cap = 0;
  bool ok = true;
  for (long lineno = 1; ok && getline(&line, &cap, f) >= 0; lineno++) {
    char *s = line;
    while (*s == ' ' || *s == '\t')
      s++;
    if (*s == '#' || *s == '\n' || *s == '\r' || !*s)
      continue;
    int k = 0;
    for (;;) {
      char *end;
      double x = strtod(s, &end);
      if (end == s)
        break;
      if (k < n)
        v[k] = x;
      k++;
      s = end;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
      s++;
    if (*s || k != n) {
      fprintf(stderr, "%s:%ld: error: expected %d number%s (%d input%s, then %d param%s), %s %d\n", shown, lineno, n,
              n == 1 ? "" : "s", m->n_in, m->n_in == 1 ? "" : "s", m->n_params, m->n_params == 1 ? "" : "s",
              *s ? "found something else after" : "got", k);
      ok = false;
      break;
    }
    double loss = evaluator_run(ev, v, v + m->n_in, g);
    fprintf(out, "%.17g", loss);
    for (int j = 0; j < m->n_params; j++)
      if (!model_frozen_scalar(m, j)) /* the gradient of the trainable params only */
        fprintf(out, " %.17g", g[j]);
    fputc('\n', out);
  }
  if (ok && ferror(f)) {
    fprintf(stderr, "dcc: error: cannot read '%s': %s\n", shown, strerror(errno));
    ok = false;
  }
  free(line);
  free(v);
  free(g);
  evaluator_free(ev);
  if (!is_stdin)
    fclose(f);
  return ok;
}
