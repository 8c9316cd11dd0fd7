/* 65 vector values live: one more than the registers. */
#include "m7rt.h"

#define K_AM_BYTES (65 * 128)

void k(void) { // EXPECT vregs
    m7_vec acc[65];
    for (int i = 0; i < 65; i++)
        acc[i] = m7_vzero();
    for (int i = 0; i < 65; i++)
        m7_vst(M7_AM(128 * (uint64_t)i), acc[i]);
}

/* 64 in all, in scopes that are never open together with the big one. */
void ok(m7_vec in) {
    m7_vec a[40];
    for (int i = 0; i < 40; i++)
        a[i] = in;
    {
        m7_vec b[23];
        for (int i = 0; i < 23; i++)
            b[i] = a[i];
        m7_vst(M7_AM(0), b[22]);
    }
    {
        m7_vec c[23];
        for (int i = 0; i < 23; i++)
            c[i] = a[i];
        m7_vst(M7_AM(0), c[22]);
    }
}
