/* ops.c: the vector and scalar operations of m7rt.h: each computes its exact
 * FP32 result and is timed as one instruction (MACHINE.md 5.1-5.3).
 * This is the simulator's hot path: no allocation, no locks, O(1) slot
 * bookkeeping.  docs/simulator.md explains the costs chosen here. */
#include <math.h>
#include <string.h>

#include "simulator/sim_internal.h"

int m7sim_have_fma;

static inline uint64_t max2(uint64_t a, uint64_t b) { return a > b ? a : b; }

__attribute__((noinline, noreturn)) static void ring_overflow(Core *c) {
    m7sim_fail(c, M7SIM_ERR_INTERNAL, 0,
               "timing ring overflow: instructions in flight span more cycles than the ring holds");
}

/* The cycle slot t for unit class u is free: takes it. */
static inline int slot_take(Core *c, uint64_t t, int u, int count_issue) {
    Slot *s = &c->ring[t & c->ring_mask];
    if (s->tag != t) {
        if (s->tag > t)
            ring_overflow(c);
        s->tag = t;
        s->cnt = 0;
    }
    uint64_t n = s->cnt;
    if (((n >> (8 * u)) & 0xff) >= c->cap[u])
        return 0;
    if (count_issue && (n >> (8 * U_TOTAL)) >= c->issue_width)
        return 0;
    s->cnt = n + ((uint64_t)1 << (8 * u)) + ((uint64_t)count_issue << (8 * U_TOTAL));
    return 1;
}

/* Issues one instruction of class u whose operands are ready at `ready`
 * (5.3: operands, floor, window, a free unit and issue slot); returns the
 * issue cycle. */
static inline uint64_t issue(Core *c, int u, uint64_t ready) {
    uint64_t t = max2(ready, c->floor);
    t = max2(t, c->win[c->widx]);
    while (!slot_take(c, t, u, 1))
        t++;
    c->win[c->widx] = t;
    if (++c->widx == c->W)
        c->widx = 0;
    c->k.ops++;
    if (t < c->first_issue)
        c->first_issue = t;
    return t;
}

/* Records the completion of an instruction issued at t; returns it. */
static inline uint64_t complete(Core *c, uint64_t t, int lat) {
    uint64_t d = t + (uint64_t)lat;
    if (d > c->last_complete)
        c->last_complete = d;
    return d;
}

static inline uint64_t op(Core *c, int u, uint64_t ready, int lat) {
    return complete(c, issue(c, u, ready), lat);
}

/* A lane reduction keeps the VIEU busy for reduce_busy cycles. */
static uint64_t issue_busy(Core *c, uint64_t ready) {
    uint64_t t = max2(max2(ready, c->floor), c->win[c->widx]);
    for (;; t++) {
        int ok = 1;
        for (int j = 0; j < c->reduce_busy && ok; j++) {
            const Slot *s = &c->ring[(t + (uint64_t)j) & c->ring_mask];
            if (s->tag == t + (uint64_t)j &&
                (((s->cnt >> (8 * U_VIEU)) & 0xff) >= c->cap[U_VIEU] ||
                 (j == 0 && (s->cnt >> (8 * U_TOTAL)) >= c->issue_width)))
                ok = 0;
        }
        if (!ok)
            continue;
        for (int j = 0; j < c->reduce_busy; j++)
            slot_take(c, t + (uint64_t)j, U_VIEU, j == 0);
        break;
    }
    c->win[c->widx] = t;
    if (++c->widx == c->W)
        c->widx = 0;
    c->k.ops++;
    if (t < c->first_issue)
        c->first_issue = t;
    return complete(c, t, c->lat_reduce);
}

/* ---- memory access checks --------------------------------------------- */

__attribute__((noinline, noreturn)) static void bad_access(Core *c, m7_addr a, uint64_t len,
                                                           uint64_t align, int want, const char *what) {
    static const char *names[] = {"?", "DDR", "GSM", "AM", "SM"};
    int mem = M7_ADDR_MEM(a);
    uint64_t off = M7_ADDR_OFF(a), cap = want == M7_MEM_AM ? c->am_bytes : c->sm_bytes;
    if (mem != want)
        m7sim_fail(c, M7SIM_ERR_ACCESS, a, "%s needs an %s address, got %s address 0x%llx", what,
                   names[want], mem >= 1 && mem <= 4 ? names[mem] : "an invalid",
                   (unsigned long long)a);
    if (off % align)
        m7sim_fail(c, M7SIM_ERR_ACCESS, a, "%s at %s offset %llu is not %llu-byte aligned", what,
                   names[want], (unsigned long long)off, (unsigned long long)align);
    m7sim_fail(c, M7SIM_ERR_ACCESS, a, "%s of %llu bytes at %s offset %llu exceeds %s capacity %llu",
               what, (unsigned long long)len, names[want], (unsigned long long)off, names[want],
               (unsigned long long)cap);
}

/* Host pointer of a checked AM access (len <= 256). */
static inline float *am_at(Core *c, m7_addr a, uint64_t len, uint64_t align, const char *what) {
    uint64_t off = M7_ADDR_OFF(a);
    if (__builtin_expect(M7_ADDR_MEM(a) != M7_MEM_AM || off > c->am_bytes - len || (off & (align - 1)), 0))
        bad_access(c, a, len, align, M7_MEM_AM, what);
    return (float *)(c->am + off);
}

static inline float *sm_at(Core *c, m7_addr a, uint64_t len, const char *what) {
    uint64_t off = M7_ADDR_OFF(a);
    if (__builtin_expect(M7_ADDR_MEM(a) != M7_MEM_SM || off > c->sm_bytes - len || (off & (len - 1)), 0))
        bad_access(c, a, len, len, M7_MEM_SM, what);
    return (float *)(c->sm + off);
}

/* Memory dependencies (MACHINE.md 5.4): a load is ready to issue once the
 * last store to each AM line (128 B) or SM word (4 B) it reads has
 * completed; a store records its completion on what it writes.  Addresses
 * are checked already; aligned accesses touch one line or word, pairs two
 * (the unaligned and masked forms name each line they touch). */
static inline uint64_t *am_line(Core *c, uint64_t off) { return &c->am_line_done[off / M7_VEC_BYTES]; }
static inline uint64_t *sm_word(Core *c, uint64_t off) { return &c->sm_word_done[off / 4]; }
static inline void written(uint64_t *done, uint64_t t) { *done = max2(*done, t); }

/* a is a checked AM or SM address: a quick reject against the span of
 * the active transfers, then the exact check. */
static inline void race(Core *c, m7_addr a, uint64_t len, int write, const char *what) {
    int mem = M7_ADDR_MEM(a);
    uint64_t off = M7_ADDR_OFF(a);
    if (c->nact && off < c->act_hi[mem] && off + len > c->act_lo[mem])
        m7sim_race_check(c, a, len, write, what);
}

/* ---- lane arithmetic ---------------------------------------------------- */

#if defined(__x86_64__)
#include <immintrin.h>
/* 128-bit FMAs: callers copy m7_vec arguments with 16-byte moves, and
 * wider loads of them would stall on store forwarding. */
__attribute__((target("fma"))) static void fma_hw(float *r, const float *a, const float *b,
                                                  const float *c) {
    for (int i = 0; i < M7_LANES; i += 4)
        _mm_storeu_ps(r + i, _mm_fmadd_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i), _mm_loadu_ps(c + i)));
}
#define HAVE_FMA_HW 1
#endif

static void fma_lanes(float *r, const float *a, const float *b, const float *c) {
#ifdef HAVE_FMA_HW
    if (m7sim_have_fma) {
        fma_hw(r, a, b, c);
        return;
    }
#endif
    for (int i = 0; i < M7_LANES; i++)
        r[i] = fmaf(a[i], b[i], c[i]);
}

void m7sim_detect_cpu(void) {
#ifdef HAVE_FMA_HW
    __builtin_cpu_init();
    m7sim_have_fma = __builtin_cpu_supports("fma") != 0;
#endif
}

#define L(v) ((v).m7_private_lane)
#define R(v) ((v).m7_private_ready)

/* ---- vector unit -------------------------------------------------------- */

m7_vec m7_vzero(void) {
    Core *c = m7sim_cur;
    m7_vec r;
    memset(L(r), 0, sizeof L(r));
    R(r) = op(c, U_VIEU, 0, c->lat_vint);
    return r;
}

m7_vec m7_vsplat(float imm) {
    Core *c = m7sim_cur;
    m7_vec r;
    for (int i = 0; i < M7_LANES; i++)
        L(r)[i] = imm;
    R(r) = op(c, U_VIEU, 0, c->lat_vint);
    return r;
}

m7_vec m7_vld(m7_addr a) {
    Core *c = m7sim_cur;
    m7_vec r;
    const float *p = am_at(c, a, M7_VEC_BYTES, M7_VEC_BYTES, "m7_vld");
    race(c, a, M7_VEC_BYTES, 0, "m7_vld");
    memcpy(L(r), p, M7_VEC_BYTES);
    R(r) = op(c, U_VLS, *am_line(c, M7_ADDR_OFF(a)), c->lat_vload);
    return r;
}

void m7_vld2(m7_addr a, m7_vec *lo, m7_vec *hi) {
    Core *c = m7sim_cur;
    const float *p = am_at(c, a, 2 * M7_VEC_BYTES, 2 * M7_VEC_BYTES, "m7_vld2");
    race(c, a, 2 * M7_VEC_BYTES, 0, "m7_vld2");
    memcpy(L(*lo), p, M7_VEC_BYTES);
    memcpy(L(*hi), p + M7_LANES, M7_VEC_BYTES);
    const uint64_t *d = am_line(c, M7_ADDR_OFF(a));
    R(*lo) = R(*hi) = op(c, U_VLS, max2(d[0], d[1]), c->lat_vload);
}

/* Unaligned: two aligned loads and a VIEU lane shift merging them. */
m7_vec m7_vld_u(m7_addr a) {
    Core *c = m7sim_cur;
    m7_vec r;
    const float *p = am_at(c, a, M7_VEC_BYTES, 4, "m7_vld_u");
    race(c, a, M7_VEC_BYTES, 0, "m7_vld_u");
    memcpy(L(r), p, M7_VEC_BYTES);
    uint64_t off = M7_ADDR_OFF(a);
    uint64_t t0 = op(c, U_VLS, *am_line(c, off), c->lat_vload);
    uint64_t t1 = op(c, U_VLS, *am_line(c, off + M7_VEC_BYTES - 1), c->lat_vload);
    R(r) = op(c, U_VIEU, max2(t0, t1), c->lat_vint);
    return r;
}

void m7_vst(m7_addr a, m7_vec v) {
    Core *c = m7sim_cur;
    float *p = am_at(c, a, M7_VEC_BYTES, M7_VEC_BYTES, "m7_vst");
    race(c, a, M7_VEC_BYTES, 1, "m7_vst");
    memcpy(p, L(v), M7_VEC_BYTES);
    written(am_line(c, M7_ADDR_OFF(a)), op(c, U_VLS, R(v), c->lat_vstore));
}

void m7_vst2(m7_addr a, m7_vec lo, m7_vec hi) {
    Core *c = m7sim_cur;
    float *p = am_at(c, a, 2 * M7_VEC_BYTES, 2 * M7_VEC_BYTES, "m7_vst2");
    race(c, a, 2 * M7_VEC_BYTES, 1, "m7_vst2");
    memcpy(p, L(lo), M7_VEC_BYTES);
    memcpy(p + M7_LANES, L(hi), M7_VEC_BYTES);
    uint64_t *d = am_line(c, M7_ADDR_OFF(a)), t = op(c, U_VLS, max2(R(lo), R(hi)), c->lat_vstore);
    written(&d[0], t), written(&d[1], t);
}

/* Masked store of n lanes: a VIEU op builds the mask (and shifts the lanes
 * when unaligned), then one masked VLS store per 128-B line touched. */
void m7_vst_n(m7_addr a, m7_vec v, int n) {
    Core *c = m7sim_cur;
    if (n < 0 || n > M7_LANES)
        m7sim_fail(c, M7SIM_ERR_ACCESS, a, "m7_vst_n: lane count %d is outside 0..%d", n, M7_LANES);
    if (n == 0)
        return;
    uint64_t len = 4 * (uint64_t)n;
    float *p = am_at(c, a, len, 4, "m7_vst_n");
    race(c, a, len, 1, "m7_vst_n");
    memcpy(p, L(v), len);
    uint64_t off = M7_ADDR_OFF(a);
    int lines = (off / M7_VEC_BYTES != (off + len - 1) / M7_VEC_BYTES) ? 2 : 1;
    uint64_t m = op(c, U_VIEU, R(v), c->lat_vint);
    for (int i = 0; i < lines; i++) {
        uint64_t *d = am_line(c, i ? off + len - 1 : off); /* the first and, when two, the last line */
        written(d, op(c, U_VLS, m, c->lat_vstore));
    }
}

m7_vec m7_vfma(m7_vec a, m7_vec b, m7_vec acc) {
    Core *c = m7sim_cur;
    m7_vec r;
    fma_lanes(L(r), L(a), L(b), L(acc));
    R(r) = op(c, U_VMAC, max2(max2(R(a), R(b)), R(acc)), c->lat_fma);
    c->k.n_fma++;
    return r;
}

#define BINOP(fn, unit, lat, expr, count)                                                          \
    m7_vec fn(m7_vec a, m7_vec b) {                                                                \
        Core *c = m7sim_cur;                                                                       \
        m7_vec r;                                                                                  \
        for (int i = 0; i < M7_LANES; i++) {                                                       \
            float x = L(a)[i], y = L(b)[i];                                                        \
            L(r)[i] = (expr);                                                                      \
        }                                                                                          \
        R(r) = op(c, unit, max2(R(a), R(b)), c->lat);                                              \
        count;                                                                                     \
        return r;                                                                                  \
    }

BINOP(m7_vmul, U_VMAC, lat_fma, x * y, c->k.n_muladd++)
BINOP(m7_vadd, U_VMAC, lat_fma, x + y, c->k.n_muladd++)
BINOP(m7_vsub, U_VMAC, lat_fma, x - y, c->k.n_muladd++)
BINOP(m7_vmax, U_VIEU, lat_vint, x > y ? x : y, (void)0)
BINOP(m7_vmin, U_VIEU, lat_vint, x < y ? x : y, (void)0)

static inline float mask_lane(int on) {
    uint32_t bits = on ? 0xffffffffu : 0;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

m7_vec m7_vcmpgt(m7_vec a, m7_vec b) {
    Core *c = m7sim_cur;
    m7_vec r;
    for (int i = 0; i < M7_LANES; i++)
        L(r)[i] = mask_lane(L(a)[i] > L(b)[i]);
    R(r) = op(c, U_VIEU, max2(R(a), R(b)), c->lat_vint);
    return r;
}

m7_vec m7_vsel(m7_vec mask, m7_vec a, m7_vec b) {
    Core *c = m7sim_cur;
    m7_vec r;
    for (int i = 0; i < M7_LANES; i++) {
        uint32_t bits;
        memcpy(&bits, &L(mask)[i], 4);
        L(r)[i] = bits ? L(a)[i] : L(b)[i];
    }
    R(r) = op(c, U_VIEU, max2(max2(R(mask), R(a)), R(b)), c->lat_vint);
    return r;
}

/* Lane reductions combine pairwise (a tree: lanes i and i+16, then i+8, ...). */
static m7_scalar reduce(m7_vec v, int is_max) {
    Core *c = m7sim_cur;
    float t[M7_LANES];
    memcpy(t, L(v), sizeof t);
    for (int w = M7_LANES / 2; w; w /= 2)
        for (int i = 0; i < w; i++)
            t[i] = is_max ? (t[i] > t[i + w] ? t[i] : t[i + w]) : t[i] + t[i + w];
    m7_scalar s = {t[0], issue_busy(c, R(v))};
    return s;
}

m7_scalar m7_vreduce_add(m7_vec v) { return reduce(v, 0); }
m7_scalar m7_vreduce_max(m7_vec v) { return reduce(v, 1); }

/* A documented instruction sequence, timed as a dependent chain of its
 * instructions (docs/machine.md): V = VMAC, I = VIEU. */
static uint64_t sequence(Core *c, uint64_t ready, const char *seq) {
    for (; *seq; seq++) {
        if (*seq == 'V') {
            ready = op(c, U_VMAC, ready, c->lat_fma);
            c->k.n_muladd++;
        } else {
            ready = op(c, U_VIEU, ready, c->lat_vint);
        }
    }
    return ready;
}

/* exp: n = round(x*log2e) [V, I]; r = x - n*ln2_hi - n*ln2_lo [V V];
 * degree-6 Horner polynomial [V x6]; 2^n into the exponent [I I]. */
#define SEQ_EXP "VIVVVVVVVVII"
/* 1/x: magic-constant estimate [I]; 3 Newton steps e=1-x*y, y=y+y*e [VV x3]. */
#define SEQ_RCP "IVVVVVV"
/* 1/sqrt(x): estimate [I I]; h=0.5x [V]; 3 steps y=y*(1.5-h*y*y) [VVV x3]. */
#define SEQ_RSQRT "IIVVVVVVVVVV"
/* log: exponent and mantissa split [I I]; m in [sqrt(1/2), sqrt(2)): t = (m-1)/(m+1)
 * by 1/x [IVVVVVV] and a multiply; odd degree-9 polynomial in t [V x6]; + e ln2 [V]. */
#define SEQ_LOG "IIVIVVVVVVVVVVVVVV"

/* A lane-wise function the VPU computes as a counted instruction sequence:
 * the lanes get the libm result (the functional side), the timing the
 * sequence's. */
static m7_vec lane_sequence(m7_vec v, float (*fn)(float), const char *seq) {
    m7_vec r;
    for (int i = 0; i < M7_LANES; i++)
        L(r)[i] = fn(L(v)[i]);
    R(r) = sequence(m7sim_cur, R(v), seq);
    return r;
}

static float recipf(float x) { return 1.0f / x; }
static float recip_sqrtf(float x) { return 1.0f / sqrtf(x); }

m7_vec m7_vexp(m7_vec v) { return lane_sequence(v, expf, SEQ_EXP); }
m7_vec m7_vrcp(m7_vec v) { return lane_sequence(v, recipf, SEQ_RCP); }
m7_vec m7_vlog(m7_vec v) { return lane_sequence(v, logf, SEQ_LOG); }
m7_vec m7_vrsqrt(m7_vec v) { return lane_sequence(v, recip_sqrtf, SEQ_RSQRT); }

/* ---- scalar unit and broadcast ------------------------------------------ */

m7_scalar m7_sld(m7_addr a) {
    Core *c = m7sim_cur;
    const float *p = sm_at(c, a, 4, "m7_sld");
    race(c, a, 4, 0, "m7_sld");
    m7_scalar s = {*p, op(c, U_SLD, *sm_word(c, M7_ADDR_OFF(a)), c->lat_sload)};
    return s;
}

void m7_sld2(m7_addr a, m7_scalar *x, m7_scalar *y) {
    Core *c = m7sim_cur;
    const float *p = sm_at(c, a, 8, "m7_sld2");
    race(c, a, 8, 0, "m7_sld2");
    x->m7_private_value = p[0];
    y->m7_private_value = p[1];
    const uint64_t *d = sm_word(c, M7_ADDR_OFF(a));
    x->m7_private_ready = y->m7_private_ready = op(c, U_SLD, max2(d[0], d[1]), c->lat_sload);
}

void m7_sst(m7_addr a, m7_scalar s) {
    Core *c = m7sim_cur;
    float *p = sm_at(c, a, 4, "m7_sst");
    race(c, a, 4, 1, "m7_sst");
    *p = s.m7_private_value;
    written(sm_word(c, M7_ADDR_OFF(a)), op(c, U_SLD, s.m7_private_ready, c->lat_sload));
}

m7_vec m7_vbcast(m7_scalar s) {
    Core *c = m7sim_cur;
    m7_vec r;
    for (int i = 0; i < M7_LANES; i++)
        L(r)[i] = s.m7_private_value;
    R(r) = op(c, U_BCAST, s.m7_private_ready, c->lat_bcast);
    return r;
}
