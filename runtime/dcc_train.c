/* dcc_train.c — stochastic gradient descent for dcc's models.
 * No malloc and no stdio: see dcc_train.h. */
#include "dcc_train.h"

#include <math.h>
#include <stddef.h>

dcc_sgd_options dcc_sgd_defaults(int epochs, dcc_real rate) {
  dcc_sgd_options o;
  o.epochs = epochs;
  o.batch_size = 1;
  o.rate = rate;
  o.schedule_until = NULL;
  o.schedule_rate = NULL;
  o.schedule_len = 0;
  o.momentum = 0;
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
  if (o->momentum != 0 && !w->velocity)
    return DCC_ERR_VELOCITY;
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
  if (!(o->momentum >= 0 && o->momentum < 1))
    return DCC_ERR_MOMENTUM;
  if (!nonnegative(o->weight_decay))
    return DCC_ERR_WEIGHT_DECAY;
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

/* The new value of param j under the update with gradient g; *v its new
 * velocity (with momentum). */
static dcc_real updated(const dcc_real *p, const dcc_real *g, const dcc_sgd_options *o, const dcc_workspace *w,
                        dcc_real rate, int j, dcc_real *v) {
  dcc_real gj = !o->decay_mask || o->decay_mask[j] ? g[j] + o->weight_decay * p[j] : g[j];
  if (o->momentum != 0) {
    *v = o->momentum * w->velocity[j] - rate * gj;
    return p[j] + *v;
  }
  *v = 0;
  return p[j] - rate * gj;
}

/* One update with the gradient in g (already averaged over its batch);
 * 0, and p untouched, if it would make a param infinite or NaN. */
static int step(const dcc_model *m, dcc_real *p, dcc_real *g, const dcc_sgd_options *o, dcc_workspace *w,
                dcc_real rate) {
  dcc_real v;
  for (int j = 0; j < m->n_params; j++)
    if (!isfinite(updated(p, g, o, w, rate, j, &v)) || !isfinite(v))
      return 0;
  for (int j = 0; j < m->n_params; j++) {
    if (o->last_good)
      o->last_good[j] = p[j];
    p[j] = updated(p, g, o, w, rate, j, &v);
    if (o->momentum != 0)
      w->velocity[j] = v;
  }
  return 1;
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
  int finite = 1;
  for (int j = 0; j < m->n_params; j++)
    finite = finite && isfinite(w->acc[j]);
  if (finite) {
    for (int j = 0; j < m->n_params; j++)
      w->acc[j] /= count;
    return;
  }
  for (int j = 0; j < m->n_params; j++)
    w->acc[j] = 0;
  for (int i = start; i < end; i++) {
    loss_grad(m, sample(m, data, order ? order[i] : i), p, w->grad);
    for (int j = 0; j < m->n_params; j++)
      w->acc[j] += w->grad[j] / count;
  }
}

int dcc_sgd(const dcc_model *m, dcc_real *p, const dcc_real *data, int n_samples,
            const dcc_sgd_options *o, dcc_workspace *w) {
  int e = check_sgd(m, p, data, n_samples, o, w);
  if (e)
    return e;
  int batch = o->batch_size == 0 || o->batch_size > n_samples ? n_samples : o->batch_size;
  int full_batch = batch == n_samples;
  dcc_real previous = 0;
  if (o->momentum != 0)
    for (int j = 0; j < m->n_params; j++)
      w->velocity[j] = 0;
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
      for (int j = 0; j < m->n_params; j++)
        w->acc[j] = 0;
      for (int i = start; i < end; i++) {
        int s = o->shuffle ? w->order[i] : i;
        dcc_real loss = loss_grad(m, sample(m, data, s), p, w->grad);
        int finite = isfinite(loss);
        for (int j = 0; j < m->n_params; j++)
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
        for (int j = 0; j < m->n_params; j++)
          w->acc[j] += w->grad[j];
      }
      mean_gradient(m, p, data, o->shuffle ? w->order : NULL, start, end, w);
      /* Full batch: the loss at this point is known before the update, so
       * the stopping test comes first (lab 3's optimiser). */
      if (full_batch && o->tolerance > 0 && epoch > 0 && previous - mean_of(sum, scaled, n_samples) < o->tolerance)
        stop = 1;
      else if (!step(m, p, w->acc, o, w, rate))
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
