/* progress.c — the examples' console progress line.  See progress.h. */
#define _POSIX_C_SOURCE 200809L /* fileno, isatty */

#include "progress.h"

#include <unistd.h>

#define PROGRESS_BAR 20

/* A terminal gets one line rewritten in place; anything else (a file, a
 * pipe, a log) gets each update as a line of its own. */
static int on_terminal(FILE *f) {
  int fd = fileno(f);
  return fd >= 0 && isatty(fd);
}

static void progress_line(FILE *f, int epoch, int epochs, double loss, const char *tail) {
  int terminal = on_terminal(f);
  char bar[PROGRESS_BAR + 1], num[64];
  int width = snprintf(NULL, 0, "%d", epochs);
  int filled = (int)((long long)(epoch + 1) * PROGRESS_BAR / epochs);
  if (filled > PROGRESS_BAR)
    filled = PROGRESS_BAR;
  for (int i = 0; i < PROGRESS_BAR; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[PROGRESS_BAR] = 0;
  snprintf(num, sizeof num, "%.6g", loss);
  /* right-aligned in the width of the widest %.6g ("-1.23457e+100"): each
   * update overwrites the whole of the previous one, and the line ends in
   * the number, not in padding */
  /* off a terminal, an update that would stay on the line ends it */
  const char *end = terminal || *tail ? tail : "\n";
  fprintf(f, "%sepoch %*d/%d [%s] loss %13s%s", terminal ? "\r" : "", width, epoch + 1, epochs, bar, num, end);
  fflush(f);
}

void progress_update(FILE *f, int epoch, int epochs, double loss) {
  if (!f || epochs <= 0 || epoch < 0 || epoch >= epochs)
    return;
  int every = epochs / 20 + (epochs % 20 != 0); /* ceil(epochs / 20) */
  int last = epoch == epochs - 1;
  if (epoch == 0 || last || (epoch + 1) % every == 0)
    progress_line(f, epoch, epochs, loss, last ? "\n" : "");
}

void progress_end(FILE *f, int epochs_run, int epochs, double loss) {
  if (!f || epochs_run <= 0 || epochs_run >= epochs)
    return;
  progress_line(f, epochs_run - 1, epochs, loss, " (stopped)\n");
}

void progress_on_epoch(void *ctx, const dcc_epoch_report *r) {
  progress_ctx *c = (progress_ctx *)ctx;
  if (!c || !r)
    return;
  c->last_loss = (double)r->loss_mean;
  progress_update(c->f, r->epoch, c->epochs, c->last_loss);
}
