/* A machine address turned into a host pointer. */
#include "m7rt.h"

void k(m7_addr addr) {
    float *p = (float *)addr; // EXPECT addr-cast
    (void)p;
}
