/* progress.h — the examples' console progress line.  Demo tooling beside
 * the examples (examples/common/), not part of dcc's runtime: C99 with
 * stdio. */
#ifndef EXAMPLES_PROGRESS_H
#define EXAMPLES_PROGRESS_H

#include <stdio.h>

#include "dcc_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One console line that training rewrites in place:
 *
 *     epoch 120/250 [#########...........] loss     0.0123457
 *
 * Call it after every epoch (0-based, as in dcc_epoch_report) of a run of
 * at most `epochs`: it prints the first epoch, about every 20th of the run
 * and the last, so a run prints at most 21 updates, whatever its length.
 * On a terminal each update goes back to the start of the line with '\r'
 * and the line ends with '\n' at epoch epochs - 1; anywhere else (a file,
 * a pipe: a captured log) each update is a line of its own, without '\r'.
 * Nothing when f is NULL or epochs <= 0. */
void progress_update(FILE *f, int epoch, int epochs, double loss);

/* After a run that stopped early (epochs_run < epochs): print the last
 * epoch's line and end it with '\n'.  Nothing if epochs_run >= epochs (the
 * line is already ended) or epochs_run <= 0. */
void progress_end(FILE *f, int epochs_run, int epochs, double loss);

/* progress_update as a dcc_sgd on_epoch callback, showing the mean loss
 * (nothing when ctx is NULL):
 *
 *     progress_ctx pc = {stderr, o.epochs, 0};
 *     o.on_epoch = progress_on_epoch; o.ctx = &pc;
 *     int run = dcc_sgd(...);
 *     progress_end(stderr, run, o.epochs, pc.last_loss);
 */
typedef struct {
  FILE *f;
  int epochs;
  double last_loss; /* set by each call: the last epoch's mean loss */
} progress_ctx;
void progress_on_epoch(void *ctx, const dcc_epoch_report *r);

#ifdef __cplusplus
}
#endif

#endif
