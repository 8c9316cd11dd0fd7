/* tile.c: tile sizes, loop structure and on-chip placement per layer.
 *
 * Conv/FC: every candidate (register block, weight chunk, output tile,
 * core split) that fits AM and SM with its double buffers is priced by the
 * cost model and the cheapest wins.  A layer with no fitting candidate is a
 * compile-time error that says what the smallest one needs.  The other
 * kinds have one natural tiling each, sized to the memories. */
#include <string.h>

#include "backend/backend.h"

static int64_t round128(int64_t x) { return (x + 127) / 128 * 128; }

/* Register blocks (vectors x pixels) worth trying, at most 28 accumulators
 * (M7K_MAXACC): >= 18 keep 3 FMAs per cycle busy behind the 6-cycle FMA
 * latency when each weight load and broadcast feeds >= 1.5; 7 pixels fit
 * the widths 7 * 2^k of VGG-like nets. */
static const int blocks[][2] = {{4, 6}, {4, 7}, {3, 8}, {3, 9}, {2, 12}, {4, 5}, {4, 4}, {3, 6},
                                {2, 8}, {1, 12}, {4, 2}, {2, 6}, {1, 8}, {4, 1}, {2, 4}, {1, 4},
                                {1, 2}, {1, 1}};

/* SM sub-tiles the input window of one weight chunk spans, the most of
 * any chunk of any group: a group whose channels start mid-vector (20 of
 * 40 in group 2) straddles one more sub-tile than its channel count says,
 * and its slot must hold it (m7k_conv_load_tile loads every sub it spans). */
static int conv_max_subs(const BkConv *c) {
    int best = 1;
    for (int g = 0; g < c->groups; g++)
        for (int ci0 = 0; ci0 < c->cin; ci0 += c->ci_chunk) {
            int a = g * c->cin + ci0, e = a + (c->cin - ci0 < c->ci_chunk ? c->cin - ci0 : c->ci_chunk);
            int n = (e + c->sub_ci - 1) / c->sub_ci - a / c->sub_ci;
            best = n > best ? n : best;
        }
    return best;
}

/* Memory of a candidate; 0 if it fits. */
static int conv_fit(BkConv *c, const M7Machine *m, int ntiles_max, int64_t *am, int64_t *sm) {
    int kk = c->kh * c->kw;
    int nkc = (c->cin + c->ci_chunk - 1) / c->ci_chunk;
    int ncc_max = (c->nvco + c->co_chunk - 1) / c->co_chunk;
    int rows = (c->th - 1) * c->sh + (c->kh - 1) * c->dh + 1;
    int cols = (c->tw - 1) * c->sw + (c->kw - 1) * c->dw + 1;
    int64_t sc = (int64_t)c->sub_ci * 4, sr = cols * sc;
    int64_t sub_bytes = ((int64_t)rows * sr + 7) / 8 * 8;
    c->sm_slot_bytes = conv_max_subs(c) * sub_bytes;
    c->zero_bytes = sr;
    c->w_slot_bytes = (int64_t)c->co_chunk * c->ci_chunk * kk * 128;
    c->out_tile_bytes = (int64_t)c->co_chunk * c->th * c->tw * 128;
    c->resident = nkc > 1;
    int slots = c->single_buf ? 1 : 2; /* per stream */
    int wslots = nkc * ncc_max > 1 ? slots : 1;
    c->am_bias = 0;
    c->am_w0 = round128((int64_t)c->nvco * 128 * (c->bias_px ? c->wo : 1));
    c->am_w1 = c->am_w0 + (wslots > 1 ? c->w_slot_bytes : 0);
    c->am_out = c->am_w1 + c->w_slot_bytes;
    *am = c->am_out + (c->resident ? ntiles_max : slots) * c->out_tile_bytes;
    c->sm_in0 = 0;
    c->sm_in1 = slots > 1 ? c->sm_slot_bytes : 0;
    *sm = slots * c->sm_slot_bytes;
    return *am > m->am_bytes || *sm > m->sm_bytes;
}

/* DMA that nothing overlaps: staging the input, the first weight chunk
 * and input tile before any compute, the last output tile after it; each
 * group of a grouped conv starts and drains its own pipeline.
 * Single-buffered, nothing overlaps at all (the cost is compute + DMA). */
static double exposed_cycles(const BkConv *c, const M7Machine *m) {
    int nv = c->co_chunk < c->nvco ? c->co_chunk : c->nvco, nci = c->ci_chunk < c->cin ? c->ci_chunk : c->cin;
    if (c->single_buf)
        return 0;
    double e = bk_dma_cycles(m, 1, (int64_t)nv * nci * c->kh * c->kw * 128, bk_conv_share(c, 0, m->cores).bcast);
    e += bk_dma_cycles(m, c->th, c->sm_slot_bytes, 0);
    e += bk_dma_cycles(m, c->th, c->out_tile_bytes, 0);
    e *= c->groups;
    if (c->in_gsm)
        e += bk_dma_cycles(m, 1, c->in_bytes / m->cores, 0) + m->barrier_cycles;
    return e;
}

static double dmax2(double a, double b) { return a > b ? a : b; }

/* Resident outputs (several ci chunks) leave during the last ci chunk of
 * their co chunk only, and the next co chunk starts when they have left
 * (m7k_conv waits at its first ci chunk): per co chunk, the early ci chunks
 * overlap their compute with their weight and input DMAs, the last one
 * with those and every output tile's store.  What that adds to max(compute,
 * DMA) (ntiles, nv_core: a core's tiles and vectors). */
static double resident_extra(const BkConv *c, const M7Machine *m, int ntiles, int nv_core, double comp, double dma) {
    int nkc = (c->cin + c->ci_chunk - 1) / c->ci_chunk, ncc = (nv_core + c->co_chunk - 1) / c->co_chunk;
    if (!c->resident || c->single_buf || nkc < 2 || ncc < 1)
        return 0;
    double tile_out = bk_dma_cycles(m, c->th, c->out_tile_bytes, 0) * c->groups;
    double out = (double)ncc * ntiles * tile_out, rest = dma > out ? dma - out : 0, last = 1.0 / nkc;
    double cc = comp / ncc, dc = rest / ncc, oc = out / ncc;
    double early = dmax2(cc, dc) * (1 - last), late = dmax2(cc * last, dc * last + oc);
    /* the last tile's store is exposed anyway (exposed_cycles) */
    double t = ncc * (early + late), base = dmax2(comp, dma) + tile_out;
    return t > base ? t - base : 0;
}

/* What a conv candidate adds to max(compute, DMA) (ntiles, nv_core: a
 * core's tiles and vectors).  Exposed DMA (the first loads, the last store)
 * adds to the compute; when DMA bounds the layer, its stream already holds
 * those loads and what shows is one item's compute after the last of them.
 * Resident outputs add what their last-chunk stores cost beyond that. */
static double conv_exposed(const BkConv *c, const M7Machine *m, int ntiles, int nv_core, double comp, double dma) {
    double e0 = exposed_cycles(c, m), rx = resident_extra(c, m, ntiles, nv_core, comp, dma);
    if (c->single_buf)
        return e0 + rx;
    int items = ntiles * ((c->cin + c->ci_chunk - 1) / c->ci_chunk) * ((nv_core + c->co_chunk - 1) / c->co_chunk);
    double over = dma + comp / (items > 0 ? items : 1);
    return dmax2(comp + e0, over) - dmax2(comp, dma) + rx;
}

/* Parts a broadcast weight chunk comes in: the fewest tiles any core has
 * (every core must issue the same collective calls). */
static int conv_w_parts(const BkConv *c, const M7Machine *m) {
    int parts = 1 << 20;
    for (int k = 0; k < m->cores; k++) {
        M7kShare sh = bk_conv_share(c, k, m->cores);
        int t = c->n * ((sh.r_hi - sh.r_lo + c->th - 1) / c->th) * ((c->wo + c->tw - 1) / c->tw);
        parts = t < parts ? t : parts;
    }
    return parts < 1 ? 1 : parts;
}

/* Powers of two up to n, and n itself. */
static int steps(int n, int *out, int max) {
    int k = 0;
    for (int v = 1; v < n && k < max - 1; v *= 2)
        out[k++] = v;
    out[k++] = n;
    return k;
}

int bk_tile_conv(const char *name, BkSched *s, const M7Machine *m, IrDiag *d) {
    BkConv *c = &s->u.conv, best;
    double best_cost = -1;
    int64_t min_am = INT64_MAX, min_sm = INT64_MAX;
    int fc = c->h == 1 && c->kh == 1 && c->kw == 1 && c->sub_ci == 0;
    s->candidates = 0;
    for (int cand = 0; cand < 4 * m->cores; cand++) {
        int rparts = cand % m->cores + 1, gsm = cand / m->cores % 2, slices = cand / m->cores / 2;
        int cparts = m->cores / rparts;
        if (m->cores % rparts || (cparts > 1 && c->nvco < 2) || (slices && (cparts == 1 || rparts == 1)))
            continue;
        if (gsm && (c->in_bytes > m->gsm_bytes || c->in_bytes <= 0 || c->groups > 1))
            continue;
        int pk = c->pool_k > 1 ? c->pool_k : 1; /* tiles and shares in whole pooling windows */
        int rows_core = (c->ho / pk + rparts - 1) / rparts * pk;
        int nv_core = slices ? c->nvco : (c->nvco + cparts - 1) / cparts;
        if (rows_core < 1)
            rows_core = 1;
        int ths[16], nth = steps(rows_core, ths, 16);
        /* ci chunks, halving: whole 32-channel sub-tiles unless planar, so a
         * chunk always starts a sub-tile (and SLDDW pairs stay aligned) */
        int cis[16], nci = 0;
        if (c->sub_ci == 1) {
            for (int v = c->cin; v >= 1 && nci < 16; v = v > 1 ? (v + 1) / 2 : 0) {
                cis[nci++] = v;
                if (v == 1)
                    break;
            }
        } else {
            cis[nci++] = c->cin;
            for (int nb = (c->cin + 31) / 32 / 2; nb >= 1 && nci < 16; nb /= 2)
                cis[nci++] = nb * 32;
        }
        for (int b = 0; b < (int)(sizeof blocks / sizeof blocks[0]); b++) {
            int vco = blocks[b][0], px = blocks[b][1];
            if (vco > nv_core || (px > c->wo && px > 1))
                continue;
            int tws[8], ntw = 0;
            for (int k = (c->wo + px - 1) / px; k >= 1 && ntw < 8; k = k / 2)
                tws[ntw++] = k * px < c->wo ? k * px : c->wo;
            int cos[8], nco = 0;
            for (int k = vco; nco < 7; k *= 2) {
                if (k >= nv_core) {
                    cos[nco++] = nv_core;
                    break;
                }
                cos[nco++] = k;
            }
            for (int ic = 0; ic < nco; ic++)
                for (int ik = 0; ik < nci; ik++)
                    for (int it = 0; it < nth; it++)
                        for (int iw = 0; iw < ntw; iw++) {
                            if (ths[it] % pk || tws[iw] % pk)
                                continue;
                            BkConv t = *c;
                            t.row_parts = rparts, t.vco = vco, t.px = px, t.in_gsm = gsm, t.slices = slices;
                            t.co_chunk = cos[ic], t.ci_chunk = cis[ik], t.th = ths[it], t.tw = tws[iw];
                            if (fc) {
                                t.sub_ci = t.ci_chunk;
                                t.in_ssub = (int64_t)t.sub_ci * 4;
                            }
                            t.pairs = bk_conv_pairs(&t);
                            int ntiles = c->n * ((rows_core + t.th - 1) / t.th) * ((c->wo + t.tw - 1) / t.tw);
                            int64_t am, sm;
                            if (conv_fit(&t, m, ntiles, &am, &sm)) {
                                if (am < min_am || (am == min_am && sm < min_sm))
                                    min_am = am, min_sm = sm;
                                continue;
                            }
                            s->candidates++;
                            t.w_parts = conv_w_parts(&t, m);
                            BkSched tmp = *s;
                            tmp.u.conv = t;
                            double comp, dma;
                            int64_t tr, by;
                            bk_cost_conv(&tmp, m, &comp, &dma, &tr, &by);
                            double exposed = conv_exposed(&t, m, ntiles, nv_core, comp, dma);
                            /* double buffering hides the smaller of the two, but not
                             * perfectly: tiles vary and each DMA waits for the
                             * instructions before it (MACHINE.md 5.4) */
                            double cost = t.single_buf ? comp + dma + exposed
                                                       : dmax2(comp, dma) + exposed + 0.15 * (comp < dma ? comp : dma);
                            if (best_cost < 0 || cost < best_cost) {
                                best_cost = cost;
                                best = t;
                                s->cyc_compute = comp, s->cyc_dma = dma;
                                s->dma_transfers = tr, s->dma_bytes = by;
                                s->am_bytes = am, s->sm_bytes = sm;
                                s->cyc_exposed = exposed;
                            }
                        }
        }
    }
    if (best_cost < 0) {
        ir_diag_add(d, "backend: layer '%s': no tiling fits on chip: the smallest candidate needs "
                       "AM %lld B (have %lld) and SM %lld B (have %lld)",
                    name, (long long)min_am, (long long)m->am_bytes, (long long)min_sm,
                    (long long)m->sm_bytes);
        return -1;
    }
    *c = best;
    c->w_parts = conv_w_parts(c, m);
    int nchunks = ((c->nvco + c->co_chunk - 1) / c->co_chunk) * ((c->cin + c->ci_chunk - 1) / c->ci_chunk);
    int slots = c->single_buf ? 1 : 2;
    s->am_slots = (nchunks > 1 ? slots : 1) + (c->resident ? 0 : slots);
    s->gsm_bytes = c->in_gsm ? c->in_bytes : 0;
    s->sm_slots = slots;
    return 0;
}

/* k consecutive ONNX groups may run together as one group: k divides the
 * groups and their outputs fill whole vectors (a group's outputs must start
 * a vector: m7k_conv writes whole vectors), or k is all of them (a dense
 * conv).  Their weights are block-diagonal (zero across groups), so k
 * costs k times the MACs (the cost model counts what runs). */
int bk_conv_merge_ok(int groups, int cout_g, int k) {
    return k >= 1 && groups % k == 0 && (k == groups || (int64_t)k * cout_g % 32 == 0);
}

static int conv_setup(IrGraph *g, IrLayer *l, BkSched *s, int merge, IrDiag *d) {
    BkConv *c = &s->u.conv;
    const IrTensor *w = &g->t[l->in[1]];
    const BkAct *x = &s->in[0], *y = &s->out;
    int pool_k = c->pool_k, pool_max = c->pool_max; /* set by bk_fuse_pools */
    memset(c, 0, sizeof *c);
    c->pool_k = pool_k, c->pool_max = pool_max;
    int onnx_groups = l->op == IR_CONV ? l->a.conv.group : 1;
    c->merge = merge;
    c->groups = onnx_groups / c->merge;
    c->nvco = (y->c / c->groups + 31) / 32;
    c->b_off = l->n_in > 2 && l->in[2] >= 0 ? 0 : -1;
    bk_plan_act(l, &c->act); /* the micro-kernel's last call applies it: priced */
    c->dh = c->dw = c->sh = c->sw = 1;
    c->kh = c->kw = 1;
    int64_t wd[4];
    if (l->op == IR_CONV) {
        if (ir_dims_2d(w, wd) || wd[1] * onnx_groups != x->c) {
            ir_diag_add(d, "backend: layer '%s': weights do not match the input channels", l->name);
            return -1;
        }
        int k = c->pool_k > 1 ? c->pool_k : 1; /* y is the pooled output then */
        c->n = x->n, c->cin = x->c / c->groups, c->h = x->h, c->w = x->w, c->ho = y->h * k, c->wo = y->w * k;
        c->kh = (int)wd[2], c->kw = (int)wd[3];
        c->sh = l->a.conv.stride[0], c->sw = l->a.conv.stride[1];
        c->dh = l->a.conv.dilation[0], c->dw = l->a.conv.dilation[1];
        c->pt = l->a.conv.pad[0], c->pl = l->a.conv.pad[1];
        if (c->sh < 1 || c->sw < 1 || c->dh < 1 || c->dw < 1) {
            ir_diag_add(d, "backend: layer '%s': bad stride or dilation", l->name);
            return -1;
        }
        int64_t hw = (int64_t)x->h * x->w;
        c->in_bytes = bk_act_bytes(x);
        if (x->layout == BK_LAYOUT_BLOCKED) {
            c->sub_ci = 32;
            c->in_sw = 128, c->in_sh = (int64_t)x->w * 128, c->in_ssub = hw * 128;
            c->in_sn = (int64_t)((x->c + 31) / 32) * hw * 128;
        } else {
            c->sub_ci = 1;
            c->in_sw = 4, c->in_sh = (int64_t)x->w * 4, c->in_ssub = hw * 4;
            c->in_sn = (int64_t)x->c * hw * 4;
        }
        c->out_sw = 128, c->out_sh = (int64_t)y->w * 128, c->out_sv = (int64_t)y->h * y->w * 128;
        c->out_sn = (int64_t)((y->c + 31) / 32) * c->out_sv;
        c->g_out = (int64_t)c->nvco * c->out_sv;
        c->g_wts = (int64_t)c->nvco * c->cin * c->kh * c->kw * 128;
        c->g_bias = (int64_t)c->nvco * 128;
    } else if (l->op == IR_GEMM && l->a.gemm.trans_a) {
        /* A is [K, N]: a planar 1-row image of N pixels (the samples) whose
         * channel k is A's row k (pitch: N floats, or N padded to vectors) */
        int64_t pitch = x->layout == BK_LAYOUT_BLOCKED ? (int64_t)(x->c + 31) / 32 * 128 : (int64_t)x->c * 4;
        if (w->rank != 2 || w->dims[bk_w_kmajor(l) ? 0 : 1] != x->n) {
            ir_diag_add(d, "backend: layer '%s': Gemm B does not match A's K", l->name);
            return -1;
        }
        c->n = 1, c->cin = x->n, c->h = 1, c->w = x->c, c->ho = 1, c->wo = x->c;
        c->in_bytes = bk_act_bytes(x);
        c->sub_ci = 1, c->trans_a = 1;
        c->in_sw = 4, c->in_sh = 0, c->in_ssub = pitch, c->in_sn = 0;
        c->out_sw = (int64_t)c->nvco * 128, c->out_sh = 0, c->out_sv = 128, c->out_sn = 0;
    } else { /* FC: a 1x1 conv over a 1-row image of the batch */
        int64_t k = x->layout == BK_LAYOUT_BLOCKED ? (int64_t)(x->c + 31) / 32 * 32 * x->h * x->w
                                                   : (int64_t)x->c * x->h * x->w;
        if (w->rank != 2 || w->dims[bk_w_kmajor(l) ? 0 : 1] != (int64_t)x->c * x->h * x->w || k > (1 << 28)) {
            ir_diag_add(d, "backend: layer '%s': FC weights do not match the input size", l->name);
            return -1;
        }
        c->n = 1, c->cin = (int)k, c->h = 1, c->w = x->n, c->ho = 1, c->wo = x->n;
        c->in_bytes = bk_act_bytes(x);
        c->sub_ci = 0; /* = the ci chunk, chosen by the search */
        c->in_sw = k * 4, c->in_sh = 0, c->in_sn = 0;
        c->out_sw = (int64_t)c->nvco * 128, c->out_sh = 0, c->out_sv = 128, c->out_sn = 0;
    }
    /* Gemm's C as a matrix: a bias vector per sample */
    c->bias_px = c->b_off >= 0 && bk_gemm_c_form(g, l) == 2;
    return 0;
}

/* Depthwise: rows of full width per item; as many rows as fit, but enough
 * items for every core. */
static int dw_tile(IrGraph *g, IrLayer *l, BkSched *s, const M7Machine *m, int slots, IrDiag *d) {
    if (conv_setup(g, l, s, l->a.conv.group, d))
        return -1;
    BkConv *c = &s->u.conv;
    c->ncb = (s->out.c + 31) / 32;
    c->groups = 1, c->cin = 1, c->nvco = c->ncb, c->tw = c->wo, c->sub_ci = 32; /* [block][tap][32] */
    c->in_sw = 128, c->in_sh = (int64_t)c->w * 128, c->in_ssub = (int64_t)c->h * c->w * 128;
    c->in_sn = c->ncb * c->in_ssub;
    int kk = c->kh * c->kw;
    if (c->kw > 8) {
        ir_diag_add(d, "backend: layer '%s': depthwise kernels wider than 8 are not supported", l->name);
        return -1;
    }
    for (c->px = 8; (c->px - 1) * c->sw + (c->kw - 1) * c->dw + 1 > 24 && c->px > 1;)
        c->px--;
    if ((c->kw - 1) * c->dw + 1 > 24) {
        ir_diag_add(d, "backend: layer '%s': depthwise dilation too large", l->name);
        return -1;
    }
    int cols = (c->wo - 1) * c->sw + (c->kw - 1) * c->dw + 1;
    int64_t fixed = (int64_t)c->ncb * (kk + 1) * 128, fit = 0;
    for (int th = 1; th <= c->ho; th++) {
        int64_t rows = (int64_t)(th - 1) * c->sh + (c->kh - 1) * c->dh + 1;
        if (fixed + slots * (rows * cols * 128 + (int64_t)th * c->wo * 128) > m->am_bytes)
            break;
        fit = th;
    }
    if (!fit) {
        ir_diag_add(d, "backend: layer '%s': one row of the depthwise conv does not fit in AM", l->name);
        return -1;
    }
    int items = c->n * c->ncb, want = (m->cores + items - 1) / items;
    int th = (c->ho + want - 1) / want;
    c->th = th < fit ? th : (int)fit;
    int64_t in_slot = ((int64_t)(c->th - 1) * c->sh + (c->kh - 1) * c->dh + 1) * cols * 128;
    c->out_tile_bytes = (int64_t)c->th * c->wo * 128;
    c->am_w0 = 0;
    c->am_bias = (int64_t)c->ncb * kk * 128;
    c->am_in0 = c->am_bias + (int64_t)c->ncb * 128;
    c->am_in1 = c->am_in0 + (slots > 1 ? in_slot : 0); /* = am_in0: single-buffered */
    c->am_out = c->am_in1 + in_slot;
    c->zero_bytes = (int64_t)cols * 128;
    s->am_bytes = c->am_out + slots * c->out_tile_bytes;
    s->am_slots = 2 * slots;
    bk_cost_dw(s, m);
    return 0;
}

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

static void pool_setup(const IrLayer *l, BkSched *s) {
    BkPool *p = &s->u.pool;
    const BkAct *x = &s->in[0], *y = &s->out;
    memset(p, 0, sizeof *p);
    p->n = x->n, p->ncb = (x->c + 31) / 32, p->h = x->h, p->w = x->w, p->ho = y->h, p->wo = y->w;
    p->kh = l->a.pool.kernel[0], p->kw = l->a.pool.kernel[1];
    p->sh = l->a.pool.stride[0], p->sw = l->a.pool.stride[1];
    p->dh = l->a.pool.dilation[0], p->dw = l->a.pool.dilation[1];
    p->gh = gcd(p->sh, p->dh), p->gw = gcd(p->sw, p->dw);
    p->pt = l->a.pool.pad[0], p->pl = l->a.pool.pad[1], p->pb = l->a.pool.pad[2], p->pr = l->a.pool.pad[3];
    p->is_max = l->op == IR_MAXPOOL;
    p->count_include_pad = l->a.pool.count_include_pad;
}

/* AM input window of a th x tw tile: the rows and columns its taps read. */
static void pool_window(const BkPool *p, int th, int tw, int *rows, int *cols) {
    *rows = ((th - 1) * p->sh + (p->kh - 1) * p->dh) / p->gh + 1;
    *cols = ((tw - 1) * p->sw + (p->kw - 1) * p->dw) / p->gw + 1;
}

static int64_t pool_slot_bytes(const BkPool *p, int th, int tw) {
    int rows, cols;
    pool_window(p, th, tw, &rows, &cols);
    return ((int64_t)rows * cols + (int64_t)th * tw) * 128;
}

/* Window taps (max/add on the one VIEU) per tile, at most: the loads (two
 * VLS) run ahead of that chain, and only the DMA waits of the next tiles
 * bring them back; a real core could not hold more loaded values than its
 * registers, and the simulator's timing ring holds some 16 k cycles. */
#define POOL_MAX_TAPS 4096

/* Full-width rows if one fits, else the widest column tile (very wide rows,
 * huge dilated windows); rows per tile as many as fit, or fewer when that
 * shares the tiles more evenly among the cores.  Two slots per stream; one
 * when two do not fit even at 1 x 1. */
static int pool_tile(const char *name, BkSched *s, const M7Machine *m, int slots, IrDiag *d) {
    BkPool *p = &s->u.pool;
    int items = p->n * p->ncb, fit = 0, tw = p->wo, kk = p->kh * p->kw;
    int tw0 = POOL_MAX_TAPS / kk < p->wo ? POOL_MAX_TAPS / kk : p->wo;
    if (tw0 < 1)
        tw0 = 1;
    for (; slots >= 1 && !fit; slots--)
        for (tw = tw0; tw >= 1 && !fit; tw = tw > 1 ? (tw + 1) / 2 : 0) {
            for (int th = 1; th <= p->ho && slots * pool_slot_bytes(p, th, tw) <= m->am_bytes &&
                             (th == 1 || (int64_t)th * tw * kk <= POOL_MAX_TAPS); th++)
                fit = th;
            if (fit)
                break;
        }
    slots++;
    if (!fit) {
        int rows, cols;
        pool_window(p, 1, 1, &rows, &cols);
        ir_diag_add(d, "backend: layer '%s': one pooling window (%d x %d pixels) does not fit in AM", name,
                    rows, cols);
        return -1;
    }
    /* row tiles: at least ho / fit; a few more if that evens out the cores'
     * rows (the busiest core's tiles x rows per tile) */
    int nwt = (p->wo + tw - 1) / tw, per = items * nwt, best = -1;
    for (int nht = (p->ho + fit - 1) / fit; nht <= p->ho && nht <= (p->ho + fit - 1) / fit + m->cores; nht++) {
        int th = (p->ho + nht - 1) / nht;
        int64_t rows = (int64_t)((per * nht + m->cores - 1) / m->cores) * th;
        if (best < 0 || rows < best)
            best = (int)rows, p->th = th;
    }
    p->tw = tw;
    pool_window(p, p->th, p->tw, &p->rows_in, &p->cols_in);
    int64_t in_slot = (int64_t)p->rows_in * p->cols_in * 128;
    int64_t out_slot = (int64_t)p->th * p->tw * 128;
    if (slots > 1) {
        p->am_in0 = 0, p->am_in1 = in_slot, p->am_out0 = 2 * in_slot, p->am_out1 = 2 * in_slot + out_slot;
    } else { /* single-buffered: the second slots are the first */
        p->am_in0 = p->am_in1 = 0, p->am_out0 = p->am_out1 = in_slot;
    }
    s->am_bytes = slots * (in_slot + out_slot);
    s->am_slots = 2 * slots;
    return 0;
}

static int gpool_tile(const char *name, BkSched *s, const M7Machine *m, IrDiag *d) {
    BkGPool *p = &s->u.gpool;
    const BkAct *x = &s->in[0];
    p->nb = x->n * ((x->c + 31) / 32), p->hw = x->h * x->w;
    int64_t cap = (m->am_bytes - 128) / 256;
    if (cap < 1) {
        ir_diag_add(d, "backend: layer '%s': AM too small for global pooling", name);
        return -1;
    }
    p->chunk = p->hw < cap ? p->hw : (int)(cap < 4096 ? cap : 4096);
    p->am_in0 = 0, p->am_in1 = (int64_t)p->chunk * 128, p->am_out = 2 * p->am_in1;
    s->am_bytes = p->am_out + 128;
    s->am_slots = 2;
    return 0;
}

static int ew_tile(const IrLayer *l, BkSched *s, const M7Machine *m, IrDiag *d) {
    BkEw *p = &s->u.ew;
    const BkAct *y = &s->out;
    if (p->op < M7K_EW_AFFINE)
        p->op = l->op == IR_ADD || l->op == IR_SUB || l->op == IR_DIV ? M7K_EW_ADD : l->op == IR_MUL ? M7K_EW_MUL : M7K_EW_ACT;
    p->ncb = (y->c + 31) / 32, p->hw = y->h * y->w;
    p->nvec = (int64_t)y->n * p->ncb * y->h * y->w;
    p->bytes = 0;
    if (y->layout == BK_LAYOUT_NCHW) { /* plain: the flat floats as vectors, the last one partial */
        p->bytes = bk_act_bytes(y);
        p->nvec = (p->bytes / 4 + 31) / 32;
    }
    int64_t st = p->op == M7K_EW_AFFINE ? (int64_t)p->ncb * 256 : p->op > M7K_EW_AFFINE ? p->bc_bytes : 0;
    if (p->op >= M7K_EW_ADD_REP) { /* b whole on chip: copies of it as a row in AM, or its values in SM */
        int64_t copies = (p->period + 32 + p->period - 1) / p->period;
        p->b_bytes = p->rep == 1 ? copies * p->period * 4 : p->period * 4;
        st = p->rep == 1 ? (p->b_bytes + 127) / 128 * 128 : 0;
        s->sm_bytes = p->rep == 1 ? 0 : p->b_bytes;
        if (s->sm_bytes > m->sm_bytes) {
            ir_diag_add(d, "backend: layer '%s': the %lld repeated values do not fit in SM", l->name,
                        (long long)p->period);
            return -1;
        }
    }
    int64_t per = (p->nvec + m->cores - 1) / m->cores, cap = (m->am_bytes - st) / 4 / 128;
    if (cap > 1024)
        cap = 1024;
    /* at least four pieces a core, so that the two slots overlap loads,
     * compute and stores (one piece would do them one after the other) */
    int64_t quarter = (per + 3) / 4;
    p->chunk = (int)(quarter < cap ? (quarter > 0 ? quarter : 1) : cap);
    int64_t slot = (int64_t)p->chunk * 128;
    int two = p->op == M7K_EW_ADD || p->op == M7K_EW_MUL;
    p->am_a0 = 0, p->am_a1 = slot, p->am_b0 = 2 * slot, p->am_b1 = 3 * slot;
    p->am_st = (two ? 4 : 2) * slot;
    s->am_bytes = p->am_st + st;
    s->am_slots = two ? 4 : 2;
    if (cap < 1) {
        ir_diag_add(d, "backend: layer '%s': AM too small for the element-wise layer", l->name);
        return -1;
    }
    return 0;
}

/* Softmax and LRN: as many pixels per item as fit (at most 64), enough
 * items for every core. */
static int softmax_tile(const IrLayer *l, BkSched *s, const M7Machine *m, IrDiag *d) {
    BkSoftmax *p = &s->u.softmax;
    if (p->by_axis) { /* [len][cols] per item: as many columns as fit, enough items for every core */
        int64_t fit = (m->am_bytes / ((int64_t)p->len * 128)) * 32;
        if (fit < 1) {
            ir_diag_add(d, "backend: layer '%s': a softmax column of %d values does not fit in AM", l->name, p->len);
            return -1;
        }
        int64_t want = p->outer >= m->cores ? p->inner : (p->inner * p->outer + m->cores - 1) / m->cores;
        int64_t cols = want < fit ? want : fit;
        if (cols > 64 * 32)
            cols = 64 * 32;
        cols = cols > 32 ? (cols + 31) / 32 * 32 : cols;
        p->cols = (int)(cols < p->inner ? cols : p->inner);
        p->pitch = (int64_t)(p->cols + 31) / 32 * 128;
        p->am_x = 0;
        s->am_bytes = p->len * p->pitch;
        s->am_slots = 1;
        return 0;
    }
    if (p->by_rows) {
        p->pitch = (int64_t)(p->len + 31) / 32 * 128;
        int64_t fit = (m->am_bytes - 128) / p->pitch, per = (p->rows + m->cores - 1) / m->cores;
        if (fit < 1) {
            ir_diag_add(d, "backend: layer '%s': a softmax row does not fit in AM", l->name);
            return -1;
        }
        p->chunk = (int)(fit < per ? fit : per > 0 ? per : 1);
        if (p->chunk > 64)
            p->chunk = 64;
        p->am_iota = 0, p->am_x = 128;
        s->am_bytes = 128 + p->chunk * p->pitch;
        s->am_slots = 1;
        return 0;
    }
    p->nb = (s->out.c + 31) / 32, p->hw = s->out.h * s->out.w;
    int lrn = s->kind == BK_KIND_LRN;
    if (lrn) {
        p->size = l->a.lrn.size, p->half = (p->size - 1) / 2;
        p->alpha_over_size = l->a.lrn.alpha / (float)p->size, p->bias = l->a.lrn.bias;
        p->sq_row = ((int64_t)(p->half + 31) / 32 + p->nb + 1) * 128;
    }
    int64_t per_px = (int64_t)p->nb * 128 + (lrn ? p->sq_row : 0);
    int64_t fit = (m->am_bytes - 128) / per_px;
    if (fit < 1) {
        ir_diag_add(d, "backend: layer '%s': %d channels of one pixel do not fit in AM", l->name, s->out.c);
        return -1;
    }
    int64_t want = ((int64_t)p->hw * s->out.n + m->cores - 1) / m->cores;
    p->np = (int)(fit < want ? fit : want);
    if (p->np > 64)
        p->np = 64;
    if (p->np > p->hw)
        p->np = p->hw;
    p->am_iota = 0, p->am_x = 128;
    p->am_sq = p->am_x + (int64_t)p->nb * p->np * 128;
    s->am_bytes = p->am_sq + (lrn ? p->np * p->sq_row : 0);
    s->am_slots = 1;
    return 0;
}

/* A conv's tiling; a grouped one tries every valid merge of its groups
 * (bk_conv_merge_ok) and keeps the cheapest: fewer, larger groups do more
 * MACs but start fewer pipelines.  Refused: the fewest merged's message. */
static int conv_tile(IrGraph *g, IrLayer *l, BkSched *s, const M7Machine *m, const BkOptions *o, IrDiag *d) {
    int groups = l->op == IR_CONV ? l->a.conv.group : 1, cout_g = s->out.c / groups, found = 0;
    BkSched best = *s;
    double best_cyc = 0;
    IrDiag first = {0};
    for (int k = 1; k <= groups; k++) {
        if (!bk_conv_merge_ok(groups, cout_g, k))
            continue;
        IrDiag dk = {0};
        int r = conv_setup(g, l, s, k, &dk);
        s->u.conv.single_buf = !o->double_buffer;
        s->u.conv.no_share = !o->weight_sharing;
        if (!r)
            r = bk_tile_conv(l->name, s, m, &dk);
        double cyc = o->double_buffer ? (s->cyc_compute > s->cyc_dma ? s->cyc_compute : s->cyc_dma) + s->cyc_exposed
                                      : s->cyc_compute + s->cyc_dma;
        if (!r && (!found || cyc < best_cyc))
            best = *s, best_cyc = cyc, found = 1;
        if (r && !found && first.n == 0)
            first = dk;
        else
            ir_diag_free(&dk);
    }
    if (!found)
        for (int i = 0; i < first.n; i++)
            ir_diag_add(d, "%s", first.msg[i]);
    ir_diag_free(&first);
    *s = best;
    return found ? 0 : -1;
}

int bk_tile(IrGraph *g, const M7Machine *m, const BkOptions *o, IrDiag *d) {
    int rc = 0;
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        BkSched *s = l->sched;
        if (l->dead || !s)
            continue;
        int r = 0, slots = o->double_buffer ? 2 : 1;
        s->cores = m->cores;
        switch (s->kind) {
        case BK_KIND_CONV:
            if (bk_is_train_op(l->op)) { /* conv_grad_x, fc_grad_x (map_train.c) */
                r = bk_train_conv_setup(g, l, s, d);
                s->u.conv.single_buf = !o->double_buffer;
                s->u.conv.no_share = !o->weight_sharing;
                if (!r)
                    r = bk_tile_conv(l->name, s, m, d);
            } else {
                r = conv_tile(g, l, s, m, o, d);
            }
            break;
        case BK_KIND_DW:
            r = dw_tile(g, l, s, m, slots, d);
            break;
        case BK_KIND_POOL:
            pool_setup(l, s);
            r = pool_tile(l->name, s, m, slots, d);
            if (!r)
                bk_cost_simple(s, m);
            break;
        case BK_KIND_GPOOL:
            s->u.gpool.is_max = l->op == IR_GLOBAL_MAXPOOL;
            r = gpool_tile(l->name, s, m, d);
            if (!r)
                bk_cost_simple(s, m);
            break;
        case BK_KIND_EW:
            r = ew_tile(l, s, m, d);
            bk_cost_simple(s, m);
            break;
        case BK_KIND_SOFTMAX:
        case BK_KIND_LRN:
            r = softmax_tile(l, s, m, d);
            if (!r)
                bk_cost_simple(s, m);
            break;
        case BK_KIND_MOVES:
            bk_cost_moves(&s->mv, m, &s->cyc_dma, &s->dma_transfers, &s->dma_bytes);
            break;
        case BK_KIND_TO_NCHW: { /* the moves' shape (bk_convert_moves places them once addresses exist) */
            BkMoves mv = {0, NULL};
            bk_to_nchw_moves(s, &mv);
            bk_cost_moves(&mv, m, &s->cyc_dma, &s->dma_transfers, &s->dma_bytes);
            bk_moves_free(&mv);
            break;
        }
        case BK_KIND_PAD:
        case BK_KIND_COPY:
            if (s->kind == BK_KIND_PAD) {
                s->u.pad.row_bytes = (int64_t)s->out.w * 128;
                s->u.pad.row_off = BK_BLOB_ZERO;
            }
            bk_cost_simple(s, m);
            break;
        case BK_KIND_ALIAS:
        case BK_KIND_FUSED:
            break;
        case BK_KIND_TRAIN:
            r = bk_tile_train(g, l, s, m, d);
            break;
        }
        if (r) {
            rc = -1;
            continue;
        }
        for (int k = 0; k < 2; k++) /* a step of its own before: nothing overlaps it */
            if (s->expand[k].present) {
                double dma;
                int64_t tr, by;
                bk_cost_moves(&s->expand[k].mv, m, &dma, &tr, &by);
                s->cyc_exposed += dma + m->barrier_cycles;
                s->dma_transfers += tr, s->dma_bytes += by;
            }
        double peak = m7_machine_peak_flops_per_cycle(m) * m->cores;
        int single = (slots == 1 && (s->kind == BK_KIND_CONV || s->kind == BK_KIND_DW || s->kind == BK_KIND_POOL)) ||
                     (s->kind == BK_KIND_POOL && s->u.pool.am_in0 == s->u.pool.am_in1) ||
                     (s->kind == BK_KIND_SOFTMAX && s->u.softmax.by_axis); /* one AM slot: load, compute, store */
        if (single) /* nothing overlaps */
            s->cyc_pred = s->cyc_compute + s->cyc_dma;
        else
            s->cyc_pred = (s->cyc_compute > s->cyc_dma ? s->cyc_compute : s->cyc_dma) + s->cyc_exposed;
        if (s->kind != BK_KIND_ALIAS && s->kind != BK_KIND_FUSED)
            s->cyc_pred += m->barrier_cycles + m->dma_setup;
        s->eff_pred = s->cyc_pred > 0 ? (double)s->flops / (s->cyc_pred * peak) : 0;
    }
    return rc;
}
