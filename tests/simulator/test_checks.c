/* test_checks.c: the functional side of the simulator: exact FP32 results,
 * the checks that hardware would not report (each fires on a planted bug
 * and stays silent on the correct kernel), determinism across runs and
 * thread counts, and efficiency never above the roofline bound. */
#include <CUnit/Basic.h>

#include "tests/common/cunit_run.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/m7sim.h"

static M7Sim *make(const char *overrides, uint64_t ddr) {
    M7Machine m;
    char err[256];
    m7_machine_default(&m);
    if (m7_machine_apply_list(&m, overrides, err, sizeof err) < 0)
        return NULL;
    return m7sim_new(&m, ddr, err, sizeof err);
}

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* A deterministic spread of floats: normal, tiny, huge, negative, zero. */
static float sample(uint32_t i) {
    uint32_t x = i * 2654435761u ^ (i >> 3) * 40503u;
    switch (i % 7) {
    case 0: return (float)(x % 2001) / 1000.0f - 1.0f;
    case 1: return ldexpf((float)(x % 1000) + 1, -140); /* subnormal */
    case 2: return ldexpf((float)(x % 1000) + 1, 100);
    case 3: return -(float)(x % 100000) / 7.0f;
    case 4: return 0.0f;
    default: {
        float f;
        x = (x & 0x807fffffu) | ((x % 200 + 27) << 23);
        memcpy(&f, &x, 4);
        return f;
    }
    }
}

/* ---- exact FP32: the kernel moves a, b, c in, computes, moves results out */
enum { NV = 64 }; /* vectors per operand */
static void k_arith(void) {
    uint64_t bytes = NV * 128;
    m7_dma(0, M7_AM(0), M7_DDR(0), 1, (uint32_t)(3 * bytes), 0, 0);
    m7_dma_wait(0);
    for (uint64_t v = 0; v < NV; v++) {
        m7_vec a = m7_vld(M7_AM(v * 128)), b = m7_vld(M7_AM(bytes + v * 128));
        m7_vec c = m7_vld(M7_AM(2 * bytes + v * 128));
        m7_vst(M7_AM(3 * bytes + v * 128), m7_vfma(a, b, c));
        m7_vst(M7_AM(4 * bytes + v * 128), m7_vmul(a, b));
        m7_vst(M7_AM(5 * bytes + v * 128), m7_vadd(a, c));
        m7_vst(M7_AM(6 * bytes + v * 128), m7_vsub(a, c));
        m7_vst(M7_AM(7 * bytes + v * 128), m7_vsel(m7_vcmpgt(a, c), m7_vmax(a, b), m7_vmin(b, c)));
    }
    m7_dma(1, M7_DDR(3 * bytes), M7_AM(3 * bytes), 1, (uint32_t)(5 * bytes), 0, 0);
    m7_dma_wait(1);
}

static void test_exact_fp32(void) {
    M7Sim *s = make("cores=1", 8 * NV * 128);
    uint32_t n = NV * 32;
    float *d = (float *)m7sim_host_ptr(s, M7_DDR(0), 0, 8 * NV * 128);
    for (uint32_t i = 0; i < 3 * n; i++)
        d[i] = sample(i + 1);
    CU_ASSERT_EQUAL_FATAL(m7sim_run(s, k_arith), 0);
    int bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        float a = d[i], b = d[n + i], c = d[2 * n + i];
        float want[5] = {fmaf(a, b, c), a * b, a + c, a - c, a > c ? (a > b ? a : b) : (b < c ? b : c)};
        for (int k = 0; k < 5; k++)
            bad += bits(d[(3 + k) * n + i]) != bits(want[k]);
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* and fma really is fused: a case where a*b+c rounds differently */
    float a = 1.0f + ldexpf(1, -12), c = -(1.0f + ldexpf(1, -11));
    CU_ASSERT_NOT_EQUAL(bits(fmaf(a, a, c)), bits(a * a + c));
    m7sim_free(s);
}

/* ---- reductions, broadcasts, scalar loads, transcendentals -------------- */
static void k_misc(void) {
    m7_dma(0, M7_AM(0), M7_DDR(0), 1, 128, 0, 0);
    m7_dma(1, M7_SM(0), M7_DDR(128), 1, 8, 0, 0);
    m7_dma_wait(0);
    m7_dma_wait(1);
    m7_vec v = m7_vld(M7_AM(0));
    m7_sst(M7_SM(64), m7_vreduce_add(v));
    m7_sst(M7_SM(68), m7_vreduce_max(v));
    m7_scalar x, y;
    m7_sld2(M7_SM(0), &x, &y);
    m7_vst(M7_AM(128), m7_vfma(m7_vbcast(x), m7_vbcast(y), m7_vsplat(0.25f)));
    m7_vst(M7_AM(256), m7_vexp(v));
    m7_vst(M7_AM(384), m7_vrcp(v));
    m7_vst(M7_AM(512), m7_vrsqrt(m7_vld_u(M7_AM(4))));
    m7_vst_n(M7_AM(644), v, 5);
    m7_dma(0, M7_DDR(256), M7_AM(128), 1, 640, 0, 0);
    m7_dma(1, M7_DDR(1024), M7_SM(64), 1, 8, 0, 0);
    m7_dma_wait(0);
    m7_dma_wait(1);
}

static void test_misc_ops(void) {
    M7Sim *s = make("cores=1", 2048);
    float *d = (float *)m7sim_host_ptr(s, M7_DDR(0), 0, 2048);
    for (int i = 0; i < 32; i++)
        d[i] = 0.5f + (float)i / 8;
    d[32] = 3.0f, d[33] = -2.0f;
    CU_ASSERT_EQUAL_FATAL(m7sim_run(s, k_misc), 0);
    float sum = 0;
    for (int i = 0; i < 32; i++)
        sum += d[i]; /* exact here: all multiples of 1/8 */
    CU_ASSERT_EQUAL(d[256], sum);
    CU_ASSERT_EQUAL(d[257], d[31]);
    const float *o = d + 64;
    CU_ASSERT_EQUAL(o[0], -5.75f);
    for (int i = 0; i < 32; i++) {
        CU_ASSERT_EQUAL(bits(o[32 + i]), bits(expf(d[i])));
        CU_ASSERT_EQUAL(bits(o[64 + i]), bits(1.0f / d[i]));
    }
    for (int i = 0; i < 31; i++)
        CU_ASSERT_EQUAL(bits(o[96 + i]), bits(1.0f / sqrtf(d[i + 1])));
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(o[129 + i], d[i]);
    CU_ASSERT_EQUAL(o[128], 0.0f);
    CU_ASSERT_EQUAL(o[134], 0.0f);
    m7sim_free(s);
}

/* ---- the checks -------------------------------------------------------------
 * Each kernel has a BUG switch: 0 is the correct program, 1 plants the bug
 * (on core 1 only, inside a region, so the report names them). */
static int BUG;

#define PLANT (BUG && m7_core_id() == 1)

static void k_am_capacity(void) {
    m7_region_begin("conv1", 0);
    uint64_t off = PLANT ? 768 * 1024 : 768 * 1024 - 128;
    m7_vst(M7_AM(off), m7_vzero());
    m7_region_end();
}
static void k_sm_capacity(void) {
    m7_region_begin("conv1", 0);
    m7_scalar x = m7_sld(M7_SM(PLANT ? 64 * 1024 : 64 * 1024 - 4));
    m7_sst(M7_SM(0), x);
    m7_region_end();
}
static void k_gsm_capacity(void) {
    m7_region_begin("conv1", 0);
    uint64_t off = (6u << 20) - 4096 + (PLANT ? 4 : 0);
    m7_dma(0, M7_GSM(off), M7_AM(0), 1, 4096, 0, 0);
    m7_dma_wait(0);
    m7_region_end();
}
static void k_ddr_capacity(void) {
    m7_region_begin("conv1", 0);
    /* 2-D: 4 rows of 1 KiB at a 16 KiB stride end at 48 KiB + 1 KiB */
    uint64_t off = PLANT ? 16 * 1024 : 0;
    m7_dma(0, M7_AM(0), M7_DDR(off), 4, 1024, 1024, 16 * 1024);
    m7_dma_wait(0);
    m7_region_end();
}
static void k_am_sm(void) {
    m7_region_begin("conv1", 0);
    m7_dma(2, PLANT ? M7_SM(0) : M7_GSM(0), M7_AM(0), 1, 256, 0, 0);
    m7_dma_wait(2);
    m7_region_end();
}
static void k_misaligned(void) {
    m7_region_begin("conv1", 0);
    m7_vec v = m7_vld(M7_AM(PLANT ? 64 : 128));
    m7_vst(M7_AM(256), v);
    m7_region_end();
}
static void k_wrong_memory(void) {
    m7_region_begin("conv1", 0);
    m7_vec v = m7_vld(PLANT ? M7_SM(0) : M7_AM(0));
    m7_vst(M7_AM(256), v);
    m7_region_end();
}
/* read (vector load) of data a DMA still writes */
static void k_race_vld(void) {
    m7_region_begin("conv1", 0);
    m7_dma(5, M7_AM(4096), M7_DDR(0), 8, 512, 1024, 512); /* rows at 4096 + 1024 i */
    m7_vec gap = m7_vld(M7_AM(4096 + 512));               /* between rows: fine */
    if (!PLANT)
        m7_dma_wait(5);
    m7_vec v = m7_vld(M7_AM(4096 + 3 * 1024 + 128));
    m7_dma_wait(5);
    m7_vst(M7_AM(0), m7_vadd(v, gap));
    m7_region_end();
}
/* scalar load of data a DMA still writes */
static void k_race_sld(void) {
    m7_region_begin("conv1", 0);
    m7_dma(0, M7_SM(256), M7_DDR(0), 1, 256, 0, 0);
    if (!PLANT)
        m7_dma_wait(0);
    m7_scalar x = m7_sld(M7_SM(300));
    m7_dma_wait(0);
    m7_sst(M7_SM(0), x);
    m7_region_end();
}
/* store into data a DMA still reads */
static void k_race_vst(void) {
    m7_region_begin("conv1", 0);
    m7_dma(1, M7_DDR(0), M7_AM(0), 1, 1024, 0, 0);
    if (!PLANT)
        m7_dma_wait(1);
    m7_vst(M7_AM(512), m7_vzero());
    m7_dma_wait(1);
    m7_region_end();
}
/* a DMA reading what another DMA still writes */
static void k_race_dma_src(void) {
    m7_region_begin("conv1", 0);
    m7_dma(0, M7_AM(0), M7_DDR(0), 1, 1024, 0, 0);
    if (!PLANT)
        m7_dma_wait(0);
    m7_dma(1, M7_GSM(0), M7_AM(512), 1, 128, 0, 0);
    m7_dma_wait(0);
    m7_dma_wait(1);
    m7_region_end();
}
/* a DMA overwriting what another DMA still reads */
static void k_race_dma_dst(void) {
    m7_region_begin("conv1", 0);
    m7_dma(0, M7_DDR(0), M7_AM(0), 1, 1024, 0, 0);
    if (!PLANT)
        m7_dma_wait(0);
    m7_dma(1, M7_AM(0), M7_DDR(4096), 1, 128, 0, 0);
    m7_dma_wait(0);
    m7_dma_wait(1);
    m7_region_end();
}
/* the kernel ends before waiting for a DMA */
static void k_unwaited(void) {
    m7_dma(0, M7_DDR(0), M7_AM(0), 1, 1024, 0, 0);
    if (!PLANT)
        m7_dma_wait(0);
}
/* a core skipping a barrier */
static void k_barrier_mismatch(void) {
    if (!PLANT)
        m7_barrier();
}

/* a collective broadcast with different arguments on one core */
static void k_bcast_args(void) {
    m7_dma_bcast(3, M7_AM(0), M7_DDR(PLANT ? 128 : 0), 1, 128, 0, 0);
    m7_dma_wait(3);
    m7_barrier();
}

static const struct {
    const char *name;
    void (*kernel)(void);
    int kind;
    m7_addr addr; /* ~0: not checked */
} checks[] = {
    {"AM capacity", k_am_capacity, M7SIM_ERR_ACCESS, M7_AM(768 * 1024)},
    {"SM capacity", k_sm_capacity, M7SIM_ERR_ACCESS, M7_SM(64 * 1024)},
    {"GSM capacity", k_gsm_capacity, M7SIM_ERR_ACCESS, M7_GSM((6u << 20) - 4092)},
    {"DDR capacity", k_ddr_capacity, M7SIM_ERR_ACCESS, M7_DDR(16 * 1024)},
    {"AM->SM DMA", k_am_sm, M7SIM_ERR_DMA, ~(m7_addr)0},
    {"misaligned vld", k_misaligned, M7SIM_ERR_ACCESS, M7_AM(64)},
    {"vld from SM", k_wrong_memory, M7SIM_ERR_ACCESS, M7_SM(0)},
    {"vld races DMA write", k_race_vld, M7SIM_ERR_RACE, M7_AM(4096 + 3 * 1024 + 128)},
    {"sld races DMA write", k_race_sld, M7SIM_ERR_RACE, M7_SM(300)},
    {"vst races DMA read", k_race_vst, M7SIM_ERR_RACE, M7_AM(512)},
    {"DMA source races DMA write", k_race_dma_src, M7SIM_ERR_RACE, M7_AM(512)},
    {"DMA destination races DMA read", k_race_dma_dst, M7SIM_ERR_RACE, M7_AM(0)},
    {"unwaited DMA at kernel end", k_unwaited, M7SIM_ERR_PROGRAM, ~(m7_addr)0},
    {"barrier skipped", k_barrier_mismatch, M7SIM_ERR_PROGRAM, ~(m7_addr)0},
    {"broadcast arguments differ", k_bcast_args, M7SIM_ERR_PROGRAM, ~(m7_addr)0},
};

static void test_checks(void) {
    M7Sim *s = make("", 64 * 1024);
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        for (int threads = 1; threads <= 4; threads *= 2) {
            m7sim_set_threads(s, threads);
            BUG = 0;
            int rc = m7sim_run(s, checks[i].kernel);
            if (rc != 0)
                printf("\n  %s: correct kernel reported: %s\n", checks[i].name, m7sim_error(s)->msg);
            CU_ASSERT_EQUAL(rc, 0);
            BUG = 1;
            rc = m7sim_run(s, checks[i].kernel);
            const M7SimError *e = m7sim_error(s);
            CU_ASSERT_EQUAL(rc, -1);
            CU_ASSERT_EQUAL(e->kind, checks[i].kind);
            if (e->kind != checks[i].kind || threads == 1)
                printf("\n  %s: %s", checks[i].name, e->msg);
            if (checks[i].kernel != k_barrier_mismatch && checks[i].kernel != k_bcast_args)
                CU_ASSERT_EQUAL(e->core, 1);
            if (checks[i].addr != ~(m7_addr)0) {
                CU_ASSERT_EQUAL(e->addr, checks[i].addr);
                CU_ASSERT_STRING_EQUAL(e->region, "conv1");
                CU_ASSERT(strstr(e->msg, "conv1") != NULL);
                CU_ASSERT(strstr(e->msg, "core 1") != NULL);
            }
        }
    }
    printf("\n");
    m7sim_free(s);
}

/* ---- determinism and the roofline ------------------------------------------
 * Four cores, each streaming its own tiles DDR->AM (double-buffered) with a
 * broadcast weight vector, computing, writing back, with barriers between
 * two layers; a different amount of work per core. */
static void layer(int id, int tiles, uint64_t in, uint64_t out) {
    int me = m7_core_id(), n = m7_core_count();
    m7_dma_bcast(15, M7_SM(0), M7_DDR(0), 1, 256, 0, 0);
    m7_dma_wait(15);
    m7_scalar w0, w1;
    m7_sld2(M7_SM(8 * (uint64_t)id), &w0, &w1);
    m7_vec a = m7_vbcast(w0), b = m7_vbcast(w1);
    for (int t = me; t < tiles; t += n) {
        uint64_t src = in + (uint64_t)t * 4096;
        m7_dma(t % 2, M7_AM((uint64_t)(t % 2) * 4096), M7_DDR(src), 8, 512, 512, 512);
        m7_dma_wait(t % 2);
        m7_vec acc[6];
        for (int j = 0; j < 6; j++)
            acc[j] = m7_vzero();
        for (int r = 0; r < 12; r++)
            for (int v = 0; v < 32; v++) {
                m7_vec x = m7_vld(M7_AM((uint64_t)(t % 2) * 4096 + 128 * (uint64_t)v));
                acc[(r * 32 + v) % 6] = m7_vfma(x, a, acc[(r * 32 + v) % 6]);
            }
        m7_vec sum = m7_vadd(m7_vadd(m7_vadd(acc[0], acc[1]), m7_vadd(acc[2], acc[3])),
                             m7_vmul(m7_vadd(acc[4], acc[5]), b));
        m7_vst(M7_AM(16384), sum);
        m7_dma(4, M7_DDR(out + (uint64_t)t * 128), M7_AM(16384), 1, 128, 0, 0);
        m7_dma_wait(4);
    }
}

static void k_layers(void) {
    m7_region_begin("layer1", 17 * 12 * 32 * 64);
    layer(1, 17, 4096, 200000);
    m7_barrier();
    m7_region_end();
    m7_region_begin("layer2", 9 * 12 * 32 * 64);
    layer(3, 9, 100000, 210000);
    m7_barrier();
    m7_region_end();
}

static void test_determinism(void) {
    M7Sim *s = make("", 256 * 1024);
    float *d = (float *)m7sim_host_ptr(s, M7_DDR(0), 0, 256 * 1024);
    for (int i = 0; i < 64 * 1024; i++)
        d[i] = sample((uint32_t)i);
    uint64_t cycles[6];
    M7SimRegion first[2];
    static float out[6][4096];
    for (int r = 0; r < 6; r++) {
        m7sim_set_threads(s, 1 + r % 3);
        memset(d + 200000 / 4, 0, 4 * 4096);
        CU_ASSERT_EQUAL_FATAL(m7sim_run(s, k_layers), 0);
        cycles[r] = m7sim_cycles(s);
        memcpy(out[r], d + 200000 / 4, sizeof out[r]);
        CU_ASSERT_EQUAL_FATAL(m7sim_region_count(s), 2);
        for (int g = 0; g < 2; g++) {
            const M7SimRegion *R = m7sim_region(s, g);
            if (r == 0)
                first[g] = *R;
            else
                CU_ASSERT(memcmp(&first[g], R, sizeof *R) == 0);
            CU_ASSERT(R->efficiency <= R->bound + 1e-12);
            CU_ASSERT(R->efficiency > 0);
            CU_ASSERT(R->useful_flops <= R->exec_flops);
        }
        CU_ASSERT(m7sim_total(s)->efficiency <= m7sim_total(s)->bound + 1e-12);
        CU_ASSERT(cycles[r] == cycles[0]);
        CU_ASSERT(memcmp(out[r], out[0], sizeof out[0]) == 0);
    }
    CU_ASSERT(out[0][0] != 0);
    m7sim_free(s);
}

/* Roofline: a DMA-bound region's efficiency stays under its bound, which is
 * below 1; the bound follows from bytes and flops alone. */
static void k_dma_bound(void) {
    m7_region_begin("stream", 64 * 64 * (uint64_t)m7_core_count());
    m7_vec acc = m7_vzero(), x = m7_vsplat(1.0f);
    for (int t = 0; t < 8; t++) {
        m7_dma(0, M7_AM(0), M7_DDR((uint64_t)m7_core_id() * 65536), 1, 65536, 0, 0);
        m7_dma_wait(0);
        for (int i = 0; i < 8; i++)
            acc = m7_vfma(x, x, acc);
    }
    m7_vst(M7_AM(0), acc);
    m7_region_end();
}

static void test_roofline(void) {
    M7Sim *s = make("", 4 * 65536);
    CU_ASSERT_EQUAL_FATAL(m7sim_run(s, k_dma_bound), 0);
    const M7SimRegion *R = m7sim_region(s, 0);
    double dma = 4.0 * 8 * 65536 / (32e9 / 1.8e9);
    CU_ASSERT_DOUBLE_EQUAL(R->dma_cycles, dma, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(R->compute_cycles, 64.0 * 64 * 4 / (4 * 192), 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(R->bound, R->compute_cycles / dma, 1e-12);
    CU_ASSERT(R->efficiency <= R->bound);
    CU_ASSERT(R->cycles >= dma);
    CU_ASSERT_DOUBLE_EQUAL(R->dma_bytes[M7_MEM_DDR], 4.0 * 8 * 65536, 0.5);
    CU_ASSERT(R->core_dma_wait[2] > 0 && R->core_compute[2] > 0);
    m7sim_free(s);
}

/* A compute-bound region right after a slow reduction: its FMAs issue
 * before the reduction completes, and the region's span must cover them. */
static void k_full_speed(void) {
    m7_vec x = m7_vsplat(1.0f);
    m7_region_begin("reduce", 0);
    m7_scalar r = m7_vreduce_add(x);
    m7_region_end();
    m7_region_begin("fma", 64 * 18 * 40);
    m7_vec acc[18];
    for (int j = 0; j < 18; j++)
        acc[j] = x;
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 18; j++)
            acc[j] = m7_vfma(x, x, acc[j]);
    for (int j = 0; j < 18; j++)
        m7_vst(M7_AM(128 * (uint64_t)j), acc[j]);
    m7_region_end();
    m7_sst(M7_SM(0), r);
}

static void test_full_speed(void) {
    M7Sim *s = make("cores=1", 4096);
    CU_ASSERT_EQUAL_FATAL(m7sim_run(s, k_full_speed), 0);
    const M7SimRegion *R = m7sim_region(s, 1);
    CU_ASSERT(R->efficiency > 0.9);
    CU_ASSERT(R->efficiency <= 1.0);
    CU_ASSERT(R->efficiency <= R->bound);
    CU_ASSERT(R->begin < m7sim_region(s, 0)->end); /* the regions overlap */
    m7sim_free(s);
}

int main(void) {
    static const TestCase tests[] = {
        {"FP32 results equal host fmaf/mul/add bit for bit", test_exact_fp32},
        {"reductions, broadcasts, transcendentals, masked store", test_misc_ops},
        {"each check fires on a planted bug, silent otherwise", test_checks},
        {"identical results and cycles across runs and threads", test_determinism},
        {"efficiency within the roofline bound", test_roofline},
        {"a region at full speed stays within the bound", test_full_speed},
        {NULL, NULL},
    };
    return cunit_run("checks", tests);
}
