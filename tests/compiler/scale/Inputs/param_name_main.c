/* Prints BIG_N_PARAMS lines, big_param_name(i) for every i, then whether
 * the indices just outside the range give a null pointer.  C99. */
#include <stdio.h>
#include <string.h>

#include "big.h"

int main(void) {
    char buf[BIG_PARAM_NAME_MAX + 8];
    int32_t i;
    size_t longest = 0;
    memset(buf, 'x', sizeof buf);
    for (i = 0; i < BIG_N_PARAMS; i++) {
        const char *s = big_param_name(i, buf);
        if (s != buf)
            return 1;
        if (strlen(s) > longest)
            longest = strlen(s);
        puts(s);
    }
    printf("out of range: %s %s\n", big_param_name(-1, buf) ? "name" : "null",
           big_param_name(BIG_N_PARAMS, buf) ? "name" : "null");
    printf("longest %d of %d\n", (int)longest + 1, BIG_PARAM_NAME_MAX);
    return 0;
}
