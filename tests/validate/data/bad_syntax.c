/* A syntax error: libclang's error, device rules not checked. */
#include "m7rt.h"

void k(void) {
    m7_vec v = m7_vzero()  // EXPECT clang
    m7_vst(M7_AM(0), v);
}
