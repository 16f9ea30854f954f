/* dcc_sgd's options, each checked against numbers worked out by hand, on
 * two models whose gradients are known:
 *   lin.expr  loss a*w:      per-sample gradient a (whatever w is)
 *   sq.expr   loss (w-c)^2:  gradient 2 (w - c)
 * usage: sgd_checks MODE, MODE one of schedule minibatch fullbatch decay
 * momentum earlystop shuffle sums nonfinite overflow.  Prints what happened; the .test files
 * hold the expected output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcc_train.h"
#include "lin.h"
#include "sq.h"

#define MAXN 16
#define MAXE 128

typedef struct {
  const dcc_real *p;
  int print_epochs, print_samples;
  int n_samples;
  /* what the callbacks saw */
  int calls[MAXE];                  /* on_sample calls per epoch */
  int order[MAXE][MAXN];            /* sample indices in visiting order */
  dcc_real sample_sum[MAXE];        /* sum of on_sample losses per epoch */
  dcc_real loss_sum[MAXE], loss_mean[MAXE];
  int epochs_seen;
  int bad_epoch_number;
} trace;

static void on_epoch(void *ctx, const dcc_epoch_report *r) {
  trace *t = ctx;
  if (r->epoch != t->epochs_seen)
    t->bad_epoch_number = 1;
  if (r->epoch < MAXE) {
    t->loss_sum[r->epoch] = r->loss_sum;
    t->loss_mean[r->epoch] = r->loss_mean;
  }
  t->epochs_seen++;
  if (t->print_epochs)
    printf("epoch %d rate %.6f loss_sum %.6f loss_mean %.6f w %.6f\n", r->epoch, (double)r->rate,
           (double)r->loss_sum, (double)r->loss_mean, (double)t->p[0]);
}

static void on_sample(void *ctx, int epoch, int sample, dcc_real loss) {
  trace *t = ctx;
  if (epoch < MAXE && t->calls[epoch] < MAXN) {
    t->order[epoch][t->calls[epoch]] = sample;
    t->calls[epoch]++;
    t->sample_sum[epoch] += loss;
  }
  if (t->print_samples)
    printf("  sample %d loss %.6f\n", sample, (double)loss);
}

static dcc_real grad[1], acc[1], velocity[1];
static int order_buf[MAXN];
static dcc_workspace ws = {grad, acc, velocity, order_buf};

static const dcc_model lin = DCC_MODEL(lin, LIN);
static const dcc_model sq = DCC_MODEL(sq, SQ);

/* Train with the callbacks recording into t (print: 1 epochs, 2 samples too). */
static int run(const dcc_model *m, dcc_real *w, const dcc_real *data, int n, dcc_sgd_options *o, trace *t,
               int print) {
  memset(t, 0, sizeof *t);
  t->p = w;
  t->print_epochs = print >= 1;
  t->print_samples = print >= 2;
  t->n_samples = n;
  o->on_epoch = on_epoch;
  o->on_sample = on_sample;
  o->ctx = t;
  return dcc_sgd(m, w, data, n, o, &ws);
}

static trace tr, tr2;

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  dcc_real w[1];

  if (!strcmp(mode, "schedule")) {
    /* rates 0.3 for epochs 0-1, 0.2 for 2-3, 0.1 from 4 on; lin with a = 1
     * moves w by -rate each epoch.  until[] has schedule_len - 1 entries. */
    static const int until[] = {2, 4};
    static const dcc_real rates[] = {(dcc_real)0.3, (dcc_real)0.2, (dcc_real)0.1};
    static const dcc_real data[] = {1};
    dcc_sgd_options o = dcc_sgd_defaults(6, 99);
    o.schedule_until = until;
    o.schedule_rate = rates;
    o.schedule_len = 3;
    w[0] = 0;
    printf("epochs %d\n", run(&lin, w, data, 1, &o, &tr, 1));
    for (int e = 0; e < 7; e++)
      printf("rate_at %d %.6f\n", e, (double)dcc_rate_at(&o, e));
    o.schedule_len = 0;
    printf("no schedule: rate_at 0 %.6f, rate_at 500 %.6f\n", (double)dcc_rate_at(&o, 0), (double)dcc_rate_at(&o, 500));
  } else if (!strcmp(mode, "minibatch")) {
    /* a = 1, 2, 4, 8, 16 in batches of 2 (the last batch has one sample),
     * rate 0.5, from w = 1: every loss of a batch is measured at the
     * batch's starting w, then w moves by -0.5 * mean(a of the batch) */
    static const dcc_real data[] = {1, 2, 4, 8, 16};
    dcc_sgd_options o = dcc_sgd_defaults(1, (dcc_real)0.5);
    o.batch_size = 2;
    w[0] = 1;
    printf("epochs %d\n", run(&lin, w, data, 5, &o, &tr, 2));
    printf("w %.6f\n", (double)w[0]);
    o.batch_size = 3; /* batches {1, 2, 4} and {8, 16} */
    w[0] = 1;
    run(&lin, w, data, 5, &o, &tr, 0);
    printf("batch 3: w %.6f\n", (double)w[0]);
  } else if (!strcmp(mode, "fullbatch")) {
    /* full batch: one step of -rate * mean(a) = -0.5 * 31/5 per epoch, every
     * loss measured at the epoch's starting w */
    static const dcc_real data[] = {1, 2, 4, 8, 16};
    static const int sizes[] = {0, 5, 6, 1000};
    for (int k = 0; k < 4; k++) {
      dcc_sgd_options o = dcc_sgd_defaults(2, (dcc_real)0.5);
      o.batch_size = sizes[k];
      w[0] = 1;
      run(&lin, w, data, 5, &o, &tr, 0);
      printf("batch_size %d: w %.6f, epoch sums %.6f %.6f\n", sizes[k], (double)w[0], (double)tr.loss_sum[0],
             (double)tr.loss_sum[1]);
    }
  } else if (!strcmp(mode, "decay")) {
    /* sq, c = 1, from w = 3, rate 0.1, weight decay 0.5: the gradient is
     * 2 (3 - 1) + 0.5 * 3 = 5.5, so w = 3 - 0.55 = 2.45 */
    static const dcc_real data[] = {1};
    dcc_sgd_options o = dcc_sgd_defaults(1, (dcc_real)0.1);
    o.weight_decay = (dcc_real)0.5;
    w[0] = 3;
    printf("decay: w %.6f\n", (run(&sq, w, data, 1, &o, &tr, 0), (double)w[0]));
    o.weight_decay = 0;
    w[0] = 3;
    printf("no decay: w %.6f\n", (run(&sq, w, data, 1, &o, &tr, 0), (double)w[0]));
    /* lin, a = 1, from w = 2, rate 0.5, decay 0.25: 2 - 0.5 (1 + 0.5) */
    static const dcc_real one[] = {1};
    o = dcc_sgd_defaults(1, (dcc_real)0.5);
    o.weight_decay = (dcc_real)0.25;
    w[0] = 2;
    printf("lin decay: w %.6f\n", (run(&lin, w, one, 1, &o, &tr, 0), (double)w[0]));
  } else if (!strcmp(mode, "momentum")) {
    /* sq, c = 1, from w = 3, rate 0.1, momentum 0.9:
     *   g = 4,   v = -0.4,                 w = 2.6
     *   g = 3.2, v = 0.9 (-0.4) - 0.32 = -0.68, w = 1.92
     * without momentum 2.6, 2.28; with decay 0.5 as well:
     *   g = 5.5, v = -0.55, w = 2.45
     *   g = 2.9 + 1.225 = 4.125, v = -0.495 - 0.4125 = -0.9075, w = 1.5425 */
    static const dcc_real data[] = {1};
    static const double moms[] = {0.9, 0, 0.9};
    static const double decays[] = {0, 0, 0.5};
    for (int k = 0; k < 3; k++) {
      dcc_sgd_options o = dcc_sgd_defaults(2, (dcc_real)0.1);
      o.momentum = (dcc_real)moms[k];
      o.weight_decay = (dcc_real)decays[k];
      w[0] = 3;
      velocity[0] = 123; /* dcc_sgd starts from a zero velocity */
      printf("momentum %.1f decay %.1f\n", moms[k], decays[k]);
      run(&sq, w, data, 1, &o, &tr, 1);
    }
  } else if (!strcmp(mode, "earlystop")) {
    /* sq with two samples c = 0, rate 0.25, from w = 1: each sample halves
     * w, so epoch e starts at 4^-e and its mean loss is 0.625 * 16^-e:
     * 0.625, 0.0390625, 0.00244140625, 0.000152587890625, 9.5367e-06.
     * Improvements 0.586, 0.0366, 0.00229, 0.000143: with tolerance 1e-3
     * the run stops after epoch 4 (5 epochs), w = 4^-5. */
    static const dcc_real data[] = {0, 0};
    static const double tols[] = {1e-3, 0.03, 0.5, 0.6, 0};
    for (int k = 0; k < 5; k++) {
      dcc_sgd_options o = dcc_sgd_defaults(50, (dcc_real)0.25);
      o.tolerance = (dcc_real)tols[k];
      w[0] = 1;
      int n = run(&sq, w, data, 2, &o, &tr, 0);
      /* the rule itself, on what on_epoch saw: every epoch but the last
       * improved by at least the tolerance, the last (if it stopped) by less */
      int ok = n == tr.epochs_seen && !tr.bad_epoch_number;
      for (int e = 1; e < n && tols[k] > 0; e++) {
        double impr = (double)(tr.loss_mean[e - 1] - tr.loss_mean[e]);
        if (e < n - 1 ? impr < tols[k] : (n < 50 && impr >= tols[k]))
          ok = 0;
      }
      printf("tolerance %g: epochs %d of 50, w %.9f, rule %s\n", tols[k], n, (double)w[0], ok ? "ok" : "BROKEN");
    }
  } else if (!strcmp(mode, "shuffle")) {
    enum { N = 7, E = 4 };
    static const dcc_real data[N] = {1, 1, 1, 1, 1, 1, 1};
    static int first[E][N];
    dcc_sgd_options o = dcc_sgd_defaults(E, (dcc_real)0.01);
    o.shuffle = 1;
    o.seed = 42;
    w[0] = 0;
    run(&lin, w, data, N, &o, &tr, 0);
    memcpy(first, tr.order, sizeof first);
    int perm = 1, identity = 1, epochs_differ = 0;
    for (int e = 0; e < E; e++) {
      int seen[N] = {0};
      perm &= tr.calls[e] == N;
      for (int i = 0; i < N; i++) {
        int s = tr.order[e][i];
        if (s < 0 || s >= N || seen[s]++)
          perm = 0;
        if (s != i)
          identity = 0;
      }
      if (e > 0 && memcmp(tr.order[e], tr.order[e - 1], sizeof tr.order[e]))
        epochs_differ = 1;
    }
    printf("seed 42: every sample once per epoch: %s\n", perm ? "yes" : "no");
    printf("seed 42: identity order every epoch: %s\n", identity ? "yes" : "no");
    printf("seed 42: orders differ between epochs: %s\n", epochs_differ ? "yes" : "no");
    w[0] = 0;
    run(&lin, w, data, N, &o, &tr2, 0);
    printf("seed 42 again: same order: %s\n", memcmp(first, tr2.order, sizeof first) ? "no" : "yes");
    o.seed = 43;
    w[0] = 0;
    run(&lin, w, data, N, &o, &tr2, 0);
    printf("seed 43: same order as seed 42: %s\n", memcmp(first, tr2.order, sizeof first) ? "no" : "yes");
    o.shuffle = 0;
    w[0] = 0;
    run(&lin, w, data, N, &o, &tr2, 0);
    identity = 1;
    for (int e = 0; e < E; e++)
      for (int i = 0; i < N; i++)
        identity &= tr2.order[e][i] == i && tr2.calls[e] == N;
    printf("no shuffle: identity order: %s\n", identity ? "yes" : "no");
  } else if (!strcmp(mode, "sums")) {
    /* loss_sum is the sum of the losses on_sample reported, in the same
     * order (so exactly equal), and loss_mean is loss_sum / n; for
     * per-sample, mini-batch and full-batch runs, shuffled or not */
    enum { N = 7, E = 6 };
    static const dcc_real data[N] = {(dcc_real)0.3, (dcc_real)-1.7, (dcc_real)2.9, (dcc_real)0.11,
                                     (dcc_real)-0.5, (dcc_real)1.3, (dcc_real)-2.2};
    static const int batches[] = {1, 3, 0};
    for (int b = 0; b < 3; b++)
      for (int sh = 0; sh < 2; sh++) {
        dcc_sgd_options o = dcc_sgd_defaults(E, (dcc_real)0.05);
        o.batch_size = batches[b];
        o.shuffle = sh;
        o.seed = 7;
        o.momentum = (dcc_real)0.5;
        w[0] = (dcc_real)0.7;
        int n = run(&lin, w, data, N, &o, &tr, 0);
        int agree = n == E && tr.epochs_seen == E;
        for (int e = 0; e < E; e++)
          agree &= tr.calls[e] == N && tr.sample_sum[e] == tr.loss_sum[e] &&
                   tr.loss_mean[e] == tr.loss_sum[e] / (dcc_real)N;
        printf("batch %d shuffle %d: %d epochs, sums agree: %s\n", batches[b], sh, n, agree ? "yes" : "no");
      }
  } else if (!strcmp(mode, "nonfinite")) {
    /* sq, c = 0, from w = 3 at rate 10: w -> w - 20 w = -19 w each step,
     * so |w| = 3 * 19^k until the loss w^2 overflows (double: 3 * 19^k >
     * 1.34e154 from k = 121 on; float: 1.8e19 from k = 15).  dcc_sgd stops
     * with DCC_SGD_NONFINITE at the first infinite loss, w finite (the
     * params it broke at), after 121 (float: 15) reported epochs.  A sample
     * whose own input makes the loss NaN stops it too, before its update:
     * sample 0 (c = 1) takes w from 3 to 3 - 0.1 * 4 = 2.6, sample 1 is NaN. */
    static const dcc_real zero[] = {0};
    dcc_sgd_options o = dcc_sgd_defaults(100000, 10);
    w[0] = 3;
    int r = run(&sq, w, zero, 1, &o, &tr, 0);
    dcc_real last = w[0];
    printf("status %s, w finite: %s, w^2 finite: %s, epochs reported %d\n",
           r == DCC_SGD_NONFINITE ? "DCC_SGD_NONFINITE" : "epochs", isfinite(last) ? "yes" : "no",
           isfinite(last * last) ? "yes" : "no", tr.epochs_seen);
    /* With last_good, the diverging run ends on the last params whose loss
     * was finite: |w| = 3 * 19^120, whose square is finite. */
    dcc_real good[1];
    o = dcc_sgd_defaults(100000, 10);
    o.last_good = good;
    w[0] = 3;
    r = run(&sq, w, zero, 1, &o, &tr, 0);
    last = w[0];
    printf("last_good: status %s, w finite: %s, w^2 finite: %s, epochs reported %d\n",
           r == DCC_SGD_NONFINITE ? "DCC_SGD_NONFINITE" : "epochs", isfinite(last) ? "yes" : "no",
           isfinite(last * last) ? "yes" : "no", tr.epochs_seen);
    static const dcc_real bad[] = {1, NAN, 2};
    o = dcc_sgd_defaults(3, (dcc_real)0.1);
    w[0] = 3;
    r = run(&sq, w, bad, 3, &o, &tr, 0);
    printf("NaN sample: status %s, w %.6f, epochs reported %d\n", r == DCC_SGD_NONFINITE ? "DCC_SGD_NONFINITE" : "epochs",
           (double)w[0], tr.epochs_seen);
  } else if (!strcmp(mode, "overflow")) {
    /* lin with a = H (1e308, float 2e38), w = 1, rate 0: every loss is H,
     * finite, but two of them overflow a sum.  The mean is H all the same, and the run
     * succeeds; a second data set H, H, -H, H/1e10 has the mean about
     * H / 4. */
    const dcc_real H = sizeof(dcc_real) == sizeof(float) ? (dcc_real)2e38 : (dcc_real)1e308;
    dcc_real big[4] = {H, H, H, H}, mixed[4] = {H, H, -H, H / (dcc_real)1e10};
    dcc_real g[1];
    for (int k = 0; k < 2; k++) {
      dcc_real *d = k ? mixed : big;
      for (int b = 0; b < 2; b++) {
        dcc_sgd_options o = dcc_sgd_defaults(3, 0);
        o.batch_size = b ? 0 : 1;
        w[0] = 1;
        int r = run(&lin, w, d, 4, &o, &tr, 0);
        printf("%s, batch %s: status %d, epochs reported %d, loss_sum %s, loss_mean / H %.6f, finite: %s\n",
               k ? "H H -H H/1e10" : "H H H H", b ? "full" : "1", r, tr.epochs_seen,
               isinf(tr.loss_sum[2]) ? "inf" : "finite", (double)(tr.loss_mean[2] / H),
               isfinite(tr.loss_mean[0]) && isfinite(tr.loss_mean[1]) && isfinite(tr.loss_mean[2]) ? "yes" : "no");
      }
      printf("%s: dcc_mean_loss / H %.6f\n", k ? "H H -H H/1e10" : "H H H H", (double)(dcc_mean_loss(&lin, w, d, 4, g) / H));
    }
  } else {
    fprintf(stderr, "sgd_checks: unknown mode '%s'\n", mode);
    return 2;
  }
  return 0;
}
