/* plan.c: the kernel plans (target/m7k.h) of a layer, from its schedule.
 * Every value a kernel reads is settled here, addresses resolved against
 * the memory plan; codegen only prints the result (codegen/plan_print.h). */
#include <stddef.h>
#include <string.h>

#include "backend/backend.h"

/* Values passed straight from the IR to a kernel. */
_Static_assert(M7K_PAD_CONSTANT == (int)IR_PAD_CONSTANT && M7K_PAD_REFLECT == (int)IR_PAD_REFLECT &&
                   M7K_PAD_EDGE == (int)IR_PAD_EDGE,
               "M7kPad.mode takes IrPadMode as it is");
/* BkConv, BkPool and BkGPool hold their plan's fields by name beside .k:
 * each one is the same object in both views. */
#define SAME_PLACE(T, type, name) _Static_assert(offsetof(T, name) == offsetof(T, k.name), #T "." #name);
#define SAME_CONV(type, name) SAME_PLACE(BkConv, type, name)
#define SAME_POOL(type, name) SAME_PLACE(BkPool, type, name)
#define SAME_GPOOL(type, name) SAME_PLACE(BkGPool, type, name)
M7K_CONV_FIELDS(SAME_CONV)
M7K_POOL_FIELDS(SAME_POOL)
M7K_GPOOL_FIELDS(SAME_GPOOL)
#undef SAME_PLACE
#undef SAME_CONV
#undef SAME_POOL
#undef SAME_GPOOL

/* The kernel's activation: a standalone activation is its op; any other
 * layer's is the one fused into it. */
void bk_plan_act(const IrLayer *l, M7kAct *a) {
    IrActKind kind = ir_op_act(l->op) != IR_ACT_NONE ? ir_op_act(l->op) : l->act.kind;
    static const int kernel_act[] = {
        [IR_ACT_NONE] = M7K_ACT_NONE, [IR_ACT_RELU] = M7K_ACT_RELU, [IR_ACT_LEAKY_RELU] = M7K_ACT_LEAKY,
        [IR_ACT_CLIP] = M7K_ACT_CLIP, [IR_ACT_SIGMOID] = M7K_ACT_SIGMOID, [IR_ACT_TANH] = M7K_ACT_TANH};
    *a = (M7kAct){kernel_act[kind], l->act.alpha, l->act.lo, l->act.hi};
}

void bk_plan_conv(const IrLayer *l, const BkSched *s, M7kConv *p) {
    const BkConv *c = &s->u.conv;
    *p = c->k; /* the geometry, strides, tiling and on-chip placement */
    bk_plan_act(l, &p->act);
    p->in = (uint64_t)(c->in_gsm ? 0 : s->in[0].ddr); /* staged: GSM offset 0 */
    p->out = (uint64_t)s->out.ddr;
    p->wts = (uint64_t)c->w_off, p->bias = (uint64_t)(c->b_off >= 0 ? c->b_off : 0), p->zero = BK_BLOB_ZERO;
    if (c->pool_k > 1)
        p->pool_scale = 1.0f / (float)(c->pool_k * c->pool_k);
    else
        p->pool_k = 0, p->pool_max = 0;
    if (c->in_gsm)
        p->stage_src = (uint64_t)s->in[0].ddr, p->stage_bytes = (uint64_t)c->in_bytes;
}

void bk_plan_dw(const IrLayer *l, const BkSched *s, M7kDw *p) {
    const BkConv *c = &s->u.conv;
    memset(p, 0, sizeof *p);
    bk_plan_conv(l, s, &p->geo);
    p->ncb = c->ncb, p->px = c->px, p->am_w = (uint64_t)c->am_w0, p->am_b = (uint64_t)c->am_bias;
    p->am_in0 = (uint64_t)c->am_in0, p->am_in1 = (uint64_t)c->am_in1, p->am_out0 = (uint64_t)c->am_out;
    /* one input slot: single-buffered, one output slot too */
    p->am_out1 = (uint64_t)(c->am_out + (c->am_in1 != c->am_in0 ? c->out_tile_bytes : 0));
}

void bk_plan_pool(const BkSched *s, M7kPool *p) {
    *p = s->u.pool.k; /* geometry, tiles, on-chip placement */
    p->in = (uint64_t)s->in[0].ddr, p->out = (uint64_t)s->out.ddr;
}

int bk_plan_pool_recip(const BkSched *s, float **recip) {
    const BkPool *b = &s->u.pool;
    int n = 1 + (b->is_max ? 0 : b->kh * b->kw);
    *recip = ir_xcalloc((size_t)n, sizeof **recip);
    for (int k = 1; k < n; k++)
        (*recip)[k] = 1.0f / (float)k;
    return n;
}

void bk_plan_gpool(const BkSched *s, M7kGPool *p) {
    *p = s->u.gpool.k;
    p->in = (uint64_t)s->in[0].ddr, p->out = (uint64_t)s->out.ddr;
    p->inv_hw = 1.0f / (float)p->hw;
}

void bk_plan_ew(const IrLayer *l, const BkSched *s, M7kEw *p) {
    const BkEw *e = &s->u.ew;
    int bc = e->op > M7K_EW_AFFINE; /* in[1] is on chip whole: at st */
    memset(p, 0, sizeof *p);
    p->op = e->op;
    bk_plan_act(l, &p->act);
    p->nvec = e->nvec, p->chunk = e->chunk;
    p->a = (uint64_t)s->in[0].ddr, p->b = (uint64_t)(s->n_in > 1 && e->op < M7K_EW_AFFINE ? s->in[1].ddr : 0);
    p->out = (uint64_t)s->out.ddr;
    p->am_a[0] = (uint64_t)e->am_a0, p->am_a[1] = (uint64_t)e->am_a1;
    p->am_b[0] = (uint64_t)e->am_b0, p->am_b[1] = (uint64_t)e->am_b1;
    p->hw = e->hw, p->ncb = e->ncb;
    p->st = (uint64_t)(bc ? s->in[1].ddr : e->st_off), p->am_st = (uint64_t)e->am_st;
    p->st_bytes = (uint64_t)(bc ? e->bc_bytes : 0), p->bytes = (uint64_t)e->bytes;
    p->rep = e->rep, p->period = e->period, p->arith = e->arith;
}

void bk_plan_softmax(const BkSched *s, M7kSoftmax *p) {
    const BkSoftmax *b = &s->u.softmax;
    memset(p, 0, sizeof *p);
    p->n = s->out.n, p->nb = b->nb, p->c = s->out.c, p->hw = b->hw, p->np = b->np;
    p->in = (uint64_t)s->in[0].ddr, p->out = (uint64_t)s->out.ddr, p->iota = BK_BLOB_IOTA;
    p->am_x = (uint64_t)b->am_x, p->am_iota = (uint64_t)b->am_iota;
}

void bk_plan_lrn(const BkSched *s, M7kLrn *p) {
    const BkSoftmax *b = &s->u.softmax;
    memset(p, 0, sizeof *p);
    p->n = s->out.n, p->nb = b->nb, p->c = s->out.c, p->hw = b->hw, p->np = b->np;
    p->size = b->size, p->half = b->half, p->beta4 = b->beta4;
    p->alpha_over_size = b->alpha_over_size, p->bias = b->bias;
    p->in = (uint64_t)s->in[0].ddr, p->out = (uint64_t)s->out.ddr, p->iota = BK_BLOB_IOTA;
    p->am_x = (uint64_t)b->am_x, p->am_sq = (uint64_t)b->am_sq, p->am_iota = (uint64_t)b->am_iota;
    p->sq_row = (uint64_t)b->sq_row;
}

void bk_plan_softmax_rows(const BkSched *s, M7kSoftmaxRows *p) {
    const BkSoftmax *b = &s->u.softmax;
    memset(p, 0, sizeof *p);
    p->rows = b->rows, p->len = b->len, p->chunk = b->chunk;
    p->in = (uint64_t)s->in[0].ddr, p->out = (uint64_t)s->out.ddr, p->iota = BK_BLOB_IOTA;
    p->pitch = (uint64_t)b->pitch, p->am_x = (uint64_t)b->am_x, p->am_iota = (uint64_t)b->am_iota;
}

void bk_plan_softmax_axis(const BkSched *s, M7kSoftmaxAxis *p) {
    const BkSoftmax *b = &s->u.softmax;
    memset(p, 0, sizeof *p);
    p->len = b->len, p->cols = b->cols, p->outer = b->outer, p->inner = b->inner;
    p->in = (uint64_t)s->in[0].ddr, p->out = (uint64_t)s->out.ddr;
    p->pitch = (uint64_t)b->pitch, p->am_x = (uint64_t)b->am_x;
}

/* The DDR address of a move operand (BK_OPD_*). */
static uint64_t opd_addr(const BkSched *s, int opd) {
    if (opd >= 0)
        return (uint64_t)s->cat_addr[opd];
    if (opd == BK_OPD_OUT)
        return (uint64_t)s->out.ddr;
    if (opd == BK_OPD_ZERO)
        return BK_BLOB_ZERO;
    if (opd == BK_OPD_ABS)
        return 0;
    return (uint64_t)s->expand[BK_OPD_TMP0 - opd].buf.ddr;
}

void bk_plan_move(const BkSched *s, const BkMove *m, M7kMove *p) {
    memset(p, 0, sizeof *p);
    p->src = opd_addr(s, m->src) + (uint64_t)m->src_off, p->dst = opd_addr(s, m->dst) + (uint64_t)m->dst_off;
    p->sstride = (uint64_t)m->src_stride, p->dstride = (uint64_t)m->dst_stride;
    p->rows = m->rows, p->row_bytes = m->row_bytes, p->nloop = m->nloop;
    for (int i = 0; i < m->nloop; i++)
        p->cnt[i] = m->cnt[i], p->sstr[i] = (uint64_t)m->sstr[i], p->dstr[i] = (uint64_t)m->dstr[i];
}

void bk_plan_pad(const BkSched *s, M7kPad *p) {
    const BkAct *x = &s->in[0], *y = &s->out;
    int ncb = (x->c + 31) / 32;
    int64_t blk = (int64_t)x->h * x->w * 128;
    memset(p, 0, sizeof *p);
    p->geo.n = x->n, p->geo.h = x->h, p->geo.w = x->w, p->geo.in = (uint64_t)x->ddr;
    p->geo.in_sn = (uint64_t)(ncb * blk), p->geo.in_ssub = (uint64_t)blk;
    p->geo.in_sh = (uint64_t)((int64_t)x->w * 128), p->geo.in_sw = 128, p->geo.zero = (uint64_t)s->u.pad.row_off;
    p->ncb = ncb, p->ho = y->h, p->wo = y->w, p->pt = s->u.pad.pt, p->pl = s->u.pad.pl;
    p->mode = s->u.pad.mode, p->out = (uint64_t)y->ddr;
}

void bk_plan_copy(const BkSched *s, M7kCopy *p) {
    *p = (M7kCopy){(uint64_t)s->in[0].ddr, (uint64_t)s->out.ddr, (uint64_t)bk_act_bytes(&s->in[0])};
}

void bk_plan_pack_bn(const IrGraph *g, const IrLayer *l, const BkSched *s, M7kPackBn *p) {
    memset(p, 0, sizeof *p);
    p->c = s->out.c, p->ncb = s->u.ew.ncb, p->eps = l->a.bn.eps;
    p->scale = (uint64_t)g->t[l->in[1]].ddr_offset, p->bias = (uint64_t)g->t[l->in[2]].ddr_offset;
    p->mean = (uint64_t)g->t[l->in[3]].ddr_offset, p->var = (uint64_t)g->t[l->in[4]].ddr_offset;
    p->st = (uint64_t)s->u.ew.st_off;
}

int bk_rt_scaled(const IrGraph *g, const IrLayer *l) {
    return (bk_is_runtime(g, l->in[1]) && bk_gemm_scale(l, 1) != 1.0f) ||
           (l->n_in > 2 && bk_is_runtime(g, l->in[2]) && bk_gemm_scale(l, 2) != 1.0f);
}

void bk_plan_pack_scale(const IrGraph *g, const IrLayer *l, const BkSched *s, M7kPackScale *p) {
    const BkConv *c = &s->u.conv; /* Gemm's alpha, beta on what was packed at run time */
    int sw = bk_is_runtime(g, l->in[1]), sb = c->b_off >= 0 && bk_is_runtime(g, l->in[2]);
    memset(p, 0, sizeof *p);
    p->addr[0] = (uint64_t)c->w_off, p->addr[1] = (uint64_t)(sb ? c->b_off : 0);
    p->lines[0] = (uint64_t)(sw ? c->w_bytes / 128 : 0);
    p->lines[1] = (uint64_t)(sb ? (int64_t)c->groups * c->nvco * (c->bias_px ? c->wo : 1) : 0);
    p->s[0] = bk_gemm_scale(l, 1), p->s[1] = bk_gemm_scale(l, 2);
}

void bk_plan_upsample(const IrLayer *l, const BkSched *s, M7kUpsample *p) {
    const BkAct *y = &s->pre.from, *u = &s->pre.to;
    memset(p, 0, sizeof *p);
    p->planes = y->n * ((y->c + 31) / 32), p->ho = y->h, p->wo = y->w, p->hu = u->h, p->wu = u->w;
    p->sh = l->a.conv.stride[0], p->sw = l->a.conv.stride[1];
    p->in = (uint64_t)y->ddr, p->out = (uint64_t)u->ddr, p->zero = BK_BLOB_ZERO;
}

void bk_plan_train(const IrGraph *g, const IrLayer *l, const BkSched *s, M7kTrain *p) {
    const BkTrain *t = &s->u.train;
    memset(p, 0, sizeof *p);
    p->op = t->op;
    p->a = (uint64_t)s->in[t->swap ? 1 : 0].ddr;
    p->b = (uint64_t)(t->swap ? s->in[0].ddr : s->n_in > 1 ? s->in[1].ddr : t->op == M7K_TR_EW ? t->w_off : 0);
    p->out = (uint64_t)s->out.ddr;
    p->out2 = l->n_out > 1 && l->out[1] >= 0 ? (uint64_t)g->t[l->out[1]].ddr_offset : 0;
    p->zero = BK_BLOB_ZERO, p->iota = BK_BLOB_IOTA;
    switch (t->op) {
    case M7K_TR_LOSS: {
        double numel = (double)t->n * t->k; /* mean over the batch (CE) or every element (MSE) */
        p->loss_ce = t->loss_ce, p->n = t->n, p->k = t->k, p->kb = t->kb;
        p->scale = (float)(1.0 / (t->loss_ce ? t->n : numel));
        p->dscale = (float)(t->loss_ce ? 1.0 / t->n : 2.0 / numel);
        break;
    }
    case M7K_TR_EW:
        p->ew_op = t->ew_op;
        bk_plan_act(l, &p->act);
        p->neg_lr = -t->lr, p->nbytes = (uint64_t)t->nbytes, p->chunk = (uint64_t)t->chunk_bytes;
        break;
    case M7K_TR_POOL:
        p->n = s->out.n, p->ncb = t->ncb, p->h = t->h, p->w = t->w, p->ho = t->ho, p->wo = t->wo;
        p->kh = t->kh, p->kw = t->kw, p->sh = t->sh, p->sw = t->sw, p->pt = t->pt, p->pl = t->pl;
        p->is_max = t->is_max, p->span_h = t->span_h, p->inv_div = t->inv_div, p->slots = t->slots;
        p->act = (M7kAct){t->act, t->alpha, t->lo, t->hi}; /* a fused act_grad: its slope */
        break;
    case M7K_TR_GW:
        p->n = t->n, p->h = t->h, p->w = t->w, p->ho = t->ho, p->wo = t->wo, p->kh = t->kh, p->kw = t->kw;
        p->sh = t->sh, p->sw = t->sw, p->pt = t->pt, p->pl = t->pl;
        p->cin = t->cin, p->cout = t->cout, p->cig = t->cig, p->cog = t->cog, p->dh = t->dh, p->dw = t->dw;
        p->vco = t->vco, p->ci_chunk = t->ci_chunk, p->th = t->th, p->tw = t->tw, p->tn = t->tn;
        p->vb = t->vb, p->pp = t->pp;
        p->rows_in = t->rows_in, p->cols_in = t->cols_in, p->has_bias = t->has_bias;
        p->fc_hw = t->fc_hw, p->swap = t->swap;
        p->x_sn = (uint64_t)t->x_sn, p->x_sblk = (uint64_t)t->x_sblk, p->x_sh = (uint64_t)t->x_sh;
        p->x_sw = (uint64_t)t->x_sw, p->dy_sn = (uint64_t)t->dy_sn, p->dy_sblk = (uint64_t)t->dy_sblk;
        p->dy_sh = (uint64_t)t->dy_sh, p->dy_sw = (uint64_t)t->dy_sw;
        for (int k = 0; k < 2; k++)
            p->am_a[k] = (uint64_t)t->am_a[k], p->am_b[k] = (uint64_t)t->am_b[k], p->sm_x[k] = (uint64_t)t->sm_x[k];
        p->am_c = (uint64_t)t->am_c, p->am_t = (uint64_t)t->am_t, p->tr_stages = t->tr_stages;
        break;
    }
}
