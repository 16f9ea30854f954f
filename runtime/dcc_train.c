/* dcc_train.c — training dcc's models: SGD, Adam, AdamW, RMSprop.
 * No malloc and no stdio: see dcc_train.h. */
#include "dcc_train.h"

#include <math.h>
#include <stddef.h>

/* sqrt of the real type: sqrtf in a float build (no double arithmetic on
 * a Cortex-M4F; DCC_TRAIN_REAL is float or double). */
#define DCC_IS_FLOAT_float 1
#define DCC_CAT_(a, b) a##b
#define DCC_CAT(a, b) DCC_CAT_(a, b)
#if DCC_CAT(DCC_IS_FLOAT_, DCC_TRAIN_REAL)
static dcc_real real_sqrt(dcc_real x) { return sqrtf(x); }
#else
static dcc_real real_sqrt(dcc_real x) { return (dcc_real)sqrt((double)x); }
#endif

dcc_sgd_options dcc_sgd_defaults(int epochs, dcc_real rate) {
  dcc_sgd_options o;
  o.epochs = epochs;
  o.batch_size = 1;
  o.rate = rate;
  o.schedule_until = NULL;
  o.schedule_rate = NULL;
  o.schedule_len = 0;
  o.optimizer = NULL;
  o.momentum = 0;
  o.beta1 = (dcc_real)0.9;
  o.beta2 = (dcc_real)0.999;
  o.alpha = (dcc_real)0.99;
  o.eps = (dcc_real)1e-8;
  o.clip_norm = 0;
  o.weight_decay = 0;
  o.decay_mask = NULL;
  o.tolerance = 0;
  o.shuffle = 0;
  o.seed = 0;
  o.last_good = NULL;
  o.on_epoch = NULL;
  o.on_sample = NULL;
  o.ctx = NULL;
  return o;
}

/* finite and >= 0 */
static int nonnegative(dcc_real x) { return isfinite(x) && x >= 0; }

/* 0, or the DCC_ERR_ code of the first thing wrong with o's schedule. */
static int check_schedule(const dcc_sgd_options *o) {
  if (o->schedule_len < 0)
    return DCC_ERR_SCHEDULE_LEN;
  if (o->schedule_len > 0 && (!o->schedule_rate || (o->schedule_len > 1 && !o->schedule_until)))
    return DCC_ERR_SCHEDULE_NULL;
  for (int i = 0; i < o->schedule_len; i++)
    if (!nonnegative(o->schedule_rate[i]))
      return DCC_ERR_SCHEDULE_RATE;
  for (int i = 1; i < o->schedule_len - 1; i++)
    if (o->schedule_until[i] < o->schedule_until[i - 1])
      return DCC_ERR_SCHEDULE_ORDER;
  return 0;
}

dcc_real dcc_rate_at(const dcc_sgd_options *o, int epoch) {
  if (!o)
    return 0;
  if (!o->schedule_len || check_schedule(o))
    return o->rate;
  /* schedule_len rates, schedule_len - 1 boundaries */
  for (int i = 0; i < o->schedule_len - 1; i++)
    if (epoch < o->schedule_until[i])
      return o->schedule_rate[i];
  return o->schedule_rate[o->schedule_len - 1];
}

const char *dcc_strerror(int code) {
  switch (code) {
  case DCC_SGD_NONFINITE: return "a loss, gradient or update became infinite or NaN";
  case DCC_ERR_MODEL: return "the model is NULL";
  case DCC_ERR_LOSS_GRAD: return "the model's loss_grad is NULL";
  case DCC_ERR_MODEL_SIZE: return "the model's n_in or n_params is negative";
  case DCC_ERR_PARAMS: return "the params are NULL";
  case DCC_ERR_DATA: return "the data are NULL";
  case DCC_ERR_N_SAMPLES: return "the number of samples is negative";
  case DCC_ERR_OPTIONS: return "the options are NULL";
  case DCC_ERR_WORKSPACE: return "the workspace is NULL";
  case DCC_ERR_GRAD: return "the workspace's grad buffer is NULL";
  case DCC_ERR_ACC: return "the workspace's acc buffer is NULL";
  case DCC_ERR_VELOCITY: return "momentum needs the workspace's velocity buffer, which is NULL";
  case DCC_ERR_ORDER: return "shuffling needs the workspace's order buffer, which is NULL";
  case DCC_ERR_EPOCHS: return "epochs is negative";
  case DCC_ERR_BATCH_SIZE: return "batch_size is negative";
  case DCC_ERR_RATE: return "the learning rate is negative, infinite or NaN";
  case DCC_ERR_SCHEDULE_LEN: return "schedule_len is negative";
  case DCC_ERR_SCHEDULE_NULL: return "the schedule's rates or boundaries are NULL";
  case DCC_ERR_SCHEDULE_RATE: return "a rate of the schedule is negative, infinite or NaN";
  case DCC_ERR_SCHEDULE_ORDER: return "the schedule's boundaries decrease";
  case DCC_ERR_MOMENTUM: return "momentum is outside [0, 1)";
  case DCC_ERR_WEIGHT_DECAY: return "weight_decay is negative, infinite or NaN";
  case DCC_ERR_TOLERANCE: return "tolerance is negative, infinite or NaN";
  case DCC_ERR_MODEL_WS: return "the model's loss_grad_ws needs its ws buffer, which is NULL";
  case DCC_ERR_GRAD_RANGES: return "the model's n_grad and grad_ranges do not describe runs of its params";
  case DCC_ERR_STATE: return "the optimizer needs its state buffer (the workspace's velocity), which is NULL";
  case DCC_ERR_BETAS: return "beta1 or beta2 is outside [0, 1)";
  case DCC_ERR_ALPHA: return "alpha is outside [0, 1)";
  case DCC_ERR_EPS: return "eps is negative, infinite or NaN";
  case DCC_ERR_CLIP_NORM: return "clip_norm is negative, infinite or NaN";
  default: return code >= 0 ? "ok" : "unknown error";
  }
}

/* 0, or the DCC_ERR_ code of the first thing wrong with the model. */
static int check_model(const dcc_model *m) {
  if (!m)
    return DCC_ERR_MODEL;
  if (!m->loss_grad && !m->loss_grad_ws)
    return DCC_ERR_LOSS_GRAD;
  if (m->n_in < 0 || m->n_params < 0)
    return DCC_ERR_MODEL_SIZE;
  if (m->loss_grad_ws && !m->ws)
    return DCC_ERR_MODEL_WS;
  if (!m->grad_ranges)
    return m->n_grad == 0 || m->n_grad == m->n_params ? 0 : DCC_ERR_GRAD_RANGES;
  if (m->n_grad < 0 || m->n_grad_ranges < 0)
    return DCC_ERR_GRAD_RANGES;
  long total = 0;
  for (int r = 0; r < m->n_grad_ranges; r++) {
    int32_t off = m->grad_ranges[r][0], count = m->grad_ranges[r][1];
    if (off < 0 || count < 0 || off > m->n_params - count)
      return DCC_ERR_GRAD_RANGES;
    for (int q = 0; q < r; q++) /* no param twice */
      if (count > 0 && m->grad_ranges[q][1] > 0 && off < m->grad_ranges[q][0] + m->grad_ranges[q][1] &&
          m->grad_ranges[q][0] < off + count)
        return DCC_ERR_GRAD_RANGES;
    total += count;
  }
  return total == m->n_grad ? 0 : DCC_ERR_GRAD_RANGES;
}

/* The number of reals in the gradient (a valid model). */
static int n_grad_of(const dcc_model *m) { return m->grad_ranges ? m->n_grad : m->n_params; }

/* One update, element by element.  Element i of the gradient belongs to
 * param j (grad_ranges); the optimiser's state for it is state[i] and,
 * with a second value, state[n + i]. */
typedef struct {
  const dcc_sgd_options *o;
  const dcc_real *state;
  int n;              /* n_grad */
  dcc_real rate;
  dcc_real c1, c2;    /* Adam, AdamW: 1 - beta1^t, 1 - beta2^t after this update */
  dcc_real step_size; /* Adam, AdamW: rate / c1 */
  dcc_real c2_sqrt;   /* Adam, AdamW: sqrt(c2) */
} update;

/* What an optimiser other than SGD is (dcc_adam, ...): a program links
 * only the ones it names. */
enum { ADAM, ADAMW, RMSPROP };
struct dcc_optimizer {
  int kind;
  int per_grad, extra; /* state: per_grad * n_grad + extra reals */
  /* before an update: what it needs beyond the state (may be NULL) */
  void (*begin)(update *u);
  /* the new value of param pj from gradient element gi (decayed: whether
   * weight decay applies to it), its new state in *s0 and *s1 */
  dcc_real (*element)(const update *u, dcc_real pj, dcc_real gi, int decayed, int i, dcc_real *s0,
                      dcc_real *s1);
  /* after an update (may be NULL) */
  void (*end)(const update *u, dcc_real *state);
};

/* The state's size in reals: 0 when the optimiser keeps none. */
static int state_size(const dcc_sgd_options *o, int n_grad) {
  if (o->optimizer)
    return o->optimizer->per_grad * n_grad + o->optimizer->extra;
  return o->momentum != 0 ? DCC_SGD_STATE(n_grad) : 0;
}

/* in [0, 1) */
static int fraction(dcc_real x) { return x >= 0 && x < 1; }

/* 0, or the DCC_ERR_ code of the first thing wrong with o's optimiser
 * settings (what dcc_step uses). */
static int check_optimizer(const dcc_sgd_options *o) {
  int kind = o->optimizer ? o->optimizer->kind : -1;
  if (!fraction(o->momentum))
    return DCC_ERR_MOMENTUM;
  if ((kind == ADAM || kind == ADAMW) && !(fraction(o->beta1) && fraction(o->beta2)))
    return DCC_ERR_BETAS;
  if (kind == RMSPROP && !fraction(o->alpha))
    return DCC_ERR_ALPHA;
  if (o->optimizer && !nonnegative(o->eps))
    return DCC_ERR_EPS;
  if (!nonnegative(o->clip_norm))
    return DCC_ERR_CLIP_NORM;
  if (!nonnegative(o->weight_decay))
    return DCC_ERR_WEIGHT_DECAY;
  return 0;
}

/* The loss at one sample and its gradient, in the caller's workspace when
 * the model has one (DCC_MODEL_WS). */
static dcc_real loss_grad(const dcc_model *m, const dcc_real *in, const dcc_real *p, dcc_real *grad) {
  return m->loss_grad_ws ? m->loss_grad_ws(in, p, grad, m->ws) : m->loss_grad(in, p, grad);
}

/* 0, or the DCC_ERR_ code of the first invalid argument of dcc_sgd. */
static int check_sgd(const dcc_model *m, const dcc_real *p, const dcc_real *data, int n_samples,
                     const dcc_sgd_options *o, const dcc_workspace *w) {
  int e = check_model(m);
  if (e)
    return e;
  if (!p)
    return DCC_ERR_PARAMS;
  if (n_samples < 0)
    return DCC_ERR_N_SAMPLES;
  if (!data && n_samples > 0 && m->n_in > 0)
    return DCC_ERR_DATA;
  if (!o)
    return DCC_ERR_OPTIONS;
  if (!w)
    return DCC_ERR_WORKSPACE;
  if (!w->grad)
    return DCC_ERR_GRAD;
  if (!w->acc)
    return DCC_ERR_ACC;
  if (!o->optimizer && o->momentum != 0 && !w->velocity)
    return DCC_ERR_VELOCITY;
  if (o->optimizer && !w->velocity)
    return DCC_ERR_STATE;
  if (o->shuffle && n_samples > 0 && !w->order)
    return DCC_ERR_ORDER;
  if (o->epochs < 0)
    return DCC_ERR_EPOCHS;
  if (o->batch_size < 0)
    return DCC_ERR_BATCH_SIZE;
  if (!nonnegative(o->rate))
    return DCC_ERR_RATE;
  if ((e = check_schedule(o)) != 0)
    return e;
  if ((e = check_optimizer(o)) != 0)
    return e;
  if (!nonnegative(o->tolerance))
    return DCC_ERR_TOLERANCE;
  return 0;
}

/* Sample i of data (data itself when samples have no reals: it may be NULL). */
static const dcc_real *sample(const dcc_model *m, const dcc_real *data, int i) {
  return m->n_in ? data + (size_t)i * (size_t)m->n_in : data;
}

/* The generator of the emitted _init: a Weyl sequence through a 32-bit
 * mixer. */
uint32_t dcc_rng_next(uint32_t *state) {
  uint32_t z = (*state += 0x9E3779B9u);
  z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
  z = (z ^ (z >> 13)) * 0xC2B2AE35u;
  return z ^ (z >> 16);
}

double dcc_rng_uniform(uint32_t *state) { return (dcc_rng_next(state) >> 8) * (1.0 / 16777216.0); }

double dcc_rng_normal(uint32_t *state) {
  double u1 = 1 - dcc_rng_uniform(state), u2 = dcc_rng_uniform(state);
  return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
}

/* SGD: the new value of param pj from gradient element gi (see struct
 * dcc_optimizer's element). */
static dcc_real sgd_element(const update *u, dcc_real pj, dcc_real gi, int decayed, int i, dcc_real *s0) {
  const dcc_sgd_options *o = u->o;
  dcc_real g = decayed ? gi + o->weight_decay * pj : gi;
  if (o->momentum != 0) {
    *s0 = o->momentum * u->state[i] - u->rate * g;
    return pj + *s0;
  }
  *s0 = 0;
  return pj - u->rate * g;
}

/* Adam and AdamW, with PyTorch's operations in its order (dcc_train.h).
 * The bias corrections 1 - beta^t are kept in the state and advanced as
 * c' = 1 - beta (1 - c), from 0: no pow. */
static void adam_begin(update *u) {
  const dcc_sgd_options *o = u->o;
  u->c1 = 1 - o->beta1 * (1 - u->state[2 * u->n]);
  u->c2 = 1 - o->beta2 * (1 - u->state[2 * u->n + 1]);
  u->step_size = u->rate / u->c1;
  u->c2_sqrt = real_sqrt(u->c2);
}

static dcc_real adam_element(const update *u, dcc_real pj, dcc_real gi, int decayed, int i, dcc_real *s0,
                             dcc_real *s1) {
  const dcc_sgd_options *o = u->o;
  dcc_real g = gi;
  if (decayed && o->optimizer->kind == ADAMW)
    pj = pj * (1 - u->rate * o->weight_decay); /* decoupled */
  else if (decayed)
    g = gi + o->weight_decay * pj; /* L2 */
  dcc_real m = u->state[i] * o->beta1 + (1 - o->beta1) * g;
  dcc_real s = u->state[u->n + i] * o->beta2 + (1 - o->beta2) * g * g;
  *s0 = m;
  *s1 = s;
  return pj + -u->step_size * (m / (real_sqrt(s) / u->c2_sqrt + o->eps));
}

static void adam_end(const update *u, dcc_real *state) {
  state[2 * u->n] = u->c1;
  state[2 * u->n + 1] = u->c2;
}

const dcc_optimizer dcc_adam = {ADAM, 2, 2, adam_begin, adam_element, adam_end};
const dcc_optimizer dcc_adamw = {ADAMW, 2, 2, adam_begin, adam_element, adam_end};

/* RMSprop, as PyTorch's (not centred). */
static dcc_real rmsprop_element(const update *u, dcc_real pj, dcc_real gi, int decayed, int i, dcc_real *s0,
                                dcc_real *s1) {
  const dcc_sgd_options *o = u->o;
  dcc_real g = decayed ? gi + o->weight_decay * pj : gi;
  dcc_real s = u->state[i] * o->alpha + (1 - o->alpha) * g * g;
  dcc_real avg = real_sqrt(s) + o->eps;
  *s0 = s;
  *s1 = 0;
  if (o->momentum > 0) {
    dcc_real b = u->state[u->n + i] * o->momentum + g / avg;
    *s1 = b;
    return pj + -u->rate * b;
  }
  return pj + -u->rate * (g / avg);
}

const dcc_optimizer dcc_rmsprop = {RMSPROP, 2, 0, NULL, rmsprop_element, NULL};

/* Update p by o's optimiser with the gradient g at the rate: 1, or 0 (and
 * nothing changed) if a new param or state value would be infinite or NaN.
 * last_good (optional, n_params) gets the params before the update. */
static int apply(const dcc_model *m, dcc_real *p, const dcc_real *g, dcc_real rate, const dcc_sgd_options *o,
                 dcc_real *state, dcc_real *last_good) {
  const dcc_optimizer *opt = o->optimizer;
  int n = n_grad_of(m), ranges = m->grad_ranges ? m->n_grad_ranges : 1;
  int keep = state_size(o, n) > 0;
  update u;
  u.o = o;
  u.state = state;
  u.n = n;
  u.rate = rate;
  u.c1 = u.c2 = u.step_size = u.c2_sqrt = 0;
  if (opt && opt->begin)
    opt->begin(&u);
  dcc_real s0, s1 = 0;
  for (int pass = 0; pass < 2; pass++) /* check every value, then write them */
    for (int r = 0, i = 0; r < ranges; r++) {
      int off = m->grad_ranges ? (int)m->grad_ranges[r][0] : 0;
      int count = m->grad_ranges ? (int)m->grad_ranges[r][1] : m->n_params;
      for (int k = 0; k < count; k++, i++) {
        int j = off + k, decayed = !o->decay_mask || o->decay_mask[j];
        dcc_real pj = opt ? opt->element(&u, p[j], g[i], decayed, i, &s0, &s1)
                          : sgd_element(&u, p[j], g[i], decayed, i, &s0);
        if (pass == 0) {
          if (!isfinite(pj) || !isfinite(s0) || !isfinite(s1))
            return 0;
          continue;
        }
        if (last_good)
          last_good[j] = p[j];
        p[j] = pj;
        if (keep)
          state[i] = s0;
        if (opt)
          state[n + i] = s1;
      }
    }
  if (opt && opt->end)
    opt->end(&u, state);
  return 1;
}

dcc_real dcc_clip_grad_norm(dcc_real *grad, int n, dcc_real max_norm) {
  if (!grad || n < 0 || !(max_norm >= 0))
    return (dcc_real)NAN;
  dcc_real sum = 0, norm;
  for (int i = 0; i < n; i++)
    sum += grad[i] * grad[i];
  if (isfinite(sum)) {
    norm = real_sqrt(sum);
  } else { /* the squares overflow: scale by the largest element first */
    dcc_real big = 0;
    for (int i = 0; i < n; i++)
      if (grad[i] > big || -grad[i] > big)
        big = grad[i] > 0 ? grad[i] : -grad[i];
    sum = 0;
    for (int i = 0; i < n && isfinite(big); i++)
      sum += (grad[i] / big) * (grad[i] / big);
    norm = big * real_sqrt(sum);
  }
  dcc_real coef = max_norm / (norm + (dcc_real)1e-6);
  if (coef < 1)
    for (int i = 0; i < n; i++)
      grad[i] *= coef;
  return norm;
}

int dcc_step(const dcc_model *m, dcc_real *p, dcc_real *grad, dcc_real rate, const dcc_sgd_options *o,
             dcc_real *state) {
  int e = check_model(m);
  if (e)
    return e;
  if (!p)
    return DCC_ERR_PARAMS;
  if (!grad)
    return DCC_ERR_GRAD;
  if (!o)
    return DCC_ERR_OPTIONS;
  if ((e = check_optimizer(o)) != 0)
    return e;
  if (!nonnegative(rate))
    return DCC_ERR_RATE;
  if (state_size(o, n_grad_of(m)) > 0 && !state)
    return DCC_ERR_STATE;
  int n = n_grad_of(m);
  for (int i = 0; i < n; i++)
    if (!isfinite(grad[i]))
      return DCC_SGD_NONFINITE;
  if (o->clip_norm > 0)
    dcc_clip_grad_norm(grad, n, o->clip_norm);
  return apply(m, p, grad, rate, o, state, NULL) ? 0 : DCC_SGD_NONFINITE;
}

/* The mean of n losses from their sum and the sum of each divided by n:
 * sum / n as long as the sum is finite; when finite losses overflow it,
 * the second, which cannot overflow (each term is at most the largest
 * real over n). */
static dcc_real mean_of(dcc_real sum, dcc_real scaled, int n) {
  return isfinite(sum) ? sum / (dcc_real)n : scaled;
}

dcc_real dcc_mean_loss(const dcc_model *m, const dcc_real *p, const dcc_real *data, int n_samples,
                       dcc_real *grad) {
  if (check_model(m) || !p || n_samples < 0 || (!data && n_samples > 0 && m->n_in > 0) || !grad)
    return (dcc_real)NAN;
  dcc_real sum = 0, scaled = 0;
  for (int i = 0; i < n_samples; i++) {
    dcc_real loss = loss_grad(m, sample(m, data, i), p, grad);
    sum += loss;
    scaled += loss / (dcc_real)n_samples;
  }
  return n_samples ? mean_of(sum, scaled, n_samples) : 0;
}

/* w->acc holds the sum of the gradients of samples start .. end - 1 (each
 * finite): make it their mean.  When finite gradients overflow the sum,
 * the batch's gradients are computed again and added divided by their
 * number, which cannot overflow. */
static void mean_gradient(const dcc_model *m, const dcc_real *p, const dcc_real *data, const int *order, int start,
                          int end, dcc_workspace *w) {
  dcc_real count = (dcc_real)(end - start);
  int n = n_grad_of(m), finite = 1;
  for (int j = 0; j < n; j++)
    finite = finite && isfinite(w->acc[j]);
  if (finite) {
    for (int j = 0; j < n; j++)
      w->acc[j] /= count;
    return;
  }
  for (int j = 0; j < n; j++)
    w->acc[j] = 0;
  for (int i = start; i < end; i++) {
    loss_grad(m, sample(m, data, order ? order[i] : i), p, w->grad);
    for (int j = 0; j < n; j++)
      w->acc[j] += w->grad[j] / count;
  }
}

int dcc_sgd(const dcc_model *m, dcc_real *p, const dcc_real *data, int n_samples,
            const dcc_sgd_options *o, dcc_workspace *w) {
  int e = check_sgd(m, p, data, n_samples, o, w);
  if (e)
    return e;
  int batch = o->batch_size == 0 || o->batch_size > n_samples ? n_samples : o->batch_size;
  int full_batch = batch == n_samples, n = n_grad_of(m);
  dcc_real previous = 0;
  /* the optimiser's state from zero, whatever the buffer held */
  dcc_real *state = w->velocity;
  for (int j = 0; j < state_size(o, n); j++)
    state[j] = 0;
  if (o->shuffle)
    for (int i = 0; i < n_samples; i++)
      w->order[i] = i;
  uint32_t rng = o->seed;
  int epoch;
  for (int j = 0; o->last_good && j < m->n_params; j++)
    o->last_good[j] = p[j]; /* no update yet: the start is the last good point */
  for (epoch = 0; epoch < o->epochs && n_samples > 0; epoch++) {
    dcc_real rate = dcc_rate_at(o, epoch);
    if (o->shuffle) /* Fisher and Yates */
      for (int i = n_samples - 1; i > 0; i--) {
        int k = (int)(dcc_rng_next(&rng) % (uint32_t)(i + 1));
        int t = w->order[i];
        w->order[i] = w->order[k];
        w->order[k] = t;
      }
    dcc_real sum = 0, scaled = 0; /* the losses, and the losses / n_samples */
    int stop = 0;
    for (int start = 0; start < n_samples && !stop; start += batch) {
      int end = start + batch < n_samples ? start + batch : n_samples;
      for (int j = 0; j < n; j++)
        w->acc[j] = 0;
      for (int i = start; i < end; i++) {
        int s = o->shuffle ? w->order[i] : i;
        dcc_real loss = loss_grad(m, sample(m, data, s), p, w->grad);
        int finite = isfinite(loss);
        for (int j = 0; j < n; j++)
          finite = finite && isfinite(w->grad[j]);
        if (!finite) { /* stop before using it; back to before the last update */
          for (int j = 0; o->last_good && j < m->n_params; j++)
            p[j] = o->last_good[j];
          return DCC_SGD_NONFINITE;
        }
        if (o->on_sample)
          o->on_sample(o->ctx, epoch, s, loss);
        sum += loss;
        scaled += loss / (dcc_real)n_samples;
        for (int j = 0; j < n; j++)
          w->acc[j] += w->grad[j];
      }
      mean_gradient(m, p, data, o->shuffle ? w->order : NULL, start, end, w);
      if (o->clip_norm > 0)
        dcc_clip_grad_norm(w->acc, n, o->clip_norm);
      /* Full batch: the loss at this point is known before the update, so
       * the stopping test comes first (lab 3's optimiser). */
      if (full_batch && o->tolerance > 0 && epoch > 0 && previous - mean_of(sum, scaled, n_samples) < o->tolerance)
        stop = 1;
      else if (!apply(m, p, w->acc, rate, o, state, o->last_good))
        return DCC_SGD_NONFINITE;
    }
    dcc_epoch_report r;
    r.epoch = epoch;
    r.loss_sum = sum;
    r.loss_mean = mean_of(sum, scaled, n_samples);
    r.rate = rate;
    if (o->on_epoch)
      o->on_epoch(o->ctx, &r);
    if (stop)
      return epoch + 1;
    if (!full_batch && o->tolerance > 0 && epoch > 0 && previous - r.loss_mean < o->tolerance)
      return epoch + 1;
    previous = r.loss_mean;
  }
  return epoch;
}
