/* dma.c: 2-D DMA transfers, broadcasts and waits (MACHINE.md 3 and 5.4), and
 * the race checks against transfers a core has not waited for yet.
 * A transfer copies its data when issued; the race checks make that
 * indistinguishable from a copy at any time before its completion. */
#include <math.h>
#include <string.h>

#include "simulator/sim_internal.h"

static const char *mem_name(int m) {
    static const char *names[] = {"invalid", "DDR", "GSM", "AM", "SM"};
    return m >= 1 && m <= 4 ? names[m] : names[0];
}

static inline uint64_t max2(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Does [a, a+len) meet a row [base + i*stride, +rb) of the pattern? */
static int overlaps(uint64_t base, uint64_t stride, uint32_t rows, uint32_t rb, uint64_t a,
                    uint64_t len) {
    if (!rows || !rb || !len)
        return 0;
    uint64_t last_end = base + (uint64_t)(rows - 1) * stride + rb;
    if (a + len <= base || a >= last_end)
        return 0;
    if (stride <= rb || rows == 1)
        return 1;
    uint64_t i = a >= base + rb ? (a - base - rb) / stride + 1 : 0; /* first row ending after a */
    return i < rows && base + i * stride < a + len;
}

void m7sim_race_check(Core *c, m7_addr a, uint64_t len, int write, const char *what) {
    int mem = M7_ADDR_MEM(a);
    uint64_t off = M7_ADDR_OFF(a);
    for (size_t i = 0; i < c->nact; i++) {
        const Xfer *x = &c->act[i];
        if (x->dst_mem == mem && overlaps(x->dst, x->dst_stride, x->rows, x->row_bytes, off, len))
            m7sim_fail(c, M7SIM_ERR_RACE, a,
                       "%s %s %s offset %llu (%llu bytes) while the DMA on channel %d still writes "
                       "it (no m7_dma_wait yet)",
                       what, write ? "writes" : "reads", mem_name(mem), (unsigned long long)off,
                       (unsigned long long)len, x->ch);
        if (write && x->src_mem == mem &&
            overlaps(x->src, x->src_stride, x->rows, x->row_bytes, off, len))
            m7sim_fail(c, M7SIM_ERR_RACE, a,
                       "%s overwrites %s offset %llu (%llu bytes) while the DMA on channel %d still "
                       "reads it (no m7_dma_wait yet)",
                       what, mem_name(mem), (unsigned long long)off, (unsigned long long)len, x->ch);
    }
}

/* Host pointer to a checked 2-D pattern of extent ext at address a. */
static uint8_t *pattern_at(Core *c, m7_addr a, uint64_t ext, const char *what, const char *side) {
    M7Sim *s = c->sim;
    uint64_t off = M7_ADDR_OFF(a), cap = 0;
    uint8_t *base = NULL;
    switch (M7_ADDR_MEM(a)) {
    case M7_MEM_DDR: base = s->ddr, cap = s->ddr_bytes; break;
    case M7_MEM_GSM: base = s->gsm, cap = (uint64_t)s->m.gsm_bytes; break;
    case M7_MEM_AM: base = c->am, cap = c->am_bytes; break;
    case M7_MEM_SM: base = c->sm, cap = c->sm_bytes; break;
    default:
        m7sim_fail(c, M7SIM_ERR_ACCESS, a, "%s: %s address 0x%llx names no memory", what, side,
                   (unsigned long long)a);
    }
    if (ext > cap || off > cap - ext)
        m7sim_fail(c, M7SIM_ERR_ACCESS, a,
                   "%s: %s spans %s offsets %llu..%llu, beyond its capacity %llu%s", what, side,
                   mem_name(M7_ADDR_MEM(a)), (unsigned long long)off,
                   (unsigned long long)(off + ext), (unsigned long long)cap,
                   M7_ADDR_MEM(a) == M7_MEM_DDR ? " (the program's declared ddr_bytes)" : "");
    return base + off;
}

static uint64_t extent(Core *c, uint32_t rows, uint32_t rb, uint64_t stride, m7_addr a,
                       const char *what) {
    if (!rows || !rb)
        return 0;
    uint64_t span;
    if (__builtin_mul_overflow((uint64_t)(rows - 1), stride, &span) ||
        __builtin_add_overflow(span, (uint64_t)rb, &span))
        m7sim_fail(c, M7SIM_ERR_ACCESS, a, "%s: %u rows with stride %llu overflow the address space",
                   what, rows, (unsigned long long)stride);
    return span;
}

static void span_add(Core *c, int mem, uint64_t off, uint64_t ext) {
    if (off < c->act_lo[mem])
        c->act_lo[mem] = off;
    if (off + ext > c->act_hi[mem])
        c->act_hi[mem] = off + ext;
}

void m7sim_span_reset(Core *c) {
    for (int l = 0; l < M7SIM_LEVELS; l++)
        c->act_lo[l] = UINT64_MAX, c->act_hi[l] = 0;
}

static void transfer(Core *c, int ch, m7_addr dst, m7_addr src, uint32_t rows, uint32_t rb,
                     uint64_t ds, uint64_t ss, int bcast) {
    M7Sim *s = c->sim;
    const char *what = bcast ? "m7_dma_bcast" : "m7_dma";
    int dm = M7_ADDR_MEM(dst), sm = M7_ADDR_MEM(src);
    if (ch < 0 || ch >= s->m.dma_channels)
        m7sim_fail(c, M7SIM_ERR_DMA, dst, "%s: channel %d is outside 0..%d", what, ch,
                   s->m.dma_channels - 1);
    if ((dm == M7_MEM_AM && sm == M7_MEM_SM) || (dm == M7_MEM_SM && sm == M7_MEM_AM))
        m7sim_fail(c, M7SIM_ERR_DMA, dst, "%s: %s -> %s is not possible (no DMA between AM and SM)",
                   what, mem_name(sm), mem_name(dm));
    if (bcast && (!(sm == M7_MEM_DDR || sm == M7_MEM_GSM) || !(dm == M7_MEM_AM || dm == M7_MEM_SM)))
        m7sim_fail(c, M7SIM_ERR_DMA, dst, "%s: broadcasts go from DDR or GSM to AM or SM, not %s -> %s",
                   what, mem_name(sm), mem_name(dm));
    uint64_t dext = extent(c, rows, rb, ds, dst, what), sext = extent(c, rows, rb, ss, src, what);
    uint8_t *dp = pattern_at(c, dst, dext, what, "destination");
    const uint8_t *sp = pattern_at(c, src, sext, what, "source");
    uint64_t doff = M7_ADDR_OFF(dst), soff = M7_ADDR_OFF(src);
    if (c->nact && rows && rb) {
        for (uint32_t r = 0; r < rows; r++) {
            m7sim_race_check(c, src + r * ss, rb, 0, bcast ? "m7_dma_bcast source" : "m7_dma source");
            m7sim_race_check(c, dst + r * ds, rb, 1,
                             bcast ? "m7_dma_bcast destination" : "m7_dma destination");
        }
    }
    if (rb)
        for (uint32_t r = 0; r < rows; r++)
            memmove(dp + r * ds, sp + r * ss, rb);

    /* Timing (MACHINE.md 5.5): fenced after every earlier instruction, after
     * the channel's previous transfer.  Only the setup latency overlaps
     * other channels' transfers: the per-row overheads and the bytes occupy
     * the core's link, and a DDR->DDR copy moves its bytes twice over it
     * (read and write). */
    uint64_t bytes = (uint64_t)rows * rb;
    int ddr = dm == M7_MEM_DDR || sm == M7_MEM_DDR;
    double bw = ddr ? (bcast ? s->m.ddr_bw : s->m.ddr_bw / s->ncores) : s->m.gsm_bw;
    uint64_t link_bytes = dm == M7_MEM_DDR && sm == M7_MEM_DDR ? 2 * bytes : bytes;
    uint64_t start = max2(max2(c->last_complete, c->floor), c->ch_free[ch]);
    uint64_t ready = start + (uint64_t)s->m.dma_setup, go = max2(ready, c->link_free[!ddr]);
    /* A broadcast from DDR is one read for every core: it goes when the last
     * core has issued it and every core's link is free, and it holds them
     * all (the chip's bandwidth) while it runs. */
    if (bcast && ddr)
        go = m7sim_collective(c, go);
    uint64_t end = go + (uint64_t)rows * (uint64_t)s->m.dma_row_overhead + (uint64_t)ceil((double)link_bytes / bw);
    c->link_free[!ddr] = end;
    c->ch_free[ch] = end;
    if (end > c->dma_end_region)
        c->dma_end_region = end;

    /* Bytes per level; a DDR broadcast's one read counts once (on core 0). */
    if (bcast && sm == M7_MEM_DDR)
        c->k.bytes[M7_MEM_DDR] += c->id == 0 ? (double)bytes : 0;
    else
        c->k.bytes[sm] += (double)bytes;
    c->k.bytes[dm] += (double)bytes;

    if (s->trace)
        m7sim_trace(c, (Event){EV_DMA, ch, bcast ? "bcast" : "dma", start, end, bytes});
    c->act = m7sim_grow(c, c->act, c->nact, &c->cap_act, sizeof(Xfer));
    c->act[c->nact++] = (Xfer){ch, dm, sm, doff, soff, ds, ss, rows, rb};
    span_add(c, dm, doff, dext);
    span_add(c, sm, soff, sext);
}

void m7_dma(int ch, m7_addr dst, m7_addr src, uint32_t rows, uint32_t row_bytes,
            uint64_t dst_stride, uint64_t src_stride) {
    transfer(m7sim_core("m7_dma"), ch, dst, src, rows, row_bytes, dst_stride, src_stride, 0);
}

void m7_dma_bcast(int ch, m7_addr dst, m7_addr src, uint32_t rows, uint32_t row_bytes,
                  uint64_t dst_stride, uint64_t src_stride) {
    Core *c = m7sim_core("m7_dma_bcast");
    /* a collective: barriers compare this hash across cores (FNV-1a style) */
    uint64_t args[] = {(uint64_t)ch, dst, src, rows, row_bytes, dst_stride, src_stride};
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
        c->bcast_hash = (c->bcast_hash ^ args[i]) * 0x100000001b3ull;
    transfer(c, ch, dst, src, rows, row_bytes, dst_stride, src_stride, 1);
}

void m7_dma_wait(int ch) {
    Core *c = m7sim_core("m7_dma_wait");
    if (ch < 0 || ch >= c->sim->m.dma_channels)
        m7sim_fail(c, M7SIM_ERR_DMA, 0, "m7_dma_wait: channel %d is outside 0..%d", ch,
                   c->sim->m.dma_channels - 1);
    uint64_t now = core_now(c), done = c->ch_free[ch];
    if (done > now) {
        c->k.dma_wait += done - now;
        if (c->sim->trace)
            m7sim_trace(c, (Event){EV_WAIT, ch, "dma wait", now, done, 0});
    }
    if (done > c->floor)
        c->floor = done;
    size_t n = 0;
    m7sim_span_reset(c);
    for (size_t i = 0; i < c->nact; i++)
        if (c->act[i].ch != ch) {
            c->act[n] = c->act[i];
            const Xfer *x = &c->act[n++];
            span_add(c, x->dst_mem, x->dst, extent(c, x->rows, x->row_bytes, x->dst_stride, 0, ""));
            span_add(c, x->src_mem, x->src, extent(c, x->rows, x->row_bytes, x->src_stride, 0, ""));
        }
    c->nact = n;
}
