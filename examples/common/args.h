/* args.h — the examples' command-line helper.  Demo tooling beside the
 * examples (examples/common/), not part of dcc's runtime. */
#ifndef EXAMPLES_ARGS_H
#define EXAMPLES_ARGS_H

#ifdef __cplusplus
extern "C" {
#endif

/* A whole decimal number in [lo, hi] from a command-line argument: 0 with
 * *out set, or -1 (and *out untouched) if s is not one. */
int arg_integer(const char *s, long long lo, long long hi, long long *out);

#ifdef __cplusplus
}
#endif

#endif
