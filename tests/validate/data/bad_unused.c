/* A warning is a problem too. */
#include "m7rt.h"

void k(void) {
    int unused; // EXPECT clang
    m7_vst(M7_AM(0), m7_vzero());
}
