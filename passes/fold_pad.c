/* fold_pad.c: a constant-mode Pad in front of a Conv or pooling layer
 * becomes that layer's own padding, so no padded copy of the activation is
 * ever made.  Only spatial pads, non-negative: H and W of a 4-D NCHW tensor,
 * or L of a 3-D [N, C, L] one (a 1-D layer is a 2-D one 1 high, ir_dims_2d).
 *
 *   Conv:        pad value 0  (conv pads are zeros)              -> pads add
 *   AveragePool: pad value 0 and (pool pads 0 or count_include_pad=1)
 *                -> pads add, count_include_pad=1 (the padded zeros were
 *                counted by the pool; PyTorch exports AvgPool2d(padding) so)
 *   MaxPool:     pad value -inf (implicit max-pool padding is -inf)
 *
 * Zero into MaxPool is refused (only right for inputs >= 0), as are ceil_mode
 * pools (the window that runs past the end is clipped differently) and pool
 * pads that would reach a whole window.  Each reader of the Pad is folded on
 * its own; the Pad goes when dce finds nobody reading it. */
#include "passes/passes.h"

#include <math.h>

/* The 8 pads (N, C, H, W begins, then ends) of a Pad in the 2-D view and
 * its value: from its pads / constant_value inputs when present (opset >=
 * 11), else from the attribute.  0 when they are not constants or axes are
 * given. */
static int pad_params(const IrGraph *g, const IrLayer *p, int64_t pads[8], float *value) {
    int r = g->t[p->in[0]].rank;
    if ((r != 3 && r != 4) || (p->n_in > 3 && p->in[3] >= 0) || p->a.pad.mode != IR_PAD_CONSTANT)
        return 0;
    int64_t given[8];
    for (int i = 0; i < 2 * r; i++)
        given[i] = p->a.pad.pads[i];
    *value = p->a.pad.value;
    if (p->n_in > 1 && p->in[1] >= 0) {
        const IrTensor *t = &g->t[p->in[1]];
        if (t->dtype != IR_I64 || !t->i64 || ir_numel(t) != 2 * r)
            return 0;
        for (int i = 0; i < 2 * r; i++)
            given[i] = t->i64[i];
    }
    static const int axis_of_3d[4] = {0, 1, -1, 2}; /* N, C, (no H), L */
    for (int e = 0; e < 2; e++) /* begins, ends */
        for (int i = 0; i < 4; i++) {
            int k = r == 4 ? i : axis_of_3d[i];
            pads[4 * e + i] = k < 0 ? 0 : given[r * e + k];
        }
    if (p->n_in > 2 && p->in[2] >= 0) {
        if (!canon_is_const_f32(g, p->in[2]) || ir_numel(&g->t[p->in[2]]) != 1)
            return 0;
        *value = g->t[p->in[2]].f32[0];
    }
    if (pads[0] || pads[1] || pads[4] || pads[5])
        return 0;
    for (int i = 0; i < 8; i++)
        if (pads[i] < 0 || pads[i] > 65536)
            return 0;
    return 1;
}

/* Adds the H/W pads to a layer's top, left, bottom, right pads. */
static void add_pads(int dst[4], const int64_t pads[8]) {
    dst[0] += (int)pads[2];
    dst[1] += (int)pads[3];
    dst[2] += (int)pads[6];
    dst[3] += (int)pads[7];
}

/* 1 if pool pads plus the Pad's stay below the (dilated) window. */
static int pool_pads_fit(const IrPoolAttr *a, const int64_t pads[8], int max) {
    int pad[4] = {a->pad[0], a->pad[1], a->pad[2], a->pad[3]};
    add_pads(pad, pads);
    for (int i = 0; i < 4; i++) {
        int ax = i % 2;
        int dil = max && a->dilation[ax] > 0 ? a->dilation[ax] : 1;
        if (pad[i] >= (a->kernel[ax] - 1) * dil + 1)
            return 0;
    }
    return 1;
}

static int fold_into(IrGraph *g, int ci, int y, int x, const int64_t pads[8], float value) {
    IrLayer *c = &g->l[ci];
    if (c->n_in < 1 || c->in[0] != y)
        return 0;
    for (int k = 1; k < c->n_in; k++)
        if (c->in[k] == y)
            return 0;
    IrPoolAttr *pa = &c->a.pool;
    switch (c->op) {
    case IR_CONV:
        if (value != 0.0f)
            return 0;
        add_pads(c->a.conv.pad, pads);
        break;
    case IR_AVGPOOL:
        if (value != 0.0f || pa->ceil_mode || !pool_pads_fit(pa, pads, 0))
            return 0;
        if (!pa->count_include_pad && (pa->pad[0] || pa->pad[1] || pa->pad[2] || pa->pad[3]))
            return 0;
        add_pads(pa->pad, pads);
        pa->count_include_pad = 1;
        break;
    case IR_MAXPOOL:
        if (!(isinf(value) && value < 0) || pa->ceil_mode || !pool_pads_fit(pa, pads, 1))
            return 0;
        add_pads(pa->pad, pads);
        break;
    default:
        return 0;
    }
    c->in[0] = x;
    return 1;
}

int passes_fold_pad(IrGraph *g, IrDiag *d) {
    (void)d;
    int n = 0;
    for (int pi = 0; pi < g->n_l; pi++) {
        const IrLayer *p = &g->l[pi];
        if (p->dead || p->op != IR_PAD || p->n_in < 1 || p->n_out < 1 || p->in[0] < 0 ||
            p->out[0] < 0)
            continue;
        int64_t pads[8];
        float value;
        if (!pad_params(g, p, pads, &value))
            continue;
        int x = p->in[0], y = p->out[0];
        for (int ci = pi + 1; ci < g->n_l; ci++)
            if (!g->l[ci].dead)
                n += fold_into(g, ci, y, x, pads, value);
    }
    return n;
}
