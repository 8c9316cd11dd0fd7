/* A constant AM address beyond 768 KB, written through a macro of the file. */
#include "m7rt.h"

#define OUT_AM (800 * 1024)
#define AM_AT(i) M7_AM(OUT_AM + 128 * (i))

void k(void) {
    m7_vst(M7_AM(768 * 1024 - 128), m7_vzero());
    m7_vst(AM_AT(0), m7_vzero()); // EXPECT mem-addr
}
