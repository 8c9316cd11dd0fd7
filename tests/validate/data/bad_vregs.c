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

/* 64 at most: the parameter, 40 + 22 in scope and one temporary (the sum);
 * the two inner blocks are never open together. */
void ok(m7_vec in) {
    m7_vec a[40];
    for (int i = 0; i < 40; i++)
        a[i] = in;
    {
        m7_vec b[22];
        for (int i = 0; i < 22; i++)
            b[i] = a[i];
        m7_vst(M7_AM(0), m7_vadd(b[21], a[0]));
    }
    {
        m7_vec c[22];
        for (int i = 0; i < 22; i++)
            c[i] = a[i];
        m7_vst(M7_AM(0), c[21]);
    }
}

/* 62 variables and 3 temporaries: the two loads are held while the sum is
 * computed (arguments are evaluated left to right). */
void temps(void) { // EXPECT vregs
    m7_vec a[62];
    for (int i = 0; i < 62; i++)
        a[i] = m7_vzero();
    m7_vst(M7_AM(0), m7_vfma(m7_vld(M7_AM(0)), m7_vld(M7_AM(128)), m7_vadd(m7_vld(M7_AM(256)), a[0])));
    for (int i = 0; i < 62; i++)
        m7_vst(M7_AM(128 * (uint64_t)i), a[i]);
}

/* Exactly 64: results assigned to a variable take no extra register. */
void ok64(void) {
    m7_vec acc[64];
    for (int i = 0; i < 64; i++)
        acc[i] = m7_vzero();
    for (int i = 0; i < 64; i++)
        acc[i] = m7_vfma(acc[i], acc[i], acc[i]);
    for (int i = 0; i < 64; i++)
        m7_vst(M7_AM(128 * (uint64_t)i), acc[i]);
}
