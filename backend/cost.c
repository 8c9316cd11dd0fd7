/* cost.c: the cost model.  Compute cycles come from the unit throughputs
 * and latencies of the machine description (MACHINE.md 1 and 5), DMA cycles
 * from setup + per-row overhead + bytes / bandwidth (MACHINE.md 3). */
#include <math.h>

#include "backend/backend.h"

static double dmax(double a, double b) { return a > b ? a : b; }

/* Compute cycles of one output tile of nr x nc pixels, nv vectors, nci
 * channels: its micro-kernel calls as emitted (mk_sched.c); the first
 * channel chunk starts from the bias, the last applies the activation. */
static double tile_compute(const BkConv *c, const M7Machine *m, int nr, int nc, int nv, int nci, int first,
                           int last) {
    double t = 0;
    int kk = c->kh * c->kw;
    BkMkInit init = first && c->b_off < 0 ? BK_MK_INIT_ZERO : BK_MK_INIT_LOAD;
    BkMkAct act = last ? bk_mk_act(c->act.act) : BK_MK_ACT_NONE;
    for (int j0 = 0; j0 < nv; j0 += c->vco) {
        int vb = nv - j0 < c->vco ? nv - j0 : c->vco;
        int full = nc / c->px, rem = nc % c->px;
        double row = full * bk_mk_call_cycles(m, vb, c->px, c->pairs, nci, kk, init, act);
        if (rem)
            row += bk_mk_call_cycles(m, vb, rem, c->pairs, nci, kk, init, act);
        t += nr * row;
        if (c->pool_k > 1) /* pooling in AM: k^2 loads and a store per pooled vector */
            t += (double)vb * (nr / c->pool_k) * (nc / c->pool_k) * (c->pool_k * c->pool_k + 1) / m->n_vls;
    }
    return t;
}

void bk_cost_conv(const BkSched *s, const M7Machine *m, double *compute, double *dma,
                  int64_t *transfers, int64_t *bytes) {
    const BkConv *c = &s->u.conv;
    /* the last core has the largest share (m7k_range) */
    M7kShare sh = bk_conv_share(c, m->cores - 1, m->cores);
    int rows = sh.r_hi - sh.r_lo, nv_core = sh.co_hi - sh.co_lo;
    int nht = (rows + c->th - 1) / c->th, nwt = (c->wo + c->tw - 1) / c->tw;
    int rlast = rows - (nht - 1) * c->th, clast = c->wo - (nwt - 1) * c->tw;
    double comp = 0;
    for (int v0 = 0; v0 < nv_core; v0 += c->co_chunk) {
        int nv = nv_core - v0 < c->co_chunk ? nv_core - v0 : c->co_chunk, s_lo, s_hi;
        m7k_range(nv, sh.slice, sh.nslices, &s_lo, &s_hi); /* the core's vectors of the chunk */
        nv = s_hi - s_lo;
        for (int ci0 = 0; ci0 < c->cin; ci0 += c->ci_chunk) {
            int nci = c->cin - ci0 < c->ci_chunk ? c->cin - ci0 : c->ci_chunk;
            int fi = ci0 == 0, la = ci0 + nci >= c->cin;
            double full = tile_compute(c, m, c->th, c->tw, nv, nci, fi, la);
            double t = 0;
            if (nht > 0 && nwt > 0) {
                t += (double)(nht - 1) * (nwt - 1) * full;
                t += (double)(nht - 1) * tile_compute(c, m, c->th, clast, nv, nci, fi, la);
                t += (double)(nwt - 1) * tile_compute(c, m, rlast, c->tw, nv, nci, fi, la);
                t += tile_compute(c, m, rlast, clast, nv, nci, fi, la);
            }
            comp += c->n * t;
        }
    }
    BkDmaStats st;
    bk_conv_dma(c, m, m->cores - 1, m->cores, &st);
    if (c->in_gsm) /* staging: a share of the input, then a barrier */
        st.cycles += bk_dma_cycles(m, 1, c->in_bytes / m->cores, 0) + m->barrier_cycles;
    *compute = comp * c->groups;
    *dma = st.cycles; /* every group's (bk_conv_dma) */
    *transfers = st.transfers;
    *bytes = st.bytes;
}

/* Depthwise: per pixel block and kernel row, the busiest of VMAC and VLS,
 * or the FMA chain; DMA: the input window and the output rows per item. */
void bk_cost_dw(BkSched *s, const M7Machine *m) {
    const BkConv *c = &s->u.conv;
    int nht = (c->ho + c->th - 1) / c->th, items = c->n * c->ncb * nht;
    double per_core = (double)(items + m->cores - 1) / m->cores;
    double blk = 0;
    for (int q0 = 0; q0 < c->wo; q0 += c->px) {
        int pb = c->wo - q0 < c->px ? c->wo - q0 : c->px, nx = (pb - 1) * c->sw + (c->kw - 1) * c->dw + 1;
        double row = dmax((double)c->kw * pb / m->n_vmac, (double)(nx + c->kw) / m->n_vls);
        blk += dmax(c->kh * row, (double)c->kh * c->kw * m->lat_fma) + 2.0 * pb / m->n_vls;
    }
    int rows = (c->th - 1) * c->sh + (c->kh - 1) * c->dh + 1;
    int cols = (c->wo - 1) * c->sw + (c->kw - 1) * c->dw + 1;
    int64_t in_b = (int64_t)rows * cols * 128, out_b = (int64_t)c->th * c->wo * 128;
    s->cyc_compute = per_core * c->th * blk;
    s->cyc_dma = per_core * (bk_dma_cycles(m, rows, in_b, 0) + bk_dma_cycles(m, 1, out_b, 0));
    s->dma_transfers = (int64_t)(per_core * 2);
    s->dma_bytes = (int64_t)(per_core * (in_b + out_b));
}

/* Layers without a tiling search: a throughput estimate of their loop. */
void bk_cost_simple(BkSched *s, const M7Machine *m) {
    double comp = 0, dma = 0;
    int overlapped = 0; /* double-buffered: the setups overlap */
    int64_t tr = 0, by = 0;
    int cores = m->cores;
    switch (s->kind) {
    case BK_KIND_POOL: { /* per tile: its window in (a transfer per row when columns are skipped), tile out */
        const BkPool *p = &s->u.pool;
        int64_t items = (int64_t)p->n * p->ncb * ((p->ho + p->th - 1) / p->th) * ((p->wo + p->tw - 1) / p->tw);
        double per = (double)((items + cores - 1) / cores);
        double px = per * p->th * p->tw;
        comp = px * dmax((double)p->kh * p->kw / m->n_vls, 2.0 * m->lat_vint);
        int in_tr = p->gw > 1 ? p->rows_in : 1;
        by = (int64_t)(per * ((int64_t)p->rows_in * p->cols_in + (int64_t)p->th * p->tw) * 128);
        tr = (int64_t)(per * (in_tr + 1));
        dma = per * (p->gw > 1 ? (double)p->rows_in * p->cols_in : p->rows_in + p->th) * m->dma_row_overhead;
        break;
    }
    case BK_KIND_GPOOL: {
        const BkGPool *p = &s->u.gpool;
        double items = (double)(p->nb + cores - 1) / cores;
        comp = items * dmax((double)p->hw / m->n_vls, m->lat_fma * 4.0);
        by = (int64_t)(items * (p->hw + 1) * 128);
        tr = (int64_t)(items * (2 + p->hw / p->chunk));
        overlapped = 1;
        break;
    }
    case BK_KIND_EW: {
        const BkEw *p = &s->u.ew;
        double v = (double)p->nvec / cores;
        int loads = p->op == M7K_EW_ADD || p->op == M7K_EW_MUL ? 2 : p->op == M7K_EW_AFFINE ? 3 : p->op > M7K_EW_AFFINE ? 2 : 1;
        comp = v * (loads + 1) / m->n_vls;
        by = (int64_t)(v * 128 * (loads + 1));
        if (p->op >= M7K_EW_ADD_REP) /* b once, not streamed */
            by = (int64_t)(v * 128 * 2) + p->b_bytes;
        tr = (int64_t)((v / p->chunk + 1) * (loads + 1));
        overlapped = 1;
        /* the last piece's compute, between its loads and its store */
        s->cyc_exposed = comp / ceil(v / p->chunk);
        break;
    }
    case BK_KIND_SOFTMAX:
    case BK_KIND_LRN: { /* per pixel: the exp/rcp/rsqrt sequences dominate */
        const BkSoftmax *p = &s->u.softmax;
        if (p->by_axis) { /* per vector: the same exp/rcp sequence, no lane reductions */
            int64_t per = (p->inner + p->cols - 1) / p->cols;
            double items = (double)((p->outer * per + cores - 1) / cores); /* the busiest core's */
            double vecs = items * p->len * ((p->cols + 31) / 32);
            /* per column: the max and sum chains down the rows (VIEU, VMAC
             * latency) or 12 VMAC ops a vector (vsub, vexp 9, vadd, vmul), and vrcp */
            comp = vecs * dmax(12.0 / m->n_vmac, (double)(m->lat_vint + m->lat_fma)) +
                   items * ((p->cols + 31) / 32) * 7.0 * m->lat_fma;
            by = (int64_t)(items * p->len * p->cols * 8);
            tr = (int64_t)(items * 2);
            dma = items * 2 * p->len * m->dma_row_overhead;
            break;
        }
        if (p->by_rows) {
            double rows = (double)p->rows / cores;
            comp = rows * ((p->len + 31) / 32 * 60.0 + 2 * m->lat_reduce);
            by = (int64_t)(rows * p->len * 8);
            tr = (int64_t)(rows / p->chunk * 2 + 2);
            break;
        }
        double px = (double)s->out.n * p->hw / cores, items = px / p->np + 1;
        comp = px * (s->kind == BK_KIND_LRN ? p->nb * (p->size + 30.0) : p->nb * 60.0 + 2 * m->lat_reduce);
        by = (int64_t)(px * p->nb * 256);
        tr = (int64_t)(items * 2 + 1);
        break;
    }
    case BK_KIND_COPY: { /* one transfer per core */
        tr = 1;
        by = (int64_t)((double)bk_act_bytes(&s->in[0]) / cores);
        break;
    }
    case BK_KIND_PAD: {
        double items = (double)(s->out.n * ((s->out.c + 31) / 32) + cores - 1) / cores;
        tr = (int64_t)(items * 5);
        by = (int64_t)(items * s->out.h * s->out.w * 128);
        dma = items * s->out.h * 2.0 * m->dma_row_overhead;
        if (s->u.pad.mode != IR_PAD_CONSTANT) { /* border copies: a column DMA each, a row DMA each */
            int64_t cols = s->out.w - s->in[0].w, rows = s->out.h - s->in[0].h;
            tr += (int64_t)(items * (double)(cols + rows));
            by += (int64_t)(items * (double)(cols * s->in[0].h + rows * s->out.w) * 2 * 128); /* read + write */
            dma += items * (double)(cols * s->in[0].h + rows) * m->dma_row_overhead;
        }
        break;
    }
    default:
        break;
    }
    /* two slots (overlapped): the setups hide but the first; otherwise each shows */
    dma += overlapped ? bk_dma_stream_cycles(m, (double)tr, (double)by)
                      : tr * (double)m->dma_setup + by / (m->ddr_bw / cores);
    s->cyc_compute = comp;
    s->cyc_dma = dma;
    s->dma_transfers = tr;
    s->dma_bytes = by;
}

/* Moves: the kernel gives core k the DMAs [total*k/cores, total*(k+1)/cores)
 * of the list, round-robin over M7K_MOVE_CHANNELS channels, DDR to DDR.
 * Setups overlap across channels; each transfer's row overheads and its
 * bytes, read and written, hold the core's link (docs/machine.md 5.5).  So
 * the busiest core takes one setup plus all the link work, or, when there
 * are few channels for many transfers, the busiest channel's share of
 * setups and link work. */
void bk_cost_moves(const BkMoves *mv, const M7Machine *m, double *dma, int64_t *transfers, int64_t *bytes) {
    int64_t total = bk_moves_dmas(mv);
    double worst = 0;
    *transfers = 0, *bytes = 0;
    for (int core = 0; core < m->cores; core++) {
        int64_t lo = total * core / m->cores, hi = total * (core + 1) / m->cores, base = 0, n = 0, by = 0;
        double setups = 0, rows = 0;
        for (int k = 0; k < mv->n; k++) {
            const BkMove *mm = &mv->m[k];
            int64_t cnt = 1;
            for (int i = 0; i < mm->nloop; i++)
                cnt *= mm->cnt[i];
            int64_t a = lo > base ? lo - base : 0, b = hi - base < cnt ? hi - base : cnt;
            if (b > a) {
                n += b - a;
                by += (b - a) * (int64_t)mm->rows * mm->row_bytes;
                setups += (double)(b - a) * m->dma_setup;
                rows += (double)(b - a) * mm->rows;
            }
            base += cnt;
        }
        int nch = n < M7K_MOVE_CHANNELS ? (int)n : M7K_MOVE_CHANNELS;
        double link = rows * m->dma_row_overhead + 2.0 * (double)by / (m->ddr_bw / m->cores);
        double t = n ? dmax((setups + link) / nch, (double)m->dma_setup + link) : 0;
        worst = dmax(worst, t);
        *transfers = n > *transfers ? n : *transfers;
        *bytes = by > *bytes ? by : *bytes;
    }
    *dma = worst;
}
