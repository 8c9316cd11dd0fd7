/* map.c: the mapping pass.  Chooses for every live layer its kernel kind
 * and lane mapping (channels-in-lanes for now) and the machine layout of
 * its activations: blocked for everything the backend computes, NCHW for
 * graph inputs/outputs, with conversions where a layer cannot read NCHW. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"

/* Geometry of an IR tensor read as [N, C, spatial...] (a scalar: one value;
 * rank > 4: the middle axes as the height, so a blocked copy is still
 * [N][C/32][rows][W][32]; moves.c's bk_view reads it the same way). */
static int geometry(const IrTensor *t, BkAct *a) {
    memset(a, 0, sizeof *a);
    a->ddr = -1;
    if (t->rank < 0 || t->rank > IR_MAX_RANK)
        return -1;
    int64_t d[4] = {1, 1, 1, 1};
    if (t->rank == 1)
        d[1] = t->dims[0];
    else
        for (int i = 0; i < t->rank && i < 3; i++)
            d[i] = t->dims[i];
    if (t->rank == 3) /* [N, C, L]: L as the width */
        d[3] = d[2], d[2] = 1;
    if (t->rank >= 4) {
        d[2] = 1, d[3] = t->dims[t->rank - 1];
        for (int i = 2; i < t->rank - 1; i++)
            d[2] = d[2] * t->dims[i] > (1 << 24) ? (1 << 25) : d[2] * t->dims[i];
    }
    for (int i = 0; i < 4; i++)
        if (d[i] < 1 || d[i] > (1 << 24))
            return -1;
    a->n = (int)d[0], a->c = (int)d[1], a->h = (int)d[2], a->w = (int)d[3];
    return 0;
}

static int is_const(const IrGraph *g, int ti) {
    return ti >= 0 && g->t[ti].f32 && (g->t[ti].role == IR_T_CONST || g->t[ti].role == IR_T_PARAM);
}

/* Conv/FC weights or bias: a constant, or a graph input packed on the
 * machine before the layer (rt_weights.c). */
static int is_weight(const IrGraph *g, int ti) { return is_const(g, ti) || bk_is_runtime(g, ti); }

static int weights_ok(const IrGraph *g, const IrLayer *l, int cout) {
    if (!is_weight(g, l->in[1]))
        return 0;
    if (l->n_in < 3 || l->in[2] < 0)
        return 1;
    int64_t nb = ir_numel(&g->t[l->in[2]]); /* the packing reads cout values (Gemm: C, gemm_as_fc) */
    return is_weight(g, l->in[2]) && (nb == cout || l->op == IR_GEMM);
}

/* Gemm / MatMul that make_fc left (B a graph input, alpha != 1, or beta
 * != 1): compiled as FC when it is Y = alpha A B (+ beta C) or alpha A B^T
 * (+ beta C), C a bias of one value per column or one value.  alpha and beta
 * scale the packed weights and bias (bk_gemm_scale); B as K x M is read
 * transposed (bk_w_kmajor). */
static int gemm_as_fc(const IrGraph *g, const IrLayer *l, const BkAct *a) {
    if (l->n_in < 2 || !is_weight(g, l->in[1]) || g->t[l->in[0]].rank != 2 || g->t[l->in[1]].rank != 2 ||
        g->t[l->out[0]].rank != 2)
        return 0;
    /* transA: A^T's sample n is column n of A, read as a planar image whose
     * channel k is row k (A's own [K, N] rows, NCHW or blocked) */
    if (l->op == IR_GEMM && l->a.gemm.trans_a && (a->h != 1 || a->w != 1))
        return 0;
    if (l->op == IR_MATMUL || l->n_in < 3 || l->in[2] < 0)
        return l->op == IR_GEMM || l->n_in == 2;
    return is_weight(g, l->in[2]) && bk_gemm_c_form(g, l) > 0;
}

/* A constant that broadcasts per channel of a [N, C, ...] activation: one
 * value, or C values along axis 1 ([C], [C,1,1], [1,C,1,1]). */
static int const_per_channel(const IrTensor *t, int c) {
    int64_t n = ir_numel(t);
    if (n == 1)
        return 1;
    if (n != c)
        return 0;
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] == c)
            return t->rank - i == 1 || t->rank - i == 3; /* [.., C] with 1x1 after, or [C,1,1] */
    return 0;
}

/* Activation input k of layer l: its physical form, or -1 if unknown. */
static int input_act(const BkAct *phys, const IrLayer *l, int k, BkAct *a) {
    int ti = l->in[k];
    if (ti < 0 || phys[ti].n == 0)
        return -1;
    *a = phys[ti];
    return 0;
}

/* A layer reading NCHW that needs blocked input gets a conversion step. */
static void need_blocked(BkSched *s, int k) {
    if (s->in[k].layout == BK_LAYOUT_BLOCKED)
        return;
    s->pre.present = 1;
    s->pre.kind = BK_CONVERT_TO_BLOCKED;
    s->pre.k = k;
    s->pre.from = s->in[k];
    s->in[k].layout = BK_LAYOUT_BLOCKED;
    s->in[k].ddr = -1;
    s->pre.to = s->in[k];
}

/* Moves name IR inputs by index; memplan gives every one its address. */
static void want_in_addr(BkSched *s, const IrLayer *l) {
    if (!s->cat_addr)
        s->cat_addr = ir_xcalloc((size_t)l->n_in, sizeof *s->cat_addr);
}

static int same_geo(const BkAct *a, const BkAct *b) {
    return a->layout == b->layout && a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w;
}

/* Operand in[k] of an element-wise layer, broadcast numpy-style (and/or
 * converted) by moves into a temporary of the output's shape and layout
 * (a softmax's input: converted to the output's layout). */
static int expand_operand(const IrGraph *g, const IrLayer *l, BkSched *s, int k, IrDiag *d) {
    const IrTensor *x = &g->t[l->in[s->src[k]]], *y = &g->t[l->out[0]];
    BkExpand *e = &s->expand[k];
    BkView src, dst;
    if (bk_view(x, &s->in[k], s->src[k], &src)) {
        ir_diag_add(d, "backend: layer '%s' (%s): operand '%s' is a flattened blocked tensor; broadcasting it "
                       "is not supported", l->name, l->onnx_op, x->name);
        return -1;
    }
    e->present = 1;
    e->buf = s->out;
    bk_view(y, &e->buf, BK_OPD_TMP0 - k, &dst);
    int sa[IR_MAX_RANK];
    int64_t start[IR_MAX_RANK] = {0};
    for (int j = 0; j < y->rank; j++) { /* numpy: aligned from the last axis; size 1 repeats */
        int i = j - (y->rank - x->rank);
        sa[j] = i >= 0 && i < x->rank && x->dims[i] == y->dims[j] ? i : -1;
    }
    bk_moves_copy(&e->mv, &src, &dst, sa, y->dims, start);
    bk_moves_zero_pad(&e->mv, &dst);
    s->in[k] = e->buf;
    want_in_addr(s, l);
    return 0;
}

/* A plain operand b that repeats over a plain output y in one of the two
 * forms m7k_ew reads directly (BkEw.rep): numpy broadcasting whose
 * broadcast axes are all outside one run of b's kept axes, the inner ones
 * (if any) a multiple of 32 values long.  1 with *rep, *period set. */
static int ew_repeats(const IrTensor *b, const IrTensor *y, int64_t *rep, int64_t *period) {
    int stage = 0; /* 0: outer repeats, 1: b's run, 2: inner repeats */
    *rep = 1, *period = 1;
    for (int j = 0; j < y->rank; j++) {
        int i = j - (y->rank - b->rank);
        if (y->dims[j] == 1)
            continue;
        int kept = i >= 0 && b->dims[i] == y->dims[j];
        if (kept && stage == 2)
            return 0;
        if (kept)
            stage = 1, *period *= y->dims[j];
        else if (stage >= 1)
            stage = 2, *rep *= y->dims[j];
    }
    return (*rep == 1 && *period * 4 * 2 + 128 <= 65536) || (*rep % 32 == 0 && *period * 4 <= 16384);
}

/* Add/Mul of two run-time tensors that are not both blocked of one shape:
 * the output is blocked when a full-size operand is, else plain NCHW (the
 * vectors then run over the flat data); an operand of another shape or
 * layout is expanded first. */
static int ew_general(const IrGraph *g, const IrLayer *l, BkSched *s, IrDiag *d) {
    const IrTensor *y = &g->t[l->out[0]];
    int full[2];
    for (int k = 0; k < 2; k++)
        full[k] = ir_numel(&g->t[l->in[s->src[k]]]) == ir_numel(y);
    s->out.layout = BK_LAYOUT_NCHW;
    for (int k = 0; k < 2; k++) {
        BkAct b = s->out;
        b.layout = BK_LAYOUT_BLOCKED;
        if (full[k] && same_geo(&s->in[k], &b))
            s->out.layout = BK_LAYOUT_BLOCKED;
    }
    int64_t rep, period;
    if (s->out.layout == BK_LAYOUT_NCHW && full[0] && same_geo(&s->in[0], &s->out) &&
        s->in[1].layout == BK_LAYOUT_NCHW && ew_repeats(&g->t[l->in[s->src[1]]], y, &rep, &period)) {
        s->u.ew.op = l->op == IR_MUL ? M7K_EW_MUL_REP : M7K_EW_ADD_REP; /* b read in place, no expansion */
        s->u.ew.rep = rep, s->u.ew.period = period;
        return 0;
    }
    for (int k = 0; k < 2; k++)
        if (!(full[k] && same_geo(&s->in[k], &s->out)) && expand_operand(g, l, s, k, d))
            return -1;
    return 0;
}

/* Concat on any axis by moves: blocked out when every input is blocked
 * (on channels: runs of lanes inside a block as DMA rows, aligned blocks
 * whole), else plain NCHW (every input converted on the way). */
static int concat_moves(const IrGraph *g, const IrLayer *l, BkSched *s, const BkAct *phys, IrDiag *d) {
    const IrTensor *y = &g->t[l->out[0]];
    BkView dst;
    s->out.layout = BK_LAYOUT_BLOCKED;
    for (int k = 0; k < l->n_in; k++) {
        BkView v;
        if (l->in[k] < 0 || phys[l->in[k]].layout != BK_LAYOUT_BLOCKED || bk_view(&g->t[l->in[k]], &phys[l->in[k]], k, &v))
            s->out.layout = BK_LAYOUT_NCHW;
    }
    bk_view(y, &s->out, BK_OPD_OUT, &dst);
    int sa[IR_MAX_RANK];
    int64_t start[IR_MAX_RANK] = {0};
    for (int j = 0; j < y->rank; j++)
        sa[j] = j;
    for (int k = 0; k < l->n_in; k++) {
        const IrTensor *x = &g->t[l->in[k]];
        BkAct a;
        BkView src;
        if (input_act(phys, l, k, &a) || bk_view(x, &a, k, &src) || x->rank != y->rank) {
            ir_diag_add(d, "backend: layer '%s' (Concat): input %d is not an activation the backend can copy",
                        l->name, k);
            return -1;
        }
        bk_moves_copy(&s->mv, &src, &dst, sa, x->dims, start);
        start[l->a.axis] += x->dims[l->a.axis];
    }
    bk_moves_zero_pad(&s->mv, &dst);
    s->kind = BK_KIND_MOVES;
    want_in_addr(s, l);
    return 0;
}

/* A flatten of blocked data may stay in place (keeping its source's
 * geometry) only for readers that take that geometry into account: FC
 * (its weights are laid out for it) and further reshapes.  Any other
 * reader would see the blocked order where it expects the flat one. */
static int flat_readers_ok(const IrGraph *g, int ti) {
    for (int li = 0; li < g->n_l; li++) {
        const IrLayer *l = &g->l[li];
        if (l->dead)
            continue;
        for (int k = 0; k < l->n_in; k++) {
            if (l->in[k] != ti)
                continue;
            int fc = (l->op == IR_FC || l->op == IR_GEMM || l->op == IR_MATMUL) && k == 0;
            int reshape = ir_op_is_alias(l->op);
            if (!fc && !reshape)
                return 0;
        }
    }
    return 1;
}

static int map_layer(IrGraph *g, BkAct *phys, int li, IrDiag *d) {
    IrLayer *l = &g->l[li];
    IrTensor *y = &g->t[l->out[0]];
    BkSched *s = bk_sched_attach(l);
    s->map = BK_MAP_CHANNELS_IN_LANES;
    s->flops = ir_layer_flops(g, l);
    s->out_tensor = l->out[0];
    if (geometry(y, &s->out)) {
        ir_diag_add(d, "backend: layer '%s' (%s): output '%s' has an unsupported shape (rank %d)",
                    l->name, l->onnx_op, y->name, y->rank);
        return -1;
    }
    s->out.layout = BK_LAYOUT_BLOCKED;
    if (bk_is_train_op(l->op)) /* map_train.c; sets the phys of its output */
        return bk_map_train(g, phys, l, s, d) < 0 ? -1 : 0;
    s->n_in = 1;
    /* Add/Mul may have their constant first */
    if ((l->op == IR_ADD || l->op == IR_MUL) && l->n_in == 2 && is_const(g, l->in[0]))
        s->src[0] = 1, s->src[1] = 0;
    else
        s->src[0] = 0, s->src[1] = 1;
    if (input_act(phys, l, s->src[0], &s->in[0])) {
        ir_diag_add(d, "backend: layer '%s' (%s): input is not an activation the backend knows",
                    l->name, l->onnx_op);
        return -1;
    }
    switch (l->op) {
    case IR_CONV:
        if (l->a.conv.group > 1 && l->a.conv.group == s->in[0].c && s->out.c == s->in[0].c) {
            if (!weights_ok(g, l, s->out.c)) {
                ir_diag_add(d, "backend: layer '%s' (Conv): weights and bias must be constants or graph inputs, "
                               "one bias per output channel",
                            l->name);
                return -1;
            }
            s->kind = BK_KIND_DW; /* one channel per lane, whole vectors from AM */
            need_blocked(s, 0);
            break;
        }
        /* other groupings run as convs of merged groups (tile.c, bk_conv_merge_ok) */
        if (l->a.conv.group < 1 || s->out.c % l->a.conv.group || s->in[0].c % l->a.conv.group) {
            ir_diag_add(d, "backend: layer '%s' (Conv): group=%d does not divide %d input and %d output "
                           "channels", l->name, l->a.conv.group, s->in[0].c, s->out.c);
            return -1;
        }
        /* fall through */
    case IR_FC:
    case IR_GEMM:
    case IR_MATMUL:
        if ((l->op == IR_GEMM || l->op == IR_MATMUL) && !gemm_as_fc(g, l, &s->in[0])) {
            ir_diag_add(d, "backend: layer '%s' (%s): only 2-D A x B (A transposed only when it is a [K, N] "
                           "tensor of its own) with C broadcastable to the [N, M] output is supported",
                        l->name, l->onnx_op);
            return -1;
        }
        if (!weights_ok(g, l, s->out.c)) {
            ir_diag_add(d, "backend: layer '%s' (%s): weights and bias must be constants or graph inputs, one "
                           "bias per output channel",
                        l->name, l->onnx_op);
            return -1;
        }
        s->kind = BK_KIND_CONV; /* reads NCHW directly ("planar") or blocked */
        break;
    case IR_MAXPOOL:
    case IR_AVGPOOL: {
        const IrPoolAttr *pa = &l->a.pool;
        if (pa->kernel[0] < 1 || pa->kernel[1] < 1 || pa->stride[0] < 1 || pa->stride[1] < 1 ||
            pa->dilation[0] < 1 || pa->dilation[1] < 1 ||
            (l->op == IR_AVGPOOL && (pa->dilation[0] > 1 || pa->dilation[1] > 1))) {
            ir_diag_add(d, "backend: layer '%s' (%s): degenerate (or dilated average) pooling windows are not "
                           "supported", l->name, l->onnx_op);
            return -1;
        }
        s->kind = BK_KIND_POOL;
        need_blocked(s, 0);
        break;
    }
    case IR_GLOBAL_AVGPOOL:
    case IR_GLOBAL_MAXPOOL:
        s->kind = BK_KIND_GPOOL;
        need_blocked(s, 0);
        break;
    case IR_ADD:
    case IR_MUL:
    case IR_SUB:
    case IR_DIV: {
        int comm = l->op == IR_ADD || l->op == IR_MUL; /* Sub/Div keep their operand order */
        s->kind = BK_KIND_EW;
        s->u.ew.arith = l->op == IR_SUB ? M7K_AR_SUB : l->op == IR_DIV ? M7K_AR_DIV : 0;
        if (!comm && (is_const(g, l->in[0]) || is_const(g, l->in[1]))) {
            ir_diag_add(d, "backend: layer '%s' (%s): a constant operand of Sub/Div is not supported (Sub of a "
                           "constant is an Add after canonicalisation)", l->name, l->onnx_op);
            return -1;
        }
        if (is_const(g, l->in[s->src[1]])) { /* y = x * s + t per channel */
            int64_t nc = ir_numel(&g->t[l->in[s->src[1]]]);
            if (!const_per_channel(&g->t[l->in[s->src[1]]], s->out.c) || ir_numel(&g->t[l->in[s->src[0]]]) != ir_numel(y)) {
                ir_diag_add(d, "backend: layer '%s' (%s): a constant operand must be a scalar or "
                               "one value per channel (has %lld values)", l->name, l->onnx_op, (long long)nc);
                return -1;
            }
            s->u.ew.op = M7K_EW_AFFINE;
            s->u.ew.const_in = s->src[1];
            need_blocked(s, 0);
            break;
        }
        s->n_in = 2;
        if (comm && ir_numel(&g->t[l->in[0]]) != ir_numel(y) && ir_numel(&g->t[l->in[1]]) == ir_numel(y))
            s->src[0] = 1, s->src[1] = 0; /* the full-size operand first */
        if (input_act(phys, l, s->src[0], &s->in[0]) || input_act(phys, l, s->src[1], &s->in[1])) {
            ir_diag_add(d, "backend: layer '%s' (%s): an operand is not an activation",
                        l->name, l->onnx_op);
            return -1;
        }
        if (comm && ir_numel(&g->t[l->in[s->src[0]]]) == ir_numel(y) && s->in[1].n == s->out.n &&
            s->in[1].c == s->out.c && s->in[1].h * s->in[1].w == 1 && s->out.h * s->out.w > 1 &&
            s->in[1].layout == BK_LAYOUT_BLOCKED) { /* [N, C, 1, 1] over [N, C, H, W] */
            s->u.ew.op = l->op == IR_ADD ? M7K_EW_ADD_BC : M7K_EW_MUL_BC;
            s->u.ew.bc_bytes = bk_act_bytes(&s->in[1]);
            need_blocked(s, 0);
            break;
        }
        int kb = s->in[0].layout == BK_LAYOUT_BLOCKED ? 0 : 1;
        BkAct conv = s->in[!kb];
        conv.layout = BK_LAYOUT_BLOCKED;
        if (ir_numel(&g->t[l->in[0]]) == ir_numel(y) && ir_numel(&g->t[l->in[1]]) == ir_numel(y) &&
            s->in[kb].layout == BK_LAYOUT_BLOCKED && s->in[!kb].layout == BK_LAYOUT_NCHW &&
            same_geo(&s->in[kb], &conv)) {
            need_blocked(s, !kb); /* the other a graph input of the same geometry */
            break;
        }
        if (ew_general(g, l, s, d))
            return -1;
        break;
    }
    case IR_BATCHNORM: {
        if (l->a.bn.training) {
            ir_diag_add(d, "backend: layer '%s' (BatchNormalization): batch statistics (training mode) "
                           "are not compiled yet", l->name);
            return -1;
        }
        /* all constants (folded at compile time) or all graph inputs (m7k_pack_bn) */
        int nrt = 0;
        for (int k = 1; k < 5 && k < l->n_in; k++)
            nrt += bk_is_runtime(g, l->in[k]);
        for (int k = 1; k < 5; k++)
            if (k >= l->n_in || !(nrt ? bk_is_runtime(g, l->in[k]) : is_const(g, l->in[k])) ||
                ir_numel(&g->t[l->in[k]]) != s->out.c) {
                ir_diag_add(d, "backend: layer '%s' (BatchNormalization): parameters must be all "
                               "constants or all graph inputs, with one value per channel", l->name);
                return -1;
            }
        }
        s->kind = BK_KIND_EW;
        s->u.ew.op = M7K_EW_AFFINE;
        need_blocked(s, 0);
        break;
    case IR_RELU:
    case IR_LEAKY_RELU:
    case IR_CLIP:
    case IR_SIGMOID:
    case IR_TANH:
        s->kind = BK_KIND_EW;
        if (s->in[0].layout == BK_LAYOUT_NCHW)
            s->out.layout = BK_LAYOUT_NCHW; /* over the flat data, no conversion */
        break;
    case IR_CONCAT:
        if (concat_moves(g, l, s, phys, d))
            return -1;
        break;
    case IR_PAD: {
        const int64_t *p = l->a.pad.pads;
        const IrTensor *x = &g->t[l->in[0]];
        int r = x->rank, bad = r != 4 && r != 3; /* [N, C, L]: L is the width */
        for (int k = 0; k < 2 * r && !bad; k++)
            bad = p[k] < 0 || ((k % r) < 2 && p[k] != 0);
        if (bad) {
            ir_diag_add(d, "backend: layer '%s' (Pad): only non-negative constant pads of H and W "
                           "of a 4-D tensor (or L of a 3-D one) are supported", l->name);
            return -1;
        }
        s->kind = BK_KIND_PAD;
        s->u.pad.pt = r == 4 ? (int)p[2] : 0, s->u.pad.pl = (int)p[r - 1];
        s->u.pad.value = l->a.pad.value;
        s->u.pad.mode = (int)l->a.pad.mode;
        need_blocked(s, 0);
        break;
    }
    case IR_LRN: {
        float b = l->a.lrn.beta;
        int b4 = b == 0.5f ? 2 : b == 0.75f ? 3 : b == 1.0f ? 4 : 0;
        if (!b4 || l->a.lrn.size < 1 || l->a.lrn.size > 63) {
            ir_diag_add(d, "backend: layer '%s' (LRN): beta %g or size %d not supported (beta 0.5, "
                           "0.75 or 1; size up to 63)", l->name, (double)b, l->a.lrn.size);
            return -1;
        }
        s->kind = BK_KIND_LRN;
        s->u.softmax.beta4 = b4;
        need_blocked(s, 0);
        break;
    }
    case IR_TRANSPOSE: { /* output axis j is input axis perm[j]: moves into NCHW */
        const IrTensor *x = &g->t[l->in[0]];
        BkView src, dst;
        int64_t start[IR_MAX_RANK] = {0};
        if (l->a.perm.n != x->rank || bk_view(x, &s->in[0], 0, &src)) {
            ir_diag_add(d, "backend: layer '%s' (Transpose): the input is a flattened blocked tensor (or perm "
                           "does not match its rank); not supported", l->name);
            return -1;
        }
        s->kind = BK_KIND_MOVES;
        s->out.layout = BK_LAYOUT_NCHW;
        bk_view(y, &s->out, BK_OPD_OUT, &dst);
        bk_moves_copy(&s->mv, &src, &dst, l->a.perm.v, y->dims, start);
        want_in_addr(s, l);
        break;
    }
    case IR_SOFTMAX: {
        const IrTensor *x = &g->t[l->in[0]];
        int ax = l->a.softmax.axis;
        int rows_form = x->rank >= 1 && (ax == x->rank - 1 || l->a.softmax.coerce_2d);
        int chan = x->rank >= 2 && ax == 1 && !(l->a.softmax.coerce_2d && s->out.h * s->out.w != 1);
        if (rows_form && l->a.softmax.coerce_2d && !chan && s->in[0].layout == BK_LAYOUT_BLOCKED) {
            s->out.layout = BK_LAYOUT_NCHW; /* a flattened tail of blocked data: to plain first (moves) */
            if (expand_operand(g, l, s, 0, d))
                return -1;
        }
        if (s->in[0].layout == BK_LAYOUT_NCHW && rows_form) {
            /* over the last axis (or the flattened tail) of NCHW data: rows */
            int64_t len = 1, rows = 1;
            for (int k = 0; k < x->rank; k++)
                *(k < ax ? &rows : &len) *= x->dims[k];
            if (len > (1 << 20)) {
                ir_diag_add(d, "backend: layer '%s' (Softmax): rows of %lld values are too long", l->name,
                            (long long)len);
                return -1;
            }
            s->kind = BK_KIND_SOFTMAX;
            s->u.softmax.by_rows = 1, s->u.softmax.rows = (int)rows, s->u.softmax.len = (int)len;
            s->out.layout = BK_LAYOUT_NCHW;
            break;
        }
        BkView v;
        if (!l->a.softmax.coerce_2d && !bk_view(x, &s->in[0], 0, &v) && ax != v.chan && ax < x->rank &&
            x->dims[ax] <= (1 << 20)) {
            /* down the rows of [outer][len][inner], in the input's own layout */
            BkSoftmax *p = &s->u.softmax;
            p->by_axis = 1, p->len = (int)x->dims[ax], p->inner = v.str[ax] / 4;
            p->outer = bk_act_bytes(&s->in[0]) / 4 / ((int64_t)p->len * p->inner);
            s->kind = BK_KIND_SOFTMAX;
            s->out = s->in[0];
            s->out.ddr = -1;
            break;
        }
        if (!chan) {
            ir_diag_add(d, "backend: layer '%s' (Softmax): only softmax over the channels (axis 1) "
                           "is supported", l->name);
            return -1;
        }
        s->kind = BK_KIND_SOFTMAX;
        need_blocked(s, 0);
        break;
    }
    case IR_RESHAPE:
    case IR_FLATTEN:
    case IR_SQUEEZE:
    case IR_UNSQUEEZE:
    case IR_IDENTITY:
    case IR_DROPOUT: {
        /* The data stays where it is when the machine layout means the same:
         * the same geometry, a flatten to [N, rest] (FC reads the source's
         * geometry), or any reshape of NCHW data.  Other reshapes of blocked
         * data convert it to NCHW first. */
        const IrTensor *x = &g->t[l->in[0]];
        BkAct a = s->in[0];
        int same = a.n == s->out.n && a.c == s->out.c && a.h == s->out.h && a.w == s->out.w;
        int flat = y->rank == 2 && x->rank >= 1 && y->dims[0] == x->dims[0] && ir_numel(x) == ir_numel(y) &&
                   (a.layout == BK_LAYOUT_NCHW || flat_readers_ok(g, l->out[0]));
        if (ir_numel(x) != ir_numel(y)) {
            ir_diag_add(d, "backend: layer '%s' (%s): element counts differ", l->name, l->onnx_op);
            return -1;
        }
        if (a.layout == BK_LAYOUT_NCHW && y->is_graph_output) {
            /* the harness reads the output at its own address: the bytes
             * must land there (an alias would leave it unwritten) */
            s->kind = BK_KIND_COPY;
            s->out.layout = BK_LAYOUT_NCHW;
        } else if (same || flat) {
            s->kind = BK_KIND_ALIAS;
            s->out = s->in[0];
        } else if (a.layout == BK_LAYOUT_NCHW) {
            s->kind = BK_KIND_ALIAS;
            s->out.layout = BK_LAYOUT_NCHW; /* y's geometry, same bytes */
        } else {
            s->kind = BK_KIND_TO_NCHW;
            s->out.layout = BK_LAYOUT_NCHW;
        }
        break;
    }
    default:
        ir_diag_add(d, "backend: layer '%s' (%s): operation not supported by the backend yet",
                    l->name, l->onnx_op);
        return -1;
    }
    if (y->is_graph_output && !((s->out.n == 1 || s->out.c % 32 == 0) && s->out.h * s->out.w == 1 &&
                                s->out.layout == BK_LAYOUT_BLOCKED && s->kind != BK_KIND_ALIAS)) {
        /* [1, C] blocked is NCHW already (plus padding), and so is [N, C] with
         * whole vectors (an FC at batch N); anything else converts */
        if (s->out.layout == BK_LAYOUT_BLOCKED) {
            s->post.present = 1;
            s->post.kind = BK_CONVERT_TO_NCHW;
            s->post.from = s->out;
            s->post.to = s->out;
            s->post.to.layout = BK_LAYOUT_NCHW;
        }
    }
    phys[l->out[0]] = s->out;
    return 0;
}

int bk_map(IrGraph *g, IrDiag *d) {
    BkAct *phys = ir_xcalloc((size_t)g->n_t, sizeof *phys);
    int rc = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        const IrTensor *t = &g->t[g->inputs[i]];
        if (geometry(t, &phys[g->inputs[i]])) {
            ir_diag_add(d, "backend: graph input '%s' has an unsupported shape", t->name);
            rc = -1;
        }
        phys[g->inputs[i]].layout = BK_LAYOUT_NCHW;
    }
    for (int li = 0; li < g->n_l; li++) {
        IrLayer *l = &g->l[li];
        if (l->dead)
            continue;
        if (l->n_out < 1 || l->out[0] < 0) {
            ir_diag_add(d, "backend: layer '%s' has no output", l->name);
            rc = -1;
            break;
        }
        if (map_layer(g, phys, li, d)) {
            rc = -1; /* keep going so every unsupported layer is named */
            if (geometry(&g->t[l->out[0]], &phys[l->out[0]]) == 0)
                phys[l->out[0]].layout = BK_LAYOUT_BLOCKED;
        }
    }
    free(phys);
    return rc;
}
