/* progress_update on standard output:
 *   progress_driver run N       every epoch of a run of N, loss 1/(epoch+1)
 *   progress_driver stop N K    a run of N that stopped after K epochs,
 *                               through progress_on_epoch, then
 *                               progress_end
 *   progress_driver nullctx     progress_on_epoch without its context */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

int main(int argc, char **argv) {
  if (argc > 2 && !strcmp(argv[1], "run")) {
    int n = atoi(argv[2]);
    for (int e = 0; e < n; e++)
      progress_update(stdout, e, n, 1.0 / (e + 1));
    progress_end(stdout, n, n, 0); /* the run was complete: nothing */
    return 0;
  }
  if (argc > 3 && !strcmp(argv[1], "stop")) {
    int n = atoi(argv[2]), k = atoi(argv[3]);
    progress_ctx pc = {stdout, n, 0};
    for (int e = 0; e < k; e++) {
      dcc_epoch_report r;
      r.epoch = e;
      r.loss_sum = (dcc_real)(4.0 / (e + 1));
      r.loss_mean = (dcc_real)(1.0 / (e + 1));
      r.rate = (dcc_real)0.1;
      progress_on_epoch(&pc, &r);
    }
    progress_end(stdout, k, n, pc.last_loss);
    return 0;
  }
  if (argc > 1 && !strcmp(argv[1], "nullctx")) {
    dcc_epoch_report r = {0, 1, 1, 1};
    progress_on_epoch(NULL, &r);
    printf("no output, no crash\n");
    return 0;
  }
  fprintf(stderr, "usage: progress_driver run N | stop N K | nullctx\n");
  return 2;
}
