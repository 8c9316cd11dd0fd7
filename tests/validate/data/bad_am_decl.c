/* A declared on-chip use beyond capacity; run-time addresses are covered by
 * the declarations. */
#include "m7rt.h"

#define TILE_BYTES (256 * 1024)
#define CONV_AM_BYTES (3 * TILE_BYTES + 4096) // EXPECT mem-decl
enum { conv_SM_BYTES = 65536, fc_GSM_BYTES = 6 * 1024 * 1024 + 1 }; // EXPECT mem-decl
#define POOL_AM_BYTES (1 << 70) // EXPECT mem-decl
#define NEG_AM_BYTES (-9223372036854775807 - 1) / -1 // EXPECT mem-decl

void k(int n) {
    for (int i = 0; i < n; i++) {
        m7_vst(M7_AM(TILE_BYTES * 2 + 128 * (uint64_t)i), m7_vzero());
        m7_sst(M7_SM(4 * (uint64_t)i), m7_sld(M7_GSM(4 * (uint64_t)i)));
    }
}
