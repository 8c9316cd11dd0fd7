/* A constant AM address beyond 768 KB, written through a macro of the file. */
#include "m7rt.h"

#define OUT_AM (800 * 1024)
#define AM_AT(i) M7_AM(OUT_AM + 128 * (i))

void k(void) {
    m7_vst(M7_AM(768 * 1024 - 128), m7_vzero());
    m7_vst(AM_AT(0), m7_vzero()); // EXPECT mem-addr
}

/* Accesses that start inside AM but end beyond it. */
void k2(void) {
    m7_vec v = m7_vld(M7_AM(768 * 1024 - 64)); // EXPECT mem-addr
    m7_vst2(M7_AM(768 * 1024 - 256), v, v);
    m7_dma(0, M7_AM(700 * 1024), M7_DDR(0), 2, 65536, 65536, 65536); // EXPECT mem-addr
    m7_dma(1, M7_DDR(0), M7_SM(60 * 1024), 4, 1024, 1024, 1024);
    m7_dma(2, M7_DDR(0), M7_SM(60 * 1024), 5, 1024, 1024, 1024); // EXPECT mem-addr
    m7_dma_wait(0);
    m7_dma_wait(1);
    m7_dma_wait(2);
}
