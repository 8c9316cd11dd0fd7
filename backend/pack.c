/* pack.c: weight packing.  Every conv/FC/depthwise weight and bias goes
 * to its place in the weights blob in the order the kernels read it
 * (bk_weight_map); constants are written into the blob at compile time
 * (bk_pack_weights), weights that are graph inputs are packed on the
 * machine by the DMAs of bk_rt_pack_dma (rt_weights.c says which). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"

/* Index in the ONNX weights of output channel co, kernel input channel ci,
 * tap t; -1 for padding (zero). */
static int64_t weight_src(const IrLayer *l, const BkSched *s, int64_t co, int64_t ci, int t) {
    const BkConv *c = &s->u.conv;
    const BkAct *x = &s->in[0];
    int kk = c->kh * c->kw;
    if (l->op == IR_CONV) { /* ci counts within the run group; zero across ONNX groups */
        int64_t cin_g = x->c / l->a.conv.group, cout_g = s->out.c / l->a.conv.group;
        int64_t abs = co / (s->out.c / c->groups) * c->cin + ci;
        if (abs / cin_g != co / cout_g)
            return -1;
        return (co * cin_g + abs % cin_g) * kk + t;
    }
    int64_t m = s->out.c, k = ci;   /* FC: W[m][k], or [k][m] (bk_w_kmajor) */
    if (l->op == IR_GEMM && l->a.gemm.trans_a) /* ci is A's row: K = A's first dimension */
        return bk_w_kmajor(l) ? k * m + co : co * x->n + k;
    if (x->layout == BK_LAYOUT_BLOCKED) {
        /* FC on blocked data: ci runs over [C/32][H][W][32] of the input */
        int64_t hw = (int64_t)x->h * x->w;
        int64_t ch = ci / (32 * hw) * 32 + ci % 32, pix = ci / 32 % hw;
        if (ch >= x->c)
            return -1;
        k = ch * hw + pix;
    }
    int64_t kdim = (int64_t)x->c * x->h * x->w;
    return bk_w_kmajor(l) ? k * m + co : co * kdim + k;
}

/* One group's weights, chunk by chunk in the order m7k_conv reads them. */
static void map_group(const IrGraph *g, const IrLayer *l, const BkSched *s, int grp, int64_t dst,
                      BkWeightFn fn, void *ctx) {
    const BkConv *c = &s->u.conv;
    int cout_g = s->out.c / c->groups, kk = c->kh * c->kw;
    /* chunks are cut from one range of vectors, or one per core (m7k_range) */
    int nranges = m7k_conv_co_parts(c->row_parts, c->slices, s->cores);
    for (int r = 0; r < nranges; r++) {
        int lo, hi;
        m7k_range(c->nvco, r, nranges, &lo, &hi);
        for (int cv = lo; cv < hi; cv += c->co_chunk) {
            int nv = hi - cv < c->co_chunk ? hi - cv : c->co_chunk;
            for (int ci0 = 0; ci0 < c->cin; ci0 += c->ci_chunk) {
                int nci = c->cin - ci0 < c->ci_chunk ? c->cin - ci0 : c->ci_chunk;
                for (int j = 0; j < nv; j++)
                    for (int ci = ci0; ci < ci0 + nci; ci++)
                        for (int t = 0; t < kk; t++)
                            for (int lane = 0; lane < 32; lane++, dst++) {
                                int col = (cv + j) * 32 + lane;
                                int64_t co = (int64_t)grp * cout_g + col;
                                int64_t src = col >= cout_g            ? -1
                                              : bk_is_train_op(l->op) ? bk_train_weight_src(g, l, s, co, ci, t)
                                                                      : weight_src(l, s, co, ci, t);
                                if (src >= 0)
                                    fn(ctx, 1, dst, src);
                            }
            }
        }
    }
}

/* Bias element co: a [1] bias (Gemm) broadcasts. */
static int64_t bias_src(const IrGraph *g, const IrLayer *l, int64_t co) {
    return ir_numel(&g->t[l->in[2]]) == 1 ? 0 : co;
}

/* Conv weights W[co][ci][ky][kx] (FC: W[m][k]) into chunks of
 * [co vector][ci][tap][32 lanes], bias [group][vector][32]; depthwise
 * W[c][1][ky][kx] into [block][tap][32], bias [block][32].  Padding lanes
 * are not visited (they stay zero). */
void bk_weight_map(const IrGraph *g, const IrLayer *l, BkWeightFn fn, void *ctx) {
    const BkSched *s = l->sched;
    const BkConv *c = &s->u.conv;
    int ch = s->out.c;
    if (s->kind == BK_KIND_DW) {
        int kk = c->kh * c->kw;
        for (int k = 0; k < ch; k++)
            for (int t = 0; t < kk; t++)
                fn(ctx, 1, c->w_off / 4 + ((int64_t)(k / 32) * kk + t) * 32 + k % 32, (int64_t)k * kk + t);
        if (c->b_off >= 0)
            for (int k = 0; k < ch; k++)
                fn(ctx, 2, c->b_off / 4 + k, bias_src(g, l, k));
        return;
    }
    for (int grp = 0; grp < c->groups; grp++)
        map_group(g, l, s, grp, (c->w_off + grp * c->g_wts) / 4, fn, ctx);
    if (c->b_off >= 0 && c->bias_px) { /* Gemm's C matrix: [sample][vector][32] */
        const IrTensor *ct = &g->t[l->in[2]];
        int64_t r = ct->rank == 2 ? ct->dims[0] : 1, k = ct->rank == 2 ? ct->dims[1] : ir_numel(ct);
        for (int n = 0; n < c->wo; n++)
            for (int co = 0; co < ch; co++)
                fn(ctx, 2, c->b_off / 4 + ((int64_t)n * c->nvco * 32 + co),
                   (r == 1 ? 0 : n) * k + (k == 1 ? 0 : co));
    } else if (c->b_off >= 0) {
        int cout_g = ch / c->groups;
        for (int grp = 0; grp < c->groups; grp++)
            for (int co = 0; co < cout_g; co++)
                fn(ctx, 2, (c->b_off + grp * c->g_bias) / 4 + co, bias_src(g, l, (int64_t)grp * cout_g + co));
    }
}

typedef struct {
    const IrGraph *g;
    const IrLayer *l;
    float *blob;
} ConstPack;

/* Compile-time packing: constants only (run-time ones: rt_weights.c). */
static void put_const(void *ctx, int k, int64_t dst, int64_t src) {
    ConstPack *p = ctx;
    const IrTensor *t = &p->g->t[p->l->in[k]];
    if (!bk_is_runtime(p->g, p->l->in[k]))
        p->blob[dst] = bk_gemm_scale(p->l, k) * t->f32[src];
}

/* Scales and shifts [block][32] of an affine element-wise layer. */
static void pack_affine(const IrGraph *g, const IrLayer *l, const BkSched *s, float *blob) {
    const BkEw *e = &s->u.ew;
    float *sc = blob + e->st_off / 4, *sh = sc + (int64_t)e->ncb * 32;
    if (l->op == IR_BATCHNORM && bk_has_rt_pack(g, l))
        return; /* computed on the machine (rt_weights.c) */
    for (int c = 0; c < s->out.c; c++) {
        if (l->op == IR_BATCHNORM) { /* (x - mean) / sqrt(var + eps) * scale + bias */
            double k = g->t[l->in[1]].f32[c] / sqrt((double)g->t[l->in[4]].f32[c] + l->a.bn.eps);
            sc[c] = (float)k;
            sh[c] = (float)(g->t[l->in[2]].f32[c] - g->t[l->in[3]].f32[c] * k);
            continue;
        }
        const IrTensor *t = &g->t[l->in[e->const_in]];
        float v = t->f32[ir_numel(t) == 1 ? 0 : c];
        sc[c] = l->op == IR_MUL ? v : 1.0f;
        sh[c] = l->op == IR_MUL ? 0.0f : v;
    }
}

void bk_pack_weights(const IrGraph *g, float *blob) {
    for (int i = 0; i < 32; i++)
        blob[BK_BLOB_IOTA / 4 + i] = (float)i + 0.5f; /* lane k < c  <=>  c > k + 0.5 */
    for (int li = 0; li < g->n_l; li++) {
        const IrLayer *l = &g->l[li];
        const BkSched *s = l->dead ? NULL : l->sched;
        if (s && (s->kind == BK_KIND_CONV || s->kind == BK_KIND_DW)) {
            ConstPack p = {g, l, blob};
            bk_weight_map(g, l, put_const, &p);
        }
        else if (s && s->kind == BK_KIND_EW && s->u.ew.op == M7K_EW_AFFINE)
            pack_affine(g, l, s, blob);
        else if (s && s->kind == BK_KIND_TRAIN)
            bk_train_pack(g, l, blob);
        else if (s && s->kind == BK_KIND_PAD && s->u.pad.value != 0)
            for (int64_t i = 0; i < s->u.pad.row_bytes / 4; i++)
                blob[s->u.pad.row_off / 4 + i] = s->u.pad.value;
    }
}

/* Run-time packing.  The packed place of such weights stays in the blob
 * (zeros in the file, so padding lanes are zero), and a packing step before
 * the layer fills it on the machine: 2-D DMAs from the input's NCHW/OIHW
 * copy, one per run of elements whose source and destination both advance
 * by a fixed stride.  The runs come from bk_weight_map, the same element
 * order the compile-time packing uses.  BatchNormalization parameters need
 * arithmetic (scale / sqrt(var + eps)): its step is a kernel of its own
 * (m7k_pack_bn). */
typedef struct {
    const IrGraph *g;
    const IrLayer *l;
    M7kDmaDesc *d;
    int64_t n, cap;
    int last_k;
} Runs;

/* Extends the current run by element (k, dst, src) or starts a new one. */
static void add_elem(void *ctx, int k, int64_t dst_elem, int64_t src_elem) {
    Runs *r = ctx;
    const IrTensor *t = &r->g->t[r->l->in[k]];
    if (!bk_is_runtime(r->g, r->l->in[k]))
        return;
    uint64_t dst = (uint64_t)dst_elem * 4, src = (uint64_t)(t->ddr_offset + src_elem * 4);
    if (r->n > 0 && r->last_k == k) {
        M7kDmaDesc *c = &r->d[r->n - 1];
        if (c->rows == 1 && dst > c->dst && src >= c->src) {
            c->dst_stride = dst - c->dst, c->src_stride = src - c->src, c->rows = 2;
            return;
        }
        if (c->rows > 1 && c->rows < (1u << 20) && dst == c->dst + c->rows * c->dst_stride &&
            src == c->src + c->rows * c->src_stride) {
            c->rows++;
            return;
        }
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->d = ir_xrealloc(r->d, (size_t)r->cap * sizeof *r->d);
    }
    r->d[r->n++] = (M7kDmaDesc){dst, src, 0, 0, 1, 4};
    r->last_k = k;
}

int64_t bk_rt_pack_dma(const IrGraph *g, const IrLayer *l, M7kDmaDesc **out) {
    const BkSched *s = l->sched;
    Runs r = {g, l, NULL, 0, 0, -1};
    if (s && (s->kind == BK_KIND_CONV || s->kind == BK_KIND_DW))
        bk_weight_map(g, l, add_elem, &r);
    for (int64_t i = 0; i < r.n; i++) { /* contiguous rows: one long row */
        M7kDmaDesc *c = &r.d[i];
        if (c->rows == 1)
            c->dst_stride = c->src_stride = 4;
        else if (c->dst_stride == 4 && c->src_stride == 4)
            c->row_bytes = 4 * c->rows, c->rows = 1;
    }
    *out = r.d;
    return r.n;
}
