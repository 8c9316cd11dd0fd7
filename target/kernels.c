/* kernels.c: the kernel library every generated program carries.
 *
 * codegen copies it (joined with kernels_train.c and m7k.h into one file by
 * amalgamate.c) to the top of each generated NAME.c and then emits, per
 * layer, a constant plan (one of the structs of m7k.h, filled with the
 * backend's decisions) and a kernel function calling the driver.  It uses
 * nothing but runtime/m7rt.h.  Plain C integer arithmetic here is
 * free (SIEU/SBR work); every data access is a runtime operation.
 *
 * Activation layout in DDR ("blocked"): [N][ceil(C/32)][H][W][32] FP32, so a
 * pixel's 32 channels are one aligned vector (docs/backend.md).  Graph
 * inputs/outputs are NCHW; the first conv reads NCHW directly ("planar").
 *
 * DMA channels: M7K_CH_* of m7k.h.
 */
#include <stdint.h>

#include "m7rt.h"
#include "m7k.h"       /* the plans, enums and limits this library shares with the compiler */
#include "m7k_split.h" /* core shares, ranges and windows, computed as the cost model does */

/* Every program carries the whole library; a kernel it does not call is
 * not a mistake. */
#define M7K_LIB __attribute__((unused))

static M7K_LIB m7_vec m7k_act(const M7kAct *a, m7_vec v) {
    switch (a->act) {
    case M7K_ACT_RELU:
        return m7_vmax(v, m7_vzero());
    case M7K_ACT_LEAKY:
        return m7_vsel(m7_vcmpgt(v, m7_vzero()), v, m7_vmul(v, m7_vsplat(a->alpha)));
    case M7K_ACT_CLIP:
        return m7_vmin(m7_vmax(v, m7_vsplat(a->lo)), m7_vsplat(a->hi));
    case M7K_ACT_SIGMOID: /* 1 / (1 + exp(-x)) */
        return m7_vrcp(m7_vadd(m7_vexp(m7_vsub(m7_vzero(), v)), m7_vsplat(1.0f)));
    case M7K_ACT_TANH: /* 1 - 2 / (exp(2x) + 1): saturates to +-1 without overflow trouble */
        return m7_vsub(m7_vsplat(1.0f),
                       m7_vmul(m7_vsplat(2.0f), m7_vrcp(m7_vadd(m7_vexp(m7_vadd(v, v)), m7_vsplat(1.0f)))));
    default:
        return v;
    }
}

/* ======================= convolution (and FC) ==========================
 * Channels in lanes: 32 output channels per vector; weights in AM, input
 * pixels in SM broadcast to all lanes.  The micro-kernel holds a block of
 * vco output-channel vectors x px output pixels of one row in registers. */

/* Geometry of one input tile in SM: rows_in x cols_in pixels per sub. */
typedef struct {
    int rows, cols;                 /* input window */
    uint64_t sr, sc, sub_bytes;     /* SM strides */
} M7kWin;

static M7K_LIB M7kWin m7k_conv_win(const M7kConv *p, int nr, int nc) {
    M7kWin w;
    w.rows = m7k_win_extent(nr, p->sh, p->kh, p->dh);
    w.cols = m7k_win_extent(nc, p->sw, p->kw, p->dw);
    w.sc = (uint64_t)p->sub_ci * 4;
    w.sr = (uint64_t)w.cols * w.sc;
    w.sub_bytes = ((uint64_t)w.rows * w.sr + 7) & ~(uint64_t)7;
    return w;
}

/* The tile sequence of a core: item t -> (image, first output row, first col). */
typedef struct {
    M7kShare sh;                    /* the core's rows, channel vectors, slice; broadcast or not */
    int nht, nwt, ntiles;           /* row tiles, column tiles, tiles in all (n x nht x nwt) */
} M7kConvWork;

static M7K_LIB void m7k_tile_of(const M7kConv *p, const M7kConvWork *wk, int t, int *n, int *r0, int *nr,
                        int *c0, int *nc) {
    int per_n = wk->nht * wk->nwt;
    *n = t / per_n;
    int ht = t % per_n / wk->nwt, wt = t % wk->nwt;
    *r0 = wk->sh.r_lo + ht * p->th;
    *nr = m7k_min(p->th, wk->sh.r_hi - *r0);
    *c0 = wt * p->tw;
    *nc = m7k_min(p->tw, p->wo - *c0);
}

/* DMA of one sub (block or channel) of an input window into SM, with the
 * parts outside the image filled from the zero row. */
static M7K_LIB void m7k_conv_load_sub(const M7kConv *p, int ch, m7_addr dst, const M7kWin *win, int n,
                              int sub, int ih0, int iw0, uint32_t pix_bytes) {
    M7kClip k = m7k_clip(ih0, iw0, win->rows, win->cols, p->h, p->w);
    int v0 = k.v0, v1 = k.v1, u0 = k.u0, u1 = k.u1;
    if (k.pad_top > 0)
        m7_dma(ch, dst, M7_DDR(p->zero), (uint32_t)k.pad_top, (uint32_t)win->sr, win->sr, 0);
    if (k.pad_bottom > 0)
        m7_dma(ch, dst + (uint64_t)(v1 - ih0) * win->sr, M7_DDR(p->zero), (uint32_t)k.pad_bottom,
               (uint32_t)win->sr, win->sr, 0);
    if (k.empty) {
        if (v1 > v0) /* the rows are in the image but every column is padding */
            m7_dma(ch, dst + (uint64_t)(v0 - ih0) * win->sr, M7_DDR(p->zero), (uint32_t)(v1 - v0),
                   (uint32_t)win->sr, win->sr, 0);
        return;
    }
    m7_addr rowdst = dst + (uint64_t)(v0 - ih0) * win->sr;
    if (k.pad_left > 0)
        m7_dma(ch, rowdst, M7_DDR(p->zero), (uint32_t)(v1 - v0), (uint32_t)(k.pad_left * win->sc), win->sr, 0);
    if (k.pad_right > 0)
        m7_dma(ch, rowdst + (uint64_t)(u1 - iw0) * win->sc, M7_DDR(p->zero), (uint32_t)(v1 - v0),
               (uint32_t)(k.pad_right * win->sc), win->sr, 0);
    uint64_t src = p->in + (uint64_t)n * p->in_sn + (uint64_t)sub * p->in_ssub +
                   (uint64_t)v0 * p->in_sh + (uint64_t)u0 * p->in_sw;
    m7_addr d = rowdst + (uint64_t)(u0 - iw0) * win->sc;
    int mem = p->in_gsm ? M7_MEM_GSM : M7_MEM_DDR;
    if (p->in_sw == win->sc) { /* pixels contiguous: one 2-D transfer */
        m7_dma(ch, d, M7_ADDR(mem, src), (uint32_t)(v1 - v0), (uint32_t)((u1 - u0) * win->sc), win->sr,
               p->in_sh);
    } else { /* one transfer per row, a pixel per DMA row */
        for (int v = v0; v < v1; v++)
            m7_dma(ch, d + (uint64_t)(v - v0) * win->sr, M7_ADDR(mem, src + (uint64_t)(v - v0) * p->in_sh),
                   (uint32_t)(u1 - u0), pix_bytes, win->sc, p->in_sw);
    }
}

/* Brings the input window of tile t for the channels of weight chunk kc. */
static M7K_LIB void m7k_conv_load_tile(const M7kConv *p, const M7kConvWork *wk, int t, int kc, int slot) {
    int n, r0, nr, c0, nc;
    m7k_tile_of(p, wk, t, &n, &r0, &nr, &c0, &nc);
    M7kWin win = m7k_conv_win(p, p->th, p->tw);
    int ci0 = p->ci_base + kc * p->ci_chunk, nci = m7k_min(p->ci_chunk, p->cin - kc * p->ci_chunk);
    int s0 = ci0 / p->sub_ci, s1 = m7k_cdiv(ci0 + nci, p->sub_ci);
    m7_addr base = M7_SM(slot ? p->sm_in1 : p->sm_in0);
    for (int s = s0; s < s1; s++) /* only the channels used: the last may end early */
        m7k_conv_load_sub(p, M7K_CH_IN + slot, base + (uint64_t)(s - s0) * win.sub_bytes, &win, n, s,
                          r0 * p->sh - p->pt, c0 * p->sw - p->pl,
                          (uint32_t)m7k_min(p->sub_ci, ci0 + nci - s * p->sub_ci) * 4);
}

/* Weight chunk (cc, kc): [vector j][channel][tap][32] contiguous in DDR;
 * part `part` of `parts` of it.  The next chunk is fetched a part per tile
 * so the input windows queued on the same DMA link behind it are never
 * late; a broadcast is collective, so its parts are as many as the core
 * with the fewest tiles has (w_parts, the same on every core). */
static M7K_LIB void m7k_conv_load_w(const M7kConv *p, const M7kConvWork *wk, int k, int nkc, int part, int parts) {
    int cc = k / nkc, kc = k % nkc;
    int v0 = wk->sh.co_lo + cc * p->co_chunk, nv = m7k_min(p->co_chunk, wk->sh.co_hi - v0);
    int ci0 = kc * p->ci_chunk, nci = m7k_min(p->ci_chunk, p->cin - ci0);
    uint64_t kk = (uint64_t)p->kh * p->kw * 128;
    uint64_t src = p->wts + (uint64_t)v0 * p->cin * kk + (uint64_t)nv * ci0 * kk;
    uint64_t bytes = (uint64_t)nv * nci * kk;
    m7_addr dst = M7_AM((k & 1) ? p->am_w1 : p->am_w0);
    uint64_t lo = bytes / 128 * part / parts * 128, hi = bytes / 128 * (part + 1) / parts * 128;
    if (part == parts - 1)
        hi = bytes;
    if (hi <= lo)
        return;
    if (wk->sh.bcast)
        m7_dma_bcast(M7K_CH_W + (k & 1), dst + lo, M7_DDR(src + lo), 1, (uint32_t)(hi - lo), 0, 0);
    else
        m7_dma(M7K_CH_W + (k & 1), dst + lo, M7_DDR(src + lo), 1, (uint32_t)(hi - lo), 0, 0);
}

/* Step i of a micro-kernel call (codegen emits the micro-kernels, one per
 * block shape, modulo-scheduled by the backend): the SM address of pixel 0's
 * scalar (the first of a pair) and of vector 0's weight; the loop's steps
 * start at channel ch0 and take `per` channels each, all taps of a channel
 * (or pair) before the next. */
static M7K_LIB void m7k_mk_at(const M7kMkCall *c, int ch0, int per, int i, m7_addr *xa, m7_addr *wa) {
    int kk = c->kh * c->kw, ch = ch0 + i / kk * per, tap = i % kk, cs = c->cioff + ch;
    *xa = c->x0 + (uint64_t)(cs / c->sub_ci) * c->sub_bytes + (uint64_t)(cs % c->sub_ci) * 4 +
          (uint64_t)(tap / c->kw * c->dh) * c->sr + (uint64_t)(tap % c->kw * c->dw) * c->sc;
    *wa = c->w0 + ((uint64_t)ch * kk + tap) * 128;
}

/* DMA of a finished output tile from AM to DDR (blocked layout). */
static M7K_LIB void m7k_conv_store(const M7kConv *p, int ch, m7_addr src, int v0, int nv, int n, int r0,
                           int nr, int c0, int nc) {
    uint64_t jb = (uint64_t)p->th * p->tw * 128;
    for (int j = 0; j < nv; j++) {
        uint64_t dst = p->out + (uint64_t)n * p->out_sn + (uint64_t)(v0 + j) * p->out_sv +
                       (uint64_t)r0 * p->out_sh + (uint64_t)c0 * p->out_sw;
        if (p->out_sw == 128) {
            m7_dma(ch, M7_DDR(dst), src + j * jb, (uint32_t)nr, (uint32_t)nc * 128, p->out_sh,
                   (uint64_t)p->tw * 128);
        } else {
            for (int r = 0; r < nr; r++)
                m7_dma(ch, M7_DDR(dst + (uint64_t)r * p->out_sh),
                       src + j * jb + (uint64_t)r * p->tw * 128, (uint32_t)nc, 128, p->out_sw, 128);
        }
    }
}

/* Pools a finished nr x nc tile in place: pooled pixel (r, c) goes to
 * position r * tw + c, never past a position still to be read.  In issue
 * order the loads of a window run `ahead` windows before its max (or sum),
 * so the reduction never waits for a load (MACHINE.md 5.3). */
#define M7K_POOL_AHEAD_REGS 32 /* k <= 4 (backend/fuse.c): (ahead + 1) k^2 <= 32 */
static M7K_LIB void m7k_conv_pool(const M7kConv *p, m7_addr obase, int nv, int nr, int nc) {
    int k = p->pool_k, kk = k * k, pr = nr / k, pc = nc / k, n = nv * pr * pc;
    int ahead = m7k_max(1, m7k_min(4, M7K_POOL_AHEAD_REGS / kk - 1));
    uint64_t jb = (uint64_t)p->th * p->tw * 128;
    m7_vec win[M7K_POOL_AHEAD_REGS];
    for (int w = 0; w < n + ahead; w++) {
        if (w < n) { /* window w's loads */
            int j = w / (pr * pc), r = w / pc % pr, c = w % pc;
            m7_addr a = obase + j * jb + ((uint64_t)r * k * p->tw + (uint64_t)c * k) * 128;
            m7_vec *d = &win[w % (ahead + 1) * kk];
            for (int dy = 0; dy < k; dy++)
                for (int dx = 0; dx < k; dx++)
                    d[dy * k + dx] = m7_vld(a + ((uint64_t)dy * p->tw + dx) * 128);
        }
        int u = w - ahead; /* window u's reduction and store */
        if (u < 0)
            continue;
        int j = u / (pr * pc), r = u / pc % pr, c = u % pc;
        m7_vec *d = &win[u % (ahead + 1) * kk];
        m7_vec acc = d[0];
        for (int t = 1; t < kk; t++)
            acc = p->pool_max ? m7_vmax(acc, d[t]) : m7_vadd(acc, d[t]);
        if (!p->pool_max)
            acc = m7_vmul(acc, m7_vsplat(p->pool_scale));
        m7_vst(obase + j * jb + ((uint64_t)r * p->tw + c) * 128, acc);
    }
}

static M7K_LIB void m7k_conv_group(const M7kConv *p) {
    M7kConvWork wk;
    wk.sh = m7k_conv_share(p->ho, p->pool_k, p->nvco, p->row_parts, p->slices, p->no_share, m7_core_id(),
                           m7_core_count());
    int pk = p->pool_k > 1 ? p->pool_k : 1;
    wk.nht = m7k_cdiv(wk.sh.r_hi - wk.sh.r_lo, p->th);
    wk.nwt = m7k_cdiv(p->wo, p->tw);
    wk.ntiles = p->n * wk.nht * wk.nwt;
    int ncc = m7k_cdiv(wk.sh.co_hi - wk.sh.co_lo, p->co_chunk);
    int nkc = m7k_cdiv(p->cin, p->ci_chunk);
    int nchunks = ncc * nkc;
    if (!wk.sh.bcast && (wk.ntiles == 0 || ncc == 0))
        return; /* nothing for this core, and no collective to take part in */
    int kk = p->kh * p->kw;
    M7kWin win = m7k_conv_win(p, p->th, p->tw);
    M7kMkCall call = {0};
    call.ovj = (uint64_t)p->th * p->tw * 128, call.bias_q = p->bias_px ? (uint64_t)p->nvco * 128 : 0;
    call.sr = win.sr, call.sc = win.sc, call.sub_bytes = win.sub_bytes, call.px_step = (uint64_t)p->sw * win.sc;
    call.sub_ci = p->sub_ci, call.kh = p->kh, call.kw = p->kw, call.dh = p->dh, call.dw = p->dw;
    if (p->bias) {
        uint64_t bytes = (uint64_t)p->nvco * 128 * (p->bias_px ? (uint64_t)p->wo : 1);
        if (wk.sh.bcast)
            m7_dma_bcast(M7K_CH_CONST, M7_AM(p->am_bias), M7_DDR(p->bias), 1, (uint32_t)bytes, bytes, bytes);
        else
            m7_dma(M7K_CH_CONST, M7_AM(p->am_bias), M7_DDR(p->bias), 1, (uint32_t)bytes, bytes, bytes);
    }
    m7k_conv_load_w(p, &wk, 0, nkc, 0, 1);
    if (wk.ntiles)
        m7k_conv_load_tile(p, &wk, 0, 0, 0);
    if (p->bias)
        m7_dma_wait(M7K_CH_CONST);
    int total = nchunks * wk.ntiles, nstored = 0;
    for (int k = 0; k < nchunks; k++) {
        int cc = k / nkc, kc = k % nkc;
        int parts = wk.sh.bcast ? m7k_max(p->w_parts, 1) : wk.ntiles; /* private: ntiles > 0 */
        int sb = p->single_buf;
        if (k + 1 < nchunks && parts == 1 && !sb)
            m7k_conv_load_w(p, &wk, k + 1, nkc, 0, 1);
        m7_dma_wait(M7K_CH_W + (k & 1));
        int v0 = wk.sh.co_lo + cc * p->co_chunk, nv = m7k_min(p->co_chunk, wk.sh.co_hi - v0);
        int ci0 = kc * p->ci_chunk, nci = m7k_min(p->ci_chunk, p->cin - ci0);
        uint64_t wj = (uint64_t)nci * kk * 128;
        m7_addr wbase = M7_AM((k & 1) ? p->am_w1 : p->am_w0);
        if (p->resident && kc == 0) { /* the outputs of the last chunk have left AM */
            m7_dma_wait(M7K_CH_OUT);
            m7_dma_wait(M7K_CH_OUT + 1);
        }
        for (int t = 0; t < wk.ntiles; t++) {
            int it = k * wk.ntiles + t;
            if (it + 1 < total && !sb)
                m7k_conv_load_tile(p, &wk, (it + 1) % wk.ntiles, (it + 1) / wk.ntiles % nkc, (it + 1) & 1);
            if (k + 1 < nchunks && parts > 1 && t < parts && !sb)
                m7k_conv_load_w(p, &wk, k + 1, nkc, t, parts);
            m7_dma_wait(M7K_CH_IN + (it & 1));
            int n, r0, nr, c0, nc;
            m7k_tile_of(p, &wk, t, &n, &r0, &nr, &c0, &nc);
            m7_addr obase;
            int os = sb ? 0 : nstored & 1; /* output slot */
            if (p->resident) {
                obase = M7_AM(p->am_out + (uint64_t)t * p->out_tile_bytes);
            } else {
                obase = M7_AM(p->am_out + (uint64_t)os * p->out_tile_bytes);
                m7_dma_wait(M7K_CH_OUT + os); /* its last store has left */
            }
            m7_addr xbase = M7_SM((it & 1) ? p->sm_in1 : p->sm_in0);
            call.nci = nci, call.cioff = (p->ci_base + ci0) % p->sub_ci, call.wj = wj;
            call.first = kc == 0, call.last = kc == nkc - 1;
            uint64_t ovj = (uint64_t)p->th * p->tw * 128;
            int s_lo, s_hi; /* this core's vectors of the chunk */
            m7k_range(nv, wk.sh.slice, wk.sh.nslices, &s_lo, &s_hi);
            for (int j0 = s_lo; j0 < s_hi; j0 += p->vco) {
                int vb = m7k_min(p->vco, s_hi - j0);
                m7_addr bias = p->bias ? M7_AM(p->am_bias + (uint64_t)(v0 + j0) * 128) : 0;
                for (int r = 0; r < nr; r++)
                    for (int q0 = 0; q0 < nc; q0 += p->px) {
                        int pb = m7k_min(p->px, nc - q0);
                        m7_addr x0 = xbase + (uint64_t)(r * p->sh) * win.sr + (uint64_t)(q0 * p->sw) * win.sc;
                        m7_addr o0 = obase + j0 * ovj + ((uint64_t)r * p->tw + q0) * 128;
                        m7_addr b0 = bias && p->bias_px ? bias + (uint64_t)(c0 + q0) * p->nvco * 128 : bias;
                        call.x0 = x0, call.w0 = wbase + j0 * wj, call.o0 = o0, call.bias = b0;
                        p->mk(vb, pb, &call);
                    }
            }
            if (kc == nkc - 1) {
                m7_addr mine = obase + s_lo * ovj;
                if (pk > 1)
                    m7k_conv_pool(p, mine, s_hi - s_lo, nr, nc);
                m7k_conv_store(p, M7K_CH_OUT + os, mine, v0 + s_lo, s_hi - s_lo, n, r0 / pk, nr / pk,
                               c0 / pk, nc / pk);
                nstored++;
            }
            if (it + 1 < total && sb) /* the one slot is free once this compute is issued */
                m7k_conv_load_tile(p, &wk, (it + 1) % wk.ntiles, (it + 1) / wk.ntiles % nkc, (it + 1) & 1);
        }
        if (k + 1 < nchunks && sb)
            m7k_conv_load_w(p, &wk, k + 1, nkc, 0, 1);
    }
    m7_dma_wait(M7K_CH_OUT);
    m7_dma_wait(M7K_CH_OUT + 1);
}

static M7K_LIB void m7k_conv(const M7kConv *p) {
    if (p->in_gsm) { /* every core stages its share, then all wait for all */
        int core = m7_core_id(), ncores = m7_core_count();
        uint64_t lo = p->stage_bytes * core / ncores / 128 * 128;
        uint64_t hi = core == ncores - 1 ? p->stage_bytes : p->stage_bytes * (core + 1) / ncores / 128 * 128;
        if (hi > lo) {
            m7_dma(M7K_CH_IN, M7_GSM(p->in + lo), M7_DDR(p->stage_src + lo), 1, (uint32_t)(hi - lo), 0, 0);
            m7_dma_wait(M7K_CH_IN);
        }
        m7_barrier();
    }
    M7kConv q = *p;
    for (int g = 0; g < p->groups; g++) {
        q.ci_base = p->ci_base + g * p->cin;
        q.out = p->out + g * p->g_out;
        q.wts = p->wts + g * p->g_wts;
        q.bias = p->bias ? p->bias + g * p->g_bias : 0;
        m7k_conv_group(&q);
    }
}

/* ======================== depthwise convolution =========================
 * One channel per lane, so no broadcasts: per kernel row the input vectors
 * of a pixel block are loaded once and reused by the kw taps; the weights
 * [block][tap][32] and bias [block][32] sit in AM.  Items: (image, channel
 * block, row tile); the input window (with zero padding) comes into AM by
 * the conv's own loader, and the tile is the full output width. */

static M7K_LIB void m7k_dw_load(const M7kDw *p, const M7kConvWork *wk, int item, int slot) {
    const M7kConv *g = &p->geo;
    int per = wk->nht, nb = item / per, ht = item % per;
    int n = nb / p->ncb, cb = nb % p->ncb, r0 = ht * g->th;
    M7kWin win = m7k_conv_win(g, g->th, g->tw);
    m7k_conv_load_sub(g, M7K_CH_IN + slot, M7_AM(slot ? p->am_in1 : p->am_in0), &win, n, cb,
                      r0 * g->sh - g->pt, -g->pl, 128);
}

static M7K_LIB void m7k_dw(const M7kDw *p) {
    const M7kConv *g = &p->geo;
    M7kConvWork wk;
    wk.nht = m7k_cdiv(g->ho, g->th);
    int kk = g->kh * g->kw, lo, hi;
    m7k_range(g->n * p->ncb * wk.nht, m7_core_id(), m7_core_count(), &lo, &hi);
    if (lo >= hi)
        return;
    uint64_t wb = (uint64_t)p->ncb * kk * 128;
    m7_dma(M7K_CH_CONST, M7_AM(p->am_w), M7_DDR(g->wts), 1, (uint32_t)wb, wb, wb);
    if (g->bias)
        m7_dma(M7K_CH_CONST, M7_AM(p->am_b), M7_DDR(g->bias), 1, (uint32_t)p->ncb * 128, 0, 0);
    m7k_dw_load(p, &wk, lo, 0);
    m7_dma_wait(M7K_CH_CONST);
    M7kWin win = m7k_conv_win(g, g->th, g->tw);
    m7_vec acc[M7K_DW_MAXP], xs[M7K_DW_MAXX], wv[M7K_DW_MAXP];
    int sb = p->am_in1 == p->am_in0; /* single-buffered: the next load after the compute */
    for (int it = lo; it < hi; it++) {
        int slot = sb ? 0 : (it - lo) & 1;
        if (it + 1 < hi && !sb)
            m7k_dw_load(p, &wk, it + 1, slot ^ 1);
        m7_dma_wait(M7K_CH_IN + slot);
        m7_dma_wait(M7K_CH_OUT + slot); /* the slot's last tile has left */
        int nb = it / wk.nht, cb = nb % p->ncb, r0 = it % wk.nht * g->th;
        int nr = m7k_min(g->th, g->ho - r0);
        m7_addr in = M7_AM(slot ? p->am_in1 : p->am_in0), out = M7_AM(slot ? p->am_out1 : p->am_out0);
        m7_addr w = M7_AM(p->am_w + (uint64_t)cb * kk * 128);
        for (int r = 0; r < nr; r++)
            for (int q0 = 0; q0 < g->wo; q0 += p->px) {
                int pb = m7k_min(p->px, g->wo - q0), nx = (pb - 1) * g->sw + (g->kw - 1) * g->dw + 1;
                for (int q = 0; q < pb; q++)
                    acc[q] = g->bias ? m7_vld(M7_AM(p->am_b + (uint64_t)cb * 128)) : m7_vzero();
                for (int ky = 0; ky < g->kh; ky++) {
                    m7_addr row = in + (uint64_t)(r * g->sh + ky * g->dh) * win.sr + (uint64_t)q0 * g->sw * 128;
                    for (int kx = 0; kx < g->kw; kx++)
                        wv[kx] = m7_vld(w + (uint64_t)(ky * g->kw + kx) * 128);
                    for (int i = 0; i < nx; i++)
                        xs[i] = m7_vld(row + (uint64_t)i * 128);
                    for (int kx = 0; kx < g->kw; kx++)
                        for (int q = 0; q < pb; q++)
                            acc[q] = m7_vfma(wv[kx], xs[q * g->sw + kx * g->dw], acc[q]);
                }
                for (int q = 0; q < pb; q++)
                    m7_vst(out + ((uint64_t)r * g->wo + q0 + q) * 128, m7k_act(&g->act, acc[q]));
            }
        uint64_t bytes = (uint64_t)nr * g->wo * 128;
        m7_dma(M7K_CH_OUT + slot, M7_DDR(g->out + (uint64_t)nb * g->out_sv + (uint64_t)r0 * g->out_sh), out, 1,
               (uint32_t)bytes, bytes, bytes);
        if (it + 1 < hi && sb)
            m7k_dw_load(p, &wk, it + 1, 0);
    }
    m7_dma_wait(M7K_CH_OUT);
    m7_dma_wait(M7K_CH_OUT + 1);
}

/* ============================ pooling ===================================
 * Blocked in and out; a pixel's 32 channels are one vector, so a window is
 * a max/sum of whole vectors.  Work items: (image, channel block, tile of
 * th x tw outputs).  A tile's input window comes into AM without padding
 * (the kernel clips each window to the image), keeping only every gh-th
 * row and gw-th column: gh = gcd(sh, dh) (1 without dilation), so a dilated
 * window brings only the rows and columns its taps read. */

typedef struct {
    int nb, r0, nr, c0, nc;         /* image x block, first output row and column, counts */
    int yb, xb;                     /* input row and column of the window's first AM pixel */
} M7kPoolTile;

static M7K_LIB M7kPoolTile m7k_pool_tile(const M7kPool *p, int item) {
    int nht = m7k_cdiv(p->ho, p->th), nwt = m7k_cdiv(p->wo, p->tw);
    M7kPoolTile t;
    t.nb = item / (nht * nwt);
    t.r0 = item % (nht * nwt) / nwt * p->th, t.nr = m7k_min(p->th, p->ho - t.r0);
    t.c0 = item % nwt * p->tw, t.nc = m7k_min(p->tw, p->wo - t.c0);
    t.yb = t.r0 * p->sh - p->pt, t.xb = t.c0 * p->sw - p->pl;
    return t;
}

/* Taps [*lo, *hi) of a window starting at v0 (step d) that lie in [0, n). */
static M7K_LIB void m7k_pool_taps(int v0, int d, int k, int n, int *lo, int *hi) {
    *lo = v0 < 0 ? m7k_cdiv(-v0, d) : 0;
    *hi = v0 > n - 1 ? 0 : m7k_min(k, (n - 1 - v0) / d + 1);
}

static M7K_LIB void m7k_pool_load(const M7kPool *p, int item, int slot) {
    M7kPoolTile t = m7k_pool_tile(p, item);
    int rows = ((t.nr - 1) * p->sh + (p->kh - 1) * p->dh) / p->gh + 1;
    int cols = ((t.nc - 1) * p->sw + (p->kw - 1) * p->dw) / p->gw + 1;
    int i0, i1, j0, j1;
    m7k_pool_taps(t.yb, p->gh, rows, p->h, &i0, &i1);
    m7k_pool_taps(t.xb, p->gw, cols, p->w, &j0, &j1);
    if (i1 <= i0 || j1 <= j0)
        return;
    uint64_t row = (uint64_t)p->w * 128, pitch = (uint64_t)p->cols_in * 128;
    uint64_t src = p->in + ((uint64_t)t.nb * p->h + (uint64_t)(t.yb + i0 * p->gh)) * row +
                   (uint64_t)(t.xb + j0 * p->gw) * 128;
    m7_addr dst = M7_AM((slot ? p->am_in1 : p->am_in0) + (uint64_t)i0 * pitch + (uint64_t)j0 * 128);
    if (p->gw == 1) /* rows of contiguous pixels: one 2-D transfer */
        m7_dma(M7K_CH_IN + slot, dst, M7_DDR(src), (uint32_t)(i1 - i0), (uint32_t)(j1 - j0) * 128, pitch,
               row * p->gh);
    else /* a transfer per row, a pixel per DMA row */
        for (int i = i0; i < i1; i++)
            m7_dma(M7K_CH_IN + slot, dst + (uint64_t)(i - i0) * pitch, M7_DDR(src + (uint64_t)(i - i0) * p->gh * row),
                   (uint32_t)(j1 - j0), 128, 128, (uint64_t)p->gw * 128);
}

static M7K_LIB void m7k_pool(const M7kPool *p) {
    int lo, hi;
    m7k_range(p->n * p->ncb * m7k_cdiv(p->ho, p->th) * m7k_cdiv(p->wo, p->tw), m7_core_id(), m7_core_count(),
              &lo, &hi);
    if (lo < hi)
        m7k_pool_load(p, lo, 0);
    int sb = p->am_in1 == p->am_in0; /* single-buffered: the next load after the compute */
    for (int it = lo; it < hi; it++) {
        int slot = sb ? 0 : (it - lo) & 1;
        if (it + 1 < hi && !sb)
            m7k_pool_load(p, it + 1, slot ^ 1);
        m7_dma_wait(M7K_CH_IN + slot);
        m7_dma_wait(M7K_CH_OUT + slot);
        M7kPoolTile t = m7k_pool_tile(p, it);
        m7_addr in = M7_AM(slot ? p->am_in1 : p->am_in0), out = M7_AM(slot ? p->am_out1 : p->am_out0);
        for (int r = 0; r < t.nr; r++)
            for (int c = 0; c < t.nc; c++) {
                int y0 = (t.r0 + r) * p->sh - p->pt, x0 = (t.c0 + c) * p->sw - p->pl, ya, yb, xa, xb;
                m7k_pool_taps(y0, p->dh, p->kh, p->h, &ya, &yb);
                m7k_pool_taps(x0, p->dw, p->kw, p->w, &xa, &xb);
                /* two partial results halve the dependent chain */
                m7_vec acc[2];
                int cnt = 0;
                for (int ky = ya; ky < yb; ky++)
                    for (int kx = xa; kx < xb; kx++, cnt++) {
                        int i = (y0 + ky * p->dh - t.yb) / p->gh, j = (x0 + kx * p->dw - t.xb) / p->gw;
                        m7_vec v = m7_vld(in + ((uint64_t)i * p->cols_in + j) * 128);
                        if (cnt < 2)
                            acc[cnt] = v;
                        else
                            acc[cnt & 1] = p->is_max ? m7_vmax(acc[cnt & 1], v) : m7_vadd(acc[cnt & 1], v);
                    }
                m7_vec res;
                if (cnt == 0)
                    res = m7_vzero();
                else if (cnt == 1)
                    res = acc[0];
                else
                    res = p->is_max ? m7_vmax(acc[0], acc[1]) : m7_vadd(acc[0], acc[1]);
                if (!p->is_max && cnt > 0) { /* no dilation: taps are pixels */
                    int div = cnt;
                    if (p->count_include_pad) /* padding counts, the outside of the pads does not */
                        div = (m7k_min(y0 + p->kh, p->h + p->pb) - y0) *
                              (m7k_min(x0 + p->kw, p->w + p->pr) - x0);
                    res = m7_vmul(res, m7_vsplat(p->recip[div]));
                }
                m7_vst(out + ((uint64_t)r * p->tw + c) * 128, res);
            }
        uint64_t row = (uint64_t)p->wo * 128;
        m7_dma(M7K_CH_OUT + slot, M7_DDR(p->out + ((uint64_t)t.nb * p->ho + t.r0) * row + (uint64_t)t.c0 * 128), out,
               (uint32_t)t.nr, (uint32_t)t.nc * 128, row, (uint64_t)p->tw * 128);
        if (it + 1 < hi && sb)
            m7k_pool_load(p, it + 1, 0);
    }
    m7_dma_wait(M7K_CH_OUT);
    m7_dma_wait(M7K_CH_OUT + 1);
}

/* ========================= global pooling ===============================
 * One item per (image, channel block): the H*W pixel vectors come into AM
 * in pieces of at most `chunk` pixels; four partial sums hide the latency. */

static M7K_LIB void m7k_gpool(const M7kGPool *p) {
    int lo, hi;
    m7k_range(p->nb, m7_core_id(), m7_core_count(), &lo, &hi);
    int npieces = m7k_cdiv(p->hw, p->chunk), total = (hi - lo) * npieces;
    if (total > 0)
        m7_dma(M7K_CH_IN, M7_AM(p->am_in0), M7_DDR(p->in + (uint64_t)lo * p->hw * 128), 1,
               (uint32_t)m7k_min(p->chunk, p->hw) * 128, 0, 0);
    m7_vec acc[4];
    for (int i = 0; i < total; i++) {
        int b = lo + i / npieces, pc = i % npieces, slot = i & 1;
        if (i + 1 < total) {
            int b1 = lo + (i + 1) / npieces, pc1 = (i + 1) % npieces;
            int np1 = m7k_min(p->chunk, p->hw - pc1 * p->chunk);
            m7_dma(M7K_CH_IN + (slot ^ 1), M7_AM(slot ? p->am_in0 : p->am_in1),
                   M7_DDR(p->in + ((uint64_t)b1 * p->hw + (uint64_t)pc1 * p->chunk) * 128), 1,
                   (uint32_t)np1 * 128, 0, 0);
        }
        m7_dma_wait(M7K_CH_IN + slot);
        m7_addr in = M7_AM(slot ? p->am_in1 : p->am_in0);
        int np = m7k_min(p->chunk, p->hw - pc * p->chunk);
        for (int k = 0; k < np; k++) {
            m7_vec v = m7_vld(in + (uint64_t)k * 128);
            if (pc == 0 && k < 4)
                acc[k] = v;
            else
                acc[k & 3] = p->is_max ? m7_vmax(acc[k & 3], v) : m7_vadd(acc[k & 3], v);
        }
        if (pc == npieces - 1) {
            int used = m7k_min(p->hw, 4);
            m7_vec r = acc[0];
            for (int k = 1; k < used; k++)
                r = p->is_max ? m7_vmax(r, acc[k]) : m7_vadd(r, acc[k]);
            if (!p->is_max)
                r = m7_vmul(r, m7_vsplat(p->inv_hw));
            m7_dma_wait(M7K_CH_OUT);
            m7_vst(M7_AM(p->am_out), r);
            m7_dma(M7K_CH_OUT, M7_DDR(p->out + (uint64_t)b * 128), M7_AM(p->am_out), 1, 128, 0, 0);
        }
    }
    m7_dma_wait(M7K_CH_OUT);
}

/* ========================= element-wise ==================================
 * Flat over the vectors of tensors of one shape and layout (blocked, or
 * plain NCHW seen as a row of floats): y = act(a op b). */
/* ADD_BC/MUL_BC: b is [N][C] (one vector per image and block), broadcast
 * over the pixels; it sits whole in AM at am_st (from st). */
/* ADD_REP/MUL_REP (plain): output element f takes b[(f / rep) % period]
 * (numpy broadcasting of b over outer and inner axes), b whole on chip:
 * rep 1, copies of b as one row in AM at am_st, so the 32 values from any
 * start are one unaligned load; rep a multiple of 32, b's values in SM at
 * 0, one broadcast per vector. */

/* a + b, or a - b / a / b as arith says (the ADD forms of M7kEw). */
static M7K_LIB m7_vec m7k_ew_add(const M7kEw *p, m7_vec a, m7_vec b) {
    if (p->arith == M7K_AR_SUB)
        return m7_vsub(a, b);
    if (p->arith == M7K_AR_DIV)
        return m7_vmul(a, m7_vrcp(b));
    return m7_vadd(a, b);
}

/* Bytes of vectors [v0, v0 + nv): plain data ends mid-vector. */
static M7K_LIB uint64_t m7k_ew_bytes(const M7kEw *p, int64_t v0, int nv) {
    uint64_t b = (uint64_t)nv * 128, end = (uint64_t)v0 * 128 + b;
    return p->bytes && end > p->bytes ? b - (end - p->bytes) : b;
}

static M7K_LIB void m7k_ew_load(const M7kEw *p, int64_t v0, int nv, int slot) {
    uint64_t bytes = m7k_ew_bytes(p, v0, nv);
    m7_dma(M7K_CH_IN + slot, M7_AM(p->am_a[slot]), M7_DDR(p->a + (uint64_t)v0 * 128), 1,
           (uint32_t)bytes, 0, 0);
    if (p->op == M7K_EW_ADD || p->op == M7K_EW_MUL)
        m7_dma(M7K_CH_IN + slot, M7_AM(p->am_b[slot]), M7_DDR(p->b + (uint64_t)v0 * 128), 1,
               (uint32_t)bytes, 0, 0);
}

static M7K_LIB void m7k_ew(const M7kEw *p) {
    int core = m7_core_id(), ncores = m7_core_count();
    int64_t lo = p->nvec * core / ncores, hi = p->nvec * (core + 1) / ncores;
    int n = (int)((hi - lo + p->chunk - 1) / p->chunk);
    if (n > 0 && p->op >= M7K_EW_ADD_REP) {
        if (p->rep == 1) /* the row of copies, one DMA with source stride 0 */
            m7_dma(M7K_CH_CONST, M7_AM(p->am_st), M7_DDR(p->st),
                   (uint32_t)((p->period + 32 + p->period - 1) / p->period), (uint32_t)p->period * 4,
                   (uint64_t)p->period * 4, 0);
        else
            m7_dma(M7K_CH_CONST, M7_SM(0), M7_DDR(p->st), 1, (uint32_t)p->period * 4, 0, 0);
        m7_dma_wait(M7K_CH_CONST);
    } else if (n > 0 && p->op >= M7K_EW_AFFINE) {
        uint64_t bytes = p->op == M7K_EW_AFFINE ? (uint64_t)p->ncb * 256 : (uint64_t)p->st_bytes;
        m7_dma(M7K_CH_CONST, M7_AM(p->am_st), M7_DDR(p->st), 1, (uint32_t)bytes, bytes, bytes);
        m7_dma_wait(M7K_CH_CONST);
    }
    if (n > 0)
        m7k_ew_load(p, lo, (int)(hi - lo < p->chunk ? hi - lo : p->chunk), 0);
    for (int i = 0; i < n; i++) {
        int slot = i & 1;
        int64_t v0 = lo + (int64_t)i * p->chunk;
        int nv = (int)(hi - v0 < p->chunk ? hi - v0 : p->chunk);
        if (i + 1 < n) {
            int64_t v1 = v0 + p->chunk;
            m7_dma_wait(M7K_CH_OUT + (slot ^ 1)); /* the slot's last results have left */
            m7k_ew_load(p, v1, (int)(hi - v1 < p->chunk ? hi - v1 : p->chunk), slot ^ 1);
        }
        m7_dma_wait(M7K_CH_IN + slot);
        m7_addr a = M7_AM(p->am_a[slot]), b = M7_AM(p->am_b[slot]);
        for (int k = 0; k < nv; k++) {
            m7_vec v = m7_vld(a + (uint64_t)k * 128);
            if (p->op == M7K_EW_ADD)
                v = m7k_ew_add(p, v, m7_vld(b + (uint64_t)k * 128));
            else if (p->op == M7K_EW_MUL)
                v = m7_vmul(v, m7_vld(b + (uint64_t)k * 128));
            else if (p->op == M7K_EW_AFFINE) {
                uint64_t cb = (uint64_t)((v0 + k) / p->hw % p->ncb);
                v = m7_vfma(v, m7_vld(M7_AM(p->am_st + cb * 128)),
                            m7_vld(M7_AM(p->am_st + (p->ncb + cb) * 128)));
            } else if (p->op >= M7K_EW_ADD_REP) {
                int64_t f0 = (v0 + k) * 32;
                m7_vec bv = p->rep == 1 ? m7_vld_u(M7_AM(p->am_st + (uint64_t)(f0 % p->period) * 4))
                                        : m7_vbcast(m7_sld(M7_SM((uint64_t)(f0 / p->rep % p->period) * 4)));
                v = p->op == M7K_EW_ADD_REP ? m7k_ew_add(p, v, bv) : m7_vmul(v, bv);
            } else if (p->op != M7K_EW_ACT) { /* ADD_BC, MUL_BC: this pixel's image and block */
                m7_vec bv = m7_vld(M7_AM(p->am_st + (uint64_t)((v0 + k) / p->hw) * 128));
                v = p->op == M7K_EW_ADD_BC ? m7_vadd(v, bv) : m7_vmul(v, bv);
            }
            m7_vst(a + (uint64_t)k * 128, m7k_act(&p->act, v)); /* in place in slot a */
        }
        m7_dma(M7K_CH_OUT + slot, M7_DDR(p->out + (uint64_t)v0 * 128), a, 1, (uint32_t)m7k_ew_bytes(p, v0, nv),
               0, 0);
    }
    m7_dma_wait(M7K_CH_OUT);
    m7_dma_wait(M7K_CH_OUT + 1);
}

/* ====================== softmax and LRN over channels =====================
 * Both work across the channels of each pixel, i.e. across the lanes of
 * the pixel's ncb vectors.  An item is (image, np pixels): its [ncb][np][32]
 * vectors come into AM with one 2-D DMA.  Padding lanes are masked with a
 * lane-index vector (iota) from the constants. */

static M7K_LIB m7_vec m7k_lane_mask(uint64_t iota_ddr, uint64_t iota_am, int c) {
    m7_dma(M7K_CH_CONST, M7_AM(iota_am), M7_DDR(iota_ddr), 1, 128, 0, 0);
    m7_dma_wait(M7K_CH_CONST);
    int rem = c - (c - 1) / 32 * 32;
    /* lane i is live when rem > i (iota holds 0.5, 1.5, ..., 31.5) */
    return m7_vcmpgt(m7_vsplat((float)rem), m7_vld(M7_AM(iota_am)));
}

/* Item i -> (image, first pixel, pixels); moves its vectors in or out. */
static M7K_LIB int m7k_pixels_dma(int i, int hw, int np, int nb, uint64_t ddr, m7_addr am, int to_am, int *npix) {
    int per = m7k_cdiv(hw, np), n = i / per, p0 = i % per * np;
    *npix = m7k_min(np, hw - p0);
    uint64_t at = ddr + ((uint64_t)n * nb * hw + p0) * 128;
    if (to_am)
        m7_dma(M7K_CH_IN, am, M7_DDR(at), (uint32_t)nb, (uint32_t)*npix * 128, (uint64_t)np * 128,
               (uint64_t)hw * 128);
    else
        m7_dma(M7K_CH_OUT, M7_DDR(at), am, (uint32_t)nb, (uint32_t)*npix * 128, (uint64_t)hw * 128,
               (uint64_t)np * 128);
    return n;
}

static M7K_LIB void m7k_softmax(const M7kSoftmax *p) {
    int lo, hi, np;
    m7k_range(p->n * m7k_cdiv(p->hw, p->np), m7_core_id(), m7_core_count(), &lo, &hi);
    if (lo >= hi)
        return;
    m7_vec mask = m7k_lane_mask(p->iota, p->am_iota, p->c);
    m7_vec ninf = m7_vsplat(-__builtin_inff());
    m7_addr x = M7_AM(p->am_x);
    uint64_t row = (uint64_t)p->np * 128;
    for (int i = lo; i < hi; i++) {
        m7_dma_wait(M7K_CH_OUT);
        m7k_pixels_dma(i, p->hw, p->np, p->nb, p->in, x, 1, &np);
        m7_dma_wait(M7K_CH_IN);
        for (int q = 0; q < np; q++) {
            m7_addr xq = x + (uint64_t)q * 128;
            m7_vec mx = ninf;
            for (int k = 0; k < p->nb; k++) {
                m7_vec v = m7_vld(xq + k * row);
                if (k == p->nb - 1)
                    v = m7_vsel(mask, v, ninf);
                mx = m7_vmax(mx, v);
            }
            m7_vec vmx = m7_vbcast(m7_vreduce_max(mx)), sum = m7_vzero();
            for (int k = 0; k < p->nb; k++) {
                m7_vec e = m7_vexp(m7_vsub(m7_vld(xq + k * row), vmx));
                if (k == p->nb - 1)
                    e = m7_vsel(mask, e, m7_vzero());
                sum = m7_vadd(sum, e);
                m7_vst(xq + k * row, e);
            }
            m7_vec inv = m7_vrcp(m7_vbcast(m7_vreduce_add(sum)));
            for (int k = 0; k < p->nb; k++)
                m7_vst(xq + k * row, m7_vmul(m7_vld(xq + k * row), inv));
        }
        m7k_pixels_dma(i, p->hw, p->np, p->nb, p->out, x, 0, &np);
    }
    m7_dma_wait(M7K_CH_OUT);
}

/* LRN: y = x / (bias + alpha/size * sum of x^2 over the channel window)^beta.
 * The squares go, pixel by pixel, into a channel-contiguous row with a zero
 * halo, so each window sum is `size` unaligned loads. */

static M7K_LIB void m7k_lrn(const M7kLrn *p) {
    int lo, hi, np;
    m7k_range(p->n * m7k_cdiv(p->hw, p->np), m7_core_id(), m7_core_count(), &lo, &hi);
    if (lo >= hi)
        return;
    m7_vec mask = m7k_lane_mask(p->iota, p->am_iota, p->c), zero = m7_vzero();
    m7_addr x = M7_AM(p->am_x), sq = M7_AM(p->am_sq);
    uint64_t row = (uint64_t)p->np * 128, lead = ((uint64_t)p->half + 31) / 32 * 32 * 4;
    for (int i = lo; i < hi; i++) {
        m7_dma_wait(M7K_CH_OUT);
        m7k_pixels_dma(i, p->hw, p->np, p->nb, p->in, x, 1, &np);
        m7_dma_wait(M7K_CH_IN);
        for (int q = 0; q < np; q++) { /* squares: [zero lead][channels][zero tail] */
            m7_addr s = sq + (uint64_t)q * p->sq_row;
            for (uint64_t z = 0; z < lead; z += 128)
                m7_vst(s + z, zero);
            for (int k = 0; k < p->nb; k++) {
                m7_vec v = m7_vld(x + k * row + (uint64_t)q * 128);
                v = m7_vmul(v, v);
                m7_vst(s + lead + (uint64_t)k * 128, k == p->nb - 1 ? m7_vsel(mask, v, zero) : v);
            }
            m7_vst(s + lead + (uint64_t)p->nb * 128, zero);
        }
        for (int q = 0; q < np; q++)
            for (int k = 0; k < p->nb; k++) {
                m7_addr w = sq + (uint64_t)q * p->sq_row + lead + (uint64_t)k * 128 - (uint64_t)p->half * 4;
                m7_vec sum = m7_vld_u(w);
                for (int j = 1; j < p->size; j++)
                    sum = m7_vadd(sum, m7_vld_u(w + (uint64_t)j * 4));
                m7_vec t = m7_vfma(sum, m7_vsplat(p->alpha_over_size), m7_vsplat(p->bias));
                m7_vec r = m7_vrsqrt(t); /* t^-0.5 */
                if (p->beta4 == 3) /* t^-0.75 = r * sqrt(r) = r * r * rsqrt(r) */
                    r = m7_vmul(r, m7_vmul(r, m7_vrsqrt(r)));
                else if (p->beta4 == 4)
                    r = m7_vmul(r, r);
                m7_addr xa = x + k * row + (uint64_t)q * 128;
                m7_vst(xa, m7_vmul(m7_vld(xa), r));
            }
        m7k_pixels_dma(i, p->hw, p->np, p->nb, p->out, x, 0, &np);
    }
    m7_dma_wait(M7K_CH_OUT);
}

/* Softmax over the last axis of NCHW data: `rows` rows of `len` floats,
 * several rows per DMA, each row at a 128-byte aligned AM pitch; the last
 * vector of a row is masked (iota) and stored with m7_vst_n. */

static M7K_LIB void m7k_softmax_rows(const M7kSoftmaxRows *p) {
    int lo, hi;
    m7k_range(p->rows, m7_core_id(), m7_core_count(), &lo, &hi);
    if (lo >= hi)
        return;
    int nv = m7k_cdiv(p->len, 32), rem = p->len - (nv - 1) * 32;
    m7_vec mask = m7k_lane_mask(p->iota, p->am_iota, p->len);
    m7_vec ninf = m7_vsplat(-__builtin_inff());
    m7_addr x = M7_AM(p->am_x);
    uint64_t rb = (uint64_t)p->len * 4;
    for (int r0 = lo; r0 < hi; r0 += p->chunk) {
        int nr = m7k_min(p->chunk, hi - r0);
        m7_dma_wait(M7K_CH_OUT);
        m7_dma(M7K_CH_IN, x, M7_DDR(p->in + (uint64_t)r0 * rb), (uint32_t)nr, (uint32_t)rb, p->pitch, rb);
        m7_dma_wait(M7K_CH_IN);
        for (int r = 0; r < nr; r++) {
            m7_addr xr = x + (uint64_t)r * p->pitch;
            m7_vec mx = ninf;
            for (int k = 0; k < nv; k++) {
                m7_vec v = m7_vld(xr + (uint64_t)k * 128);
                mx = m7_vmax(mx, k == nv - 1 ? m7_vsel(mask, v, ninf) : v);
            }
            m7_vec vmx = m7_vbcast(m7_vreduce_max(mx)), sum = m7_vzero();
            for (int k = 0; k < nv; k++) {
                m7_vec e = m7_vexp(m7_vsub(m7_vld(xr + (uint64_t)k * 128), vmx));
                if (k == nv - 1)
                    e = m7_vsel(mask, e, m7_vzero());
                sum = m7_vadd(sum, e);
                m7_vst(xr + (uint64_t)k * 128, e);
            }
            m7_vec inv = m7_vrcp(m7_vbcast(m7_vreduce_add(sum)));
            for (int k = 0; k < nv; k++)
                m7_vst_n(xr + (uint64_t)k * 128, m7_vmul(m7_vld(xr + (uint64_t)k * 128), inv),
                         k == nv - 1 ? rem : 32);
        }
        m7_dma(M7K_CH_OUT, M7_DDR(p->out + (uint64_t)r0 * rb), x, (uint32_t)nr, (uint32_t)rb, rb, p->pitch);
    }
    m7_dma_wait(M7K_CH_OUT);
}

/* Softmax over the middle axis of [outer][len][inner] data (plain, or a
 * blocked tensor's non-channel axis, inner then counting lanes too).  The
 * lanes run along inner, so max and sum are vector ops down the len rows
 * (no lane reductions).  An item is one outer index and up to `cols` inner
 * positions: [len][cols] in AM, `pitch` bytes a row, by one 2-D DMA each
 * way; lanes past cols are computed but never leave AM. */

static M7K_LIB void m7k_softmax_axis(const M7kSoftmaxAxis *p) {
    int64_t per = (p->inner + p->cols - 1) / p->cols, items = p->outer * per;
    int core = m7_core_id(), ncores = m7_core_count();
    int64_t lo = items * core / ncores, hi = items * (core + 1) / ncores;
    m7_addr x = M7_AM(p->am_x);
    uint64_t rs = (uint64_t)p->inner * 4;
    for (int64_t it = lo; it < hi; it++) {
        int64_t o = it / per, c0 = it % per * p->cols;
        int nc = (int)(p->inner - c0 < p->cols ? p->inner - c0 : p->cols), nv = m7k_cdiv(nc, 32);
        uint64_t at = ((uint64_t)o * p->len * p->inner + (uint64_t)c0) * 4;
        m7_dma_wait(M7K_CH_OUT); /* the last item has left */
        m7_dma(M7K_CH_IN, x, M7_DDR(p->in + at), (uint32_t)p->len, (uint32_t)nc * 4, p->pitch, rs);
        m7_dma_wait(M7K_CH_IN);
        for (int v = 0; v < nv; v++) {
            m7_addr col = x + (uint64_t)v * 128;
            m7_vec mx = m7_vld(col);
            for (int r = 1; r < p->len; r++)
                mx = m7_vmax(mx, m7_vld(col + (uint64_t)r * p->pitch));
            m7_vec sum = m7_vzero();
            for (int r = 0; r < p->len; r++) {
                m7_vec e = m7_vexp(m7_vsub(m7_vld(col + (uint64_t)r * p->pitch), mx));
                sum = m7_vadd(sum, e);
                m7_vst(col + (uint64_t)r * p->pitch, e);
            }
            m7_vec inv = m7_vrcp(sum);
            for (int r = 0; r < p->len; r++)
                m7_vst(col + (uint64_t)r * p->pitch, m7_vmul(m7_vld(col + (uint64_t)r * p->pitch), inv));
        }
        m7_dma(M7K_CH_OUT, M7_DDR(p->out + at), x, (uint32_t)p->len, (uint32_t)nc * 4, rs, p->pitch);
    }
    m7_dma_wait(M7K_CH_OUT);
}

/* ============================ moves ======================================
 * Strided copies DDR to DDR (backend/moves.c): transposes of any rank,
 * concatenation on any axis, broadcasts (source stride 0), layout changes.
 * A move is `rows` rows of `row_bytes` repeated over nloop loops; the DMAs
 * of the whole list are numbered and core k takes the k-th share, issued
 * round-robin on M7K_MOVE_CHANNELS channels so their setups overlap. */

static M7K_LIB int64_t m7k_move_dmas(const M7kMove *m) {
    int64_t c = 1;
    for (int i = 0; i < m->nloop; i++)
        c *= m->cnt[i];
    return c;
}

static M7K_LIB void m7k_moves(const M7kMoves *p) {
    int64_t total = 0, base = 0, used = 0;
    for (int k = 0; k < p->n; k++)
        total += m7k_move_dmas(&p->m[k]);
    int core = m7_core_id(), ncores = m7_core_count();
    int64_t lo = total * core / ncores, hi = total * (core + 1) / ncores;
    for (int k = 0; k < p->n && base < hi; k++) {
        const M7kMove *m = &p->m[k];
        int64_t cnt = m7k_move_dmas(m);
        int64_t a = lo > base ? lo - base : 0, b = hi - base < cnt ? hi - base : cnt;
        for (int64_t i = a; i < b; i++, used++) {
            uint64_t src = m->src, dst = m->dst;
            int64_t r = i;
            for (int j = m->nloop - 1; j >= 0; j--) {
                int64_t q = r % m->cnt[j];
                r /= m->cnt[j];
                src += (uint64_t)q * m->sstr[j];
                dst += (uint64_t)q * m->dstr[j];
            }
            m7_dma((int)(used % M7K_MOVE_CHANNELS), M7_DDR(dst), M7_DDR(src), m->rows, m->row_bytes, m->dstride,
                   m->sstride);
        }
        base += cnt;
    }
    for (int ch = 0; ch < M7K_MOVE_CHANNELS && ch < used; ch++)
        m7_dma_wait(ch);
}

/* ============================== pad ======================================
 * Constant spatial padding of a blocked tensor, DDR to DDR: per (image,
 * block) the conv's window loader copies the interior and fills the border
 * from a row of the pad value (the zero row when it is 0). */

/* The output row/column a reflect or edge pad copies into output o (n input
 * values after `before` pads); o itself inside. */
static M7K_LIB int m7k_pad_source(int o, int before, int n, int mode) {
    int i = o - before;
    if (i < 0)
        i = mode == M7K_PAD_REFLECT ? -i : 0;
    else if (i >= n)
        i = mode == M7K_PAD_REFLECT ? 2 * (n - 1) - i : n - 1;
    return i + before;
}

/* Reflect/edge borders of one padded block, DDR to DDR: border columns of
 * the input's rows first, then whole border rows, so corners come right. */
static M7K_LIB void m7k_pad_border(const M7kPad *p, uint64_t blk) {
    uint64_t sr = (uint64_t)p->wo * 128, first = blk + (uint64_t)p->pt * sr;
    for (int j = 0; j < p->wo; j++) {
        int src = m7k_pad_source(j, p->pl, p->geo.w, p->mode);
        if (src != j)
            m7_dma(M7K_CH_OUT, M7_DDR(first + (uint64_t)j * 128), M7_DDR(first + (uint64_t)src * 128),
                   (uint32_t)p->geo.h, 128, sr, sr);
    }
    m7_dma_wait(M7K_CH_OUT);
    for (int i = 0; i < p->ho; i++) {
        int src = m7k_pad_source(i, p->pt, p->geo.h, p->mode);
        if (src != i)
            m7_dma(M7K_CH_OUT, M7_DDR(blk + (uint64_t)i * sr), M7_DDR(blk + (uint64_t)src * sr), 1,
                   (uint32_t)sr, 0, 0);
    }
    m7_dma_wait(M7K_CH_OUT);
}

static M7K_LIB void m7k_pad(const M7kPad *p) {
    int lo, hi;
    m7k_range(p->geo.n * p->ncb, m7_core_id(), m7_core_count(), &lo, &hi);
    M7kWin win;
    win.rows = p->ho, win.cols = p->wo, win.sc = 128, win.sr = (uint64_t)p->wo * 128;
    win.sub_bytes = win.rows * win.sr;
    for (int i = lo; i < hi; i++)
        m7k_conv_load_sub(&p->geo, M7K_CH_IN + (i & 1), M7_DDR(p->out + (uint64_t)i * win.sub_bytes), &win,
                          i / p->ncb, i % p->ncb, -p->pt, -p->pl, 128);
    m7_dma_wait(M7K_CH_IN);
    m7_dma_wait(M7K_CH_IN + 1);
    if (p->mode != M7K_PAD_CONSTANT)
        for (int i = lo; i < hi; i++)
            m7k_pad_border(p, p->out + (uint64_t)i * win.sub_bytes);
}

/* ======================== copies ======================================
 * Layout conversions (NCHW <-> blocked) are moves (m7k_moves). */
/* A DDR-to-DDR copy (a graph output that is its input's bytes): each core
 * moves its share of 128-byte lines in one transfer. */

static M7K_LIB void m7k_copy(const M7kCopy *p) {
    int64_t lines = (int64_t)((p->bytes + 127) / 128);
    int lo, hi;
    m7k_range((int)lines, m7_core_id(), m7_core_count(), &lo, &hi);
    uint64_t from = (uint64_t)lo * 128, to = (uint64_t)hi * 128 < p->bytes ? (uint64_t)hi * 128 : p->bytes;
    if (to > from) {
        m7_dma(M7K_CH_IN, M7_DDR(p->out + from), M7_DDR(p->in + from), 1, (uint32_t)(to - from), 0, 0);
        m7_dma_wait(M7K_CH_IN);
    }
}

/* ================= packing run-time weights (graph inputs) ================
 * Weights fed at run time arrive NCHW/OIHW in DDR; these steps put them in
 * the blob layout the layer's kernel reads (backend/rt_weights.c). */

/* Each core issues its share of the transfers over 4 channels. */
static M7K_LIB void m7k_pack_dma(const M7kPackDma *p) {
    int lo, hi;
    m7k_range(p->n, m7_core_id(), m7_core_count(), &lo, &hi);
    for (int i = lo; i < hi; i++) {
        const M7kDmaDesc *d = &p->d[i];
        m7_dma(M7K_CH_IN + (i & 3), M7_DDR(d->dst), M7_DDR(d->src), d->rows, d->row_bytes, d->dst_stride,
               d->src_stride);
    }
    for (int ch = 0; ch < 4; ch++)
        m7_dma_wait(M7K_CH_IN + ch);
}

/* BatchNormalization parameters [C] -> scales and shifts [block][32] of the
 * affine kernel: k = scale / sqrt(var + eps), shift = bias - mean * k.
 * Each core takes whole channel blocks; AM holds 6 vectors at `am`. */

static M7K_LIB void m7k_pack_bn(const M7kPackBn *p) {
    int lo, hi;
    const uint64_t src[4] = {p->scale, p->bias, p->mean, p->var};
    m7k_range(p->ncb, m7_core_id(), m7_core_count(), &lo, &hi);
    for (int cb = lo; cb < hi; cb++) {
        int n = m7k_min(32, p->c - cb * 32);
        for (int k = 0; k < 4; k++) { /* padding lanes zero: scale 0 gives k = 0, shift 0 */
            m7_vst(M7_AM(p->am + (uint64_t)k * 128), m7_vzero());
            m7_dma(M7K_CH_CONST, M7_AM(p->am + (uint64_t)k * 128), M7_DDR(src[k] + (uint64_t)cb * 128), 1,
                   (uint32_t)n * 4, 0, 0);
        }
        m7_dma_wait(M7K_CH_CONST);
        m7_vec sc = m7_vld(M7_AM(p->am)), b = m7_vld(M7_AM(p->am + 128));
        m7_vec mean = m7_vld(M7_AM(p->am + 256)), var = m7_vld(M7_AM(p->am + 384));
        m7_vec k = m7_vmul(sc, m7_vrsqrt(m7_vadd(var, m7_vsplat(p->eps))));
        m7_vst(M7_AM(p->am + 512), k);
        m7_vst(M7_AM(p->am + 640), m7_vsub(b, m7_vmul(mean, k)));
        m7_dma(M7K_CH_CONST, M7_DDR(p->st + (uint64_t)cb * 128), M7_AM(p->am + 512), 1, 128, 0, 0);
        m7_dma(M7K_CH_CONST, M7_DDR(p->st + (uint64_t)(p->ncb + cb) * 128), M7_AM(p->am + 640), 1, 128, 0, 0);
        m7_dma_wait(M7K_CH_CONST);
    }
}

/* Gemm's alpha / beta on packed run-time weights / bias: each range of
 * 128-byte lines through AM (at `am`, 64 lines a time), times s[k]. */

static M7K_LIB void m7k_pack_scale(const M7kPackScale *p) {
    for (int k = 0; k < 2; k++) {
        int lo, hi;
        m7k_range((int)p->lines[k], m7_core_id(), m7_core_count(), &lo, &hi);
        for (int l0 = lo; l0 < hi; l0 += 64) {
            int n = m7k_min(64, hi - l0);
            uint64_t ddr = p->addr[k] + (uint64_t)l0 * 128;
            m7_dma(M7K_CH_CONST, M7_AM(p->am), M7_DDR(ddr), 1, (uint32_t)n * 128, 0, 0);
            m7_dma_wait(M7K_CH_CONST);
            m7_vec s = m7_vsplat(p->s[k]);
            for (int i = 0; i < n; i++)
                m7_vst(M7_AM(p->am + (uint64_t)i * 128), m7_vmul(m7_vld(M7_AM(p->am + (uint64_t)i * 128)), s));
            m7_dma(M7K_CH_CONST, M7_DDR(ddr), M7_AM(p->am), 1, (uint32_t)n * 128, 0, 0);
            m7_dma_wait(M7K_CH_CONST);
        }
    }
}
