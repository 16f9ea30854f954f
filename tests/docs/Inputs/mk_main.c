/* dcc-mk-example.test's program: it includes the header dcc.mk made. */
#include <stdio.h>

#include "net_grad.h"

int main(void) {
  net_real p[NET_N_PARAMS], in[NET_N_IN] = {0, 0, 1};
  net_init(p, 1);
  printf("%d params, loss %s\n", NET_N_PARAMS, net_loss(in, p) > 0 ? "positive" : "not positive");
  return 0;
}
