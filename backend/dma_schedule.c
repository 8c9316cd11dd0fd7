/* dma_schedule.c: the DMA transfers of a conv layer, one core's view.
 *
 * The schedule itself is fixed by the kernel library (target/kernels.c,
 * m7k_conv): bias once; weight chunks ping-pong in two AM slots (broadcast
 * to all cores when rows are split and weights are shared, so DDR is read
 * once; single-buffered: one slot, loaded whole between chunks); per tile the input
 * window of each channel sub-tile into one of two SM slots, with padding
 * filled from a zero row; finished tiles leave from two AM output slots.
 * This file walks the same sequence to count transfers, bytes and cycles. */
#include "backend/backend.h"


static void add(BkDmaStats *st, const M7Machine *m, int64_t rows, int64_t bytes, int bcast) {
    st->transfers++;
    st->bytes += bytes;
    st->cycles += bk_dma_cycles(m, rows, bytes, bcast);
}

/* An input read: from GSM when the input is staged there. */
static void add_in(BkDmaStats *st, const BkConv *c, const M7Machine *m, int64_t rows, int64_t bytes) {
    if (!c->in_gsm) {
        add(st, m, rows, bytes, 0);
        return;
    }
    st->transfers++;
    st->bytes += bytes;
    st->cycles += bk_gsm_cycles(m, rows, bytes);
}

/* Input window of a tile for one sub-tile (m7k_conv_load_sub). */
static void window(const BkConv *c, const M7Machine *m, BkDmaStats *st, int ih0, int iw0, int64_t pix) {
    int rows = m7k_win_extent(c->th, c->sh, c->kh, c->dh), cols = m7k_win_extent(c->tw, c->sw, c->kw, c->dw);
    int64_t sc = (int64_t)c->sub_ci * 4, sr = cols * sc;
    M7kClip k = m7k_clip(ih0, iw0, rows, cols, c->h, c->w);
    int v0 = k.v0, v1 = k.v1, u0 = k.u0, u1 = k.u1;
    if (k.pad_top > 0)
        add(st, m, k.pad_top, k.pad_top * sr, 0);
    if (k.pad_bottom > 0)
        add(st, m, k.pad_bottom, k.pad_bottom * sr, 0);
    if (k.empty) {
        if (v1 > v0)
            add(st, m, v1 - v0, (v1 - v0) * sr, 0);
        return;
    }
    if (k.pad_left > 0)
        add(st, m, v1 - v0, (v1 - v0) * k.pad_left * sc, 0);
    if (k.pad_right > 0)
        add(st, m, v1 - v0, (v1 - v0) * k.pad_right * sc, 0);
    if (c->in_sw == (uint64_t)sc) {
        add_in(st, c, m, v1 - v0, (int64_t)(v1 - v0) * (u1 - u0) * sc);
    } else {
        for (int v = v0; v < v1; v++)
            add_in(st, c, m, u1 - u0, (u1 - u0) * pix);
    }
}

/* One group's transfers: its bias, weight chunks, input windows (its
 * channels start at cb, maybe mid-sub-tile) and output tiles. */
static void group_dma(const BkConv *c, const M7Machine *m, int core, int ncores, int cb, BkDmaStats *st) {
    int pk = c->pool_k > 1 ? c->pool_k : 1;
    M7kShare sh = bk_conv_share(c, core, ncores);
    int r_lo = sh.r_lo, r_hi = sh.r_hi, v_lo = sh.co_lo, v_hi = sh.co_hi, bcast = sh.bcast;
    int nht = (r_hi - r_lo + c->th - 1) / c->th, nwt = (c->wo + c->tw - 1) / c->tw;
    if (!bcast && (v_hi <= v_lo || nht == 0))
        return;
    int64_t kk = (int64_t)c->kh * c->kw;
    if (c->b_off >= 0)
        add(st, m, 1, (int64_t)c->nvco * 128 * (c->bias_px ? c->wo : 1), bcast);
    for (int v0 = v_lo; v0 < v_hi; v0 += c->co_chunk) {
        int nv = m7k_min(c->co_chunk, v_hi - v0), s_lo, s_hi;
        m7k_range(nv, sh.slice, sh.nslices, &s_lo, &s_hi); /* the outputs it stores */
        for (int ci0 = 0; ci0 < c->cin; ci0 += c->ci_chunk) {
            int nci = m7k_min(c->ci_chunk, c->cin - ci0);
            int last = ci0 + c->ci_chunk >= c->cin;
            int parts = (v0 == v_lo && ci0 == 0) || c->single_buf ? 1 /* whole, between chunks */
                        : bcast ? (c->w_parts > 1 ? c->w_parts : 1) : c->n * nht * nwt;
            for (int part = 0; part < parts; part++) /* private weights: a part per tile */
                add(st, m, 1, nv * nci * kk * 128 / parts, bcast);
            /* A whole chunk fetched a chunk ahead on the other weight channel
             * (the kernel's double buffer) has its setup done long before its
             * bytes take the link: only the first chunk's shows. */
            if (parts == 1 && !c->single_buf && !(v0 == v_lo && ci0 == 0))
                st->cycles -= m->dma_setup;
            int a = cb + ci0, nsub = (a + nci + c->sub_ci - 1) / c->sub_ci - a / c->sub_ci;
            for (int n = 0; n < c->n; n++)
                for (int ht = 0; ht < nht; ht++)
                    for (int wt = 0; wt < nwt; wt++) {
                        int r0 = r_lo + ht * c->th, c0 = wt * c->tw;
                        int nr = m7k_min(c->th, r_hi - r0), nc = m7k_min(c->tw, c->wo - c0);
                        for (int s = 0; s < nsub; s++) {
                            int s_abs = a / c->sub_ci + s, used = a + nci - s_abs * c->sub_ci;
                            window(c, m, st, r0 * c->sh - c->pt, c0 * c->sw - c->pl,
                                   4LL * (used < c->sub_ci ? used : c->sub_ci));
                        }
                        if (!last)
                            continue;
                        nr /= pk, nc /= pk; /* only pooled pixels leave */
                        for (int j = s_lo; j < s_hi; j++) {
                            if (c->out_sw == 128)
                                add(st, m, nr, (int64_t)nr * nc * 128, 0);
                            else
                                for (int r = 0; r < nr; r++)
                                    add(st, m, nc, (int64_t)nc * 128, 0);
                        }
                    }
        }
    }
}

/* Groups run one after the other (m7k_conv). */
void bk_conv_dma(const BkConv *c, const M7Machine *m, int core, int ncores, BkDmaStats *st) {
    st->transfers = 0, st->bytes = 0, st->cycles = 0;
    for (int g = 0; g < c->groups; g++)
        group_dma(c, m, core, ncores, g * c->cin, st);
}
