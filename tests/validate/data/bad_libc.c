/* libc calls: none is allowed in a kernel file. */
#include <stdio.h>
#include <string.h>

#include "m7rt.h"

void k(char *dst, const char *src) {
    printf("core %d\n", m7_core_id()); // EXPECT call
    memcpy(dst, src, 16); // EXPECT call
}
