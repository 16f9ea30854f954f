/* dcc_train.h — train any model that dcc emitted: stochastic gradient
 * descent (with momentum), Adam, AdamW and RMSprop, gradient clipping by
 * global norm, as a whole training loop (dcc_sgd) or one update at a time
 * for a loop of the caller's (dcc_step).  Portable C99: no malloc (the
 * caller provides every buffer, the optimisers' state too), no stdio
 * (progress goes through callbacks), so it links into firmware.
 *
 * The real type is DCC_TRAIN_REAL, float or double (default double);
 * compile this file and the model with the same type: -DDCC_TRAIN_REAL=float
 * for a model made with dcc --real float.  A mismatch is a compile error in
 * DCC_MODEL.
 *
 * With a single sample, per-sample and full batch are the same thing, and
 * dcc_sgd treats the run as full batch (the stopping test comes before the
 * update).
 *
 * One line of glue turns a generated model into a dcc_model:
 *
 *     dcc_model m = DCC_MODEL(net, NET);   // net_loss_grad, NET_N_IN, ...
 */
#ifndef DCC_TRAIN_H
#define DCC_TRAIN_H

#include <stdint.h>

/* C++: DCC_MODEL's check that the model's real type is the runtime's (see
 * DCC_MODEL below). */
#ifdef __cplusplus
#if __cplusplus >= 201103L
template <bool B> struct DCC_TRAIN_REAL_is_not_the_models_real_type_use_DDCC_TRAIN_REAL_float_for_dcc_real_float_models {
  static_assert(B, "the model's real type is not the runtime's dcc_real (DCC_TRAIN_REAL): compile the runtime "
                   "and this file with -DDCC_TRAIN_REAL=float for a model made with dcc --real float, "
                   "without it for a double model");
  enum { ok = 0 };
};
#else
template <bool B> struct DCC_TRAIN_REAL_is_not_the_models_real_type_use_DDCC_TRAIN_REAL_float_for_dcc_real_float_models;
template <> struct DCC_TRAIN_REAL_is_not_the_models_real_type_use_DDCC_TRAIN_REAL_float_for_dcc_real_float_models<true> {
  enum { ok = 0 };
};
#endif
extern "C" {
#endif

#ifndef DCC_TRAIN_REAL
#define DCC_TRAIN_REAL double
#endif
typedef DCC_TRAIN_REAL dcc_real;

/* What the runtime needs of a generated model. */
typedef struct {
  /* the loss at one sample, and its gradient in grad[n_grad] */
  dcc_real (*loss_grad)(const dcc_real *in, const dcc_real *p, dcc_real *grad);
  int n_in;      /* scalars per sample: the model's inputs, labels included */
  int n_params;
  void (*init)(dcc_real *p, uint32_t seed);
  /* What the gradient covers: grad[] holds n_grad reals, the derivatives
   * of n_grad_ranges runs of p[], each {offset in p, count}, in grad[]
   * order (PU_N_GRAD, P_grad_ranges, PU_N_GRAD_RANGES: one run {0,
   * n_params} when every param is trained; fewer when some are frozen).
   * Updates change those params only.  grad_ranges NULL: the gradient
   * covers all of p (n_grad is then n_params or 0). */
  int n_grad;
  const int32_t (*grad_ranges)[2];
  int n_grad_ranges;
  /* Optional (DCC_MODEL_WS): the _ws variant of loss_grad that a model
   * emitted with loops has, and the workspace it runs in (ws[PU_WORKSPACE_SIZE],
   * the caller's: static, say, so that the loops' scratch is not on the
   * stack).  When loss_grad_ws is set the runtime calls it, with ws. */
  dcc_real (*loss_grad_ws)(const dcc_real *in, const dcc_real *p, dcc_real *grad, dcc_real *ws);
  dcc_real *ws;
} dcc_model;

/* One line of glue: DCC_MODEL(net, NET) takes net_loss_grad, NET_N_IN,
 * NET_N_PARAMS, net_init, NET_N_GRAD, net_grad_ranges and
 * NET_N_GRAD_RANGES from the header dcc wrote; DCC_MODEL_WS(net,
 * NET, ws) also net_loss_grad_ws, which it calls with the caller's ws
 * (dcc_real ws[NET_WORKSPACE_SIZE]; a model emitted with loops only).  Both
 * expand their arguments first, so a generic driver can be built with
 * -DMODEL=net -DMODEL_U=NET and say DCC_MODEL(MODEL, MODEL_U).
 *
 * They also check, at compile time, that the model's real type is the
 * runtime's (dcc_real, DCC_TRAIN_REAL): a model made with dcc --real float
 * needs the runtime and the file using DCC_MODEL compiled with
 * -DDCC_TRAIN_REAL=float.  The message says so: C11's _Static_assert, in
 * C99 and C++98 the name of a negative-size array or undefined template
 * (DCC_TRAIN_REAL_is_not_the_models_real_type_use_DDCC_TRAIN_REAL_float_...). */
#define DCC_MODEL(prefix, PREFIX) DCC_MODEL_(prefix, PREFIX)
#define DCC_MODEL_WS(prefix, PREFIX, ws) DCC_MODEL_WS_(prefix, PREFIX, ws)
#define DCC_MODEL_(prefix, PREFIX)                                                            \
  { prefix##_loss_grad, PREFIX##_N_IN + DCC_REAL_CHECK_(prefix##_real), PREFIX##_N_PARAMS,   \
    prefix##_init, PREFIX##_N_GRAD, prefix##_grad_ranges, PREFIX##_N_GRAD_RANGES, 0, 0 }
#define DCC_MODEL_WS_(prefix, PREFIX, ws)                                                     \
  { prefix##_loss_grad, PREFIX##_N_IN + DCC_REAL_CHECK_(prefix##_real), PREFIX##_N_PARAMS,   \
    prefix##_init, PREFIX##_N_GRAD, prefix##_grad_ranges, PREFIX##_N_GRAD_RANGES,             \
    prefix##_loss_grad_ws, (ws) }

/* 0, or a compile error when the type T is not dcc_real's size. */
#if defined(__cplusplus)
#define DCC_REAL_CHECK_(T) \
  (int)DCC_TRAIN_REAL_is_not_the_models_real_type_use_DDCC_TRAIN_REAL_float_for_dcc_real_float_models< \
      sizeof(T) == sizeof(dcc_real)>::ok
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DCC_REAL_CHECK_(T)                                                                    \
  0 * (int)sizeof(struct {                                                                    \
    _Static_assert(sizeof(T) == sizeof(dcc_real),                                             \
                   "the model's real type is not the runtime's dcc_real (DCC_TRAIN_REAL): "   \
                   "compile the runtime and this file with -DDCC_TRAIN_REAL=float for a "     \
                   "model made with dcc --real float, without it for a double model");        \
    int dcc_ok_;                                                                              \
  })
#else
#define DCC_REAL_CHECK_(T)                                                                    \
  0 * (int)sizeof(struct {                                                                    \
    char DCC_TRAIN_REAL_is_not_the_models_real_type_use_DDCC_TRAIN_REAL_float_for_dcc_real_float_models \
        [sizeof(T) == sizeof(dcc_real) ? 1 : -1];                                             \
  })
#endif

/* What one epoch did, for the on_epoch callback. */
typedef struct {
  int epoch;          /* 0-based */
  dcc_real loss_sum;  /* sum of the per-sample losses seen in the epoch
                         (infinite if finite losses overflow it) */
  dcc_real loss_mean; /* loss_sum / number of samples; when loss_sum
                         overflowed, the sum of loss / n, always finite */
  dcc_real rate;      /* the learning rate the epoch used */
} dcc_epoch_report;

/* The optimisers (dcc_sgd_options.optimizer), with PyTorch's torch.optim
 * semantics and names (g the gradient, decay L2 unless said otherwise,
 * each line per element; after t updates):
 *
 *   NULL         SGD.  g += weight_decay p;  momentum 0: p -= rate g; else
 *                v = momentum v - rate g, p += v (torch.optim.SGD's buffer
 *                is -v / rate: the same updates at a fixed rate)
 *   &dcc_adam    g += weight_decay p;  m = beta1 m + (1 - beta1) g;
 *                s = beta2 s + (1 - beta2) g^2;
 *                p -= rate / (1 - beta1^t) m / (sqrt(s) / sqrt(1 - beta2^t) + eps)
 *   &dcc_adamw   Adam without the L2 term, and the decay decoupled:
 *                p *= 1 - rate weight_decay before the Adam step
 *   &dcc_rmsprop g += weight_decay p;  s = alpha s + (1 - alpha) g^2;
 *                momentum 0: p -= rate g / (sqrt(s) + eps); else
 *                b = momentum b + g / (sqrt(s) + eps), p -= rate b
 *
 * A program links the code of the optimisers it names, no other: plain
 * SGD firmware does not carry Adam.  Each keeps its state in a buffer of
 * the caller's, of the size the macro says for n_grad (PU_N_GRAD) reals
 * of gradient, zero before the first update: */
typedef struct dcc_optimizer dcc_optimizer;
extern const dcc_optimizer dcc_adam, dcc_adamw, dcc_rmsprop;
#define DCC_SGD_STATE(n_grad) (n_grad)               /* with momentum: v */
#define DCC_ADAM_STATE(n_grad) (2 * (n_grad) + 2)    /* m, s, 1 - beta1^t, 1 - beta2^t */
#define DCC_ADAMW_STATE(n_grad) (2 * (n_grad) + 2)   /* the same */
#define DCC_RMSPROP_STATE(n_grad) (2 * (n_grad))     /* s, then b */
#define DCC_STATE_MAX(n_grad) (2 * (n_grad) + 2)     /* enough for any of them */

typedef struct {
  int epochs;            /* at most this many epochs (full batch: steps) */
  int batch_size;        /* 1: an update per sample; k: mini-batches of k,
                            gradients averaged; 0 or >= n: full batch
                            (negative: an error) */
  dcc_real rate;         /* the learning rate, unless a schedule is given */
  /* A piecewise-constant schedule of schedule_len rates and
   * schedule_len - 1 boundaries: schedule_rate[i] while epoch <
   * schedule_until[i], the last rate after the last boundary.
   * (Lab 5: until {100}, rate {2.5, 0.5}, len 2.) */
  const int *schedule_until;
  const dcc_real *schedule_rate;
  int schedule_len;
  const dcc_optimizer *optimizer; /* NULL: SGD (the default); &dcc_adam,
                            &dcc_adamw, &dcc_rmsprop */
  dcc_real momentum;     /* in [0, 1); SGD: 0 plain, else v = momentum v -
                            rate g, p += v; RMSprop's momentum; Adam: unused */
  dcc_real beta1, beta2; /* Adam, AdamW: in [0, 1); 0.9 and 0.999 */
  dcc_real alpha;        /* RMSprop's smoothing: in [0, 1); 0.99 */
  dcc_real eps;          /* Adam, AdamW, RMSprop: >= 0; 1e-8 */
  dcc_real clip_norm;    /* > 0: before each update, the gradient is scaled
                            by min(1, clip_norm / (its 2-norm + 1e-6)), as
                            torch.nn.utils.clip_grad_norm_; 0: no clipping */
  dcc_real weight_decay; /* >= 0: L2 (the gradient gets weight_decay * p
                            added), AdamW: the decoupled decay */
  /* Optional, n_params flags: only params whose flag is non-zero are
   * decayed (NULL: all of them).  Biases usually are not:
   *   static unsigned char decay[NET_N_PARAMS];          // zero: no decay
   *   memset(decay + NET_PARAM_W1, 1, 8 * 4);            // W1[8][4] only
   */
  const unsigned char *decay_mask;
  dcc_real tolerance;    /* > 0: stop when an epoch's mean loss improves on
                            the previous one by less than this (lab 3) */
  int shuffle;           /* visit the samples in a new random order each epoch */
  uint32_t seed;         /* of the shuffling */
  /* Optional, n_params reals of the caller's: where dcc_sgd keeps the
   * params before each update, so that a stop at a non-finite loss puts
   * back the last params whose losses and gradients were all finite. */
  dcc_real *last_good;
  void (*on_epoch)(void *ctx, const dcc_epoch_report *r);
  void (*on_sample)(void *ctx, int epoch, int sample, dcc_real loss);
  void *ctx;
} dcc_sgd_options;

/* The caller's buffers: grad and acc hold n_grad reals each, order
 * n_samples ints (only with shuffle), and velocity the optimiser's state:
 * SGD's velocity with momentum (DCC_SGD_STATE(n_grad) reals; none without),
 * Adam's moments (DCC_ADAM_STATE(n_grad)), ... (the name is SGD's; the
 * buffer is whichever optimiser's).  dcc_sgd zeroes it when it starts. */
typedef struct {
  dcc_real *grad;
  dcc_real *acc;
  dcc_real *velocity;
  int *order;
} dcc_workspace;

/* Options with every field at its neutral value: plain SGD, per-sample,
 * no schedule, momentum, decay, clipping, stopping or shuffling; the other
 * optimisers' settings at PyTorch's defaults (beta1 0.9, beta2 0.999, alpha
 * 0.99, eps 1e-8). */
dcc_sgd_options dcc_sgd_defaults(int epochs, dcc_real rate);

/* dcc_sgd's result when training cannot go on: a sample's loss or
 * gradient is infinite or NaN, or an update would make a param so.  It
 * stops there, and p (finite if it started finite) is: with o->last_good,
 * the last params whose losses and gradients were all finite (those before
 * the update that led to a bad loss; when it is the update that would be
 * bad, it is not made and p stays where the losses were finite); without
 * it, the params at which the loss broke. */
#define DCC_SGD_NONFINITE (-1)

/* dcc_sgd's results when an argument is invalid: it checks them all before
 * it touches anything (p, the workspace, the callbacks), and returns the
 * first of these that applies.  dcc_strerror names each one. */
#define DCC_ERR_MODEL (-2)          /* m is NULL */
#define DCC_ERR_LOSS_GRAD (-3)      /* m->loss_grad (and m->loss_grad_ws) is NULL */
#define DCC_ERR_MODEL_SIZE (-4)     /* m->n_in or m->n_params is negative */
#define DCC_ERR_PARAMS (-5)         /* p is NULL */
#define DCC_ERR_DATA (-6)           /* data is NULL, with samples of n_in > 0 reals */
#define DCC_ERR_N_SAMPLES (-7)      /* n_samples is negative */
#define DCC_ERR_OPTIONS (-8)        /* o is NULL */
#define DCC_ERR_WORKSPACE (-9)      /* w is NULL */
#define DCC_ERR_GRAD (-10)          /* w->grad is NULL */
#define DCC_ERR_ACC (-11)           /* w->acc is NULL */
#define DCC_ERR_VELOCITY (-12)      /* w->velocity is NULL, with SGD's momentum */
#define DCC_ERR_ORDER (-13)         /* w->order is NULL, with shuffle */
#define DCC_ERR_EPOCHS (-14)        /* o->epochs is negative */
#define DCC_ERR_BATCH_SIZE (-15)    /* o->batch_size is negative */
#define DCC_ERR_RATE (-16)          /* o->rate is negative, infinite or NaN */
#define DCC_ERR_SCHEDULE_LEN (-17)  /* o->schedule_len is negative */
#define DCC_ERR_SCHEDULE_NULL (-18) /* schedule_rate is NULL (len > 0), or schedule_until (len > 1) */
#define DCC_ERR_SCHEDULE_RATE (-19) /* a schedule_rate is negative, infinite or NaN */
#define DCC_ERR_SCHEDULE_ORDER (-20) /* schedule_until decreases */
#define DCC_ERR_MOMENTUM (-21)      /* o->momentum is outside [0, 1) */
#define DCC_ERR_WEIGHT_DECAY (-22)  /* o->weight_decay is negative, infinite or NaN */
#define DCC_ERR_TOLERANCE (-23)     /* o->tolerance is negative, infinite or NaN */
#define DCC_ERR_MODEL_WS (-24)      /* m->loss_grad_ws is set and m->ws is NULL */
#define DCC_ERR_GRAD_RANGES (-25)   /* m's n_grad and grad_ranges disagree, or a
                                       range is outside p[] or overlaps another */
#define DCC_ERR_STATE (-26)         /* the optimiser's state is NULL (Adam, AdamW,
                                       RMSprop: w->velocity; dcc_step's state) */
#define DCC_ERR_BETAS (-27)         /* beta1 or beta2 is outside [0, 1) (Adam, AdamW) */
#define DCC_ERR_ALPHA (-28)         /* alpha is outside [0, 1) (RMSprop) */
#define DCC_ERR_EPS (-29)           /* eps is negative, infinite or NaN */
#define DCC_ERR_CLIP_NORM (-30)     /* clip_norm is negative, infinite or NaN */

/* A short English message for a result of dcc_sgd: "ok" for 0 and epoch
 * counts, "unknown error" for a code that is none of the above. */
const char *dcc_strerror(int code);

/* Train p (n_params reals, already initialised) on n_samples samples, each
 * n_in reals in data (row-major), with o's optimiser (its state zeroed
 * first: a run starts afresh).  Returns the number of epochs run,
 * DCC_SGD_NONFINITE (p as above; the epoch it stopped in gets no on_epoch
 * report) or, before doing anything, one of the DCC_ERR_ codes above.
 *
 * Full batch (lab 3): the epoch's loss is measured at the epoch's starting
 * params, and with a tolerance the run stops before the update when the
 * loss improved by less than it, so p ends at the last point whose loss
 * was measured.  Per sample and mini-batch (lab 5): each sample's loss is
 * measured before the update it contributes to; the test comes at the end
 * of the epoch. */
int dcc_sgd(const dcc_model *m, dcc_real *p, const dcc_real *data, int n_samples,
            const dcc_sgd_options *o, dcc_workspace *w);

/* One update of p by o's optimiser from grad (n_grad reals: the gradient,
 * already averaged over its batch), at the learning rate rate, as dcc_sgd
 * makes each of its updates, for a training loop of the caller's (on-device
 * fine-tuning, say):
 *
 *     static dcc_real grad[NET_N_GRAD], state[DCC_ADAM_STATE(NET_N_GRAD)];  // zero
 *     dcc_sgd_options o = dcc_sgd_defaults(0, 1e-3);
 *     o.optimizer = &dcc_adam;
 *     for (;;) {
 *       net_loss_grad(sample, p, grad);
 *       dcc_step(&m, p, grad, o.rate, &o, state);
 *     }
 *
 * o's schedule, batch, stopping, shuffling and callback fields are not
 * used.  state is the optimiser's (DCC_SGD_STATE: SGD's velocity, only with
 * momentum; DCC_ADAM_STATE, ...), zero before the first update (static, or
 * cleared); it carries what Adam's bias correction needs.  With
 * o->clip_norm grad is clipped in place.  Returns 0; DCC_SGD_NONFINITE when
 * grad holds an infinite or NaN value or the update would make a param or
 * the state so (then p and state are as they were); or a DCC_ERR_ code
 * (nothing touched). */
int dcc_step(const dcc_model *m, dcc_real *p, dcc_real *grad, dcc_real rate, const dcc_sgd_options *o,
             dcc_real *state);

/* Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_:
 * scales grad[0 .. n) by min(1, max_norm / (norm + 1e-6)) and returns norm,
 * the 2-norm before (computed so that it does not overflow); NaN if an
 * argument is invalid (grad NULL, n < 0, max_norm negative or NaN), grad
 * untouched. */
dcc_real dcc_clip_grad_norm(dcc_real *grad, int n, dcc_real max_norm);

/* The mean loss over n_samples samples at p (grad: n_grad scratch reals);
 * 0 without samples, NaN if an argument is invalid (as for dcc_sgd). */
dcc_real dcc_mean_loss(const dcc_model *m, const dcc_real *p, const dcc_real *data, int n_samples,
                       dcc_real *grad);

/* The learning rate of an epoch under o's schedule (o->rate when the
 * schedule is invalid, 0 when o is NULL). */
dcc_real dcc_rate_at(const dcc_sgd_options *o, int epoch);

/* A small seeded generator (the one the emitted _init uses): for shuffling
 * and for making data sets. */
uint32_t dcc_rng_next(uint32_t *state);
double dcc_rng_uniform(uint32_t *state);   /* in [0, 1) */
double dcc_rng_normal(uint32_t *state);    /* mean 0, std 1 */

#ifdef __cplusplus
}
#endif

#endif
