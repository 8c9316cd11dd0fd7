/* rt_weights.c: weights that arrive as graph inputs at run time.
 *
 * The packed place of such weights stays in the weights blob (zeros in the
 * file, so padding lanes are zero), and a packing step before the layer
 * fills it on the machine: 2-D DMAs from the input's NCHW/OIHW copy, one
 * per run of elements whose source and destination both advance by a fixed
 * stride.  The runs come from bk_weight_map, the same element order the
 * compile-time packing uses.  BatchNormalization parameters need arithmetic
 * (scale / sqrt(var + eps)): its step is a kernel of its own (m7k_pack_bn). */
#include <stdlib.h>

#include "backend.h"

int bk_is_runtime(const IrGraph *g, int ti) {
    return ti >= 0 && g->t[ti].is_graph_input && g->t[ti].dtype == IR_F32;
}

int bk_w_kmajor(const IrLayer *l) { return l->op == IR_MATMUL || (l->op == IR_GEMM && !l->a.gemm.trans_b); }

float bk_gemm_scale(const IrLayer *l, int k) {
    return l->op != IR_GEMM ? 1.0f : k == 1 ? l->a.gemm.alpha : l->a.gemm.beta;
}

int bk_gemm_c_form(const IrGraph *g, const IrLayer *l) {
    if (l->op != IR_GEMM || l->n_in < 3 || l->in[2] < 0)
        return 1;
    const IrTensor *c = &g->t[l->in[2]], *y = &g->t[l->out[0]];
    int64_t n = y->dims[0], m = y->dims[1];
    int64_t r = c->rank == 2 ? c->dims[0] : 1, k = c->rank == 2 ? c->dims[1] : c->rank == 1 ? c->dims[0] : 1;
    if (c->rank > 2 || (r != 1 && r != n) || (k != 1 && k != m))
        return 0;
    return r == 1 || n == 1 ? 1 : 2;
}

int bk_has_rt_pack(const IrGraph *g, const IrLayer *l) {
    const BkSched *s = l->dead ? NULL : l->sched;
    if (!s)
        return 0;
    if (s->kind == BK_KIND_CONV || s->kind == BK_KIND_DW)
        return bk_is_runtime(g, l->in[1]) || (s->u.conv.b_off >= 0 && bk_is_runtime(g, l->in[2]));
    if (s->kind == BK_KIND_EW && s->u.ew.op == BK_EW_AFFINE && l->op == IR_BATCHNORM)
        for (int k = 1; k < 5; k++)
            if (bk_is_runtime(g, l->in[k]))
                return 1;
    return 0;
}

typedef struct {
    const IrGraph *g;
    const IrLayer *l;
    BkDmaDesc *d;
    int64_t n, cap;
    int last_k;
} Runs;

/* Extends the current run by element (k, dst, src) or starts a new one. */
static void add_elem(void *ctx, int k, int64_t dst, int64_t src) {
    Runs *r = ctx;
    const IrTensor *t = &r->g->t[r->l->in[k]];
    if (!bk_is_runtime(r->g, r->l->in[k]))
        return;
    dst *= 4;
    src = t->ddr_offset + src * 4;
    if (r->n > 0 && r->last_k == k) {
        BkDmaDesc *c = &r->d[r->n - 1];
        if (c->rows == 1 && dst > c->dst && src >= c->src) {
            c->dst_stride = dst - c->dst, c->src_stride = src - c->src, c->rows = 2;
            return;
        }
        if (c->rows > 1 && c->rows < (1u << 20) && dst == c->dst + (int64_t)c->rows * c->dst_stride &&
            src == c->src + (int64_t)c->rows * c->src_stride) {
            c->rows++;
            return;
        }
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->d = ir_xrealloc(r->d, (size_t)r->cap * sizeof *r->d);
    }
    r->d[r->n++] = (BkDmaDesc){dst, src, 0, 0, 1, 4};
    r->last_k = k;
}

int64_t bk_rt_pack_dma(const IrGraph *g, const IrLayer *l, BkDmaDesc **out) {
    const BkSched *s = l->sched;
    Runs r = {g, l, NULL, 0, 0, -1};
    if (s && (s->kind == BK_KIND_CONV || s->kind == BK_KIND_DW))
        bk_weight_map(g, l, add_elem, &r);
    for (int64_t i = 0; i < r.n; i++) { /* contiguous rows: one long row */
        BkDmaDesc *c = &r.d[i];
        if (c->rows == 1)
            c->dst_stride = c->src_stride = 4;
        else if (c->dst_stride == 4 && c->src_stride == 4)
            c->row_bytes = 4 * c->rows, c->rows = 1;
    }
    *out = r.d;
    return r.n;
}
