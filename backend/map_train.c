/* map_train.c: the backend of a training step (docs/training.md).
 *
 * Every backward layer of passes/autodiff.c gets a mapping, a tiling and a
 * cost here, so map.c / tile.c only hand training ops over:
 *
 *  - conv_grad_x: the conv kernel (BK_KIND_CONV) over dY with W flipped
 *    spatially and its in/out channels swapped (bk_train_weight_src packs
 *    it), padded by d(k-1)-p; a stride s first spreads dY s apart in a
 *    zeroed buffer (the "pre" step BK_CONVERT_UPSAMPLE, m7k_tr_upsample).
 *    Grouped: one dense conv whose cross-group weights are zero.
 *  - fc_grad_x: the FC kernel with W transposed; its output "channels" are
 *    X's blocked order [C/32][H][W][32], so dX lands blocked in X's shape.
 *  - conv_grad_w, fc_grad_w: m7k_tr_gw, outer products of dY vectors (32
 *    output channels in lanes) and broadcast X values, summed over pixels
 *    in registers; each core owns chunks of dW (no reduction across cores).
 *    FC is a 1x1 conv over a 1-row image of the batch (2-D X) or a conv
 *    with an H x W kernel over each sample (flattened X).
 *  - loss, act_grad, SGD, pooling gradients: m7k_train's small kernels.
 * Parameters are constants of the step: SGD reads the master copy in the
 * blob (ONNX layout) and writes NAME.updated; forward and backward packings
 * of W are made at compile time from the same values. */
#include <math.h>
#include <string.h>

#include "backend/backend.h"

int bk_is_train_op(IrOp op) { return ir_op_is_train(op); }

static int64_t r128(int64_t x) { return (x + 127) / 128 * 128; }

static int refuse(IrDiag *d, const IrLayer *l, const char *why) {
    ir_diag_add(d, "backend: training layer '%s' (%s): %s", l->name, l->onnx_op, why);
    return -1;
}

/* The activation a layer input is on the machine; 0 if known. */
static int act_in(const BkAct *phys, const IrLayer *l, int k, BkAct *a) {
    if (k >= l->n_in || l->in[k] < 0 || phys[l->in[k]].n == 0)
        return -1;
    *a = phys[l->in[k]];
    return 0;
}

/* Forward-pool geometry of a pooling gradient; refuses overlapping
 * windows (an input pixel in two windows) and unequal average divisors. */
static int pool_map(IrLayer *l, BkSched *s, IrDiag *d) {
    BkTrain *t = &s->u.train;
    const IrPoolAttr *pa = &l->a.pool;
    const BkAct *x = &s->in[1], *y = &s->in[0];
    t->op = M7K_TR_POOL;
    t->is_max = l->op == IR_MAXPOOL_GRAD;
    t->ncb = (x->c + 31) / 32, t->h = x->h, t->w = x->w, t->ho = y->h, t->wo = y->w;
    t->kh = pa->kernel[0], t->kw = pa->kernel[1], t->sh = pa->stride[0], t->sw = pa->stride[1];
    t->pt = pa->pad[0], t->pl = pa->pad[1];
    if (t->kh < 1 || t->kw < 1 || t->sh < 1 || t->sw < 1 || pa->dilation[0] > 1 || pa->dilation[1] > 1)
        return refuse(d, l, "dilated or degenerate pooling windows are not supported");
    if ((t->kh > t->sh && t->ho > 1) || (t->kw > t->sw && t->wo > 1))
        return refuse(d, l, "overlapping pooling windows (kernel larger than stride) are not supported yet");
    t->span_h = t->ho > 1 ? t->sh : t->kh;
    if (!t->is_max) { /* every window must have the same divisor (the reference's rule) */
        int pb = pa->pad[2], pr = pa->pad[3];
        int64_t div = -1;
        for (int oy = 0; oy < t->ho; oy++)
            for (int ox = 0; ox < t->wo; ox++) {
                int64_t ch = 0, cw = 0, n = 0;
                for (int i = 0; i < t->kh; i++) {
                    int iy = oy * t->sh - t->pt + i;
                    ch += iy >= -t->pt && iy < t->h + pb;
                    for (int j = 0; j < t->kw; j++) {
                        int ix = ox * t->sw - t->pl + j;
                        n += iy >= 0 && iy < t->h && ix >= 0 && ix < t->w;
                    }
                }
                for (int j = 0; j < t->kw; j++) {
                    int ix = ox * t->sw - t->pl + j;
                    cw += ix >= -t->pl && ix < t->w + pr;
                }
                int64_t dv = pa->count_include_pad ? ch * cw : n;
                if (div >= 0 && dv != div)
                    return refuse(d, l, "average pooling windows with different divisors (padding) are not "
                                        "supported yet");
                div = dv;
            }
        t->inv_div = div > 0 ? (float)(1.0 / (double)div) : 0.0f;
    }
    return 0;
}

static int act_code(IrActKind k) {
    return k == IR_ACT_RELU ? 1 : k == IR_ACT_LEAKY_RELU ? 2 : k == IR_ACT_CLIP ? 3 : k == IR_ACT_SIGMOID ? 4
           : k == IR_ACT_TANH ? 5 : 0;
}

/* act_grad of Y reading the max-pool gradient of the same Y (ReLU, then a
 * max pool): the pooling gradient has Y in AM and applies the slope itself;
 * 1 if so (dY has no other reader). */
static int fuse_act_into_pool(IrGraph *g, const IrLayer *l) {
    const IrTensor *dy = &g->t[l->in[0]];
    if (dy->producer < 0 || dy->is_graph_output || !act_code(l->act.kind))
        return 0;
    IrLayer *p = &g->l[dy->producer];
    BkSched *ps = p->sched;
    if (p->op != IR_MAXPOOL_GRAD || !ps || ps->kind != BK_KIND_TRAIN || p->in[1] != l->in[1])
        return 0;
    for (int li = 0; li < g->n_l; li++)
        for (int k = 0; k < g->l[li].n_in && !g->l[li].dead; k++)
            if (g->l[li].in[k] == l->in[0] && &g->l[li] != l)
                return 0;
    BkTrain *pt = &ps->u.train;
    pt->act = act_code(l->act.kind), pt->alpha = l->act.alpha, pt->lo = l->act.lo, pt->hi = l->act.hi;
    return 1;
}

int bk_map_train(IrGraph *g, BkAct *phys, IrLayer *l, BkSched *s, IrDiag *d) {
    BkTrain *t = &s->u.train;
    s->kind = BK_KIND_TRAIN;
    s->n_in = 1;
    s->src[0] = 0, s->src[1] = 1;
    switch (l->op) {
    case IR_LOSS_GRAD: {
        if (act_in(phys, l, 0, &s->in[0]) || act_in(phys, l, 1, &s->in[1]) ||
            s->in[0].layout != BK_LAYOUT_BLOCKED || s->in[0].h * s->in[0].w != 1)
            return refuse(d, l, "the prediction must be a computed [N, K] activation");
        s->n_in = 2;
        t->op = M7K_TR_LOSS;
        t->loss_ce = l->a.train.loss == IR_LOSS_CROSS_ENTROPY;
        t->n = s->in[0].n, t->k = s->in[0].c, t->kb = (t->k + 31) / 32;
        s->out = s->in[0]; /* dY: the prediction's shape, blocked */
        break;
    }
    case IR_ACT_GRAD:
        if (act_in(phys, l, 0, &s->in[0]) || act_in(phys, l, 1, &s->in[1]) ||
            s->in[0].layout != BK_LAYOUT_BLOCKED || s->in[1].layout != BK_LAYOUT_BLOCKED)
            return refuse(d, l, "dY and Y must be computed (blocked) activations");
        s->n_in = 2;
        t->op = M7K_TR_EW, t->ew_op = M7K_TR_EW_ACT;
        s->out = s->in[0];
        if (fuse_act_into_pool(g, l)) { /* the max-pool gradient before applies the slope */
            s->kind = BK_KIND_ALIAS;
            s->n_in = 1;
        }
        break;
    case IR_SGD:
        /* in: W (a constant: its master copy goes to the blob), dW (a graph output) */
        if (l->in[1] < 0 || !g->t[l->in[1]].is_graph_output || !g->t[l->in[0]].f32)
            return refuse(d, l, "SGD needs a constant parameter and its gradient as a graph output");
        s->src[0] = 1;
        s->in[0] = phys[l->in[1]];
        t->op = M7K_TR_EW, t->ew_op = M7K_TR_EW_SGD;
        t->lr = l->a.train.lr;
        s->out.layout = BK_LAYOUT_NCHW;
        break;
    case IR_MAXPOOL_GRAD:
    case IR_AVGPOOL_GRAD:
        if (act_in(phys, l, 0, &s->in[0]) || act_in(phys, l, 1, &s->in[1]) ||
            s->in[0].layout != BK_LAYOUT_BLOCKED || s->in[1].layout != BK_LAYOUT_BLOCKED)
            return refuse(d, l, "dY and X must be computed (blocked) activations");
        s->n_in = 2;
        if (pool_map(l, s, d))
            return -1;
        break;
    case IR_CONV_GRAD_W:
    case IR_FC_GRAD_W:
        if (act_in(phys, l, 0, &s->in[0]) || act_in(phys, l, 1, &s->in[1]) ||
            s->in[0].layout != BK_LAYOUT_BLOCKED)
            return refuse(d, l, "dY must be a computed (blocked) activation");
        for (int k = 0; k < l->n_out; k++)
            if (l->out[k] >= 0 && !g->t[l->out[k]].is_graph_output)
                return refuse(d, l, "weight gradients must be graph outputs");
        s->n_in = 2;
        t->op = M7K_TR_GW;
        BkAct *x = &s->in[1];
        if (l->op == IR_FC_GRAD_W && x->h * x->w > 1 && (int64_t)x->c * x->h * x->w % 32 == 0 &&
            x->layout == BK_LAYOUT_BLOCKED) {
            /* a flattened X: an NCHW copy first (N K values moved by
             * 4-byte DMA rows), then dW rows leave whole (not M K values) */
            s->pre.present = 1, s->pre.kind = BK_CONVERT_NCHW_COPY, s->pre.k = 1;
            s->pre.from = *x;
            x->layout = BK_LAYOUT_NCHW, x->ddr = -1;
            s->pre.to = *x;
        }
        if (s->in[1].layout != BK_LAYOUT_BLOCKED && !(l->op == IR_FC_GRAD_W && (int64_t)x->c * x->h * x->w % 32 == 0)) {
            /* X is a graph input: blocked copy first */
            s->pre.present = 1, s->pre.kind = BK_CONVERT_TO_BLOCKED, s->pre.k = 1;
            s->pre.from = s->in[1];
            s->in[1].layout = BK_LAYOUT_BLOCKED, s->in[1].ddr = -1;
            s->pre.to = s->in[1];
        }
        s->out.layout = BK_LAYOUT_NCHW;
        break;
    case IR_CONV_GRAD_X: {
        const IrConvAttr *ca = &l->a.conv;
        int64_t wd[4];
        if (act_in(phys, l, 0, &s->in[0]) || s->in[0].layout != BK_LAYOUT_BLOCKED)
            return refuse(d, l, "dY must be a computed (blocked) activation");
        if (ir_dims_2d(&g->t[l->in[1]], wd) || !g->t[l->in[1]].f32)
            return refuse(d, l, "W must be a constant 4-D (or 3-D) kernel");
        if (ca->pad[0] > ca->dilation[0] * (wd[2] - 1) || ca->pad[1] > ca->dilation[1] * (wd[3] - 1))
            return refuse(d, l, "padding larger than the dilated kernel extent minus one is not supported");
        s->kind = BK_KIND_CONV;
        int sh = ca->stride[0], sw = ca->stride[1];
        if (sh > 1 || sw > 1) { /* dY spread s apart into a zeroed buffer first */
            s->pre.present = 1, s->pre.kind = BK_CONVERT_UPSAMPLE, s->pre.k = 0;
            s->pre.from = s->in[0];
            s->in[0].h = (s->in[0].h - 1) * sh + 1, s->in[0].w = (s->in[0].w - 1) * sw + 1;
            s->in[0].ddr = -1;
            s->pre.to = s->in[0];
        }
        break;
    }
    case IR_FC_GRAD_X: {
        if (act_in(phys, l, 0, &s->in[0]) || s->in[0].layout != BK_LAYOUT_BLOCKED || s->in[0].h * s->in[0].w != 1)
            return refuse(d, l, "dY must be a computed [N, M] activation");
        if (l->in[1] < 0 || !g->t[l->in[1]].f32 || g->t[l->in[1]].rank != 2)
            return refuse(d, l, "W must be a constant M x K matrix");
        s->kind = BK_KIND_CONV;
        phys[l->out[0]] = s->out; /* X's shape, blocked ... */
        phys[l->out[0]].layout = BK_LAYOUT_BLOCKED;
        /* ... which the FC writes as [N][C/32 * H * W][32] */
        s->out.c = (s->out.c + 31) / 32 * 32 * s->out.h * s->out.w, s->out.h = s->out.w = 1;
        return 1;
    }
    case IR_BATCHNORM_GRAD:
        return refuse(d, l, "BatchNormalization's gradient does not run on the machine yet (--interpret runs it)");
    default:
        return refuse(d, l, "not a training layer");
    }
    phys[l->out[0]] = s->out;
    return 1;
}

/* ---- conv_grad_x and fc_grad_x as the conv kernel ------------------------- */

int bk_train_conv_setup(IrGraph *g, IrLayer *l, BkSched *s, IrDiag *d) {
    BkConv *c = &s->u.conv;
    const BkAct *x = &s->in[0], *y = &s->out;
    memset(c, 0, sizeof *c);
    c->groups = c->merge = 1, c->b_off = -1;
    c->dh = c->dw = c->sh = c->sw = c->kh = c->kw = 1;
    c->nvco = (y->c + 31) / 32;
    c->in_bytes = bk_act_bytes(x);
    if (l->op == IR_FC_GRAD_X) {
        int64_t k = (int64_t)(x->c + 31) / 32 * 32;
        c->n = 1, c->cin = (int)k, c->h = 1, c->w = x->n, c->ho = 1, c->wo = x->n;
        c->in_sw = k * 4;
        c->out_sw = (int64_t)c->nvco * 128, c->out_sv = 128;
        return 0;
    }
    const IrConvAttr *ca = &l->a.conv;
    int64_t wd[4];
    if (ir_dims_2d(&g->t[l->in[1]], wd) || wd[0] != x->c) {
        ir_diag_add(d, "backend: layer '%s': weights do not match dY's channels", l->name);
        return -1;
    }
    c->n = x->n, c->cin = x->c, c->h = x->h, c->w = x->w, c->ho = y->h, c->wo = y->w;
    c->kh = (int)wd[2], c->kw = (int)wd[3], c->dh = ca->dilation[0], c->dw = ca->dilation[1];
    c->pt = c->dh * (c->kh - 1) - ca->pad[0];
    c->pl = c->dw * (c->kw - 1) - ca->pad[1];
    int64_t hw = (int64_t)x->h * x->w;
    c->sub_ci = 32;
    c->in_sw = 128, c->in_sh = (int64_t)x->w * 128, c->in_ssub = hw * 128;
    c->in_sn = (int64_t)((x->c + 31) / 32) * hw * 128;
    c->out_sw = 128, c->out_sh = (int64_t)y->w * 128, c->out_sv = (int64_t)y->h * y->w * 128;
    c->out_sn = (int64_t)((y->c + 31) / 32) * c->out_sv;
    c->g_out = (int64_t)c->nvco * c->out_sv;
    c->g_wts = (int64_t)c->nvco * c->cin * c->kh * c->kw * 128;
    c->g_bias = (int64_t)c->nvco * 128;
    return 0;
}

int64_t bk_train_weight_src(const IrGraph *g, const IrLayer *l, const BkSched *s, int64_t co, int64_t ci, int t) {
    const IrTensor *w = &g->t[l->in[1]];
    const BkConv *c = &s->u.conv;
    if (l->op == IR_FC_GRAD_X) { /* co runs over X's blocked order, ci over dY's M */
        const IrTensor *xt = &g->t[l->out[0]];
        int64_t hw = 1, C = xt->rank > 1 ? xt->dims[1] : 1;
        for (int k = 2; k < xt->rank; k++)
            hw *= xt->dims[k];
        int64_t ch = co / (32 * hw) * 32 + co % 32, pix = co / 32 % hw;
        if (ch >= C || ci >= w->dims[0])
            return -1;
        return ci * w->dims[1] + ch * hw + pix;
    }
    /* conv_grad_x: co = X's channel, ci = dY's channel (W's output channel) */
    int64_t cout = w->dims[0], cig = w->dims[1], grp = l->a.conv.group > 0 ? l->a.conv.group : 1;
    int64_t cog = cout / grp;
    if (ci >= cout || co / cig != ci / cog)
        return -1;
    int kk = c->kh * c->kw;
    return (ci * cig + co % cig) * kk + (kk - 1 - t);
}

/* ---- tiling and cost ---------------------------------------------------- */

static double dmax(double a, double b) { return a > b ? a : b; }

/* A finished conv chunk's blocks through tr_stages exchange stages
 * (m7k_tr_block): 32 loads and 32 stores (two a cycle), and per stage 38
 * software-pipelined rows (32, and the selects' lag of 6), each a shifted
 * store (a VIEU op, then its VLS store lat_vint later: the in-order issue
 * waits), a load and a select on the one VIEU right after: lat_vint + 1
 * cycles a row; and the drain.  tests/target checks it against the
 * simulator.  GW_TR_SCRATCH: its 32 scratch slots of two lines. */
#define GW_TR_SCRATCH (32 * 256)

double bk_gw_tr_block_cycles(const M7Machine *m, int stages) {
    if (!stages)
        return 0;
    return 64.0 / m->n_vls - 2 + stages * (38.0 * (m->lat_vint + 1) + 7);
}

static double gw_tr_cycles(const BkTrain *t, const M7Machine *m) {
    int nv = t->vco < (t->cout + 31) / 32 ? t->vco : (t->cout + 31) / 32;
    int nci = t->ci_chunk < t->cin ? t->ci_chunk : t->cin, blocks = (nci * t->kh * t->kw + 31) / 32;
    return (double)nv * blocks * bk_gw_tr_block_cycles(m, t->tr_stages);
}

/* The DMA of one chunk's dW stores: whole rows (swap); or per output
 * channel its run, in rows of 2^tr_stages floats (4 bytes for the FC form
 * of flattened X), with a tail row when the run is not whole rows.  Rows
 * and bytes hold the core's link one after the other; the setups of the 4
 * channels in use overlap. */
static double gw_store_cycles(const BkTrain *t, const M7Machine *m) {
    int64_t wb = (int64_t)t->ci_chunk * t->kh * t->kw, P = (int64_t)1 << t->tr_stages;
    double bw = m->ddr_bw / m->cores;
    if (t->swap)
        return t->vco * bk_dma_cycles(m, t->ci_chunk, (int64_t)t->ci_chunk * 128, 0);
    int64_t rows = (wb + P - 1) / P + (t->cig != t->cin); /* a grouped run may start inside a row */
    return 32.0 * t->vco * (m->dma_setup / 4.0 + rows * m->dma_row_overhead + wb * 4 / bw);
}

/* The compute cycles of a full chunk (vco vectors x ci_chunk channels
 * from channel 0) over every tile of dY, as the kernel runs it: per tile,
 * vector block, tap and pair block one micro-kernel call (priced by
 * issuing the code codegen prints, mk_sched.c), the dB sums (on the first
 * ci chunk of ncc: about a pixel a cycle per vector, m7k_gw_bias), and the
 * zeroing of the chunk's accumulators (two stores a cycle); not the stages
 * before its stores (gw_tr_cycles).  -1 when the block has no schedule. */
static double gw_chunk_compute(const BkTrain *t, int n, const M7Machine *m) {
    int kk = t->kh * t->kw, nvco = (t->cout + 31) / 32, ncc = (t->cin + t->ci_chunk - 1) / t->ci_chunk;
    int nv = t->vco < nvco ? t->vco : nvco, nci = t->ci_chunk < t->cin ? t->ci_chunk : t->cin, npairs = (nci + 1) / 2;
    if (!bk_gw_loop(m, t->vb, t->pp, 2) || !bk_gw_loop(m, t->vb, t->pp, 1))
        return -1;
    /* tiles: full and edge image groups x rows x columns */
    int tiles_n[2] = {n / t->tn, n % t->tn > 0}, imgs[2] = {t->tn, n % t->tn};
    int tiles_h[2] = {t->ho / t->th, t->ho % t->th > 0}, rows[2] = {t->th, t->ho % t->th};
    int tiles_w[2] = {t->wo / t->tw, t->wo % t->tw > 0}, cols[2] = {t->tw, t->wo % t->tw};
    double c = 0;
    for (int e = 0; e < 8; e++) {
        int i = e >> 2, a = e >> 1 & 1, b = e & 1;
        int64_t count = (int64_t)tiles_n[i] * tiles_h[a] * tiles_w[b];
        int npix = imgs[i] * rows[a] * cols[b];
        if (!count)
            continue;
        double call = 0;
        for (int v = 0; v < nv; v += t->vb)
            for (int pr = 0, pp; pr < npairs; pr += pp) {
                pp = m7k_gw_pairs(t->pp, npairs, 0, pr);
                call += bk_gw_call_cycles(m, nv - v < t->vb ? nv - v : t->vb, pp, npix);
            }
        c += count * (kk * call + (t->has_bias && !t->swap ? nv * (npix + 20.0) / ncc : 0));
    }
    return c + (double)t->vco * (double)m7k_gw_vstride(t->ci_chunk, kk) / 128 / m->n_vls;
}

/* The per-core cycles of a weight-gradient plan: compute and DMA. */
static void gw_cost(const BkTrain *t, int n, double chunk_comp, const M7Machine *m, double *comp, double *dma,
                    int64_t *tr, int64_t *by) {
    int kk = t->kh * t->kw, nvg = ((t->cout + 31) / 32 + t->vco - 1) / t->vco;
    int ncc = (t->cin + t->ci_chunk - 1) / t->ci_chunk;
    double chunks = ceil((double)nvg * ncc / m->cores);
    int ntiles = (n + t->tn - 1) / t->tn * ((t->ho + t->th - 1) / t->th) * ((t->wo + t->tw - 1) / t->tw);
    *comp = chunks * chunk_comp;
    int nblk = (t->ci_chunk + 31) / 32;
    /* per item and image: a window per 32-channel block, a dY tile per vector */
    int64_t xw = (int64_t)t->rows_in * t->cols_in * 128 * nblk, dy = (int64_t)t->vco * t->th * t->tw * 128;
    double d = (double)ntiles * t->tn *
               (nblk * bk_dma_cycles(m, t->rows_in, xw / nblk, 0) + t->vco * bk_dma_cycles(m, t->th, dy / t->vco, 0));
    d += gw_store_cycles(t, m);
    *dma = chunks * d;
    *tr = (int64_t)(chunks * ((double)ntiles * t->tn * (nblk + t->vco) + 32 * t->vco));
    *by = (int64_t)(chunks * ((double)ntiles * t->tn * (xw + dy) + (int64_t)32 * t->vco * t->ci_chunk * kk * 4));
}

/* conv_grad_w / fc_grad_w geometry: X, dY and the kernel. */
static int gw_setup(const IrGraph *g, const IrLayer *l, BkSched *s, int *n, IrDiag *d) {
    BkTrain *t = &s->u.train;
    const BkAct *y = &s->in[0], *x = &s->in[1];
    int64_t xb = (x->c + 31) / 32, yb = (y->c + 31) / 32;
    t->cout = y->c;
    t->has_bias = l->n_out > 1 && l->out[1] >= 0;
    t->sh = t->sw = t->dh = t->dw = 1, t->pt = t->pl = 0;
    t->x_sw = 128, t->x_sh = (int64_t)x->w * 128, t->x_sblk = (int64_t)x->h * x->w * 128, t->x_sn = xb * t->x_sblk;
    t->dy_sw = 128, t->dy_sh = (int64_t)y->w * 128, t->dy_sblk = (int64_t)y->h * y->w * 128;
    t->dy_sn = yb * t->dy_sblk;
    if (l->op == IR_FC_GRAD_W && x->layout == BK_LAYOUT_NCHW) { /* [N][K], K % 32 == 0: as below */
        *n = 1;
        t->swap = 1;
        t->cout = x->c * x->h * x->w, t->cin = y->c, t->h = 1, t->w = x->n, t->ho = 1, t->wo = x->n;
        t->kh = t->kw = 1;
        t->dy_sw = (int64_t)t->cout * 4, t->dy_sblk = 128, t->dy_sh = t->dy_sn = 0;
        t->x_sw = yb * 128, t->x_sblk = 128, t->x_sh = t->x_sn = 0;
    } else if (l->op == IR_FC_GRAD_W && x->h * x->w == 1) {
        /* a 1x1 conv over a 1-row image of the batch, with X's K in lanes
         * and dY broadcast, so each dW row leaves whole (no transpose) */
        *n = 1;
        t->swap = 1;
        t->cout = x->c, t->cin = y->c, t->h = 1, t->w = x->n, t->ho = 1, t->wo = x->n, t->kh = t->kw = 1;
        t->dy_sw = xb * 128, t->dy_sblk = 128, t->dy_sh = t->dy_sn = 0;
        t->x_sw = yb * 128, t->x_sblk = 128, t->x_sh = t->x_sn = 0;
    } else if (l->op == IR_FC_GRAD_W) { /* flattened X: the same over X's blocked order */
        *n = 1;
        t->cin = (int)(xb * 32 * x->h * x->w), t->h = 1, t->w = x->n, t->ho = 1, t->wo = x->n, t->kh = t->kw = 1;
        t->x_sw = xb * x->h * x->w * 128, t->x_sblk = 128, t->x_sh = t->x_sn = 0;
        t->dy_sw = yb * 128, t->dy_sblk = 128, t->dy_sh = t->dy_sn = 0;
        t->fc_hw = x->h * x->w;
    } else {
        const IrConvAttr *ca = &l->a.conv;
        int64_t wd[4];
        if (ir_dims_2d(&g->t[l->out[0]], wd))
            return refuse(d, l, "dW is not a 3-D or 4-D kernel");
        *n = x->n;
        t->cin = x->c, t->h = x->h, t->w = x->w, t->ho = y->h, t->wo = y->w;
        t->kh = (int)wd[2], t->kw = (int)wd[3];
        t->sh = ca->stride[0], t->sw = ca->stride[1], t->dh = ca->dilation[0], t->dw = ca->dilation[1];
        t->pt = ca->pad[0], t->pl = ca->pad[1];
    }
    t->n = *n;
    t->cig = t->fc_hw ? x->c : t->cin, t->cog = t->cout;
    if (l->op == IR_CONV_GRAD_W && l->a.conv.group > 1) /* computed dense; written per group */
        t->cig = t->cin / l->a.conv.group, t->cog = t->cout / l->a.conv.group;
    return 0;
}

/* The best of one chunk and tile shape (vco vectors x ci_chunk channels,
 * tn images of th x tw pixels) over its register blocks and exchange
 * stages, kept in *best when it beats *best_cost. */
static void gw_try(const BkTrain *t, int n, int vco, int ci_chunk, int th, int tw, int tn, const M7Machine *m,
                   BkSched *s, BkTrain *best, double *best_cost) {
    int kk = t->kh * t->kw, nvco = (t->cout + 31) / 32;
    BkTrain c = *t;
    c.vco = vco, c.ci_chunk = ci_chunk, c.th = th, c.tw = tw, c.tn = tn;
    if (c.vco > nvco || (c.ci_chunk > 2 && c.ci_chunk / 2 >= t->cin) ||
        (c.fc_hw && c.ci_chunk > 32)) /* fc_hw stores a chunk as one block's run */
        return;
    /* the register block (vectors x channel pairs) the chunk computes fastest */
    double chunk_comp = -1;
    int pairs = (c.ci_chunk + 1) / 2;
    for (int vb = 1; vb <= M7K_MAXV && vb <= c.vco; vb++)
        for (int pp = 1; pp <= M7K_MAXP && pp <= pairs && pp <= 16; pp++) {
            BkTrain r = c;
            r.vb = vb, r.pp = pp;
            double cc = gw_chunk_compute(&r, n, m);
            if (cc >= 0 && (chunk_comp < 0 || cc < chunk_comp))
                chunk_comp = cc, c.vb = vb, c.pp = pp;
        }
    if (chunk_comp < 0)
        return;
    c.rows_in = (th - 1) * c.sh + (c.kh - 1) * c.dh + 1;
    c.cols_in = (tw - 1) * c.sw + (c.kw - 1) * c.dw + 1;
    /* AM: two slots of accumulators, two of dY, dB, the stages' scratch */
    int64_t acc = (int64_t)c.vco * (int64_t)m7k_gw_vstride(c.ci_chunk, kk);
    int64_t dyt = (int64_t)c.vco * tn * th * tw * 128;
    int64_t xw = (int64_t)tn * c.rows_in * c.cols_in * 128 * ((c.ci_chunk + 31) / 32);
    c.am_a[0] = 0, c.am_a[1] = acc, c.am_b[0] = 2 * acc, c.am_b[1] = 2 * acc + dyt;
    c.am_c = 2 * acc + 2 * dyt, c.am_t = c.am_c + (int64_t)c.vco * 128;
    c.sm_x[0] = 0, c.sm_x[1] = xw;
    /* how far a conv chunk's blocks are transposed before they leave: on-chip
     * stages against DMA rows (FC forms leave as they are) */
    for (int st = 0; st <= (c.swap || c.fc_hw ? 0 : 5); st++) {
        c.tr_stages = st;
        int64_t am_end = c.am_t + (st ? GW_TR_SCRATCH : 0);
        if (am_end > m->am_bytes || 2 * xw > m->sm_bytes)
            continue;
        double comp, dma;
        int64_t tr, by;
        gw_cost(&c, n, chunk_comp + gw_tr_cycles(&c, m), m, &comp, &dma, &tr, &by);
        /* overlap is not perfect: a share of the smaller side shows */
        double cost = dmax(comp, dma) + 0.15 * (comp < dma ? comp : dma) + gw_store_cycles(&c, m);
        s->candidates++;
        if (*best_cost < 0 || cost < *best_cost) {
            *best_cost = cost, *best = c;
            s->cyc_compute = comp, s->cyc_dma = dma, s->dma_transfers = tr, s->dma_bytes = by;
            s->am_bytes = am_end, s->sm_bytes = 2 * xw;
        }
    }
}

/* The cheapest weight-gradient tiling that fits AM and SM. */
static int gw_tile(const IrGraph *g, const IrLayer *l, BkSched *s, const M7Machine *m, IrDiag *d) {
    BkTrain *t = &s->u.train, best;
    int n;
    if (gw_setup(g, l, s, &n, d))
        return -1;
    double best_cost = -1;
    /* a chunk may hold more vectors than a register block (fewer re-reads of X) */
    static const int vcos[] = {16, 8, 4, 2, 1}, cis[] = {256, 128, 64, 32, 16, 8, 4, 2};
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 8; b++)
            for (int th = 1; th <= t->ho; th = th < t->ho && th * 2 > t->ho ? t->ho : th * 2)
                for (int tw = t->wo < 64 ? t->wo : 32; tw >= 1; tw /= 4)
                    /* a tile of whole images may take several (longer micro-kernel calls) */
                    for (int tn = 1; tn <= (th == t->ho && tw == t->wo ? n : 1); tn *= 2)
                        gw_try(t, n, vcos[a], cis[b], th, tw, tn, m, s, &best, &best_cost);
    if (best_cost < 0)
        return refuse(d, l, "no weight-gradient tiling fits AM and SM");
    *t = best;
    t->zero_need = (int64_t)t->cols_in * 128;
    s->am_slots = s->sm_slots = 2;
    /* the first window before any compute, the last chunk's stores after it */
    s->cyc_exposed = bk_dma_cycles(m, t->rows_in, (int64_t)t->rows_in * t->cols_in * 128, 0) + gw_store_cycles(t, m);
    return 0;
}

int bk_tile_train(IrGraph *g, IrLayer *l, BkSched *s, const M7Machine *m, IrDiag *d) {
    BkTrain *t = &s->u.train;
    int cores = m->cores;
    double comp = 0, dma = 0;
    int64_t tr = 0, by = 0;
    switch (t->op) {
    case M7K_TR_LOSS: /* one core: a row of the batch at a time */
        s->am_bytes = 4 * (int64_t)t->kb * 128 + 256;
        comp = t->n * (t->kb * 12.0 + 120.0 + 2 * m->lat_reduce);
        tr = 3 * t->n + 1, by = (int64_t)t->n * t->kb * 128 * 3;
        dma = t->n * (3 * bk_dma_cycles(m, 1, (int64_t)t->kb * 128, 0));
        break;
    case M7K_TR_EW: {
        int64_t bytes = t->ew_op == M7K_TR_EW_SGD ? ir_numel(&g->t[l->out[0]]) * 4 : bk_act_bytes(&s->out);
        t->nbytes = bytes;
        /* pieces of at most 32 KB, the same count on every core */
        int64_t per_core = (bytes + cores - 1) / cores, k = (per_core + 32767) / 32768;
        t->chunk_bytes = r128((per_core + k - 1) / k);
        if (t->ew_op == M7K_TR_EW_ACT) {
            t->act = act_code(l->act.kind);
            t->alpha = l->act.alpha, t->lo = l->act.lo, t->hi = l->act.hi;
            if (!t->act)
                return refuse(d, l, "unknown activation");
        }
        s->am_bytes = 6 * t->chunk_bytes; /* two slots of a, b and the result */
        double v = (double)k * t->chunk_bytes / 128; /* the busiest core's vectors */
        comp = v * 3.0 / m->n_vls;
        by = (int64_t)(v * 128 * 3);
        tr = (int64_t)(3 * (v * 128 / t->chunk_bytes + 1));
        dma = bk_dma_stream_cycles(m, (double)tr, (double)by); /* two slots */
        break;
    }
    case M7K_TR_POOL: {
        int64_t row = (int64_t)t->w * 128, slot = 2 * t->span_h * row + (int64_t)t->wo * 128;
        if (slot > m->am_bytes)
            return refuse(d, l, "a row of pooling windows does not fit AM");
        t->slots = 2 * slot <= m->am_bytes ? 2 : 1; /* two: the next row's loads behind this one's compute */
        s->am_bytes = t->slots * slot;
        t->zero_need = row;
        /* an item per output row, and one for the rows below the last window if any */
        int tail = (t->ho - 1) * t->sh - t->pt + t->span_h < t->h;
        double items = (double)s->out.n * t->ncb * (t->ho + tail) / cores;
        comp = items * ((double)t->span_h * t->w * (t->is_max ? 4.0 : 2.0) / m->n_vls + 20);
        by = (int64_t)(items * ((1 + t->is_max) * t->span_h * row + t->wo * 128));
        tr = (int64_t)(items * (2 + t->is_max));
        dma = t->slots > 1 ? bk_dma_stream_cycles(m, (double)tr, (double)by)
                           : tr * (m->dma_setup + m->dma_row_overhead) + (double)by / (m->ddr_bw / cores);
        break;
    }
    case M7K_TR_GW:
        if (gw_tile(g, l, s, m, d))
            return -1;
        return 0;
    }
    s->cyc_compute = comp, s->cyc_dma = dma, s->dma_transfers = tr, s->dma_bytes = by;
    s->cyc_exposed = t->op == M7K_TR_LOSS ? dma : 0;
    if (t->op == M7K_TR_EW) /* the last piece's compute, between its loads and its store */
        s->cyc_exposed = comp / ceil((double)t->nbytes / t->chunk_bytes / cores);
    return 0;
}

/* ---- the blob: SGD master copies --------------------------------------- */

int64_t bk_train_blob(IrGraph *g, int64_t off) {
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        BkSched *s = l->dead ? NULL : l->sched;
        if (!s || s->kind != BK_KIND_TRAIN || s->u.train.op != M7K_TR_EW || s->u.train.ew_op != M7K_TR_EW_SGD)
            continue;
        s->u.train.w_off = off;
        off = (off + ir_numel(&g->t[l->in[0]]) * 4 + 255) / 256 * 256;
    }
    return off;
}

int64_t bk_train_zero(const IrGraph *g, int64_t zero) {
    for (int li = 0; li < g->n_l; li++) {
        const IrLayer *l = &g->l[li];
        const BkSched *s = l->dead ? NULL : l->sched;
        if (!s)
            continue;
        if (s->kind == BK_KIND_TRAIN && s->u.train.zero_need > zero)
            zero = s->u.train.zero_need;
        if (s->kind == BK_KIND_CONV && s->pre.present && s->pre.kind == BK_CONVERT_UPSAMPLE &&
            (int64_t)s->pre.to.w * 128 > zero)
            zero = (int64_t)s->pre.to.w * 128;
    }
    return zero;
}

void bk_train_pack(const IrGraph *g, const IrLayer *l, float *blob) {
    const BkSched *s = l->dead ? NULL : l->sched;
    if (!s || s->kind != BK_KIND_TRAIN || s->u.train.op != M7K_TR_EW || s->u.train.ew_op != M7K_TR_EW_SGD)
        return;
    const IrTensor *w = &g->t[l->in[0]];
    memcpy(blob + s->u.train.w_off / 4, w->f32, (size_t)ir_numel(w) * 4);
}

