/* args.c — the examples' command-line helper.  See args.h. */
#include "args.h"

#include <errno.h>
#include <stdlib.h>

int arg_integer(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end || errno == ERANGE || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}
