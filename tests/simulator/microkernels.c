/* microkernels.c: small kernels with analytically known timing, written
 * the way generated code is (only m7rt.h calls, plain C integer loops).
 * Their parameters are file-scope variables (a generated kernel has them
 * as constants).  Used by test_timing.c and bench/sim. */
#include "tests/simulator/microkernels.h"

long mk_n, mk_param;
m7_addr mk_dst, mk_src;
int mk_double, mk_do_dma = 1, mk_do_compute = 1;

void mk_chain(void) {
    m7_vec x = m7_vsplat(1.0f);
    m7_vec acc = m7_vzero();
    for (long i = 0; i < mk_n; i++)
        acc = m7_vfma(x, x, acc);
    m7_vst(M7_AM(0), acc);
}

void mk_indep(void) {
    m7_vec x = m7_vsplat(1.0f);
    m7_vec acc[MK_NACC];
    for (int j = 0; j < MK_NACC; j++)
        acc[j] = m7_vzero();
    for (long i = 0; i < mk_n; i++)
        for (int j = 0; j < MK_NACC; j++)
            acc[j] = m7_vfma(x, x, acc[j]);
    for (int j = 0; j < MK_NACC; j++)
        m7_vst(M7_AM(128 * j), acc[j]);
}

/* Software-pipelined as the machine issues in order (MACHINE.md 5.3): the
 * loads of step i + 5 go before the FMAs of step i (5 steps of 2 cycles
 * cover the load latency of 9). */
void mk_loads(void) {
    enum { AHEAD = 5 };
    m7_vec acc[8], v[AHEAD + 1][4];
    for (int j = 0; j < 8; j++)
        acc[j] = m7_vzero();
    for (long i = -AHEAD; i < mk_n; i++) {
        long l = i + AHEAD; /* the step whose operands load now */
        if (l < mk_n) {
            uint64_t p = (uint64_t)(l % 64) * 512;
            m7_vec *d = v[l % (AHEAD + 1)];
            for (int k = 0; k < 4; k++)
                d[k] = m7_vld(M7_AM(p + 128 * (uint64_t)k));
        }
        if (i < 0)
            continue;
        const m7_vec *o = v[i % (AHEAD + 1)];
        int j = (int)(i % 4) * 2;
        acc[j] = m7_vfma(o[0], o[1], acc[j]);
        acc[j + 1] = m7_vfma(o[2], o[3], acc[j + 1]);
    }
    for (int j = 0; j < 8; j++)
        m7_vst(M7_AM(128 * j), acc[j]);
}

/* Pipelined: the pair load of step i + 10, the broadcasts of step i + 4
 * (6 steps after their load, one a cycle), the FMAs of step i (4 after). */
void mk_bcast(void) {
    enum { LD = 10, BC = 4 };
    m7_vec w = m7_vsplat(0.5f);
    m7_vec acc[MK_NB], x[BC + 1][2];
    m7_scalar s[LD + 1][2];
    for (int j = 0; j < MK_NB; j++)
        acc[j] = m7_vzero();
    for (long i = -LD; i < mk_n; i++) {
        if (i + LD < mk_n) {
            long l = i + LD;
            m7_sld2(M7_SM((uint64_t)(l % 1024) * 8), &s[l % (LD + 1)][0], &s[l % (LD + 1)][1]);
        }
        long b = i + BC;
        if (b >= 0 && b < mk_n) {
            x[b % (BC + 1)][0] = m7_vbcast(s[b % (LD + 1)][0]);
            x[b % (BC + 1)][1] = m7_vbcast(s[b % (LD + 1)][1]);
        }
        if (i < 0)
            continue;
        int j = (int)(i % (MK_NB / 2)) * 2;
        acc[j] = m7_vfma(x[i % (BC + 1)][0], w, acc[j]);
        acc[j + 1] = m7_vfma(x[i % (BC + 1)][1], w, acc[j + 1]);
    }
    for (int j = 0; j < MK_NB; j++)
        m7_vst(M7_AM(128 * j), acc[j]);
}

void mk_dma(void) {
    if (m7_core_id() == 0) {
        uint32_t rb = (uint32_t)(mk_param / mk_n);
        m7_dma(3, mk_dst, mk_src, (uint32_t)mk_n, rb, rb, rb);
        m7_dma_wait(3);
    }
}

void mk_dma_bcast(void) {
    uint32_t rb = (uint32_t)(mk_param / mk_n);
    m7_dma_bcast(1, mk_dst, mk_src, (uint32_t)mk_n, rb, rb, rb);
    m7_dma_wait(1);
}

void mk_bcast_private(void) {
    int id = m7_core_id();
    if (id == 1) /* a private transfer first, holding core 1's link */
        m7_dma(0, M7_AM(65536), M7_DDR(65536), 1, 65536, 0, 0);
    m7_dma_bcast(1, M7_AM(0), M7_DDR(0), 1, 32768, 0, 0);
    if (id == 2) /* a private transfer after: it waits for the broadcast's bytes */
        m7_dma(2, M7_AM(32768), M7_DDR(32768), 1, 32768, 0, 0);
    m7_dma_wait(0);
    m7_dma_wait(1);
    m7_dma_wait(2);
}

void mk_two_channels(void) {
    m7_dma(0, M7_AM(0), M7_DDR(0), 1, 32768, 0, 0);
    m7_dma(1, M7_AM(32768), M7_DDR(32768), 1, 32768, 0, 0);
    m7_dma_wait(0);
    m7_dma_wait(1);
}

void mk_small_rows(void) {
    if (m7_core_id() != 0)
        return;
    for (int k = 0; k < 16; k++) /* 16 KiB each, to its own AM and from its own DDR */
        m7_dma((int)(k % mk_param), M7_AM((uint64_t)k * 16384), M7_DDR((uint64_t)k * 16384), 1024, 16, 16, 16);
    for (int ch = 0; ch < mk_param; ch++)
        m7_dma_wait(ch);
}

/* Each vector is loaded two vectors ahead of its 24 FMAs (8 cycles each). */
static void compute_tile(uint64_t base, m7_vec *acc) {
    enum { N = MK_TILE / 128 };
    m7_vec x[3];
    x[0] = m7_vld(M7_AM(base));
    x[1] = m7_vld(M7_AM(base + 128));
    for (int v = 0; v < N; v++) {
        if (v + 2 < N)
            x[(v + 2) % 3] = m7_vld(M7_AM(base + 128 * (uint64_t)(v + 2)));
        for (int j = 0; j < MK_PER_VEC; j++)
            acc[(v * MK_PER_VEC + j) % MK_NACC] = m7_vfma(x[v % 3], x[v % 3], acc[(v * MK_PER_VEC + j) % MK_NACC]);
    }
}

void mk_tiles(void) {
    m7_vec acc[MK_NACC];
    for (int j = 0; j < MK_NACC; j++)
        acc[j] = m7_vzero();
    if (mk_double) {
        if (mk_do_dma)
            m7_dma(0, M7_AM(0), M7_DDR(0), 1, MK_TILE, 0, 0);
        for (int t = 0; t < MK_TILES; t++) {
            int buf = t % 2;
            if (mk_do_dma && t + 1 < MK_TILES)
                m7_dma(1 - buf, M7_AM((uint64_t)(1 - buf) * MK_TILE), M7_DDR((uint64_t)(t + 1) * MK_TILE), 1,
                       MK_TILE, 0, 0);
            if (mk_do_dma)
                m7_dma_wait(buf);
            if (mk_do_compute)
                compute_tile((uint64_t)buf * MK_TILE, acc);
        }
    } else {
        for (int t = 0; t < MK_TILES; t++) {
            if (mk_do_dma) {
                m7_dma(0, M7_AM(0), M7_DDR((uint64_t)t * MK_TILE), 1, MK_TILE, 0, 0);
                m7_dma_wait(0);
            }
            if (mk_do_compute)
                compute_tile(0, acc);
        }
    }
    for (int j = 0; j < MK_NACC; j++)
        m7_vst(M7_AM(2 * MK_TILE + 128 * (uint64_t)j), acc[j]);
}

void mk_imbalance(void) {
    m7_vec x = m7_vsplat(1.0f), acc = m7_vzero();
    for (long i = 0; i < mk_n * (m7_core_id() + 1); i++)
        acc = m7_vfma(x, x, acc);
    if (mk_param)
        m7_barrier();
    m7_vst(M7_AM(0), acc);
}

void mk_stream(void) {
    m7_vec acc[MK_NACC];
    for (int j = 0; j < MK_NACC; j++)
        acc[j] = m7_vzero();
    for (long i = 0; i < mk_n; i++) {
        m7_vec x = m7_vld(M7_AM((uint64_t)(i % 256) * 128));
        acc[i % MK_NACC] = m7_vfma(x, x, acc[i % MK_NACC]);
    }
    for (int j = 0; j < MK_NACC; j++)
        m7_vst(M7_AM(128 * (uint64_t)j), acc[j]);
}

/* The inner loop of a channels-in-lanes convolution (for speed): per input
 * channel 3 weight vectors (a pair load and a load), 8 pixels (4 SM pair
 * loads, 8 broadcasts), 24 FMAs into 8 x 3 accumulators: 38 instructions,
 * FMA-bound at 8 cycles per step.  With mk_param set, a DMA into another
 * AM buffer is in flight all the time (as in a double-buffered loop), so
 * every load and store passes the race check. */
void mk_gemm(void) {
    m7_vec acc[24];
    for (int j = 0; j < 24; j++)
        acc[j] = m7_vzero();
    if (mk_param)
        m7_dma(0, M7_AM(524288), M7_DDR(0), 16, 1024, 1024, 0);
    for (long k = 0; k < mk_n; k++) {
        uint64_t w = (uint64_t)(k % 512) * 512;
        m7_vec w0, w1;
        m7_vld2(M7_AM(w), &w0, &w1);
        m7_vec w2 = m7_vld(M7_AM(w + 256));
        for (int p = 0; p < 8; p += 2) {
            m7_scalar a, b;
            m7_sld2(M7_SM((uint64_t)(k % 1024) * 32 + 4 * (uint64_t)p), &a, &b);
            m7_vec va = m7_vbcast(a), vb = m7_vbcast(b);
            acc[3 * p] = m7_vfma(va, w0, acc[3 * p]);
            acc[3 * p + 1] = m7_vfma(va, w1, acc[3 * p + 1]);
            acc[3 * p + 2] = m7_vfma(va, w2, acc[3 * p + 2]);
            acc[3 * p + 3] = m7_vfma(vb, w0, acc[3 * p + 3]);
            acc[3 * p + 4] = m7_vfma(vb, w1, acc[3 * p + 4]);
            acc[3 * p + 5] = m7_vfma(vb, w2, acc[3 * p + 5]);
        }
    }
    if (mk_param)
        m7_dma_wait(0);
    for (int j = 0; j < 24; j++)
        m7_vst(M7_AM(262144 + 128 * (uint64_t)j), acc[j]);
}

/* A value passed through memory: each step loads what the last stored. */
void mk_am_chain(void) {
    m7_vec x = m7_vsplat(1.0f);
    m7_vst(M7_AM(0), m7_vzero());
    for (long i = 0; i < mk_n; i++)
        m7_vst(M7_AM(0), m7_vfma(x, x, m7_vld(M7_AM(0))));
}

void mk_sm_chain(void) {
    for (long i = 0; i < mk_n; i++)
        m7_sst(M7_SM(0), m7_sld(M7_SM(0)));
}
